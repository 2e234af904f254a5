"""How a spec is instantiated for training: regularisation and batch-norm settings.

These are not architecture (two trainings of one spec may differ in them) but every model
builder call, the training recipe, the saved model config and the conv-type conversion need the
same set, so they travel together as one frozen dataclass instead of five keyword arguments
repeated at each of those places. Defaults are the official MoViNet training settings.
"""
from __future__ import annotations

from dataclasses import dataclass

from infra.config_io import check_numbers

__all__ = ["ModelOptions"]


@dataclass(frozen=True)
class ModelOptions:
    """Regularisation and normalisation of a built model (official defaults).

    Attributes:
      dropout_rate: dropout before the classifier (official 0.2 for a0, 0.5 for larger models).
      stochastic_depth_rate: drop-path rate of the last layer, linear in depth (official 0.2).
      weight_decay: L2 factor on conv kernels, Keras scale (official recipe 3e-5 / 2 = 1.5e-5).
      bn_momentum: batch-norm moving-average momentum (official 0.99; short proxy runs need ~0.9
        for the moving statistics to catch up within a few hundred steps).
      sync_bn: under a data-parallel strategy with several replicas, batch statistics over the
        global batch (official `use_sync_bn`); a single replica is unaffected.
    """

    dropout_rate: float = 0.2
    stochastic_depth_rate: float = 0.2
    weight_decay: float = 1.5e-5
    bn_momentum: float = 0.99
    sync_bn: bool = True

    def __post_init__(self) -> None:
        check_numbers(self, fraction=("dropout_rate", "stochastic_depth_rate", "bn_momentum"),
                      non_negative=("weight_decay",))
