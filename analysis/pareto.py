"""Pareto fronts of accuracy against cost."""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["pareto_front"]


def pareto_front(table: pd.DataFrame, cost: str = "gflops", quality: str = "top1") -> pd.Series:
    """True for rows no other row beats (lower or equal cost and higher or equal quality, one strictly)."""
    valid = table[cost].notna() & table[quality].notna()
    costs, qualities = table[cost].to_numpy(float), table[quality].to_numpy(float)
    front = np.zeros(len(table), bool)
    for i in np.flatnonzero(valid.to_numpy()):
        dominated = (valid.to_numpy() & (costs <= costs[i]) & (qualities >= qualities[i])
                     & ((costs < costs[i]) | (qualities > qualities[i])))
        front[i] = not dominated.any()
    return pd.Series(front, index=table.index, name="pareto")
