"""Kinetics annotation CSVs, as the official lists and the downloaders ship them.

Kinetics-600/700 rows are `label,youtube_id,time_start,time_end,split`; Kinetics-400 adds an
`is_cc` column; the test lists have no `label` column at all (their clips can be evaluated or
predicted, not trained on). A row names the clip `{youtube_id}_{time_start:06d}_{time_end:06d}`
plus a container; downloaders keep YouTube's (`.webm`, `.mkv`) as often as `.mp4`, so a clip
is identified by that stem alone. Ids may start with `-` or contain `_`: the stem is built, never
parsed. Where the files are on disk is `video_data.layout`'s business.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from infra.files import read_text

from .errors import DataError

__all__ = ["KineticsRecord", "read_kinetics_csv", "clip_stem", "label_map_from"]

_REQUIRED = ("youtube_id", "time_start", "time_end")


@dataclass(frozen=True)
class KineticsRecord:
    """One annotated clip: its file stem, label (None in test lists) and split column."""

    stem: str
    label: str | None
    split: str | None


def clip_stem(youtube_id: str, start: int, end: int) -> str:
    """The downloaders' file name without extension: `{id}_{start:06d}_{end:06d}`."""
    return f"{youtube_id}_{int(start):06d}_{int(end):06d}"


def read_kinetics_csv(csv_path: str | Path) -> list[KineticsRecord]:
    """Every row of a Kinetics CSV; raises DataError naming the file (and line) if it is malformed."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DataError(f"{csv_path}: Kinetics CSV not found")
    try:
        return _records(csv_path, read_text(csv_path, "Kinetics CSV"))
    except csv.Error as err:
        raise DataError(f"{csv_path}: not a readable CSV ({err})") from None


def _records(csv_path: Path, text: str) -> list[KineticsRecord]:
    """The rows of the CSV text read from `csv_path` (named in errors with their line)."""
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{csv_path}: missing column {missing[0]!r} (expected "
                            f"label,youtube_id,time_start,time_end,split; label may be absent in test lists)")
        labelled = "label" in reader.fieldnames
        records = []
        for line, row in enumerate(reader, start=2):
            try:  # K700-2020 writes integers; some re-exports write 10.0
                start, end = int(float(row["time_start"])), int(float(row["time_end"]))
            except (TypeError, ValueError):
                raise DataError(f"{csv_path}:{line}: time_start/time_end must be numbers, got "
                                f"{row['time_start']!r}, {row['time_end']!r}") from None
            records.append(KineticsRecord(clip_stem(row["youtube_id"], start, end),
                                          row["label"] if labelled else None, row.get("split")))
    return records


def label_map_from(labels) -> dict[str, int]:
    """Class index per label name, from the sorted unique names (unlabelled entries ignored)."""
    return {name: index for index, name in enumerate(sorted(set(labels) - {None}))}
