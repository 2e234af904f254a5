"""Shared pieces of the speed benchmarks: timing, the machine's peak, a plain training step, and
the XLA grouped-Conv3D reference of our temporal-tap convolutions.

The reference swaps `SpatioTemporalConv.call` for an XLA `tf.nn.conv3d` with `groups = channels`
(the official implementation's way on CPU) while a function is traced, so the same model and
weights give a second, independent computation of every 3D kernel: outputs and gradients of
the production layers are compared against it, and its speed is the baseline of
`bench/conv3d_speed.py`. No second production code path is kept for the benchmarks.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

# MOVINET_CODE points the benchmarks at another checkout (e.g. a worktree of an older commit),
# so one script measures both sides of a before/after comparison on the same machine.
sys.path.insert(0, os.environ.get("MOVINET_CODE") or str(Path(__file__).resolve().parents[1]))

from infra.tf_runtime import load_tensorflow  # noqa: E402

tf = load_tensorflow()
import keras  # noqa: E402

from search_space.keras.layers import SpatioTemporalConv, _time_padding  # noqa: E402

__all__ = ["tf", "keras", "timed", "peak_gmacs", "train_step", "loss_and_gradients", "reference_convs", "threads"]


@tf.function(jit_compile=True)
def _xla_conv3d(x, kernel, strides):
    return tf.nn.conv3d(x, kernel, strides, "VALID")


def _reference_call(self, x):
    """The official way: explicit 'same'/causal padding, then an XLA (grouped) Conv3D."""
    kt, kh, kw = self.kernel_size
    st, sh, sw = self.stride
    shape = tf.shape(x)
    pads = [[0, 0], list(_time_padding(shape[1], kt, st, self.padding))]
    for n, k, s in ((shape[2], kh, sh), (shape[3], kw, sw)):
        total = tf.maximum(((n + s - 1) // s - 1) * s + k - n, 0)
        pads.append([total // 2, total - total // 2])
    pads.append([0, 0])
    kernel = tf.convert_to_tensor(self.kernel)
    kernel = kernel[..., None, :] if self.depthwise else kernel
    return _xla_conv3d(tf.pad(x, pads), kernel, [1, st, sh, sw, 1])


@contextlib.contextmanager
def reference_convs():
    """Within this block, tracing the model uses XLA grouped Conv3D for every 3D kernel."""
    original = SpatioTemporalConv.call
    SpatioTemporalConv.call = _reference_call
    try:
        yield
    finally:
        SpatioTemporalConv.call = original


def timed(fn, repeats: int, warmup: int = 1) -> float:
    """Median seconds of `fn()` over `repeats` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def peak_gmacs() -> float:
    """Multiply-adds per second of a large float32 matmul: this machine's practical peak."""
    a = tf.random.normal([2048, 2048])
    matmul = tf.function(lambda: tf.matmul(a, a))
    return 2048 ** 3 / timed(lambda: matmul().numpy(), repeats=5, warmup=2) / 1e9


def threads() -> str:
    return f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()}"


def loss_and_gradients(model):
    """A compiled forward + backward pass on sparse labels: (loss, gradients), weights untouched."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def run(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True)) + tf.add_n(model.losses or [tf.constant(0.0)])
        return loss, tape.gradient(loss, model.trainable_variables)

    return run


def train_step(model):
    """A compiled SGD training step on sparse labels, returning the loss."""
    optimizer = keras.optimizers.SGD(0.01)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True)) + tf.add_n(model.losses or [tf.constant(0.0)])
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step
