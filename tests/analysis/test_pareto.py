"""Pareto fronts over any objectives."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import pareto_front


def test_pareto_front_two_objectives_with_ties_and_nan():
    table = pd.DataFrame({
        "top1": [0.50, 0.60, 0.60, 0.55, np.nan, 0.70, 0.40, 0.70],
        "gflops": [1.0, 2.0, 2.0, 2.0, 0.1, 5.0, 1.0, np.nan],
    })
    front = pareto_front(table, {"top1": "max", "gflops": "min"})
    # 0 cheapest at 0.5; 1 and 2 tie exactly (both stay); 3 is dominated by 1; 4 and 7 have NaN
    # (never on the front, and 4's low cost dominates nothing); 5 most accurate; 6 dominated by 0.
    assert front.tolist() == [True, True, True, False, False, True, False, False]
    assert front.index.equals(table.index)


def test_pareto_front_three_objectives():
    table = pd.DataFrame({"top1": [0.6, 0.6, 0.5, 0.6], "gflops": [1.0, 1.0, 0.5, 1.0],
                          "params": [10, 12, 20, 10]}, index=[10, 11, 12, 13])
    front = pareto_front(table, {"top1": "max", "gflops": "min", "params": "min"})
    # 11 is beaten by 10 on params alone; 12 is cheapest in GFLOPs; 10 and 13 tie.
    assert front.to_dict() == {10: True, 11: False, 12: True, 13: True}


def test_pareto_front_rejects_unknown_direction_and_handles_empty():
    with pytest.raises(ValueError, match="direction must be 'max' or 'min'"):
        pareto_front(pd.DataFrame({"top1": [1.0]}), {"top1": "up"})
    assert pareto_front(pd.DataFrame({"top1": [], "gflops": []})).empty
