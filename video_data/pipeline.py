"""tf.data pipelines from every data source to `(clip [T,H,W,3] float32 in [0,1], label int32)`.

Sources share one clip sampler and one augmentation: training takes a random temporal window,
a random resized crop (scale jitter) and an optional horizontal flip; evaluation takes the
central window and a centre crop after resizing the shorter side. All randomness is stateless,
keyed by (seed, epoch, element index), so an epoch's data is reproducible after a restart.
Videos are decoded in parallel and prefetched so the input pipeline keeps up with the model;
each decode reads only the frames its window needs (`video_data.video.read_clip`). A video or
record that cannot be decoded is skipped with one warning naming it, and counted in `skipped`;
clips whose file was never found are left out up front (`video_data.layout`).
"""
from __future__ import annotations

import abc
import dataclasses
import functools
import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from .config import DataConfig
from .errors import DataError
from .kinetics import label_map_from
from .layout import Clip, Clips, Layout, check_labels, class_names_of, discover, find_clips, read_classes
from .synthetic import SyntheticConfig, generate_dataset
from .tfrecord import RecordScan, decode_frames, parse_sequence_example, scan_records
from .video import VideoError, read_clip

__all__ = ["ClipConfig", "ClipSource", "VideoSource", "TFRecordSource", "SyntheticSource", "each_epoch",
           "open_source", "open_splits", "open_data"]

log = logging.getLogger(__name__)
AUTOTUNE = tf.data.AUTOTUNE
Shard = tuple[int, int]  # (number of shards, this shard's index)


@dataclass(frozen=True)
class ClipConfig:
    """How clips are cut from videos and augmented.

    `stride` takes every stride-th source frame; `fps`, if set, replaces it with a spacing in
    time: one frame every 1/fps seconds, by timestamp for video files and from the recorded
    frame rate for TFRecords, so 25, 30 and 60 fps sources give clips of the same duration.
    `min_resize` is the shorter side before the eval centre crop (default 8/7 of `resolution`,
    the official 224 -> 256 ratio).
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

    @property
    def decode_side(self) -> int:
        """The shorter side frames need for these crops (the eval resize, or the smallest random
        crop at full output resolution). Sources decode or scale larger frames down to it
        first: the crops lose nothing, and a 32-pixel proxy clip costs a fraction of full size."""
        return math.ceil(max(self.resize, self.resolution / math.sqrt(self.crop_area[0])))


def each_epoch(first_epoch: int, last_epoch: int, epoch: Callable[[tf.Tensor], tf.data.Dataset]) -> tf.data.Dataset:
    """`epoch(e)` for e in first..last-1, back to back, e an int64 tensor.

    Not `Dataset.concatenate` of one dataset per epoch: a concatenation keeps every finished
    part's iterator, and with it each epoch's shuffle buffer and captured tensors, until the
    whole stream ends (about 130 MB an epoch on the default synthetic data: 8 GB for a 32-epoch
    training, `bench/epoch_memory.py`). `flat_map` drops each epoch when it is done.
    """
    return tf.data.Dataset.range(first_epoch, last_epoch).flat_map(epoch)


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


def _frame_indices(num_frames, clip_frames: int, step, training: bool, seed) -> tf.Tensor:
    """Indices of a window of `clip_frames`, `step` source frames apart (step may be fractional).

    The window starts at random when training and is centred otherwise; short videos loop.
    """
    offsets = tf.cast(tf.round(tf.cast(step, tf.float32) * tf.range(clip_frames, dtype=tf.float32)), tf.int32)
    room = tf.maximum(num_frames - offsets[-1] - 1, 0)
    if training:
        start = tf.random.stateless_uniform([], seed=seed + 2, minval=0, maxval=room + 1, dtype=tf.int32)
    else:
        start = room // 2
    return (start + offsets) % tf.maximum(num_frames, 1)


def _position(training: bool, seed: np.ndarray) -> float:
    """Where a video's window starts, as a fraction of the room: random when training, else centred."""
    return float(np.random.default_rng(seed).random()) if training else 0.5


