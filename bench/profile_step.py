#!/usr/bin/env python3
"""Where a training step's time goes: TensorFlow profiler time per op type.

Builds a model, traces an SGD training step, profiles a few steps with the TensorFlow profiler
and prints, per op type, executions per step, milliseconds per step and the share of all op
time (ops on the two inter-op threads overlap, so shares are of summed op time, not wall time),
plus the step's wall time and op count. The profile table of docs/performance.md comes from here.

    python bench/profile_step.py [--shape proxy|large] [--arch a0] [--top 15]

Shapes: proxy = batch 16 of 8x32x32 clips (the search's trials); large = batch 8 of 8x172x172.
"""
from __future__ import annotations

import argparse
import collections
import glob
import tempfile

from common import keras, tf, timed, train_step  # noqa: F401  (tf first: quiet import)

from search_space import ModelOptions, build_model, load_arch

SHAPES = {"proxy": (16, 8, 32), "large": (8, 8, 172)}


def op_times(logdir: str, steps: int) -> tuple[dict[str, float], dict[str, int]]:
    """Milliseconds and executions per step for each op type, from the profiler's xplane file."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    with open(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)[0], "rb") as handle:
        space.ParseFromString(handle.read())
    millis, counts = collections.Counter(), collections.Counter()
    for plane in space.planes:
        names = plane.event_metadata
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = names[event.metadata_id].name
                if ":" in name and "::" not in name:  # "scope/op_name:OpType", not executor events
                    kind = name.rsplit(":", 1)[1]
                    millis[kind] += event.duration_ps / 1e9 / steps
                    counts[kind] += 1
    return dict(millis), {k: v // steps for k, v in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="a0")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="proxy")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    batch, frames, size = SHAPES[args.shape]
    model = build_model(load_arch(args.arch), 6, ModelOptions(dropout_rate=0.0, stochastic_depth_rate=0.0,
                                                              weight_decay=0.0))
    step = train_step(model)
    x, y = tf.random.uniform([batch, frames, size, size, 3], seed=1), tf.zeros([batch], tf.int32)
    wall = timed(lambda: step(x, y).numpy(), repeats=5, warmup=2)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        for _ in range(args.steps):
            step(x, y).numpy()
        tf.profiler.experimental.stop()
        millis, counts = op_times(logdir, args.steps)
    total = sum(millis.values())
    print(f"{args.arch} training step, batch {batch} of {frames}x{size}x{size}: {wall * 1e3:.1f} ms wall (median), "
          f"{sum(counts.values())} op executions, {total:.1f} ms summed op time per step")
    print(f"{'op type':<40}{'per step':>9}{'ms':>9}{'share':>8}")
    for kind, ms in sorted(millis.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"{kind:<40}{counts[kind]:>9}{ms:>9.2f}{100 * ms / total:>7.1f}%")


if __name__ == "__main__":
    main()
