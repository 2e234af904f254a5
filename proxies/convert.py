"""Writing datasets: Kinetics videos -> TFRecords, and the synthetic dataset in either layout.

Decoding H.264 dominates proxy training on CPU; converting once to per-frame JPEG
SequenceExamples (optionally shrunk so the shorter side is `max_side`) makes every later epoch
decode only the frames it samples.
"""
from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from .kinetics import clip_filename
from .pipeline import CLASSES_FILE, VideoSource
from .synthetic import SyntheticConfig, generate_clip
from .tfrecord import encode_sequence_example
from .video import VideoError, read_video, write_video

__all__ = ["convert_to_tfrecord", "write_synthetic"]

log = logging.getLogger(__name__)


def _shrink(frames: np.ndarray, max_side: int | None) -> np.ndarray:
    if not max_side or min(frames.shape[1:3]) <= max_side:
        return frames
    scale = max_side / min(frames.shape[1:3])
    size = [int(round(frames.shape[1] * scale)), int(round(frames.shape[2] * scale))]
    return tf.cast(tf.round(tf.image.resize(frames, size, antialias=True)), tf.uint8).numpy()


def convert_to_tfrecord(source: VideoSource, output: str | Path, split: str, shards: int = 4,
                        max_side: int | None = 256, progress: bool = True) -> dict[str, int]:
    """Writes `{split}-00000-of-00004.tfrecord`-style shards and `classes.json`; returns counts."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    (output / CLASSES_FILE).write_text(json.dumps(source.class_names))
    shards = max(1, min(shards, len(source.records)))
    writers = [tf.io.TFRecordWriter(str(output / f"{split}-{i:05d}-of-{shards:05d}.tfrecord"))
               for i in range(shards)]
    written = skipped = 0
    try:
        for i, record in enumerate(tqdm(source.records, desc=f"convert {split}", disable=not progress)):
            try:
                frames, _ = read_video(record.path)
            except VideoError as err:
                log.warning("skipping video: %s", err)
                skipped += 1
                continue
            writers[i % shards].write(encode_sequence_example(_shrink(frames, max_side),
                                                              source.label_map[record.label], record.label))
            written += 1
    finally:
        for writer in writers:
            writer.close()
    return {"written": written, "skipped": skipped}


def write_synthetic(config: SyntheticConfig, output: str | Path, layout: str = "kinetics",
                    fps: int = 25, progress: bool = True) -> Path:
    """The synthetic dataset on disk: Kinetics CSV + per-label mp4 folders, or TFRecords.

    Splits follow `SyntheticSource`: every fifth clip of a class is in 'validate' ('val').
    """
    if layout not in ("kinetics", "tfrecord"):
        raise ValueError(f"layout: 'kinetics' or 'tfrecord', got {layout!r}")
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    (output / CLASSES_FILE).write_text(json.dumps(list(config.class_names)))
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
                writers[split].write(encode_sequence_example(frames, label, name))
                continue
            youtube_id = f"s{config.seed:02d}{label:02d}{index:06d}"[-11:]
            end = int(np.ceil(config.frames / fps))
            write_video(output / split / clip_filename(youtube_id, 0, end), frames, fps=fps)
            rows[split].append((name, youtube_id, 0, end, split))
    finally:
        for writer in writers.values():
            writer.close()
    if layout == "kinetics":
        for split, split_rows in rows.items():
            with (output / f"{split}.csv").open("w", newline="") as handle:
                csv.writer(handle).writerows([("label", "youtube_id", "time_start", "time_end", "split")] + split_rows)
    return output
