"""Where a split's data is in a folder, in every layout users actually have.

`discover(folder, split)` looks, in this order, for
- TFRecord shards whose name starts with the split: Model Garden / DMVR `train-00000-of-00008`,
  `train.tfrecord-00001-of-00004`, `train*.tfrecord(s)` (or `folder` may be a glob with
  `{split}` in it);
- a Kinetics CSV `train.csv` / `val.csv` / `validate.csv` / `test.csv`, in the folder or in its
  `annotations/` subfolder (where the downloaders put them);
- no CSV at all: `folder/<split>/<label>/*.mp4`, a custom dataset labelled by folder names.
`find_clips(layout)` then matches every CSV row to a file by its stem, whatever the container,
in `<split>/<label>/`, `<label>/`, `<split>/` or the folder itself (label folders named with
spaces or underscores alike), and names the arrangement most clips were found in. Folders are
listed once each instead of probing every candidate path of every row, so a 650k-clip
Kinetics-700 folder is indexed in seconds.

Nothing here decodes video; `video_data.inspection` probes the files that were found.
"""
from __future__ import annotations

import contextlib
import glob
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from infra.files import read_json

from .errors import DataError
from .kinetics import KineticsRecord, read_kinetics_csv
from .video import VIDEO_EXTENSIONS

__all__ = ["Layout", "Clip", "Clips", "SPLITS", "CLASSES_FILE", "ARRANGEMENTS", "split_name", "discover",
           "find_clips", "split_labels", "read_classes", "read_class_names", "class_names_of", "check_labels"]

SPLITS = {"train": ("train",), "val": ("val", "validate", "validation"), "test": ("test",)}
CLASSES_FILE = "classes.json"
# Where a CSV row's file may be, in the order they are tried.
ARRANGEMENTS = ("split/label", "label", "split", "flat")
FOLDERS = "split/label, no CSV"  # the arrangement of a folder of videos without annotations
_SHARD = re.compile(r"(\.tfrecords?\b|-\d+-of-\d+$)")
_ANNOTATIONS = "annotations"


def split_name(split: str) -> str:
    """The canonical split ('train', 'val', 'test') of any of its usual names."""
    for name, aliases in SPLITS.items():
        if split in aliases:
            return name
    raise DataError(f"split: one of train, val (validate), test; got {split!r}")


@dataclass(frozen=True)
class Layout:
    """Where one split's data is, as discovery found it or the user's overrides said.

    `kind` is 'tfrecord' (`shards`), 'csv' (`csv`, clips under `video_root`) or 'folders' (no
    CSV: `video_root/<split>/<label>/`). `tried` lists what was looked for, for error messages.
    """

    root: Path
    split: str
    kind: str
    csv: Path | None = None
    shards: tuple[Path, ...] = ()
    video_root: Path | None = None
    tried: tuple[str, ...] = ()

    def describe(self) -> str:
        """Where the split's list came from, relative to the data folder where possible."""
        if self.kind == "tfrecord":
            return f"{len(self.shards)} TFRecord shard(s) {_relative(self.shards[0], self.root)}..."
        if self.kind == "csv":
            return f"{_relative(self.csv, self.root)}, clips under {self.video_root}"
        return f"label folders under {self.video_root}"


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _shards(pattern_or_folder: str, split: str) -> tuple[list[Path], list[str]]:
    """(shards, patterns tried) of a split: a `{split}` glob, or shard-like names in a folder."""
    if "{split}" in pattern_or_folder:
        patterns = [pattern_or_folder.replace("{split}", alias) for alias in SPLITS[split]]
        return sorted(Path(p) for pattern in patterns for p in glob.glob(pattern) if os.path.isfile(p)), patterns
    folder = Path(pattern_or_folder)
    patterns = [str(folder / f"{alias}*") for alias in SPLITS[split]]
    found = []
    for alias in SPLITS[split]:
        for path in folder.glob(f"{alias}*"):
            rest = path.name[len(alias):]
            if path.is_file() and (not rest or rest[0] in "-_.") and _SHARD.search(rest):
                found.append(path)
    return sorted(set(found)), [f"{p} (TFRecord shards)" for p in patterns]


