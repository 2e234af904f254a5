"""Proxy fidelity statistics: rank correlations with intervals on known rankings, noise ceilings, the figure."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.fidelity_stats import (
    advantage,
    fidelity_report,
    per_architecture,
    rank_correlation,
    seed_agreement,
    take_off_epoch,
    top_k_overlap,
)

RESAMPLES = 300  # the reports' ~35 intervals: coarser than the default 2000, 7x quicker


def test_rank_correlations_on_known_rankings():
    x = [1, 2, 3, 4, 5, 6, 7, 8]
    assert rank_correlation(x, x).value == pytest.approx(1.0)
    assert rank_correlation(x, x[::-1]).value == pytest.approx(-1.0)
    swapped = [1, 3, 2, 4, 5, 6, 8, 7]  # two adjacent swaps: 26 concordant, 2 discordant pairs of 28
    tau = rank_correlation(x, swapped)
    assert tau.value == pytest.approx(24 / 28) and tau.n == 8
    assert -1 <= tau.low <= tau.value <= tau.high <= 1
    assert rank_correlation(x, swapped) == tau  # the bootstrap is seeded
    assert rank_correlation(x, swapped, "spearman").value == pytest.approx(1 - 6 * 4 / (8 * 63))
    ties = [1, 1, 2, 3, 3, 4, 5, 6]
    assert rank_correlation(ties, x).value == pytest.approx(stats.kendalltau(ties, x).statistic)  # tau-b
    assert np.isnan(rank_correlation([1, 2], [2, 1]).value)  # too few items to rank
    assert top_k_overlap([5, 4, 3, 2, 1], [5, 3, 4, 1, 2], k=2) == 0.5


def test_interval_narrows_with_more_architectures():
    rng = np.random.default_rng(0)
    def width(n):
        truth = rng.normal(size=n)
        tau = rank_correlation(truth, truth + rng.normal(0, 0.5, n))
        return tau.high - tau.low
    assert width(60) < width(12)


def _trainings(noise: float, n: int = 12, epochs: int = 4, seeds: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for a in range(n):
        quality = a / n
        for kind, spread in (("proxy", noise), ("reference", 0.02)):
            for seed in range(1, seeds + 1):
                curve = [quality * (e + 1) / epochs + rng.normal(0, spread) for e in range(epochs)]
                rows.append({"arch_id": f"arch{a}", "gflops": rng.uniform(0.01, 0.1), "params": 1000 + a,
                             "kind": kind, "seed": seed, "top1": curve[-1], "curve": curve})
    return pd.DataFrame(rows)


def test_fidelity_report_separates_a_good_proxy_from_noise():
    good, noise = (fidelity_report(_trainings(0.02), resamples=RESAMPLES),
                   fidelity_report(_trainings(1.0), resamples=RESAMPLES))
    assert good["proxy_vs_reference_kendall"]["value"] > 0.8 > noise["proxy_vs_reference_kendall"]["value"]
    assert good["proxy_seed_vs_seed_kendall"]["value"] > 0.8 > noise["proxy_seed_vs_seed_kendall"]["value"]
    # parameters grow with quality by construction; GFLOPs are random
    assert good["params_vs_reference_kendall"]["value"] > 0.9 and good["architectures"] == 12
    assert abs(good["gflops_vs_reference_kendall"]["value"]) < 0.5
    assert [e["epoch"] for e in good["epoch_vs_last_kendall"]] == [1, 2, 3, 4]
    assert good["epoch_vs_last_kendall"][-1]["tau"]["value"] == pytest.approx(1.0)
    assert sum(b["tau"]["n"] for b in good["within_gflops_bins_kendall"]) == 12
    assert good["top_k_overlap"]["k"] == 3
    # The margin over GFLOPs is the proxy's tau minus GFLOPs' tau: clearly above 0 for the good proxy.
    margin = good["proxy_minus_gflops_kendall"]
    assert margin["value"] == pytest.approx(good["proxy_vs_reference_kendall"]["value"]
                                            - good["gflops_vs_reference_kendall"]["value"])
    assert margin["low"] > 0 and noise["proxy_minus_gflops_kendall"]["value"] < margin["value"]


def test_advantage_is_paired_and_zero_against_itself():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=20)
    same = advantage(truth, truth, truth + rng.normal(0, 0.3, 20))
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)  # paired: every resample cancels
    better = advantage(truth + rng.normal(0, 0.1, 20), rng.normal(size=20), truth)
    assert better.low > 0 and better.method == "kendall difference"


def test_averaging_seeds_raises_the_noise_ceiling():
    """Halves of 6 seeds: the mean of 3 noisy trainings ranks like another 3 far better than one
    training ranks like another (averaged over all 15 pairs)."""
    table = per_architecture(_trainings(0.3, n=30, seeds=6))
    seeds = table[[f"proxy_seed{s}" for s in range(1, 7)]]
    one, halves = seed_agreement(seeds, resamples=RESAMPLES), seed_agreement(seeds, halves=True, resamples=RESAMPLES)
    assert one.low < one.value < one.high and one.value + 0.15 < halves.value < 0.99


def test_report_names_how_many_seeds_each_agreement_averages():
    report = fidelity_report(_trainings(0.3, epochs=2, seeds=4), resamples=RESAMPLES)
    one, halves = report["proxy_seed_vs_seed_kendall"], report["proxy_half_vs_half_kendall"]
    assert (one["seeds"], one["seeds_averaged"], halves["seeds"], halves["seeds_averaged"]) == (4, 1, 4, 2)
    singles = report["proxy_one_seed_vs_reference_kendall"]
    assert [s["seed"] for s in singles] == [1, 2, 3, 4]
    assert np.mean([s["value"] for s in singles]) < report["proxy_vs_reference_kendall"]["value"]
    three = fidelity_report(_trainings(0.3, n=8, epochs=1, seeds=3), resamples=RESAMPLES)
    assert three["proxy_half_vs_half_kendall"] is None and three["proxy_seed_vs_seed_kendall"]["seeds"] == 3


def test_seed_agreement_averages_every_pair_of_seeds():
    x = np.arange(10.0)
    seeds = np.column_stack([x, x, x[::-1]])  # pairs: +1, -1, -1
    assert seed_agreement(seeds, resamples=RESAMPLES).value == pytest.approx(-1 / 3)
    assert seed_agreement(seeds[:, :2], resamples=RESAMPLES).value == pytest.approx(rank_correlation(x, x).value)
    # halves {0,1} v {2,3}: 3x v 1x (+1); {0,2} v {1,3}: 7x v -3x (-1); {0,3} v {1,2}: 2x v 2x (+1)
    halves = np.column_stack([4 * x, -x, 3 * x, -2 * x])
    assert seed_agreement(halves, halves=True, resamples=RESAMPLES).value == pytest.approx(1 / 3)


def test_the_runs_own_scores_are_not_counted_as_trainings():
    rows = [{"arch_id": a, "kind": kind, "seed": seed, "top1": 0.1 * i + 0.01 * seed, "gflops": 0.01 * i,
             "params": 1000 * i, "curve": [0.1]}
            for i, a in enumerate("abc") for kind, seed in (("proxy", 1), ("proxy", 2), ("run", 0))]
    report = fidelity_report(pd.DataFrame(rows), resamples=RESAMPLES)
    assert (report["architectures"], report["trainings"]) == (3, 6)  # 3 x 2 proxy seeds; the run's 3 scores aside


def test_proxy_only_figure_names_its_seeds_and_draws_no_promised_bars():
    from analysis.plots import plot_fidelity

    rows = [{"arch_id": a, "kind": "proxy", "seed": seed, "top1": 0.1 * i + 0.05 * seed}
            for i, a in enumerate("abcd") for seed in (1, 2)]
    axes = plot_fidelity(pd.DataFrame(rows)).axes[0]
    assert axes.get_ylabel() == "proxy rank, seed 2" and "seed 1" in axes.get_xlabel()
    assert not any("bars" in text.get_text() for text in axes.get_legend().get_texts())
    rows += [{"arch_id": a, "kind": "proxy", "seed": 3, "top1": 0.1 * i} for i, a in enumerate("abcd")]
    axes = plot_fidelity(pd.DataFrame(rows)).axes[0]
    assert axes.get_ylabel() == "proxy rank, mean of seeds 2, 3"
    assert any("bars" in text.get_text() for text in axes.get_legend().get_texts())


def test_the_summary_names_each_ranking_and_leaves_out_what_was_not_measured():
    from analysis.fidelity_stats import summary_lines

    rows = [{"arch_id": a, "kind": kind, "seed": seed, "top1": 0.1 * i + 0.02 * seed * (i % 2), "gflops": 0.01 * (5 - i),
             "params": 1000 * i, "curve": [0.05, 0.1 * i]}
            for i, a in enumerate("abcde") for kind, seed in (("proxy", 1), ("proxy", 2), ("reference", 1))]
    lines = summary_lines(fidelity_report(pd.DataFrame(rows), resamples=RESAMPLES))
    assert lines[0] == "5 architectures, 15 trainings; Kendall tau (90% interval):"
    text = "\n".join(lines)
    assert "proxy vs reference      +1.00" in text and "GFLOPs vs reference     -1.00" in text
    assert "reference seed vs seed  n/a" in text and "nan" not in text and "seed means" not in text


def test_take_off_is_when_a_curve_made_half_its_rise_and_seeds_are_compared_by_it():
    assert take_off_epoch([0.07, 0.07, 0.08, 0.40, 0.60, 0.67]) == 4  # half of the rise 0.07 -> 0.67 is 0.37
    assert take_off_epoch([0.2, 0.5, 0.8]) == 2 and take_off_epoch([0.07, 0.06, 0.07]) is None
    rows = [{"arch_id": a, "kind": "proxy", "seed": seed, "top1": curve[-1], "gflops": 0.01 * i, "params": i,
             "curve": curve}
            for i, a in enumerate("abc")
            for seed, curve in ((1, [0.1] * (2 + i) + [0.6] * (8 - i)), (2, [0.1] * (5 + i) + [0.6] * (5 - i)))]
    report = fidelity_report(pd.DataFrame(rows), resamples=RESAMPLES)["take_off_epoch"]
    assert report == {"proxy": {"trainings": 6, "mean": 5.5, "min": 3, "max": 8, "seed_difference": 3.0}}
