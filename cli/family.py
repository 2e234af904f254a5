"""`run_search.py family`: one scaled search per family member, the best architecture of each as the family."""
from __future__ import annotations

import argparse
import time

from .search import add_search_args, search_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from search.family import FAMILY_TARGETS

    parser.add_argument("--targets", default=FAMILY_TARGETS, help="members to search for, e.g. a0..a5 or a0,a3")
    add_search_args(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from scaling import parse_targets
    from search.family import search_family

    output = Path(args.output or f"runs/family-{time.strftime('%Y%m%d-%H%M%S')}")
    table = search_family(search_options(args, str(output)), parse_targets(args.targets), output, args.resume)
    print(table[["member", "frames", "resolution", "gflops", "params", "depths", "widths", "proxy_top1"]].to_string(
        index=False))
    print(f"the family's specs in {output / 'specs'}/, each search in {output / 'searches'}/")
    return 0
