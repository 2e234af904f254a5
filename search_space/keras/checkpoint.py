"""Loading official Model Garden MoViNet checkpoints into our models.

Official checkpoints (`tf.train.Checkpoint(model=MovinetClassifier)`) name variables by object
graph position, e.g. `model/layer_with_weights-0/layer_with_weights-3/_feature/_conv/kernel`,
not by Keras layer names, and store kernels in Conv3D / Conv2D / DepthwiseConv2D layouts. The
map below follows the official structure from our model's layers; kernels differ only by unit
axes, so they load by reshape. Everything is read and checked before anything is assigned.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import tensorflow as tf

from ..errors import CheckpointMismatchError
from .builder import MoViNet
from .layers import Bottleneck, ConvUnit, Pointwise, PointwiseUnit, SpatioTemporalConv

__all__ = ["CheckpointMismatchError", "official_variable_map", "load_official_checkpoint"]

_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
_BN_WEIGHTS = ("gamma", "beta", "moving_mean", "moving_variance")


def _conv_weights(conv, path: str, mobile: bool) -> Iterator[tuple[str, object]]:
    """Official names of one conv: Conv3D-style `_conv/kernel`, or MobileConv2D `_conv/_conv/...`."""
    if mobile:
        depthwise = isinstance(conv, SpatioTemporalConv) and conv.depthwise
        yield f"{path}/_conv/{'depthwise_kernel' if depthwise else 'kernel'}", conv.kernel
        if isinstance(conv, Pointwise) and conv.bias is not None:
            yield f"{path}/_conv/bias", conv.bias
    else:
        yield f"{path}/kernel", conv.kernel
        if isinstance(conv, Pointwise) and conv.bias is not None:
            yield f"{path}/bias", conv.bias


def _unit_weights(unit: ConvUnit | PointwiseUnit, path: str, mobile: bool) -> Iterator[tuple[str, object]]:
    temporal, bn_temporal = getattr(unit, "temporal", None), getattr(unit, "bn_temporal", None)  # ConvUnit's only
    yield from _conv_weights(unit.conv, f"{path}/_conv", mobile)
    if temporal is not None:
        yield from _conv_weights(temporal, f"{path}/_conv_temporal", mobile)
    for bn, name in ((unit.bn, "_batch_norm"), (bn_temporal, "_batch_norm_temporal")):
        if bn is not None:
            for weight in _BN_WEIGHTS:
                yield f"{path}/{name}/{weight}", getattr(bn, weight)


def _bottleneck_weights(layer: Bottleneck, path: str, mobile: bool) -> Iterator[tuple[str, object]]:
    yield from _unit_weights(layer.expansion, f"{path}/_expansion", mobile)
    yield from _unit_weights(layer.feature, f"{path}/_feature", mobile)
    if layer.se is not None:
        yield from _conv_weights(layer.se.reduce, f"{path}/_attention/_se_reduce/_conv", mobile)
        yield from _conv_weights(layer.se.expand, f"{path}/_attention/_se_expand/_conv", mobile)
        if layer.se.pos_encoding is not None:
            yield f"{path}/_attention/_pos_encoding/_rezero/scale", layer.se.pos_encoding.rezero.scale
    yield from _unit_weights(layer.projection, f"{path}/_projection", mobile)
    if layer.skip is not None:
        yield from _unit_weights(layer.skip, f"{path}/_skip/_projection", mobile)
    yield f"{path}/_mobile_bottleneck/_rezero/scale", layer.rezero.scale


def official_variable_map(model: MoViNet) -> dict[str, object]:
    """{official checkpoint variable name: our variable} for every weight of `model`."""
    mobile = model.spec.mobile_layout
    backbone = "model/layer_with_weights-0"
    pairs = list(_unit_weights(model.stem, f"{backbone}/layer_with_weights-0/_stem", mobile))
    for k, layer in enumerate(model.bottlenecks, start=1):
        pairs += _bottleneck_weights(layer, f"{backbone}/layer_with_weights-{k}", mobile)
    head = f"{backbone}/layer_with_weights-{len(model.bottlenecks) + 1}/_project"
    pairs += _unit_weights(model.head.project, head, mobile)
    pairs += _conv_weights(model.classifier.hidden, "model/layer_with_weights-1/_head/_conv", mobile)
    pairs += _conv_weights(model.classifier.logits, "model/layer_with_weights-1/_classifier/_conv", mobile)
    return {name + _SUFFIX: var for name, var in pairs}


def _squeezed(shape) -> tuple[int, ...]:
    return tuple(int(d) for d in shape if int(d) != 1)


def _resolve(path: str | Path) -> str:
    path = Path(path)
    if path.is_dir():
        latest = tf.train.latest_checkpoint(str(path))
        if latest is None:
            raise CheckpointMismatchError(f"{path}: no checkpoint found in this folder")
        return latest
    if not Path(f"{path}.index").exists():
        raise CheckpointMismatchError(f"{path}: no checkpoint here (expected {path}.index)")
    return str(path)


_LOGITS = "model/layer_with_weights-1/_classifier/"


def load_official_checkpoint(model: MoViNet, path: str | Path, classifier: bool = True) -> None:
    """Loads an official Model Garden checkpoint (a prefix like `.../ckpt-1`, or its folder).

    `classifier=False` loads everything but the last layer (the class logits), which stays as
    built: fine-tuning on other classes starts from the backbone and the 2048-wide head.
    Raises CheckpointMismatchError naming the first missing, unexpected or misshapen variable;
    in that case no weight of `model` has been changed.
    """
    prefix = _resolve(path)
    try:
        reader = tf.train.load_checkpoint(prefix)
    except (tf.errors.OpError, ValueError) as err:
        raise CheckpointMismatchError(f"{prefix}: unreadable checkpoint ({err.__class__.__name__})") from None
    available = {name: shape for name, shape in reader.get_variable_to_shape_map().items()
                 if name.startswith("model/") and (classifier or not name.startswith(_LOGITS))}
    wanted = {name: variable for name, variable in official_variable_map(model).items()
              if classifier or not name.startswith(_LOGITS)}
    values = []
    for name, variable in wanted.items():
        if name not in available:
            raise CheckpointMismatchError(f"{prefix}: missing variable {name.removesuffix(_SUFFIX)} "
                                          f"(model {model.spec.name} expects shape {list(variable.shape)})")
        if _squeezed(available[name]) != _squeezed(variable.shape):
            raise CheckpointMismatchError(
                f"{prefix}: variable {name.removesuffix(_SUFFIX)} has shape {available[name]}, "
                f"model {model.spec.name} expects {list(variable.shape)}")
        values.append((variable, np.reshape(reader.get_tensor(name), variable.shape)))
    unexpected = sorted(set(available) - set(wanted))
    if unexpected:
        raise CheckpointMismatchError(f"{prefix}: unexpected variable {unexpected[0].removesuffix(_SUFFIX)} "
                                      f"(not part of model {model.spec.name}; wrong preset?)")
    for variable, value in values:
        variable.assign(value)
