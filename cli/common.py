"""What every command's parser shares: one-line usage errors, checked number types, defaults
read from the option dataclasses, and the data flags of the commands that train.

A command module imports only what its own parser needs; the library it calls is imported
when the command runs, so `run_search.py flops` never loads TensorFlow or Ray.
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
from typing import Any, Callable

from infra.errors import UserError

__all__ = ["UsageError", "Parser", "default", "positive_int", "non_negative_int", "positive_float", "fraction",
           "add_folder_args", "add_data_args", "data_config"]


class UsageError(UserError):
    """A command line that does not parse (unknown flag, bad number, missing argument)."""


class Parser(argparse.ArgumentParser):
    """argparse whose errors follow the toolkit's rule: one line, exit status 2 (via `UsageError`),
    where argparse would print the whole usage first."""

    def error(self, message: str):  # noqa: D102 (argparse's hook)
        raise UsageError(f"{self.prog}: {message} (see --help)")


def default(owner: Any, name: str) -> Any:
    """The default of field `name` of dataclass `owner`, or of parameter `name` of function
    `owner`: the one home of every CLI default."""
    if dataclasses.is_dataclass(owner):
        field = next(f for f in dataclasses.fields(owner) if f.name == name)
        return field.default_factory() if field.default is dataclasses.MISSING else field.default
    return inspect.signature(owner).parameters[name].default


def _number(kind: type, holds: Callable[[float], bool], rule: str) -> Callable[[str], Any]:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text!r}") from None
        if not holds(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text!r}")
        return value

    parse.__name__ = rule  # argparse names the type in some messages
    return parse


positive_int = _number(int, lambda v: v >= 1, "a positive integer")
non_negative_int = _number(int, lambda v: v >= 0, "an integer of 0 or more")
positive_float = _number(float, lambda v: v > 0, "a number above 0")
fraction = _number(float, lambda v: 0 <= v <= 1, "a number between 0 and 1")


def add_folder_args(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Overrides of the data-folder discovery (search, train, data, convert)."""
    group = parser.add_argument_group("data folders (the layout is found without these)")
    group.add_argument("--train-csv", help="annotations of the train split (overrides discovery)")
    group.add_argument("--val-csv", help="annotations of the val split (overrides discovery)")
    group.add_argument("--video-root", help="folder the clips are under (overrides discovery)")
    return group


def add_data_args(parser: argparse.ArgumentParser) -> None:
    """Which data a training command trains on: a folder, TFRecords, or the synthetic set."""
    from video_data.config import DataConfig
    from video_data.synthetic import SyntheticConfig

    parser.add_argument("--data", default=default(DataConfig, "source"),
                        help="'synthetic', a data folder (any Kinetics-style layout) or TFRecord shards")
    folders = add_folder_args(parser)
    folders.add_argument("--fps", type=positive_float,
                         help="sample clip frames 1/fps s apart (instead of the frame stride)")
    folders.add_argument("--max-missing", type=fraction, default=default(DataConfig, "max_missing"),
                         help="refuse to start if more of a split's clips are missing or corrupt")
    group = parser.add_argument_group("synthetic data (--data synthetic)")
    group.add_argument("--synthetic-classes", type=positive_int, default=default(SyntheticConfig, "num_classes"))
    group.add_argument("--synthetic-clips", type=positive_int, default=default(SyntheticConfig, "clips_per_class"),
                       help="clips per class (1 in 5 held out)")
    group.add_argument("--synthetic-frames", type=positive_int, default=default(SyntheticConfig, "frames"))
    group.add_argument("--synthetic-resolution", type=positive_int,
                       default=default(SyntheticConfig, "resolution"))
    group.add_argument("--difficulty", type=fraction, default=default(SyntheticConfig, "difficulty"))
    group.add_argument("--actor-scale", type=positive_float, default=default(SyntheticConfig, "actor_scale"),
                       help="the moving actor's size, a multiple of its default radius")


def data_config(args: argparse.Namespace):
    """The `DataConfig` the data flags describe."""
    from video_data.config import DataConfig
    from video_data.synthetic import SyntheticConfig

    synthetic = SyntheticConfig(num_classes=args.synthetic_classes, clips_per_class=args.synthetic_clips,
                                frames=args.synthetic_frames, resolution=args.synthetic_resolution,
                                difficulty=args.difficulty, actor_scale=args.actor_scale)
    return DataConfig(source=args.data, synthetic=synthetic, train_csv=args.train_csv, val_csv=args.val_csv,
                      video_root=args.video_root, fps=args.fps, max_missing=args.max_missing)
