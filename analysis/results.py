"""A search's derived outputs: the Pareto front, its plot and the exported spec YAMLs.

Everything here is computed from the trials table alone (records carry their specs), so a
finished or interrupted run can be re-analysed and re-exported from its folder, whatever the
search space code has become since.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from infra.files import replaced_folder, save_figure, write_csv, write_parquet

from .pareto import cost_column, front_objectives, pareto_front, score_column
from .plots import plot_pareto
from .records import spec_of

__all__ = ["write_results", "export_configs"]


def export_configs(table: pd.DataFrame, folder: Path, top_k: int | None = None) -> list[Path]:
    """Each Pareto architecture (best top-1 first, by the re-trainings' mean in a re-ranked run;
    at most `top_k`) as a spec YAML in `folder`, which is replaced as a whole: a re-export keeps
    no config of an earlier one."""
    rows = table[table["pareto"]].sort_values(score_column(table), ascending=False)
    if top_k:
        rows = rows.head(top_k)
    names = [f"pareto_{row['trial_id']}" for _, row in rows.iterrows()]
    with replaced_folder(folder) as staging:
        for name, (_, row) in zip(names, rows.iterrows()):
            spec_of(row, name).to_yaml(staging / f"{name}.yaml")
    return [folder / f"{name}.yaml" for name in names]


def write_results(folder: Path, table: pd.DataFrame, top_k: int | None = None) -> pd.DataFrame:
    """Adds the `pareto` column (finished trials only; top-1 against GFLOPs, or against predicted
    latency in a latency search; in a re-ranked run, the re-ranked architectures by the mean of
    their re-trainings) and writes pareto.csv, pareto.png, configs/."""
    table = table.copy()
    finished = (table["status"] == "ok") & table[score_column(table)].notna()
    cost = cost_column(table)
    table["pareto"] = pareto_front(table.where(finished), front_objectives(table)) & finished
    write_csv(table, folder / "trials.csv")
    write_parquet(table, folder / "trials.parquet")
    write_csv(table[table["pareto"]].sort_values(cost), folder / "pareto.csv")
    save_figure(plot_pareto(table), folder / "pareto.png")
    export_configs(table, folder / "configs", top_k)
    return table
