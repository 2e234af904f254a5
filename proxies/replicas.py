"""Several networks of one architecture trained side by side, scored by their mean.

A proxy trial's top-1 depends on its seed as much as on its architecture (on the default
synthetic proxy two seeds of the same network differ by 8 points on average), so a search
ranking single trainings partly ranks seeds. Averaging `replicas` trainings, each with its own
initialisation and clip order, shrinks that noise. They are trained as one Keras model with one
input and one output per replica: one `fit`, one checkpoint, one pipeline of zipped batches,
and the loss is their sum, whose gradient for each network's weights is that network's own
(RMSprop and per-variable gradient clipping treat every weight on its own), so each replica
trains exactly as it would alone. One exception: a replica whose loss goes NaN makes the sum
NaN and ends the trial (status 'diverged') for all of them.
"""
from __future__ import annotations

import re

import keras
import tensorflow as tf

from search_space import ArchSpec, build_model
from training.compile import compile_for_recipe, compiled_model, make_loss, make_metrics
from training.recipe import Recipe

__all__ = ["Replicas", "compiled_replicas", "replica_batches", "shared_batches", "averaged_logs"]

_REPLICA_KEY = re.compile(r"^(val_)?replica_(\d+)_(.+)$")


def _name(index: int) -> str:
    return f"replica_{index}"


class Replicas(keras.Model):
    """Networks called each on its own clips; outputs keyed 'replica_<i>'."""

    def __init__(self, networks: list[keras.Model], **kwargs):
        super().__init__(**kwargs)
        self.networks = networks

    def call(self, clips, training=False):
        return {_name(i): network(x, training=training) for i, (network, x) in enumerate(zip(self.networks, clips))}


def compiled_replicas(spec: ArchSpec, seeds: list[int], num_classes: int, recipe: Recipe, batch_size: int,
                      steps_per_epoch: int, epochs: int) -> keras.Model:
    """One network per seed, each initialised (weights, dropout streams) as a lone training with
    that seed would be: `compiled_model` for one seed; for more, a `Replicas` model compiled with
    one loss and the top-1/top-5 metrics per replica (logged as 'replica_<i>_top1', see
    `averaged_logs`)."""
    if len(seeds) == 1:
        keras.utils.set_random_seed(seeds[0])
        return compiled_model(spec, num_classes, recipe, batch_size, steps_per_epoch, epochs)
    networks = []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        networks.append(build_model(spec, num_classes, recipe.model))
    model = Replicas(networks)
    model([tf.zeros([1, 1, 8, 8, 3])] * len(seeds))  # built, so a checkpoint can be loaded into it
    names = [_name(i) for i in range(len(seeds))]
    return compile_for_recipe(model, recipe, batch_size, steps_per_epoch, epochs,
                              loss={name: make_loss(recipe) for name in names},
                              metrics={name: make_metrics() for name in names})


def replica_batches(datasets: list[tf.data.Dataset]) -> tf.data.Dataset:
    """(clips, labels) datasets, one per replica, as the batches of a `Replicas` model; a single
    dataset is returned as it is (a one-replica model is the plain network)."""
    if len(datasets) == 1:
        return datasets[0]
    zipped = tf.data.Dataset.zip(tuple(datasets))
    return zipped.map(lambda *pairs: (tuple(clips for clips, _ in pairs),
                                      {_name(i): labels for i, (_, labels) in enumerate(pairs)}))


def shared_batches(dataset: tf.data.Dataset, replicas: int) -> tf.data.Dataset:
    """One (clips, labels) dataset given to every replica (validation: the same clips for all)."""
    if replicas == 1:
        return dataset
    return dataset.map(lambda clips, labels: ((clips,) * replicas, {_name(i): labels for i in range(replicas)}))


def averaged_logs(logs: dict) -> dict:
    """Keras logs with each per-replica metric ('val_replica_1_top1') averaged under the single
    network's name ('val_top1'), and 'loss' / 'val_loss' the mean replica loss, not their sum.

    The losses come from the totals: Keras's per-output loss entries are not the outputs' losses
    (in Keras 3.15 they do not even add up to the total; measured against each network
    evaluated alone), while the total is their exact sum.
    """
    groups: dict[str, list[float]] = {}
    replicas: set[str] = set()
    for key, value in logs.items():
        match = _REPLICA_KEY.match(key)
        if match:
            replicas.add(match.group(2))
            if match.group(3) != "loss":
                groups.setdefault((match.group(1) or "") + match.group(3), []).append(float(value))
    if not replicas:
        return logs
    losses = {key: float(logs[key]) / len(replicas) for key in ("loss", "val_loss") if key in logs}
    return {**logs, **{key: sum(values) / len(values) for key, values in groups.items()}, **losses}
