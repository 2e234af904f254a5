"""Cheap proxy training: how a search trial scores one architecture.

`train_proxy` trains a spec for a few epochs on a (sub)set of the data at a small clip shape
with Keras `fit`, and returns held-out top-1/top-5, loss, measured training throughput, wall
time and the spec's GFLOPs. A loss that goes NaN or an out-of-memory error ends the trial with
status 'diverged' or 'oom' instead of raising, so one bad architecture never stops a search.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Callable

import keras
import tensorflow as tf

from search_space import ArchSpec, count_flops
from training.compile import one_hot, quiet_fit
from video_data.pipeline import ClipSource, each_epoch

from .config import ProxyConfig
from .distillation import TeacherTargets, soft_labels
from .replicas import averaged_logs, compiled_replicas, replica_batches, shared_batches

__all__ = ["train_proxy", "TrialResult", "checkpoint_epochs"]

Reporter = Callable[[dict], None]
CHECKPOINT_WEIGHTS = "trial.weights.h5"
CHECKPOINT_EPOCHS = "epochs.json"


def checkpoint_epochs(folder: str) -> int:
    """Epochs completed by the trial checkpoint in `folder`."""
    with open(os.path.join(folder, CHECKPOINT_EPOCHS)) as handle:
        return int(json.load(handle)["epochs"])


@dataclass
class TrialResult:
    """Outcome of one proxy trial; `status` is 'ok', 'diverged' (NaN loss), 'oom' or 'error'."""

    status: str
    top1: float = float("nan")
    top5: float = float("nan")
    loss: float = float("nan")
    train_clips_per_s: float = float("nan")
    wall_time_s: float = 0.0
    gflops: float = float("nan")
    params: int = 0
    epochs: int = 0
    error: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


class _Progress(keras.callbacks.Callback):
    """Times the training phase of each epoch and forwards per-epoch metrics to `report`."""

    def __init__(self, report: Reporter | None, clips_per_step: int, epochs: int, static: dict,
                 checkpoint_dir: Callable[[], str] | None, started: float):
        super().__init__()
        self.report = report
        self.checkpoint_dir = checkpoint_dir
        self.total_epochs = epochs
        self.static = static  # cost fields repeated in every report, so any report is a full row
        self.started = started  # the trial's start: model building counts too
        self.clips_per_step = clips_per_step
        self.train_seconds = 0.0
        self.train_clips = 0
        self.epochs = 0
        self.last: dict = {}
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.train_clips += self.clips_per_step

    def on_test_begin(self, logs=None):
        self.train_seconds += time.perf_counter() - self._start

    def on_epoch_end(self, epoch, logs=None):
        logs = averaged_logs(logs or {})
        self.epochs = epoch + 1
        self.last = {"epoch": self.epochs, "top1": float(logs.get("val_top1", math.nan)),
                     "top5": float(logs.get("val_top5", math.nan)), "loss": float(logs.get("val_loss", math.nan)),
                     "train_loss": float(logs.get("loss", math.nan)),
                     "train_clips_per_s": self.train_clips / max(self.train_seconds, 1e-9)}
        if not math.isfinite(self.last["train_loss"]):
            self.model.stop_training = True
        elif self.report is not None:
            status = "ok" if self.epochs == self.total_epochs else "running"
            row = {**self.last, **self.static, "status": status, "epochs": self.epochs,
                   "wall_time_s": time.perf_counter() - self.started}
            if self.checkpoint_dir is not None:
                folder = self.checkpoint_dir()
                self.model.save_weights(os.path.join(folder, CHECKPOINT_WEIGHTS))
                with open(os.path.join(folder, CHECKPOINT_EPOCHS), "w") as handle:
                    json.dump({"epochs": self.epochs}, handle)
                row["checkpoint_dir"] = folder
            self.report(row)


def _subset(source: ClipSource, proxy: ProxyConfig, training: bool, num_classes: int, epoch=0,
            steps: int | None = None, teacher: tf.Tensor | None = None):
    """One epoch of the proxy's classes and clips; with `steps`, exactly that many batches.

    Exact epochs keep epoch e's data in epoch e however many clips the class subset leaves.
    With `teacher` (soft targets by clip index), targets mix it with the one-hot labels.
    """
    ds = source.dataset(training, proxy.batch_size, seed=proxy.seed, epoch=epoch, items=teacher is not None).unbatch()
    if num_classes < source.num_classes:
        ds = ds.filter(lambda clip, label, *item: label < num_classes)
    if training and proxy.clip_fraction < 1.0:
        ds = ds.take(max(proxy.batch_size, int(len(source) * proxy.clip_fraction)))
    ds = ds.batch(proxy.batch_size, drop_remainder=training)
    if steps:
        ds = ds.repeat().take(steps)
    if teacher is not None:
        weight = proxy.distillation
        return ds.map(lambda clip, label, item: (clip, (1 - weight) * tf.one_hot(label, num_classes)
                                                 + weight * tf.gather(teacher, item))).prefetch(tf.data.AUTOTUNE)
    return ds.map(one_hot(num_classes)).prefetch(tf.data.AUTOTUNE)


def _static_pipeline() -> tf.data.Options:
    """tf.data's autotuning off: its model thread can hold the deletion of a pipeline's iterator
    at the end of `fit` for 5-20 s on a loaded machine (seen in 3 of 4 trials of a 2-core
    search), and the proxy's in-memory pipeline needs no tuning."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def _teacher_targets(proxy: ProxyConfig, train: ClipSource, num_classes: int) -> tf.Tensor | None:
    """The teacher's soft targets by clip index, or None without a teacher."""
    if not proxy.teacher:
        return None
    targets = TeacherTargets.load(proxy.teacher)
    targets.check_matches(len(train), train.class_names, proxy.teacher)
    return tf.constant(soft_labels(targets.logits, num_classes, proxy.temperature))


