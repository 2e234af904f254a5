"""A weight-sharing supernet over a `SearchSpace`: every point of the space is one of its sub-networks.

One-shot search (TuNAS, which found the MoViNets) trains one network whose sub-networks share
weights, instead of training each candidate alone. This one is built from the builder's own
parts (`stem_unit`, `head_units`, `PointwiseUnit`, `ConvUnit`, `SqueezeExcitation`, `Scale`) at the
widest point of the space, and a sub-network is chosen per call by a vector of choice indices,
one per parameter of `space.choices()`:

- widths (stem, each block, head) and expansions are channel masks of the widest: channels past
  the chosen width are zeroed after every batch norm, so the first `w` channels compute exactly
  what a network of width `w` computes;
- depths skip a block's trailing layers (their output is their input);
- kernels: one depthwise path per kernel *type* (spatial 1xkxk, temporal kx1x1, spatiotemporal
  kxkxk), each as large as the largest choice of its type; a smaller kernel of a type is the
  centre of its path's kernel (its outer taps zeroed, as once-for-all shares kernels). Types
  do not share weights: a 7x1x1 kernel's centre column is no spatial filter, and forcing one
  tensor to serve both would make every layer's sampled type fight over it;
- a block's first layer without a stride keeps the identity skip when its width equals the
  previous block's (as the standalone network does) and a projection otherwise.

Masks rather than shapes keep one traced graph for every sub-network, which is what makes a
training step cheap enough on a CPU; its cost is the widest network's (plus the two kernel paths
not chosen). `subnetwork` copies a sub-network's weights into a standalone `MoViNet` that computes
the same logits (tested), so inherited weights can be evaluated, fine-tuned or exported as any
other network.
"""
from __future__ import annotations

from typing import Any, Mapping

import keras
import numpy as np
import tensorflow as tf

from ..errors import SpecError
from ..model_options import ModelOptions
from ..rounding import make_divisible
from ..space import SearchSpace, parse_kernel
from ..spec import ArchSpec
from ..walk import LayerGeometry, se_hidden_filters, walk
from .builder import MoViNet, build_model, head_units, stem_unit
from .layers import ConvUnit, PointwiseUnit, Scale, SqueezeExcitation, strided_skip_pool

__all__ = ["SuperNet", "KERNEL_TYPES", "kernel_type"]

KERNEL_TYPES = ("spatial", "temporal", "spatiotemporal")


def kernel_type(kernel: tuple[int, int, int]) -> str:
    """'spatial' (1xhxw), 'temporal' (tx1x1) or 'spatiotemporal' (txhxw)."""
    t, h, w = kernel
    if t == 1:
        return "spatial"
    return "temporal" if h == w == 1 else "spatiotemporal"


def _masks(counts, width: int) -> np.ndarray:
    """[len(counts), width] rows of ones for the first `count` channels, zeros after."""
    return (np.arange(width)[None, :] < np.asarray(counts)[:, None]).astype(np.float32)


