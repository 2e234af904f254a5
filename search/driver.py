"""Running a search end to end: options in, a run folder of self-describing records out.

Everything that can refuse a search is decided before anything is written: the output folder
(new, or `resume` of a search, `infra.run_folder`), the data (a folder's splits checked), the
space (widened for a seed architecture, scaled for a family member) and a budget it can meet
(`plan_search`). Only then does the driver write the run folder (options.json, space.yaml,
data_report.json), hand the trials to the chosen engine (Ray Tune, KerasTuner or the one-shot supernet), and write
rejected.csv (as rejections happen), trials.csv/parquet, choices.csv, specs/, the Pareto front,
its plot, the exported configs and the HTML report (report.html).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import write_report
from infra.config_io import to_plain
from infra.errors import Interrupted, UserError
from infra.run_folder import RunKind, claim_output
from proxies.config import ProxyConfig
from search_space import ArchSpec, Budget, InputSpec, SearchSpace, SpecError, check_budget_feasible, load_arch
from video_data.config import DataConfig

from .member_space import plan_target
from .options import SearchOptions
from .rerank import apply_retrainings
from .trial import TrialTask
from .trial_records import RejectionLog, write_run_tables

__all__ = ["run_search", "plan_search", "trial_task", "SearchPlan", "SEARCH_RUN"]

SEARCH_RUN = RunKind("search", ("options.json", "ray/search", "ray/oneshot", "keras_tuner", "keras_tuner_trials.jsonl",
                                "trials.parquet"))


@dataclass(frozen=True)
class SearchPlan:
    """What a search will do, settled before it writes anything: its space (scaled for a
    family member, widened for a seed architecture), budget, the seed's parameters, the
    member's input shape (a `--target` search: what its networks are recorded at), the data's
    class count and what a data folder holds."""

    space: SearchSpace
    budget: Budget
    seed_params: dict | None
    member_input: InputSpec | None
    num_classes: int
    data_report: dict | None


def _data_check(data: DataConfig, proxy: ProxyConfig) -> tuple[int, dict | None]:
    """The data's class count and, for a data folder, what `check_data` found (or its refusal);
    a proxy the data cannot feed (a teacher made on other data, a curriculum without synthetic
    data) is refused here, before any trial could train."""
    from proxies.distillation import TeacherTargets
    from proxies.ray_trial import check_curriculum

    check_curriculum(data, proxy)
    if data.is_synthetic:
        num_classes, report = data.synthetic.num_classes, None
        clips, class_names = data.synthetic.train_clips, data.synthetic.class_names
    else:
        from video_data.inspection import check_data
        from video_data.pipeline import ClipConfig, open_data

        train, val = open_data(data, ClipConfig())
        num_classes, report = train.num_classes, check_data({"train": train, "val": val}, data.max_missing)
        clips, class_names = len(train), train.class_names
    if proxy.teacher:
        TeacherTargets.load(proxy.teacher).check_matches(clips, class_names, proxy.teacher)
    return num_classes, report


def plan_search(options: SearchOptions) -> SearchPlan:
    """Every check a search makes before it starts (data, seed architecture, space, budget); no writes."""
    num_classes, report = _data_check(options.data, options.proxy)
    options.data.check_batch(options.proxy.batch_size,
                             options.data.synthetic.train_clips if report is None else report["train"]["clips"])
    space, budget, member_input, seed_params = options.space, options.budget, None, None
    if options.target:
        target = plan_target(space, options.target, options.rule, num_classes=num_classes)
        space, budget, member_input = target.space, target.budget, target.input
    if options.seed_arch:
        seed = load_arch(options.seed_arch)
        if not isinstance(seed, ArchSpec):
            raise SpecError(f"--seed-arch {options.seed_arch}: an ensemble is not a point of the search space")
        seed = seed.replace(input=InputSpec(space.frames[0], space.resolutions[0], space.frame_stride))
        space = space.including(seed)
        seed_params = space.to_params(seed)
    check_budget_feasible(space, budget, num_classes)
    if seed_params is not None:  # evaluated first, so it must be a point the search may keep
        cost = budget.cost(space.to_spec(seed_params), num_classes)
        if cost not in budget:
            raise SpecError(f"--seed-arch {options.seed_arch}: {cost:.4g} {budget.unit} at the search input is outside "
                            f"the budget {budget}; widen {budget.flag} to include it or drop --seed-arch")
    return SearchPlan(space, budget, seed_params, member_input, num_classes, report)


def trial_task(options: SearchOptions, plan: SearchPlan) -> TrialTask:
    """What every trial of the planned search shares."""
    return TrialTask(space=plan.space, data=options.data.absolute(), proxy=options.proxy, budget=plan.budget,
                     reward=options.reward, num_classes=plan.num_classes, cpus=options.resources.cpus,
                     member_input=plan.member_input)


def _check_same_options(folder: Path, options: SearchOptions) -> None:
    """A resumed search continues with the options it started with, never with others."""
    stored = SearchOptions.load(folder)
    if to_plain(stored) != to_plain(options):
        changed = next(name for name in to_plain(options) if to_plain(options)[name] != to_plain(stored)[name])
        raise UserError(f"{folder}: holds a search with other options ({changed} differs); resume it with its own "
                        f"(SearchOptions.load, or `search --resume --output {folder}`)")


def run_search(options: SearchOptions, resume: bool = False) -> pd.DataFrame:
    """Runs (or resumes) the search in `options.output` and returns the trials table.

    A Ctrl-C stops the trials, writes the tables of what finished (unfinished trials as
    'interrupted') and raises `Interrupted`; `resume=True` continues the search.
    """
    output = Path(options.output)
    claim_output(output, SEARCH_RUN, resume)
    if resume:
        _check_same_options(output, options)
    plan = plan_search(options)
    output.mkdir(parents=True, exist_ok=True)
    if not resume:
        options.save(output)
    if plan.data_report is not None:
        from video_data.inspection import write_data_report

        write_data_report(output, plan.data_report)
    task = trial_task(options, plan)
    log = RejectionLog(output / "rejected.csv", plan.space, plan.budget.metric,
                       prefiltered=options.prefilter.score is not None)
    if options.engine == "keras-tuner":
        from .keras_tuner_engine import run_keras_tuner

        records, choices = run_keras_tuner(options, task, log, resume)
    elif options.engine == "oneshot":
        from .oneshot import run_oneshot

        records, choices = run_oneshot(options, task, log, resume)
    else:
        from .ray_engine import run_ray

        records, choices = run_ray(options, task, log, plan.seed_params, resume)
    table = apply_retrainings(output, write_run_tables(output, records, choices, plan.space))
    write_report([output])
    # A one-shot search records the distinct architectures its controller still samples, which
    # may be fewer than it was asked to score.
    incomplete = len(table) < options.num_samples and options.engine != "oneshot"
    if (table["status"] == "interrupted").any() or incomplete:
        finished = int(table["status"].isin(["ok", "stopped_early"]).sum())
        raise Interrupted(f"search interrupted after {finished} of {options.num_samples} trials; the results so far "
                          f"are in {output}/; continue it with `run_search.py search --resume --output {output}`",
                          table)
    return table
