"""Full training of any spec with the paper's recipe, locally or data-parallel on a Ray cluster.

One code path: Ray Train's `TensorflowTrainer` runs the Keras `fit` loop on `num_workers`
workers (1 locally) under `MultiWorkerMirroredStrategy` (with the corrections of
`training.multiworker`). `batch_size` is per worker; each worker trains on its own shard of
every epoch, batch norm is synchronised across workers, and gradients are summed before
clipping, so N workers of batch B train exactly like one worker of batch N*B (tested).
Every epoch the chief saves the model and optimiser state as a Ray checkpoint; rerunning with
`resume=True` (same output folder) continues from the last one. Each epoch's data order and
augmentation depend only on (seed, epoch), so a resumed run ends where an uninterrupted one
would. Stream specs train as `3d_2plus1d` and are exported as the `2plus1d` inference model
(`training_spec`), whoever calls `train()`.

Output folder: `spec.yaml`, `data_report.json` (data folders), `metrics.csv`, `tensorboard/`,
`ray/` (checkpoints), `model.weights.h5`, `result.json`, and for stream specs `inference.yaml`
+ `inference.weights.h5`.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from infra.config_io import from_plain, to_plain
from infra.ray_cluster import connect
from infra.run_folder import RunKind, claim_output
from infra.tf_runtime import load_tensorflow
from search_space import ArchSpec, InputSpec

from .config import TrainConfig

__all__ = ["train", "training_spec", "inference_spec", "TRAINING_RUN"]

_RUN_NAME = "train"
TRAINING_RUN = RunKind("training run", (f"ray/{_RUN_NAME}", "spec.yaml", "result.json"))


def training_spec(spec: ArchSpec) -> ArchSpec:
    """The spec a training run trains: stream ('2plus1d') specs train as '3d_2plus1d'.

    Official recipe: the factorised stream model trains with the 3D-then-2+1D layout and is
    exported as '2plus1d' for inference (same variables, same function; see
    `convert_conv_type`), which `train()` writes as `inference.yaml` + `inference.weights.h5`.
    """
    return spec.replace(conv_type="3d_2plus1d") if spec.causal and spec.mobile_layout else spec


def trained_input(spec: ArchSpec, config: TrainConfig) -> ArchSpec:
    """`spec` with the clip it trains on as its input (`--frames`, `--resolution`,
    `--frame-stride` where given): what the run's `spec.yaml` says the network is meant to see,
    so prediction and export from the run cut the clips it learned from."""
    shape = spec.input
    return spec.replace(input=InputSpec(config.frames or shape.frames, config.resolution or shape.resolution,
                                        config.frame_stride or shape.frame_stride))


def inference_spec(spec: ArchSpec) -> ArchSpec:
    """What a trained stream spec ships as: '3d_2plus1d' back to the official '2plus1d' layout."""
    return spec.replace(conv_type="2plus1d") if spec.causal and spec.conv_type == "3d_2plus1d" else spec


def _worker(loop_config: dict) -> None:
    """Ray Train's entry on every worker: TensorFlow loads quietly first, then the training loop."""
    load_tensorflow()
    from .worker import run_worker

    run_worker(from_plain(TrainConfig, loop_config))


def train(config: TrainConfig) -> dict:
    """Runs (or resumes) full training; returns the contents of `result.json`.

    A data folder is checked first (`video_data.inspection.check_data`): one summary line per split,
    `data_report.json`, and no training at all if a split cannot be used.
    """
    from ray.train import FailureConfig, LoggingConfig, RunConfig, ScalingConfig
    from ray.train.tensorflow import TensorflowTrainer

    output = Path(config.output).resolve()
    storage = output / "ray"
    claim_output(output, TRAINING_RUN, config.resume)
    spec = trained_input(training_spec(ArchSpec.from_dict(config.spec)), config)
    config = dataclasses.replace(config, spec=spec.to_dict(), output=str(output), data=config.data.absolute(),
                                 init=config.init and os.path.abspath(config.init))
    if config.init and not config.resume:  # a checkpoint that does not fit is refused here, in one line
        from search_space import build_model

        from .initial_weights import load_initial_weights

        load_initial_weights(build_model(spec, 2, config.recipe.model), config.init)
    reports = None
    if not config.data.is_synthetic:  # a data problem is reported here, in one line, not from a worker
        from video_data.inspection import check_data

        from .worker import sources

        _, train_source, val_source = sources(config)
        reports = check_data({"train": train_source, "val": val_source}, config.data.max_missing)
    config.data.check_batch(config.batch_size * config.num_workers,
                            config.data.synthetic.train_clips if reports is None else reports["train"]["clips"])
    output.mkdir(parents=True, exist_ok=True)
    if reports is not None:
        from video_data.inspection import write_data_report

        write_data_report(output, reports)
    spec.to_yaml(output / "spec.yaml")
    connect(config.address)
    resources = {"CPU": config.cpus_per_worker or 1}
    trainer = TensorflowTrainer(
        _worker, train_loop_config=to_plain(config),
        scaling_config=ScalingConfig(num_workers=config.num_workers, use_gpu=config.gpus_per_worker > 0,
                                     resources_per_worker=resources | (
                                         {"GPU": config.gpus_per_worker} if config.gpus_per_worker else {})),
        # Ray Train's INFO lines (each epoch's checkpoint path and the whole report again) would bury
        # Keras' one line per epoch; they stay in its log files under the Ray session.
        run_config=RunConfig(name=_RUN_NAME, storage_path=str(storage), failure_config=FailureConfig(max_failures=2),
                             logging_config=LoggingConfig(log_level="WARNING")))
    trainer.fit()
    return json.loads((output / "result.json").read_text())
