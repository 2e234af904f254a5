"""Every member of a family folder trained with the paper's recipe, members side by side.

A family folder (`run_search.py scale` or `family` output) holds `specs/<member>.yaml`;
`train_family` trains each member with the shared builder through Ray Train into
`trained/<member>/`, as many at once as the cluster holds, resumable member by member, and
writes `family_results.csv` and `family_accuracy.png` (beside the published Kinetics-600
points).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from analysis.family_figures import family_row, plot_family_accuracy
from infra.files import save_figure, write_csv
from infra.run_folder import RunKind, claim_output
from search_space import ArchSpec, UserError, load_arch

from .config import TrainConfig

__all__ = ["train_family", "family_members", "FAMILY_TRAINING"]

FAMILY_TRAINING = RunKind("family training", ("*",))  # the family folder's trained/, member by member


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
    from .trainer import TRAINING_RUN, train

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
        from video_data.inspection import check_data
        from video_data.pipeline import ClipConfig, open_data

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
