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
from proxies.config import TrainConfig
from search_space import ArchSpec, UserError, load_arch

from .options import SearchOptions

__all__ = ["search_family", "train_family", "family_members"]


def _best(table: pd.DataFrame) -> pd.Series:
    finished = table[table["status"] == "ok"]
    if finished.empty:
        raise UserError("no trial of this search finished; nothing to put in the family")
    return finished.loc[finished["top1"].idxmax()]


def search_family(options: SearchOptions, targets: list[str], output: Path, resume: bool = False) -> pd.DataFrame:
    """One scaled search per target (concurrent Ray tasks), the best of each as the family."""
    import ray

    from infra.ray_cluster import connect

    from .driver import run_search

    connect(options.address)
    search = ray.remote(num_cpus=0)(run_search)  # the trials, not the drivers, hold the CPUs
    runs = {t: dataclasses.replace(options, output=str(output / "searches" / t), target=t) for t in targets}
    for run in runs.values():
        Path(run.output).mkdir(parents=True, exist_ok=True)
    ray.get([search.remote(run, resume) for run in runs.values()])
    (output / "specs").mkdir(parents=True, exist_ok=True)
    rows = []
    for target, run in runs.items():
        best = _best(load_run(run.output))
        spec = spec_of(best, target)
        spec.to_yaml(output / "specs" / f"{target}.yaml")
        rows.append({**family_row(target, spec), "arch_id": best["arch_id"], "proxy_top1": best["top1"],
                     "budget_gflops": best["budget_gflops"], "search": run.output})
    table = pd.DataFrame(rows)
    table.to_csv(output / "family.csv", index=False)
    plot_family_cost(table, "searched family").savefig(output / "family.png", dpi=120)
    return table


def family_members(folder: Path) -> dict[str, ArchSpec]:
    """The trainable members of a family folder (`specs/*.yaml`; ensembles are not trained alone)."""
    specs = sorted((folder / "specs").glob("*.yaml"))
    if not specs:
        raise UserError(f"{folder}: no specs/*.yaml (write a family with `scale` or `family` first)")
    members = {path.stem: load_arch(str(path)) for path in specs}
    return {name: spec for name, spec in members.items() if isinstance(spec, ArchSpec)}


def _train_member(config: TrainConfig) -> dict:
    """One member's training as a Ray task. Whether to resume is decided where it runs, not when
    it is submitted: Ray retries a task whose worker was lost (e.g. killed for memory), and the
    retry must continue the checkpoints the first attempt wrote."""
    from proxies.train import train

    started = (Path(config.output) / "ray" / "train").exists()
    return train(dataclasses.replace(config, resume=started or config.resume))


def train_family(folder: Path, config: TrainConfig, address: str | None = None) -> pd.DataFrame:
    """Trains every member with `config` (its spec and output set per member) as Ray tasks, as
    many at once as the cluster's CPUs hold; a member whose `result.json` exists is kept, an
    interrupted one resumes."""
    import ray

    from infra.ray_cluster import connect

    connect(address)
    remote_train = ray.remote(num_cpus=0)(_train_member)
    members = family_members(folder)
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
    table.to_csv(folder / "family_results.csv", index=False)
    label = "synthetic data" if config.data.is_synthetic else Path(config.data.source).name
    plot_family_accuracy(table, label).savefig(folder / "family_accuracy.png", dpi=120)
    return table
