"""`run_search.py data`: what a data folder holds (layout, classes, loadable clips), without training."""
from __future__ import annotations

import argparse
import json

from .common import add_folder_args, default, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="data folder (any layout), or a TFRecord glob with {split}")
    from video_data.inspection import inspect_folder
    from video_data.layout import SPLITS

    parser.add_argument("--split", default=default(inspect_folder, "split"), choices=list(SPLITS))
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--workers", type=positive_int,
                        help="threads probing clip headers (default: 2 per CPU, up to 16)")
    add_folder_args(parser)


def run(args: argparse.Namespace) -> int:
    from video_data.inspection import inspect_folder

    csv = {"train": args.train_csv, "val": args.val_csv}.get(args.split)
    report = inspect_folder(args.folder, args.split, csv=csv, video_root=args.video_root, workers=args.workers,
                            progress=not args.json)
    print(json.dumps(report.to_dict()) if args.json else f"{report.line()} [{report.source}]")
    return 0
