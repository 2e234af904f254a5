#!/usr/bin/env python3
"""Search orchestration overhead: wall time of a search vs the time its trials spent training.

Runs a real Ray Tune search on the embedded synthetic data (random search, no early stopping,
one trial per CPU at a time) and prints

    overhead = 1 - (sum of trial times) / (search wall time x concurrent trials)

where a trial's time runs from the start of its proxy training (model building included) to
its last report. Everything else counts as overhead: Ray start-up, worker start-up and
TensorFlow import, data set-up, scheduling between trials, slots left idle while the last
trials finish, and writing the results. Target: under 10% for 1-minute trials.

By default every trial trains the same architecture (`--space fixed`), so that trials cost the
same and the number measures orchestration rather than how unevenly random architectures
happen to fill the last round; `--space paper` samples the paper's space instead.

    python bench/search.py [--num-samples 8 --epochs 6 --space fixed|paper]
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

from proxies.config import ProxyConfig  # noqa: E402
from search import SearchOptions, TrialResources, run_search  # noqa: E402
from search_space import SearchSpace  # noqa: E402

# A mid-sized member of the paper's space (0.040 GFLOPs at 8x32x32, 14 layers): ~1 minute for 6
# proxy epochs on one core of the 2-core development VM.
FIXED_SPACE = SearchSpace(stem_widths=(16,), block_widths=((24,), (48,), (96,), (96,), (192,)),
                          depths=((2,), (3,), (3,), (3,), (3,)), expansion_ratios=(3.0,), kernels=("3x3x3",),
                          head_widths=(512,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=6, help="proxy epochs (about 1 minute per trial)")
    parser.add_argument("--cpus-per-trial", type=float, default=1.0)
    parser.add_argument("--space", choices=["fixed", "paper"], default="fixed")
    args = parser.parse_args()
    concurrent = min(args.num_samples, max(1, int((os.cpu_count() or 1) // args.cpus_per_trial)))
    space = FIXED_SPACE if args.space == "fixed" else SearchSpace()
    with tempfile.TemporaryDirectory() as folder:
        options = SearchOptions(output=folder, num_samples=args.num_samples, scheduler="none", space=space,
                                resources=TrialResources(cpus=args.cpus_per_trial),
                                proxy=ProxyConfig(epochs=args.epochs))
        start = time.perf_counter()
        table = run_search(options)
        wall = time.perf_counter() - start
    trials = float(table["wall_time_s"].sum())
    overhead = 1 - trials / (wall * concurrent)
    print(f"{args.num_samples} trials ({args.space} space), {concurrent} at a time: search wall {wall:.1f} s, "
          f"trial time {trials:.1f} s (mean {trials / len(table):.1f} s, "
          f"min {table['wall_time_s'].min():.1f} s, max {table['wall_time_s'].max():.1f} s), "
          f"orchestration overhead {100 * overhead:.1f}%; {3600 * args.num_samples / wall:.0f} trials per hour")


if __name__ == "__main__":
    main()
