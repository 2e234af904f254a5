"""The live progress table of a Ray Tune search, sized for a terminal and written for people.

Ray's stock reporter prints one column per sampled parameter, its own log paths and internal
bracket statistics; this one prints, every `interval` seconds and at the end, one line of counts
(running, done, stopped early, failed, best top-1, elapsed) and one row per trial: its id and
state, the architecture's depths and GFLOPs (at the budget's input shape: a family member's
published input in a `--target` search), and its last epoch's metrics.
"""
from __future__ import annotations

import logging
import math
import os
import time

from ray.tune import ProgressReporter

from .trial import TrialTask

__all__ = ["ProgressTable", "quiet_tune"]

_HEADER = f"{'trial':<10}{'state':<15}{'depths':<16}{'GFLOPs':>8}{'epoch':>7}{'top-1':>8}{'clips/s':>9}"


class ProgressTable(ProgressReporter):
    """Counts and a compact per-trial table, at most every `interval` seconds and when done."""

    def __init__(self, task: TrialTask, interval: float = 20.0):
        self.task = task
        self.interval = interval
        self.start = time.time()
        self.total: int | None = None
        self._last = 0.0
        self._gflops: dict[str, float] = {}

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

    def _gflops_of(self, trial) -> float:
        if trial.trial_id not in self._gflops:
            spec = self.task.spec(trial.config, trial.trial_id)
            self._gflops[trial.trial_id] = self.task.budget.gflops(spec, self.task.num_classes)
        return self._gflops[trial.trial_id]

    def _row(self, trial) -> str:
        result = trial.last_result or {}
        depths = " ".join(str(trial.config.get(f"block{b}_depth", "?")) for b in range(5))
        epoch = result.get("epoch")
        top1 = result.get("top1", math.nan)
        rate = result.get("train_clips_per_s", math.nan)
        metrics = (f"{epoch:>7}{top1:>8.3f}{rate:>9.1f}" if epoch else f"{'':>7}{'':>8}{'':>9}")
        return f"{trial.trial_id:<10}{self._state(trial):<15}{depths:<16}{self._gflops_of(trial):>8.4f}{metrics}"

    def report(self, trials, done: bool, *sys_info) -> None:
        self._last = time.time()
        states = [self._state(t) for t in trials]
        finished = [t for t, s in zip(trials, states) if s in ("ok", "stopped early")]
        best = max(finished, key=lambda t: t.last_result.get("top1", -1.0), default=None)
        elapsed = time.strftime("%H:%M:%S", time.gmtime(time.time() - self.start))
        counts = ", ".join(f"{states.count(s)} {s}" for s in ("running", "ok", "stopped early", "error", "nan", "oom")
                           if states.count(s))
        line = f"[{elapsed}] {len(trials)}/{self.total or '?'} trials started: {counts or 'none yet'}"
        if best is not None:
            line += f"; best top-1 {best.last_result['top1']:.3f} ({best.trial_id})"
        print("\n".join([line, _HEADER] + [self._row(t) for t in trials]) + "\n", flush=True)


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
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    logging.getLogger("ray.tune.tune").setLevel(logging.WARNING)
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)
    logging.getLogger("ray.tune.utils.util").setLevel(logging.ERROR)
