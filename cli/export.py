"""`run_search.py export`: the Pareto configs of a finished search, written again from its records."""
from __future__ import annotations

import argparse

from .common import positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", dest="run_dir", required=True, help="search run folder")
    parser.add_argument("--top", type=positive_int, help="only the K most accurate Pareto architectures")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from analysis import export_configs, load_run

    run = Path(args.run_dir)
    paths = export_configs(load_run(run), run / "configs", top_k=args.top)
    print(f"exported {len(paths)} configs to {run / 'configs'} (replacing what an earlier export wrote there)")
    return 0
