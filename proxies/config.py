"""The proxy task a search trial trains: its schedule, data fraction and recipe, free of TensorFlow.

The search's option tree (`search.SearchOptions`) and the CLI nest it, so each default has
exactly one home and option files and the command line can be handled without loading a
deep-learning runtime.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from infra.config_io import check_numbers
from search_space import ModelOptions
from training.recipe import Recipe

__all__ = ["ProxyConfig", "PROXY_RECIPE", "ZERO_COST_SCORES"]

# The training-free scores of `proxies.zero_cost`, named here so options can be checked without TensorFlow.
ZERO_COST_SCORES = ("synflow", "naswot", "grad_norm", "entropy")


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
    clips (a fraction of 0.11, rounded down to whole batches): the setting whose rankings
    agreed best with a longer reference of those measured (docs/fidelity.md).

    `replicas` networks are trained per trial, each from its own seed (initialisation and clip
    order), and the trial scores their mean (`proxies.replicas`): the seed's share of a score
    shrinks, at `replicas` times the cost.

    With `teacher` (a file of `proxies.distillation.make_teacher`), each training clip's target
    is `distillation` parts the teacher's distribution at `temperature` and the rest its label.

    With `curriculum_epochs`, the first epochs train on the synthetic data with its actor
    `curriculum_actor_scale` times larger (validation never): a network first learns to find
    the actor, which is what holds every training at chance for its first 5-8 epochs on the
    original clips, then the task itself.
    """

    class_fraction: float = 1.0
    clip_fraction: float = 0.11
    epochs: int = 16
    steps_per_epoch: int | None = None
    batch_size: int = 16
    seed: int = 0
    replicas: int = 1
    teacher: str | None = None
    distillation: float = 0.5
    temperature: float = 2.0
    curriculum_epochs: int = 0
    curriculum_actor_scale: float = 1.6
    recipe: Recipe = field(default_factory=lambda: PROXY_RECIPE)

    def __post_init__(self) -> None:
        check_numbers(self, positive=("epochs", "steps_per_epoch", "batch_size", "replicas", "temperature",
                                      "curriculum_actor_scale"),
                      open_fraction=("class_fraction", "clip_fraction"), fraction=("distillation",),
                      non_negative=("curriculum_epochs",))