def _fit(spec: ArchSpec, proxy: ProxyConfig, train: ClipSource, val: ClipSource, num_classes: int,
         progress: "_Progress", resume_from: tuple[str, int] | None, warm_up: ClipSource | None) -> keras.Model:
    """Builds, restores and trains the model; `progress` ends up holding the last epoch's metrics."""
    first_epoch = min(resume_from[1], proxy.epochs) if resume_from else 0
    steps = proxy.steps_per_epoch or max(1, int(len(train) * proxy.clip_fraction
                                                * min(1.0, num_classes / train.num_classes)) // proxy.batch_size)
    # Replica i is the lone training with seed `seed * replicas + i` (initialisation and clip
    # order): seeds of different trials never share a replica, and one replica is the plain `seed`.
    orders = [dataclasses.replace(proxy, seed=proxy.seed * proxy.replicas + i) for i in range(proxy.replicas)]
    model = compiled_replicas(spec, [order.seed for order in orders], num_classes, proxy.recipe, proxy.batch_size,
                              steps, proxy.epochs)
    if resume_from:
        model.load_weights(os.path.join(resume_from[0], CHECKPOINT_WEIGHTS))
    val_ds = shared_batches(_subset(val, proxy, False, num_classes), proxy.replicas).with_options(_static_pipeline())
    if first_epoch == proxy.epochs:  # resumed after its last epoch: only the evaluation is left
        logs = averaged_logs(model.evaluate(val_ds, return_dict=True, verbose=0))
        progress.epochs = first_epoch
        progress.last = {"top1": logs["top1"], "top5": logs["top5"], "loss": logs["loss"], "train_loss": 0.0}
        return model
    teacher = _teacher_targets(proxy, train, num_classes)
    # The curriculum's epochs first (those not yet done), then the task's own clips.
    switch = min(max(first_epoch, proxy.curriculum_epochs), proxy.epochs)  # no warm_up: train_proxy saw 0
    streams = []
    for order in orders:
        def epochs_of(source: ClipSource, order=order):
            return functools.partial(_subset, source, order, True, num_classes, steps=steps, teacher=teacher)

        stream = each_epoch(switch, proxy.epochs, epochs_of(train))
        if switch > first_epoch:
            stream = each_epoch(first_epoch, switch, epochs_of(warm_up)).concatenate(stream)
        streams.append(stream)
    # Every epoch of every replica is exactly `steps` batches, so the streams zip epoch by epoch.
    train_ds = replica_batches(streams).with_options(_static_pipeline())
    model.fit(train_ds, epochs=proxy.epochs, initial_epoch=first_epoch, steps_per_epoch=steps,
              validation_data=val_ds, callbacks=[progress], verbose=0)
    return model


def train_proxy(spec: ArchSpec, proxy: ProxyConfig, train: ClipSource, val: ClipSource,
                report: Reporter | None = None, checkpoint_dir: Callable[[], str] | None = None,
                resume_from: tuple[str, int] | None = None,
                on_trained: Callable[[keras.Model], None] | None = None,
                warm_up: ClipSource | None = None) -> TrialResult:
    """Trains `spec` on the proxy task and evaluates it on `val`; never raises for NaN or OOM.

    `report` receives one dict per finished epoch (metrics, cost, status 'running' or, after
    the last epoch, 'ok'), so a caller can stop early on any of them and still hold a full row.
    With `checkpoint_dir` (a function giving a fresh folder), each epoch's weights and optimiser
    state are saved there first and the folder is named in the dict; `resume_from=(folder,
    epochs_done)` continues such a trial. `on_trained` receives the trained model (a teacher
    is made from it, `proxies.distillation`). `warm_up` is the train source of the first
    `proxy.curriculum_epochs` (`proxies.ray_trial.curriculum_source`).
    """
    if proxy.curriculum_epochs and warm_up is None:
        raise ValueError("a proxy with curriculum_epochs needs its warm_up source (ray_trial.curriculum_source)")
    start = time.perf_counter()
    num_classes = max(2, int(round(train.num_classes * proxy.class_fraction)))
    cost = count_flops(spec, train.clip.frames, train.clip.resolution, num_classes)
    result = TrialResult(status="ok", gflops=cost.gflops, params=cost.params)
    progress = _Progress(report, proxy.batch_size * proxy.replicas, proxy.epochs,
                         {"gflops": cost.gflops, "params": cost.params}, checkpoint_dir, start)
    try:
        with quiet_fit():
            model = _fit(spec, proxy, train, val, num_classes, progress, resume_from, warm_up)
        result.epochs = progress.epochs
        result.train_clips_per_s = progress.last.get("train_clips_per_s", math.nan)
        if not math.isfinite(progress.last.get("train_loss", math.nan)):
            result.status, result.error = "diverged", f"training loss became NaN in epoch {progress.epochs}"
        else:
            result.top1, result.top5, result.loss = (progress.last[k] for k in ("top1", "top5", "loss"))
            if on_trained is not None:
                on_trained(model)
    except (tf.errors.ResourceExhaustedError, MemoryError) as err:
        result.status, result.error = "oom", f"out of memory: {str(err).splitlines()[0][:200]}"
    result.wall_time_s = time.perf_counter() - start
    return result
