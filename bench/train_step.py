#!/usr/bin/env python3
"""Training-step speed: a0 at the large and the proxy shape, % of this CPU's peak, gradients checked.

For each shape, times a compiled SGD step (forward, backward, update) of a0 and reports
milliseconds, clips/s and the multiply-adds per second achieved (3x the forward multiply-adds
per clip: forward, input and weight gradients) as a share of the machine's float32 peak (a
2048^3 matmul). Gradients are compared with the XLA grouped-Conv3D reference of the same model
and weights (`bench/common.py`), at a small shape where the reference is affordable.

With `--baseline REV`, the same measurement runs first on a git worktree of REV (another
process, same machine, one after the other) and the speed-up of this checkout is printed:

    python bench/train_step.py [--baseline HEAD~3] [--repeats 7]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SHAPES = {"large": (8, 8, 172), "proxy": (16, 8, 32)}  # batch, frames, resolution
REPO = Path(__file__).resolve().parents[1]


def measure(repeats: int) -> dict:
    """Step times in this process (code from $MOVINET_CODE or this checkout)."""
    from common import peak_gmacs, tf, timed, train_step

    from search_space import ModelOptions, build_model, count_flops, preset

    options = ModelOptions(dropout_rate=0.0, stochastic_depth_rate=0.0, weight_decay=0.0)
    result = {"peak_gmacs": peak_gmacs()}
    for name, (batch, frames, size) in SHAPES.items():
        model = build_model(preset("a0"), 600, options)
        step = train_step(model)
        x, y = tf.random.uniform([batch, frames, size, size, 3], seed=1), tf.zeros([batch], tf.int32)
        seconds = timed(lambda: step(x, y).numpy(), repeats=repeats, warmup=2)
        gmacs = 3 * batch * count_flops(preset("a0"), frames, size, 600).gmacs
        result[name] = {"ms": seconds * 1e3, "clips_per_s": batch / seconds, "gmacs_per_s": gmacs / seconds}
    return result


def gradient_check() -> float:
    """Largest relative difference of any gradient between our kernels and the XLA Conv3D reference."""
    import numpy as np
    from common import loss_and_gradients, reference_convs, tf

    from search_space import ModelOptions, build_model, preset

    model = build_model(preset("a0"), 10, ModelOptions(dropout_rate=0.0, stochastic_depth_rate=0.0, weight_decay=0.0))
    x, y = tf.random.uniform([2, 8, 64, 64, 3], seed=2), tf.constant([1, 7])
    ours = loss_and_gradients(model)
    with reference_convs():
        reference = loss_and_gradients(model)
        reference(x, y)  # trace inside the swap
    (_, a), (_, b) = ours(x, y), reference(x, y)
    return max(float(np.abs(g - r).max() / (np.abs(r).max() + 1e-12)) for g, r in zip(a, b))


def _run_in(code: Path, repeats: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure-only", "--repeats", str(repeats)], check=True,
                         capture_output=True, text=True, env={**os.environ, "MOVINET_CODE": str(code)}).stdout
    return json.loads(out.strip().splitlines()[-1])


def _print(label: str, result: dict, baseline: dict | None) -> None:
    peak = result["peak_gmacs"]
    for name, (batch, frames, size) in SHAPES.items():
        row = result[name]
        text = (f"{label:<10} a0 {name:<6} batch {batch:>2} of {frames}x{size}x{size}: {row['ms']:8.1f} ms/step "
                f"{row['clips_per_s']:7.1f} clips/s  {row['gmacs_per_s']:6.1f} GMAC/s = {100 * row['gmacs_per_s'] / peak:4.1f}%"
                f" of peak")
        if baseline:
            text += f"   speed-up {baseline[name]['ms'] / row['ms']:.2f}x"
        print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="git revision to measure first, in a temporary worktree")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(measure(args.repeats)))
        return
    baseline = None
    if args.baseline:
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", folder, args.baseline], check=True,
                           capture_output=True)
            try:
                baseline = _run_in(Path(folder), args.repeats)
            finally:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", folder], capture_output=True)
        _print(args.baseline[:10], baseline, None)
    current = _run_in(REPO, args.repeats)
    print(f"peak {current['peak_gmacs']:.1f} G multiply-adds/s (2048^3 float32 matmul)")
    _print("this tree", current, baseline)
    print(f"gradients vs XLA grouped-Conv3D reference (a0, batch 2 of 8x64x64): max relative difference "
          f"{gradient_check():.1e}")


if __name__ == "__main__":
    main()
