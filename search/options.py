"""Every option of a search, with its default, in one typed tree (stored as `options.json`).

The CLI reads its defaults from here, `options.json` round-trips through `from_plain` with a
field-path error for an unknown or mistyped key, and the nested parts are the dataclasses of
the layers that use them (`ProxyConfig`, `DataConfig`, `SearchSpace`, `Budget`), so a default
has exactly one home.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from infra.config_io import check_numbers, from_plain, to_plain
from infra.errors import OptionsError
from infra.files import read_json, write_json
from proxies.config import ZERO_COST_SCORES, ProxyConfig
from scaling.targets import FAMILY
from search_space import ArchSpec, Budget, InputSpec, SearchSpace
from video_data.config import DataConfig

__all__ = ["SearchOptions", "TrialResources", "Prefilter", "OneShotOptions", "FitOptions", "RerankOptions",
           "SEARCH_ALGORITHMS", "SCHEDULERS", "REWARDS", "ENGINES", "ONESHOT_SAMPLINGS"]

SEARCH_ALGORITHMS = ("random", "optuna", "nsga2")
SCHEDULERS = ("asha", "none")
REWARDS = ("accuracy", "tunas")
ENGINES = ("ray", "keras-tuner", "oneshot")
ONESHOT_SAMPLINGS = ("one", "sandwich")
OPTIONS_FILE = "options.json"


@dataclass(frozen=True)
class TrialResources:
    """What one trial reserves on a Ray node."""

    cpus: float = 1.0
    gpus: float = 0.0

    def __post_init__(self) -> None:
        check_numbers(self, positive=("cpus",), non_negative=("gpus",))

    @property
    def tune_resources(self) -> dict[str, float]:
        """The request `tune.with_resources` takes (no GPU key without GPUs)."""
        return {"cpu": self.cpus} | ({"gpu": self.gpus} if self.gpus else {})


@dataclass(frozen=True)
class Prefilter:
    """Draw 1/`fraction` in-budget architectures per trial and train the one a zero-cost score
    (`proxies.zero_cost`, seconds an architecture) ranks best; the others go to rejected.csv
    with their score. No `score`: every sample is trained."""

    score: str | None = None
    fraction: float = 1.0

    def __post_init__(self) -> None:
        if self.score is not None and self.score not in ZERO_COST_SCORES:
            raise OptionsError(f"prefilter: {self.score!r} is not one of {', '.join(ZERO_COST_SCORES)}")
        if not 0 < self.fraction <= 1:
            raise OptionsError(f"prefilter: the fraction trained must be in (0, 1], got {self.fraction}")

    @classmethod
    def parse(cls, text: str | None) -> "Prefilter":
        """`SCORE:FRACTION` as the command line gives it (e.g. synflow:0.25); None: no prefilter."""
        if not text:
            return cls()
        score, _, fraction = text.partition(":")
        try:
            return cls(score, float(fraction))
        except ValueError:
            raise OptionsError(f"--prefilter: expected SCORE:FRACTION (e.g. synflow:0.25), got {text!r}") from None

    @property
    def candidates(self) -> int:
        """Architectures drawn per trial."""
        return max(1, round(1 / self.fraction)) if self.score else 1


@dataclass(frozen=True)
class OneShotOptions:
    """How `--engine oneshot` trains its supernet and controller (`search.oneshot`).

    Attributes:
      epochs: supernet epochs, each `steps_per_epoch` weight steps of the proxy's batch size
        (and as many controller steps after the warm-up); one report and checkpoint each.
      warmup_epochs: first epochs that train the shared weights only, on uniform samples.
      controller_learning_rate: Adam's rate on the controller's logits.
      baseline_decay: the reward's moving average, REINFORCE's baseline.
      entropy_weight: a bonus on the controller's entropy (0: none, as TuNAS).
      beta: the cost term's weight in the TuNAS reward top1 + beta * |cost / target - 1|.
      calibration_clips: training clips each scored sub-network's batch norms are re-estimated on.
      sampling: what a weight step trains. one: the controller's sample (TuNAS); sandwich: the
        widest and the smallest sub-networks beside it, their losses summed (BigNAS' sandwich
        rule). The shared weights of a CPU-sized run leave chance only with the sandwich; BigNAS'
        in-place distillation from the widest did not help it (docs/search.md, one-shot).
    """

    epochs: int = 40
    steps_per_epoch: int = 36
    warmup_epochs: int = 10
    controller_learning_rate: float = 0.05
    baseline_decay: float = 0.95
    entropy_weight: float = 0.0
    beta: float = -0.5
    calibration_clips: int = 128
    sampling: str = "sandwich"

    def __post_init__(self) -> None:
        check_numbers(self, positive=("epochs", "steps_per_epoch", "controller_learning_rate", "calibration_clips"),
                      non_negative=("warmup_epochs", "entropy_weight"), fraction=("baseline_decay",))
        if self.warmup_epochs >= self.epochs:
            raise OptionsError(f"oneshot: the warm-up ({self.warmup_epochs} epochs) leaves no epoch to train the "
                               f"controller in ({self.epochs} epochs)")
        if self.beta > 0:
            raise OptionsError(f"oneshot: beta must be 0 or negative (a penalty on missing the cost target), "
                               f"got {self.beta}")
        if self.sampling not in ONESHOT_SAMPLINGS:
            raise OptionsError(f"oneshot: sampling {self.sampling!r} is not one of {', '.join(ONESHOT_SAMPLINGS)}")


@dataclass(frozen=True)
class SearchOptions:
    """A search: what to sample (space, budget), how to score it (proxy, data), how to search.

    Attributes:
      output: the run folder.
      search_alg: random, optuna (TPE on the reward) or nsga2 (Optuna NSGA-II, top-1 vs GFLOPs).
      scheduler: asha (early stopping on per-epoch top-1) or none.
      reward: accuracy, or tunas (top1 - 0.5 |GFLOPs / budget max - 1|).
      engine: ray (Ray Tune, local or a cluster) or keras-tuner (one machine, no Ray).
      seed: the search algorithm's seed.
      seed_arch: a preset or spec YAML evaluated first; the space is widened to hold it.
      address: an existing Ray cluster (None: a private local instance).
      target: a family member (a0..a6) to search for: the space scaled for its GFLOPs with
        `rule` (`search.member_space`), the budget a band around them at its published input shape.
      prefilter: a zero-cost score choosing which sampled architectures are trained (random
        search on Ray only: TPE and NSGA-II choose by what trials taught them).
      oneshot: the supernet and controller of `engine` oneshot, whose `num_samples` are the
        architectures it scores and records at the end (the controller's most likely first).
    """

    output: str = ""
    num_samples: int = 8
    search_alg: str = "random"
    scheduler: str = "asha"
    reward: str = "accuracy"
    engine: str = "ray"
    seed: int = 0
    seed_arch: str | None = None
    address: str | None = None
    target: str | None = None
    rule: str = "compound"
    space: SearchSpace = field(default_factory=SearchSpace)
    budget: Budget = field(default_factory=Budget)
    proxy: ProxyConfig = field(default_factory=ProxyConfig)
    data: DataConfig = field(default_factory=DataConfig)
    resources: TrialResources = field(default_factory=TrialResources)
    prefilter: Prefilter = field(default_factory=Prefilter)
    oneshot: OneShotOptions = field(default_factory=OneShotOptions)

    def __post_init__(self) -> None:
        for name, allowed in (("search_alg", SEARCH_ALGORITHMS), ("scheduler", SCHEDULERS), ("reward", REWARDS),
                              ("engine", ENGINES)):
            if getattr(self, name) not in allowed:
                raise OptionsError(f"{name}: {getattr(self, name)!r} is not one of {', '.join(allowed)}")
        check_numbers(self, positive=("num_samples",))
        if self.target is not None and self.target not in FAMILY:
            raise OptionsError(f"target: {self.target!r} is not one of {', '.join(FAMILY)}")
        if self.prefilter.score and (self.search_alg != "random" or self.engine != "ray"):
            raise OptionsError("prefilter: works with --search-alg random on the ray engine (TPE and NSGA-II "
                               "choose what to train from the trials' results)")
        if self.engine == "oneshot":
            self._check_oneshot()
        if self.target and (self.budget.low or self.budget.high is not None or self.budget.metric != "gflops"):
            raise OptionsError("target: a family member's search sets its own GFLOPs budget; drop --gflops and "
                               "--objective latency")

    def _check_oneshot(self) -> None:
        """What a one-shot search cannot honour is refused rather than ignored."""
        if self.budget.high is None and not self.target:
            raise OptionsError(f"--engine oneshot: the controller is rewarded for reaching a cost target; give the "
                               f"budget's maximum ({self.budget.flag} MIN:MAX)")
        for name, value, default in (("--seed-arch", self.seed_arch, None), ("--prefilter", self.prefilter.score, None),
                                     ("--replicas", self.proxy.replicas, 1), ("--teacher", self.proxy.teacher, None),
                                     ("--class-fraction", self.proxy.class_fraction, 1.0)):
            if value != default:
                raise OptionsError(f"{name}: not with --engine oneshot (one supernet trains on the data as it is)")

    def smoke_test(self) -> "SearchOptions":
        """These options at the smallest size that still runs every part of a search: two trials
        of one epoch on 3 synthetic classes, networks of one layer a block. For checking an
        installation or a cluster (`search --smoke-test`) in about a minute, not for results."""
        space = dataclasses.replace(self.space, depths=((1,),) * 5)
        synthetic = dataclasses.replace(self.data.synthetic, num_classes=3, clips_per_class=10)
        return dataclasses.replace(self, num_samples=2, space=space, scheduler="none",
                                   proxy=dataclasses.replace(self.proxy, epochs=1, batch_size=4),
                                   data=dataclasses.replace(self.data, synthetic=synthetic),
                                   oneshot=OneShotOptions(epochs=2, steps_per_epoch=2, warmup_epochs=1,
                                                          calibration_clips=8))

    def save(self, folder: str | Path) -> Path:
        """Writes `options.json` (atomically: a kill mid-write keeps the previous file)."""
        return write_json(Path(folder) / OPTIONS_FILE, to_plain(self))

    @classmethod
    def load(cls, folder: str | Path) -> "SearchOptions":
        """The options of the run in `folder`; a UserError if it holds none or they do not parse."""
        path = Path(folder) / OPTIONS_FILE
        if not path.is_file():
            raise OptionsError(f"{folder}: no {OPTIONS_FILE} (not a search run folder)")
        data = read_json(path, OPTIONS_FILE)
        try:
            return from_plain(cls, data)
        except OptionsError as err:
            raise OptionsError(f"{path}: {err}") from None


@dataclass(frozen=True)
class FitOptions:
    """What the candidates train on: the base at `frames` x `resolution`, with `proxy` and `data`."""

    output: str
    candidates: int = 8
    steps: int = 3
    seed: int = 0
    frames: int = 8
    resolution: int = 32
    frame_stride: int = 2
    proxy: ProxyConfig = field(default_factory=ProxyConfig)
    data: DataConfig = field(default_factory=DataConfig)
    cpus: float = 1.0
    address: str | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        check_numbers(self, positive=("candidates", "steps", "frames", "resolution", "frame_stride", "cpus"))

    def base(self, spec: ArchSpec) -> ArchSpec:
        return spec.replace(input=InputSpec(self.frames, self.resolution, self.frame_stride))

    def data_for(self, specs: list[ArchSpec]) -> DataConfig:
        """Synthetic data big enough for every candidate's clip (and at least twice the base's)."""
        if not self.data.is_synthetic:
            return self.data
        frames = max([2 * self.frames * self.frame_stride] + [s.input.frames * s.input.frame_stride for s in specs])
        resolution = max([2 * self.resolution] + [s.input.resolution for s in specs])
        return dataclasses.replace(self.data, synthetic=dataclasses.replace(self.data.synthetic, frames=frames,
                                                                            resolution=resolution))


@dataclass(frozen=True)
class RerankOptions:
    """Which architectures of the search run `run` to re-train (`search.rerank`), and how often.

    Attributes:
      top: architectures re-trained, by non-dominated rank (front first).
      seeds: fresh trainings of each, with seeds after the run's own proxy seed.
      cpus: CPUs each training reserves on a Ray node.
      address: an existing Ray cluster (None: a private local instance).
    """

    run: str
    top: int = 5
    seeds: int = 3
    cpus: float = 1.0
    address: str | None = None

    def __post_init__(self) -> None:
        check_numbers(self, positive=("top", "seeds", "cpus"))
