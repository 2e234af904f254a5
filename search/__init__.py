"""The search driver: sampled architectures under a FLOP budget, scored by proxy training.

`run_search(SearchOptions(...))` runs Ray Tune trials (on local Ray or an existing cluster) or
KerasTuner trials, resumably, and writes a run folder of self-describing trial records. The
driver (pandas, matplotlib, Ray) loads on first use, so reading options stays cheap.
"""
from __future__ import annotations

import importlib
from typing import Any

from .options import SearchOptions, TrialResources

__all__ = ["run_search", "plan_search", "SearchOptions", "TrialResources"]


def __getattr__(name: str) -> Any:
    if name in ("run_search", "plan_search"):
        return getattr(importlib.import_module(".driver", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
