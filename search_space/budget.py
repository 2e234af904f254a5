"""A FLOP budget: which architectures a search may train, decided analytically before training.

The budget is an interval of GFLOPs per clip, measured at a fixed input shape when one is given
(the scaled search for A3 checks its budget at A3's 120 x 256^2 clips while its trials train at
the small proxy shape) and otherwise at each spec's own input. `space_gflops_range` bounds what
a search space can reach, so a budget no architecture meets is an error before any trial.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .cost import count_flops
from .errors import SpecError
from .space import SearchSpace, parse_kernel
from .spec import ArchSpec

__all__ = ["Budget", "space_gflops_range", "check_budget_feasible"]


@dataclass(frozen=True)
class Budget:
    """GFLOPs interval [low, high] (high None: unbounded) at `frames` x `resolution`^2 if set."""

    low: float = 0.0
    high: float | None = None
    frames: int | None = None
    resolution: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.low, (int, float)) and self.low >= 0):
            raise SpecError(f"budget: the lower bound must be 0 or more GFLOPs, got {self.low!r}")
        if self.high is not None and not self.high > 0:
            raise SpecError(f"budget: the upper bound must be above 0 GFLOPs, got {self.high!r}")
        if self.high is not None and self.low > self.high:
            raise SpecError(f"budget: the lower bound {self.low:g} exceeds the upper bound {self.high:g}")
        for name in ("frames", "resolution"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise SpecError(f"budget.{name}: must be a positive integer, got {value!r}")

    @classmethod
    def parse(cls, text: str | None, frames: int | None = None, resolution: int | None = None) -> "Budget":
        """'0.1:0.5' (either side may be empty); None or '' is no budget."""
        if not text:
            return cls(frames=frames, resolution=resolution)
        try:
            low, high = (float(part) if part else None for part in text.split(":"))
        except ValueError:
            raise SpecError(f"--gflops: expected MIN:MAX in GFLOPs (e.g. 0.05:0.2), got {text!r}") from None
        if any(v is not None and not math.isfinite(v) for v in (low, high)):
            raise SpecError(f"--gflops: expected finite numbers, got {text!r}")
        try:
            return cls(low or 0.0, high, frames, resolution)
        except SpecError as err:
            raise SpecError(f"--gflops {text}: {str(err).split(': ', 1)[1]}") from None

    @property
    def upper(self) -> float:
        return math.inf if self.high is None else self.high

    def gflops(self, spec: ArchSpec, num_classes: int) -> float:
        """The spec's GFLOPs at the budget's input shape (or its own)."""
        return count_flops(spec, self.frames, self.resolution, num_classes).gflops

    def __contains__(self, gflops: float) -> bool:
        return self.low <= gflops <= self.upper

    def __str__(self) -> str:
        shape = f" at {self.frames or 'spec'}x{self.resolution or 'spec'}" if self.frames or self.resolution else ""
        return f"{self.low:g}:{self.upper:g} GFLOPs{shape}"


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


def space_gflops_range(space: SearchSpace, budget: Budget, num_classes: int) -> tuple[float, float]:
    """GFLOPs of the cheapest and the most expensive architecture of `space`, at the budget's shape."""
    return (budget.gflops(space.to_spec(_extreme(space, True)), num_classes),
            budget.gflops(space.to_spec(_extreme(space, False)), num_classes))


def check_budget_feasible(space: SearchSpace, budget: Budget, num_classes: int) -> tuple[float, float]:
    """The space's GFLOPs range; SpecError if the budget lies outside it entirely."""
    low, high = space_gflops_range(space, budget, num_classes)
    if budget.upper < low or budget.low > high:
        raise SpecError(f"--gflops {budget}: no architecture in the search space meets it "
                        f"(the space spans {low:.4g} to {high:.4g} GFLOPs)")
    return low, high
