"""Candidate coefficient sets for fitting a compound rule, as the paper found its coefficients.

EfficientNet fixed phi = 1 (twice the cost) and grid-searched alpha, beta, gamma under
alpha * beta^2 * gamma^2 ~= 2; MoViNets "found the coefficients by random search". Here random
search draws (depth, width, resolution, frames) sets whose cost product lies in [1.8, 2.2];
each is scored by proxy-training the base scaled by it at phi = 1 (`search.scaling_fit`).
"""
from __future__ import annotations

import random

from .rules import Compound, Multipliers

__all__ = ["sample_coefficients", "COST_RANGE"]

COST_RANGE = (1.8, 2.2)
_RANGES = {"depth": (1.0, 2.0), "width": (1.0, 1.45), "resolution": (1.0, 1.45), "frames": (1.0, 2.0)}


def sample_coefficients(count: int, seed: int = 0, cost_range: tuple[float, float] = COST_RANGE) -> list[Compound]:
    """`count` random coefficient sets (rounded to 0.01) whose cost product is within `cost_range`."""
    rng = random.Random(seed)
    found: list[Compound] = []
    while len(found) < count:
        values = {axis: round(rng.uniform(*bounds), 2) for axis, bounds in _RANGES.items()}
        if cost_range[0] <= Multipliers(**values).cost <= cost_range[1]:
            # named by the rule that replays it: `--rule compound:1.21,1.1,1.15,1.04`
            found.append(Compound(**values, name="compound:" + ",".join(f"{values[a]:g}" for a in values)))
    return found
