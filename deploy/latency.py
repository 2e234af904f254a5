"""Measured latency of a TFLite model under LiteRT (XNNPACK), as a phone or board would run it.

A stream model is timed per frame, a base model per clip, as TFLite's benchmark tool times a
model: inputs (a frame or clip, the states) set once, then only the interpreter's calls are
timed (the cost does not depend on the values; copying states in and out through Python would
add what an app on a device does not pay). Each thread count gets `warmup` untimed calls, then
the median and 90th percentile of `runs` timed ones. The Keras model the export came from can be timed beside it
(TensorFlow on this CPU, all its threads), which is what a search measures without exporting.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .litert import LiteRTModel
from .options import LatencyOptions
from .unit_timing import call_times

__all__ = ["Timing", "time_litert", "time_keras"]


@dataclass(frozen=True)
class Timing:
    """One measurement: who ran it, per what (clip or frame), the median and 90th percentile."""

    runtime: str
    threads: int | None
    unit: str
    median_ms: float
    p90_ms: float
    runs: int

    def line(self) -> str:
        threads = f"{self.threads} thread{'s' if self.threads != 1 else ''}" if self.threads else "all threads"
        return f"{self.runtime:<14} {threads:<11} {self.median_ms:9.2f} ms/{self.unit}  (p90 {self.p90_ms:.2f}, " \
               f"{self.runs} runs)"


def _timed(call, options: LatencyOptions) -> tuple[float, float]:
    for _ in range(options.warmup):
        call()
    times = []
    for _ in range(options.runs):
        start = time.perf_counter()
        call()
        times.append(1e3 * (time.perf_counter() - start))
    return _median_p90(times)


def _median_p90(times: list[float]) -> tuple[float, float]:
    return float(np.median(times)), float(np.percentile(times, 90))


def time_litert(path, options: LatencyOptions) -> tuple[list[Timing], LiteRTModel]:
    """Per-frame (stream) or per-clip timings of the model at `path`, one per thread count."""
    timings, model = [], None
    for threads in options.threads:
        model = LiteRTModel(path, threads)
        median, p90 = _median_p90(call_times(Path(path), threads, options.warmup, options.runs))
        timings.append(Timing("litert", threads, "frame" if model.streams else "clip", median, p90, options.runs))
    return timings, model


def time_keras(keras_model, image_shape: tuple[int, ...], stream: bool, options: LatencyOptions) -> Timing:
    """The compiled Keras call (`logits` or `stream`) on the same input, TensorFlow's CPU kernels."""
    image = np.random.default_rng(0).uniform(0, 1, image_shape).astype(np.float32)
    if stream:
        states = None

        def call():
            nonlocal states
            logits, states = keras_model.stream(image, states)
            logits.numpy()
    else:
        def call():
            keras_model.logits(image).numpy()
    median, p90 = _timed(call, options)
    return Timing("keras (TF)", None, "frame" if stream else "clip", median, p90, options.runs)
