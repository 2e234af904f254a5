"""Pareto fronts over any objectives, each maximised or minimised."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

__all__ = ["pareto_front", "ACCURACY_VS_COST"]

ACCURACY_VS_COST = {"top1": "max", "gflops": "min"}


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
