#!/usr/bin/env python3
"""MoViNet toolkit entry point.

    python run_search.py flops --arch a0 [--stream] [--frames 50 --resolution 172] [--json]

Every command reports bad input (unknown preset, malformed spec YAML, ...) as one line naming
what is wrong, and exits with status 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _flops(args: argparse.Namespace) -> int:
    from search_space import count_flops, load_arch

    spec = load_arch(args.arch, stream=args.stream)
    frames = args.frames or spec.input.frames
    resolution = args.resolution or spec.input.resolution
    cost = count_flops(spec, frames, resolution, num_classes=args.num_classes)
    if args.json:
        print(json.dumps({"arch": spec.name, "frames": frames, "resolution": resolution,
                          "gflops": cost.gflops, "gmacs": cost.gmacs, "params": cost.params}))
    else:
        print(f"{spec.name}: {cost.gflops:.3f} GFLOPs ({cost.gmacs:.3f} G multiply-adds), "
              f"{cost.params:,} parameters, on {frames}x{resolution}x{resolution} frames, "
              f"{args.num_classes} classes")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Search, scale and train MoViNet video networks.")
    commands = parser.add_subparsers(dest="command")
    flops = commands.add_parser("flops", help="analytic GFLOPs and parameters of a preset or spec YAML")
    flops.add_argument("--arch", required=True, help="preset (a0..a5, t0) or path to a spec YAML")
    flops.add_argument("--stream", action="store_true", help="the streaming (causal) variant")
    flops.add_argument("--frames", type=int, help="clip length (default: the spec's input)")
    flops.add_argument("--resolution", type=int, help="frame size (default: the spec's input)")
    flops.add_argument("--num-classes", type=int, default=600)
    flops.add_argument("--json", action="store_true", help="print one JSON object")
    flops.set_defaults(run=_flops)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from search_space import CheckpointMismatchError, SpecError

    try:
        return args.run(args)
    except (SpecError, CheckpointMismatchError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
