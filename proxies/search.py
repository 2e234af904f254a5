"""Running a search: Ray Tune (local or an existing cluster) or KerasTuner (one machine).

The driver wires the search space, the budget-aware searcher, an optional ASHA scheduler and
the proxy-training trainable, and keeps everything needed to resume in the output folder:
Ray's experiment state under `ray/`, KerasTuner's under `keras_tuner/`, and every budget
rejection appended to `rejected.csv` the moment it happens.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from search_space import count_flops
from search_space.searcher import Budget, BudgetSearcher, check_budget_feasible
from search_space.space import SearchSpace

__all__ = ["SearchOptions", "run_search", "collect_trials", "space_for", "RESULT_COLUMNS"]

RESULT_COLUMNS = ["status", "top1", "top5", "loss", "gflops", "num_params", "train_clips_per_s", "wall_time_s",
                  "epochs", "reward", "error", "node"]
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the classic reporter lets us choose table columns
_EXPERIMENT = "search"


@dataclass(frozen=True)
class SearchOptions:
    """Everything a search run needs; stored as `options.json` in the output folder."""

    output: str
    data: str = "synthetic"
    num_samples: int = 12
    gflops: str | None = None
    search_alg: str = "random"
    scheduler: str = "asha"
    reward: str = "accuracy"
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    address: str | None = None
    engine: str = "ray"
    seed: int = 0
    seed_arch: str | None = None
    space: dict = field(default_factory=dict)
    proxy: dict = field(default_factory=lambda: {"epochs": 8, "batch_size": 16})
    synthetic: dict = field(default_factory=lambda: {"num_classes": 6, "clips_per_class": 60, "frames": 16,
                                                     "resolution": 32, "difficulty": 0.3})
    train_csv: str | None = None  # overrides of the data folder's discovered layout
    val_csv: str | None = None
    video_root: str | None = None
    fps: float | None = None  # sample clip frames 1/fps s apart instead of every frame_stride-th


class _RejectionLog:
    """Appends each budget rejection to rejected.csv at once, so a killed driver loses none."""

    def __init__(self, path: Path):
        self.path = path

    def __call__(self, row: dict) -> None:
        new = not self.path.exists()
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)


class _LoggingBudgetSearcher(BudgetSearcher):
    def __init__(self, *args, log: _RejectionLog, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = log

    def suggest(self, trial_id: str):
        before = len(self.rejected)
        params = super().suggest(trial_id)
        for row in self.rejected[before:]:
            self.log(row)
        return params


def _setup(options: SearchOptions, space: SearchSpace, num_classes: int) -> dict:
    budget = Budget.parse(options.gflops)
    target = budget.high if math.isfinite(budget.high) else None
    return {"space": dataclasses.asdict(space), "proxy": options.proxy, "data": options.data, "fps": options.fps,
            "data_paths": {"train_csv": options.train_csv, "val_csv": options.val_csv, "video_root": options.video_root},
            "synthetic": options.synthetic | {"seed": options.seed}, "reward": options.reward,
            "target_gflops": target, "cpus_per_trial": options.cpus_per_trial, "num_classes": num_classes}


def space_for(options: SearchOptions) -> tuple[SearchSpace, dict | None]:
    """The run's search space (widened to hold the seed architecture) and the seed's parameters."""
    from search_space import load_arch

    space = SearchSpace.from_dict(options.space) if options.space else SearchSpace()
    if not options.seed_arch:
        return space, None
    seed = load_arch(options.seed_arch)
    seed = seed.replace(input=dataclasses.replace(seed.input, frames=space.frames[0], resolution=space.resolutions[0],
                                                  frame_stride=space.frame_stride))
    space = space.including(seed)
    return space, space.to_params(seed)


def _num_classes(options: SearchOptions) -> int:
    """The data's class count, after `check_data` has said what a data folder holds (or refused it)."""
    if options.data == "synthetic" and not options.train_csv:
        return int(options.synthetic["num_classes"])
    from .pipeline import ClipConfig, open_splits
    from .report import check_data

    train, val = open_splits(options.data, ClipConfig(fps=options.fps), train_csv=options.train_csv,
                             val_csv=options.val_csv, video_root=options.video_root)
    check_data({"train": train, "val": val}, options.output)
    return train.num_classes


