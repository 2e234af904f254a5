"""The paper's training recipe as data, and the Keras objects that implement it.

Official Model Garden settings (shared/docs/movinet_spec.md section 5): RMSprop (rho 0.9,
momentum 0.9, epsilon 1.0, clipnorm 1.0), learning rate 1.8 per 1024 clips with linear warm-up
then cosine decay, label smoothing 0.1, L2 3e-5 (Keras factor 1.5e-5), dropout 0.2 (0.5 for
larger models), stochastic depth 0.2, synchronized batch norm across data-parallel workers,
mixed precision on accelerators. Proxy training uses the same recipe with a short schedule and
a higher rate, since it must rank architectures in minutes rather than reach the final
accuracy. `training.compile` turns a recipe into Keras objects; this module stays free of
TensorFlow so option trees and the CLI can hold recipes without loading it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from infra.config_io import check_numbers
from infra.errors import OptionsError
from search_space import ModelOptions

__all__ = ["Recipe", "MIXED_PRECISION"]

MIXED_PRECISION = ("auto", "off", "mixed_float16", "mixed_bfloat16")


@dataclass(frozen=True)
class Recipe:
    """Optimiser, schedule and regularisation; `learning_rate` is per 1024 clips (scaled linearly).

    `model` holds the regularisation and batch-norm settings the model is built with (official
    defaults: dropout 0.2, stochastic depth 0.2, L2 1.5e-5, BN momentum 0.99, synchronised BN).
    """

    learning_rate: float = 1.8
    warmup_epochs: float = 6.0
    label_smoothing: float = 0.1
    rho: float = 0.9
    momentum: float = 0.9
    epsilon: float = 1.0
    clipnorm: float = 1.0
    mixed_precision: str = "auto"  # auto: on GPUs only; or "off", "mixed_float16", "mixed_bfloat16"
    model: ModelOptions = field(default_factory=ModelOptions)

    @classmethod
    def fine_tuning(cls) -> "Recipe":
        """The recipe for a run that starts from trained weights (`train --init`): a tenth of the
        learning rate and one epoch of warm-up, so the first steps on new classes do not wreck
        the features the run came for."""
        return cls(learning_rate=0.18, warmup_epochs=1.0)

    def __post_init__(self) -> None:
        check_numbers(self, positive=("learning_rate", "epsilon"), non_negative=("warmup_epochs", "clipnorm"),
                      fraction=("label_smoothing", "rho", "momentum"))
        if self.mixed_precision not in MIXED_PRECISION:
            raise OptionsError(f"mixed_precision: {self.mixed_precision!r} is not one of {', '.join(MIXED_PRECISION)}")
