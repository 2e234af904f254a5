"""One proxy training as a Ray Tune trial: what search trials and grids of known trainings share.

TensorFlow is loaded inside the trial and its thread pools are sized to the trial's CPUs, so
concurrent trials on one machine do not oversubscribe cores. Every epoch is reported with
`tune.report`; each report is a full row (metrics, cost, timing, status 'running' or, after the
last epoch, 'ok', and the node it ran on) with the epoch's checkpoint, so a trial Ray restarts
after a lost worker resumes from it; a diverged or out-of-memory trial ends with one more row
saying so. Data sources are cached per worker, which Ray reuses across trials.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import shutil
import tempfile
from dataclasses import asdict
from typing import Callable

from infra.errors import UserError
from infra.tf_runtime import load_tensorflow
from search_space import ArchSpec, arch_id
from video_data.config import DataConfig

from .config import ProxyConfig

__all__ = ["check_curriculum", "curriculum_source", "prepare_worker", "proxy_sources", "train_and_report"]


@functools.lru_cache(maxsize=3)
def _cached_sources(data: DataConfig, clip):
    """Sources by configuration: a reused trial worker need not regenerate or re-index data
    (three: a fidelity worker trains the proxy, its curriculum and the reference)."""
    from video_data.pipeline import open_data

    return open_data(data, clip)


def proxy_sources(spec: ArchSpec, data: DataConfig):
    """The train and val sources a proxy trial of `spec` reads, at the spec's input shape.

    Sources are cached by configuration, so a reused worker (Ray) or the single KerasTuner
    process does not regenerate or re-index the data for every trial.
    """
    from video_data.pipeline import ClipConfig

    clip = ClipConfig(frames=spec.input.frames, resolution=spec.input.resolution, stride=spec.input.frame_stride,
                      flip=not data.is_synthetic)
    return _cached_sources(data, clip)


def check_curriculum(data: DataConfig, proxy: ProxyConfig) -> None:
    """A curriculum enlarges the synthetic actor: refused on any other data."""
    if proxy.curriculum_epochs and not data.is_synthetic:
        raise UserError("--curriculum-epochs enlarges the synthetic actor: it needs --data synthetic")


def curriculum_source(spec: ArchSpec, data: DataConfig, proxy: ProxyConfig):
    """The train source of a proxy's first `curriculum_epochs` (None without a curriculum): the
    synthetic data with its actor `curriculum_actor_scale` times larger, cached as the others."""
    check_curriculum(data, proxy)
    if not proxy.curriculum_epochs:
        return None
    synthetic = dataclasses.replace(data.synthetic,
                                    actor_scale=data.synthetic.actor_scale * proxy.curriculum_actor_scale)
    return proxy_sources(spec, dataclasses.replace(data, synthetic=synthetic))[0]


def _limit_threads(cpus: float) -> None:
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):  # already initialised by an earlier trial in this worker
        tf.config.threading.set_intra_op_parallelism_threads(max(1, int(cpus)))
        tf.config.threading.set_inter_op_parallelism_threads(max(1, int(cpus) // 2))


def prepare_worker(cpus: float) -> None:
    """TensorFlow loaded quietly, sized to the trial's CPUs, and cleared of a previous trial's model."""
    load_tensorflow()
    import keras

    _limit_threads(cpus)
    logging.getLogger("ray.train._internal.storage").setLevel(logging.WARNING)  # one line per epoch checkpoint
    keras.backend.clear_session()  # workers are reused across trials: drop the previous model


def train_and_report(spec: ArchSpec, proxy: ProxyConfig, data: DataConfig, extra: Callable[[dict], dict]) -> None:
    """Proxy-trains `spec`, reporting every epoch to Ray Tune with its checkpoint (a trial Ray
    restarts resumes from it); `extra(metrics)` adds the caller's fields to every report."""
    import ray
    from ray import tune

    from proxies.proxy import checkpoint_epochs, train_proxy

    train, val = proxy_sources(spec, data)
    static = {"arch_id": arch_id(spec), "node": ray.get_runtime_context().get_node_id()}

    def report(metrics: dict) -> None:
        folder = metrics.pop("checkpoint_dir")
        tune.report({**metrics, **static, **extra(metrics)}, checkpoint=tune.Checkpoint.from_directory(folder))
        shutil.rmtree(folder, ignore_errors=True)  # Ray copied it to the run's storage

    resume_from = None
    checkpoint = tune.get_checkpoint()  # set when Ray restarts this trial after a failure
    if checkpoint is not None:
        folder = checkpoint.to_directory()
        resume_from = (folder, checkpoint_epochs(folder))
    result = train_proxy(spec, proxy, train, val, report=report,
                         checkpoint_dir=lambda: tempfile.mkdtemp(prefix="trial_ckpt_"), resume_from=resume_from,
                         warm_up=curriculum_source(spec, data, proxy))
    if result.status != "ok":  # NaN / out of memory: the epochs reported so far end with this row
        tune.report(asdict(result) | static | extra({"top1": 0.0}) | {"top1": 0.0})
