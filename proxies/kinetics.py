"""The Kinetics CSV + video-folder layout, as users download it.

`label,youtube_id,time_start,time_end,split` rows name clips
`{youtube_id}_{time_start:06d}_{time_end:06d}.mp4`, stored either in one folder per label or
flat in `train/ val/ test/` folders. Class indices come from the sorted label names unless a
label map is given, so every split agrees on them.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KineticsRecord", "read_kinetics_csv", "clip_filename", "label_map_from"]

_SPLIT_FOLDERS = {"train": ("train",), "validate": ("val", "validate"), "val": ("val", "validate"),
                  "test": ("test",)}
_COLUMNS = ("label", "youtube_id", "time_start", "time_end", "split")


@dataclass(frozen=True)
class KineticsRecord:
    """One annotated clip and where its file is (or would be)."""

    path: Path
    label: str
    youtube_id: str
    split: str


def clip_filename(youtube_id: str, start: int, end: int) -> str:
    return f"{youtube_id}_{int(start):06d}_{int(end):06d}.mp4"


def _locate(root: Path, label: str, split: str, name: str) -> Path:
    candidates = [root / label / name, root / label.replace(" ", "_") / name]
    candidates += [root / folder / name for folder in _SPLIT_FOLDERS.get(split, (split,))]
    candidates.append(root / name)
    return next((c for c in candidates if c.is_file()), candidates[0])


def read_kinetics_csv(csv_path: str | Path, root: str | Path, split: str | None = None) -> list[KineticsRecord]:
    """Records of `csv_path` (optionally one split), with paths resolved under `root`."""
    csv_path, root = Path(csv_path), Path(root)
    if not csv_path.is_file():
        raise FileNotFoundError(f"{csv_path}: Kinetics CSV not found")
    with csv_path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{csv_path}: missing column {missing[0]!r} (expected {','.join(_COLUMNS)})")
        records = []
        for line, row in enumerate(reader, start=2):
            if split is not None and row["split"] not in _SPLIT_FOLDERS.get(split, (split,)) + (split,):
                continue
            try:
                name = clip_filename(row["youtube_id"], int(row["time_start"]), int(row["time_end"]))
            except ValueError:
                raise ValueError(f"{csv_path}:{line}: time_start/time_end must be integers") from None
            records.append(KineticsRecord(_locate(root, row["label"], row["split"], name), row["label"],
                                          row["youtube_id"], row["split"]))
    return records


def label_map_from(labels) -> dict[str, int]:
    """Class index per label name, from the sorted unique names."""
    return {name: index for index, name in enumerate(sorted(set(labels)))}
