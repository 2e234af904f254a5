"""The family the paper's way and trained: one scaled search per target, then every member trained.

`search_family` runs one search per target (a0..a5), each in the search space scaled for that
target's budget (`search.targets`), as concurrent Ray tasks (concurrent on a cluster; on one
machine they share its CPUs), and writes the best architecture of each search as the family:
`specs/<target>.yaml`, `family.csv`, `family.png`. `train_family` trains every member of a
family folder (this one, or `run_search.py scale` output) with the shared builder and the
paper's recipe through Ray Train, members concurrently, resumable member by member, and writes
`family_results.csv` and `family_accuracy.png` (beside the published Kinetics-600 points).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from analysis import load_run, spec_of
from analysis.family import family_row, plot_family_accuracy, plot_family_cost
from infra.files import save_figure, write_csv
from infra.run_folder import RunKind, claim_output
from proxies.config import TrainConfig
from search_space import ArchSpec, UserError, load_arch

from .options import SearchOptions

__all__ = ["search_family", "train_family", "family_members", "FAMILY_SEARCH", "FAMILY_TRAINING", "FAMILY_TARGETS"]

FAMILY_SEARCH = RunKind("family search", ("searches",))
FAMILY_TRAINING = RunKind("family training", ("*",))  # the family folder's trained/, member by member
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


def family_members(folder: Path) -> dict[str, ArchSpec]:
    """The trainable members of a family folder (`specs/*.yaml`; ensembles are not trained alone)."""
    specs = sorted((folder / "specs").glob("*.yaml"))
    if not specs:
        raise UserError(f"{folder}: no specs/*.yaml (write a family with `scale` or `family` first)")
    members = {path.stem: load_arch(str(path)) for path in specs}
    trainable = {name: spec for name, spec in members.items() if isinstance(spec, ArchSpec)}
    if not trainable:
        raise UserError(f"{folder}: specs/ holds only ensembles; their members must be in specs/ to be trained")
    return trainable


def _train_member(config: TrainConfig) -> dict:
    """One member's training as a Ray task. Whether to resume is decided where it runs, not when
    it is submitted: Ray retries a task whose worker was lost (e.g. killed for memory), and the
    retry must continue what the first attempt wrote."""
    from proxies.train import TRAINING_RUN, train

    return train(dataclasses.replace(config, resume=TRAINING_RUN.held_by(Path(config.output))))


def train_family(folder: Path, config: TrainConfig, address: str | None = None) -> pd.DataFrame:
    """Trains every member with `config` (its spec and output set per member) as Ray tasks, as
    many at once as the cluster's CPUs hold, into `folder/trained/`. A new family training
    needs an empty `trained/`; with `config.resume` a member whose `result.json` exists is
    kept, an interrupted one resumes."""
    import ray

    from infra.ray_cluster import connect

    members = family_members(folder)
    claim_output(folder / "trained", FAMILY_TRAINING, config.resume, flag="--family")
    if not config.data.is_synthetic:  # refused here in one line, not from a Ray task per member
        from proxies.pipeline import ClipConfig, open_data
        from proxies.report import check_data

        train_source, val_source = open_data(config.data, ClipConfig())
        check_data({"train": train_source, "val": val_source}, config.data.max_missing)
    connect(address)
    remote_train = ray.remote(num_cpus=0)(_train_member)
    waiting = [dataclasses.replace(config, spec=spec.to_dict(), output=str(folder / "trained" / name))
               for name, spec in members.items() if not (folder / "trained" / name / "result.json").is_file()]
    # Only as many trainings as the cluster holds at once: one started beyond that waits for its
    # workers, and Ray Train fails a worker group that cannot start within a minute.
    cpus_per_training = (config.cpus_per_worker or 1) * config.num_workers
    capacity = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_training))
    running: list = []
    while waiting or running:
        while waiting and len(running) < capacity:
            running.append(remote_train.remote(waiting.pop(0)))
        done, running = ray.wait(running, num_returns=1)
        ray.get(done)
    rows = []
    for name, spec in members.items():
        result = json.loads((folder / "trained" / name / "result.json").read_text())
        rows.append({**family_row(name, spec), "top1": result["top1"], "top5": result["top5"],
                     "epochs": result["epochs"]})
    table = pd.DataFrame(rows).sort_values("gflops").reset_index(drop=True)
    write_csv(table, folder / "family_results.csv")
    label = "synthetic data" if config.data.is_synthetic else Path(config.data.source).name
    save_figure(plot_family_accuracy(table.to_dict("records"), label), folder / "family_accuracy.png")
    return table
