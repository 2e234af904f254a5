"""Keras objects that implement a `Recipe`: optimiser and schedule, loss, metrics, the compiled model."""
from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

import keras
import tensorflow as tf

from infra.tf_runtime import drop_retracing_notes
from search_space import ArchSpec, build_model

from .recipe import Recipe

__all__ = ["make_optimizer", "make_loss", "make_metrics", "use_mixed_precision", "one_hot", "compile_for_recipe",
           "compiled_model", "quiet_fit"]


def make_optimizer(recipe: Recipe, batch_size: int, steps_per_epoch: int, epochs: int) -> keras.optimizers.Optimizer:
    """RMSprop with linear warm-up to the batch-scaled rate, then cosine decay to zero."""
    peak = recipe.learning_rate * batch_size / 1024
    total = max(1, steps_per_epoch * epochs)
    warmup = min(int(recipe.warmup_epochs * steps_per_epoch), total - 1)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else peak, decay_steps=total - warmup, alpha=0.0,
        warmup_target=peak if warmup else None, warmup_steps=warmup)
    return keras.optimizers.RMSprop(learning_rate=schedule, rho=recipe.rho, momentum=recipe.momentum,
                                    epsilon=recipe.epsilon, clipnorm=recipe.clipnorm)


def make_loss(recipe: Recipe) -> keras.losses.Loss:
    return keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=recipe.label_smoothing)


def make_metrics() -> list:
    return [keras.metrics.CategoricalAccuracy(name="top1"), keras.metrics.TopKCategoricalAccuracy(5, name="top5")]


def compile_for_recipe(model: keras.Model, recipe: Recipe, batch_size: int, steps_per_epoch: int, epochs: int,
                       loss=None, metrics=None) -> keras.Model:
    """`model` compiled with the recipe's optimiser and its loss and metrics (or the per-output
    ones given), the optimiser's slots created here, eagerly: left to the first training step,
    they are created inside its trace, which TensorFlow then traces a second time, costing
    10-15 s of every search trial on a 2-core machine (about half of its first epoch)."""
    model.compile(optimizer=make_optimizer(recipe, batch_size, steps_per_epoch, epochs),
                  loss=loss if loss is not None else make_loss(recipe),
                  metrics=metrics if metrics is not None else make_metrics())
    model.optimizer.build(model.trainable_variables)
    return model


def compiled_model(spec: ArchSpec, num_classes: int, recipe: Recipe, batch_size: int, steps_per_epoch: int,
                   epochs: int) -> keras.Model:
    """The spec's model with the recipe's regularisation, compiled for it (`compile_for_recipe`)."""
    return compile_for_recipe(build_model(spec, num_classes, recipe.model), recipe, batch_size, steps_per_epoch,
                              epochs)


@contextlib.contextmanager
def quiet_fit() -> Iterator[None]:
    """Keras warns on every `fit` of a tf.data input that `shuffle=True` is ignored, and says its
    input "ran out of data" when a validation pass ends; our datasets are shuffled per epoch
    already, and validation is meant to run to exhaustion. TensorFlow warns that a function
    was retraced when a reused worker trains its next network, which is what it should do."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed")
        warnings.filterwarnings("ignore", message=r"Your input ran out of data")
        yield


drop_retracing_notes()


def one_hot(num_classes: int):
    """Dataset map turning integer labels into the one-hot targets label smoothing needs."""
    return lambda clip, label: (clip, tf.one_hot(label, num_classes))


def use_mixed_precision(recipe: Recipe) -> str:
    """Sets and returns the global Keras dtype policy for the device at hand."""
    policy = recipe.mixed_precision
    if policy == "auto":
        policy = "mixed_float16" if tf.config.list_physical_devices("GPU") else "float32"
    elif policy == "off":
        policy = "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy
