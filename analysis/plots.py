"""Figures of search results. Each function returns a matplotlib Figure (no pyplot, no global
backend), which the caller saves or embeds."""
from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["plot_pareto"]


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
