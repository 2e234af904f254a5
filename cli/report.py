"""`run_search.py report`: one self-contained HTML page of one or several search runs."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", dest="runs", action="append", required=True, help="a search run folder (repeatable)")
    parser.add_argument("--output", help="folder for report.html and its PNGs (default: the first run's)")
    parser.add_argument("--family", help="a trained family folder (family_results.csv) to draw beside the published")


def run(args: argparse.Namespace) -> int:
    from analysis import write_report

    path = write_report(args.runs, args.output, args.family)
    print(f"report: {path} (figures as PNG files beside it)")
    return 0
