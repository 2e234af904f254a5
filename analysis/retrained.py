"""A front you can quote: trial records joined with fresh-seed re-trainings of their architectures.

One proxy training ranks another seed's only loosely (docs/fidelity.md), and the trials that
reach a front are the ones whose seed was lucky. `rerank` trains the best architectures again
with fresh seeds; this module turns those re-trainings into columns of the trial records:
every seed's top-1 (`top1_seeds`, JSON), their mean, standard deviation and a Student-t interval
of the mean (`top1_mean`, `top1_sd`, `top1_low`, `top1_high`, `top1_n`). The trial's own score
is left out of the mean: it is the score that got the architecture picked, so it is biased up.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["RETRAINED_COLUMNS", "CONFIDENCE", "with_retrainings"]

CONFIDENCE = 0.9  # of the interval of a re-ranked architecture's mean top-1
RETRAINED_COLUMNS = ("top1_seeds", "top1_n", "top1_mean", "top1_sd", "top1_low", "top1_high")


def _summary(scores: pd.Series, confidence: float) -> dict:
    values = scores.to_numpy(float)
    n, mean = len(values), float(values.mean())
    sd = float(values.std(ddof=1)) if n > 1 else np.nan
    low, high = (stats.t.interval(confidence, n - 1, loc=mean, scale=sd / np.sqrt(n)) if n > 1 and sd > 0
                 else (mean, mean) if n > 1 else (np.nan, np.nan))
    return {"top1_seeds": json.dumps([float(v) for v in values]), "top1_n": n, "top1_mean": mean,
            "top1_sd": sd, "top1_low": float(low), "top1_high": float(high)}


def with_retrainings(table: pd.DataFrame, retrainings: pd.DataFrame,
                     confidence: float = CONFIDENCE) -> pd.DataFrame:
    """`table` (trial records) with the `RETRAINED_COLUMNS` of each architecture's finished
    re-trainings (`retrainings`: one row per training, `trial_id` of the trial it re-trains,
    `arch_id`, `seed`, `status`, `top1`), on that one trial: another trial of the same
    architecture stays a single training, so a front never holds an architecture twice. NaN for
    trials never re-trained; columns from an earlier call are replaced."""
    table = table.drop(columns=[c for c in RETRAINED_COLUMNS if c in table])
    finished = retrainings[retrainings["status"] == "ok"].sort_values(["arch_id", "seed"])
    if finished.empty:
        return table.assign(**{c: np.nan for c in RETRAINED_COLUMNS})
    summary = pd.DataFrame([{"trial_id": part["trial_id"].iloc[0], **_summary(part["top1"], confidence)}
                            for _, part in finished.groupby("arch_id")])
    return table.merge(summary, on="trial_id", how="left")
