"""A search's derived outputs: the Pareto front, its plot and the exported spec YAMLs.

Everything here is computed from the trials table alone (records carry their specs), so a
finished or interrupted run can be re-analysed and re-exported from its folder, whatever the
search space code has become since.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .pareto import pareto_front
from .plots import plot_pareto
from .records import spec_of

__all__ = ["write_results", "export_configs"]


def export_configs(table: pd.DataFrame, folder: Path, top_k: int | None = None) -> list[Path]:
    """Each Pareto architecture (best top-1 first, at most `top_k`) as a spec YAML."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = table[table["pareto"]].sort_values("top1", ascending=False)
    if top_k:
        rows = rows.head(top_k)
    paths = []
    for _, row in rows.iterrows():
        name = f"pareto_{row['trial_id']}"
        path = folder / f"{name}.yaml"
        spec_of(row, name).to_yaml(path)
        paths.append(path)
    return paths


def write_results(folder: Path, table: pd.DataFrame, top_k: int | None = None) -> pd.DataFrame:
    """Adds the `pareto` column (finished trials only) and writes pareto.csv, pareto.png, configs/."""
    table = table.copy()
    finished = table["status"] == "ok"
    table["pareto"] = pareto_front(table.where(finished)) & finished
    table.to_csv(folder / "trials.csv", index=False)
    table.to_parquet(folder / "trials.parquet", index=False)
    table[table["pareto"]].sort_values("gflops").to_csv(folder / "pareto.csv", index=False)
    plot_pareto(table).savefig(folder / "pareto.png", dpi=120)
    export_configs(table, folder / "configs", top_k)
    return table