def discover(data: str | Path, split: str, csv: str | Path | None = None,
             video_root: str | Path | None = None) -> Layout:
    """The layout of `split` in the data folder `data`; explicit `csv` / `video_root` override it.

    Raises DataError naming the folder and the first places looked at if nothing is found.
    """
    split = split_name(split)
    data = str(data)
    if csv is not None:
        csv = Path(csv)
        if not csv.is_file():
            raise DataError(f"{csv}: {split} CSV not found")
        root = Path(video_root) if video_root else (Path(data) if Path(data).is_dir() else csv.parent)
        return Layout(root, split, "csv", csv=csv, video_root=root, tried=(str(csv),))
    if "{split}" in data:
        shards, tried = _shards(data, split)
        if not shards:
            raise DataError(f"{data}: no {split} TFRecord shards match {', '.join(tried)}")
        return Layout(shards[0].parent, split, "tfrecord", shards=tuple(shards), tried=tuple(tried))
    root = Path(data)
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found (or pass 'synthetic')")
    videos = Path(video_root) if video_root else root
    shards, tried = _shards(str(root), split)
    if shards and video_root is None:
        return Layout(root, split, "tfrecord", shards=tuple(shards), tried=tuple(tried))
    for folder in (root, root / _ANNOTATIONS):
        for alias in SPLITS[split]:
            tried.append(str(folder / f"{alias}.csv"))
            if (folder / f"{alias}.csv").is_file():
                return Layout(root, split, "csv", csv=folder / f"{alias}.csv", video_root=videos, tried=tuple(tried))
    for alias in SPLITS[split]:
        tried.append(str(videos / alias / "<label>" / "*.mp4"))
        if any(_videos(folder) for folder in _subfolders(videos / alias)):
            return Layout(root, split, "folders", video_root=videos, tried=tuple(tried))
    raise DataError(f"{root}: no {split} data found; looked for {'; '.join(tried)}")


