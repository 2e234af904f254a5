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


def test_front_ranks_peel_fronts_in_order():
    from analysis.pareto import front_ranks

    table = pd.DataFrame({"top1": [0.9, 0.8, 0.7, 0.6, None], "gflops": [2.0, 1.0, 2.0, 3.0, 1.0]})
    # a and b trade off; c is dominated by both; d only by c's front and above; NaN is unranked
    assert front_ranks(table).tolist()[:4] == [1, 1, 2, 3] and pd.isna(front_ranks(table)[4])


def test_retrainings_give_mean_spread_and_a_t_interval():
    from analysis.retrained import with_retrainings

    table = pd.DataFrame({"trial_id": ["t0", "t1", "t2"], "arch_id": ["a", "b", "a"], "top1": [0.9, 0.5, 0.4]})
    retrainings = pd.DataFrame({"trial_id": ["t0"] * 4, "arch_id": ["a"] * 4, "seed": [1, 2, 3, 4],
                                "status": ["ok", "ok", "ok", "error"], "top1": [0.5, 0.6, 0.7, None]})
    out = with_retrainings(table, retrainings).set_index("trial_id")
    a = out.loc["t0"]
    assert (a["top1_n"], a["top1_mean"], a["top1_sd"]) == (3, pytest.approx(0.6), pytest.approx(0.1))
    half_width = 2.919986 * 0.1 / 3 ** 0.5  # Student t, 2 degrees of freedom, 90%
    assert (a["top1_low"], a["top1_high"]) == (pytest.approx(0.6 - half_width), pytest.approx(0.6 + half_width))
    assert a["top1_seeds"] == "[0.5, 0.6, 0.7]" and pd.isna(out.loc["t1", "top1_mean"])
    # Only the trial that was re-trained carries the mean: the front never holds its architecture twice.
    assert pd.isna(out.loc["t2", "top1_mean"])
    again = with_retrainings(out.reset_index(), retrainings.head(1))  # a second call replaces the columns
    assert again.set_index("trial_id").loc["t0", "top1_n"] == 1
    assert list(again.columns) == list(out.reset_index().columns)
