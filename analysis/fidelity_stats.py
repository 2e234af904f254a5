"""Does a cheap proxy rank architectures as a longer training does? Rank statistics from records.

Input: one row per training of an architecture (`arch_id`, `gflops`, `params`, `kind` =
'proxy' or 'reference', `seed`, final `top1`, per-epoch `curve`; any further column is a
training-free score of the architecture, such as a zero-cost proxy's). Output: the numbers NAS
papers report for proxy fidelity (EcoNAS, NAS-Bench): Kendall tau-b and Spearman of the proxy
ranking against the reference ranking, with bootstrap intervals (scipy); the same for ranking
by GFLOPs, parameters or any other training-free score alone, which a proxy must beat to be
worth its cost, and the proxy's margin over each with a paired interval; tau within GFLOPs
bins (does the proxy rank architectures of similar cost?); top-k overlap; the noise ceiling
(tau between two seeds of the proxy, and of the reference, averaged over every pair of seeds),
and with four or more seeds the tau between the means of two halves of them (what a proxy
averaging that many replicas per trial would reach, measured before paying for it); each
single proxy seed against the reference (what one training reaches, where the proxy mean over
many seeds flatters); tau between an early epoch and the last, which is what ASHA's grace
period should be chosen from; and when each training took off (`take_off_epoch`): a proxy whose
curves wait at chance for a number of epochs that depends on the seed ranks by that wait, and
how far seeds of one architecture differ in it says how much.
"""
from __future__ import annotations

import functools
import itertools
import math
import warnings
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["TRAINING_COLUMNS", "Correlation", "rank_correlation", "advantage", "seed_agreement", "top_k_overlap",
           "per_architecture", "take_off_epoch", "fidelity_report", "summary_lines"]

# What a training row holds; every other column of the input is a score of its architecture.
TRAINING_COLUMNS = ("arch_id", "kind", "seed", "setting", "status", "top1", "curve")

_STATISTICS: dict[str, Callable] = {
    "kendall": lambda x, y: stats.kendalltau(x, y).statistic,  # tau-b: ties in either ranking count
    "spearman": lambda x, y: stats.spearmanr(x, y).statistic,
    "weighted": lambda x, y: stats.weightedtau(x, y).statistic,  # the top of the ranking weighs more
}


@dataclass(frozen=True)
class Correlation:
    """A rank correlation and its bootstrap interval over architectures."""

    method: str
    value: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.value:+.2f} [{self.low:+.2f}, {self.high:+.2f}]"

    def to_dict(self) -> dict:
        return asdict(self)


def rank_correlation(x, y, method: str = "kendall", confidence: float = 0.9, resamples: int = 2000,
                     seed: int = 0) -> Correlation:
    """`method` ('kendall' tau-b, 'spearman', 'weighted' tau) of x against y, with a paired
    percentile bootstrap interval over the items (scipy.stats.bootstrap)."""
    return _bootstrapped(np.column_stack([np.asarray(x, float), np.asarray(y, float)]), _STATISTICS[method], method,
                         confidence, resamples, seed)


def advantage(score, baseline, reference, method: str = "kendall", confidence: float = 0.9, resamples: int = 2000,
              seed: int = 0) -> Correlation:
    """How much better `score` ranks `reference` than `baseline` does: the difference of their
    `method` correlations with the reference, with a paired bootstrap interval (the same
    resampled architectures for both). Two separate intervals overlap long before a difference
    is in doubt; an interval of the difference above 0 is what "clearly above" means."""
    correlation = _STATISTICS[method]
    return _bootstrapped(np.column_stack([np.asarray(v, float) for v in (score, baseline, reference)]),
                         lambda s, b, r: correlation(s, r) - correlation(b, r), f"{method} difference",
                         confidence, resamples, seed)


