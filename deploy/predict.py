"""Classifying videos with a trained model: a training run's folder or an official checkpoint.

The clip is cut as evaluation cuts it (the centred window, shorter side resized, centre crop)
and classified with the model's compiled clip call; `stream=True` instead feeds the same frames
one at a time through the compiled streaming step, as a live camera would, and also reports
the milliseconds per frame. Video files are decoded only around the window (`read_clip`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from search_space import OFFICIAL_CLASSES
from video_data.pipeline import ClipConfig, augment
from video_data.video import read_clip

from . import TOP_CLASSES
from .network import load_network

__all__ = ["Classifier", "Prediction", "load_classifier"]


@dataclass
class Prediction:
    """The top classes of one video, with their probabilities, and the streaming latency if streamed."""

    video: str
    top: list[tuple[str, float]]
    ms_per_frame: float | None = None

    def line(self) -> str:
        classes = ", ".join(f"{name} {p:.3f}" for name, p in self.top)
        latency = f"  ({self.ms_per_frame:.1f} ms/frame streamed)" if self.ms_per_frame is not None else ""
        return f"{self.video}: {classes}{latency}"


@dataclass
class Classifier:
    """A built model, its class names and the clip it expects."""

    model: object
    class_names: list[str]
    clip: ClipConfig = field(default_factory=ClipConfig)

    def frames(self, path: str | Path) -> tf.Tensor:
        """The evaluation clip of a video file: [1, T, R, R, 3] floats in [0, 1]."""
        raw = read_clip(path, self.clip.frames, self.clip.stride, self.clip.fps, position=0.5,
                        short_side=self.clip.decode_side)
        return augment(tf.constant(raw), self.clip, False, tf.zeros([2], tf.int64))[None]

    def predict(self, path: str | Path, top: int = TOP_CLASSES, stream: bool = False) -> Prediction:
        video = self.frames(path)
        latency = None
        if stream:
            states = None
            start = time.perf_counter()
            for t in range(video.shape[1]):
                logits, states = self.model.stream(video[:, t:t + 1], states)
            logits = logits.numpy()  # waits for the last step
            latency = 1e3 * (time.perf_counter() - start) / video.shape[1]
        else:
            logits = self.model.logits(video).numpy()
        probabilities = tf.nn.softmax(logits[0]).numpy()
        best = np.argsort(probabilities)[::-1][:top]
        return Prediction(str(path), [(self.class_names[i], float(probabilities[i])) for i in best], latency)


def load_classifier(run: str | Path | None = None, arch: str | None = None, checkpoint: str | Path | None = None,
                    classes: str | Path | None = None, num_classes: int = OFFICIAL_CLASSES, frames: int | None = None,
                    resolution: int | None = None, stride: int | None = None, fps: float | None = None) -> Classifier:
    """A training run's folder (`spec.yaml` or, for stream models, `inference.yaml`, their weights and
    `result.json` with the class names), or a preset / spec YAML with an official checkpoint."""
    network = load_network(run=run, arch=arch, checkpoint=checkpoint, classes=classes, num_classes=num_classes)
    spec = network.spec
    clip = ClipConfig(frames=frames or spec.input.frames, resolution=resolution or spec.input.resolution,
                      stride=stride or spec.input.frame_stride, fps=fps, flip=False)
    return Classifier(network.model, network.class_names, clip)
