"""What a full training takes, as an option dataclass free of TensorFlow (it travels to Ray Train
workers as plain data, and the CLI holds it without loading a deep-learning runtime)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from infra.config_io import check_numbers
from infra.errors import OptionsError
from video_data.config import DataConfig

from .recipe import Recipe

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """What to train, on what data, for how long, where, and on how many workers.

    `spec` is the architecture as a dict (`ArchSpec.to_dict()`), so the config travels to Ray
    Train workers as plain data. `frames` / `resolution` / `frame_stride` default to the spec's
    input; `num_classes` to the data's. Fine-tuning: `init` is an official checkpoint or a
    finished training run whose weights (all but the class logits) the run starts from, and
    `freeze` keeps 'backbone' (all but the classifier) or 'blockN' (the stem and blocks 0..N)
    as they were (`training.initial_weights`).
    """

    spec: dict
    output: str
    data: DataConfig = field(default_factory=DataConfig)
    recipe: Recipe = field(default_factory=Recipe)
    num_classes: int | None = None
    epochs: int = 240
    batch_size: int = 8
    frames: int | None = None
    resolution: int | None = None
    frame_stride: int | None = None
    seed: int = 0
    resume: bool = False
    num_workers: int = 1
    cpus_per_worker: int | None = None
    gpus_per_worker: float = 0.0
    address: str | None = None
    init: str | None = None
    freeze: str | None = None

    def __post_init__(self) -> None:
        check_numbers(self, positive=("epochs", "batch_size", "frames", "resolution", "frame_stride", "num_workers",
                                      "cpus_per_worker"), non_negative=("gpus_per_worker",))
        if self.num_classes is not None and self.num_classes < 2:
            raise OptionsError(f"num_classes: must be at least 2, got {self.num_classes}")
        if self.freeze is not None:
            if self.init is None:
                raise OptionsError("freeze: only a fine-tuning run (--init) has weights worth freezing")
            blocks = len(self.spec.get("blocks", ()))
            match = re.fullmatch(r"block(\d+)", self.freeze)
            if self.freeze != "backbone" and (match is None or int(match.group(1)) >= blocks):
                raise OptionsError(f"freeze: 'backbone' or 'blockN' with N in 0..{blocks - 1}, got {self.freeze!r}")
