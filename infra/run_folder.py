"""Deciding what an output folder is before a byte is written to it or Ray is started.

Every command that writes a folder first claims it: a folder that does not exist or is empty
is new; a folder already holding a run of the same kind is continued only when `--resume`
was asked for; anything else is refused with one line, and the folder is left exactly as it
was. Without this, a search pointed at a finished search's folder rewrote its options before
Ray noticed, and the KerasTuner engine replaced its trial table with a new one.

What marks a folder as holding a run of a kind is said by the kind itself (`RunKind.markers`,
glob patterns of files only such a run writes), so the packages that write runs define their
kinds next to the code that writes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import RunExistsError, UserError

__all__ = ["RunKind", "claim_output"]


@dataclass(frozen=True)
class RunKind:
    """A kind of run folder: its name in messages and the files that only such a run writes."""

    name: str
    markers: tuple[str, ...]
    resumable: bool = True  # False: a run written at once, never continued (a scaled family, a report)

    def held_by(self, folder: Path) -> bool:
        """Whether `folder` holds a run of this kind (one of its markers exists)."""
        return folder.is_dir() and any(next(folder.glob(marker), None) is not None for marker in self.markers)


def _entries(folder: Path) -> list[str]:
    """What a folder holds, hidden files aside (a `.DS_Store` does not make a folder a run)."""
    return sorted(entry.name for entry in folder.iterdir() if not entry.name.startswith("."))


def claim_output(folder: str | Path, kind: RunKind, resume: bool, flag: str = "--output") -> bool:
    """Checks that `folder` may be written as a run of `kind`; True if it continues one.

    New (absent or empty): False. Holding a run of `kind`: True with `resume`, else a
    RunExistsError. With `resume` and no such run, or holding anything else: a UserError.
    Nothing is created or changed here; the caller writes once every other check has passed.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: is a file; {flag} must be a folder")
    held = kind.held_by(folder)
    if resume:
        if not held:
            raise UserError(f"{folder}: holds no {kind.name} to resume (drop --resume to start one)")
        return True
    if held:
        advice = "pass --resume to continue it, or choose another" if kind.resumable else "choose another"
        raise RunExistsError(f"{folder}: already holds a {kind.name}; {advice} {flag}")
    entries = _entries(folder) if folder.is_dir() else []
    if entries:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise RunExistsError(f"{folder}: is not empty ({shown}) and holds no {kind.name}; choose another {flag}")
    return False
