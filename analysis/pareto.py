"""Pareto fronts over any objectives, each maximised or minimised."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

__all__ = ["pareto_front", "front_ranks", "ACCURACY_VS_COST", "cost_column", "score_column", "front_objectives",
           "COST_LABELS"]

ACCURACY_VS_COST = {"top1": "max", "gflops": "min"}

# Records give each network's cost at the input it is meant for: the search's input, or in a
# --target search the family member's published input; latency as the search's table predicts it.
COST_LABELS = {"gflops": "GFLOPs per clip (at the network's input: the member's in a --target search)",
               "latency_ms": "predicted latency, ms per call (the search's latency table)"}


def cost_column(table: pd.DataFrame) -> str:
    """The cost a run's front is on: `latency_ms` where a latency search predicted it for every
    trial, else `gflops`."""
    latency = table.get("latency_ms")
    return "latency_ms" if latency is not None and len(table) and latency.notna().all() else "gflops"


def score_column(table: pd.DataFrame) -> str:
    """The accuracy a run's front is on: `top1_mean`, the mean over fresh seeds of each
    re-ranked architecture, where the run was re-ranked (`rerank`), else each trial's own top-1."""
    mean = table.get("top1_mean")
    return "top1_mean" if mean is not None and mean.notna().any() else "top1"


def front_objectives(table: pd.DataFrame) -> dict[str, str]:
    """What a run's front and its hypervolume weigh: its accuracy (`score_column`) against its
    cost (`cost_column`)."""
    return {score_column(table): "max", cost_column(table): "min"}


def pareto_front(table: pd.DataFrame, objectives: Mapping[str, str] = ACCURACY_VS_COST) -> pd.Series:
    """True for the rows no other row dominates.

    A row dominates another if it is at least as good in every objective and strictly better in
    one. Rows with a NaN objective are never on the front and dominate nothing; rows that tie in
    every objective do not dominate each other, so both stay on the front.
    """
    for name, direction in objectives.items():
        if direction not in ("max", "min"):
            raise ValueError(f"objective {name}: direction must be 'max' or 'min', got {direction!r}")
    # Turn every objective into one to maximise.
    values = np.stack([table[name].to_numpy(float) * (1.0 if direction == "max" else -1.0)
                       for name, direction in objectives.items()], axis=1) if len(table) else np.zeros((0, 1))
    valid = ~np.isnan(values).any(axis=1)
    front = np.zeros(len(table), bool)
    candidates = values[valid]
    for i in np.flatnonzero(valid):
        at_least = (candidates >= values[i]).all(axis=1)
        better = (candidates > values[i]).any(axis=1)
        front[i] = not (at_least & better).any()
    return pd.Series(front, index=table.index, name="pareto")


def front_ranks(table: pd.DataFrame, objectives: Mapping[str, str] = ACCURACY_VS_COST) -> pd.Series:
    """Non-dominated sorting (as NSGA-II ranks a population): 1 for the Pareto front, 2 for the
    front of the rows left once it is removed, and so on; NaN for rows with a NaN objective."""
    ranks = pd.Series(np.nan, index=table.index, name="front_rank")
    left = table[table[list(objectives)].notna().all(axis=1)]
    level = 1
    while len(left):
        front = pareto_front(left, objectives)
        ranks[front.index[front]] = level
        left, level = left[~front], level + 1
    return ranks
