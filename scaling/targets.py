"""The MoViNet family as scaling targets, and a scaled family emitted from one base.

Targets are the official presets' own GFLOPs at their published input shapes (our analytic
count, which matches the official profiler to 0.4-0.7%), and A6 = A4 + A5, the official
ensemble (393.0 GFLOPs by our count, 391.3 by the official profiler's; the paper lists 386). `emit_family` scales
a base to every target with one rule: with `inputs='official'` each member takes the
published input shape and only depth and width scale; with `inputs='rule'` the rule also
scales frames and resolution from the base's input.
"""
from __future__ import annotations

from dataclasses import dataclass

from search_space import OFFICIAL_CLASSES, PRESET_NAMES, ArchSpec, InputSpec, SpecError, count_flops, preset

from .rules import Rule
from .scale import Scaled, scale_to

__all__ = ["Target", "official_targets", "parse_targets", "emit_family", "FAMILY"]

FAMILY = ("a0", "a1", "a2", "a3", "a4", "a5", "a6")
INPUTS = ("official", "rule")  # each member at its published input shape, or the rule's
ENSEMBLE_MEMBERS = {"a6": ("a4", "a5")}


@dataclass(frozen=True)
class Target:
    """A family member to aim at: its GFLOPs at its input shape."""

    name: str
    gflops: float
    input: InputSpec


def _official(name: str, num_classes: int) -> Target:
    if name in ENSEMBLE_MEMBERS:
        members = [_official(m, num_classes) for m in ENSEMBLE_MEMBERS[name]]
        largest = max(members, key=lambda t: t.input.frames * t.input.resolution ** 2)
        return Target(name, sum(m.gflops for m in members), largest.input)
    spec = preset(name)
    return Target(name, count_flops(spec, num_classes=num_classes).gflops, spec.input)


def official_targets(names=FAMILY, num_classes: int = OFFICIAL_CLASSES) -> list[Target]:
    """The published family's GFLOPs and input shapes (A6: the A4 + A5 ensemble, at A5's input)."""
    return [_official(name, num_classes) for name in names]


def parse_targets(text: str) -> list[str]:
    """'a0..a6', 'a0,a3,a6' or 'a3' -> member names."""
    names: list[str] = []
    for part in text.split(","):
        first, sep, last = part.strip().partition("..")
        span = FAMILY[FAMILY.index(first):FAMILY.index(last) + 1] if sep and first in FAMILY and last in FAMILY else ()
        if sep and not span:
            raise SpecError(f"--targets {text}: a range runs between two of {', '.join(FAMILY)}")
        if not sep and first not in FAMILY:
            raise SpecError(f"--targets {text}: {first!r} is not one of {', '.join(FAMILY)}"
                            + (" (t0 has no place in the scaled family)" if first in PRESET_NAMES else ""))
        names += list(span) if sep else [first]
    return list(dict.fromkeys(names))


def emit_family(base: ArchSpec, rule: Rule, targets: list[Target], inputs: str = "official",
                rounding: str = "efficientnet", num_classes: int = OFFICIAL_CLASSES) -> list[tuple[Target, Scaled]]:
    """Each target with the base scaled to its GFLOPs (within 3%)."""
    if inputs not in INPUTS:
        raise SpecError(f"--inputs: one of {', '.join(INPUTS)}, got {inputs!r}")
    members = []
    for target in targets:
        shape = dict(frames=target.input.frames, resolution=target.input.resolution) if inputs == "official" else {}
        scaled = scale_to(base, rule, target.gflops, rounding=rounding, num_classes=num_classes, **shape)
        members.append((target, Scaled(scaled.spec.replace(name=f"{target.name}_{rule.name}"), scaled.phi,
                                       scaled.width_adjust, scaled.gflops, scaled.target)))
    return members
