"""Training a fixed list of (spec, proxy, data) jobs as one resumable Ray Tune grid.

Fidelity measurements, coefficient fitting and X3D expansion all train known architectures
rather than sample new ones; each job reports every epoch with its checkpoint (a job Ray
restarts resumes from it), the grid's state lives in `folder/ray/`, and `resume=True`
continues an interrupted grid, keeping every finished job.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from infra.errors import Interrupted, RunExistsError
from proxies.config import ProxyConfig
from search_space import OFFICIAL_CLASSES, ArchSpec, count_flops
from video_data.config import DataConfig

__all__ = ["GridJob", "train_grid", "grid_rows"]


@dataclass(frozen=True)
class GridJob:
    """One training: `key` names it in the results, `info` is copied into every row."""

    key: str
    spec: ArchSpec
    proxy: ProxyConfig
    data: DataConfig
    info: dict = field(default_factory=dict)


def _grid_trial(config: dict, jobs: dict[str, GridJob], cpus: float) -> None:
    from proxies.ray_trial import prepare_worker, train_and_report

    job = jobs[config["key"]]
    prepare_worker(cpus)
    train_and_report(job.spec, job.proxy, job.data, lambda metrics: {"key": job.key})


def train_grid(jobs: list[GridJob], folder: Path, name: str, cpus: float = 1.0, address: str | None = None,
               resume: bool = False) -> list[dict]:
    """Trains every job (or what an interrupted grid left); one row per job: key, info, status,
    final top-1 and the per-epoch top-1 curve (JSON). A Ctrl-C raises `Interrupted` once Ray
    has saved the grid (its finished jobs are kept; `resume=True` trains the rest)."""
    from ray import tune

    from infra.ray_cluster import connect

    from .tune_runs import ProgressTable, fit_tuner, saved_trials, unfinished

    experiment = (folder / "ray").resolve() / name
    by_key = {job.key: dataclasses.replace(job, data=job.data.absolute()) for job in jobs}
    trainable = tune.with_resources(tune.with_parameters(_grid_trial, jobs=by_key, cpus=cpus), {"cpu": cpus})

    def create() -> tune.Tuner:
        if experiment.exists():
            raise RunExistsError(f"{folder}: already holds this measurement ({name}); pass --resume to continue it")
        return tune.Tuner(trainable, param_space={"key": tune.grid_search(list(by_key))},
                          tune_config=tune.TuneConfig(reuse_actors=True,
                                                      trial_dirname_creator=lambda trial: trial.trial_id),
                          run_config=tune.RunConfig(name=name, storage_path=str(experiment.parent), verbose=1,
                                                    progress_reporter=ProgressTable(_describe(by_key)),
                                                    failure_config=tune.FailureConfig(max_failures=1),
                                                    checkpoint_config=tune.CheckpointConfig(num_to_keep=1)))

    connect(address)
    grid = fit_tuner(experiment, trainable, resume, create, retry_errored=True)
    rows = grid_rows(grid, by_key)
    if unfinished(saved_trials(grid)) or len(rows) < len(jobs):
        done = sum(row["status"] == "ok" for row in rows)
        raise Interrupted(f"{done} of {len(jobs)} trainings finished and are kept in {folder}/ray; run the same "
                          f"command with --resume to continue", rows)
    return rows


def _describe(jobs: dict[str, GridJob]):
    """A grid trial's row in the progress table: its job's key, depths and GFLOPs (training shape)."""
    def describe(trial) -> tuple[str, str, float]:
        job = jobs[trial.config["key"]]
        depths = " ".join(str(len(block.layers)) for block in job.spec.blocks)
        classes = job.data.synthetic.num_classes if job.data.is_synthetic else OFFICIAL_CLASSES
        return job.key, depths, count_flops(job.spec, num_classes=classes).gflops

    return describe


def grid_rows(results, by_key: dict[str, GridJob]) -> list[dict]:
    """One row per job Tune started; jobs an interrupted grid (Ctrl-C) never started have no
    config in Tune's results and no row, so the next run trains them."""
    from .tune_runs import curve_of

    rows = []
    for result in results:
        if result.config is None:
            continue
        job = by_key[result.config["key"]]
        curve = curve_of(result)
        status = "error" if result.error is not None else (result.metrics or {}).get("status", "error")
        rows.append({"key": job.key, **job.info, "status": status,
                     "top1": curve[-1] if curve and status == "ok" else math.nan, "curve": json.dumps(curve)})
    return rows