def run_search(options: SearchOptions, resume: bool = False) -> pd.DataFrame:
    """Runs (or resumes) the search and returns the trials table (rejections included)."""
    output = Path(options.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "options.json").write_text(json.dumps(dataclasses.asdict(options), indent=2))
    space, seed_params = space_for(options)
    num_classes = _num_classes(options)
    budget = Budget.parse(options.gflops)
    check_budget_feasible(space, budget, num_classes)
    setup = _setup(options, space, num_classes)
    log = _RejectionLog(output / "rejected.csv")
    if options.engine == "keras-tuner":
        rows = _run_keras_tuner(options, space, setup, budget, log, resume)
    else:
        rows = _run_ray(options, space, setup, budget, log, seed_params, resume)
    return _table(rows, output, space)


def _run_ray(options, space, setup, budget, log, seed_params, resume) -> list[dict]:
    from ray import tune

    from .cluster import connect
    from .trial import run_trial

    output = Path(options.output).resolve()
    connect(options.address)
    resources = {"cpu": options.cpus_per_trial} | ({"gpu": options.gpus_per_trial} if options.gpus_per_trial else {})
    trainable = tune.with_resources(tune.with_parameters(run_trial, setup=setup), resources)
    experiment = output / "ray" / _EXPERIMENT
    if resume and tune.Tuner.can_restore(str(experiment)):
        tuner = tune.Tuner.restore(str(experiment), trainable=trainable, resume_errored=False,
                                   restart_errored=False, resume_unfinished=True)
    else:
        if experiment.exists():
            raise RuntimeError(f"{output}: already holds a search; pass --resume to continue it")
        tuner = tune.Tuner(trainable, param_space=space.to_tune(),
                           tune_config=_tune_config(options, space, setup, budget, log, seed_params),
                           run_config=tune.RunConfig(name=_EXPERIMENT, storage_path=str(output / "ray"),
                                                     failure_config=tune.FailureConfig(max_failures=1),
                                                     checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                                                     progress_reporter=_reporter(), verbose=1))
    grid = tuner.fit()
    rows = []
    for result in grid:
        metrics = result.metrics or {}
        row = {"trial_id": metrics.get("trial_id") or Path(result.path).name, **result.config}
        row.update({k: metrics.get(k) for k in RESULT_COLUMNS if k in metrics})
        row["num_params"] = metrics.get("params")
        if result.error is not None:
            row["status"], row["error"] = "error", str(result.error).strip().splitlines()[-1][:300]
        elif metrics.get("status") == "running":
            row["status"] = "stopped_early"  # by ASHA; its last epoch's metrics are kept
        if row.get("gflops") is None:  # failed before its first report: the cost is still known
            cost = count_flops(space.to_spec(result.config), num_classes=setup["num_classes"])
            row["gflops"], row["num_params"] = cost.gflops, cost.params
        rows.append(row)
    return rows


def _reporter():
    """A progress table that fits a terminal: depths and widths, not all 114 parameters."""
    from ray import tune

    columns = ["frames", "stem_width"] + [f"block{b}_depth" for b in range(5)] + ["head_width"]
    return tune.CLIReporter(parameter_columns=columns, max_report_frequency=20,
                            metric_columns=["epoch", "top1", "gflops", "train_clips_per_s"])


