#!/usr/bin/env python3
"""Does the synthetic dataset need time? A spec vs its 2D-only twin at equal training budget.

The twin keeps every width and spatial kernel but makes each temporal kernel size 1 (kxkxk ->
1xkxk), so it can only pool frames, not model motion. Both train with the same proxy recipe,
data, epochs and seed; the gap in held-out top-1 is what temporal kernels buy.

    python bench/temporal.py [--arch a0 --classes 8 --clips 200 --epochs 8]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proxies.config import ProxyConfig
from proxies.proxy import train_proxy  # noqa: E402
from search_space import BlockSpec, LayerSpec, load_arch  # noqa: E402
from video_data.pipeline import ClipConfig, SyntheticSource  # noqa: E402
from video_data.synthetic import SyntheticConfig  # noqa: E402


def two_d(spec):
    """The spec with every kernel's temporal size set to 1."""
    blocks = tuple(BlockSpec(b.filters, tuple(LayerSpec(l.expand, (1, *l.kernel[1:]), l.stride) for l in b.layers))
                   for b in spec.blocks)
    return spec.replace(name=f"{spec.name}_2d", blocks=blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="a0")
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--difficulty", type=float, default=0.3)
    args = parser.parse_args()
    synthetic = SyntheticConfig(num_classes=args.classes, clips_per_class=args.clips, frames=16, resolution=32,
                                difficulty=args.difficulty)
    proxy = ProxyConfig(epochs=args.epochs)
    clip = ClipConfig(frames=8, stride=2, resolution=32, flip=False)
    train, val = SyntheticSource(synthetic, clip, "train"), SyntheticSource(synthetic, clip, "val")
    spec = load_arch(args.arch)
    for candidate in (spec, two_d(spec)):
        result = train_proxy(candidate, proxy, train, val)
        print(f"{candidate.name:<8} top-1 {result.top1:.3f}  top-5 {result.top5:.3f}  "
              f"{result.gflops:.4f} GFLOPs  {result.wall_time_s:.0f} s")
    print(f"({args.classes} classes, chance {1 / args.classes:.3f}; {len(train)} training clips, {args.epochs} epochs)")


if __name__ == "__main__":
    main()
