"""The Ray Tune trainable of a search trial: one proxy training of one sampled architecture.

TensorFlow is imported inside the trial and its thread pools are sized to the trial's CPUs, so
concurrent trials on one machine do not oversubscribe cores. Every epoch is reported with
`tune.report`; each report is a full row (metrics, cost, timing, status 'running' or, after the
last epoch, 'ok', and the node it ran on) with the epoch's checkpoint, so a trial Ray restarts
after a lost worker resumes from it; a NaN or out-of-memory trial ends with one more row
saying so.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from typing import Callable

from infra.tf_runtime import load_tensorflow
from proxies.config import DataConfig, ProxyConfig
from search_space import ArchSpec, Budget, InputSpec, SearchSpace, arch_id

__all__ = ["TrialTask", "run_trial", "reward", "proxy_sources", "prepare_worker", "train_and_report", "FAULT_ENV"]

FAULT_ENV = "MOVINET_FAIL_TRIALS_WITH"


@dataclass(frozen=True)
class TrialTask:
    """What every trial of one search shares: how a sampled point becomes a scored architecture."""

    space: SearchSpace
    data: DataConfig
    proxy: ProxyConfig
    budget: Budget
    reward: str
    num_classes: int
    cpus: float = 1.0
    member_input: InputSpec | None = None  # a --target search's member input (trials train at the space's)

    def spec(self, params: dict, trial_id: str) -> ArchSpec:
        """The network a trial trains, at the space's (proxy) input shape."""
        return self.space.to_spec(params, name=f"trial_{trial_id}")

    def score(self, top1: float, spec: ArchSpec) -> float:
        """The search's reward for a trial of `spec` that reached `top1`."""
        target = self.budget.high
        return reward(top1, self.budget.gflops(spec, self.num_classes) if target else 0.0, self.reward, target)


def reward(top1: float, gflops: float, kind: str, target: float | None, beta: float = -0.5) -> float:
    """Accuracy, or the TuNAS absolute-value reward top1 + beta * |gflops / target - 1|."""
    if not math.isfinite(top1):
        return 0.0
    if kind == "accuracy" or not target:
        return top1
    return top1 + beta * abs(gflops / target - 1.0)


@functools.lru_cache(maxsize=2)
def _cached_sources(data: DataConfig, clip):
    """Sources by configuration: a reused trial worker need not regenerate or re-index data."""
    from proxies.pipeline import open_data

    return open_data(data, clip)


def proxy_sources(spec: ArchSpec, data: DataConfig):
    """The train and val sources a proxy trial of `spec` reads, at the spec's input shape.

    Sources are cached by configuration, so a reused worker (Ray) or the single KerasTuner
    process does not regenerate or re-index the data for every trial.
    """
    from proxies.pipeline import ClipConfig

    clip = ClipConfig(frames=spec.input.frames, resolution=spec.input.resolution, stride=spec.input.frame_stride,
                      flip=not data.is_synthetic)
    return _cached_sources(data, clip)


def _maybe_inject_fault(params: dict) -> None:
    """Fault injection for resilience tests: MOVINET_FAIL_TRIALS_WITH=name=value fails matching trials."""
    rule = os.environ.get(FAULT_ENV)
    if rule:
        name, value = rule.split("=", 1)
        if str(params.get(name)) == value:
            raise RuntimeError(f"injected failure for {name}={value}")


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
                         checkpoint_dir=lambda: tempfile.mkdtemp(prefix="trial_ckpt_"), resume_from=resume_from)
    if result.status != "ok":  # NaN / out of memory: the epochs reported so far end with this row
        tune.report(asdict(result) | static | extra({"top1": 0.0}) | {"top1": 0.0})


def run_trial(params: dict, task: TrialTask) -> None:
    """Trainable: `params` is one point of `task.space`."""
    from ray import tune

    prepare_worker(task.cpus)
    _maybe_inject_fault(params)
    spec = task.spec(params, tune.get_context().get_trial_id())
    train_and_report(spec, task.proxy, task.data, lambda metrics: {"reward": task.score(metrics["top1"], spec)})
