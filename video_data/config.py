"""Which data a run reads, as an option dataclass free of TensorFlow (the CLI and option files
hold it without loading a deep-learning runtime)."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from infra.config_io import check_numbers
from infra.errors import OptionsError

from .synthetic import SyntheticConfig

__all__ = ["DataConfig"]


@dataclass(frozen=True)
class DataConfig:
    """Which data: 'synthetic' (generated from `synthetic`, nothing on disk) or a data folder.

    A folder's layout is discovered (`video_data.layout`); `train_csv`, `val_csv` and `video_root`
    override the discovery. `fps` samples clip frames 1/fps seconds apart instead of every
    `frame_stride`-th frame. Training and search refuse a split where more than `max_missing`
    of the listed clips cannot be loaded (`video_data.inspection.check_data`).
    """

    source: str = "synthetic"
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    train_csv: str | None = None
    val_csv: str | None = None
    video_root: str | None = None
    fps: float | None = None
    max_missing: float = 0.2

    def __post_init__(self) -> None:
        check_numbers(self, positive=("fps",), fraction=("max_missing",))

    def absolute(self) -> "DataConfig":
        """The same data with every path absolute: Ray workers run in folders of their own, where
        a path relative to where the user typed it names nothing."""
        def absolute(path: str | None) -> str | None:
            return None if path is None else os.path.abspath(os.path.expanduser(path))

        source = self.source if self.source == "synthetic" else absolute(self.source)
        return dataclasses.replace(self, source=source, train_csv=absolute(self.train_csv),
                                   val_csv=absolute(self.val_csv), video_root=absolute(self.video_root))

    @property
    def is_synthetic(self) -> bool:
        return self.source == "synthetic" and not self.train_csv

    def check_batch(self, batch_size: int, train_clips: int) -> None:
        """Refuses a batch larger than the training split: every epoch would hold no full batch."""
        if train_clips < batch_size:
            more = "more --synthetic-clips or " if self.is_synthetic else ""
            raise OptionsError(f"batch size {batch_size} is more than the {train_clips} training clips of the data; "
                               f"use {more}a smaller --batch-size")
