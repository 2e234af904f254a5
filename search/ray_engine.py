"""Running a search with Ray Tune: local Ray or an existing cluster, resumable from its folder.

Wires the budget-aware searcher (optionally wrapping Optuna TPE / NSGA-II), ASHA early stopping
and the proxy-training trainable; Ray's experiment state lives under `ray/` in the run folder,
so a killed driver continues with `resume=True` and keeps every finished trial.
"""
from __future__ import annotations

from pathlib import Path

from infra.ray_cluster import connect
from search_space import SearchSpace

from .options import SearchOptions
from .prefilter import ZeroCostScorer
from .searcher import BudgetSearcher
from .trial import TrialTask, run_trial
from .trial_records import RejectionLog, trial_record
from .tune_runs import ProgressTable, curve_of, error_line, fit_tuner, saved_trials, unfinished

__all__ = ["run_ray", "tune_param_space", "EXPERIMENT"]

EXPERIMENT = "search"
_WORST = {"reward": -1e9, "top1": 0.0}


def tune_param_space(space: SearchSpace) -> dict:
    """Ray Tune `param_space`: one categorical choice per parameter (Optuna and random accept it)."""
    from ray import tune

    return {name: tune.choice(list(values)) for name, values in space.choices().items()}


class _LoggingBudgetSearcher(BudgetSearcher):
    """Writes each rejection to rejected.csv as it happens."""

    def __init__(self, *args, log: RejectionLog, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = log

    def suggest(self, trial_id: str):
        before = len(self.rejected)
        params = super().suggest(trial_id)
        for row in self.rejected[before:]:
            self.log(row)
        return params


def _searcher(options: SearchOptions, task: TrialTask, log: RejectionLog, seed_params: dict | None):
    seeds = [seed_params] if seed_params else None
    inner, metric, mode = None, "reward", "max"
    if options.search_alg != "random":
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # not "A new study created in memory ..."
        if options.search_alg == "optuna":
            inner = OptunaSearch(metric=metric, mode=mode, sampler=optuna.samplers.TPESampler(seed=options.seed),
                                 points_to_evaluate=seeds)
        else:  # nsga2: two objectives, so the searcher (not Tune) holds the metrics
            from .optuna_samplers import NSGAIISampler

            inner = OptunaSearch(metric=["top1", "cost"], mode=["max", "min"],
                                 sampler=NSGAIISampler(seed=options.seed), points_to_evaluate=seeds)
            metric = mode = None
    prefilter = options.prefilter
    scorer = ZeroCostScorer(prefilter.score, task.space, task.data) if prefilter.score else None
    return _LoggingBudgetSearcher(task.space, task.budget, task.num_classes, inner=inner, metric=metric, mode=mode,
                                  seed=options.seed, worst=_WORST, log=log,
                                  points_to_evaluate=seeds if inner is None else None,
                                  prefilter=scorer, candidates=prefilter.candidates)


def _tune_config(options: SearchOptions, task: TrialTask, log: RejectionLog, seed_params: dict | None):
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    searcher = _searcher(options, task, log, seed_params)
    scheduler = None
    if options.scheduler == "asha":
        # Grace period 3/4 of the epochs: earlier epochs rank the architectures much as noise
        # does, three quarters of the way they mostly rank them as the last epoch does
        # (docs/fidelity.md, early stopping).
        epochs = options.proxy.epochs
        scheduler = ASHAScheduler(metric="top1", mode="max", time_attr="training_iteration", max_t=epochs,
                                  grace_period=max(1, (3 * epochs) // 4), reduction_factor=2)
    metric = "reward" if searcher.metric and not scheduler else None
    return tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=options.num_samples,
                           metric=metric, mode="max" if metric else None,
                           trial_dirname_creator=lambda trial: trial.trial_id,
                           reuse_actors=True)  # skip worker start-up and TF import per trial


def _describe(task: TrialTask):
    """A search trial's row in the progress table: its id, depths and cost (the budget's)."""
    def describe(trial) -> tuple[str, str, float]:
        spec = task.spec(trial.config, trial.trial_id)
        depths = " ".join(str(len(block.layers)) for block in spec.blocks)
        return trial.trial_id, depths, task.budget.cost(spec, task.num_classes)

    return describe


def run_ray(options: SearchOptions, task: TrialTask, log: RejectionLog, seed_params: dict | None,
            resume: bool) -> tuple[list[dict], list[dict]]:
    """Runs (or resumes) the Ray Tune search; returns (trial records, sampled choices).

    Trials an interruption (Ctrl-C) left unfinished are recorded as 'interrupted', and
    `resume=True` continues them.
    """
    from ray import tune

    output = Path(options.output).resolve()
    trainable = tune.with_resources(tune.with_parameters(run_trial, task=task), options.resources.tune_resources)

    def create() -> tune.Tuner:
        return tune.Tuner(trainable, param_space=tune_param_space(task.space),
                          tune_config=_tune_config(options, task, log, seed_params),
                          run_config=tune.RunConfig(name=EXPERIMENT, storage_path=str(output / "ray"),
                                                    failure_config=tune.FailureConfig(max_failures=1),
                                                    checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                                                    progress_reporter=ProgressTable(
                                                        _describe(task), cost_unit=task.budget.unit),
                                                    verbose=1))

    connect(options.address)
    grid = fit_tuner(output / "ray" / EXPERIMENT, trainable, resume, create)
    trials = saved_trials(grid)
    left = unfinished(trials)
    records, choices = [], []
    for result in grid:
        trial_id = Path(result.path).name
        error = error_line(result)
        config = result.config or trials[trial_id].config  # a trial pending at Ctrl-C has no Result config
        spec = task.spec(config, trial_id)
        records.append(trial_record(trial_id, spec, task.num_classes, result.metrics or {}, error,
                                    member_input=task.member_input, curve=curve_of(result),
                                    interrupted=trial_id in left, latency_ms=task.latency_ms(spec)))
        choices.append({"trial_id": trial_id, **config})
    return records, choices
