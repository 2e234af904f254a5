"""What a data folder holds, said before any training starts.

`inspect_folder` backs `run_search.py data DIR`: the layout found, the classes, and how many
clips can be loaded, are missing, are corrupt or sit in another container than their CSV row
implies, from the header of every clip (probed in parallel). `check_data` is what training
and search call first: one summary line per split, `data_report.json` in the run folder, and a
DataError, naming the layout tried and two paths looked for, when a split has no loadable
clip or more than `max_missing` of its clips cannot be loaded. A folder pointed at the wrong
place thus fails in seconds instead of training on nothing.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from infra.files import write_json

from .config import DataConfig
from .errors import DataError
from .layout import Clips, check_labels, class_names_of, discover, find_clips, split_name
from .video import VideoError, probe_video

if TYPE_CHECKING:
    from .pipeline import ClipSource

__all__ = ["SplitReport", "inspect_source", "inspect_listing", "inspect_folder", "check_data", "write_data_report", "REPORT_FILE",
           "MAX_MISSING"]

REPORT_FILE = "data_report.json"
MAX_MISSING = DataConfig.max_missing  # training refuses a split where more of its clips cannot be loaded
_EXAMPLES = 10  # problems listed by name in a report


@dataclass
class SplitReport:
    """One split: where it was found and how many of its clips can be used."""

    split: str
    layout: str  # 'split/label', 'label', 'split', 'flat', 'split/label, no CSV', 'tfrecord', 'synthetic', 'none'
    source: str  # what was read: the CSV, the shards, the label folders
    classes: int
    listed: int  # clips the annotations list (records in the shards)
    clips: int  # loadable
    missing: int = 0
    corrupt: int = 0
    other_containers: int = 0
    labelled: bool = True
    looked_for: list[str] = field(default_factory=list)  # two places a missing clip was expected
    searched: list[str] = field(default_factory=list)  # where discovery looked, up to what it found
    problems: dict[str, str] = field(default_factory=dict)  # the first few missing / corrupt clips -> why

    def line(self) -> str:
        """'train: 12,345 clips in 600 classes (layout split/label; 17 missing, 3 corrupt, 2 in other containers)'."""
        counts = [f"{self.missing:,} missing", f"{self.corrupt:,} corrupt"]
        if self.other_containers:
            counts.append(f"{self.other_containers:,} in other containers")
        if not self.labelled:
            counts.append("no labels")
        return f"{self.split}: {self.clips:,} clips in {self.classes:,} classes (layout {self.layout}; {', '.join(counts)})"

    def to_dict(self) -> dict:
        return asdict(self)


def _probe_all(paths: list[Path], workers: int | None, progress: bool, desc: str) -> dict[str, str]:
    """{path: why} of the videos whose header cannot be read, probing on `workers` threads."""
    def probe(path: Path) -> tuple[Path, str | None]:
        try:
            probe_video(path)
        except VideoError as err:
            return path, str(err)
        return path, None

    with ThreadPoolExecutor(workers or min(16, 2 * (os.cpu_count() or 1))) as pool:
        results = tqdm(pool.map(probe, paths), total=len(paths), desc=desc, unit="clip", disable=not progress,
                       leave=False)
        return {str(path): why for path, why in results if why}


def inspect_source(source: ClipSource, split: str, check_frames: bool = False, workers: int | None = None,
                   progress: bool = True) -> SplitReport:
    """How many of `source`'s clips can be loaded: every video's header is probed; TFRecords are
    scanned for records without frames (and, with `check_frames`, every frame's JPEG header)."""
    from .pipeline import SyntheticSource, TFRecordSource, VideoSource
    from .tfrecord import scan_records

    if isinstance(source, SyntheticSource):
        return SplitReport(split, "synthetic", "generated in memory", source.num_classes, len(source), len(source))
    if isinstance(source, TFRecordSource):
        scan = source.scan()
        if check_frames:
            with tqdm(desc=f"{split} records", unit="record", disable=not progress, leave=False) as bar:
                scan = scan_records(source.files, check_frames=True, progress=lambda: bar.update(1))
        return SplitReport(split, "tfrecord", f"{len(source.files)} shard(s) such as {source.files[0]}",
                           source.num_classes, scan.records, scan.records - len(scan.bad), corrupt=len(scan.bad),
                           problems=dict(list(scan.bad.items())[:_EXAMPLES]),
                           searched=list(source.layout.tried) if source.layout else [])
    if not isinstance(source, VideoSource) or source.listing is None:
        raise TypeError(f"inspect_source: cannot inspect {source!r}")
    return inspect_listing(source.listing, split, source.num_classes, workers, progress)


def inspect_listing(listing: Clips, split: str, num_classes: int, workers: int | None = None,
                    progress: bool = True) -> SplitReport:
    """How many of a video split's clips can be loaded (every header probed); no TensorFlow."""
    corrupt = _probe_all([c.path for c in listing.found], workers, progress, f"{split} headers")
    missing = listing.missing
    problems = {c.name: "missing" for c in missing[:_EXAMPLES]}
    problems.update(list(corrupt.items())[:_EXAMPLES])
    looked_for = [str(p) for p in listing.looked_for(missing[0])] if missing else []
    return SplitReport(split, listing.arrangement, listing.layout.describe(), num_classes,
                       len(listing.clips), len(listing.found) - len(corrupt), len(missing), len(corrupt),
                       listing.other_containers, listing.labelled, looked_for, list(listing.layout.tried), problems)


def inspect_folder(data: str, split: str = "train", csv: str | None = None, video_root: str | None = None,
                   workers: int | None = None, progress: bool = True) -> SplitReport:
    """The `data` command: one split of a data folder, inspected without training.

    `.line()` is the one-line summary, `.to_dict()` the JSON object (`{"layout": ..., "classes":
    N, "clips": loadable, "missing": ..., ...}`). TFRecord frames get their JPEG headers read too.
    """
    split = split_name(split)
    layout = discover(data, split, csv, video_root)
    if layout.kind == "tfrecord":
        from .pipeline import ClipConfig, open_source  # TensorFlow reads the records

        source = open_source(data, split, ClipConfig(), csv=csv, video_root=video_root)
        return inspect_source(source, split, check_frames=True, workers=workers, progress=progress)
    listing = find_clips(layout)
    names = class_names_of(layout)
    check_labels(listing.found, names)
    return inspect_listing(listing, split, len(names), workers, progress)


def check_data(sources: dict[str, ClipSource], max_missing: float = MAX_MISSING, progress: bool = True,
               echo: Callable[[str], None] = print) -> dict[str, dict]:
    """Before training: one summary line per split, and a refusal; returns the reports, which
    the run writes as `data_report.json` once it has claimed its folder (`write_data_report`).

    Raises DataError if a split has no loadable clip, has more than `max_missing` of its listed
    clips missing or corrupt, or has no labels (a test list); the message names the layout
    tried and two paths looked for. Nothing is written: a refused run leaves no trace.
    """
    reports = {}
    for split, source in sources.items():
        report = inspect_source(source, split, progress=progress)
        echo(report.line())
        reports[split] = report
    for split, report in reports.items():
        where = f"layout {report.layout} from {report.source}"
        if report.looked_for:
            where += f"; looked for e.g. {report.looked_for[0]} and {report.looked_for[1]}"
        if report.clips == 0:
            raise DataError(f"{split}: none of the {report.listed:,} clips listed can be loaded ({where})")
        bad = (report.missing + report.corrupt) / report.listed
        if bad > max_missing:
            raise DataError(f"{split}: {bad:.0%} of the {report.listed:,} clips listed are missing or corrupt, more "
                            f"than the {max_missing:.0%} allowed ({where})")
        if not report.labelled:
            raise DataError(f"{split}: {report.source} has no labels (a test list): usable for evaluation or "
                            f"prediction, not for training")
    return {split: report.to_dict() for split, report in reports.items()}


def write_data_report(folder: str | Path, reports: dict[str, dict]) -> Path:
    """`data_report.json` in a run folder: what `check_data` found in each split."""
    return write_json(Path(folder) / REPORT_FILE, reports)
