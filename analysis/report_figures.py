"""The figures of the search report. Each takes run records and returns a Figure."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from search_space.summary import KERNEL_TYPES

from .hypervolume import Bounds, edf, hypervolume_curve
from .learned import block_choices, kernel_shares
from .pareto import cost_column
from .plots import draw_front, log_cost_axis

__all__ = ["accuracy_vs_gflops", "hypervolume_figure", "learning_curves", "learned_figure", "edf_figure"]

_COLOURS = ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown"]


def _runs(table: pd.DataFrame):
    for i, (run, part) in enumerate(table.groupby("run", sort=False)):
        yield run, part, _COLOURS[i % len(_COLOURS)]


def accuracy_vs_gflops(table: pd.DataFrame) -> Figure:
    """Every run's finished trials (filled), early-stopped ones at their last epoch (hollow), fronts."""
    fig = Figure(figsize=(7.5, 4.8))
    ax = fig.subplots()
    cost = cost_column(table)  # latency only where every run predicted it
    for run, part, colour in _runs(table):
        done, stopped = part[part["status"] == "ok"], part[part["status"] == "stopped_early"]
        ax.scatter(done[cost], done["top1"], s=16, color=colour, alpha=0.6)
        ax.scatter(stopped[cost], stopped["top1"], s=16, facecolors="none", edgecolors=colour, alpha=0.6)
        draw_front(ax, part, cost, colour, f"{run} front ({int(part['pareto'].sum())})")
    ax.scatter([], [], s=16, color="0.4", label="finished trial")
    ax.scatter([], [], s=16, facecolors="none", edgecolors="0.4", label="stopped early (last epoch)")
    log_cost_axis(ax, table[cost])
    ax.set_ylabel("proxy top-1")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def hypervolume_figure(table: pd.DataFrame, groups: dict[str, str], bounds: Bounds = Bounds()) -> Figure:
    """Hypervolume against completed trials: one line per run, or, where several runs share an
    algorithm (`groups`: run -> algorithm), their median with the min-max band."""
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    # The trials' own scores as they came in (re-trainings come after the search), on the same
    # cost for every run: latency only where all predicted it.
    objectives = {"top1": "max", cost_column(table): "min"}
    curves = {run: hypervolume_curve(part, bounds, objectives) for run, part, _ in _runs(table)}
    by_algorithm: dict[str, list[pd.Series]] = {}
    for run, curve in curves.items():
        by_algorithm.setdefault(groups.get(run, run), []).append(curve)
    for i, (name, members) in enumerate(by_algorithm.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        frame = pd.concat(members, axis=1).ffill()
        if len(members) == 1:
            ax.plot(frame.index, frame.iloc[:, 0], color=colour, label=name)
            continue
        ax.plot(frame.index, frame.median(axis=1), color=colour, label=f"{name}: median of {len(members)} runs")
        ax.fill_between(frame.index, frame.min(axis=1), frame.max(axis=1), color=colour, alpha=0.2)
    ax.set_xlabel("completed trials")
    ax.set_ylabel(f"hypervolume (error x log10 {'latency' if 'latency_ms' in objectives else 'GFLOPs'})")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def learning_curves(table: pd.DataFrame) -> Figure:
    """Held-out top-1 after each epoch of every trial; early-stopped trials dashed."""
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    for run, part, colour in _runs(table):
        for _, row in part.iterrows():
            curve = json.loads(row["curve"]) if isinstance(row.get("curve"), str) else []
            if curve:
                style = "--" if row["status"] == "stopped_early" else "-"
                ax.plot(range(1, len(curve) + 1), curve, style, color=colour, alpha=0.5, linewidth=1)
        ax.plot([], [], color=colour, label=str(run))
    ax.plot([], [], "--", color="0.4", label="stopped early")
    ax.set_xlabel("epoch")
    ax.set_ylabel("held-out top-1")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def learned_figure(table: pd.DataFrame) -> Figure:
    """Per block: kernel-type shares, depth and width, on the Pareto front against all trials."""
    choices = block_choices(table)
    shares = kernel_shares(choices)
    fig = Figure(figsize=(11, 3.6))
    kernels, depths, widths = fig.subplots(1, 3)
    blocks = np.arange(5)
    for offset, (group, hatch) in zip((-0.2, 0.2), (("all trials", ""), ("Pareto front", "//"))):
        part = shares[shares["group"] == group].set_index("block").reindex(blocks).fillna(0.0)
        bottom = np.zeros(5)
        for kind, colour in zip(KERNEL_TYPES, ("tab:blue", "tab:orange", "tab:green")):
            kernels.bar(blocks + offset, part[kind], 0.38, bottom=bottom, color=colour, hatch=hatch,
                        edgecolor="white", label=kind if group == "all trials" else None)
            bottom += part[kind].to_numpy()
    kernels.set_title("kernel types (left bar: all, right: front)", fontsize=9)
    kernels.set_xlabel("block")
    for ax, column in ((depths, "depth"), (widths, "width")):
        for group, colour, offset in (("all trials", "0.6", -0.15), ("Pareto front", "tab:red", 0.15)):
            part = choices if group == "all trials" else choices[choices["pareto"]]
            ax.scatter(part["block"] + offset, part[column], s=12, color=colour, alpha=0.6,
                       label=group if column == "depth" else None)
        ax.set_title(f"{column} per block", fontsize=9)
        ax.set_xlabel("block")
    # One legend below the panels: inside them it covered the bars and points.
    fig.legend(loc="lower center", ncol=5, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def edf_figure(table: pd.DataFrame) -> Figure:
    """Error EDF of each run's finished trials (pycls): how good the sampled architectures are."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for run, part, colour in _runs(table):
        x, y = edf(1.0 - part.loc[part["status"] == "ok", "top1"])
        ax.step(x, y, where="post", color=colour, label=f"{run} ({len(x)} trials)")
    ax.set_xlabel("proxy error (1 - top-1)")
    ax.set_ylabel("share of finished trials with error <= x")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
