"""Figures of search results. Each function returns a matplotlib Figure (no pyplot, no global
backend), which the caller saves or embeds."""
from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from .pareto import COST_LABELS, cost_column, score_column
from .retrained import CONFIDENCE

__all__ = ["plot_pareto", "plot_fidelity", "plot_candidates", "log_cost_axis", "draw_front"]


def log_cost_axis(ax, cost: pd.Series) -> None:
    """A log cost x axis (GFLOPs or predicted ms, by the column's name) spanning every trial,
    finished or not: a run whose trials all failed still gets its (empty) figure, where
    matplotlib refuses a log axis with nothing on it."""
    values = cost[cost > 0]
    if len(values):
        ax.set_xlim(values.min() / 1.3, values.max() * 1.3)
    ax.set_xscale("log")
    ax.set_xlabel(COST_LABELS.get(str(cost.name), str(cost.name)))


def draw_front(ax, table: pd.DataFrame, cost: str, colour: str, label: str) -> pd.DataFrame:
    """A run's front as a line over `cost` (the figure's axis, the same for every run drawn); in a
    re-ranked run at the re-trainings' mean, each point with its interval. Returns the front's
    rows in cost order."""
    score = score_column(table)
    front = table[table["pareto"]].sort_values(cost)
    if score == "top1_mean":
        spread = [(front[score] - front["top1_low"]).fillna(0.0), (front["top1_high"] - front[score]).fillna(0.0)]
        counts = sorted({int(front["top1_n"].min()), int(front["top1_n"].max())}) if len(front) else [0]
        seeds = "-".join(map(str, counts))
        ax.errorbar(front[cost], front[score], yerr=spread, fmt="o-", color=colour, capsize=3,
                    label=f"{label}: mean of {seeds} fresh seeds, {CONFIDENCE:.0%} interval")
    else:
        ax.plot(front[cost], front[score], "o-", color=colour, label=label)
    return front


def plot_pareto(table: pd.DataFrame, title: str = "") -> Figure:
    """Accuracy vs cost (GFLOPs or predicted latency, log x): finished trials, early-stopped ones
    at their last epoch, the front (with its spread in a re-ranked run)."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    cost = cost_column(table)
    done = table[table["status"] == "ok"]
    stopped = table[table["status"] == "stopped_early"]
    ax.scatter(done[cost], done["top1"], s=18, color="0.45", label="finished trials")
    if len(stopped):
        ax.scatter(stopped[cost], stopped["top1"], s=18, facecolors="none", edgecolors="0.6",
                   label="stopped early (last epoch)")
    best = draw_front(ax, table, cost, "tab:red", "Pareto front (configs/pareto_<trial>.yaml)")
    for i, (_, row) in enumerate(best.iterrows()):  # labels alternate above and below the line
        ax.annotate(str(row["trial_id"]), (row[cost], row[score_column(table)]), fontsize=7, color="tab:red",
                    xytext=(4, 5 if i % 2 == 0 else -11), textcoords="offset points")
    log_cost_axis(ax, table[cost])
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
    several = other.shape[1] > 1 or proxy.shape[1] > 1
    ax.errorbar(x, y, fmt="o", color="tab:blue", ecolor="0.6", capsize=2,
                xerr=[x - other.min(axis=1), other.max(axis=1) - x], yerr=[y - proxy.min(axis=1), proxy.max(axis=1) - y],
                label="an architecture" + (": mean rank over seeds, bars the range of their ranks" if several else ""))
    limit = len(wide) + 1
    ax.plot([0, limit], [0, limit], ":", color="0.5", label="perfect agreement")
    ax.set_xlim(0, limit)
    ax.set_ylim(0, limit)
    ax.set_xlabel(x_label)
    seeds = ", ".join(str(seed) for seed in proxy.columns)
    ax.set_ylabel(f"proxy rank, mean of seeds {seeds}" if proxy.shape[1] > 1 else f"proxy rank, seed {seeds}")
    ax.set_title(f"proxy fidelity, {len(wide)} architectures")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_candidates(table: pd.DataFrame, title: str) -> Figure:
    """Proxy top-1 of each trained candidate of a scaling-rule fit, one labelled bar each (`label`
    column: its coefficients or X3D step), the chosen one in red, its GFLOPs at the bar's end.

    Bars rather than top-1 against GFLOPs: every candidate of a fit costs about the same (2x the
    base), so as points their labels fell on one another."""
    rows = table.reset_index(drop=True)
    best = rows["top1"].idxmax() if rows["top1"].notna().any() else None
    fig = Figure(figsize=(7.5, 1.2 + 0.32 * len(rows)))
    ax = fig.subplots()
    positions = list(range(len(rows)))[::-1]
    ax.barh(positions, rows["top1"].fillna(0.0), color=["tab:red" if i == best else "tab:blue" for i in rows.index])
    for position, (_, row) in zip(positions, rows.iterrows()):
        ax.annotate(f"{row['gflops']:.3g} GFLOPs", (row["top1"] if row["top1"] == row["top1"] else 0.0, position),
                    fontsize=7, xytext=(3, -3), textcoords="offset points")
    ax.set_yticks(positions, rows["label"], fontsize=7)
    ax.set_xlabel("proxy top-1 (red: chosen)")
    ax.set_xlim(0, max(1.0, float(rows["top1"].max() or 0) * 1.25))
    ax.set_title(title, fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
