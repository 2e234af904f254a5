"""`run_search.py train-family`: every member of a family folder trained (Ray Train), member by member."""
from __future__ import annotations

import argparse

from .train import add_train_args, train_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", required=True, help="a family folder (from `scale` or `family`)")
    add_train_args(parser, "continue the family's training in FAMILY/trained/ (finished members are kept)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from training.family import train_family

    table = train_family(Path(args.family), train_config(args, spec={}, output=""), args.address)
    print(table[["member", "gflops", "params", "top1", "top5"]].to_string(index=False))
    print(f"results in {args.family}/family_results.csv and family_accuracy.png; runs in {args.family}/trained/")
    return 0
