"""An `EnsembleSpec` as one Keras model: one clip in, each member at its own input shape, mean logits."""
from __future__ import annotations

from typing import Any, Mapping

import keras
import tensorflow as tf

from ..ensemble import EnsembleSpec
from ..model_options import ModelOptions
from ..presets import OFFICIAL_CLASSES
from .builder import MoViNet

__all__ = ["Ensemble", "resample_clip"]


def resample_clip(clip: tf.Tensor, frames: int, resolution: int) -> tf.Tensor:
    """[B, T, H, W, 3] -> [B, frames, resolution, resolution, 3]: frames taken evenly over the
    clip (first and last kept), each resized bilinearly; the clip itself when it already fits."""
    if clip.shape[1] == frames and clip.shape[2] == resolution and clip.shape[3] == resolution:
        return clip
    count = tf.shape(clip)[1]
    index = tf.cast(tf.round(tf.linspace(0.0, tf.cast(count - 1, tf.float32), frames)), tf.int32)
    picked = tf.gather(clip, index, axis=1)
    shape = tf.shape(picked)
    flat = tf.reshape(picked, [-1, shape[2], shape[3], 3])
    resized = tf.image.resize(flat, [resolution, resolution])
    return tf.reshape(resized, [shape[0], frames, resolution, resolution, 3])


@keras.saving.register_keras_serializable(package="movinet_toolkit")
class Ensemble(keras.Model):
    """Members (each a MoViNet) see the clip resampled to their input; logits are averaged."""

    def __init__(self, spec: EnsembleSpec | Mapping[str, Any], num_classes: int = OFFICIAL_CLASSES,
                 options: ModelOptions | Mapping[str, Any] | None = None, **kwargs):
        super().__init__(name=kwargs.pop("name", None) or "ensemble", **kwargs)
        spec = spec if isinstance(spec, EnsembleSpec) else EnsembleSpec.from_dict(spec)
        options = options if isinstance(options, ModelOptions) else ModelOptions(**(options or {}))
        self.spec, self.num_classes, self.options = spec, num_classes, options
        self.members = [MoViNet(member, num_classes, options, name=f"member{i}")
                        for i, member in enumerate(spec.members)]

    def call(self, inputs, training=None):
        logits = [member(resample_clip(inputs, member.spec.input.frames, member.spec.input.resolution),
                         training=training) for member in self.members]
        return tf.add_n(logits) / len(logits)

    def logits(self, video) -> tf.Tensor:
        """Compiled inference on a batch of clips (see `MoViNet.logits`)."""
        if getattr(self, "_compiled_logits", None) is None:
            self._compiled_logits = tf.function(lambda x: self(x, training=False))
        return self._compiled_logits(tf.convert_to_tensor(video, tf.float32))

    def get_config(self) -> dict[str, Any]:
        import dataclasses

        return {"spec": self.spec.to_dict(), "num_classes": self.num_classes,
                "options": dataclasses.asdict(self.options), "name": self.name}
