"""`run_search.py flops`: analytic GFLOPs and parameters of a preset or spec, instantly (no TensorFlow)."""
from __future__ import annotations

import argparse
import json

from .common import positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from search_space import OFFICIAL_CLASSES

    parser.add_argument("--arch", required=True, help="preset (a0..a5, t0; a6 the A4 + A5 ensemble) or a spec YAML")
    parser.add_argument("--stream", action="store_true", help="the streaming (causal) variant")
    parser.add_argument("--frames", type=positive_int, help="clip length (default: the spec's input)")
    parser.add_argument("--resolution", type=positive_int, help="frame size (default: the spec's input)")
    parser.add_argument("--num-classes", type=positive_int, default=OFFICIAL_CLASSES)
    parser.add_argument("--per-block", action="store_true", help="GFLOPs of the stem, each block and the head")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from search_space import ArchSpec, count_flops, load_arch

    spec = load_arch(args.arch, stream=args.stream)
    frames = args.frames or spec.input.frames
    resolution = args.resolution or spec.input.resolution
    cost = count_flops(spec, frames, resolution, num_classes=args.num_classes)
    if args.json:
        result = {"arch": spec.name, "frames": frames, "resolution": resolution, "gflops": cost.gflops,
                  "gmacs": cost.gmacs, "params": cost.params}
        if args.per_block:
            result["per_block_gflops"] = cost.per_block()
        print(json.dumps(result))
        return 0
    print(f"{spec.name}: {cost.gflops:.3f} GFLOPs ({cost.gmacs:.3f} G multiply-adds), {cost.params:,} parameters, "
          f"on {frames}x{resolution}x{resolution} frames, {args.num_classes} classes")
    if args.per_block:
        depths = {f"block{b}": len(block.layers) for b, block in enumerate(spec.blocks)} \
            if isinstance(spec, ArchSpec) else {}
        for name, gflops in cost.per_block().items():
            layers = f"{depths[name]:>3} layers" if name in depths else " " * 10
            print(f"  {name:<7}{layers}  {gflops:9.4f} GFLOPs  {100 * gflops / cost.gflops:5.1f}%")
    return 0
