"""What a MoViNet architecture is: specs, presets, the space, costs, budgets, and (lazily) models.

The core (everything importable here without TensorFlow, Keras or Ray) is plain data and
arithmetic: scaling rules, analysis of a finished run and the CLI's `flops` command use it
without loading a deep-learning runtime. The Keras builder, layers, streaming states and
official checkpoint loading live in `search_space.keras` and are imported the first time one
of `MoViNet`, `build_model`, `convert_conv_type` or `load_official_checkpoint` is used.
"""
from __future__ import annotations

import importlib
from typing import Any

from infra.errors import UserError

from .budget import Budget, check_budget_feasible
from .cost import Cost, count_flops
from .ensemble import EnsembleSpec
from .errors import CheckpointMismatchError, SpecError
from .model_options import ModelOptions
from .presets import OFFICIAL_CLASSES, PRESET_NAMES, load_arch, preset, streaming_variant
from .space import SearchSpace
from .spec import ArchSpec, BlockSpec, HeadSpec, InputSpec, LayerSpec, StemSpec
from .summary import arch_id, summary

_KERAS = ("MoViNet", "build_model", "convert_conv_type", "load_official_checkpoint")

__all__ = [
    "ArchSpec", "BlockSpec", "HeadSpec", "InputSpec", "LayerSpec", "StemSpec", "SpecError", "UserError",
    "preset", "load_arch", "streaming_variant", "PRESET_NAMES", "Cost", "count_flops", "Budget",
    "check_budget_feasible", "SearchSpace", "ModelOptions", "arch_id", "summary", "CheckpointMismatchError",
    "EnsembleSpec", "OFFICIAL_CLASSES",
    *_KERAS,
]


def __getattr__(name: str) -> Any:
    """Loads the Keras implementation on first use of one of its names (PEP 562)."""
    if name in _KERAS:
        return getattr(importlib.import_module(".keras", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
