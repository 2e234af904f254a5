"""Running a search end to end: options in, a run folder of self-describing records out.

The driver resolves the space (widened for a seed architecture), checks the budget against it
before anything trains, hands the trials to the chosen engine (Ray Tune or KerasTuner), and
writes the run folder: options.json, space.yaml, rejected.csv (as rejections happen),
trials.csv/parquet, choices.csv, specs/, then the Pareto front, plot, exported configs and the
HTML report (report.html).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from analysis import write_report, write_results
from proxies.config import DataConfig
from search_space import Budget, SearchSpace, check_budget_feasible, load_arch

from .options import SearchOptions
from .records import RejectionLog, write_run_tables
from .targets import plan_target
from .trial import TrialTask

__all__ = ["run_search", "space_for"]


def space_for(options: SearchOptions, num_classes: int = 600) -> tuple[SearchSpace, Budget, dict | None]:
    """The run's search space and budget (scaled for a family member if `target` is set), the
    space widened to hold the seed architecture, and the seed's parameters."""
    space, budget = options.space, options.budget
    if options.target:
        plan = plan_target(space, options.target, options.rule, num_classes=num_classes)
        space, budget = plan.space, plan.budget
    if not options.seed_arch:
        return space, budget, None
    seed = load_arch(options.seed_arch)
    seed = seed.replace(input=dataclasses.replace(seed.input, frames=space.frames[0], resolution=space.resolutions[0],
                                                  frame_stride=space.frame_stride))
    space = space.including(seed)
    return space, budget, space.to_params(seed)


def _num_classes(data: DataConfig, output: Path) -> int:
    """The data's class count, after `check_data` has said what a data folder holds (or refused it)."""
    if data.is_synthetic:
        return data.synthetic.num_classes
    from proxies.pipeline import ClipConfig, open_data
    from proxies.report import check_data

    train, val = open_data(data, ClipConfig())
    check_data({"train": train, "val": val}, output, data.max_missing)
    return train.num_classes


def run_search(options: SearchOptions, resume: bool = False) -> pd.DataFrame:
    """Runs (or resumes) the search in `options.output` and returns the trials table."""
    output = Path(options.output)
    output.mkdir(parents=True, exist_ok=True)
    options.save(output)
    num_classes = _num_classes(options.data, output)
    space, budget, seed_params = space_for(options, num_classes)
    check_budget_feasible(space, budget, num_classes)
    task = TrialTask(space=space, data=options.data, proxy=options.proxy, budget=budget,
                     reward=options.reward, num_classes=num_classes, cpus=options.resources.cpus)
    log = RejectionLog(output / "rejected.csv")
    if options.engine == "keras-tuner":
        from .keras_tuner_engine import run_keras_tuner

        records, choices = run_keras_tuner(options, task, log, resume)
    else:
        from .ray_engine import run_ray

        records, choices = run_ray(options, task, log, seed_params, resume)
    table = write_results(output, write_run_tables(output, records, choices, space))
    write_report([output])
    return table
