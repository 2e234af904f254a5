"""Figures of search results. Each function returns a matplotlib Figure (no pyplot, no global
backend), which the caller saves or embeds."""
from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["plot_pareto", "plot_fidelity", "plot_candidates"]


def plot_pareto(table: pd.DataFrame, title: str = "") -> Figure:
    """Accuracy vs GFLOPs (log x): finished trials, early-stopped ones at their last epoch, the front."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    done = table[table["status"] == "ok"]
    stopped = table[table["status"] == "stopped_early"]
    ax.scatter(done["gflops"], done["top1"], s=18, color="0.45", label="finished trials")
    if len(stopped):
        ax.scatter(stopped["gflops"], stopped["top1"], s=18, facecolors="none", edgecolors="0.6",
                   label="stopped early (last epoch)")
    best = table[table["pareto"]].sort_values("gflops")
    ax.plot(best["gflops"], best["top1"], "o-", color="tab:red", label="Pareto front")
    for _, row in best.iterrows():
        ax.annotate(str(row["trial_id"])[-5:], (row["gflops"], row["top1"]), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("GFLOPs per clip (search input shape)")
    ax.set_ylabel("proxy top-1")
    ax.set_title(title or f"{len(table)} trials, {len(done)} finished, {len(best)} on the front")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_fidelity(trainings: pd.DataFrame) -> Figure:
    """Proxy rank vs reference rank of each architecture (1 = best), with each seed's rank as a bar.

    Without reference trainings (`fidelity --proxy-only`) the first proxy seed stands on the
    x axis and the other seeds on the y axis (the noise ceiling); with one seed, the run's own score.
    """
    table = trainings[trainings["kind"].isin(["proxy", "reference", "run"])]
    wide = table.pivot_table(index="arch_id", columns=["kind", "seed"], values="top1")
    kinds = set(wide.columns.get_level_values(0))
    proxy = wide["proxy"].rank(ascending=False)  # per seed
    if "reference" in kinds:
        other, x_label = wide["reference"].rank(ascending=False), "reference rank (longer training, more data)"
    elif proxy.shape[1] >= 2:
        other, proxy = proxy.iloc[:, :1], proxy.iloc[:, 1:]
        x_label = f"proxy rank, seed {other.columns[0]} (no reference trained)"
    else:
        other, x_label = wide["run"].rank(ascending=False), "rank by the run's own score (no reference trained)"
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    x, y = other.mean(axis=1), proxy.mean(axis=1)
    ax.errorbar(x, y, fmt="o", color="tab:blue", ecolor="0.6", capsize=2,
                xerr=[x - other.min(axis=1), other.max(axis=1) - x], yerr=[y - proxy.min(axis=1), proxy.max(axis=1) - y],
                label="mean rank over seeds (bars: range of the seeds' ranks)")
    limit = len(wide) + 1
    ax.plot([0, limit], [0, limit], ":", color="0.5", label="perfect agreement")
    ax.set_xlim(0, limit)
    ax.set_ylim(0, limit)
    ax.set_xlabel(x_label)
    ax.set_ylabel("proxy rank")
    ax.set_title(f"proxy fidelity, {len(wide)} architectures")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_candidates(table: pd.DataFrame, title: str) -> Figure:
    """Top-1 of each trained candidate (scaling-rule fitting) against its GFLOPs, labelled."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    ax.scatter(table["gflops"], table["top1"], color="tab:blue")
    best = table["top1"].idxmax() if table["top1"].notna().any() else None
    for index, row in table.iterrows():
        ax.annotate(row["key"], (row["gflops"], row["top1"]), fontsize=7, xytext=(3, 3), textcoords="offset points",
                    color="tab:red" if index == best else "0.3")
    ax.set_xlabel("GFLOPs per clip (candidate at its scaled input)")
    ax.set_ylabel("proxy top-1")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig
