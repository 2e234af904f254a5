"""Scaling rules as small objects: how much depth, width, resolution and frames one step buys.

A rule maps the compound coefficient phi to four multipliers. Cost grows about as
depth x width^2 x resolution^2 x frames, so a rule whose product depth * width^2 *
resolution^2 * frames is ~2 doubles the cost per unit of phi.

- `Compound`: EfficientNet's multipliers alpha^phi, beta^phi, gamma^phi (Tan & Le 2019: 1.2,
  1.1, 1.15 from a grid search at phi = 1), extended to video with frames tau^phi; the default
  tau = 1.04 brings the product from 1.92 to 2.0. User coefficients are the same object.
- `WidthDominant` (Dollar et al. 2021, "dWr"): a cost scale s = 2^phi split by exponents that sum
  to 1, most of it on width (0.8), so activations grow ~sqrt(s) and the network runs faster at
  equal FLOPs; depth and resolution share the rest.
- `Greedy` (X3D): no formula; a path of single-axis expansions chosen by training (see
  `scaling.x3d`), phi counting steps along it.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from infra.errors import OptionsError
from infra.files import read_json

__all__ = ["Multipliers", "Compound", "WidthDominant", "Greedy", "Rule", "parse_rule", "AXES"]

AXES = ("depth", "width", "resolution", "frames")


@dataclass(frozen=True)
class Multipliers:
    """How much each axis grows (1.0: unchanged)."""

    depth: float = 1.0
    width: float = 1.0
    resolution: float = 1.0
    frames: float = 1.0

    @property
    def cost(self) -> float:
        return self.depth * self.width ** 2 * self.resolution ** 2 * self.frames


@dataclass(frozen=True)
class Compound:
    """depth alpha^phi, width beta^phi, resolution gamma^phi, frames tau^phi."""

    depth: float = 1.2
    width: float = 1.1
    resolution: float = 1.15
    frames: float = 1.04
    name: str = "compound"

    def multipliers(self, phi: float) -> Multipliers:
        return Multipliers(self.depth ** phi, self.width ** phi, self.resolution ** phi, self.frames ** phi)

    def describe(self) -> str:
        cost = self.multipliers(1.0).cost
        return (f"{self.name}: depth {self.depth:g}, width {self.width:g}, resolution {self.resolution:g}, "
                f"frames {self.frames:g} per step (cost x{cost:.2f})")


@dataclass(frozen=True)
class WidthDominant:
    """Cost scale s = 2^phi split as s^depth, s^(width/2), s^(resolution/2), s^frames (exponents sum to 1)."""

    depth: float = 0.1
    width: float = 0.8
    resolution: float = 0.1
    frames: float = 0.0
    name: str = "dwr"

    def multipliers(self, phi: float) -> Multipliers:
        s = 2.0 ** phi
        return Multipliers(s ** self.depth, s ** (self.width / 2), s ** (self.resolution / 2), s ** self.frames)

    def describe(self) -> str:
        return (f"{self.name}: of each doubling of cost, {self.width:.0%} on width, {self.depth:.0%} on depth, "
                f"{self.resolution:.0%} on resolution, {self.frames:.0%} on frames")


@dataclass(frozen=True)
class Greedy:
    """X3D: the axes to expand, in order, each step multiplying one axis by its `factor`."""

    path: tuple[str, ...]
    factors: tuple[tuple[str, float], ...] = (("depth", 2.0), ("width", math.sqrt(2.0)),
                                              ("resolution", math.sqrt(2.0)), ("frames", 2.0))
    name: str = "x3d"

    def multipliers(self, phi: float) -> Multipliers:
        """phi whole steps along the path (fractions scale the next step); negative phi shrinks
        along the path's first axis."""
        factors = dict(self.factors)
        values = dict.fromkeys(AXES, 1.0)
        steps = list(self.path) or ["width"]
        remaining = phi
        index = 0
        while remaining > 1e-12:
            axis = steps[min(index, len(steps) - 1)]
            values[axis] *= factors[axis] ** min(1.0, remaining)
            remaining -= 1.0
            index += 1
        if phi < 0:
            values[steps[0]] = factors[steps[0]] ** phi
        return Multipliers(**values)

    def describe(self) -> str:
        return f"{self.name}: expand {' -> '.join(self.path)} (each step ~2x cost)"


Rule = Compound | WidthDominant | Greedy


def parse_rule(text: str) -> Rule:
    """'compound', 'compound:1.2,1.1,1.15,1.04' (depth, width, resolution, frames), 'dwr',
    'dwr:0.1,0.8,0.1,0' (exponents), 'x3d:frames,width,...' or 'fitted:DIR' (a --fit result)."""
    kind, _, values = text.partition(":")
    if kind == "compound":
        return Compound(*_coefficients(text, values, positive=True)) if values else Compound()
    if kind == "dwr":
        rule = WidthDominant(*_coefficients(text, values, positive=False)) if values else WidthDominant()
        if abs(rule.depth + rule.width + rule.resolution + rule.frames - 1.0) > 1e-6:
            raise OptionsError(f"--rule {text}: the exponents must sum to 1")
        return rule
    if kind == "x3d" and values:
        path = tuple(values.split(","))
        unknown = [axis for axis in path if axis not in AXES]
        if unknown:
            raise OptionsError(f"--rule {text}: {unknown[0]!r} is not one of {', '.join(AXES)}")
        return Greedy(path)
    if kind == "fitted" and values:
        return _fitted(Path(values))
    raise OptionsError(f"--rule {text}: expected compound[:a,b,c,d], dwr[:d,w,r,t], x3d:AXIS,... or fitted:DIR")


def _coefficients(text: str, values: str, positive: bool) -> list[float]:
    """The four numbers (depth, width, resolution, frames) after a rule's colon, all of them."""
    parts = values.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise OptionsError(f"--rule {text}: expected numbers after the colon") from None
    if len(numbers) != len(AXES):
        raise OptionsError(f"--rule {text}: expected {len(AXES)} numbers ({', '.join(AXES)}), got {len(numbers)}")
    bad = [(axis, v) for axis, v in zip(AXES, numbers) if not math.isfinite(v) or (v <= 0 if positive else v < 0)]
    if bad:
        raise OptionsError(f"--rule {text}: the {bad[0][0]} coefficient must be {'above' if positive else 'at least'} "
                           f"0, got {bad[0][1]:g}")
    return numbers


def _fitted(folder: Path) -> Rule:
    """The rule a `scale --fit` (or X3D) run chose, from its fitted.json."""
    path = folder / "fitted.json"
    if not path.is_file():
        raise OptionsError(f"{folder}: no fitted.json (written by `run_search.py scale --fit`)")
    data = read_json(path, "fitted.json")
    chosen = data.get("chosen") if isinstance(data, dict) else None
    if isinstance(chosen, dict) and "path" in chosen:
        steps = chosen["path"]
        if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
            raise OptionsError(f"{path}: chosen.path: must be a list of axes, got {steps!r}")
        return parse_rule(f"x3d:{','.join(steps)}") if steps else Greedy(())
    if not isinstance(chosen, dict) or not all(isinstance(chosen.get(axis), (int, float)) for axis in AXES):
        raise OptionsError(f"{path}: chosen: expected the four coefficients {', '.join(AXES)} or an X3D path")
    rule = parse_rule("compound:" + ",".join(str(chosen[axis]) for axis in AXES))
    return dataclasses.replace(rule, name="fitted")
