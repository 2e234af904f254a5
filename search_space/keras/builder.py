"""The one Keras 3 builder for every MoViNet spec: base (3D) and streaming (causal) alike.

Like Keras' EfficientNet, the family is data (`ArchSpec`) plus this single builder; nothing
branches on preset names. A causal spec gives a model that also streams: call it with
`{**states, "image": frames}` to get `(logits, new_states)`, starting from `init_states`.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Mapping

import keras
import tensorflow as tf

from ..ensemble import EnsembleSpec
from ..errors import SpecError
from ..model_options import ModelOptions
from ..presets import OFFICIAL_CLASSES
from ..spec import ArchSpec
from ..walk import walk
from .layers import Bottleneck, Classifier, ConvUnit, Head, States, own_states
from .states import state_prefix, zero_states

__all__ = ["MoViNet", "build_model", "convert_conv_type", "stem_unit", "head_units"]


@keras.saving.register_keras_serializable(package="movinet_toolkit")
class MoViNet(keras.Model):
    """stem -> 5 blocks of bottlenecks -> head (project + pool) -> classifier.

    Input: [batch, frames, height, width, 3] floats in [0, 1]. Output: [batch, classes] logits.
    """

    def __init__(self, spec: ArchSpec | Mapping[str, Any], num_classes: int = OFFICIAL_CLASSES,
                 options: ModelOptions | Mapping[str, Any] | None = None, **kwargs):
        default = re.sub(r"[^A-Za-z0-9_.\-]", "_", f"movinet_{getattr(spec, 'name', 'spec')}")  # Keras' name rule
        super().__init__(name=kwargs.pop("name", None) or default, **kwargs)
        spec = spec if isinstance(spec, ArchSpec) else ArchSpec.from_dict(spec)
        options = options if isinstance(options, ModelOptions) else ModelOptions(**(options or {}))
        self.spec = spec
        self.num_classes = num_classes
        self.options = options
        regularizer = keras.regularizers.L2(options.weight_decay) if options.weight_decay else None
        # Synchronised BN only means something across several replicas; Keras' synchronised
        # path would otherwise add an identity all-reduce and another variance formula.
        synchronized = options.sync_bn and tf.distribute.get_strategy().num_replicas_in_sync > 1
        norm = dict(kernel_regularizer=regularizer, bn_momentum=options.bn_momentum, sync_bn=synchronized)
        geometry = walk(spec)
        total = len(geometry.layers)
        self.stem = stem_unit(spec, **norm)
        # Stochastic depth grows linearly with depth (official: rate * layer_number / num_layers).
        self.bottlenecks = [Bottleneck(g, spec, drop_rate=options.stochastic_depth_rate * g.number / total, **norm)
                            for g in geometry.layers]
        self.head, self.classifier = head_units(spec, num_classes, options.dropout_rate, **norm)
        self._compiled_logits = self._compiled_stream = None  # traced on first use of logits() / stream()

    def call(self, inputs, training=None):
        streaming = isinstance(inputs, Mapping)
        if streaming:
            if not self.spec.causal:
                raise SpecError(f"{self.spec.name}: only causal specs stream with states; call it with a clip")
            states = dict(inputs)
            image = states.pop("image")
        else:
            states, image = {}, inputs
        new_states: States = {}
        x, updates = self.stem(image, own_states(states, self.stem), training=training)
        new_states.update(updates)
        for bottleneck in self.bottlenecks:
            x, updates = bottleneck(x, own_states(states, bottleneck), training=training)
            new_states.update(updates)
        pooled, updates = self.head(x, own_states(states, self.head), training=training)
        new_states.update(updates)
        logits = self.classifier(pooled, training=training)
        return (logits, new_states) if streaming else logits

    def init_states(self, input_shape) -> dict[str, tf.Tensor]:
        """Zero streaming states for input frames of shape [batch, frames, height, width, 3]."""
        if not self.spec.causal:
            raise SpecError(f"{self.spec.name}: init_states needs a causal (streaming) spec")
        return zero_states(self.spec, input_shape)

    def logits(self, video) -> tf.Tensor:
        """Inference on a batch of clips [B, T, H, W, 3], compiled.

        Calling the model eagerly runs its thousands of small ops one by one from Python
        (~9x slower for an a0 clip); this traces the graph once per clip shape and reuses it.
        The trace keeps the shapes static, which lets TensorFlow pick its fast kernels (an
        open-shape signature measured 20% slower).
        """
        if self._compiled_logits is None:
            self._compiled_logits = tf.function(lambda x: self(x, training=False))
        return self._compiled_logits(tf.convert_to_tensor(video, tf.float32))

    def stream(self, frames, states: Mapping[str, tf.Tensor] | None = None) -> tuple[tf.Tensor, States]:
        """One compiled streaming step: frames [B, t, H, W, 3] (t >= 1) and the states so far
        (None: start of the video) -> (logits after these frames, new states).

        The step is traced once per frame shape (static shapes keep TensorFlow's fast kernels),
        so a frame-by-frame loop traces once and never again:
        `logits, states = model.stream(video[:, t:t + 1], states)`.
        """
        if not self.spec.causal:
            raise SpecError(f"{self.spec.name}: only causal specs stream with states; use logits() for clips")
        frames = tf.convert_to_tensor(frames, tf.float32)
        states = self.init_states(frames.shape) if states is None else dict(states)
        if self._compiled_stream is None:
            self._compiled_stream = tf.function(lambda x, s: self({**s, "image": x}, training=False))
        return self._compiled_stream(frames, states)

    def get_config(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "num_classes": self.num_classes,
                "options": dataclasses.asdict(self.options), "name": self.name}


def stem_unit(spec: ArchSpec, **norm) -> ConvUnit:
    """The stem: a full (not depthwise) conv unit on the RGB frames."""
    return ConvUnit(spec.stem.filters, spec.stem.kernel, spec.stem.stride, depthwise=False, factorized=spec.factorized,
                    causal=spec.causal, activation=spec.activation, state_prefix=state_prefix("stem"), name="stem",
                    **norm)


def head_units(spec: ArchSpec, num_classes: int, dropout_rate: float, kernel_regularizer=None,
               **norm) -> tuple[Head, Classifier]:
    """The head (projection and pool) and the classifier after it."""
    return (Head(spec.head.project_filters, spec.activation, name="head", kernel_regularizer=kernel_regularizer,
                 **norm),
            Classifier(spec.head.head_filters, num_classes, spec.head.activation, dropout_rate,
                       kernel_regularizer=kernel_regularizer, name="classifier"))


def build_model(spec: ArchSpec | EnsembleSpec, num_classes: int = OFFICIAL_CLASSES,
                options: ModelOptions | None = None) -> MoViNet:
    """Builds (and creates the weights of) the model for `spec`.

    Args:
      spec: the architecture (an `EnsembleSpec` gives one model averaging its members).
      num_classes: classifier outputs.
      options: regularisation and batch-norm settings (default: the official training ones).
    """
    if isinstance(spec, EnsembleSpec):
        from .ensemble_model import Ensemble

        model = Ensemble(spec, num_classes, options)
        model(tf.zeros([1, 1, 8, 8, 3]))
        return model
    if not isinstance(spec, ArchSpec):
        raise SpecError(f"build_model: expected an ArchSpec, got {type(spec).__name__}")
    model = MoViNet(spec, num_classes, options)
    # Weights do not depend on the input size ('same' padding accepts any), so a tiny clip
    # creates them all.
    model(tf.zeros([1, 1, 8, 8, 3]))
    return model


def convert_conv_type(model: MoViNet, conv_type: str) -> MoViNet:
    """The same trained network with another conv type, e.g. '3d_2plus1d' -> '2plus1d'.

    Stream models train as '3d_2plus1d' and ship as '2plus1d' (official recipe). In this builder
    both factorised types hold the same variables in the same order and compute the same
    function, so conversion copies the weights; outputs are identical.
    """
    if (not model.spec.factorized or not model.spec.replace(conv_type=conv_type).factorized) \
            and model.spec.conv_type != conv_type:
        raise SpecError(f"conv_type: cannot convert {model.spec.conv_type!r} weights to {conv_type!r}")
    converted = build_model(model.spec.replace(conv_type=conv_type), model.num_classes, model.options)
    converted.set_weights(model.get_weights())
    return converted
