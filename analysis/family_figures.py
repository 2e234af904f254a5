"""A family of networks as a table and as figures beside the published MoViNets.

The published points are the official presets' analytic GFLOPs and parameters and their
Kinetics-600 top-1 from `PUBLISHED_K600` (the official README; A6 the A4 + A5 ensemble). They
are labelled as such and never drawn on an axis of proxy accuracy: a family trained here on
other data shares only the GFLOPs axis with them.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from search_space import OFFICIAL_CLASSES, ArchSpec, EnsembleSpec, count_flops, load_arch

__all__ = ["family_row", "official_family", "plot_family_cost", "plot_family_accuracy", "PUBLISHED_K600"]

Rows = Sequence[Mapping]  # family members as rows (a DataFrame's `to_dict("records")`): small, no pandas needed

# Kinetics-600 top-1 (%) in the official MoViNet README (its later training recipe; A6: README text).
PUBLISHED_K600 = {"a0": 72.28, "a1": 76.69, "a2": 78.62, "a3": 81.79, "a4": 83.48, "a5": 84.27, "a6": 84.8}


def family_row(name: str, spec: ArchSpec | EnsembleSpec, num_classes: int = OFFICIAL_CLASSES) -> dict:
    """One member: cost at its own input, per-block depths and widths, input shape."""
    cost = count_flops(spec, num_classes=num_classes)
    if isinstance(spec, EnsembleSpec):
        shape = {"depths": "+".join(m.name for m in spec.members), "widths": ""}
    else:
        shape = {"depths": " ".join(str(len(b.layers)) for b in spec.blocks),
                 "widths": " ".join(str(b.filters) for b in spec.blocks)}
    return {"member": name, "gflops": cost.gflops, "params": cost.params, **shape,
            "frames": spec.input.frames, "resolution": spec.input.resolution}


def official_family(num_classes: int = OFFICIAL_CLASSES) -> list[dict]:
    """The published A0-A6 (A6 the A4 + A5 ensemble) as family rows with their K600 top-1."""
    return [{**family_row(name, load_arch(name), num_classes), "k600_top1": top1}
            for name, top1 in PUBLISHED_K600.items()]


def _column(rows: Rows, name: str, scale: float = 1.0) -> list:
    return [row[name] * scale for row in rows]


def _plain_log_ticks(axis) -> None:
    """Log-axis tick labels as plain numbers (0.5, 3, 200), not '3x10^0'."""
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if f"{value:.1e}"[0] in "25" else ""))


def plot_family_cost(family: Rows, title: str = "") -> Figure:
    """GFLOPs vs parameters (log-log) of a family beside the official presets.

    A member scaled to an official target often lands on the official point: the family's
    names are written above their points and the official ones below, so both stay legible.
    """
    official = official_family()
    fig = Figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    ax.plot(_column(official, "gflops"), _column(official, "params", 1e-6), "s--", color="0.5",
            label="official MoViNet A0-A6")
    ax.plot(_column(family, "gflops"), _column(family, "params", 1e-6), "o-", color="tab:red",
            label=title or "this family")
    for rows, colour, offset in ((official, "0.4", (4, -11)), (family, "tab:red", (-4, 5))):
        for row in rows:
            ax.annotate(row["member"], (row["gflops"], row["params"] / 1e6), fontsize=7, color=colour,
                        xytext=offset, textcoords="offset points", ha="left" if offset[0] > 0 else "right")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log_ticks(ax.xaxis)
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel("GFLOPs per clip (each member at its input shape)")
    ax.set_ylabel("parameters (millions)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_family_accuracy(trained: Rows, data_label: str) -> Figure:
    """Top-1 vs GFLOPs of a trained family (left axis, on `data_label`) and the published
    MoViNets' Kinetics-600 top-1 (right axis): one GFLOPs axis, two accuracy scales."""
    official = official_family()
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    ax.plot(_column(trained, "gflops"), _column(trained, "top1", 100), "o-", color="tab:red",
            label=f"trained here ({data_label})")
    for row in trained:
        ax.annotate(row["member"], (row["gflops"], 100 * row["top1"]), fontsize=7, color="tab:red", xytext=(3, -10),
                    textcoords="offset points")
    ax.set_xscale("log")
    _plain_log_ticks(ax.xaxis)
    ax.set_xlabel("GFLOPs per clip (each member at its input shape)")
    ax.set_ylabel(f"top-1 (%) on {data_label}", color="tab:red")
    published = ax.twinx()
    published.plot(_column(official, "gflops"), _column(official, "k600_top1"), "s--", color="0.45",
                   label="published MoViNet, Kinetics-600 (official README)")
    for row in official:
        published.annotate(row["member"], (row["gflops"], row["k600_top1"]), fontsize=7, color="0.4", xytext=(3, 3),
                           textcoords="offset points")
    published.set_ylabel("published Kinetics-600 top-1 (%)", color="0.4")
    ax.grid(True, which="both", alpha=0.3)
    lines = ax.get_legend_handles_labels()[0] + published.get_legend_handles_labels()[0]
    # above the axes: below them it hid the x label, inside them it covers points
    ax.legend(lines, [line.get_label() for line in lines], loc="lower left", bbox_to_anchor=(0, 1.01), ncol=2,
              fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
