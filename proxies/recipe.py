"""The paper's training recipe as data, and the Keras objects that implement it.

Official Model Garden settings (shared/docs/movinet_spec.md section 5): RMSprop (rho 0.9,
momentum 0.9, epsilon 1.0, clipnorm 1.0), learning rate 1.8 per 1024 clips with linear warm-up
then cosine decay, label smoothing 0.1, L2 3e-5 (Keras factor 1.5e-5), dropout 0.2 (0.5 for
larger models), stochastic depth 0.2, synchronized batch norm across data-parallel workers,
mixed precision on accelerators. Proxy training uses the
same recipe with a short schedule and a higher rate, since it must rank architectures in
minutes rather than reach the final accuracy.
"""
from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

__all__ = ["Recipe", "make_optimizer", "make_loss", "make_metrics", "use_mixed_precision", "one_hot",
           "compiled_model"]


@dataclass(frozen=True)
class Recipe:
    """Optimiser, schedule and regularisation; `learning_rate` is per 1024 clips (scaled linearly)."""

    learning_rate: float = 1.8
    warmup_epochs: float = 6.0
    label_smoothing: float = 0.1
    weight_decay: float = 1.5e-5
    dropout_rate: float = 0.2
    stochastic_depth_rate: float = 0.2
    rho: float = 0.9
    momentum: float = 0.9
    epsilon: float = 1.0
    clipnorm: float = 1.0
    bn_momentum: float = 0.99
    sync_batch_norm: bool = True  # official use_sync_bn: BN statistics over the global batch
    mixed_precision: str = "auto"  # auto: on GPUs only; or "off", "mixed_float16", "mixed_bfloat16"


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


def compiled_model(spec, num_classes: int, recipe: Recipe, batch_size: int, steps_per_epoch: int, epochs: int,
                   sync_bn: bool = False) -> keras.Model:
    """The spec's model with the recipe's regularisation, compiled with its optimiser, loss and metrics.

    The optimiser's slots are created here, eagerly: left to the first training step, they are
    created inside its trace, which TensorFlow then traces a second time, costing 10-15 s of
    every search trial on a 2-core machine (about half of its first epoch).
    """
    from search_space import build_model

    model = build_model(spec, num_classes, recipe.dropout_rate, recipe.stochastic_depth_rate, recipe.weight_decay,
                        recipe.bn_momentum, sync_bn)
    model.compile(optimizer=make_optimizer(recipe, batch_size, steps_per_epoch, epochs), loss=make_loss(recipe),
                  metrics=make_metrics())
    model.optimizer.build(model.trainable_variables)
    return model


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