class ClipSource(abc.ABC):
    """A labelled clip collection that can produce train/eval `tf.data` pipelines.

    A plain ABC (not a dataclass): sources hold files, records or arrays, and two sources are
    equal only if they are the same object.
    """

    def __init__(self, clip: ClipConfig, class_names: Sequence[str], labelled: bool = True):
        self.clip = clip
        self.class_names = list(class_names)
        self.labelled = labelled  # False for test lists without labels: evaluation/prediction only
        self.skipped: dict[str, str] = {}  # what decoding could not use -> why
        self._lock = threading.Lock()

    def _skip(self, name: str, reason: str) -> np.ndarray:
        """Records an undecodable item (decoding runs on several threads): one warning, then
        counted. Returns the empty clip that stands for it until `_without_skipped` drops it."""
        with self._lock:
            if name not in self.skipped:
                log.warning("skipping %s: %s", name, reason)
            self.skipped[name] = reason
        return np.zeros((0, 1, 1, 3), np.uint8)

    def _without_skipped(self, ds: tf.data.Dataset) -> tf.data.Dataset:
        """Drops the empty clips of skipped items and gives the others their static frame count."""
        ds = ds.filter(lambda i, clip, label, item: tf.shape(clip)[0] > 0)
        return ds.map(lambda i, clip, label, item: (i, tf.ensure_shape(clip, [self.clip.frames, None, None, 3]),
                                                    label, item))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of clips."""

    @abc.abstractmethod
    def _raw(self, training: bool, seed: int, epoch, shard: Shard | None) -> tf.data.Dataset:
        """(position, uint8 clip [T, H, W, 3], label, item) elements in epoch order (see `_ordered`).

        `item` is the clip's int64 index in the source, the same in every epoch and order: what
        per-clip data made once (a teacher's soft targets, `proxies.distillation`) is keyed by.
        """

    @staticmethod
    def _ordered(ds: tf.data.Dataset, training: bool, seed: int, epoch, shard: Shard | None,
                 buffer: int) -> tf.data.Dataset:
        """Epoch order: shuffled when training, numbered by position, then this worker's share.

        Training shuffles each block of `buffer` items (the whole list for in-memory and video
        sources) with a stateless permutation keyed by (seed, epoch, block): the order depends on
        nothing else (not TensorFlow's global seed), and `epoch` may be a tensor (`each_epoch`).
        Sharding after the shuffle and before any decoding gives each data-parallel worker a
        disjoint part of the same epoch and decodes every video once; the position keys the
        clip's randomness, so it does not depend on how many workers share the epoch.
        """
        if training:
            def permuted(block_index, block):
                # Negative first key: never the key of an element's augmentation (`_element_seed`).
                key = tf.stack([-1 - tf.cast(seed, tf.int64) * 100_003 - tf.cast(epoch, tf.int64), block_index])
                size = tf.shape(tf.nest.flatten(block)[0], out_type=tf.int64)[0]
                order = tf.random.experimental.stateless_shuffle(tf.range(size), key)
                return tf.nest.map_structure(lambda items: tf.gather(items, order), block)

            ds = ds.batch(buffer).enumerate().map(permuted).unbatch()
        ds = ds.enumerate()
        return ds.shard(*shard) if shard else ds

    def dataset(self, training: bool, batch_size: int, seed: int = 0, epoch: int = 0,
                drop_remainder: bool = False, shard: Shard | None = None, items: bool = False) -> tf.data.Dataset:
        """One epoch of batches; different epochs shuffle and augment differently but reproducibly.

        `shard=(num_shards, index)` keeps every num_shards-th clip of the epoch, from `index`.
        Unlabelled clips (label -1) can be evaluated or predicted, never trained on. With
        `items`, each element also carries its clips' indices in the source (`_raw`).
        """
        if training and not self.labelled:
            raise DataError(f"{self}: has no labels (a test list): usable for evaluation or prediction, "
                            f"not for training")
        ds = self._raw(training, seed, epoch, shard)
        ds = ds.map(lambda i, clip, label, item: (augment(clip, self.clip, training, _element_seed(seed, epoch, i)),
                                                  label, item),
                    num_parallel_calls=AUTOTUNE, deterministic=True)
        if not items:
            ds = ds.map(lambda clip, label, item: (clip, label))
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

        return each_epoch(first_epoch, last_epoch, epoch)


class VideoSource(ClipSource):
    """Video files decoded with PyAV, seeking to each clip's window (any Kinetics-style layout).

    `clips` are the files that were found; `listing`, if given, is how they were found
    (layout, clips missing), for reports.
    """

    def __init__(self, clips: Sequence[Clip], clip: ClipConfig, class_names: Sequence[str] | None = None,
                 listing: Clips | None = None):
        if any(c.path is None for c in clips):
            raise ValueError("VideoSource: every clip needs a file (leave missing ones out)")
        names = list(class_names) if class_names is not None else list(label_map_from(c.label for c in clips))
        check_labels(clips, names)
        self.label_map = {name: index for index, name in enumerate(names)}
        super().__init__(clip, names, labelled=all(c.label is not None for c in clips))
        self.clips = list(clips)
        self.listing = listing

    def __len__(self) -> int:
        return len(self.clips)

    def __repr__(self) -> str:
        where = self.listing.layout.describe() if self.listing else f"{len(self.clips)} video files"
        return f"VideoSource({where})"

    def _decode(self, path: bytes, training: bool, seed: np.ndarray) -> np.ndarray:
        name = path.decode()
        try:
            return read_clip(name, self.clip.frames, self.clip.stride, self.clip.fps, _position(training, seed),
                             self.clip.decode_side)
        except VideoError as err:
            return self._skip(name, str(err))

    def _raw(self, training: bool, seed: int, epoch, shard: Shard | None) -> tf.data.Dataset:
        paths = [str(c.path) for c in self.clips]
        labels = [self.label_map.get(c.label, -1) for c in self.clips]
        ds = tf.data.Dataset.from_tensor_slices((paths, tf.constant(labels, tf.int32)))
        ds = self._ordered(ds.enumerate(), training, seed, epoch, shard, len(paths)).map(
            lambda i, item: (i, tf.numpy_function(lambda p, s: self._decode(p, training, s),
                                                  [item[1][0], _element_seed(seed, epoch, i)], tf.uint8,
                                                  stateful=True),
                             item[1][1], item[0]),
            num_parallel_calls=AUTOTUNE, deterministic=True)
        return self._without_skipped(ds)


class TFRecordSource(ClipSource):
    """SequenceExample TFRecords (Model Garden / DMVR layout); only sampled frames are decoded.

    Class names come from `class_names`, else `classes.json` next to the shards, else the
    records' `clip/label/text`. A record without frames or with a damaged JPEG among the
    sampled frames is skipped (the whole record) and counted in `skipped` as `shard:index`.
    """

    def __init__(self, files: Sequence[str | Path], clip: ClipConfig, class_names: Sequence[str] | None = None,
                 layout: Layout | None = None):
        self.files = [str(f) for f in files]
        self.layout = layout  # how the shards were found, for reports
        if not self.files:
            raise DataError("no TFRecord files given")
        self._scan: RecordScan | None = None
        names = class_names or read_classes(Path(self.files[0]).parent) or self.scan().class_names()
        if not names:
            raise DataError(f"{Path(self.files[0]).parent}: no classes.json, and the records carry no "
                            f"clip/label/text to name the classes")
        super().__init__(clip, names)

    def scan(self) -> RecordScan:
        """One pass over the shards (record count, label texts, records without frames), cached."""
        if self._scan is None:
            self._scan = scan_records(self.files)
        return self._scan

    def __len__(self) -> int:
        return self.scan().records

    def __repr__(self) -> str:
        return f"TFRecordSource({len(self.files)} shards from {self.files[0]})"

    def _decode_frames(self, jpegs: np.ndarray, key: bytes) -> np.ndarray:
        frames, reason = decode_frames(jpegs, self.clip.decode_side)
        return self._skip(key.decode(), reason) if frames is None else frames

    def _decode(self, position, item, key, serialized, training: bool, seed):
        jpegs, label, rate = parse_sequence_example(serialized)
        total = tf.shape(jpegs)[0]
        step = rate / self.clip.fps if self.clip.fps else float(self.clip.stride)
        indices = _frame_indices(total, self.clip.frames, step, training, seed)
        picked = tf.cond(total > 0, lambda: tf.gather(jpegs, indices), lambda: tf.zeros([0], tf.string))
        frames = tf.numpy_function(self._decode_frames, [picked, key], tf.uint8, stateful=True)
        return position, frames, label, item

    def _raw(self, training: bool, seed: int, epoch, shard: Shard | None) -> tf.data.Dataset:
        def keyed(path):  # 'shard:index' names a skipped record
            name = tf.strings.split(path, "/")[-1]
            return tf.data.TFRecordDataset(path).enumerate().map(
                lambda i, s: (tf.strings.join([name, tf.strings.as_string(i)], ":"), s))

        ds = tf.data.Dataset.from_tensor_slices(self.files).interleave(
            keyed, cycle_length=min(4, len(self.files)), num_parallel_calls=min(4, len(self.files)),
            deterministic=True)
        ds = self._ordered(ds.enumerate(), training, seed, epoch, shard, 1024)
        ds = ds.map(lambda i, item: self._decode(i, item[0], item[1][0], item[1][1], training,
                                                 _element_seed(seed, epoch, i)),
                    num_parallel_calls=AUTOTUNE, deterministic=True)
        return self._without_skipped(ds)


class SyntheticSource(ClipSource):
    """The embedded synthetic action dataset, generated in memory (no files, no downloads).

    Every fifth clip of each class (by generation index) is held out as the 'val' split.
    """

    def __init__(self, config: SyntheticConfig, clip: ClipConfig, split: str = "train"):
        if split not in ("train", "val"):
            raise DataError(f"split: synthetic data has 'train' and 'val', got {split!r}")
        super().__init__(clip, list(config.class_names))
        videos, labels = generate_dataset(config)
        held_out = (np.arange(len(labels)) % config.clips_per_class) % 5 == 4
        keep = held_out if split == "val" else ~held_out
        self.videos, self.labels = videos[keep], labels[keep]
        self.config = config

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return f"SyntheticSource({len(self)} clips)"

    @functools.cached_property
    def _tensors(self) -> tuple[tf.Tensor, tf.Tensor]:
        """The clips and labels as tensors, made once (eagerly, even when first asked for while a
        dataset function is traced): datasets use them by reference, where a NumPy array would
        be copied into every dataset built from it."""
        with tf.init_scope():
            return tf.constant(self.videos), tf.constant(self.labels)

    def _raw(self, training: bool, seed: int, epoch, shard: Shard | None) -> tf.data.Dataset:
        videos, labels = self._tensors

        def sample(i, index):
            video = videos[index]
            indices = _frame_indices(tf.shape(video)[0], self.clip.frames, self.clip.stride, training,
                                     _element_seed(seed, epoch, i))
            return i, tf.gather(video, indices), labels[index], index

        # Clip numbers are shuffled, not clips: no copy of every clip into a buffer each epoch.
        ds = self._ordered(tf.data.Dataset.range(len(self.labels)), training, seed, epoch, shard, len(self.labels))
        return ds.map(sample, num_parallel_calls=AUTOTUNE, deterministic=True)


def open_source(data: str, split: str, clip: ClipConfig, synthetic: SyntheticConfig | None = None,
                csv: str | Path | None = None, video_root: str | Path | None = None,
                class_names: Sequence[str] | None = None) -> ClipSource:
    """The source of `split` in `data`: 'synthetic', or any layout `video_data.layout` finds.

    `csv` / `video_root` override discovery for this split. Class names: `class_names` (pass
    the train source's so every split agrees), else the folder's `classes.json`, else those of
    the train split's CSV or label folders, else this split's own labels.
    """
    if data == "synthetic" and csv is None:
        return SyntheticSource(synthetic or SyntheticConfig(), clip, split)
    layout = discover(data, split, csv, video_root)
    if layout.kind == "tfrecord":
        return TFRecordSource(layout.shards, clip, class_names, layout)
    listing = find_clips(layout)
    return VideoSource(listing.found, clip, class_names or class_names_of(layout), listing)


def open_data(data: DataConfig, clip: ClipConfig) -> tuple[ClipSource, ClipSource]:
    """The train and val sources `data` describes, at `clip`'s shape (its `fps` applied)."""
    clip = dataclasses.replace(clip, fps=data.fps) if data.fps else clip
    return open_splits(data.source, clip, data.synthetic if data.source == "synthetic" else None, data.train_csv,
                       data.val_csv, data.video_root)


def open_splits(data: str, clip: ClipConfig, synthetic: SyntheticConfig | None = None, train_csv: str | None = None,
                val_csv: str | None = None, video_root: str | None = None) -> tuple[ClipSource, ClipSource]:
    """The train and val sources of `data` (with their overrides), val using train's class list."""
    train = open_source(data, "train", clip, synthetic, train_csv, video_root)
    return train, open_source(data, "val", clip, synthetic, val_csv, video_root, train.class_names)

