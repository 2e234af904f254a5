#!/usr/bin/env python3
"""Does a training's memory grow with its epochs? Peak RSS of one proxy training, now vs a baseline.

Each side trains the t0 preset on the default synthetic data (14 classes, 8x32x32 clips) for
`--epochs` epochs of `--steps` batches in a fresh process, and reports its peak resident memory
and wall time; the baseline side runs the same code of another commit (a git worktree made
here), so the ratio compares the two commits on the same machine in the same minute.

    python bench/epoch_memory.py [--baseline HEAD~1] [--epochs 32] [--steps 2]

Before the epochs were streamed with `flat_map`, a concatenation of one dataset per epoch kept
every finished epoch's buffers alive: peak memory grew by about 130 MB per epoch.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(epochs: int, steps: int) -> dict:
    """One proxy training in this process: peak RSS (GiB) and seconds."""
    sys.path.insert(0, os.environ.get("MOVINET_CODE") or str(ROOT))
    from infra.tf_runtime import load_tensorflow

    load_tensorflow()
    from proxies.config import ProxyConfig
    from proxies.proxy import train_proxy
    from search_space import InputSpec, load_arch
    from video_data.pipeline import ClipConfig, open_splits
    from video_data.synthetic import SyntheticConfig

    spec = load_arch("t0")
    spec = spec.replace(input=InputSpec(8, 32, spec.input.frame_stride))
    train, val = open_splits("synthetic", ClipConfig(frames=8, resolution=32), SyntheticConfig())
    start = time.perf_counter()
    result = train_proxy(spec, ProxyConfig(epochs=epochs, steps_per_epoch=steps), train, val)
    assert result.status == "ok", result.error
    return {"peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "seconds": time.perf_counter() - start}


def _side(code: Path, epochs: int, steps: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", "--epochs", str(epochs), "--steps", str(steps)],
                         env={**os.environ, "MOVINET_CODE": str(code), "TF_CPP_MIN_LOG_LEVEL": "2"},
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="HEAD~1", help="commit to compare against")
    parser.add_argument("--epochs", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.epochs, args.steps)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), args.baseline],
                       check=True)
        try:
            base = _side(tree, args.epochs, args.steps)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)
    now = _side(ROOT, args.epochs, args.steps)
    print(f"t0, {args.epochs} epochs x {args.steps} steps, default synthetic data; peak RSS and wall time")
    print(f"  baseline {args.baseline:<10} {base['peak_gib']:6.2f} GiB  {base['seconds']:6.1f} s")
    print(f"  this tree           {now['peak_gib']:6.2f} GiB  {now['seconds']:6.1f} s")
    print(f"  ratio (this / baseline): memory {now['peak_gib'] / base['peak_gib']:.2f}, "
          f"time {now['seconds'] / base['seconds']:.2f}")


if __name__ == "__main__":
    main()
