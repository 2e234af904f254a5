"""Scores read from a fidelity measurement's learning curves, each ranked seed against seed.

One proxy training's final top-1 reads partly *when* the network left chance (docs/fidelity.md),
and the seed picks that epoch. A score that looks at the curve rather than its last point might
read what the architecture decides (how high, how fast after take-off) and leave out what the
seed decides (when). This script takes the curves a `fidelity` run kept in `trainings.csv` and
ranks each score of one seed's training against another seed's (Kendall tau-b with a bootstrap
90% interval, the same statistic as `fidelity`), and against the reference where the folder
has one. No training: it reads what was measured.

    python bench/curve_scores.py runs/fresh12/kd runs/fresh12/plain
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.fidelity_stats import rank_correlation, seed_agreement, take_off_epoch  # noqa: E402

AFTER_TAKE_OFF = 4  # epochs after take-off at which `since_take_off` reads the curve


def _logistic(t, top, middle, width, bottom):
    return bottom + (top - bottom) / (1.0 + np.exp(-(t - middle) / width))


def fitted_ceiling(curve: np.ndarray) -> float:
    """The upper asymptote of a logistic fitted to the curve (scipy): where the training was
    heading, whichever epoch it took off at. Bounded to [first epoch, 1]."""
    epochs = np.arange(1, len(curve) + 1, dtype=float)
    start = [curve.max(), float(take_off_epoch(curve) or len(curve)), 1.5, curve[0]]
    low, high = [curve[0], 0.0, 0.3, 0.0], [1.0, 3.0 * len(curve), 8.0, max(curve[0], 1e-3) + 0.1]
    start = np.clip(start, np.add(low, 1e-6), np.subtract(high, 1e-6))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optimize.OptimizeWarning)
            params, _ = optimize.curve_fit(_logistic, epochs, curve, p0=start, bounds=(low, high), maxfev=20000)
    except RuntimeError:  # no fit: the curve's best is the honest fallback
        return float(curve.max())
    return float(params[0])


def since_take_off(curve: np.ndarray) -> float:
    """Top-1 a fixed number of epochs after the curve took off (its last epoch if that is sooner)."""
    epoch = take_off_epoch(curve)
    if epoch is None:
        return float(curve[-1])
    return float(curve[min(epoch - 1 + AFTER_TAKE_OFF, len(curve) - 1)])


def steepest_rise(curve: np.ndarray) -> float:
    """The largest gain over two epochs: how fast the network learns once it learns."""
    return float(np.max(curve[2:] - curve[:-2])) if len(curve) > 2 else math.nan


SCORES: dict[str, Callable[[np.ndarray], float]] = {
    "final": lambda c: float(c[-1]),
    "mean_last_3": lambda c: float(c[-3:].mean()),
    "best": lambda c: float(c.max()),
    "mean_all": lambda c: float(c.mean()),
    "since_take_off": since_take_off,
    "fitted_ceiling": fitted_ceiling,
    "steepest_rise": steepest_rise,
    "take_off_epoch (earlier ranks higher)": lambda c: -float(take_off_epoch(c) or len(c) + 1),
}


def score_table(trainings: pd.DataFrame) -> pd.DataFrame:
    """Each score of each training's curve: rows (arch_id, kind, seed), one column per score."""
    rows = []
    for row in trainings.itertuples():
        curve = np.asarray(json.loads(row.curve), float)
        if curve.size and np.isfinite(curve).all():
            rows.append({"arch_id": row.arch_id, "kind": row.kind, "seed": row.seed,
                         **{name: score(curve) for name, score in SCORES.items()}})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", help="fidelity output folders (each with trainings.csv)")
    args = parser.parse_args()
    for folder in args.folders:
        trainings = pd.read_csv(Path(folder) / "trainings.csv", dtype={"arch_id": str})
        scores = score_table(trainings)
        proxy = scores[scores["kind"] == "proxy"]
        reference = scores[scores["kind"] == "reference"].groupby("arch_id")["final"].mean()
        print(f"{folder}: {proxy['arch_id'].nunique()} architectures, seeds {sorted(proxy['seed'].unique())}")
        print(f"  {'score':<38} {'seed vs seed tau-b [90%]':<28} {'seeds mean vs reference':<24}")
        for name in SCORES:
            wide = proxy.pivot_table(index="arch_id", columns="seed", values=name)
            agreement = seed_agreement(wide.to_numpy()) if wide.shape[1] >= 2 else None
            against = (rank_correlation(wide.mean(axis=1).loc[reference.index], reference)
                       if len(reference) > 2 else None)
            text = f"{agreement.value:+.2f} [{agreement.low:+.2f}, {agreement.high:+.2f}]" if agreement else "-"
            versus = f"{against.value:+.2f} [{against.low:+.2f}, {against.high:+.2f}]" if against else "-"
            print(f"  {name:<38} {text:<28} {versus:<24}")


if __name__ == "__main__":
    main()
