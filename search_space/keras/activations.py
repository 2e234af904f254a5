"""Activation functions by spec name, written exactly as the official implementation computes them.

Exactness matters twice: official checkpoints must reproduce their logits to 1e-4 (hard
sigmoid multiplies by 0.16667, not 1/6), and the analytic FLOP model counts the element-wise
ops each one emits (`search_space.cost.ELEMENTWISE_OPS` mirrors these bodies).
"""
from __future__ import annotations

from typing import Callable

import tensorflow as tf

__all__ = ["get_activation"]


def _hard_swish(x: tf.Tensor) -> tf.Tensor:
    return x * tf.nn.relu6(x + tf.cast(3.0, x.dtype)) * tf.cast(1.0 / 6.0, x.dtype)


def _hard_sigmoid(x: tf.Tensor) -> tf.Tensor:
    return tf.nn.relu6(x + tf.cast(3.0, x.dtype)) * tf.cast(0.16667, x.dtype)


_ACTIVATIONS: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    "swish": tf.nn.silu,
    "hard_swish": _hard_swish,
    "relu": tf.nn.relu,
    "relu6": tf.nn.relu6,
    "sigmoid": tf.nn.sigmoid,
    "hard_sigmoid": _hard_sigmoid,
}

def get_activation(name: str) -> Callable[[tf.Tensor], tf.Tensor]:
    """The function for activation `name` (validated by the spec)."""
    return _ACTIVATIONS[name]
