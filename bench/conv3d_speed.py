#!/usr/bin/env python3
"""Speed of our CPU builder vs a plain XLA grouped-Conv3D reference of the same model.

TensorFlow has no CPU kernel for grouped Conv3D; the official MoViNet code XLA-compiles every
3D convolution instead. This script builds a0 once, traces it twice in the same process (our
2D-decomposed kernels, then every `SpatioTemporalConv` swapped for an XLA `tf.nn.conv3d` with
`groups = channels`), checks both give the same outputs, and prints latencies, the speed-up
ratio (reference / ours) and the GFLOP/s achieved next to the machine's measured peak (a large
float32 matmul, the best this CPU does).

    python bench/conv3d_speed.py [--repeats 5] [--skip-reference-training]
"""
from __future__ import annotations

import argparse

import numpy as np
from common import peak_gmacs, reference_convs, tf, threads, timed, train_step

from search_space import ModelOptions, build_model, count_flops, preset

FRAMES, SIZE, CLASSES = 8, 172, 600


def _row(name, ours, reference, gflops, peak, diff=None):
    ratio = reference / ours if reference else float("nan")
    achieved = gflops / ours
    ref_text = f"{reference * 1e3:10.1f}" if reference else "       n/a"
    diff_text = f"  max|diff| {diff:.1e}" if diff is not None else ""
    print(f"{name:<34}{ours * 1e3:10.1f}{ref_text}{ratio:9.1f}x{achieved:9.1f}{100 * achieved / peak:7.1f}%{diff_text}")


def _usability(name: str, helper: float, compiled: float, eager: float) -> None:
    print(f"{name:<34}{helper * 1e3:10.1f}{compiled * 1e3:10.1f}{eager * 1e3:10.1f}"
          f"   helper / compiled = {helper / compiled:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-reference-training", action="store_true",
                        help="the XLA reference's training step is very slow on CPU")
    args = parser.parse_args()
    peak = peak_gmacs()
    print(f"{threads()}, peak {peak:.1f} G multiply-adds/s (2048^3 float32 matmul)")
    print(f"{'case':<34}{'ours ms':>10}{'ref ms':>10}{'speedup':>10}{'GMAC/s':>9}{'peak':>8}")

    spec = preset("a0")
    gmacs = count_flops(spec, FRAMES, SIZE, CLASSES).gmacs
    model = build_model(spec, CLASSES, ModelOptions(dropout_rate=0.0, stochastic_depth_rate=0.0, weight_decay=0.0))
    compiled = {}
    for batch in (1, 8):
        clip = tf.random.uniform([batch, FRAMES, SIZE, SIZE, 3], seed=batch)
        ours = tf.function(lambda x: model(x, training=False))
        with reference_convs():
            reference = tf.function(lambda x: model(x, training=False))
            reference(clip)  # trace inside the swap
        diff = float(np.abs(ours(clip).numpy() - reference(clip).numpy()).max())
        compiled[batch] = timed(lambda: ours(clip).numpy(), args.repeats)
        t_ref = timed(lambda: reference(clip).numpy(), max(2, args.repeats // 2))
        _row(f"a0 base {FRAMES}x{SIZE} infer  b={batch}", compiled[batch], t_ref, gmacs * batch, peak, diff)

    for batch in (1, 8):
        clip = tf.random.uniform([batch, FRAMES, SIZE, SIZE, 3], seed=batch)
        labels = tf.zeros([batch], tf.int32)
        ours_step = train_step(model)
        t_ours = timed(lambda: ours_step(clip, labels).numpy(), args.repeats)
        t_ref = None
        if not args.skip_reference_training:
            with reference_convs():
                ref_step = train_step(model)
                ref_step(clip, labels)  # trace inside the swap
            t_ref = timed(lambda: ref_step(clip, labels).numpy(), 2, warmup=0)
        # A training step is ~3x the forward multiply-adds (forward, input and weight gradients).
        _row(f"a0 base {FRAMES}x{SIZE} train  b={batch}", t_ours, t_ref, 3 * gmacs * batch, peak)

    stream_spec = preset("a0", stream=True)
    stream_model = build_model(stream_spec, CLASSES)
    frame = tf.random.uniform([1, 1, SIZE, SIZE, 3])
    states = stream_model.init_states(frame.shape)
    inputs = {**states, "image": frame}
    ours_stream = tf.function(lambda s: stream_model(s, training=False))
    with reference_convs():
        ref_stream = tf.function(lambda s: stream_model(s, training=False))
        ref_stream(inputs)  # trace inside the swap
    diff = float(np.abs(ours_stream(inputs)[0].numpy() - ref_stream(inputs)[0].numpy()).max())
    frame_compiled = timed(lambda: ours_stream(inputs)[0].numpy(), 4 * args.repeats, warmup=3)
    t_ref = timed(lambda: ref_stream(inputs)[0].numpy(), 4 * args.repeats, warmup=3)
    frame_gmacs = count_flops(stream_spec, 1, SIZE, CLASSES).gmacs
    _row(f"a0 stream {SIZE} per frame", frame_compiled, t_ref, frame_gmacs, peak, diff)

    # What users call: the model's own compiled helpers against a hand-made tf.function of the
    # same call (the figures above) and against calling the model eagerly.
    print(f"\n{'inference as documented':<34}{'helper ms':>10}{'tf.func':>10}{'eager':>10}")
    clip = tf.random.uniform([1, FRAMES, SIZE, SIZE, 3], seed=1)
    helper = timed(lambda: model.logits(clip).numpy(), args.repeats)
    eager = timed(lambda: model(clip, training=False).numpy(), 3)
    _usability(f"a0 clip {FRAMES}x{SIZE} model.logits()", helper, compiled[1], eager)
    helper = timed(lambda: stream_model.stream(frame, states)[0].numpy(), 4 * args.repeats, warmup=3)
    eager = timed(lambda: stream_model(inputs, training=False)[0].numpy(), 5)
    _usability("a0 stream frame model.stream()", helper, frame_compiled, eager)


if __name__ == "__main__":
    main()
