"""Hypervolume of Pareto fronts on fixed, normalised axes, so that runs and algorithms compare.

Each objective is mapped to [0, 1] to be minimised: accuracy as error (1 - top-1), costs
(GFLOPs, parameters, predicted latency) as log10 between fixed bounds. The reference point is (1, ..., 1) for
every run; a point beyond the bounds is clipped to them (it adds nothing). The hypervolume is
the share of the unit box the front dominates: larger is better, 1 is unreachable. Computed
exactly by slicing (HSO), which is fast for the fronts of a search (tens of points).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from .pareto import ACCURACY_VS_COST, pareto_front

__all__ = ["Bounds", "normalise", "hypervolume", "hypervolume_curve", "edf"]


@dataclass(frozen=True)
class Bounds:
    """log10 bounds of each cost axis (the same for every run compared)."""

    costs: dict = field(default_factory=lambda: {"gflops": (1e-3, 1e2), "params": (1e4, 1e8),
                                                  "latency_ms": (1e-1, 1e4)})


def normalise(table: pd.DataFrame, objectives: Mapping[str, str] = ACCURACY_VS_COST,
              bounds: Bounds = Bounds()) -> np.ndarray:
    """[n, objectives] in [0, 1], all to minimise."""
    columns = []
    for name, direction in objectives.items():
        values = table[name].to_numpy(float)
        if name in bounds.costs:
            low, high = (math.log10(v) for v in bounds.costs[name])
            values = (np.log10(np.maximum(values, 1e-30)) - low) / (high - low)
        if direction == "max":
            values = 1.0 - values
        columns.append(np.clip(values, 0.0, 1.0))
    return np.stack(columns, axis=1) if columns else np.zeros((len(table), 0))


def _volume(points: np.ndarray) -> float:
    """Volume dominated by `points` (to minimise) up to the reference (1, ..., 1)."""
    if len(points) == 0:
        return 0.0
    if points.shape[1] == 1:
        return float(1.0 - points[:, 0].min())
    order = points[np.argsort(points[:, 0])]
    total = 0.0
    for i in range(len(order)):
        upper = order[i + 1, 0] if i + 1 < len(order) else 1.0
        if upper > order[i, 0]:
            total += (upper - order[i, 0]) * _volume(order[: i + 1, 1:])
    return total


def hypervolume(front: pd.DataFrame, bounds: Bounds = Bounds(),
                objectives: Mapping[str, str] = ACCURACY_VS_COST) -> float:
    """Share of the normalised objective box dominated by the rows of `front` (NaN rows ignored)."""
    points = normalise(front, objectives, bounds)
    return _volume(points[~np.isnan(points).any(axis=1)])


def hypervolume_curve(trials: pd.DataFrame, bounds: Bounds = Bounds(),
                      objectives: Mapping[str, str] = ACCURACY_VS_COST) -> pd.Series:
    """Hypervolume of the finished trials' front after each completed trial, in completion order."""
    ordered = trials.sort_values("finished_at", kind="stable") if "finished_at" in trials else trials
    ordered = ordered.reset_index(drop=True)
    values = []
    for k in range(1, len(ordered) + 1):
        done = ordered.iloc[:k]
        done = done[done["status"] == "ok"]
        values.append(hypervolume(done[pareto_front(done, objectives)], bounds, objectives) if len(done) else 0.0)
    return pd.Series(values, index=pd.RangeIndex(1, len(ordered) + 1, name="completed trials"), name="hypervolume")


def edf(errors) -> tuple[np.ndarray, np.ndarray]:
    """Empirical distribution function of errors: sorted errors, and the share at or below each."""
    values = np.sort(np.asarray(errors, float)[~np.isnan(np.asarray(errors, float))])
    return values, np.arange(1, len(values) + 1) / max(len(values), 1)
