"""Scaling one spec: a rule's multipliers applied to widths, depths and the input, and solving
the compound coefficient for a FLOP target.

Config in, config out (as pycls' scaler): nothing here builds a model. Widths (stem, every
block, every expansion, the head's projection) are multiplied and rounded (`make_divisible`,
EfficientNet's multiple of 8 never more than 10% down, or the nearest multiple); each block's
layer list is scaled by `scaling.depth`; frames are rounded to whole frames and resolution to
a multiple of 4 (pycls' rule), never below the network's total stride. The classifier's
hidden width (2048 in every official model) is not a scaled axis.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from search_space import OFFICIAL_CLASSES, ArchSpec, BlockSpec, HeadSpec, InputSpec, LayerSpec, StemSpec, count_flops
from search_space.rounding import make_divisible, round_frames, round_nearest, round_resolution

from .depth import scale_layers, scaled_block_depth
from .rules import Multipliers, Rule

__all__ = ["apply_multipliers", "scale", "scale_to", "Scaled", "ROUNDINGS"]

ROUNDINGS = {"efficientnet": make_divisible, "nearest": round_nearest}


def apply_multipliers(spec: ArchSpec, multipliers: Multipliers, rounding: str = "efficientnet",
                      pinned: InputSpec | None = None) -> ArchSpec:
    """`spec` with every axis multiplied; `pinned` fixes the input instead of scaling it."""
    width = ROUNDINGS[rounding]
    w = multipliers.width
    blocks = []
    for block in spec.blocks:
        layers = tuple(LayerSpec(width(layer.expand * w), layer.kernel, layer.stride) for layer in block.layers)
        scaled = BlockSpec(width(block.filters * w), layers)
        blocks.append(scale_layers(scaled, scaled_block_depth(len(layers), multipliers.depth)))
    inp = pinned or InputSpec(round_frames(spec.input.frames * multipliers.frames),
                              round_resolution(spec.input.resolution * multipliers.resolution),
                              spec.input.frame_stride)
    return spec.replace(stem=StemSpec(width(spec.stem.filters * w), spec.stem.kernel, spec.stem.stride),
                        blocks=tuple(blocks), head=HeadSpec(width(spec.head.project_filters * w),
                                                            spec.head.head_filters, spec.head.activation),
                        input=inp)


def scale(spec: ArchSpec, rule: Rule, phi: float, rounding: str = "efficientnet",
          pinned: InputSpec | None = None) -> ArchSpec:
    """`spec` scaled by `rule` at compound coefficient `phi` (phi = 0 returns `spec` itself)."""
    if phi == 0 and pinned is None:
        return spec
    scaled = apply_multipliers(spec, rule.multipliers(phi), rounding, pinned)
    return scaled.replace(name=f"{spec.name}_{rule.name}_phi{phi:.3g}")


@dataclass(frozen=True)
class Scaled:
    """A spec scaled to a FLOP target: the phi found, the width fine-tuning, cost and deviation."""

    spec: ArchSpec
    phi: float
    width_adjust: float
    gflops: float
    target: float

    @property
    def deviation(self) -> float:
        return self.gflops / self.target - 1.0


def _cost(spec: ArchSpec, num_classes: int) -> float:
    return count_flops(spec, num_classes=num_classes).gflops


def scale_to(spec: ArchSpec, rule: Rule, gflops: float, frames: int | None = None, resolution: int | None = None,
             rounding: str = "efficientnet", num_classes: int = OFFICIAL_CLASSES, tolerance: float = 0.03) -> Scaled:
    """The scaled `spec` whose analytic GFLOPs land within `tolerance` of `gflops`.

    With `frames` / `resolution` the input is pinned to that shape (a family member taking the
    published input) and only depth and width scale. Bisection over phi finds where the cost
    crosses the target; rounding makes the cost a step function, so if neither side of the
    step is close enough, the widths at that phi are fine-tuned by a factor in [0.8, 1.25]
    (bisection again), which moves the cost in steps of one multiple of 8 per layer.
    """
    pinned = None
    if frames or resolution:
        pinned = InputSpec(frames or spec.input.frames, resolution or spec.input.resolution, spec.input.frame_stride)

    def at(phi: float, adjust: float = 1.0) -> ArchSpec:
        m = rule.multipliers(phi)
        if pinned is not None:
            m = Multipliers(m.depth, m.width, 1.0, 1.0)
        scaled = apply_multipliers(spec, dataclasses.replace(m, width=m.width * adjust), rounding, pinned)
        return scaled.replace(name=f"{spec.name}_{rule.name}_phi{phi:.3g}")

    low, high = _bracket(lambda phi: _cost(at(phi), num_classes), gflops)
    for _ in range(40):
        middle = (low + high) / 2
        if _cost(at(middle), num_classes) < gflops:
            low = middle
        else:
            high = middle
    best = min((Scaled(at(p), p, 1.0, _cost(at(p), num_classes), gflops) for p in (low, high)),
               key=lambda s: abs(s.deviation))
    if abs(best.deviation) <= tolerance:
        return best
    return _fine_tune(lambda adjust: at(best.phi, adjust), best.phi, gflops, num_classes, best)


def _bracket(cost, target: float) -> tuple[float, float]:
    low, high = -1.0, 1.0
    while cost(low) > target and low > -40:
        low *= 2
    while cost(high) < target and high < 40:
        high *= 2
    if not cost(low) <= target <= cost(high):
        raise ValueError(f"target {target} GFLOPs is out of reach of this rule")  # a bug: the ranges are wide
    return low, high


def _fine_tune(at, phi: float, target: float, num_classes: int, best: Scaled) -> Scaled:
    low, high = 0.8, 1.25
    for _ in range(30):
        middle = math.sqrt(low * high)
        candidate = Scaled(at(middle), phi, middle, _cost(at(middle), num_classes), target)
        if abs(candidate.deviation) < abs(best.deviation):
            best = candidate
        if candidate.gflops < target:
            low = middle
        else:
            high = middle
    return best
