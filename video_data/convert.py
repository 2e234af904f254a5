"""Writing datasets: any video layout -> Model Garden TFRecord shards, and the synthetic set.

Decoding H.264 dominates proxy training on CPU. Converting once to per-frame JPEG
SequenceExamples, with `short_side` (e.g. 128 for proxy search) so frames are small, makes every
later epoch decode only the few small JPEGs it samples. Shards are named as Model Garden names
them (`train-00000-of-00016`), which `video_data.layout` finds again. Shards are written in
parallel, each to a hidden partial file renamed when complete; `conversion.json` records the
finished ones, so a rerun after an interruption converts only the rest.

    python run_search.py convert DATA OUTPUT [--split train val] [--resize 128] [--fps 12.5] [--shards 16]
"""
from __future__ import annotations

import csv
import logging
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from infra.config_io import check_numbers
from infra.files import read_json, write_json
from infra.run_folder import RunKind, claim_output

from .errors import DataError
from .kinetics import clip_stem
from .layout import CLASSES_FILE, split_name
from .pipeline import ClipConfig, VideoSource, open_source
from .synthetic import SyntheticConfig, generate_clip
from .tfrecord import encode_sequence_example
from .video import VideoError, read_video, write_video

__all__ = ["convert_to_tfrecord", "shard_names", "write_synthetic", "ConvertOptions", "convert_folder", "CONVERSION"]

log = logging.getLogger(__name__)
_STATE = "conversion.json"
CONVERSION = RunKind("TFRecord conversion", (_STATE,))
_QUALITY = 90  # JPEG quality of stored frames


def shard_names(split: str, shards: int) -> list[str]:
    """Model Garden shard names: `{split}-00000-of-00016`, ..."""
    return [f"{split}-{index:05d}-of-{shards:05d}" for index in range(shards)]


def _write_shard(source: VideoSource, indices: list[int], path: Path, short_side: int | None, fps: float | None,
                 quality: int, advance) -> dict:
    """Converts the clips `indices` into the shard `path` (via a hidden partial file); returns counts."""
    partial = path.with_name(f".{path.name}.partial")
    skipped = {}
    with tf.io.TFRecordWriter(str(partial)) as writer:
        for index in indices:
            clip = source.clips[index]
            try:
                frames, rate = read_video(clip.path, short_side, fps)
            except VideoError as err:
                log.warning("skipping video: %s", err)
                skipped[str(clip.path)] = str(err)
            else:
                writer.write(encode_sequence_example(frames, source.label_map.get(clip.label, -1), clip.label or "",
                                                     rate, quality))
            advance()
    os.replace(partial, path)
    return {"written": len(indices) - len(skipped), "skipped": skipped}