def _subfolders(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    with os.scandir(folder) as entries:
        return sorted(Path(e.path) for e in entries if e.is_dir() and not e.name.startswith("."))


def _videos(folder: Path) -> dict[str, Path]:
    """Video files directly in `folder` by stem; an .mp4 wins over other containers of a clip."""
    rank = {ext: i for i, ext in enumerate(VIDEO_EXTENSIONS)}
    found: dict[str, Path] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            stem, ext = os.path.splitext(entry.name)
            ext = ext.lower()
            if ext in rank and entry.is_file() and (stem not in found or rank[ext] < rank[found[stem].suffix.lower()]):
                found[stem] = Path(entry.path)
    return found


@dataclass(frozen=True)
class Clip:
    """One clip of a split: its file stem, label (None if unlabelled) and file (None: missing)."""

    name: str
    label: str | None
    path: Path | None


@dataclass(frozen=True)
class Clips:
    """A split's clips matched to files, and the arrangement most of them were found in."""

    layout: Layout
    clips: tuple[Clip, ...]
    arrangement: str  # one of ARRANGEMENTS, FOLDERS, or 'none' when no file was found

    @property
    def found(self) -> list[Clip]:
        return [c for c in self.clips if c.path is not None]

    @property
    def missing(self) -> list[Clip]:
        return [c for c in self.clips if c.path is None]

    @property
    def other_containers(self) -> int:
        """Clips found in another container than the .mp4 a CSV row implies."""
        return sum(1 for c in self.found if c.path.suffix.lower() != ".mp4")

    @property
    def labelled(self) -> bool:
        return all(c.label is not None for c in self.clips)

    def looked_for(self, clip: Clip) -> list[Path]:
        """Two places `clip` was expected: in the arrangement found (or split/label), then another."""
        root = self.layout.video_root
        split = next((root / a for a in SPLITS[self.layout.split] if (root / a).is_dir()),
                     root / SPLITS[self.layout.split][0])
        label = clip.label or "<label>"
        places = {"split/label": split / label, "label": root / label, "split": split, "flat": root}
        first = self.arrangement if self.arrangement in places else "split/label"
        second = "label" if first != "label" else "split/label"
        return [places[first] / f"{clip.name}.mp4", places[second] / f"{clip.name}.mp4"]


def find_clips(layout: Layout) -> Clips:
    """Every clip the split lists, matched to its file by stem (any of VIDEO_EXTENSIONS)."""
    if layout.kind == "tfrecord":
        raise ValueError("find_clips: a TFRecord layout has no clip files")
    root = layout.video_root
    split_folders = [root / alias for alias in SPLITS[layout.split] if (root / alias).is_dir()]
    if layout.kind == "folders":
        clips = [Clip(stem, folder.name, path) for split_folder in split_folders
                 for folder in _subfolders(split_folder) for stem, path in sorted(_videos(folder).items())]
        return Clips(layout, tuple(clips), FOLDERS)
    records = _split_records(layout)
    every_split = {alias for aliases in SPLITS.values() for alias in aliases} | {_ANNOTATIONS}
    places = {"split/label": [label for folder in split_folders for label in _subfolders(folder)],
              "label": [folder for folder in _subfolders(root) if folder.name not in every_split],
              "split": split_folders, "flat": [root]}
    index = {name: {stem: path for folder in folders for stem, path in _videos(folder).items()}
             for name, folders in places.items()}
    used: Counter[str] = Counter()
    clips = []
    for record in records:
        where = next((name for name in ARRANGEMENTS if record.stem in index[name]), None)
        used[where] += 1
        clips.append(Clip(record.stem, record.label, index[where][record.stem] if where else None))
    used.pop(None, None)
    return Clips(layout, tuple(clips), used.most_common(1)[0][0] if used else "none")


def _split_records(layout: Layout) -> list[KineticsRecord]:
    """The CSV's rows of this split (a CSV holding several splits says which in its split column)."""
    records = read_kinetics_csv(layout.csv)
    names = set(SPLITS[layout.split])
    if any(r.split in names for r in records):
        return [r for r in records if r.split in names]
    return records


def split_labels(layout: Layout) -> set[str]:
    """The label names a split uses, without looking for its files (none for TFRecords)."""
    if layout.kind == "csv":
        return {r.label for r in _split_records(layout)} - {None}
    if layout.kind == "folders":
        return {folder.name for alias in SPLITS[layout.split] for folder in _subfolders(layout.video_root / alias)}
    return set()


def check_labels(clips, names: list[str]) -> None:
    """Every clip's label is one of the classes `names` (unlabelled clips pass); else a DataError."""
    unknown = sorted({c.label for c in clips} - set(names) - {None})
    if unknown:
        raise DataError(f"label {unknown[0]!r} is not among the {len(names)} classes ({', '.join(names[:3])}, ...)")


def class_names_of(layout: Layout) -> list[str]:
    """A video layout's classes: the folder's `classes.json`, else the sorted labels of the train
    split of the same folder (so every split agrees), else this split's own labels."""
    names = read_classes(layout.root)
    if names:
        return names
    train = layout
    if layout.split != "train":
        with contextlib.suppress(DataError):  # no train split here: this split's own labels
            train = discover(layout.root, "train", video_root=layout.video_root)
    return sorted(split_labels(train) or split_labels(layout))


def read_classes(folder: Path) -> list[str] | None:
    """The class list `classes.json` in `folder` (written by the converters), if there is one."""
    path = folder / CLASSES_FILE
    return read_class_names(path) if path.is_file() else None


def read_class_names(path: Path) -> list[str]:
    """A label map: a JSON list of class names (class i is the i-th), checked."""
    names = read_json(path, "JSON list of class names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise DataError(f"{path}: not a JSON list of class names")
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise DataError(f"{path}: class {duplicate!r} is listed twice")
    return names
