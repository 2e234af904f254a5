"""LiteRT latency of the released presets beside the official published TFLite numbers and our
Keras path: a0-a2 base per clip at their evaluation input, and stream per frame at the same
resolution, 1 and 2 threads, plus the Keras model on TensorFlow (all threads) for comparison.

The official numbers are per frame of the stream models on another CPU (one core of an x86
Xeon W-2135, float32 TFLite): compare the ratios between models, not the milliseconds.

    python bench/preset_latency.py [--presets a0 a1 a2] [--runs 20]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.tf_runtime import quiet_tensorflow_imports  # noqa: E402

quiet_tensorflow_imports()

from deploy.export import export_network  # noqa: E402
from deploy.latency import time_keras, time_litert  # noqa: E402
from deploy.network import load_network  # noqa: E402
from deploy.options import ExportOptions, LatencyOptions  # noqa: E402

OFFICIAL_STREAM_MS = {"a0": 16, "a1": 33, "a2": 66, "a3": 120, "a4": 300, "a5": 450}  # x86, 1 core, per frame
INPUT = {"a0": (50, 172), "a1": (50, 172), "a2": (50, 224)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presets", nargs="+", default=["a0", "a1", "a2"])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    options = LatencyOptions(threads=(1, 2), warmup=3, runs=args.runs)
    clip_options = LatencyOptions(threads=(1, 2), warmup=1, runs=max(3, args.runs // 4))
    rows = []
    for name in args.presets:
        frames, resolution = INPUT[name]
        for stream in (False, True):
            network = load_network(arch=name, untrained=True, stream=stream)
            with tempfile.TemporaryDirectory() as scratch:
                manifest = export_network(network, ExportOptions(stream=stream, frames=frames, resolution=resolution,
                                                                 check_frames=2), Path(scratch) / "e")
                timings, model = time_litert(Path(scratch) / "e" / "model.tflite", options if stream else clip_options)
            keras = time_keras(network.model, model.image_shape, stream, options if stream else clip_options)
            rows.append((name, stream, manifest["model_bytes"], model.state_bytes, timings, keras))
            unit = "frame" if stream else f"clip of {frames}"
            print(f"{name} {'stream' if stream else 'base'} ({unit} at {resolution}): "
                  + ", ".join(f"{t.threads}t {t.median_ms:.1f} ms" for t in timings)
                  + f", keras {keras.median_ms:.1f} ms, {manifest['model_bytes'] / 1e6:.1f} MB, "
                    f"states {model.state_bytes / 1e3:.0f} kB", flush=True)
    print("\n| model | input | LiteRT 1 thread | LiteRT 2 threads | Keras (TF, 2 cores) | size | states | "
          "1-thread ratio to a0 | official x86 ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    base = {stream: next(r for r in rows if r[0] == "a0" and r[1] == stream)[4][0].median_ms
            for stream in (False, True)}
    for name, stream, size, states, timings, keras in rows:
        frames, resolution = INPUT[name]
        shape = f"1 x {resolution}^2 per frame" if stream else f"{frames} x {resolution}^2 clip"
        official = f"{OFFICIAL_STREAM_MS[name] / OFFICIAL_STREAM_MS['a0']:.2f}" if stream else "-"
        print(f"| {name} {'stream' if stream else 'base'} | {shape} | {timings[0].median_ms:.1f} ms | "
              f"{timings[1].median_ms:.1f} ms | {keras.median_ms:.1f} ms | {size / 1e6:.1f} MB | "
              f"{states / 1e3:.0f} kB | {timings[0].median_ms / base[stream]:.2f} | {official} |")


if __name__ == "__main__":
    main()