def _tune_config(options, space, setup, budget, log, seed_params):
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    metric = "reward"
    inner = None
    if options.search_alg in ("optuna", "nsga2"):
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        if options.search_alg == "optuna":
            inner = OptunaSearch(metric=metric, mode="max", sampler=optuna.samplers.TPESampler(seed=options.seed),
                                 points_to_evaluate=[seed_params] if seed_params else None)
        else:
            inner = OptunaSearch(metric=["top1", "gflops"], mode=["max", "min"],
                                 sampler=optuna.samplers.NSGAIISampler(seed=options.seed),
                                 points_to_evaluate=[seed_params] if seed_params else None)
    elif options.search_alg != "random":
        raise ValueError(f"--search-alg: random, optuna or nsga2, got {options.search_alg!r}")
    worst = {"reward": -1e9, "top1": 0.0}
    searcher = _LoggingBudgetSearcher(space, budget, setup["num_classes"], inner=inner,
                                      metric=None if options.search_alg == "nsga2" else metric,
                                      mode=None if options.search_alg == "nsga2" else "max", seed=options.seed,
                                      worst=worst, log=log,
                                      points_to_evaluate=[seed_params] if seed_params and inner is None else None)
    scheduler = None
    if options.scheduler == "asha":
        epochs = int(options.proxy.get("epochs", 8))
        scheduler = ASHAScheduler(metric="top1", mode="max", time_attr="training_iteration", max_t=epochs,
                                  grace_period=max(1, epochs // 2), reduction_factor=2)
    elif options.scheduler != "none":
        raise ValueError(f"--scheduler: asha or none, got {options.scheduler!r}")
    tuner_metric = None if options.search_alg == "nsga2" or scheduler else metric
    return tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=options.num_samples,
                           metric=tuner_metric, mode="max" if tuner_metric else None,
                           reuse_actors=True)  # skip worker start-up and TF import per trial


def _run_keras_tuner(options, space, setup, budget, log, resume) -> list[dict]:
    import keras_tuner

    from .proxy import train_proxy
    from .trial import proxy_task
    from .trial import reward as reward_fn

    output = Path(options.output)
    rows_path = output / "keras_tuner_trials.jsonl"

    class ProxyTuner(keras_tuner.Tuner):
        """KerasTuner over the same space: each trial is one proxy training."""

        def run_trial(self, trial, *args, **kwargs):
            params = dict(trial.hyperparameters.values)
            spec = space.to_spec(params, name=f"trial_{trial.trial_id}")
            gflops = count_flops(spec, num_classes=setup["num_classes"]).gflops
            row = {"trial_id": trial.trial_id, **params, "gflops": gflops}
            if gflops not in budget:
                log({**params, "gflops": gflops, "status": "rejected_budget"})
                return {"reward": -1e9}
            result = train_proxy(spec, *proxy_task(spec, setup))
            value = reward_fn(result.top1, result.gflops, setup["reward"], setup["target_gflops"])
            row.update(result.to_dict(), num_params=result.params, reward=value, node="local")
            with rows_path.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            return {"reward": value}

    oracle = keras_tuner.oracles.RandomSearchOracle(objective=keras_tuner.Objective("reward", "max"),
                                                    max_trials=options.num_samples,
                                                    hyperparameters=space.to_hyperparameters(), seed=options.seed)
    tuner = ProxyTuner(oracle=oracle, directory=str(output / "keras_tuner"), project_name=_EXPERIMENT,
                       overwrite=not resume)
    tuner.search()
    if not rows_path.exists():
        return []
    return [json.loads(line) for line in rows_path.read_text().splitlines() if line.strip()]


def _table(rows: list[dict], output: Path, space: SearchSpace) -> pd.DataFrame:
    from analysis import write_results

    table = pd.DataFrame(rows)
    for column in ["trial_id", *RESULT_COLUMNS]:
        if column not in table:
            table[column] = None
    table = table.drop(columns=[c for c in ("params", "done") if c in table])
    return write_results(output, table, space)


def collect_trials(run: Path) -> pd.DataFrame:
    """The trials table of a finished run folder (for re-export)."""
    path = run / "trials.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{run}: no trials.parquet (not a finished search run)")
    return pd.read_parquet(path)

