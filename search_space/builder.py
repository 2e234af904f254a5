"""The one Keras 3 builder for every MoViNet spec: base (3D) and streaming (causal) alike.

Like Keras' EfficientNet, the family is data (`ArchSpec`) plus this single builder; nothing
branches on preset names. A causal spec gives a model that also streams: call it with
`{**states, "image": frames}` to get `(logits, new_states)`, starting from `init_states`.
"""
from __future__ import annotations

from typing import Any, Mapping

import keras
import tensorflow as tf

from .layers import BN_MOMENTUM, Bottleneck, Classifier, ConvUnit, Head, States
from .spec import ArchSpec, SpecError
from .states import zero_states
from .walk import walk

__all__ = ["MoViNet", "build_model", "convert_conv_type"]


@keras.saving.register_keras_serializable(package="movinet_toolkit")
class MoViNet(keras.Model):
    """stem -> 5 blocks of bottlenecks -> head (project + pool) -> classifier.

    Input: [batch, frames, height, width, 3] floats in [0, 1]. Output: [batch, classes] logits.
    """

    def __init__(self, spec: ArchSpec | Mapping[str, Any], num_classes: int = 600, dropout_rate: float = 0.2,
                 stochastic_depth_rate: float = 0.0, weight_decay: float = 0.0, bn_momentum: float = BN_MOMENTUM,
                 sync_bn: bool = False, **kwargs):
        super().__init__(name=kwargs.pop("name", None) or f"movinet_{getattr(spec, 'name', 'spec')}", **kwargs)
        spec = spec if isinstance(spec, ArchSpec) else ArchSpec.from_dict(spec)
        self.spec = spec
        self.num_classes = num_classes
        self.dropout_rate = dropout_rate
        self.stochastic_depth_rate = stochastic_depth_rate
        self.weight_decay = weight_decay
        self.bn_momentum = bn_momentum
        self.sync_bn = sync_bn
        regularizer = keras.regularizers.L2(weight_decay) if weight_decay else None
        geometry = walk(spec)
        total = len(geometry.layers)
        self.stem = ConvUnit(spec.stem.filters, spec.stem.kernel, spec.stem.stride,
                             factorized=spec.conv_type != "3d", causal=spec.causal, activation=spec.activation,
                             state_prefix="state_stem", kernel_regularizer=regularizer, bn_momentum=bn_momentum,
                             sync_bn=sync_bn, name="stem")
        # Stochastic depth grows linearly with depth (official: rate * layer_number / num_layers).
        self.bottlenecks = [Bottleneck(g, spec, drop_rate=stochastic_depth_rate * g.number / total,
                                       kernel_regularizer=regularizer, bn_momentum=bn_momentum, sync_bn=sync_bn)
                            for g in geometry.layers]
        self.head = Head(spec.head.project_filters, spec.activation, kernel_regularizer=regularizer,
                         bn_momentum=bn_momentum, sync_bn=sync_bn, name="head")
        self.classifier = Classifier(spec.head.head_filters, num_classes, spec.head.activation, dropout_rate,
                                     kernel_regularizer=regularizer, name="classifier")

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
        x, updates = self.stem(image, states, training=training)
        new_states.update(updates)
        for bottleneck in self.bottlenecks:
            x, updates = bottleneck(x, states, training=training)
            new_states.update(updates)
        pooled, updates = self.head(x, states, training=training)
        new_states.update(updates)
        logits = self.classifier(pooled, training=training)
        return (logits, new_states) if streaming else logits

    def init_states(self, input_shape) -> dict[str, tf.Tensor]:
        """Zero streaming states for input frames of shape [batch, frames, height, width, 3]."""
        if not self.spec.causal:
            raise SpecError(f"{self.spec.name}: init_states needs a causal (streaming) spec")
        return zero_states(self.spec, input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "num_classes": self.num_classes, "dropout_rate": self.dropout_rate,
                "stochastic_depth_rate": self.stochastic_depth_rate, "weight_decay": self.weight_decay,
                "bn_momentum": self.bn_momentum, "sync_bn": self.sync_bn, "name": self.name}


def build_model(spec: ArchSpec, num_classes: int = 600, dropout_rate: float = 0.2,
                stochastic_depth_rate: float = 0.0, weight_decay: float = 0.0,
                bn_momentum: float = BN_MOMENTUM, sync_bn: bool = False) -> MoViNet:
    """Builds (and creates the weights of) the model for `spec`.

    Args:
      spec: the architecture.
      num_classes: classifier outputs.
      dropout_rate: dropout before the classifier (official 0.2 for a0, 0.5 for larger models).
      stochastic_depth_rate: drop-path rate of the last layer, linear in depth (official 0.2).
      weight_decay: L2 factor on conv kernels (Keras scale; official recipe 1.5e-5).
      bn_momentum: batch-norm moving-average momentum (official 0.99; short proxy runs need
        ~0.9 for the moving statistics to catch up within a few hundred steps).
      sync_bn: batch statistics over the global batch of all data-parallel replicas (official
        `use_sync_bn`); has no effect outside a distribution strategy.
    """
    if not isinstance(spec, ArchSpec):
        raise SpecError(f"build_model: expected an ArchSpec, got {type(spec).__name__}")
    model = MoViNet(spec, num_classes, dropout_rate, stochastic_depth_rate, weight_decay, bn_momentum, sync_bn)
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
    factorized = {"2plus1d", "3d_2plus1d"}
    if {model.spec.conv_type, conv_type} - factorized and model.spec.conv_type != conv_type:
        raise SpecError(f"conv_type: cannot convert {model.spec.conv_type!r} weights to {conv_type!r}")
    converted = build_model(model.spec.replace(conv_type=conv_type), model.num_classes, model.dropout_rate,
                            model.stochastic_depth_rate, model.weight_decay, model.bn_momentum)
    converted.set_weights(model.get_weights())
    return converted
