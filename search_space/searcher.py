"""Sampling architectures under a FLOP budget for Ray Tune.

`BudgetSearcher` wraps any Ray Tune `Searcher` (Optuna TPE or NSGA-II) or, with none, samples
uniformly at random. A suggestion whose analytic GFLOPs fall outside the budget is rejected
before any trial starts, told back to the wrapped searcher as a worst-case result so it learns
to avoid that region, and counted in `rejected` (written out with the results), never silently
dropped. A budget that no architecture of the space can meet is an error before the search.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from ray.tune.search import Searcher

from .flops import count_flops
from .space import SearchSpace, parse_kernel
from .spec import SpecError

__all__ = ["Budget", "BudgetSearcher", "check_budget_feasible"]

_MAX_TRIES = 10_000


@dataclass(frozen=True)
class Budget:
    """GFLOPs interval at the search input shape; `parse("0.1:0.5")`, either side may be empty."""

    low: float = 0.0
    high: float = float("inf")

    @classmethod
    def parse(cls, text: str | None) -> "Budget":
        if not text:
            return cls()
        try:
            low, high = text.split(":")
            budget = cls(float(low) if low else 0.0, float(high) if high else float("inf"))
        except ValueError:
            raise SpecError(f"--gflops: expected MIN:MAX in GFLOPs (e.g. 0.05:0.2), got {text!r}") from None
        if budget.low > budget.high:
            raise SpecError(f"--gflops: MIN {budget.low} exceeds MAX {budget.high}")
        return budget

    def __contains__(self, gflops: float) -> bool:
        return self.low <= gflops <= self.high

    def __str__(self) -> str:
        return f"{self.low:g}:{self.high:g} GFLOPs"


def _extreme(space: SearchSpace, cheapest: bool) -> dict:
    """The parameter choice with the least (or most) compute in every dimension."""
    pick = min if cheapest else max
    params = {}
    for name, values in space.choices().items():
        if name.endswith("_kernel"):
            params[name] = pick(values, key=lambda k: _kernel_cost(parse_kernel(k)))
        else:
            params[name] = pick(values)
    return params


def _kernel_cost(kernel) -> float:
    kt, kh, kw = kernel
    return kt * kh * kw + 0.5 * (kt - 1) * ((kh, kw) != (1, 1))


def check_budget_feasible(space: SearchSpace, budget: Budget, num_classes: int) -> tuple[float, float]:
    """The space's GFLOPs range; SpecError if the budget lies outside it entirely."""
    low = count_flops(space.to_spec(_extreme(space, True)), num_classes=num_classes).gflops
    high = count_flops(space.to_spec(_extreme(space, False)), num_classes=num_classes).gflops
    if budget.high < low or budget.low > high:
        raise SpecError(f"--gflops {budget}: no architecture in the search space meets it "
                        f"(the space spans {low:.4g} to {high:.4g} GFLOPs at its input shapes)")
    return low, high


class BudgetSearcher(Searcher):
    """Suggests only in-budget architectures; rejected ones are recorded in `rejected`."""

    def __init__(self, space: SearchSpace, budget: Budget, num_classes: int, inner: Searcher | None = None,
                 metric: str | list[str] | None = None, mode: str | list[str] | None = None, seed: int = 0,
                 worst: dict | None = None, points_to_evaluate: list[dict] | None = None):
        super().__init__(metric=metric, mode=mode)
        self.space = space
        self.budget = budget
        self.num_classes = num_classes
        self.inner = inner
        self.rng = random.Random(seed)
        self.worst = worst or {}
        self.rejected: list[dict] = []
        self.pending = list(points_to_evaluate or [])  # e.g. a seed architecture, tried first
        self._alias: dict[str, str] = {}  # our trial id -> the wrapped searcher's probe id
        self._tries = 0

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        """Takes Tune's param space (only the wrapped searcher needs it; we sample `space`)."""
        if self.inner is not None and not self.inner.set_search_properties(metric, mode, config, **spec):
            return False
        if metric is not None and self._metric is None:
            self._metric, self._mode = metric, mode
        return True

    def gflops(self, params: dict) -> float:
        return count_flops(self.space.to_spec(params), num_classes=self.num_classes).gflops

    def suggest(self, trial_id: str):
        for _ in range(_MAX_TRIES):
            self._tries += 1
            probe = f"{trial_id}_probe{self._tries}"
            if self.inner is not None:
                params = self.inner.suggest(probe)
            else:
                params = self.pending.pop(0) if self.pending else self.space.sample(self.rng)
            if params is None or params == Searcher.FINISHED:
                return params
            gflops = self.gflops(params)
            if gflops in self.budget:
                if self.inner is not None:
                    self._alias[trial_id] = probe
                return params
            self.rejected.append({**params, "gflops": gflops, "status": "rejected_budget"})
            if self.inner is not None:
                self.inner.on_trial_complete(probe, result={**self.worst, "gflops": gflops})
        raise SpecError(f"--gflops {self.budget}: {_MAX_TRIES} samples in a row fell outside the budget")

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        if self.inner is not None and trial_id in self._alias:
            self.inner.on_trial_result(self._alias[trial_id], result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if self.inner is not None and trial_id in self._alias:
            self.inner.on_trial_complete(self._alias.pop(trial_id), result=result, error=error)

    def save(self, checkpoint_path: str) -> None:
        import pickle

        with open(checkpoint_path, "wb") as handle:
            pickle.dump(self.__dict__, handle)

    def restore(self, checkpoint_path: str) -> None:
        import pickle

        with open(checkpoint_path, "rb") as handle:
            self.__dict__.update(pickle.load(handle))
