"""Distillation for proxy trainings: a teacher's soft targets, made once per dataset, mixed into each trial's labels.

A proxy training on the default synthetic task sits at chance for its first 5-8 epochs and
leaves it at an epoch its seed picks (docs/fidelity.md), so one training's score reads partly
*when* it took off. A one-hot label tells a network nothing about a clip until it can already
tell classes apart; a trained teacher's soft targets (how sure it is of a clip, which classes
the clip resembles) carry a graded signal from the first step. The teacher is trained once per
dataset, its logits on the centre view of every training clip are cached in a file, and a
trial looks each clip's targets up by the clip's index in the source (`ClipSource.dataset(...,
items=True)`): no teacher runs inside a trial, and the teacher's cost, kept in the file, is
amortised over every trial that uses it.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from infra.errors import UserError
from search_space import ArchSpec
from video_data.config import DataConfig

from .config import ProxyConfig

__all__ = ["TeacherOptions", "TeacherTargets", "make_teacher", "soft_labels"]

_FORMAT = 1


@dataclass(frozen=True)
class TeacherOptions:
    """What `run_search.py teacher` trains by default: an official preset from outside the
    searched space (A1: 3.5 M parameters, 0.03 GFLOPs at 8x32x32), for twice the proxy's
    epochs, so its targets carry more than one proxy training learns by itself (top-1 0.76 on
    the default synthetic task, docs/fidelity.md)."""

    arch: str = "a1"
    epochs: int = 32


@dataclass(frozen=True)
class TeacherTargets:
    """A teacher's logits on every clip of a train source, in the source's clip order.

    `top1` is the teacher's held-out top-1 and `wall_time_s` what training it and computing the
    logits took: the cost a search using it adds once, not per trial.
    """

    logits: np.ndarray  # [clips, classes] float32
    class_names: tuple[str, ...]
    arch: str  # the teacher's spec, as YAML
    top1: float
    wall_time_s: float

    def save(self, path: str | Path) -> None:
        meta = {"format": _FORMAT, "class_names": list(self.class_names), "arch": self.arch, "top1": self.top1,
                "wall_time_s": self.wall_time_s}
        with open(path, "wb") as handle:  # a file handle: np.savez would append .npz to a path
            np.savez(handle, logits=self.logits.astype(np.float32), meta=json.dumps(meta))

    @classmethod
    def load(cls, path: str | Path) -> "TeacherTargets":
        try:
            with np.load(path) as stored:
                meta = json.loads(str(stored["meta"]))
                logits = stored["logits"]
        except FileNotFoundError:
            raise UserError(f"teacher {path}: no such file (make one with run_search.py teacher)") from None
        except (OSError, ValueError, KeyError) as err:
            raise UserError(f"teacher {path}: not a teacher file ({err})") from None
        if meta.get("format") != _FORMAT:
            raise UserError(f"teacher {path}: format {meta.get('format')}, this version reads {_FORMAT}")
        return cls(logits, tuple(meta["class_names"]), meta["arch"], float(meta["top1"]), float(meta["wall_time_s"]))

    def check_matches(self, clips: int, class_names: list[str], path: str | Path) -> None:
        """Refuses targets made on other data: a lookup by clip index would pair clips with
        another clip's targets and silently teach noise."""
        if list(self.class_names) != list(class_names):
            raise UserError(f"teacher {path}: made for classes {', '.join(self.class_names[:4])}..., "
                            f"the data has {', '.join(class_names[:4])}...")
        if len(self.logits) != clips:
            raise UserError(f"teacher {path}: made on {len(self.logits)} training clips, the data has {clips}")


def soft_labels(logits: np.ndarray, num_classes: int, temperature: float) -> np.ndarray:
    """The teacher's distribution over the first `num_classes` classes at `temperature`
    (a proxy on a class subset trains on the teacher's view of those classes only)."""
    scaled = logits[:, :num_classes].astype(np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    probabilities = np.exp(scaled)
    return (probabilities / probabilities.sum(axis=1, keepdims=True)).astype(np.float32)


def _logits_of(model, source, batch_size: int = 64) -> np.ndarray:
    """The model's logits on the centre view of every clip of `source`, by clip index (a clip
    the source skips keeps zeros: it is never trained on either)."""
    logits = None
    for clips, _, items in source.dataset(False, batch_size, items=True):
        batch = model(clips, training=False).numpy()
        if logits is None:
            logits = np.zeros((len(source), batch.shape[1]), np.float32)
        logits[items.numpy()] = batch
    return logits


def make_teacher(spec: ArchSpec, data: DataConfig, proxy: ProxyConfig, output: str | Path,
                 report: Callable[[dict], None] | None = None) -> TeacherTargets:
    """Trains `spec` with `proxy`'s schedule (typically the default proxy's, longer) on `data`,
    then writes its logits on every training clip to `output` (written last: a stopped
    teacher leaves no file a search could take for a finished one)."""
    import keras

    from .proxy import train_proxy
    from .ray_trial import curriculum_source, proxy_sources

    if proxy.replicas != 1 or proxy.teacher:
        raise UserError("a teacher is one plain training: no --replicas, no teacher of its own")
    start = time.perf_counter()
    train, val = proxy_sources(spec, data)
    trained: list[keras.Model] = []
    result = train_proxy(spec, replace(proxy, class_fraction=1.0), train, val, report=report,
                         on_trained=trained.append, warm_up=curriculum_source(spec, data, proxy))
    if result.status != "ok":
        raise UserError(f"teacher training ended {result.status}: {result.error}")
    targets = TeacherTargets(_logits_of(trained[0], train), tuple(train.class_names), spec.to_yaml(), result.top1,
                             time.perf_counter() - start)
    targets.save(output)
    return targets
