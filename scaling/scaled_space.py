"""Scaled search spaces, the paper's method: every MoViNet but A2 was searched in a copy of the
base space scaled for its budget, not obtained by scaling one network.

`scale_space(space, rule, phi)` multiplies the space's width choices (stem, every block, head)
by the rule's width multiplier and its depth range by the depth multiplier (beyond the base
space's 10 layers when phi > 0: A5 has a block of 18), and its frames and resolution choices
by theirs, rounding as `scaling.scale` does. Expansion ratios and kernels stay: they are
relative to the block width.
"""
from __future__ import annotations

import dataclasses

from search_space import SearchSpace
from search_space.rounding import round_depth, round_frames, round_resolution

from .rules import Rule
from .scale import ROUNDINGS

__all__ = ["scale_space", "scale_widths"]


def scale_widths(values, multiplier: float, rounding: str = "efficientnet") -> tuple[int, ...]:
    width = ROUNDINGS[rounding]
    return tuple(sorted({width(v * multiplier) for v in values}))


def scale_space(space: SearchSpace, rule: Rule, phi: float, rounding: str = "efficientnet",
                scale_input: bool = True) -> SearchSpace:
    """The space scaled by `rule` at `phi`; `scale_input=False` keeps its frames and resolution
    (a scaled search trains at the proxy shape while its budget is checked at the target's)."""
    if phi == 0:
        return space
    m = rule.multipliers(phi)
    depths = tuple(tuple(range(round_depth(min(d) * m.depth), round_depth(max(d) * m.depth) + 1))
                   for d in space.depths)
    changes = dict(stem_widths=scale_widths(space.stem_widths, m.width, rounding),
                   block_widths=tuple(scale_widths(w, m.width, rounding) for w in space.block_widths),
                   head_widths=scale_widths(space.head_widths, m.width, rounding), depths=depths,
                   name=f"{space.name}_{rule.name}_phi{phi:.3g}")
    if scale_input:
        changes.update(frames=tuple(sorted({round_frames(f * m.frames) for f in space.frames})),
                       resolutions=tuple(sorted({round_resolution(r * m.resolution) for r in space.resolutions})))
    return dataclasses.replace(space, **changes)
