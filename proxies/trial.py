"""The Ray Tune trainable of a search trial: one proxy training of one sampled architecture.

TensorFlow is imported inside the trial and its thread pools are sized to the trial's CPUs, so
concurrent trials on one machine do not oversubscribe cores. Every epoch is reported with
`tune.report`; each report is a full row (metrics, cost, timing, status 'running' or, after the last
epoch, 'ok', and the node it ran on); a NaN or out-of-memory trial ends with one more row
saying so.
"""
from __future__ import annotations

import contextlib
import functools
import math
import os
import shutil
import tempfile
from dataclasses import asdict

from ray import tune

__all__ = ["run_trial", "reward", "proxy_task"]


def reward(top1: float, gflops: float, kind: str, target: float | None, beta: float = -0.5) -> float:
    """Accuracy, or the TuNAS absolute-value reward top1 + beta * |gflops / target - 1|."""
    if not math.isfinite(top1):
        return 0.0
    if kind == "accuracy" or not target:
        return top1
    return top1 + beta * abs(gflops / target - 1.0)


FAULT_ENV = "MOVINET_FAIL_TRIALS_WITH"


@functools.lru_cache(maxsize=2)
def _cached_splits(data: str, clip, synthetic, train_csv: str | None, val_csv: str | None, video_root: str | None):
    """Train and val sources by configuration: a reused trial worker need not regenerate or re-index data."""
    from .pipeline import open_splits

    return open_splits(data, clip, synthetic, train_csv, val_csv, video_root)


def _maybe_inject_fault(params: dict) -> None:
    """Fault injection for resilience tests: MOVINET_FAIL_TRIALS_WITH=name=value fails matching trials."""
    rule = os.environ.get(FAULT_ENV)
    if rule:
        name, value = rule.split("=", 1)
        if str(params.get(name)) == value:
            raise RuntimeError(f"injected failure for {name}={value}")


def proxy_task(spec, setup: dict):
    """The proxy configuration and the train / val sources a search trial of `spec` uses.

    Sources are cached by configuration, so a reused worker (Ray) or the single KerasTuner
    process does not regenerate or re-index the data for every trial.
    """
    from .pipeline import ClipConfig
    from .proxy import ProxyConfig
    from .synthetic import SyntheticConfig

    proxy = ProxyConfig(**setup["proxy"], frames=spec.input.frames, resolution=spec.input.resolution)
    clip = ClipConfig(frames=proxy.frames, resolution=proxy.resolution, stride=spec.input.frame_stride,
                      fps=setup.get("fps"), flip=setup["data"] != "synthetic")
    synthetic = SyntheticConfig(**setup["synthetic"]) if setup["data"] == "synthetic" else None
    paths = setup.get("data_paths", {})
    return proxy, *_cached_splits(setup["data"], clip, synthetic, paths.get("train_csv"), paths.get("val_csv"),
                                  paths.get("video_root"))


def run_trial(params: dict, setup: dict) -> None:
    """Trainable: `params` from the search space, `setup` shared by all trials."""
    import ray
    import tensorflow as tf

    from search_space import count_flops
    from search_space.space import SearchSpace

    import keras

    from .proxy import checkpoint_epochs, train_proxy

    cpus = int(setup.get("cpus_per_trial") or 1)
    with contextlib.suppress(RuntimeError):  # already initialised by an earlier trial in this worker
        tf.config.threading.set_intra_op_parallelism_threads(cpus)
        tf.config.threading.set_inter_op_parallelism_threads(max(1, cpus // 2))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    keras.backend.clear_session()  # workers are reused across trials: drop the previous model
    _maybe_inject_fault(params)
    space = SearchSpace(**setup["space"])
    spec = space.to_spec(params, name=f"trial_{tune.get_context().get_trial_id()}")
    proxy, train, val = proxy_task(spec, setup)
    target = setup.get("target_gflops")

    node = ray.get_runtime_context().get_node_id()

    def report(metrics: dict) -> None:
        folder = metrics.pop("checkpoint_dir")
        row = {**metrics, "gflops": gflops, "node": node,
               "reward": reward(metrics["top1"], gflops, setup["reward"], target)}
        tune.report(row, checkpoint=tune.Checkpoint.from_directory(folder))
        shutil.rmtree(folder, ignore_errors=True)  # Ray copied it to the run's storage

    resume_from = None
    checkpoint = tune.get_checkpoint()  # set when Ray restarts this trial after a failure
    if checkpoint is not None:
        folder = checkpoint.to_directory()
        resume_from = (folder, checkpoint_epochs(folder))
    gflops = count_flops(spec, num_classes=train.num_classes).gflops
    result = train_proxy(spec, proxy, train, val, report=report,
                         checkpoint_dir=lambda: tempfile.mkdtemp(prefix="trial_ckpt_"), resume_from=resume_from)
    if result.status != "ok":  # NaN / out of memory: the epochs reported so far end with this row
        tune.report(asdict(result) | {"gflops": gflops, "top1": 0.0, "reward": 0.0, "node": node})
