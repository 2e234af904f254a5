"""What data, proxy training and full training take: option dataclasses, free of TensorFlow.

The search's option tree (`search.SearchOptions`) and the CLI nest these, so each default has
exactly one home and option files and the command line can be handled without loading a
deep-learning runtime.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from infra.config_io import check_numbers
from infra.errors import OptionsError
from search_space import ModelOptions

from .recipe import Recipe
from .synthetic import SyntheticConfig

__all__ = ["DataConfig", "ProxyConfig", "PROXY_RECIPE", "TrainConfig"]


@dataclass(frozen=True)
class DataConfig:
    """Which data: 'synthetic' (generated from `synthetic`, nothing on disk) or a data folder.

    A folder's layout is discovered (`proxies.layout`); `train_csv`, `val_csv` and `video_root`
    override the discovery. `fps` samples clip frames 1/fps seconds apart instead of every
    `frame_stride`-th frame. Training and search refuse a split where more than `max_missing`
    of the listed clips cannot be loaded (`proxies.report.check_data`).
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

    @property
    def is_synthetic(self) -> bool:
        return self.source == "synthetic" and not self.train_csv

    def check_batch(self, batch_size: int, train_clips: int) -> None:
        """Refuses a batch larger than the training split: every epoch would hold no full batch."""
        if train_clips < batch_size:
            more = "more --synthetic-clips or " if self.is_synthetic else ""
            raise OptionsError(f"batch size {batch_size} is more than the {train_clips} training clips of the data; "
                               f"use {more}a smaller --batch-size")


# A few hundred steps instead of 240 epochs: a higher rate, faster batch-norm statistics, no
# regularisation beyond light dropout (short runs underfit rather than overfit).
PROXY_RECIPE = Recipe(learning_rate=4.0, warmup_epochs=0.5, mixed_precision="off",
                      model=ModelOptions(dropout_rate=0.1, stochastic_depth_rate=0.0, weight_decay=0.0,
                                         bn_momentum=0.9))


@dataclass(frozen=True)
class ProxyConfig:
    """The proxy task: data fraction and a short schedule (the clip shape is the sources').

    `class_fraction` keeps the first classes, `clip_fraction` the first clips of each (shuffled)
    epoch; `steps_per_epoch` (if set) caps an epoch's batches. By default 16 epochs of 18
    batches of 16 clips, each epoch a fresh draw of 288 of the synthetic data's 2688 training
    clips (a fraction of 0.11, rounded down to whole batches): on the 20 architectures of a
    default run one training of it ranks a 2x longer reference at Kendall tau +0.39 to +0.50
    (GFLOPs alone: +0.06) and another training at +0.33 (mean of 3 pairs), where 8 epochs on
    the easier 6-class data agreed with itself at +0.22 (README, Proxy fidelity).

    `replicas` networks are trained per trial, each from its own seed (initialisation and clip
    order), and the trial scores their mean (`proxies.replicas`): the seed's share of a score
    shrinks, at `replicas` times the cost.
    """

    class_fraction: float = 1.0
    clip_fraction: float = 0.11
    epochs: int = 16
    steps_per_epoch: int | None = None
    batch_size: int = 16
    seed: int = 0
    replicas: int = 1
    recipe: Recipe = field(default_factory=lambda: PROXY_RECIPE)

    def __post_init__(self) -> None:
        check_numbers(self, positive=("epochs", "steps_per_epoch", "batch_size", "replicas"),
                      open_fraction=("class_fraction", "clip_fraction"))


@dataclass(frozen=True)
class TrainConfig:
    """What to train, on what data, for how long, where, and on how many workers.

    `spec` is the architecture as a dict (`ArchSpec.to_dict()`), so the config travels to Ray
    Train workers as plain data. `frames` / `resolution` / `frame_stride` default to the spec's
    input; `num_classes` to the data's.
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

    def __post_init__(self) -> None:
        check_numbers(self, positive=("epochs", "batch_size", "frames", "resolution", "frame_stride", "num_workers",
                                      "cpus_per_worker"), non_negative=("gpus_per_worker",))
        if self.num_classes is not None and self.num_classes < 2:
            raise OptionsError(f"num_classes: must be at least 2, got {self.num_classes}")
