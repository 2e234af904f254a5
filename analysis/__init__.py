"""Analysis of search runs from their records alone: tables, Pareto fronts, plots, exported specs.

Pure pandas / numpy / matplotlib over the run folder's files; no TensorFlow and no Ray, so a
finished run can be analysed anywhere. Names load on first use (PEP 562), so a command that
needs one figure (`scale` draws the family) does not import the report's modules.
"""
from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "pareto_front": ".pareto", "ACCURACY_VS_COST": ".pareto", "plot_pareto": ".plots", "load_run": ".records",
    "load_runs": ".records", "spec_of": ".records", "RunNotFoundError": ".records", "write_report": ".report",
    "export_configs": ".results", "write_results": ".results",
}

__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
