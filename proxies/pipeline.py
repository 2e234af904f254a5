"""tf.data pipelines from every data source to `(clip [T,H,W,3] float32 in [0,1], label int32)`.

Sources share one clip sampler and one augmentation: training takes a random temporal window,
a random resized crop (scale jitter) and an optional horizontal flip; evaluation takes the
central window and a centre crop after resizing the shorter side. All randomness is stateless,
keyed by (seed, epoch, element index), so an epoch's data is reproducible after a restart.
Videos are decoded in parallel and prefetched so the input pipeline keeps up with the model;
a missing or corrupt video is skipped with one warning naming it, and counted in `skipped`.
"""
from __future__ import annotations

import abc
import functools
import json
import logging
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from .errors import DataError
from .kinetics import KineticsRecord, label_map_from, read_kinetics_csv
from .synthetic import SyntheticConfig, generate_dataset
from .tfrecord import parse_sequence_example
from .video import VideoError, clip_indices, read_video

__all__ = ["ClipConfig", "ClipSource", "VideoSource", "TFRecordSource", "SyntheticSource", "open_source",
           "CLASSES_FILE"]

log = logging.getLogger(__name__)
AUTOTUNE = tf.data.AUTOTUNE
Shard = tuple[int, int]  # (number of shards, this shard's index)
CLASSES_FILE = "classes.json"


@dataclass(frozen=True)
class ClipConfig:
    """How clips are cut from videos and augmented.

    `stride` takes every stride-th source frame; `fps`, if set, overrides it per video
    (stride = round(video fps / fps)). `min_resize` is the shorter side before the eval centre
    crop (default 8/7 of `resolution`, the official 224 -> 256 ratio).
    """

    frames: int = 16
    stride: int = 2
    fps: float | None = None
    resolution: int = 64
    min_resize: int | None = None
    crop_area: tuple[float, float] = (0.3, 1.0)
    flip: bool = True

    @property
    def resize(self) -> int:
        return self.min_resize or int(round(self.resolution * 8 / 7))


def _shuffle_seed(seed: int, epoch: int) -> int:
    return seed * 100_003 + epoch


def _element_seed(seed: int, epoch, index) -> tf.Tensor:
    return tf.stack([tf.cast(seed, tf.int64) * 100_003 + tf.cast(epoch, tf.int64), tf.cast(index, tf.int64)])


def _random_resized_crop(clip: tf.Tensor, config: ClipConfig, seed: tf.Tensor) -> tf.Tensor:
    shape = tf.shape(clip)
    height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    draws = tf.random.stateless_uniform([4], seed=seed)
    area = (config.crop_area[0] + (config.crop_area[1] - config.crop_area[0]) * draws[0]) * height * width
    aspect = tf.exp(math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * draws[1])
    crop_h = tf.cast(tf.clip_by_value(tf.sqrt(area / aspect), 1.0, height), tf.int32)
    crop_w = tf.cast(tf.clip_by_value(tf.sqrt(area * aspect), 1.0, width), tf.int32)
    top = tf.cast(draws[2] * tf.cast(shape[1] - crop_h, tf.float32), tf.int32)
    left = tf.cast(draws[3] * tf.cast(shape[2] - crop_w, tf.float32), tf.int32)
    clip = clip[:, top:top + crop_h, left:left + crop_w]
    return tf.image.resize(clip, [config.resolution, config.resolution])


def _centre_crop(clip: tf.Tensor, config: ClipConfig) -> tf.Tensor:
    shape = tf.cast(tf.shape(clip)[1:3], tf.float32)
    scale = config.resize / tf.reduce_min(shape)
    size = tf.cast(tf.math.ceil(shape * scale), tf.int32)
    clip = tf.image.resize(clip, size)
    top = (size[0] - config.resolution) // 2
    left = (size[1] - config.resolution) // 2
    return clip[:, top:top + config.resolution, left:left + config.resolution]


def augment(clip: tf.Tensor, config: ClipConfig, training: bool, seed: tf.Tensor) -> tf.Tensor:
    """uint8 [T, H, W, 3] -> float32 [T, R, R, 3] in [0, 1]."""
    clip = tf.cast(clip, tf.float32) / 255.0
    if not training:
        clip = _centre_crop(clip, config)
    else:
        clip = _random_resized_crop(clip, config, seed)
        if config.flip:
            flip = tf.random.stateless_uniform([], seed=seed + 1) < 0.5
            clip = tf.cond(flip, lambda: tf.reverse(clip, axis=[2]), lambda: clip)
    clip = tf.clip_by_value(clip, 0.0, 1.0)
    clip.set_shape([config.frames, config.resolution, config.resolution, 3])
    return clip


def _sample_start(num_frames, span, training: bool, seed):
    """Random window start when training, the centred window otherwise (0 for short videos)."""
    room = tf.maximum(num_frames - span, 0)
    if not training:
        return room // 2
    return tf.random.stateless_uniform([], seed=seed + 2, minval=0, maxval=room + 1, dtype=tf.int32)


