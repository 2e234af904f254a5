#!/usr/bin/env python3
"""Search orchestration overhead: wall time of a search vs the time its trials spent training.

Runs a real Ray Tune search (random, no early stopping) whose trials each train for about
`--trial-seconds`, then prints the overhead 1 - (sum of trial wall times) / (search wall time x
concurrent trials). Target: under 10% for 1-minute trials.

    python bench/search.py [--num-samples 4 --epochs 12]
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

from proxies.search import SearchOptions, run_search  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=12, help="proxy epochs (about 1 minute per trial)")
    parser.add_argument("--cpus-per-trial", type=float, default=1.0)
    args = parser.parse_args()
    concurrent = max(1, int((os.cpu_count() or 1) // args.cpus_per_trial))
    with tempfile.TemporaryDirectory() as folder:
        options = SearchOptions(output=folder, num_samples=args.num_samples, scheduler="none",
                                cpus_per_trial=args.cpus_per_trial, proxy={"epochs": args.epochs, "batch_size": 16})
        start = time.perf_counter()
        table = run_search(options)
        wall = time.perf_counter() - start
    trials = float(table["wall_time_s"].sum())
    overhead = 1 - trials / (wall * min(concurrent, args.num_samples))
    print(f"{args.num_samples} trials, {concurrent} at a time: search wall {wall:.1f} s, "
          f"mean trial {trials / len(table):.1f} s, orchestration overhead {100 * overhead:.1f}%")


if __name__ == "__main__":
    main()
