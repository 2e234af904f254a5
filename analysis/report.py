"""Writing a search's results: trials table, Pareto front, plot and exported spec YAMLs.

Analysis reads plain records (a table of trials), never live Ray objects, so a finished or
interrupted run can be re-analysed and re-exported from its folder alone.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from search_space.space import SearchSpace  # noqa: E402

from .pareto import pareto_front  # noqa: E402

__all__ = ["write_results", "plot_pareto", "export_configs"]


def plot_pareto(table: pd.DataFrame, front: pd.Series, title: str = "") -> plt.Figure:
    """Accuracy vs GFLOPs (log x): every finished trial, the front highlighted."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    done = table[table["status"] == "ok"]
    stopped = table[table["status"] == "stopped_early"]
    ax.scatter(done["gflops"], done["top1"], s=18, color="0.45", label="finished trials")
    if len(stopped):
        ax.scatter(stopped["gflops"], stopped["top1"], s=18, facecolors="none", edgecolors="0.6",
                   label="stopped early (last epoch)")
    best = table[front].sort_values("gflops")
    ax.plot(best["gflops"], best["top1"], "o-", color="tab:red", label="Pareto front")
    for _, row in best.iterrows():
        ax.annotate(str(row["trial_id"])[-5:], (row["gflops"], row["top1"]), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("GFLOPs per clip (search input shape)")
    ax.set_ylabel("proxy top-1")
    ax.set_title(title or f"{len(table)} trials, {len(done)} finished, {int(front.sum())} on the front")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def export_configs(table: pd.DataFrame, space: SearchSpace, folder: Path, top_k: int | None = None) -> list[Path]:
    """Each Pareto architecture (best top-1 first, at most `top_k`) as a spec YAML."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = table[table["pareto"]].sort_values("top1", ascending=False)
    if top_k:
        rows = rows.head(top_k)
    columns = list(space.choices())
    paths = []
    for _, row in rows.iterrows():
        name = f"pareto_{row['trial_id']}"
        spec = space.to_spec({c: row[c] for c in columns}, name=name)
        path = folder / f"{name}.yaml"
        spec.to_yaml(path)
        paths.append(path)
    return paths


def write_results(folder: Path, table: pd.DataFrame, space: SearchSpace, top_k: int | None = None) -> pd.DataFrame:
    """trials.csv / trials.parquet, pareto.csv, pareto.png and configs/*.yaml in `folder`."""
    table = table.copy()
    ok = table["status"] == "ok"
    table["pareto"] = pareto_front(table.where(ok)) & ok
    table.to_csv(folder / "trials.csv", index=False)
    table.to_parquet(folder / "trials.parquet", index=False)
    table[table["pareto"]].sort_values("gflops").to_csv(folder / "pareto.csv", index=False)
    fig = plot_pareto(table, table["pareto"])
    fig.savefig(folder / "pareto.png", dpi=120)
    plt.close(fig)
    export_configs(table, space, folder / "configs", top_k)
    return table
