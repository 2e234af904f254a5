"""Full training of any spec with the paper's recipe, locally or data-parallel on a Ray cluster.

One code path: Ray Train's `TensorflowTrainer` runs the Keras `fit` loop on `num_workers`
workers (1 locally) under `MultiWorkerMirroredStrategy` (with the corrections of
`proxies.multiworker`). `batch_size` is per worker; each worker trains on its own shard of
every epoch, batch norm is synchronised across workers, and gradients are summed before
clipping, so N workers of batch B train exactly like one worker of batch N*B (tested).
Every epoch the chief saves the model and optimiser state as a Ray checkpoint; rerunning with
`resume=True` (same output folder) continues from the last one. Each epoch's data order and
augmentation depend only on (seed, epoch), so a resumed run ends where an uninterrupted one
would. Stream specs train as `3d_2plus1d` and are exported as the `2plus1d` inference model.

Output folder: `spec.yaml`, `data_report.json` (data folders), `metrics.csv`, `tensorboard/`, `ray/` (checkpoints),
`model.weights.h5`, `result.json`, and for stream specs `inference.yaml` +
`inference.weights.h5`.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import keras

__all__ = ["TrainConfig", "train", "RunExistsError"]

_STATE = "state.json"
_WEIGHTS = "model.weights.h5"
_RUN_NAME = "train"


class RunExistsError(RuntimeError):
    """The output folder already holds a training run and resume was not asked for."""


@dataclass(frozen=True)
class TrainConfig:
    """What to train, on what data, for how long, where, and on how many workers."""

    spec: dict
    data: str
    output: str
    num_classes: int | None = None
    epochs: int = 240
    batch_size: int = 8
    frames: int | None = None
    resolution: int | None = None
    frame_stride: int | None = None
    seed: int = 0
    resume: bool = False
    num_workers: int = 1
    cpus_per_worker: int | None = None
    gpus_per_worker: float = 0.0
    address: str | None = None
    synthetic: dict = field(default_factory=dict)
    recipe: dict = field(default_factory=dict)
    train_csv: str | None = None  # overrides of the data folder's discovered layout
    val_csv: str | None = None
    video_root: str | None = None
    fps: float | None = None  # sample clip frames 1/fps s apart instead of every frame_stride-th
    max_missing: float = 0.2  # refuse to train when more of a split's clips cannot be loaded


def _sources(config: TrainConfig):
    from search_space import ArchSpec

    from .pipeline import ClipConfig, open_splits
    from .synthetic import SyntheticConfig

    spec = ArchSpec.from_dict(config.spec)
    clip = ClipConfig(frames=config.frames or spec.input.frames, resolution=config.resolution or spec.input.resolution,
                      stride=config.frame_stride or spec.input.frame_stride, fps=config.fps,
                      flip=config.data != "synthetic")
    synthetic = SyntheticConfig(**config.synthetic) if config.data == "synthetic" else None
    return (spec, *open_splits(config.data, clip, synthetic, config.train_csv, config.val_csv, config.video_root))


def _worker(loop_config: dict) -> None:
    """Runs on every Ray Train worker: build, restore, fit, checkpoint each epoch."""
    import ray.train
    import tensorflow as tf

    from . import multiworker
    from .recipe import Recipe, compiled_model, one_hot, use_mixed_precision

    config = TrainConfig(**loop_config)
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    if config.cpus_per_worker:
        tf.config.threading.set_intra_op_parallelism_threads(config.cpus_per_worker)
    if world > 1:
        multiworker.enable()
    strategy = tf.distribute.MultiWorkerMirroredStrategy() if world > 1 else tf.distribute.get_strategy()
    recipe = Recipe(**config.recipe)
    use_mixed_precision(recipe)
    keras.utils.set_random_seed(config.seed)
    spec, train_source, val_source = _sources(config)
    num_classes = config.num_classes or train_source.num_classes
    global_batch = config.batch_size * world
    steps = max(1, len(train_source) // global_batch)
    with strategy.scope():
        model = compiled_model(spec, num_classes, recipe, global_batch, steps, config.epochs,
                               sync_bn=recipe.sync_batch_norm and world > 1)
        first_epoch = _restore(model)
    output = Path(config.output)
    callbacks = [_EpochSeeds(config.seed, rank), _EpochCheckpoint(rank)]
    if rank == 0:
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
        model.fit(train_data, epochs=config.epochs, initial_epoch=first_epoch, steps_per_epoch=steps,
                  validation_data=val_data, callbacks=callbacks, verbose=2 if rank == 0 else 0)
    if rank == 0:
        _export(model, config, num_classes, train_source.class_names)


def _restore(model) -> int:
    """Loads the latest Ray checkpoint (model + optimiser) and returns the epoch to start from."""
    import ray.train

    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        return 0
    with checkpoint.as_directory() as folder:
        model.load_weights(os.path.join(folder, _WEIGHTS))
        return int(json.loads(Path(folder, _STATE).read_text())["epoch"])


class _EpochSeeds(keras.callbacks.Callback):
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


class _EpochCheckpoint(keras.callbacks.Callback):
    """Reports each epoch's metrics to Ray Train, with the chief's weights as the checkpoint."""

    def __init__(self, rank: int):
        super().__init__()
        self.rank = rank

    def on_epoch_end(self, epoch, logs=None):
        import ray.train

        metrics = {k: float(v) for k, v in (logs or {}).items()} | {"epoch": epoch + 1}
        with tempfile.TemporaryDirectory() as folder:
            checkpoint = None
            if self.rank == 0:
                self.model.save_weights(os.path.join(folder, _WEIGHTS))
                Path(folder, _STATE).write_text(json.dumps({"epoch": epoch + 1}))
                checkpoint = ray.train.Checkpoint.from_directory(folder)
            ray.train.report(metrics, checkpoint=checkpoint)


def _export(model, config: TrainConfig, num_classes: int, class_names: list[str]) -> None:
    """Final weights, evaluation and, for stream specs, the (2+1)D inference model."""
    from search_space import convert_conv_type

    output = Path(config.output)
    model.save_weights(str(output / _WEIGHTS))
    if model.spec.causal and model.spec.conv_type == "3d_2plus1d":
        inference = convert_conv_type(model, "2plus1d")
        inference.spec.to_yaml(output / "inference.yaml")
        inference.save_weights(str(output / "inference.weights.h5"))
    rows = list(_read_metrics(output / "metrics.csv"))
    last = rows[-1] if rows else {}
    result = {"spec": model.spec.name, "num_classes": num_classes, "classes": class_names,
              "epochs": int(last.get("epoch", -1)) + 1 if last else 0,
              "top1": float(last.get("val_top1", "nan")), "top5": float(last.get("val_top5", "nan")),
              "loss": float(last.get("val_loss", "nan"))}
    (output / "result.json").write_text(json.dumps(result, indent=2))


def _read_metrics(path: Path):
    import csv

    if path.is_file():
        with path.open() as handle:
            yield from csv.DictReader(handle)


def train(config: TrainConfig) -> dict:
    """Runs (or resumes) full training; returns the contents of `result.json`.

    A data folder is checked first (`proxies.report.check_data`): one summary line per split,
    `data_report.json`, and no training at all if a split cannot be used.
    """
    from ray.train import FailureConfig, RunConfig, ScalingConfig
    from ray.train.tensorflow import TensorflowTrainer

    from search_space import ArchSpec

    from .cluster import connect
    from .report import check_data

    output = Path(config.output).resolve()
    storage = output / "ray"
    if (storage / _RUN_NAME).exists() and not config.resume:
        raise RunExistsError(f"{output}: already holds a training run; pass --resume to continue it "
                             f"or choose another --output")
    output.mkdir(parents=True, exist_ok=True)
    ArchSpec.from_dict(config.spec).to_yaml(output / "spec.yaml")
    config = dataclasses.replace(config, output=str(output))
    if config.data != "synthetic" or config.train_csv:
        _, train_source, val_source = _sources(config)
        check_data({"train": train_source, "val": val_source}, output, config.max_missing)
    connect(config.address)
    resources = {"CPU": config.cpus_per_worker or 1}
    trainer = TensorflowTrainer(
        _worker, train_loop_config=dataclasses.asdict(config),
        scaling_config=ScalingConfig(num_workers=config.num_workers, use_gpu=config.gpus_per_worker > 0,
                                     resources_per_worker=resources | (
                                         {"GPU": config.gpus_per_worker} if config.gpus_per_worker else {})),
        run_config=RunConfig(name=_RUN_NAME, storage_path=str(storage), failure_config=FailureConfig(max_failures=2)))
    trainer.fit()
    return json.loads((output / "result.json").read_text())

