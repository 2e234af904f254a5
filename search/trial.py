"""A search trial: how a sampled point of the space becomes a scored architecture.

`TrialTask` holds what every trial of one search shares (space, data, proxy, budget, reward)
and `run_trial` is the Ray Tune trainable: the sampled parameters become a spec, trained by
the proxy as a Ray Tune trial (`proxies.ray_trial`), each epoch's report carrying the reward.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from proxies.config import ProxyConfig
from proxies.ray_trial import prepare_worker, train_and_report
from search_space import ArchSpec, Budget, InputSpec, SearchSpace
from video_data.config import DataConfig

__all__ = ["TrialTask", "run_trial", "reward", "FAULT_ENV"]

FAULT_ENV = "MOVINET_FAIL_TRIALS_WITH"


@dataclass(frozen=True)
class TrialTask:
    """What every trial of one search shares: how a sampled point becomes a scored architecture."""

    space: SearchSpace
    data: DataConfig
    proxy: ProxyConfig
    budget: Budget
    reward: str
    num_classes: int
    cpus: float = 1.0
    member_input: InputSpec | None = None  # a --target search's member input (trials train at the space's)

    def spec(self, params: dict, trial_id: str) -> ArchSpec:
        """The network a trial trains, at the space's (proxy) input shape."""
        return self.space.to_spec(params, name=f"trial_{trial_id}")

    def score(self, top1: float, spec: ArchSpec) -> float:
        """The search's reward for a trial of `spec` that reached `top1`."""
        target = self.budget.high
        return reward(top1, self.budget.cost(spec, self.num_classes) if target else 0.0, self.reward, target)

    def latency_ms(self, spec: ArchSpec) -> float:
        """The predicted latency of `spec` in a latency search (NaN in a GFLOPs search)."""
        return self.budget.cost(spec, self.num_classes) if self.budget.metric == "latency" else math.nan


def reward(top1: float, cost: float, kind: str, target: float | None, beta: float = -0.5) -> float:
    """Accuracy, or the TuNAS absolute-value reward top1 + beta * |cost / target - 1| (cost in
    GFLOPs or predicted milliseconds, whichever the budget holds)."""
    if not math.isfinite(top1):
        return 0.0
    if kind == "accuracy" or not target:
        return top1
    return top1 + beta * abs(cost / target - 1.0)


def _maybe_inject_fault(params: dict) -> None:
    """Fault injection for resilience tests: MOVINET_FAIL_TRIALS_WITH=name=value fails matching trials."""
    rule = os.environ.get(FAULT_ENV)
    if rule:
        name, value = rule.split("=", 1)
        if str(params.get(name)) == value:
            raise RuntimeError(f"injected failure for {name}={value}")


def run_trial(params: dict, task: TrialTask) -> None:
    """Trainable: `params` is one point of `task.space`."""
    from ray import tune

    prepare_worker(task.cpus)
    _maybe_inject_fault(params)
    spec = task.spec(params, tune.get_context().get_trial_id())
    cost = task.budget.cost(spec, task.num_classes)  # the second objective of NSGA-II
    train_and_report(spec, task.proxy, task.data,
                     lambda metrics: {"reward": task.score(metrics["top1"], spec), "cost": cost})
