"""The family the paper's way: one scaled search per member, the best network of each as the family.

`search_family` runs one search per target (a0..a5), each in the search space scaled for that
target's budget (`search.member_space`), as concurrent Ray tasks (concurrent on a cluster; on
one machine they share its CPUs), and writes the best architecture of each search, at the
member's published input shape, as the family: `specs/<target>.yaml`, `family.csv`,
`family.png`. `run_search.py train-family` (`training.family`) trains it.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from analysis import load_run, spec_of
from analysis.family_figures import family_row, plot_family_cost
from infra.files import save_figure, write_csv
from infra.run_folder import RunKind, claim_output
from search_space import UserError

from .options import SearchOptions

__all__ = ["search_family", "FAMILY_SEARCH", "FAMILY_TARGETS"]

FAMILY_SEARCH = RunKind("family search", ("searches",))
FAMILY_TARGETS = "a0..a5"  # what `family` searches for: A6 is the A4 + A5 ensemble, not a network of its own


def _best(table: pd.DataFrame) -> pd.Series:
    finished = table[table["status"] == "ok"]
    if finished.empty:
        raise UserError("no trial of this search finished; nothing to put in the family")
    return finished.loc[finished["top1"].idxmax()]


def search_family(options: SearchOptions, targets: list[str], output: Path, resume: bool = False) -> pd.DataFrame:
    """One scaled search per target (concurrent Ray tasks), the best of each as the family.

    Every member's search is planned (space, budget, data) before anything is written or Ray
    starts; on `resume` a member whose search had started continues it, the others start.
    """
    import ray

    from infra.ray_cluster import connect

    from .driver import SEARCH_RUN, plan_search, run_search

    output = Path(output)
    claim_output(output, FAMILY_SEARCH, resume)
    runs = {t: dataclasses.replace(options, output=str(output / "searches" / t), target=t) for t in targets}
    for run in runs.values():
        plan_search(run)
    connect(options.address)
    search = ray.remote(num_cpus=0)(run_search)  # the trials, not the drivers, hold the CPUs
    ray.get([search.remote(run, SEARCH_RUN.held_by(Path(run.output))) for run in runs.values()])
    (output / "specs").mkdir(parents=True, exist_ok=True)
    rows = []
    for target, run in runs.items():
        best = _best(load_run(run.output))
        spec = spec_of(best, target)
        spec.to_yaml(output / "specs" / f"{target}.yaml")
        rows.append({**family_row(target, spec), "arch_id": best["arch_id"], "proxy_top1": best["top1"],
                     "train_gflops": best["train_gflops"], "search": run.output})
    table = pd.DataFrame(rows)
    write_csv(table, output / "family.csv")
    save_figure(plot_family_cost(rows, "searched family"), output / "family.png")
    return table
