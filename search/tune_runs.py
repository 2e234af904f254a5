"""Ray Tune runs the toolkit's way: started or resumed from their folder, shown live as a table
written for people, and read back knowing what an interruption left unfinished.

Searches and the fixed grids of trainings (fidelity, coefficient fits) share all of it: one
`fit_tuner` that restores an experiment from its folder or creates it, one console
(`ProgressTable`: every `interval` seconds and at the end, a line of counts and one row per
trial with its architecture's depths, GFLOPs and last epoch; Ray's stock reporter prints a
column per sampled parameter, its log paths and bracket statistics), and `unfinished`, the
trials a Ctrl-C left to resume.
"""
from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Callable

from ray import tune
from ray.tune import ProgressReporter

__all__ = ["ProgressTable", "quiet_tune", "fit_tuner", "unfinished", "curve_of", "error_line", "Describe"]

# A trial's row: its name, the depths of its blocks ('1 3 3 4 4') and its cost (GFLOPs or ms).
Describe = Callable[[object], tuple[str, str, float]]

_COLUMNS = "{state:<15}{depths:<16}{cost:>8}{epoch:>7}{top1:>8}{rate:>9}"


class ProgressTable(ProgressReporter):
    """Counts and a compact per-trial table, at most every `interval` seconds and when done."""

    def __init__(self, describe: Describe, interval: float = 20.0, cost_unit: str = "GFLOPs"):
        self.describe = describe
        self.columns = _COLUMNS.format(state="state", depths="depths", cost=cost_unit, epoch="epoch", top1="top-1",
                                       rate="clips/s")
        self.interval = interval
        self.start = time.time()
        self.total: int | None = None
        self._last = 0.0
        self._rows: dict[str, tuple[str, str, float]] = {}
        self._width = 10

    def setup(self, start_time=None, total_samples=None, metric=None, mode=None, **kwargs):
        self.start = start_time or self.start
        self.total = total_samples

    def should_report(self, trials, done: bool = False) -> bool:
        return done or time.time() - self._last >= self.interval

    def _state(self, trial) -> str:
        result = trial.last_result or {}
        if trial.status == "TERMINATED":
            return "stopped early" if result.get("status") == "running" else (result.get("status") or "done")
        return {"PENDING": "pending", "RUNNING": "running", "ERROR": "error", "PAUSED": "paused"}.get(
            trial.status, trial.status.lower())

    def _row(self, trial) -> str:
        name = self._name(trial)
        _, depths, gflops = self._rows[trial.trial_id]
        result = trial.last_result or {}
        epoch = result.get("epoch")
        top1 = result.get("top1", math.nan)
        rate = result.get("train_clips_per_s", math.nan)
        metrics = (f"{epoch:>7}{top1:>8.3f}{rate:>9.1f}" if epoch else f"{'':>7}{'':>8}{'':>9}")
        return f"{name:<{self._width}}{self._state(trial):<15}{depths:<16}{gflops:>8.4g}{metrics}"

    def report(self, trials, done: bool, *sys_info) -> None:
        self._last = time.time()
        states = [self._state(t) for t in trials]
        finished = [t for t, s in zip(trials, states) if s in ("ok", "stopped early")]
        best = max(finished, key=lambda t: t.last_result.get("top1", -1.0), default=None)
        elapsed = time.strftime("%H:%M:%S", time.gmtime(time.time() - self.start))
        counts = ", ".join(f"{states.count(s)} {s}" for s in ("running", "ok", "stopped early", "error", "diverged", "oom")
                           if states.count(s))
        line = f"[{elapsed}] {len(trials)}/{self.total or '?'} trials started: {counts or 'none yet'}"
        if best is not None:
            line += f"; best top-1 {best.last_result['top1']:.3f} ({self._name(best)})"
        self._width = 2 + max([len("trial")] + [len(self._name(t)) for t in trials])
        header = f"{'trial':<{self._width}}{self.columns}"
        print("\n".join([line, header] + [self._row(t) for t in trials]) + "\n", flush=True)

    def _name(self, trial) -> str:
        if trial.trial_id not in self._rows:
            self._rows[trial.trial_id] = self.describe(trial)
        return self._rows[trial.trial_id][0]


def _without_restore_advice(record: logging.LogRecord) -> bool:
    """Drops Tune's "Resume experiment with: Tuner.restore(...)" after a Ctrl-C: the toolkit says
    how to resume with its own command (`--resume`)."""
    return "Tuner.restore(" not in record.getMessage()


def quiet_tune() -> None:
    """Tune's console as people need it: the classic output engine (which takes our tables),
    without its warning that per-epoch trial checkpoints make it snapshot its state often (a
    user cannot act on it) or its per-run INFO lines (the summary says the same). On resume,
    Tune reads every trial's results and warns once per trial that never started (it has none
    yet: 21 lines for a grid interrupted early); those are resumed like the rest. Nor does it
    print "may be a performance bottleneck" when handling a result took over 0.5 s: on 2 cores
    busy with training, recording a trial's epoch sometimes does (4 lines in a default search),
    and its advice (report less often) does not apply to once-per-epoch reports."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    logging.getLogger("ray.tune.tune").addFilter(_without_restore_advice)
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    logging.getLogger("ray.tune.tune").setLevel(logging.WARNING)
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)
    logging.getLogger("ray.tune.utils.util").setLevel(logging.ERROR)


def fit_tuner(experiment: Path, trainable, resume: bool, create: Callable[[], tune.Tuner],
              retry_errored: bool = False) -> tune.ResultGrid:
    """Runs the experiment in `experiment` (a folder under a run's `ray/`): with `resume`, what
    Ray saved there is restored (finished trials kept, unfinished ones continued from their last
    checkpoint, failed ones retried only with `retry_errored`); otherwise `create()` makes it."""
    quiet_tune()
    if resume and tune.Tuner.can_restore(str(experiment)):
        tuner = tune.Tuner.restore(str(experiment), trainable=trainable, resume_errored=retry_errored,
                                   restart_errored=False, resume_unfinished=True)
    else:
        tuner = create()
    return tuner.fit()


def saved_trials(grid: tune.ResultGrid) -> dict[str, "tune.experiment.Trial"]:
    """Tune's saved state of each trial, by trial id: its status, and its config even when an
    interruption (Ctrl-C) came before the trial's first report, whose Result then has none."""
    return {trial.trial_id: trial for trial in tune.ExperimentAnalysis(grid.experiment_path).trials}


def unfinished(trials: dict[str, "tune.experiment.Trial"]) -> set[str]:
    """Trials that an interruption (Ctrl-C) left pending or running, which `--resume` continues.
    Their results look like failures or early stops otherwise."""
    return {trial_id for trial_id, trial in trials.items() if trial.status not in ("TERMINATED", "ERROR")}


def error_line(result) -> str | None:
    """A failed trial's error as its record keeps it: the exception's last line, cut to 300
    characters (None when the trial did not fail)."""
    return str(result.error).strip().splitlines()[-1][:300] if result.error is not None else None


def curve_of(result) -> list[float]:
    """A trial's held-out top-1 after each epoch it reported."""
    history = result.metrics_dataframe
    return history["top1"].dropna().tolist() if history is not None and "top1" in history else []
