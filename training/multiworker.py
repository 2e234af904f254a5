"""Keras 3 `fit` under `MultiWorkerMirroredStrategy`, made to work.

Keras 3 (checked up to 3.15) cannot train with `MultiWorkerMirroredStrategy` on the TensorFlow
backend (tensorflow/tensorflow#72388, "Invalid reduction dimension 0 for input with 0
dimensions"), which is the strategy Ray Train's `TensorflowTrainer` sets up. Two spots fail:

1. before the first step, `_maybe_symbolic_build` all-reduces a whole input batch (a nested
   structure, which the collective reduce cannot take) only to learn its shapes. It also takes
   that batch from the training iterator itself, so every epoch would start one batch late
   and an exactly sized dataset would run dry in the last step; the dataset's element spec
   holds the same shapes, costs no data and no communication;
2. after every step, `reduce_per_replica` reduces the step's scalar logs with `axis=0`, which
   scalars do not have; a scalar is averaged across workers with `axis=None`.

A third spot runs but computes something else than one worker would: the optimizer clips each
replica's share of the gradient (`clipnorm`, `clipvalue`, `global_clipnorm`) before the
all-reduce, so N workers may step up to N times past the clip. tf.keras, which the paper's
recipe was tuned with, clips the summed gradient; here the sum is taken first, then clipped,
and the optimizer's own all-reduce is skipped for that step.

`enable()` installs the corrected versions; everything else (the train step, loss scaling,
callbacks) stays Keras's own. It is idempotent and only needed in processes that train with
more than one worker. tests/test_training.py checks that 2 workers train exactly as 1 worker
with the same global batch.
"""
from __future__ import annotations

import importlib
import logging

import keras
import tensorflow as tf

from search_space import UserError

__all__ = ["enable", "UnsupportedKerasError"]

TESTED_KERAS = ("3.10", "3.15")  # first and last minor versions the corrections were checked on
_PATCHED = {  # module: names the corrections read or replace
    "keras.src.backend.tensorflow.trainer": ("TensorFlowTrainer._maybe_symbolic_build", "reduce_per_replica",
                                             "_collective_all_reduce_multi_worker"),
    "keras.src.backend.tensorflow.optimizer": ("TFOptimizer._backend_apply_gradients",
                                               "TFOptimizer._all_reduce_sum_gradients"),
    "keras.src.tree": ("map_structure",),
}
_originals: dict[str, object] = {}
log = logging.getLogger(__name__)


class UnsupportedKerasError(UserError):
    """This Keras lacks the private internals the multi-worker corrections replace."""


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def _lookup(module, dotted: str):
    value = module
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def _check_keras() -> dict[str, object]:
    """The modules to patch, after checking that every symbol the corrections touch exists."""
    modules = {}
    for name, symbols in _PATCHED.items():
        try:
            modules[name] = importlib.import_module(name)
            for symbol in symbols:
                _lookup(modules[name], symbol)
        except (ImportError, AttributeError) as err:
            raise UnsupportedKerasError(
                f"keras {keras.__version__}: multi-worker training corrects private Keras internals, checked on "
                f"Keras {TESTED_KERAS[0]}-{TESTED_KERAS[1]}, and {name} has changed ({err}); train with one worker "
                f"or install keras<={TESTED_KERAS[1]}.*") from None
    return modules


def _local(value):
    """One replica's part of a distributed value or spec (all replicas share shapes)."""
    if isinstance(value, tf.distribute.DistributedValues):
        return value.values[0]
    return getattr(value, "_value_specs", (value,))[0]  # PerReplicaSpec -> TensorSpec


def _maybe_symbolic_build(self, iterator=None, data_batch=None):
    """Builds model, loss and metrics from the input's shapes, without reading a batch."""
    if self._distribute_strategy is None:
        return
    if iterator is not None:
        data_batch = iterator.data_adapter.get_tf_dataset().element_spec
    with self.distribute_strategy.scope():
        self._symbolic_build(data_batch=_originals["map_structure"](_local, data_batch))


def _reduce_per_replica(values, strategy, reduction):
    """Keras's reduction, except that scalar logs are averaged across workers with axis=None."""
    original = _originals["reduce_per_replica"]
    if reduction in ("auto", "mean") and _originals["multi_worker"](strategy):
        def reduce(value):
            if value.shape.rank == 0:
                return strategy.reduce("MEAN", value, axis=None)
            return original(value, strategy, reduction)

        return _originals["map_structure"](reduce, values)
    return original(values, strategy, reduction)


def _apply_summed_gradients(self, grads, trainable_variables):
    """Sums the replicas' gradients before the optimizer clips them (tf.keras semantics)."""
    context = tf.distribute.get_replica_context()
    clips = self.clipnorm or self.clipvalue or self.global_clipnorm
    if not clips or context is None or context.num_replicas_in_sync == 1:
        return _originals["apply"](self, grads, trainable_variables)
    grads = list(grads)
    present = [i for i, grad in enumerate(grads) if grad is not None]
    for i, summed in zip(present, context.all_reduce(tf.distribute.ReduceOp.SUM, [grads[i] for i in present])):
        grads[i] = summed
    self._gradients_summed = True
    try:
        return _originals["apply"](self, grads, trainable_variables)
    finally:
        self._gradients_summed = False


def _all_reduce_sum_gradients(self, grads_and_vars):
    if getattr(self, "_gradients_summed", False):
        return list(grads_and_vars)
    return _originals["all_reduce"](self, grads_and_vars)


def enable() -> None:
    """Installs the corrections into Keras's TensorFlow trainer and optimizer (once).

    Raises UnsupportedKerasError, naming the Keras version, if a symbol they replace is gone.
    """
    if _originals:
        return
    modules = _check_keras()
    if _version(keras.__version__) > _version(TESTED_KERAS[1]):
        log.warning("keras %s is newer than the last version the multi-worker corrections were checked on "
                    "(%s); the 2-worker test in tests/test_training.py tells whether they still hold",
                    keras.__version__, TESTED_KERAS[1])
    trainer = modules["keras.src.backend.tensorflow.trainer"]
    optimizer = modules["keras.src.backend.tensorflow.optimizer"].TFOptimizer
    _originals.update(reduce_per_replica=trainer.reduce_per_replica,
                      multi_worker=trainer._collective_all_reduce_multi_worker,
                      apply=optimizer._backend_apply_gradients, all_reduce=optimizer._all_reduce_sum_gradients,
                      map_structure=modules["keras.src.tree"].map_structure)
    trainer.TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build
    trainer.reduce_per_replica = _reduce_per_replica
    optimizer._backend_apply_gradients = _apply_summed_gradients
    optimizer._all_reduce_sum_gradients = _all_reduce_sum_gradients