@dataclass
class ClipSource(abc.ABC):
    """A labelled clip collection that can produce train/eval `tf.data` pipelines."""

    clip: ClipConfig
    class_names: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of clips."""

    @abc.abstractmethod
    def _raw(self, training: bool, seed: int, epoch, shard: Shard | None) -> tf.data.Dataset:
        """(position, uint8 clip [T, H, W, 3], label) elements in epoch order (see `_ordered`)."""

    @staticmethod
    def _ordered(ds: tf.data.Dataset, training: bool, seed: int, epoch, shard: Shard | None,
                 buffer: int) -> tf.data.Dataset:
        """Epoch order: shuffled when training, numbered by position, then this worker's share.

        Sharding after the shuffle and before any decoding gives each data-parallel worker a
        disjoint part of the same epoch and decodes every video once; the position keys the
        clip's randomness, so it does not depend on how many workers share the epoch.
        """
        if training:
            ds = ds.shuffle(buffer, seed=_shuffle_seed(seed, epoch), reshuffle_each_iteration=False)
        ds = ds.enumerate()
        return ds.shard(*shard) if shard else ds

    def dataset(self, training: bool, batch_size: int, seed: int = 0, epoch: int = 0,
                drop_remainder: bool = False, shard: Shard | None = None) -> tf.data.Dataset:
        """One epoch of batches; different epochs shuffle and augment differently but reproducibly.

        `shard=(num_shards, index)` keeps every num_shards-th clip of the epoch, from `index`.
        """
        ds = self._raw(training, seed, epoch, shard)
        ds = ds.map(lambda i, clip, label: (augment(clip, self.clip, training, _element_seed(seed, epoch, i)), label),
                    num_parallel_calls=AUTOTUNE, deterministic=True)
        return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)

    def epochs(self, training: bool, batch_size: int, first_epoch: int, last_epoch: int, seed: int = 0,
               steps_per_epoch: int | None = None, shard: Shard | None = None) -> tf.data.Dataset:
        """Epochs first..last-1 back to back (for `fit(initial_epoch=first, steps_per_epoch=...)`).

        With `steps_per_epoch`, every epoch is exactly that many full batches: cut when a shard
        holds more, topped up from the start of the same epoch when skipped videos left fewer.
        So epoch e always starts with epoch e's data, and data-parallel workers, whose collective
        ops must run the same number of steps, never wait on one that ran dry.
        """
        def epoch(e):
            ds = self.dataset(training, batch_size, seed, e, True, shard)
            return ds.repeat().take(steps_per_epoch) if steps_per_epoch else ds

        parts = [epoch(e) for e in range(first_epoch, last_epoch)]
        return functools.reduce(tf.data.Dataset.concatenate, parts)


class VideoSource(ClipSource):
    """Video files decoded with PyAV: the Kinetics CSV + folder layout."""

    def __init__(self, records: list[KineticsRecord], clip: ClipConfig, label_map: dict[str, int] | None = None):
        label_map = label_map or label_map_from(r.label for r in records)
        unknown = sorted({r.label for r in records} - set(label_map))
        if unknown:
            raise ValueError(f"label {unknown[0]!r} is not in the label map")
        super().__init__(clip, [name for name, _ in sorted(label_map.items(), key=lambda kv: kv[1])])
        self.records = records
        self.label_map = label_map
        self.skipped: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_csv(cls, csv_path, root, split: str | None, clip: ClipConfig, label_map=None) -> "VideoSource":
        return cls(read_kinetics_csv(csv_path, root, split), clip, label_map)

    def __len__(self) -> int:
        return len(self.records)

    def _decode(self, path: bytes, training: bool, seed: np.ndarray) -> np.ndarray:
        name = path.decode()
        try:
            frames, fps = read_video(name)
        except VideoError as err:
            with self._lock:
                if name not in self.skipped:
                    log.warning("skipping video: %s", err)
                self.skipped[name] = str(err)
            return np.zeros((0, 1, 1, 3), np.uint8)
        stride = max(1, round(fps / self.clip.fps)) if self.clip.fps else self.clip.stride
        span = (self.clip.frames - 1) * stride + 1
        room = max(len(frames) - span, 0)
        start = int(np.random.default_rng(seed).integers(0, room + 1)) if training else room // 2
        return frames[clip_indices(len(frames), self.clip.frames, stride, start)]

    def _raw(self, training: bool, seed: int, epoch, shard: Shard | None) -> tf.data.Dataset:
        paths = [str(r.path) for r in self.records]
        labels = [self.label_map[r.label] for r in self.records]
        ds = tf.data.Dataset.from_tensor_slices((paths, tf.constant(labels, tf.int32)))
        ds = self._ordered(ds, training, seed, epoch, shard, len(paths)).map(
            lambda i, item: (i, tf.numpy_function(lambda p, s: self._decode(p, training, s),
                                                  [item[0], _element_seed(seed, epoch, i)], tf.uint8, stateful=True),
                             item[1]),
            num_parallel_calls=AUTOTUNE, deterministic=True)
        ds = ds.filter(lambda i, clip, label: tf.shape(clip)[0] > 0)
        return ds.map(lambda i, clip, label: (i, tf.ensure_shape(clip, [self.clip.frames, None, None, 3]), label))


class TFRecordSource(ClipSource):
    """SequenceExample TFRecords (Model Garden / DMVR layout); only sampled frames are decoded."""

    def __init__(self, files: list[str | Path], clip: ClipConfig, class_names: list[str] | None = None,
                 size: int | None = None):
        self.files = [str(f) for f in files]
        if not self.files:
            raise FileNotFoundError("no TFRecord files given")
        names = class_names or _read_classes(Path(self.files[0]).parent)
        super().__init__(clip, names)
        self._size = size

    def __len__(self) -> int:
        if self._size is None:
            self._size = sum(1 for _ in tf.data.TFRecordDataset(self.files))
        return self._size

    def _decode(self, position, serialized, training: bool, seed):
        jpegs, label = parse_sequence_example(serialized)
        total = tf.shape(jpegs)[0]
        span = (self.clip.frames - 1) * self.clip.stride + 1
        start = _sample_start(total, span, training, seed)
        indices = (start + self.clip.stride * tf.range(self.clip.frames)) % total
        frames = tf.map_fn(lambda j: tf.io.decode_jpeg(j, channels=3), tf.gather(jpegs, indices),
                           fn_output_signature=tf.uint8)
        return position, frames, label

    def _raw(self, training: bool, seed: int, epoch, shard: Shard | None) -> tf.data.Dataset:
        ds = tf.data.TFRecordDataset(self.files, num_parallel_reads=min(4, len(self.files)))
        ds = self._ordered(ds, training, seed, epoch, shard, 1024)
        ds = ds.map(lambda i, s: self._decode(i, s, training, _element_seed(seed, epoch, i)),
                    num_parallel_calls=AUTOTUNE, deterministic=True)
        return ds.ignore_errors(log_warning=True)


class SyntheticSource(ClipSource):
    """The embedded synthetic action dataset, generated in memory (no files, no downloads).

    Every fifth clip of each class (by generation index) is held out as the 'val' split.
    """

    def __init__(self, config: SyntheticConfig, clip: ClipConfig, split: str = "train"):
        if split not in ("train", "val"):
            raise ValueError(f"split: synthetic data has 'train' and 'val', got {split!r}")
        super().__init__(clip, list(config.class_names))
        videos, labels = generate_dataset(config)
        held_out = (np.arange(len(labels)) % config.clips_per_class) % 5 == 4
        keep = held_out if split == "val" else ~held_out
        self.videos, self.labels = videos[keep], labels[keep]
        self.config = config

    def __len__(self) -> int:
        return len(self.labels)

    def _raw(self, training: bool, seed: int, epoch, shard: Shard | None) -> tf.data.Dataset:
        ds = tf.data.Dataset.from_tensor_slices((self.videos, self.labels))

        def sample(i, item):
            video, label = item
            span = (self.clip.frames - 1) * self.clip.stride + 1
            start = _sample_start(tf.shape(video)[0], span, training, _element_seed(seed, epoch, i))
            indices = (start + self.clip.stride * tf.range(self.clip.frames)) % tf.shape(video)[0]
            return i, tf.gather(video, indices), label

        ds = self._ordered(ds, training, seed, epoch, shard, len(self.labels))
        return ds.map(sample, num_parallel_calls=AUTOTUNE, deterministic=True)


def _read_classes(folder: Path) -> list[str]:
    path = folder / CLASSES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: class list not found (written by the converter)")
    return list(json.loads(path.read_text()))


def open_source(data: str, split: str, clip: ClipConfig, synthetic: SyntheticConfig | None = None) -> ClipSource:
    """`synthetic`, a folder of `{split}*.tfrecord` files, or a Kinetics folder with `{split}.csv`."""
    if data == "synthetic":
        return SyntheticSource(synthetic or SyntheticConfig(), clip, split)
    root = Path(data)
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found (or pass 'synthetic')")
    records = sorted(root.glob(f"{split}*.tfrecord"))
    if records:
        return TFRecordSource(records, clip)
    names = ("validate", "val") if split in ("val", "validate") else (split,)
    csvs = [root / f"{name}.csv" for name in names if (root / f"{name}.csv").is_file()]
    if not csvs:
        raise DataError(f"{root}: neither {split}*.tfrecord nor {names[0]}.csv found")
    label_map = None
    if (root / CLASSES_FILE).is_file():
        label_map = {name: i for i, name in enumerate(_read_classes(root))}
    elif (root / "train.csv").is_file():
        label_map = label_map_from(r.label for r in read_kinetics_csv(root / "train.csv", root))
    return VideoSource.from_csv(csvs[0], root, None, clip, label_map)
