"""`run_search.py latency`: per-clip or per-frame latency of an exported TFLite model, or of a
network exported on the fly, under LiteRT with XNNPACK; with model size and state bytes."""
from __future__ import annotations

import argparse

from .common import UsageError, default, positive_int
from .network_args import add_network_args, check_network_args, network


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from deploy.options import QUANTIZATIONS, ExportOptions, LatencyOptions

    parser.add_argument("model", nargs="?", help="an export-model folder or a .tflite file (else give the network)")
    add_network_args(parser, "time random weights (latency does not depend on them)")
    group = parser.add_argument_group("exporting on the fly (with --run or --arch)")
    group.add_argument("--stream", action="store_true", help="time the stream model per frame")
    group.add_argument("--quantize", default=default(ExportOptions, "quantize"), choices=QUANTIZATIONS)
    group.add_argument("--calibration", help="int8: clips to calibrate on ('synthetic', a data folder or TFRecords)")
    group.add_argument("--frames", type=positive_int, help="clip frames (default: the spec's)")
    group.add_argument("--resolution", type=positive_int, help="input height and width (default: the spec's)")
    group.add_argument("--keras", action="store_true", help="also time the Keras model on TensorFlow")
    parser.add_argument("--threads", type=positive_int, nargs="+", default=list(default(LatencyOptions, "threads")))
    parser.add_argument("--warmup", type=positive_int, default=default(LatencyOptions, "warmup"))
    parser.add_argument("--runs", type=positive_int, default=default(LatencyOptions, "runs"))
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import json
    import tempfile
    from pathlib import Path

    from deploy.options import ExportOptions, LatencyOptions

    options = LatencyOptions(threads=tuple(args.threads), warmup=args.warmup, runs=args.runs)
    if args.model and (args.run_dir or args.arch):
        raise UsageError("give an exported MODEL, or the network to export (--run / --arch), not both")
    if args.keras and args.model:
        raise UsageError("--keras times the Keras model: give the network (--run / --arch) instead of MODEL")
    source = None
    with tempfile.TemporaryDirectory() as scratch:
        if args.model:
            path = Path(args.model)
            path = path / "model.tflite" if path.is_dir() else path
            name = path.parent.name if path.name == "model.tflite" else path.stem
        else:
            check_network_args(args)
            export = ExportOptions(quantize=args.quantize, stream=args.stream, frames=args.frames,
                                   resolution=args.resolution, calibration=args.calibration)
            from deploy.export import export_network

            source = network(args, args.stream)
            export_network(source, export, Path(scratch) / "export")
            path, name = Path(scratch) / "export" / "model.tflite", source.spec.name
        from deploy.latency import time_keras, time_litert

        timings, model = time_litert(path, options)
        if source is not None and args.keras:
            timings.append(time_keras(source.model, model.image_shape, model.streams, options))
        size = path.stat().st_size
    shape = "x".join(str(d) for d in model.image_shape[1:4])
    if args.json:
        print(json.dumps({"model": name, "input": list(model.image_shape), "stream": model.streams,
                          "model_bytes": size, "state_bytes": model.state_bytes,
                          "timings": [dataclasses.asdict(t) for t in timings]}))
        return 0
    kind = "stream, per frame" if model.streams else "per clip"
    print(f"{name}: input {shape} ({kind}), model {size / 1e6:.1f} MB, states {model.state_bytes / 1e3:.1f} kB")
    for timing in timings:
        print("  " + timing.line())
    return 0
