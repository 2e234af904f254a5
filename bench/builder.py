#!/usr/bin/env python3
"""Speed of our CPU builder vs a plain XLA grouped-Conv3D reference of the same model.

TensorFlow has no CPU kernel for grouped Conv3D; the official MoViNet code XLA-compiles every
3D convolution instead. This script builds a0 once, traces it twice in the same process (our
2D-decomposed kernels, then every `SpatioTemporalConv` swapped for an XLA `tf.nn.conv3d` with
`groups = channels`), checks both give the same outputs, and prints latencies, the speed-up
ratio (reference / ours) and the GFLOP/s achieved next to the machine's measured peak (a large
float32 matmul, the best this CPU does).

    python bench/builder.py [--repeats 5] [--skip-reference-training]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from search_space import build_model, count_flops, preset  # noqa: E402
from search_space.keras.layers import SpatioTemporalConv, _time_padding  # noqa: E402

FRAMES, SIZE, CLASSES = 8, 172, 600


@tf.function(jit_compile=True)
def _xla_conv3d(x, kernel, strides):
    return tf.nn.conv3d(x, kernel, strides, "VALID")


def _reference_call(self, x):
    """The official way: explicit 'same'/causal padding, then an XLA (grouped) Conv3D."""
    kt, kh, kw = self.kernel_size
    st, sh, sw = self.stride
    shape = tf.shape(x)
    pads = [[0, 0], list(_time_padding(shape[1], kt, st, self.padding))]
    for n, k, s in ((shape[2], kh, sh), (shape[3], kw, sw)):
        total = tf.maximum(((n + s - 1) // s - 1) * s + k - n, 0)
        pads.append([total // 2, total - total // 2])
    pads.append([0, 0])
    kernel = tf.convert_to_tensor(self.kernel)
    kernel = kernel[..., None, :] if self.depthwise else kernel
    return _xla_conv3d(tf.pad(x, pads), kernel, [1, st, sh, sw, 1])


@contextlib.contextmanager
def reference_convs():
    """Within this block, tracing the model uses XLA grouped Conv3D for every 3D kernel."""
    original = SpatioTemporalConv.call
    SpatioTemporalConv.call = _reference_call
    try:
        yield
    finally:
        SpatioTemporalConv.call = original


def _time(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _peak_gflops() -> float:
    """Multiply-adds per second of a large float32 matmul: this machine's practical peak."""
    a = tf.random.normal([2048, 2048])
    matmul = tf.function(lambda: tf.matmul(a, a))
    seconds = _time(lambda: matmul().numpy(), repeats=5, warmup=2)
    return 2048 ** 3 / seconds / 1e9


def _train_step(model):
    optimizer = keras.optimizers.SGD(0.01)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True)) + tf.add_n(model.losses or [tf.constant(0.0)])
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def _row(name, ours, reference, gflops, peak, diff=None):
    ratio = reference / ours if reference else float("nan")
    achieved = gflops / ours
    ref_text = f"{reference * 1e3:10.1f}" if reference else "       n/a"
    diff_text = f"  max|diff| {diff:.1e}" if diff is not None else ""
    print(f"{name:<34}{ours * 1e3:10.1f}{ref_text}{ratio:9.1f}x{achieved:9.1f}{100 * achieved / peak:7.1f}%{diff_text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-reference-training", action="store_true",
                        help="the XLA reference's training step is very slow on CPU")
    args = parser.parse_args()
    peak = _peak_gflops()
    print(f"threads: intra {tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()}, "
          f"peak {peak:.1f} G multiply-adds/s (2048^3 float32 matmul)")
    print(f"{'case':<34}{'ours ms':>10}{'ref ms':>10}{'speedup':>10}{'GMAC/s':>9}{'peak':>8}")

    spec = preset("a0")
    gmacs = count_flops(spec, FRAMES, SIZE, CLASSES).gmacs
    model = build_model(spec, CLASSES)
    for batch in (1, 8):
        clip = tf.random.uniform([batch, FRAMES, SIZE, SIZE, 3], seed=batch)
        ours = tf.function(lambda x: model(x, training=False))
        with reference_convs():
            reference = tf.function(lambda x: model(x, training=False))
            reference(clip)  # trace inside the swap
        diff = float(np.abs(ours(clip).numpy() - reference(clip).numpy()).max())
        t_ours = _time(lambda: ours(clip).numpy(), args.repeats)
        t_ref = _time(lambda: reference(clip).numpy(), max(2, args.repeats // 2))
        _row(f"a0 base {FRAMES}x{SIZE} infer  b={batch}", t_ours, t_ref, gmacs * batch, peak, diff)

    for batch in (1, 8):
        clip = tf.random.uniform([batch, FRAMES, SIZE, SIZE, 3], seed=batch)
        labels = tf.zeros([batch], tf.int32)
        ours_step = _train_step(model)
        t_ours = _time(lambda: ours_step(clip, labels).numpy(), args.repeats)
        t_ref = None
        if not args.skip_reference_training:
            with reference_convs():
                ref_step = _train_step(model)
                ref_step(clip, labels)  # trace inside the swap
            t_ref = _time(lambda: ref_step(clip, labels).numpy(), 2, warmup=0)
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
    t_ours = _time(lambda: ours_stream(inputs)[0].numpy(), 4 * args.repeats, warmup=3)
    t_ref = _time(lambda: ref_stream(inputs)[0].numpy(), 4 * args.repeats, warmup=3)
    frame_gmacs = count_flops(stream_spec, 1, SIZE, CLASSES).gmacs
    _row(f"a0 stream {SIZE} per frame", t_ours, t_ref, frame_gmacs, peak, diff)


if __name__ == "__main__":
    main()
