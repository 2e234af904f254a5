"""An ensemble of MoViNets as data: one clip in, the members' logits averaged.

The official MoViNet-A6 is "an ensemble of MoViNet-A4 and MoViNet-A5" with averaged logits,
and no spec or code for it exists anywhere. Here it is data like any spec: `members` (each
an `ArchSpec`, or a preset name in YAML) and the clip the ensemble takes (`input`, default the
largest member's). Each member sees the clip at its own input shape (frames sampled evenly
over the clip, frames resized), so A4 keeps its 80 x 290^2 and A5 its 120 x 320^2. Its cost is
the sum of the members' costs at their own shapes (the resampling is not counted).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from infra.config_io import dump_yaml, from_plain

from .errors import SpecError
from .spec import ArchSpec, InputSpec

__all__ = ["EnsembleSpec", "A6"]


@dataclass(frozen=True)
class EnsembleSpec:
    """Members whose logits are averaged, and the clip shape the ensemble takes."""

    name: str
    members: tuple[ArchSpec, ...]
    input: InputSpec | None = None

    def __post_init__(self) -> None:
        if len(self.members) < 2:
            raise SpecError(f"{self.name}: members: an ensemble needs at least 2 members, got {len(self.members)}")
        if self.input is None:
            largest = max(self.members, key=lambda s: (s.input.frames, s.input.resolution))
            object.__setattr__(self, "input", largest.input)

    def replace(self, **changes: Any) -> "EnsembleSpec":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "members": [m.to_dict() for m in self.members],
                "input": dataclasses.asdict(self.input)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EnsembleSpec":
        """Members as spec mappings or preset names (`members: [a4, a5]`)."""
        from .presets import preset

        unknown = sorted(set(data) - {"name", "members", "input"})
        if unknown:
            raise SpecError(f"{unknown[0]}: unknown ensemble field (expected name, members, input)")
        members = data.get("members")
        if not isinstance(members, (list, tuple)):
            raise SpecError(f"members: must be a list of presets or specs, got {members!r}")
        parsed = []
        for i, member in enumerate(members):
            try:
                parsed.append(preset(member) if isinstance(member, str) else ArchSpec.from_dict(member))
            except SpecError as err:
                raise SpecError(f"members[{i}]: {err}") from None
        shape = data.get("input")
        if shape is not None:
            shape = from_plain(InputSpec, shape, "input", error=SpecError)
        return cls(name=str(data.get("name", "ensemble")), members=tuple(parsed), input=shape)

    def to_yaml(self, path: str | Path | None = None) -> str:
        return dump_yaml(self.to_dict(), path)


def A6() -> EnsembleSpec:  # noqa: N802 (the family member's name)
    """The official MoViNet-A6: A4 and A5 with averaged logits, taking A5's 120 x 320^2 clips."""
    from .presets import preset

    return EnsembleSpec("a6", (preset("a4"), preset("a5")))
