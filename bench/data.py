#!/usr/bin/env python3
"""Is the input pipeline fast enough? Clips/s of each loader vs the a0 training step.

Builds the same synthetic clips in three forms (in memory, Model Garden TFRecords, Kinetics
mp4 + CSV), measures how many training clips per second each pipeline delivers (decode,
sample, augment, batch, with tf.data parallelism), and the clips per second of an a0 training
step at the same proxy shape, all in this process. Ratio > 1 means the model, not the data,
is the bottleneck.

    python bench/data.py [--frames 8 --resolution 64 --batch 8]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from proxies.convert import write_synthetic  # noqa: E402
from proxies.pipeline import ClipConfig, SyntheticSource, open_source  # noqa: E402
from proxies.compile import make_loss, make_optimizer, one_hot
from proxies.recipe import Recipe  # noqa: E402
from proxies.synthetic import SyntheticConfig  # noqa: E402
from search_space import build_model, preset  # noqa: E402


def _loader_rate(source, batch: int, epochs: int = 2) -> float:
    clips, start = 0, None
    for epoch in range(epochs + 1):
        for x, _ in source.dataset(True, batch, epoch=epoch):
            if start is None:  # first batch pays tracing; start the clock after it
                start = time.perf_counter()
                continue
            clips += int(x.shape[0])
    return clips / (time.perf_counter() - start)


def _model_rate(clip: ClipConfig, classes: int, batch: int, steps: int = 10) -> float:
    model = build_model(preset("a0"), classes)
    model.compile(optimizer=make_optimizer(Recipe(), batch, steps, 1), loss=make_loss(Recipe()))
    x = tf.random.uniform([batch, clip.frames, clip.resolution, clip.resolution, 3])
    data = tf.data.Dataset.from_tensors((x, tf.zeros([batch], tf.int32))).repeat().map(one_hot(classes))
    model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # trace
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    synthetic = SyntheticConfig(num_classes=8, clips_per_class=25, frames=16, resolution=args.resolution * 2)
    clip = ClipConfig(frames=args.frames, stride=2, resolution=args.resolution, flip=False)
    model = _model_rate(clip, synthetic.num_classes, args.batch)
    print(f"a0 training step at {args.frames}x{args.resolution}^2, batch {args.batch}: {model:.1f} clips/s")
    with tempfile.TemporaryDirectory() as folder:
        write_synthetic(synthetic, Path(folder) / "kinetics", "kinetics", progress=False)
        write_synthetic(synthetic, Path(folder) / "records", "tfrecord", progress=False)
        loaders = {"in-memory synthetic": SyntheticSource(synthetic, clip, "train"),
                   "TFRecord (JPEG frames)": open_source(str(Path(folder) / "records"), "train", clip),
                   "Kinetics mp4 (PyAV)": open_source(str(Path(folder) / "kinetics"), "train", clip)}
        for name, source in loaders.items():
            rate = _loader_rate(source, args.batch)
            print(f"{name:<24} {rate:8.1f} clips/s   loader / model = {rate / model:6.2f}")


if __name__ == "__main__":
    keras.utils.set_random_seed(0)
    main()
