"""A compute budget: which architectures a search may train, decided before training.

The budget is an interval of a cost: GFLOPs per clip (analytic), measured at a fixed input
shape when one is given (the scaled search for A3 checks its budget at A3's 120 x 256^2 clips
while its trials train at the small proxy shape) and otherwise at each spec's own input; or
milliseconds per call predicted by a latency table (`search_space.latency`, at the table's
device, threads and input). `space_cost_range` bounds what a search space can reach, so a
budget no architecture meets is an error before any trial.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from .cost import count_flops
from .errors import SpecError
from .space import SearchSpace, parse_kernel
from .spec import ArchSpec

__all__ = ["Budget", "COST_METRICS", "space_cost_range", "check_budget_feasible"]

COST_METRICS = ("gflops", "latency")
_UNITS = {"gflops": "GFLOPs", "latency": "ms"}
_FLAGS = {"gflops": "--gflops", "latency": "--latency-ms"}


@dataclass(frozen=True)
class Budget:
    """Cost interval [low, high] (high None: unbounded): GFLOPs at `frames` x `resolution`^2 if
    set, or (`metric` 'latency') milliseconds predicted by the table at `latency_table`."""

    low: float = 0.0
    high: float | None = None
    frames: int | None = None
    resolution: int | None = None
    metric: str = "gflops"
    latency_table: str | None = None

    def __post_init__(self) -> None:
        if self.metric not in COST_METRICS:
            raise SpecError(f"budget.metric: {self.metric!r} is not one of {', '.join(COST_METRICS)}")
        if self.metric == "latency" and not self.latency_table:
            raise SpecError("objective latency: give --latency-table (a table from run_search.py latency-table)")
        if not (isinstance(self.low, (int, float)) and self.low >= 0):
            raise SpecError(f"budget: the lower bound must be 0 or more {self.unit}, got {self.low!r}")
        if self.high is not None and not self.high > 0:
            raise SpecError(f"budget: the upper bound must be above 0 {self.unit}, got {self.high!r}")
        if self.high is not None and self.low > self.high:
            raise SpecError(f"budget: the lower bound {self.low:g} exceeds the upper bound {self.high:g}")
        for name in ("frames", "resolution"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise SpecError(f"budget.{name}: must be a positive integer, got {value!r}")

    @property
    def unit(self) -> str:
        return _UNITS.get(self.metric, self.metric)

    @property
    def flag(self) -> str:
        """The command-line flag that sets this budget (for messages)."""
        return _FLAGS.get(self.metric, self.metric)

    @classmethod
    def parse(cls, text: str | None, frames: int | None = None, resolution: int | None = None,
              metric: str = "gflops", latency_table: str | None = None) -> "Budget":
        """'0.1:0.5' (either side may be empty); None or '' is no budget."""
        flag, example = _FLAGS.get(metric, metric), "0.05:0.2" if metric == "gflops" else "2:6"
        if not text:
            return cls(frames=frames, resolution=resolution, metric=metric, latency_table=latency_table)
        try:
            low, high = (float(part) if part else None for part in text.split(":"))
        except ValueError:
            raise SpecError(f"{flag}: expected MIN:MAX in {_UNITS.get(metric)} (e.g. {example}), "
                            f"got {text!r}") from None
        if any(v is not None and not math.isfinite(v) for v in (low, high)):
            raise SpecError(f"{flag}: expected finite numbers, got {text!r}")
        try:
            return cls(low or 0.0, high, frames, resolution, metric, latency_table)
        except SpecError as err:
            raise SpecError(f"{flag} {text}: {str(err).split(': ', 1)[1]}") from None

    @property
    def upper(self) -> float:
        return math.inf if self.high is None else self.high

    def cost(self, spec: ArchSpec, num_classes: int) -> float:
        """The spec's GFLOPs at the budget's input shape (or its own), or its predicted latency."""
        if self.metric == "latency":
            return _latency_table(self.latency_table).predict(spec).ms
        return count_flops(spec, self.frames, self.resolution, num_classes).gflops

    def __contains__(self, gflops: float) -> bool:
        return self.low <= gflops <= self.upper

    def __str__(self) -> str:
        if self.metric == "latency":
            return f"{self.low:g}:{self.upper:g} ms ({_latency_table(self.latency_table).describe()})"
        shape = f" at {self.frames or 'spec'}x{self.resolution or 'spec'}" if self.frames or self.resolution else ""
        return f"{self.low:g}:{self.upper:g} GFLOPs{shape}"


@functools.lru_cache(maxsize=4)
def _latency_table(path: str):
    from .latency import LatencyTable  # the latency model imports the space, which imports this module

    return LatencyTable.load(path)


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


def space_cost_range(space: SearchSpace, budget: Budget, num_classes: int) -> tuple[float, float]:
    """The cost of the cheapest and the most expensive architecture of `space` (least and most
    compute in every dimension), at the budget's shape or on its latency table."""
    return (budget.cost(space.to_spec(_extreme(space, True)), num_classes),
            budget.cost(space.to_spec(_extreme(space, False)), num_classes))


def check_budget_feasible(space: SearchSpace, budget: Budget, num_classes: int) -> tuple[float, float]:
    """The space's cost range; SpecError if the budget lies outside it entirely."""
    low, high = space_cost_range(space, budget, num_classes)
    if budget.upper < low or budget.low > high:
        raise SpecError(f"{budget.flag} {budget}: no architecture in the search space meets it "
                        f"(the space spans {low:.4g} to {high:.4g} {budget.unit})")
    return low, high
