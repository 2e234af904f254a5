"""Rounding widths to hardware-friendly multiples: the one home for every rounding rule.

Two rules are in use. `make_divisible` is the official MoViNet / EfficientNet / MobileNet rule
(Keras `round_filters`): round to the nearest multiple of `divisor`, but never more than 10%
below the value, so a narrow layer is not starved. `round_nearest` is plain nearest-multiple
rounding, which is what the paper's base search space scaled by 0.75 needs to give A2's widths
exactly (16, 24, 48, 96, 96, 192 x 0.75 -> 16 / 16, 40, 72, 72, 144; the 90% floor would turn
18 into 24). The builder, the search space and the scaling rules all round here.
"""
from __future__ import annotations

import math

__all__ = ["make_divisible", "round_nearest", "round_depth", "round_resolution", "round_frames"]


def make_divisible(value: float, divisor: int = 8) -> int:
    """Nearest multiple of `divisor` (at least `divisor`), bumped up if that loses over 10%."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return int(new)


def round_nearest(value: float, divisor: int = 8) -> int:
    """Nearest multiple of `divisor` (halves round up), at least `divisor`."""
    return max(divisor, int(math.floor(value / divisor + 0.5)) * divisor)


def round_depth(value: float) -> int:
    """Layers in a scaled block: ceil, as EfficientNet's `round_repeats`, and at least one."""
    return max(1, int(math.ceil(value - 1e-9)))


def round_resolution(value: float, minimum: int = 32) -> int:
    """A scaled frame size: the nearest multiple of 4 (pycls' rule), never below `minimum` (the
    32x spatial stride of every MoViNet)."""
    return max(minimum, 4 * round(value / 4))


def round_frames(value: float) -> int:
    """A scaled clip length: whole frames, at least one."""
    return max(1, round(value))
