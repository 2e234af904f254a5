"""Sampling architectures under a compute budget (GFLOPs or predicted latency) for Ray Tune.

`BudgetSearcher` wraps any Ray Tune `Searcher` (Optuna TPE or NSGA-II) or, with none, samples
uniformly at random. A suggestion whose cost falls outside the budget is rejected
before any trial starts, told back to the wrapped searcher as a worst-case result so it learns
to avoid that region, and counted in `rejected` (written out with the results), never silently
dropped. A budget that no architecture of the space can meet is an error before the search.
Random sampling can be prefiltered: `candidates` in-budget draws per trial, the one `prefilter`
(a zero-cost score) ranks highest trained, the others recorded in `rejected` with their score.
"""
from __future__ import annotations

import pickle
import random
from typing import Callable

from ray.tune.search import Searcher

from search_space import SearchSpace, SpecError
from search_space.budget import Budget

__all__ = ["BudgetSearcher"]

_MAX_TRIES = 10_000


class BudgetSearcher(Searcher):
    """Suggests only in-budget architectures; rejected ones are recorded in `rejected`."""

    def __init__(self, space: SearchSpace, budget: Budget, num_classes: int, inner: Searcher | None = None,
                 metric: str | list[str] | None = None, mode: str | list[str] | None = None, seed: int = 0,
                 worst: dict | None = None, points_to_evaluate: list[dict] | None = None,
                 prefilter: Callable[[dict], float] | None = None, candidates: int = 1):
        super().__init__(metric=metric, mode=mode)
        self.space = space
        self.budget = budget
        self.num_classes = num_classes
        self.inner = inner
        self.rng = random.Random(seed)
        self.worst = worst or {}
        self.rejected: list[dict] = []
        self.pending = list(points_to_evaluate or [])  # e.g. a seed architecture, tried first
        self.prefilter = prefilter
        self.candidates = candidates
        self._alias: dict[str, str] = {}  # our trial id -> the wrapped searcher's probe id
        self._tries = 0

    def set_search_properties(self, metric, mode, config, **spec) -> bool:
        """Takes Tune's param space (only the wrapped searcher needs it; we sample `space`)."""
        if self.inner is not None and not self.inner.set_search_properties(metric, mode, config, **spec):
            return False
        if metric is not None and self._metric is None:
            self._metric, self._mode = metric, mode
        return True

    def cost(self, params: dict) -> float:
        return self.budget.cost(self.space.to_spec(params), self.num_classes)

    def suggest(self, trial_id: str):
        if self.prefilter is None or self.inner is not None or self.pending:
            return self._in_budget(trial_id)
        drawn = [self._in_budget(trial_id) for _ in range(self.candidates)]
        scores = [self.prefilter(params) for params in drawn]
        best = max(range(len(drawn)), key=scores.__getitem__)
        for params, score in zip(drawn, scores):
            if params is not drawn[best]:
                self.rejected.append({**params, self.budget.metric: self.cost(params), "status": "prefiltered",
                                      "zero_cost": score})
        return drawn[best]

    def _in_budget(self, trial_id: str):
        for _ in range(_MAX_TRIES):
            self._tries += 1
            probe = f"{trial_id}_probe{self._tries}"
            if self.inner is not None:
                params = self.inner.suggest(probe)
            else:
                params = self.pending.pop(0) if self.pending else self.space.sample(self.rng)
            if params is None or params == Searcher.FINISHED:
                return params
            cost = self.cost(params)
            if cost in self.budget:
                if self.inner is not None:
                    self._alias[trial_id] = probe
                return params
            self.rejected.append({**params, self.budget.metric: cost, "status": "rejected_budget"})
            if self.inner is not None:
                self.inner.on_trial_complete(probe, result={**self.worst, "cost": cost})
        raise SpecError(f"{self.budget.flag} {self.budget}: {_MAX_TRIES} samples in a row fell outside the budget")

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        if self.inner is not None and trial_id in self._alias:
            self.inner.on_trial_result(self._alias[trial_id], result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if self.inner is not None and trial_id in self._alias:
            self.inner.on_trial_complete(self._alias.pop(trial_id), result=result, error=error)

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as handle:
            pickle.dump(self.__dict__, handle)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as handle:
            self.__dict__.update(pickle.load(handle))
