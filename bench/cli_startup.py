#!/usr/bin/env python3
"""Whole-process time of the commands that should answer at once, against another commit.

Times `--help`, `flops --arch a0 --json`, `data DIR --json` (a small folder of generated clips)
and `scale --base a2` (rules only, into a fresh folder), each the median of `--runs` complete
`python run_search.py ...` processes, for this checkout and for a baseline commit checked out
in a temporary git worktree, and prints both with their ratio. Target: every command under 1 s
on the 2-core development machine.

    python bench/cli_startup.py [--baseline HEAD~1] [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _videos(folder: Path) -> Path:
    """A tiny data folder in the split/label layout: 2 classes, 3 clips each, per split."""
    import numpy as np

    sys.path.insert(0, str(REPO))
    from video_data.video import write_video

    rng = np.random.default_rng(0)
    for split in ("train", "validate"):
        for label in ("a", "b"):
            for index in range(3):
                write_video(folder / split / label / f"c{index}.mp4",
                            (rng.random((8, 32, 32, 3)) * 255).astype(np.uint8), fps=25)
    return folder


def _median_seconds(code: Path, args: list[str], runs: int, scratch: Path) -> float:
    times = []
    for run in range(runs):
        argv = [a.replace("{fresh}", str(scratch / f"{code.name}-{run}-{time.monotonic_ns()}")) for a in args]
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(code / "run_search.py"), *argv], cwd=code, capture_output=True,
                              text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{code}: run_search.py {' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="HEAD~1", help="commit to compare against (a git worktree of it)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        scratch = Path(temporary)
        videos = _videos(scratch / "videos")
        baseline = scratch / "baseline"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(baseline), args.baseline],
                       check=True, capture_output=True)
        try:
            commands = {"--help": ["--help"], "flops": ["flops", "--arch", "a0", "--json"],
                        "data --json": ["data", str(videos), "--json"],
                        "scale (rules)": ["scale", "--base", "a2", "--output", "{fresh}"]}
            print(f"median of {args.runs} whole-process runs; baseline {args.baseline}")
            print(f"{'command':<16}{'baseline s':>12}{'this s':>10}{'ratio':>8}")
            for name, argv in commands.items():
                before = _median_seconds(baseline, argv, args.runs, scratch)
                after = _median_seconds(REPO, argv, args.runs, scratch)
                print(f"{name:<16}{before:>12.2f}{after:>10.2f}{after / before:>7.2f}x")
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)],
                           capture_output=True)


if __name__ == "__main__":
    main()
