"""The TF Model Garden / DMVR TFRecord layout: one `tf.train.SequenceExample` per clip.

Context `clip/label/index` (int64) and `clip/label/text` (bytes); sequence feature
`image/encoded` holds one JPEG per frame. Decoding only the frames a clip samples is what makes
this the fast path for repeated proxy training.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["encode_sequence_example", "parse_sequence_example", "IMAGE_KEY", "LABEL_KEY", "TEXT_KEY"]

IMAGE_KEY = "image/encoded"
LABEL_KEY = "clip/label/index"
TEXT_KEY = "clip/label/text"


def encode_sequence_example(frames: np.ndarray, label: int, text: str = "", quality: int = 90) -> bytes:
    """Serialises uint8 [T, H, W, 3] frames and a label."""
    example = tf.train.SequenceExample()
    example.context.feature[LABEL_KEY].int64_list.value.append(int(label))
    example.context.feature[TEXT_KEY].bytes_list.value.append(text.encode())
    images = example.feature_lists.feature_list[IMAGE_KEY]
    for frame in frames:
        images.feature.add().bytes_list.value.append(tf.io.encode_jpeg(frame, quality=quality).numpy())
    return example.SerializeToString()


def parse_sequence_example(serialized: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(JPEG strings [T], label int32) of one serialized SequenceExample."""
    context, sequence = tf.io.parse_single_sequence_example(
        serialized, context_features={LABEL_KEY: tf.io.FixedLenFeature([], tf.int64)},
        sequence_features={IMAGE_KEY: tf.io.FixedLenSequenceFeature([], tf.string)})
    return sequence[IMAGE_KEY], tf.cast(context[LABEL_KEY], tf.int32)
