"""The TF Model Garden / DMVR TFRecord layout: one `tf.train.SequenceExample` per clip.

Context `clip/label/index` (int64), `clip/label/text` (bytes) and, as MediaSequence names it,
`image/frame_rate` (float; records without it are taken as 25 fps); sequence feature
`image/encoded` holds one JPEG per frame. Decoding only the frames a clip samples is what makes
this the fast path for repeated proxy training.

Shards written by others can hold records without frames or with a damaged JPEG: `decode_frames`
and `scan_records` say which record and why instead of failing a whole epoch.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from .video import DEFAULT_FPS

__all__ = ["encode_sequence_example", "parse_sequence_example", "decode_frames", "scan_records", "RecordScan",
           "IMAGE_KEY", "LABEL_KEY", "TEXT_KEY", "FPS_KEY"]

IMAGE_KEY = "image/encoded"
LABEL_KEY = "clip/label/index"
TEXT_KEY = "clip/label/text"
FPS_KEY = "image/frame_rate"


def encode_sequence_example(frames: np.ndarray | list[bytes], label: int, text: str = "", fps: float | None = None,
                            quality: int = 90) -> bytes:
    """Serialises uint8 [T, H, W, 3] frames as JPEGs (or already-encoded ones), a label and the frame rate."""
    example = tf.train.SequenceExample()
    example.context.feature[LABEL_KEY].int64_list.value.append(int(label))
    example.context.feature[TEXT_KEY].bytes_list.value.append(text.encode())
    if fps:
        example.context.feature[FPS_KEY].float_list.value.append(float(fps))
    images = example.feature_lists.feature_list[IMAGE_KEY]
    for frame in frames:
        if not isinstance(frame, bytes):
            buffer = io.BytesIO()
            Image.fromarray(frame).save(buffer, format="JPEG", quality=quality)
            frame = buffer.getvalue()
        images.feature.add().bytes_list.value.append(frame)
    return example.SerializeToString()


def parse_sequence_example(serialized: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(JPEG strings [T], label int32, frame rate float32) of one serialized SequenceExample."""
    context, sequence = tf.io.parse_single_sequence_example(
        serialized, context_features={LABEL_KEY: tf.io.FixedLenFeature([], tf.int64),
                                      FPS_KEY: tf.io.FixedLenFeature([], tf.float32, default_value=DEFAULT_FPS)},
        sequence_features={IMAGE_KEY: tf.io.FixedLenSequenceFeature([], tf.string)})
    return sequence[IMAGE_KEY], tf.cast(context[LABEL_KEY], tf.int32), context[FPS_KEY]


def decode_frames(jpegs: list[bytes] | np.ndarray, min_side: int | None = None) -> tuple[np.ndarray | None, str | None]:
    """(uint8 [T, H, W, 3] frames, None), or (None, why) for a record without frames or a bad JPEG.

    PIL (libjpeg) rather than `tf.io.decode_jpeg`, because a graph op can only fail the whole
    pipeline, while here one record is skipped and the reason kept. With `min_side`, libjpeg
    decodes at the smallest of 1/2, 1/4, 1/8 scale whose shorter side is still at least that
    (DCT scaling: several times cheaper than decoding full size and resizing).
    """
    if len(jpegs) == 0:
        return None, "record has no frames"
    frames = []
    for index, jpeg in enumerate(jpegs):
        try:
            with Image.open(io.BytesIO(jpeg)) as image:
                if min_side:
                    image.draft("RGB", (min_side, min_side))
                frames.append(np.asarray(image.convert("RGB")))
        except (UnidentifiedImageError, OSError) as err:
            return None, f"frame {index} is not a decodable JPEG ({err})"
    if len({frame.shape for frame in frames}) > 1:
        return None, "frames differ in size"
    return np.stack(frames), None


@dataclass
class RecordScan:
    """One pass over shards: how many records, the label texts, and the records that cannot be used."""

    records: int = 0
    texts: dict[int, str] = field(default_factory=dict)
    bad: dict[str, str] = field(default_factory=dict)  # 'shard:index' -> why

    def class_names(self) -> list[str] | None:
        """Names by label index from the records' `clip/label/text`, if every index has one."""
        if not self.texts or any(not self.texts.get(i) for i in range(max(self.texts) + 1)):
            return None
        return [self.texts[i] for i in range(max(self.texts) + 1)]


def scan_records(files: list[str], check_frames: bool = False, progress=None) -> RecordScan:
    """Counts records and collects label texts; flags records without frames.

    With `check_frames`, every frame's JPEG header is also read (PIL opens images lazily, so
    this costs far less than decoding). `progress`, if given, is called once per record.
    """
    scan = RecordScan()
    for path in files:
        records = tf.data.TFRecordDataset(path).map(
            lambda s: (tf.io.parse_single_sequence_example(
                s, context_features={LABEL_KEY: tf.io.FixedLenFeature([], tf.int64),
                                     TEXT_KEY: tf.io.FixedLenFeature([], tf.string, default_value="")},
                sequence_features={IMAGE_KEY: tf.io.FixedLenSequenceFeature([], tf.string)})),
            num_parallel_calls=tf.data.AUTOTUNE)
        for index, (context, sequence) in enumerate(records.as_numpy_iterator()):
            scan.records += 1
            label, text = int(context[LABEL_KEY]), context[TEXT_KEY].decode()
            if text:
                scan.texts.setdefault(label, text)
            key = f"{Path(path).name}:{index}"
            if len(sequence[IMAGE_KEY]) == 0:
                scan.bad[key] = "record has no frames"
            elif check_frames:
                reason = _header_problem(sequence[IMAGE_KEY])
                if reason:
                    scan.bad[key] = reason
            if progress:
                progress()
    return scan


def _header_problem(jpegs) -> str | None:
    for index, jpeg in enumerate(jpegs):
        try:
            Image.open(io.BytesIO(jpeg)).close()
        except (UnidentifiedImageError, OSError) as err:
            return f"frame {index} is not a decodable JPEG ({err})"
    return None