def seed_agreement(seeds, method: str = "kendall", halves: bool = False, confidence: float = 0.9,
                   resamples: int = 2000, seed: int = 0) -> Correlation:
    """How alike independent trainings rank: `method` between every pair of seed columns of
    `seeds` (items x seeds), averaged, with a paired bootstrap interval over the items.

    One pair of seeds is a single draw of a noisy number: on 16 architectures of the default
    proxy, the 6 pairs of 4 seeds gave Kendall tau from +0.09 to +0.57. With `halves`, splits of
    the seeds into two equal halves (all of them, or 10 spread over them; an odd seed is left
    out) compare the halves' mean scores instead: the noise ceiling of a proxy averaging that
    many of these trainings per trial. Items with a failed training (NaN) are left out.
    """
    matrix = np.asarray(seeds, float)
    if halves:
        k = matrix.shape[1] // 2
        matrix = matrix[:, :2 * k]  # an odd seed out: both halves average the same number
        splits = [(list(a), [c for c in range(2 * k) if c not in a]) for a in itertools.combinations(range(2 * k), k)
                  if 0 in a]
        pairs = splits[::max(1, len(splits) // 10)][:10]  # spread over the splits, not the first ten
    else:
        pairs = [([a], [b]) for a, b in itertools.combinations(range(matrix.shape[1]), 2)]
    correlation = _STATISTICS[method]

    def statistic(*cols):
        table = np.column_stack(cols)
        values = np.array([correlation(table[:, a].mean(axis=1), table[:, b].mean(axis=1)) for a, b in pairs])
        return float(np.nanmean(values)) if np.isfinite(values).any() else math.nan  # a resample of ties

    return _bootstrapped(matrix, statistic, method, confidence, resamples, seed)


def _bootstrapped(matrix: np.ndarray, statistic: Callable, method: str, confidence: float, resamples: int,
                  seed: int) -> Correlation:
    """statistic(*columns) over the complete rows of `matrix`, with a paired percentile
    bootstrap interval over the rows (scipy.stats.bootstrap); NaN where too few rows."""
    matrix = matrix[~np.isnan(matrix).any(axis=1)]
    columns = tuple(matrix.T)
    value = float(statistic(*columns)) if len(matrix) > 2 and len(columns) >= 2 else math.nan
    low = high = math.nan
    if len(matrix) >= 5 and len(columns) >= 2 and all(np.ptp(c) > 0 for c in columns):
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)  # resamples of tied values
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of a resample where every tau is NaN
            result = stats.bootstrap(columns, statistic, paired=True, vectorized=False, n_resamples=resamples,
                                     confidence_level=confidence, method="percentile", rng=np.random.default_rng(seed))
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    return Correlation(method, value, low, high, len(matrix))


def top_k_overlap(score, reference, k: int) -> float:
    """Share of the reference's k best that are also among the score's k best."""
    best = set(np.argsort(-np.asarray(score, float))[:k])
    return len(best & set(np.argsort(-np.asarray(reference, float))[:k])) / k


def per_architecture(trainings: pd.DataFrame) -> pd.DataFrame:
    """One row per architecture: cost, each seed's top-1 per kind, and the mean per kind."""
    wide = trainings.pivot_table(index="arch_id", columns=["kind", "seed"], values="top1", aggfunc="first")
    wide.columns = [f"{kind}_seed{seed}" for kind, seed in wide.columns]
    info = trainings.groupby("arch_id")[_free_scores(trainings)].first()
    table = info.join(wide)
    for kind in ("proxy", "reference"):
        columns = [c for c in table if c.startswith(f"{kind}_seed")]
        table[f"{kind}_mean"] = table[columns].mean(axis=1) if columns else math.nan
    return table.reset_index().sort_values("gflops").reset_index(drop=True)


def _free_scores(trainings: pd.DataFrame) -> list[str]:
    """The training-free scores of the architectures (GFLOPs and params first)."""
    return [c for c in trainings if c not in TRAINING_COLUMNS]


def _seed_columns(table: pd.DataFrame, kind: str) -> list[str]:
    return sorted((c for c in table if c.startswith(f"{kind}_seed")), key=lambda c: int(c[len(kind) + 5:]))


def _agreement(table: pd.DataFrame, kind: str, halves: bool, resamples: int) -> dict | None:
    """`seed_agreement` of a kind's seeds: pairs of single seeds (two or more seeds), or halves
    of them (four or more); None when there are too few."""
    columns = _seed_columns(table, kind)
    if len(columns) < (4 if halves else 2):
        return None
    return {"seeds": len(columns), "seeds_averaged": len(columns) // 2 if halves else 1,
            **seed_agreement(table[columns], halves=halves, resamples=resamples).to_dict()}


def _epoch_taus(trainings: pd.DataFrame, resamples: int) -> list[dict]:
    """Kendall tau between the proxy ranking after each epoch (mean over seeds) and after the last."""
    proxy = trainings[trainings["kind"] == "proxy"]
    curves = proxy.groupby("arch_id")["curve"].apply(lambda c: np.nanmean(np.stack([np.asarray(v, float)
                                                                                      for v in c]), axis=0))
    if curves.empty:
        return []
    matrix = np.stack(curves.to_numpy())
    return [{"epoch": e + 1, "tau": rank_correlation(matrix[:, e], matrix[:, -1], resamples=resamples).to_dict()}
            for e in range(matrix.shape[1])]


def take_off_epoch(curve) -> int | None:
    """The first epoch (from 1) at which a top-1 curve has made half of its rise, from its first
    epoch to its best: when the training left its plateau. None for a curve that never rose."""
    curve = np.asarray(curve, float)
    if curve.size < 2 or not np.isfinite(curve).all() or curve.max() <= curve[0]:
        return None
    return int(np.argmax(curve >= curve[0] + 0.5 * (curve.max() - curve[0]))) + 1


def _take_off(trainings: pd.DataFrame) -> dict:
    """Per kind: the spread of take-off epochs over its trainings, and how far two seeds of one
    architecture differ in it (mean over architectures of the mean over pairs of seeds)."""
    result = {}
    for kind, part in trainings[trainings["kind"].isin(["proxy", "reference"])].groupby("kind"):
        epochs = part.assign(epoch=[take_off_epoch(c) for c in part["curve"]]).dropna(subset=["epoch"])
        if epochs.empty:
            continue
        pairs = [abs(a - b) for _, arch in epochs.groupby("arch_id")
                 for a, b in itertools.combinations(arch["epoch"], 2)]
        result[kind] = {"trainings": len(epochs), "mean": float(epochs["epoch"].mean()),
                        "min": int(epochs["epoch"].min()), "max": int(epochs["epoch"].max()),
                        "seed_difference": float(np.mean(pairs)) if pairs else None}
    return result


def fidelity_report(trainings: pd.DataFrame, bins: int = 3, resamples: int = 2000) -> dict:
    """All fidelity statistics of a table of trainings (see the module docstring); every interval
    is a bootstrap of `resamples` resamples (about 35 of them for 16 epochs: fewer is quicker
    and coarser)."""
    table = per_architecture(trainings)
    correlate = functools.partial(rank_correlation, resamples=resamples)
    proxy, reference = table["proxy_mean"], table["reference_mean"]
    n = len(table)
    # The run's own scores (kind 'run') came with the search: only proxy and reference rows are trainings.
    report: dict = {"architectures": n, "trainings": int(trainings["kind"].isin(["proxy", "reference"]).sum())}
    for method in ("kendall", "spearman", "weighted"):
        report[f"proxy_vs_reference_{method}"] = correlate(proxy, reference, method).to_dict()
    for baseline in _free_scores(trainings):
        report[f"{baseline}_vs_reference_kendall"] = correlate(table[baseline], reference).to_dict()
        report[f"proxy_minus_{baseline}_kendall"] = advantage(proxy, table[baseline], reference,
                                                              resamples=resamples).to_dict()
        if baseline not in ("gflops", "params"):  # a score meant to stand in for training: also its Spearman
            report[f"{baseline}_vs_reference_spearman"] = correlate(table[baseline], reference, "spearman").to_dict()
            report[f"{baseline}_vs_proxy_kendall"] = correlate(table[baseline], proxy).to_dict()
    if "run_seed0" in table:  # the search's own scores (early-stopped trials at their last epoch)
        report["run_vs_reference_kendall"] = correlate(table["run_seed0"], reference).to_dict()
    groups = pd.qcut(table["gflops"].rank(method="first"), min(bins, max(1, n // 3)), labels=False)
    report["within_gflops_bins_kendall"] = [
        {"gflops_from": float(part["gflops"].min()), "gflops_to": float(part["gflops"].max()),
         "tau": correlate(part["proxy_mean"], part["reference_mean"]).to_dict()}
        for _, part in table.groupby(groups)]
    k = max(1, n // 4)
    report["top_k_overlap"] = {"k": k, "proxy": top_k_overlap(proxy, reference, k),
                               "gflops": top_k_overlap(table["gflops"], reference, k)}
    report["proxy_one_seed_vs_reference_kendall"] = [
        {"seed": int(c[len("proxy_seed"):]), **correlate(table[c], reference).to_dict()}
        for c in _seed_columns(table, "proxy")]
    for kind in ("proxy", "reference"):
        report[f"{kind}_seed_vs_seed_kendall"] = _agreement(table, kind, halves=False, resamples=resamples)
        report[f"{kind}_half_vs_half_kendall"] = _agreement(table, kind, halves=True, resamples=resamples)
    report["epoch_vs_last_kendall"] = _epoch_taus(trainings, resamples)
    report["take_off_epoch"] = _take_off(trainings)
    return report


# The console summary, row by row: (label, the report's entry, what it means). One table, so
# that a new statistic is a new row and the report's keys are named in one place.
_SUMMARY_ROWS = (
    ("proxy vs reference", "proxy_vs_reference_kendall", "the proxy's mean over its seeds"),
    ("GFLOPs vs reference", "gflops_vs_reference_kendall", ""),
    ("params vs reference", "params_vs_reference_kendall", ""),
    ("proxy minus GFLOPs", "proxy_minus_gflops_kendall", "paired: above 0 is clearly better"),
    ("run's own vs reference", "run_vs_reference_kendall", "the search's own scores"),
    ("proxy seed vs seed", "proxy_seed_vs_seed_kendall", "noise ceiling"),
    ("reference seed vs seed", "reference_seed_vs_seed_kendall", ""),
    ("proxy k-seed means", "proxy_half_vs_half_kendall", "seed vs seed when a trial averages k trainings"),
)


def _known(value) -> bool:
    """A statistic that was computed: not None (as JSON has it) and not NaN (too few items)."""
    return value is not None and value == value


def _tau(entry: dict | None) -> str:
    if not entry or not _known(entry.get("value")):
        return "n/a"
    interval = f" [{entry['low']:+.2f}, {entry['high']:+.2f}]" if _known(entry.get("low")) else ""
    return f"{entry['value']:+.2f}{interval}"


def summary_lines(report: dict) -> list[str]:
    """A fidelity report (`fidelity_report`, or its JSON) as the lines the command prints:
    each ranking's Kendall tau with its 90% interval, then each proxy seed alone and each epoch
    against the last."""
    lines = [f"{report['architectures']} architectures, {report['trainings']} trainings; Kendall tau (90% interval):"]
    for label, key, note in _SUMMARY_ROWS:
        entry = report.get(key)
        if key.endswith("half_vs_half_kendall"):
            if not entry:
                continue
            label, note = label.replace("k", str(entry["seeds_averaged"]), 1), note.replace(
                "k ", f"{entry['seeds_averaged']} ")
        seeds = (entry or {}).get("seeds", 0)
        if "seed_vs_seed" in key and seeds > 2:
            note = f"{note}; mean over the {seeds * (seeds - 1) // 2} pairs of {seeds} seeds".lstrip("; ")
        lines.append(f"  {label:<24}{_tau(entry)}" + (f"   ({note})" if note else ""))
    for key in (k for k in report if k.endswith("_vs_proxy_kendall")):  # scores of no training of its own
        score = key.removesuffix("_vs_proxy_kendall")
        kind = "inherited weights" if score == "supernet" else "training-free"
        lines.append(f"  {score + ' vs reference':<24}{_tau(report[f'{score}_vs_reference_kendall'])}   "
                     f"({kind}; Spearman {_tau(report[f'{score}_vs_reference_spearman'])}; "
                     f"vs the proxy {_tau(report[key])})")
    singles = [f"{s['value']:+.2f}" for s in report.get("proxy_one_seed_vs_reference_kendall", [])
               if _known(s["value"])]
    lines.append(f"  {'one proxy seed vs ref.':<24}{'  '.join(singles) or 'n/a'}   (each seed)")
    epochs = [f"{e['epoch']}: {e['tau']['value']:+.2f}" for e in report.get("epoch_vs_last_kendall", [])
              if _known(e["tau"]["value"])]
    lines.append(f"  {'epoch vs last (proxy)':<24}{'  '.join(epochs)}")
    for kind, entry in report.get("take_off_epoch", {}).items():
        apart = entry["seed_difference"]
        lines.append(f"  {kind + ' take-off epoch':<24}{entry['min']}-{entry['max']} (mean {entry['mean']:.1f})"
                     + (f"; two seeds of one architecture {apart:.1f} epochs apart" if _known(apart) else ""))
    return lines