def _settings(source: VideoSource, shards: int | None, short_side: int | None, fps: float | None,
              quality: int) -> dict:
    """What a split's shards are converted with; a resumed conversion must have the same."""
    total = len(source.clips)
    return {"clips": total, "shards": max(1, min(shards or -(-total // 1000), total)), "short_side": short_side,
            "fps": fps, "quality": quality, "classes": source.class_names}


def _state(output: Path, split: str, settings: dict) -> dict:
    """The conversion state in `output` (empty when new); refused if `split` was converted otherwise."""
    path = output / _STATE
    state = read_json(path, "conversion state") if path.is_file() else {}
    if split in state and state[split].get("settings") != settings:
        raise DataError(f"{output}: holds {split} shards converted from other clips or with other settings; "
                        f"choose another output folder")
    return state


def convert_to_tfrecord(source: VideoSource, output: str | Path, split: str, shards: int | None = None,
                        short_side: int | None = None, workers: int | None = None, quality: int = _QUALITY,
                        progress: bool = True, fps: float | None = None) -> dict[str, int]:
    """Converts every clip of `source` into `{split}-0000i-of-0000N` shards plus `classes.json`.

    `shards` defaults to one per 1,000 clips; clip i goes to shard i mod N (so each shard mixes
    classes). `short_side` shrinks larger frames as they are decoded; `fps` keeps one frame
    every 1/fps seconds of faster videos (records then hold, and loaders parse, that much less;
    a proxy sampling every 2nd frame of 25 fps video loses nothing at 12.5). A rerun into the same
    `output` with the same settings skips the shards already finished. Returns
    `{'written': ..., 'skipped': ...}` over all shards.
    """
    output = Path(output)
    total = len(source.clips)
    settings = _settings(source, shards, short_side, fps, quality)
    shards = settings["shards"]
    state = _state(output, split, settings)
    output.mkdir(parents=True, exist_ok=True)
    state_path = output / _STATE
    done = state.get(split, {}).get("done", {})
    write_json(output / CLASSES_FILE, source.class_names, indent=None)
    names = shard_names(split, shards)
    todo = [i for i, name in enumerate(names) if name not in done or not (output / name).is_file()]
    bar = tqdm(total=total, initial=sum(len(range(i, total, shards)) for i in range(shards) if i not in todo),
               desc=f"convert {split}", unit="clip", disable=not progress)
    with bar, ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        futures = {pool.submit(_write_shard, source, list(range(i, total, shards)), output / names[i], short_side,
                               fps, quality, lambda: bar.update(1)): names[i] for i in todo}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            state[split] = {"settings": settings, "done": done}
            write_json(state_path, state, indent=1)
    return {"written": sum(d["written"] for d in done.values()),
            "skipped": sum(len(d["skipped"]) for d in done.values())}


def write_synthetic(config: SyntheticConfig, output: str | Path, layout: str = "kinetics",
                    fps: int = 25, progress: bool = True) -> Path:
    """The synthetic dataset on disk: Kinetics CSV + `train/` `validate/` mp4 folders, or TFRecords.

    Splits follow `SyntheticSource`: every fifth clip of a class is in 'validate' ('val').
    """
    if layout not in ("kinetics", "tfrecord"):
        raise ValueError(f"layout: 'kinetics' or 'tfrecord', got {layout!r}")
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    write_json(output / CLASSES_FILE, list(config.class_names), indent=None)
    rows = {"train": [], "validate": []}
    writers = {}
    if layout == "tfrecord":
        writers = {split: tf.io.TFRecordWriter(str(output / f"{'val' if split == 'validate' else split}"
                                                   f"-00000-of-00001.tfrecord")) for split in rows}
    jobs = [(label, index) for label in range(config.num_classes) for index in range(config.clips_per_class)]
    try:
        for label, index in tqdm(jobs, desc=f"synthetic {layout}", disable=not progress):
            split = "validate" if index % 5 == 4 else "train"
            name = config.class_names[label]
            frames = generate_clip(config, label, index)
            if layout == "tfrecord":
                writers[split].write(encode_sequence_example(frames, label, name, fps))
                continue
            youtube_id = f"s{config.seed:02d}{label:02d}{index:06d}"[-11:]
            end = int(np.ceil(config.frames / fps))
            write_video(output / split / f"{clip_stem(youtube_id, 0, end)}.mp4", frames, fps=fps)
            rows[split].append((name, youtube_id, 0, end, split))
    finally:
        for writer in writers.values():
            writer.close()
    if layout == "kinetics":
        for split, split_rows in rows.items():
            with (output / f"{split}.csv").open("w", newline="") as handle:
                csv.writer(handle).writerows([("label", "youtube_id", "time_start", "time_end", "split")] + split_rows)
    return output


@dataclass(frozen=True)
class ConvertOptions:
    """A data folder converted to TFRecord shards (`run_search.py convert`)."""

    data: str
    output: str
    splits: tuple[str, ...] = ("train", "val")
    resize: int | None = None
    fps: float | None = None
    shards: int | None = None
    workers: int | None = None
    train_csv: str | None = None
    val_csv: str | None = None
    video_root: str | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        check_numbers(self, positive=("resize", "fps", "shards", "workers"))


def convert_folder(options: ConvertOptions, progress: bool = True) -> dict[str, dict[str, int]]:
    """Every split of `options.data` as shards in `options.output`; returns the counts per split.

    The output is new, or (`resume`) a conversion with the same settings, whose finished shards
    are kept; every split is opened and checked before a byte is written.
    """
    claim_output(options.output, CONVERSION, options.resume, flag="OUTPUT")
    csvs = {"train": options.train_csv, "val": options.val_csv}
    sources, classes = {}, None
    for split in options.splits:
        source = open_source(options.data, split, ClipConfig(), csv=csvs.get(split_name(split)),
                             video_root=options.video_root, class_names=classes)
        if not isinstance(source, VideoSource):
            raise DataError(f"{options.data}: {split} is already TFRecords")
        sources[split] = source
        classes = classes or source.class_names
    for split, source in sources.items():
        _state(Path(options.output), split, _settings(source, options.shards, options.resize, options.fps, _QUALITY))
    counts = {}
    for split, source in sources.items():
        counts[split] = convert_to_tfrecord(source, options.output, split, options.shards, options.resize,
                                            options.workers, progress=progress, fps=options.fps)
        counts[split]["missing"] = len(source.listing.missing)
    return counts
