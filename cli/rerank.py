"""`run_search.py rerank`: a finished search's best architectures re-trained with fresh seeds."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .common import default, positive_float, positive_int

if TYPE_CHECKING:
    import pandas as pd


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from search.options import RerankOptions

    parser.add_argument("--run", dest="run_dir", required=True, help="a finished search run folder")
    parser.add_argument("--top", type=positive_int, default=default(RerankOptions, "top"),
                        help="architectures re-trained, by non-dominated rank (the front first)")
    parser.add_argument("--seeds", type=positive_int, default=default(RerankOptions, "seeds"),
                        help="fresh trainings of each re-ranked architecture")
    parser.add_argument("--cpus-per-trial", type=positive_float, default=default(RerankOptions, "cpus"))
    parser.add_argument("--address", help="existing Ray cluster (e.g. auto); default: a private local Ray")
    parser.add_argument("--resume", action="store_true",
                        help="continue or extend the re-ranking (a larger --top or more --seeds trains only what "
                             "is new)")


def summary(table: "pd.DataFrame") -> str:
    """The re-ranked front, one line per architecture: mean top-1 with its spread."""
    from analysis.pareto import cost_column

    cost = cost_column(table)
    from analysis.retrained import CONFIDENCE

    front = table[table["pareto"]].sort_values(cost)
    lines = [f"front of the re-ranked architectures (mean top-1 of {int(front['top1_n'].max())} fresh seeds, "
             f"{CONFIDENCE:.0%} interval):"]
    lines += [f"  {row['trial_id']}  {row[cost]:.4g} {cost}  top-1 {row['top1_mean']:.3f} "
              f"[{row['top1_low']:.3f}, {row['top1_high']:.3f}]  (its trial: {row['top1']:.3f})"
              for _, row in front.iterrows()]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from search.options import RerankOptions
    from search.rerank import run_rerank

    options = RerankOptions(run=args.run_dir, top=args.top, seeds=args.seeds, cpus=args.cpus_per_trial,
                            address=args.address)
    table = run_rerank(options, resume=args.resume)
    print(summary(table))
    print(f"results in {options.run}/: rerank.csv (every training), trials.csv, pareto.csv, pareto.png, configs/, "
          f"report.html")
    return 0
