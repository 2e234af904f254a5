"""`run_search.py convert`: a data folder in any layout as Model Garden TFRecord shards."""
from __future__ import annotations

import argparse

from .common import add_folder_args, default, positive_float, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="a data folder in any layout the toolkit finds")
    parser.add_argument("output", help="folder for the shards, classes.json and conversion.json")
    from video_data.convert import ConvertOptions

    parser.add_argument("--split", nargs="+", default=list(default(ConvertOptions, "splits")))
    parser.add_argument("--resize", type=positive_int,
                        help="shorter side of stored frames (e.g. 128 for proxy search)")
    parser.add_argument("--fps", type=positive_float, help="frames per second stored (default: every frame); e.g. "
                        "12.5 for proxies that take every 2nd frame of 25 fps video")
    parser.add_argument("--shards", type=positive_int, help="shards per split (default: one per 1,000 clips)")
    parser.add_argument("--workers", type=positive_int, help="shards converted at once (default: one per CPU)")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted conversion in OUTPUT (its finished shards are kept)")
    add_folder_args(parser)


def convert_options(args: argparse.Namespace):
    """The `ConvertOptions` the flags describe (the defaults are the dataclass's)."""
    from video_data.convert import ConvertOptions

    return ConvertOptions(data=args.data, output=args.output, splits=tuple(args.split), resize=args.resize,
                          fps=args.fps, shards=args.shards, workers=args.workers, train_csv=args.train_csv,
                          val_csv=args.val_csv, video_root=args.video_root, resume=args.resume)


def run(args: argparse.Namespace) -> int:
    from video_data.convert import convert_folder

    for split, counts in convert_folder(convert_options(args)).items():
        print(f"{split}: {counts['written']:,} clips written, {counts['skipped']:,} skipped, "
              f"{counts['missing']:,} missing")
    print(f"shards in {args.output}/ (train it with --data {args.output})")
    return 0
