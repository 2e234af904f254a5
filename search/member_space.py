"""Searching for one member of the family: the space scaled for its budget (the paper's method).

For target A3, the base is scaled to A3's GFLOPs at A3's published input shape with the rule
(`scaling.scale_to` on the base architecture, a2 by default), and the compound coefficient found
scales the search space (widths, depth range beyond 10) while its trials keep training at the
proxy input. The FLOP budget is a band around A3's GFLOPs checked at A3's full input shape, so
what the search ranks at 8 x 32^2 is what A3 would cost at 120 x 256^2.
"""
from __future__ import annotations

from dataclasses import dataclass

from scaling import official_targets, parse_rule, scale_space, scale_to
from search_space import OFFICIAL_CLASSES, Budget, InputSpec, SearchSpace, load_arch

__all__ = ["TargetPlan", "plan_target"]


@dataclass(frozen=True)
class TargetPlan:
    """The scaled space, the budget band at the target's input, and the phi that gave them."""

    space: SearchSpace
    budget: Budget
    phi: float
    target_gflops: float
    input: InputSpec  # the member's published input: what its searched networks are meant to see


def plan_target(space: SearchSpace, target: str, rule: str = "compound", base: str = "a2", band: float = 0.1,
                num_classes: int = OFFICIAL_CLASSES) -> TargetPlan:
    """The space and budget for searching family member `target` (a0..a6)."""
    [goal] = official_targets([target], num_classes)
    scaled = scale_to(load_arch(base), parse_rule(rule), goal.gflops, goal.input.frames, goal.input.resolution,
                      num_classes=num_classes)
    budget = Budget((1 - band) * goal.gflops, (1 + band) * goal.gflops, goal.input.frames, goal.input.resolution)
    return TargetPlan(scale_space(space, parse_rule(rule), scaled.phi, scale_input=False), budget, scaled.phi,
                      goal.gflops, goal.input)
