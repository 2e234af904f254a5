"""The training loop each Ray Train worker runs: build, restore, fit, checkpoint, export.

Loaded inside the worker after TensorFlow (`training.trainer._worker`), so the driver side of
training stays free of it.
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path

import keras
import ray.train
import tensorflow as tf

from infra.files import atomic_path, write_json
from search_space import ArchSpec, build_model, convert_conv_type
from video_data.pipeline import ClipConfig, ClipSource, open_data

from . import multiworker
from .compile import compile_for_recipe, one_hot, quiet_fit, use_mixed_precision
from .config import TrainConfig
from .initial_weights import freeze, load_initial_weights
from .trainer import inference_spec

__all__ = ["run_worker", "sources", "EpochSeeds", "EpochCheckpoint"]

STATE = "state.json"
WEIGHTS = "model.weights.h5"


def sources(config: TrainConfig) -> tuple[ArchSpec, ClipSource, ClipSource]:
    """The spec and the train / val sources of a run, at the run's clip shape."""
    spec = ArchSpec.from_dict(config.spec)
    clip = ClipConfig(frames=config.frames or spec.input.frames, resolution=config.resolution or spec.input.resolution,
                      stride=config.frame_stride or spec.input.frame_stride, flip=not config.data.is_synthetic)
    return (spec, *open_data(config.data, clip))


def run_worker(config: TrainConfig) -> None:
    """One worker's part of a run: build, restore, fit with per-epoch checkpoints, export (chief)."""
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    if config.cpus_per_worker:
        tf.config.threading.set_intra_op_parallelism_threads(config.cpus_per_worker)
    if world > 1:
        multiworker.enable()
    strategy = tf.distribute.MultiWorkerMirroredStrategy() if world > 1 else tf.distribute.get_strategy()
    recipe = config.recipe
    use_mixed_precision(recipe)
    keras.utils.set_random_seed(config.seed)
    spec, train_source, val_source = sources(config)
    num_classes = config.num_classes or train_source.num_classes
    global_batch = config.batch_size * world
    steps = max(1, len(train_source) // global_batch)
    with strategy.scope():
        model = build_model(spec, num_classes, recipe.model)
        if config.init and ray.train.get_checkpoint() is None:  # a resumed run restores its own weights
            load_initial_weights(model, config.init)
        if config.freeze:
            freeze(model, config.freeze)
        compile_for_recipe(model, recipe, global_batch, steps, config.epochs)
        first_epoch = _restore(model)
    output = Path(config.output)
    callbacks = [EpochSeeds(config.seed, rank), EpochCheckpoint(rank)]
    if rank == 0:
        _forget_epochs_from(output / "metrics.csv", first_epoch)
        callbacks += [keras.callbacks.TensorBoard(str(output / "tensorboard")),
                      keras.callbacks.CSVLogger(str(output / "metrics.csv"), append=True)]
    if first_epoch < config.epochs:
        # Each worker trains on its shard of every epoch; all workers validate on the whole split
        # (exact metrics, and the same number of steps everywhere, which collectives require).
        train_data = strategy.distribute_datasets_from_function(lambda context: train_source.epochs(
            True, context.get_per_replica_batch_size(global_batch), first_epoch, config.epochs, config.seed, steps,
            shard=(context.num_input_pipelines, context.input_pipeline_id)).map(one_hot(num_classes)))
        val_data = strategy.distribute_datasets_from_function(
            lambda context: val_source.dataset(False, config.batch_size).map(one_hot(num_classes)))
        with quiet_fit():
            model.fit(train_data, epochs=config.epochs, initial_epoch=first_epoch, steps_per_epoch=steps,
                      validation_data=val_data, callbacks=callbacks, verbose=2 if rank == 0 else 0)
    if rank == 0:
        _export(model, config, num_classes, train_source.class_names)


def _restore(model) -> int:
    """Loads the latest Ray checkpoint (model + optimiser) and returns the epoch to start from."""
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        return 0
    with checkpoint.as_directory() as folder:
        model.load_weights(os.path.join(folder, WEIGHTS))
        return int(json.loads(Path(folder, STATE).read_text())["epoch"])


class EpochSeeds(keras.callbacks.Callback):
    """Re-seeds dropout / drop-path generators from (seed, epoch, worker rank) at every epoch start.

    Their running states are not part of the saved weights, so without this a resumed run
    would draw different masks than an uninterrupted one; the rank gives each data-parallel
    worker its own masks for its own clips.
    """

    def __init__(self, seed: int, rank: int = 0):
        super().__init__()
        self.seed = seed
        self.rank = rank

    def on_epoch_begin(self, epoch, logs=None):
        states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        for index, state in enumerate(states):
            state.assign([self.seed * 100_003 + epoch, self.rank * len(states) + index])


class EpochCheckpoint(keras.callbacks.Callback):
    """Reports each epoch's metrics to Ray Train, with the chief's weights as the checkpoint."""

    def __init__(self, rank: int):
        super().__init__()
        self.rank = rank

    def on_epoch_end(self, epoch, logs=None):
        metrics = {k: float(v) for k, v in (logs or {}).items()} | {"epoch": epoch + 1}
        with tempfile.TemporaryDirectory() as folder:
            checkpoint = None
            if self.rank == 0:
                self.model.save_weights(os.path.join(folder, WEIGHTS))
                Path(folder, STATE).write_text(json.dumps({"epoch": epoch + 1}))
                checkpoint = ray.train.Checkpoint.from_directory(folder)
            ray.train.report(metrics, checkpoint=checkpoint)


def _export(model, config: TrainConfig, num_classes: int, class_names: list[str]) -> None:
    """Final weights, evaluation and, for stream specs, the (2+1)D inference model."""
    output = Path(config.output)
    model.save_weights(str(output / WEIGHTS))
    shipped = inference_spec(model.spec)
    if shipped != model.spec:
        inference = convert_conv_type(model, shipped.conv_type)
        inference.spec.to_yaml(output / "inference.yaml")
        inference.save_weights(str(output / "inference.weights.h5"))
    rows = list(_read_metrics(output / "metrics.csv"))
    last = rows[-1] if rows else {}
    result = {"spec": model.spec.name, "num_classes": num_classes, "classes": class_names,
              "epochs": int(last.get("epoch", -1)) + 1 if last else 0,
              "top1": float(last.get("val_top1", "nan")), "top5": float(last.get("val_top5", "nan")),
              "loss": float(last.get("val_loss", "nan")), "init": config.init, "freeze": config.freeze}
    write_json(output / "result.json", result)


def _forget_epochs_from(path: Path, first_epoch: int) -> None:
    """metrics.csv without the rows of epochs from `first_epoch` on, before a resumed run logs them.

    A kill can land after an epoch's row was logged but before Ray Train registered its
    checkpoint; the resumed run then trains that epoch again from the last registered one (the
    same data and dropout, so the same numbers) and would log it a second time.
    """
    rows = list(_read_metrics(path))
    kept = [row for row in rows if int(row["epoch"]) < first_epoch]
    if len(kept) < len(rows):
        with atomic_path(path) as temporary, temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(kept)


def _read_metrics(path: Path):
    if path.is_file():
        with path.open() as handle:
            yield from csv.DictReader(handle)