class _Tables:
    """Every choice of the space turned into the constants a forward pass gathers from."""

    def __init__(self, space: SearchSpace):
        self.names = list(space.choices())
        self.index = {name: i for i, name in enumerate(self.names)}
        self.space = space
        kernels = [parse_kernel(k) for k in space.kernels]
        self.types = [t for t in KERNEL_TYPES if any(kernel_type(k) == t for k in kernels)]
        self.largest = {t: tuple(max(k[d] for k in kernels if kernel_type(k) == t) for d in range(3))
                        for t in self.types}
        # Per kernel choice: which path it takes and which taps of that path it keeps.
        self.kernel_type = np.array([self.types.index(kernel_type(k)) for k in kernels], np.int32)
        self.kernel_taps = {t: np.stack([self._taps(k, self.largest[t]) if kernel_type(k) == t
                                         else np.zeros(self.largest[t], np.float32) for k in kernels])
                            for t in self.types}

    @staticmethod
    def _taps(kernel, largest) -> np.ndarray:
        taps = np.zeros(largest, np.float32)
        start = [(big - small) // 2 for big, small in zip(largest, kernel)]
        taps[tuple(slice(s, s + k) for s, k in zip(start, kernel))] = 1.0
        return taps

    def expand_counts(self, block: int) -> np.ndarray:
        """Expansion channels by [width choice, ratio choice], as `SearchSpace.to_spec` rounds them."""
        return np.array([[make_divisible(r * w, 8) for r in self.space.expansion_ratios]
                         for w in self.space.block_widths[block]])


class SuperBottleneck(keras.layers.Layer):
    """A bottleneck of the widest network whose expansion, kernel, SE width, output width and
    presence are chosen per call (see the module docstring)."""

    def __init__(self, geometry: LayerGeometry, widest: ArchSpec, tables: _Tables, identity_possible: bool,
                 kernel_regularizer=None, *, bn_momentum: float, sync_bn: bool, **kwargs):
        super().__init__(name=geometry.name, **kwargs)
        norm = dict(kernel_regularizer=kernel_regularizer, bn_momentum=bn_momentum, sync_bn=sync_bn)
        self.block, self.index = geometry.block, geometry.index
        self.expansion = PointwiseUnit(geometry.spec.expand, widest.activation, name="expansion", **norm)
        self.features = {t: ConvUnit(None, tables.largest[t], geometry.spec.stride, depthwise=True, factorized=False,
                                     causal=False, activation=widest.activation, state_prefix=f"{geometry.name}_{t}",
                                     name=f"feature_{t}", **norm)
                         for t in tables.types}
        self.se = (SqueezeExcitation(widest, geometry.se_hidden, geometry.name, kernel_regularizer, name="se")
                   if widest.has_se else None)
        self.projection = PointwiseUnit(geometry.out_channels, name="projection", **norm)
        self.rezero = Scale(name="rezero")
        self.downsample = geometry.downsample
        self.skip_stride = geometry.spec.stride
        # A block's first layer projects its skip unless it does not stride and the widths agree.
        self.skip = PointwiseUnit(geometry.out_channels, name="skip_projection", **norm) if self.index == 0 else None
        self.mixed_skip = self.index == 0 and not self.downsample and identity_possible
        self.out_channels = geometry.out_channels

    def call(self, inputs, masks: Mapping[str, tf.Tensor], training=None):
        """`masks`: expand, se_hidden, out (channel masks), kernel_type (one-hot over paths),
        taps_<type>, active (1: this layer runs, 0: identity), same_width (the identity skip)."""
        if self.index == 0:  # a block has at least one layer
            return self._layer(inputs, masks, training)
        return tf.cond(masks["active"] > 0, lambda: self._layer(inputs, masks, training), lambda: inputs)

    def _layer(self, inputs, masks, training):
        x = self.expansion(inputs, training=training) * masks["expand"]
        paths = [lambda unit=unit, kind=kind: unit(x, {}, training=training, taps=masks[f"taps_{kind}"])[0]
                 for kind, unit in self.features.items()]
        x = (tf.switch_case(masks["kernel_type"], paths) if len(paths) > 1 else paths[0]()) * masks["expand"]
        if self.se is not None:
            x, _ = self.se(x, {}, hidden_mask=masks["se_hidden"])
        x = self.rezero(self.projection(x, training=training))
        return (x + self._skip(inputs, masks, training)) * masks["out"]

    def _skip(self, x, masks, training):
        if self.skip is None:
            return x
        shortcut = x
        if self.downsample:
            x = strided_skip_pool(x, self.skip_stride)
        projected = self.skip(x, training=training)
        if not self.mixed_skip:
            return projected
        # Channels past the width are zero, so cutting or zero-padding to the output's keeps the identity.
        extra = self.out_channels - shortcut.shape[-1]
        shortcut = (tf.pad(shortcut, [[0, 0]] * 4 + [[0, extra]]) if extra > 0
                    else shortcut[..., :self.out_channels])
        return projected + masks["same_width"] * (shortcut - projected)


class SuperNet(keras.Model):
    """The weight-sharing network of `space` at its (single) input shape.

    Call it with `(clips, choice)`: clips [batch, frames, height, width, 3], choice an int32
    vector with one index per parameter of `space.choices()` (`encode`). Output: logits.
    """

    def __init__(self, space: SearchSpace | Mapping[str, Any], num_classes: int,
                 options: ModelOptions | Mapping[str, Any] | None = None, **kwargs):
        super().__init__(name=kwargs.pop("name", None) or "supernet", **kwargs)
        space = space if isinstance(space, SearchSpace) else SearchSpace.from_dict(dict(space))
        options = options if isinstance(options, ModelOptions) else ModelOptions(**(options or {}))
        if len(space.frames) > 1 or len(space.resolutions) > 1:
            raise SpecError("one-shot search: the space needs one input shape (one frames and one resolution value)")
        self.space, self.num_classes, self.options = space, num_classes, options
        self.widest = space.to_spec(space.widest_params(), name="widest")
        self.tables = tables = _Tables(space)
        regularizer = keras.regularizers.L2(options.weight_decay) if options.weight_decay else None
        norm = dict(kernel_regularizer=regularizer, bn_momentum=options.bn_momentum, sync_bn=False)
        self.stem = stem_unit(self.widest, **norm)
        before = [space.stem_widths, *space.block_widths]  # the widths a block's first layer may receive
        self.bottlenecks = [SuperBottleneck(g, self.widest, tables,
                                            bool(set(before[g.block]) & set(before[g.block + 1])), **norm)
                            for g in walk(self.widest).layers]
        self.head, self.classifier = head_units(self.widest, num_classes, options.dropout_rate, **norm)
        self._calibrate = None

    # ----- choices ------------------------------------------------------------------------
    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        """The choice vector of a point of the space (a parameter dict, `SearchSpace.sample`)."""
        choices = self.space.choices()
        return np.array([choices[name].index(params[name]) for name in self.tables.names], np.int32)

    def decode(self, choice) -> dict[str, Any]:
        """The parameter dict a choice vector stands for."""
        choices = self.space.choices()
        return {name: choices[name][int(i)] for name, i in zip(self.tables.names, np.asarray(choice))}

    def _masks(self, choice: tf.Tensor) -> tuple[tf.Tensor, list[dict[str, tf.Tensor]], tf.Tensor]:
        """Stem mask, every layer's masks, head mask for a choice vector."""
        t, space, index = self.tables, self.space, self.tables.index

        def pick(name):
            return choice[index[name]]

        def gather(table, *at):
            return tf.gather_nd(tf.constant(table), tf.stack(at))

        stem = gather(_masks(space.stem_widths, max(space.stem_widths)), pick("stem_width"))
        head = gather(_masks(space.head_widths, max(space.head_widths)), pick("head_width"))
        layers, previous = [], pick("stem_width")
        previous_widths = space.stem_widths
        for layer in self.bottlenecks:
            b, i = layer.block, layer.index
            widths, width = space.block_widths[b], pick(f"block{b}_width")
            counts = t.expand_counts(b)
            expand_at = (width, pick(f"block{b}_layer{i}_expand"))
            kernel = pick(f"block{b}_layer{i}_kernel")
            hidden = np.vectorize(lambda e: se_hidden_filters(self.widest, int(e)))(counts)
            masks = {"expand": gather(_masks(counts.ravel(), counts.max()).reshape(*counts.shape, -1), *expand_at),
                     "se_hidden": gather(_masks(hidden.ravel(), hidden.max()).reshape(*hidden.shape, -1), *expand_at),
                     "out": gather(_masks(widths, max(widths)), width),
                     "kernel_type": gather(t.kernel_type, kernel),
                     "active": tf.cast(i < tf.gather(tf.constant(space.depths[b]), pick(f"block{b}_depth")),
                                       tf.float32)}
            masks.update({f"taps_{kind}": gather(t.kernel_taps[kind], kernel) for kind in t.types})
            if i == 0:
                same = np.array([[float(a == c) for c in widths] for a in previous_widths], np.float32)
                masks["same_width"] = gather(same, previous, width)
                previous, previous_widths = width, widths
            layers.append(masks)
        return stem, layers, head

    # ----- forward ------------------------------------------------------------------------
    def call(self, inputs, training=None):
        clips, choice = inputs
        stem_mask, layer_masks, head_mask = self._masks(tf.cast(choice, tf.int32))
        x, _ = self.stem(clips, {}, training=training)
        x = x * stem_mask
        for layer, masks in zip(self.bottlenecks, layer_masks):
            x = layer(x, masks, training=training)
        pooled, _ = self.head(x, {}, training=training)
        return self.classifier(pooled * head_mask, training=training)

    def build_weights(self) -> "SuperNet":
        """Creates every weight (a tiny clip: 'same' padding accepts any size)."""
        self((tf.zeros([1, 1, 8, 8, 3]), tf.zeros([len(self.tables.names)], tf.int32)))
        return self

    def calibrate(self, clips, choice) -> None:
        """Re-estimates every batch norm's statistics for one sub-network from `clips` (one large
        batch): the shared running averages mix all sub-networks sampled in training, which no
        single one of them sees at inference."""
        if self._calibrate is None:
            norms = [layer for layer in self._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]
            kept = [norm.momentum for norm in norms]
            for norm in norms:
                norm.momentum = 0.0  # the running statistics become this batch's
            try:
                function = tf.function(lambda x, c: self((x, c), training=True))
                function.get_concrete_function(tf.TensorSpec(clips.shape, tf.float32),
                                               tf.TensorSpec([len(self.tables.names)], tf.int32))
            finally:
                for norm, momentum in zip(norms, kept):
                    norm.momentum = momentum
            self._calibrate = function
        self._calibrate(tf.convert_to_tensor(clips, tf.float32), tf.convert_to_tensor(choice, tf.int32))

    # ----- sub-networks -------------------------------------------------------------------
    def subnetwork(self, choice, name: str = "subnetwork") -> MoViNet:
        """A standalone `MoViNet` of the sub-network `choice` holding the supernet's weights for it."""
        params = self.decode(choice)
        spec = self.space.to_spec(params, name=name)
        model = build_model(spec, self.num_classes, self.options)
        kernels = [kernel_type(layer.kernel) for layer in spec.layers]
        _copy_unit(self.stem, model.stem, out=spec.stem.filters)
        supers = {layer.name: layer for layer in self.bottlenecks}
        for layer, geometry, kind in zip(model.bottlenecks, walk(spec).layers, kernels):
            source = supers[geometry.name]
            cin, expand, out = geometry.in_channels, geometry.spec.expand, geometry.out_channels
            _copy_unit(source.expansion, layer.expansion, cin, expand)
            _copy_feature(source.features[kind], layer.feature, geometry.spec.kernel, expand)
            if layer.se is not None:
                _copy_se(source.se, layer.se, expand, geometry.se_hidden)
            _copy_unit(source.projection, layer.projection, expand, out)
            layer.rezero.scale.assign(source.rezero.scale)
            if layer.skip is not None:
                _copy_unit(source.skip, layer.skip, cin, out)
        _copy_unit(self.head.project, model.head.project, spec.blocks[-1].filters, spec.head.project_filters)
        for name in ("hidden", "logits"):
            big, small = getattr(self.classifier, name), getattr(model.classifier, name)
            small.kernel.assign(big.kernel[:small.kernel.shape[0]])
            small.bias.assign(big.bias)
        return model


def _copy_norm(big, small, channels: int) -> None:
    for name in ("gamma", "beta", "moving_mean", "moving_variance"):
        getattr(small, name).assign(getattr(big, name)[:channels])


def _copy_unit(big, small, cin: int | None = None, out: int | None = None) -> None:
    """A pointwise or full conv unit's first `cin` inputs and `out` outputs, with its batch norm."""
    kernel = big.conv.kernel
    if kernel.shape.rank == 2:  # pointwise [in, out]
        small.conv.kernel.assign(kernel[:cin, :out])
    else:  # the stem's full [t, h, w, in, out]
        small.conv.kernel.assign(kernel[..., :out])
    _copy_norm(big.bn, small.bn, out)


def _copy_feature(big: ConvUnit, small: ConvUnit, kernel: tuple[int, int, int], channels: int) -> None:
    """The centre `kernel` taps of the path's larger depthwise kernel, first `channels` channels."""
    large = big.conv.kernel.shape[:3]
    start = [(b - k) // 2 for b, k in zip(large, kernel)]
    centre = tuple(slice(s, s + k) for s, k in zip(start, kernel))
    small.conv.kernel.assign(big.conv.kernel[centre + (slice(0, channels),)])
    _copy_norm(big.bn, small.bn, channels)


def _copy_se(big: SqueezeExcitation, small: SqueezeExcitation, channels: int, hidden: int) -> None:
    small.reduce.kernel.assign(big.reduce.kernel[:channels, :hidden])
    small.reduce.bias.assign(big.reduce.bias[:hidden])
    small.expand.kernel.assign(big.expand.kernel[:hidden, :channels])
    small.expand.bias.assign(big.expand.bias[:channels])
