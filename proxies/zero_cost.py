"""Zero-cost proxies: scores of an untrained network from one batch, seconds per architecture.

Four published training-free scores, each adapted to this space where it has to be:

- `synflow` (Tanaka et al. 2020, as a NAS score in Abdelfattah et al. 2021): every weight
  replaced by its absolute value, an all-ones clip in, batch norm at its initial identity (the
  reference implementation scores a copy without it), and the sum over the conv and dense
  kernels of |kernel x d(sum of logits)/d(kernel)|; stored as its natural log (the raw score
  spans hundreds of orders of magnitude). Computed in float64, as the reference implementation
  does, since the positive network's activations outgrow float32 within a few dozen layers.
- `naswot` (Mellor et al. 2021): the log-determinant of the kernel that counts, for each pair of
  clips in a batch, the units on the same side of zero before every activation: networks that
  tell the clips of a batch apart at initialisation train better. ReLU's binary code is whether
  a unit is active; for hard-swish and swish it is the same sign test, since their output is
  positive exactly where their input is.
- `grad_norm` (Abdelfattah et al. 2021): the summed L2 norms of the cross-entropy loss's
  gradients with respect to the conv and dense kernels, on one labelled batch.
- `entropy`: the multi-scale Gaussian entropy of MAE-DET / TinyNAS (Sun et al. 2022), the family
  of training-free scores E3D (Wang et al. 2023) brought to 3D video CNNs: weights drawn from
  N(0, 1), a Gaussian clip in, batch norm at its initial identity, and the sum over the five
  blocks, with equal weights, of the log standard deviation of the block's output feature map (a
  Gaussian's entropy is its log standard deviation plus a constant): how much information the
  features can carry. It is measured by a forward pass, not E3D's analytic STEntr-Score with
  its spatio-temporal refinement factor. `synflow` overflows even float64 for the deeper
  networks of the default space (`-inf`: no ranking); the other three do not.

Every score opens the ReZero scales to 1 first. At initialisation they are 0, so each residual
branch outputs nothing and every score would read only the chain of skips: no kernel size,
expansion or depth choice would change it. Dropout and stochastic depth are off, so a score
depends only on the architecture, the seed and the batch.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from search_space import ArchSpec, ModelOptions
from search_space.keras.builder import build_model
from search_space.keras.layers import Scale
from search_space.walk import walk
from video_data.config import DataConfig

from .config import ZERO_COST_SCORES
from .ray_trial import proxy_sources

__all__ = ["ZERO_COST_SCORES", "zero_cost_scores", "score_architectures"]

_DETERMINISTIC = ModelOptions(dropout_rate=0.0, stochastic_depth_rate=0.0, weight_decay=0.0)


@contextmanager
def _dtype_policy(name: str) -> Iterator[None]:
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _open_network(spec: ArchSpec, num_classes: int, seed: int, dtype: str = "float32") -> keras.Model:
    """The untrained network of `spec` with its residual branches open (ReZero scales at 1)."""
    keras.utils.set_random_seed(seed)
    with _dtype_policy(dtype):
        model = build_model(spec, num_classes, _DETERMINISTIC)
    for layer in model._flatten_layers():
        if isinstance(layer, Scale):
            layer.scale.assign(tf.ones_like(layer.scale))
    return model


def _kernels(model: keras.Model) -> list[tf.Variable]:
    """The conv and dense kernels: what the published scores sum over (no biases, batch-norm
    scales or ReZero scalars)."""
    return [v for v in model.trainable_variables if len(v.shape) >= 2]


def _naswot_and_grad_norm(model: keras.Model, clips: tf.Tensor, labels: tf.Tensor) -> tuple[float, float]:
    """One training-mode pass: the activation-pattern kernel's log-determinant and the loss's gradient norm."""
    n = int(clips.shape[0])
    kernel = tf.zeros([n, n], tf.float64)

    def recording(activation):
        def record(x):
            nonlocal kernel
            codes = tf.reshape(tf.cast(x > 0, tf.float64), [n, -1])
            kernel += tf.matmul(codes, codes, transpose_b=True) + tf.matmul(1 - codes, 1 - codes, transpose_b=True)
            return activation(x)
        return record

    for layer in model._flatten_layers():
        if getattr(layer, "activation_fn", None) is not None:
            layer.activation_fn = recording(layer.activation_fn)
    with tf.GradientTape() as tape:
        logits = model(clips, training=True)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    gradients = tape.gradient(loss, _kernels(model))
    grad_norm = float(sum(tf.norm(g) for g in gradients if g is not None))
    sign, log_det = np.linalg.slogdet(kernel.numpy())
    return (float(log_det) if sign > 0 else -math.inf), grad_norm


def _synflow(model: keras.Model, shape: tuple[int, ...]) -> float:
    for variable in model.trainable_variables:
        variable.assign(tf.abs(variable))
    weights = _kernels(model)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(model(tf.ones([1, *shape], tf.float64), training=False))
    gradients = tape.gradient(total, weights)
    score = sum(float(tf.reduce_sum(tf.abs(tf.cast(w, tf.float64) * tf.cast(g, tf.float64))))
                for w, g in zip(weights, gradients) if g is not None)
    return math.log(score) if score > 0 else -math.inf


def _entropy(model: keras.Model, spec: ArchSpec, shape: tuple[int, ...], seed: int) -> float:
    rng = np.random.default_rng(seed)
    for variable in _kernels(model):  # batch norm stays the identity it starts as
        variable.assign(rng.standard_normal(variable.shape))
    x = tf.constant(rng.standard_normal([2, *shape]))
    x, _ = model.stem(x, {}, training=False)
    blocks = [g.block for g in walk(spec).layers]
    # N(0, 1) weights grow the features by about sqrt(fan-in) a layer, past float64 in the deeper
    # networks of the space: the features are brought back to unit deviation after every layer
    # and the log of what they were divided by is carried instead.
    log_std, score = 0.0, 0.0
    for number, layer in enumerate([model.stem, *model.bottlenecks]):
        if number:
            x, _ = layer(x, {}, training=False)
        std = float(tf.math.reduce_std(x))
        log_std, x = log_std + math.log(std), x / std
        if number and (number == len(blocks) or blocks[number] != blocks[number - 1]):  # a block's last layer
            score += log_std
    return score


def zero_cost_scores(spec: ArchSpec, clips: np.ndarray, labels: np.ndarray, num_classes: int,
                     seed: int = 0) -> dict[str, float]:
    """The four scores of `spec` (see the module docstring) from one labelled batch of clips
    [N, T, H, W, 3] at the spec's input shape; higher is better for each."""
    clips = tf.convert_to_tensor(clips, tf.float32)
    naswot, grad_norm = _naswot_and_grad_norm(_open_network(spec, num_classes, seed), clips,
                                              tf.convert_to_tensor(labels))
    shape = tuple(int(d) for d in clips.shape[1:])
    positive = _open_network(spec, num_classes, seed, "float64")
    synflow = _synflow(positive, shape)
    entropy = _entropy(positive, spec, shape, seed)
    return {"synflow": synflow, "naswot": naswot, "grad_norm": grad_norm, "entropy": entropy}


def score_architectures(specs: Mapping[str, ArchSpec], data: DataConfig, batch_size: int = 16, seed: int = 0,
                        progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """One row per architecture (`arch_id` and the four scores), each scored on the first
    training batch of `data` at its own input shape, as its proxy training would read it."""
    rows = []
    for done, (arch_id, spec) in enumerate(specs.items(), 1):
        train, _ = proxy_sources(spec, data)
        clips, labels = next(iter(train.dataset(True, batch_size, seed=seed)))
        rows.append({"arch_id": arch_id, **zero_cost_scores(spec, clips.numpy(), labels.numpy(), train.num_classes,
                                                              seed)})
        if progress:
            progress(f"zero-cost scores: {done}/{len(specs)} architectures")
    return pd.DataFrame(rows, columns=["arch_id", *ZERO_COST_SCORES])
