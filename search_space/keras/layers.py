"""Keras 3 layers of the MoViNet family, fast on CPU and streaming-aware.

Video tensors are [batch, time, height, width, channels]. Plain TensorFlow has no CPU kernel
for grouped (depthwise) Conv3D, and the official XLA fallback is slow, so every 3D kernel here
is computed from 2D ops that TensorFlow runs well everywhere: a (t, h, w) convolution is the
sum over its t taps of an (h, w) convolution of the time-shifted frames, a temporal (t, 1, 1)
convolution is a (t, 1) convolution over [batch, time, pixels, channels], and 1x1x1 convs are
one matrix multiply. Outputs are identical to Conv3D with 'same' or causal padding.

Stateful layers (stream buffers, cumulative pools, positional encodings, and the bottlenecks
and head holding them) declare `state_names` (official names, from `states`), receive a dict
of those states only (`own_states`) and return `(output, new_states)`; a missing state starts
at zero, so one code path serves whole clips and frame-by-frame streaming.
"""
from __future__ import annotations

from typing import Mapping

import keras
import tensorflow as tf

from ..spec import ArchSpec
from .activations import get_activation
from .states import pool_state_names, position_state_name, state_prefix, stream_buffer_name

__all__ = [
    "Pointwise", "SpatioTemporalConv", "PointwiseUnit", "ConvUnit", "CumulativeAveragePool", "PositionalEncoding",
    "SqueezeExcitation", "Scale", "Bottleneck", "Head", "Classifier", "States", "own_states", "strided_skip_pool",
]

States = dict[str, tf.Tensor]
BN_EPSILON = 1e-3


class BatchNorm(keras.layers.BatchNormalization):
    """Keras batch norm whose training step is one fused kernel over [B*T, H, W, C].

    Keras 3 builds a training-mode batch norm from about 40 small ops (moments, updates, the
    normalisation and their gradients); TensorFlow's FusedBatchNormV3 does the same in one op
    and one gradient op, which made a0's training step faster (docs/performance.md, training
    speed). Same variables, same moving-average rule (Keras': biased batch variance; the fused
    kernel returns the unbiased one, which is converted), so checkpoints, inference (left to
    Keras: x * scale + shift) and synchronised batch norm across replicas (left to Keras, which
    all-reduces the moments) are unchanged. Outputs and gradients agree with Keras' to float32
    rounding (tested to 1e-5 relative).
    """

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or self.synchronized or mask is not None or inputs.shape.rank < 4:
            return super().call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, tf.float32)  # as Keras: statistics in float32 under mixed precision
        shape = tf.shape(x)
        flat = tf.reshape(x, [-1, shape[-3], shape[-2], x.shape[-1]]) if x.shape.rank > 4 else x
        empty = tf.constant([], tf.float32)
        y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=flat, scale=self.gamma, offset=self.beta, mean=empty, variance=empty, epsilon=self.epsilon,
            exponential_avg_factor=1.0, data_format="NHWC", is_training=True)
        count = tf.cast(tf.size(flat) // flat.shape[-1], tf.float32)
        variance = variance * (count - 1.0) / count  # the kernel's unbiased variance -> Keras' biased one
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return tf.cast(tf.reshape(y, shape), self.compute_dtype)


def _batch_norm(name: str, momentum: float, synchronized: bool) -> BatchNorm:
    """Official BN settings; `synchronized` pools batch statistics over all data-parallel replicas
    (the official `use_sync_bn`), so N workers see the statistics of the global batch."""
    return BatchNorm(momentum=momentum, epsilon=BN_EPSILON, synchronized=synchronized, name=name)


def _fan_in_he_normal(fan_in: int) -> keras.initializers.Initializer:
    """He-normal with an explicit fan-in, since our kernels are stored flattened."""
    return keras.initializers.TruncatedNormal(stddev=(2.0 / fan_in) ** 0.5 / 0.87962566103423978)


class Pointwise(keras.layers.Layer):
    """1x1x1 convolution as one matrix multiply over channels (optionally with bias)."""

    def __init__(self, filters: int, use_bias: bool = False, kernel_regularizer=None,
                 kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.use_bias = use_bias
        self.kernel_regularizer = kernel_regularizer
        self.kernel_initializer = kernel_initializer

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.kernel = self.add_weight(
            name="kernel", shape=(channels, self.filters), regularizer=self.kernel_regularizer,
            initializer=self.kernel_initializer or _fan_in_he_normal(channels))
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros") if self.use_bias else None

    def call(self, x):
        shape = tf.shape(x)
        y = tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), self.kernel)
        if self.bias is not None:
            y = tf.nn.bias_add(y, self.bias)
        return tf.reshape(y, tf.concat([shape[:-1], [self.filters]], 0))


def _time_padding(frames: tf.Tensor, kernel_t: int, stride_t: int, padding: str) -> tuple:
    """(front, back) frames of zero padding: TF 'SAME', causal (all in front) or none (buffered)."""
    if padding == "buffered":
        return 0, 0
    if padding == "causal":
        return kernel_t - 1, 0
    if stride_t == 1:
        total = kernel_t - 1
    else:
        out = (frames + stride_t - 1) // stride_t
        total = tf.maximum((out - 1) * stride_t + kernel_t - frames, 0)
    return total // 2, total - total // 2


class SpatioTemporalConv(keras.layers.Layer):
    """A (t, h, w) convolution, depthwise or full, without Conv3D.

    Kernels are stored as [t, h, w, C] (depthwise) or [t, h, w, C_in, C_out] (full) so that
    official Conv3D / Conv2D / DepthwiseConv2D kernels load by reshaping. `padding` is 'same',
    'causal' (pad only past frames) or 'buffered' (the caller already prepended a stream buffer).
    """

    def __init__(self, filters: int | None, kernel: tuple, stride: tuple = (1, 1, 1), depthwise: bool = False,
                 padding: str = "same", kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = tuple(kernel)
        self.stride = tuple(stride)
        self.depthwise = depthwise
        self.padding = padding
        self.kernel_regularizer = kernel_regularizer

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.channels = channels
        kt, kh, kw = self.kernel_size
        shape = (kt, kh, kw, channels) if self.depthwise else (kt, kh, kw, channels, self.filters)
        fan_in = kt * kh * kw * (1 if self.depthwise else channels)
        self.kernel = self.add_weight(name="kernel", shape=shape, initializer=_fan_in_he_normal(fan_in),
                                      regularizer=self.kernel_regularizer)

    @property
    def out_channels(self) -> int:
        return self.channels if self.depthwise else self.filters

    def call(self, x, taps=None):
        """`taps` ([t, h, w, 1] of 0 / 1, optional) switches kernel taps off: a weight-sharing
        supernet runs a smaller centred kernel as this one with its outer taps zeroed."""
        kt, kh, kw = self.kernel_size
        st, sh, sw = self.stride
        kernel = self.kernel if taps is None else self.kernel * tf.reshape(
            tf.cast(taps, self.kernel.dtype), [kt, kh, kw, 1] + ([] if self.depthwise else [1]))
        front, back = _time_padding(tf.shape(x)[1], kt, st, self.padding)
        if kt > 1 or st > 1:
            x = tf.pad(x, [[0, 0], [front, back], [0, 0], [0, 0], [0, 0]])
        if kh == 1 and kw == 1 and sh == 1 and sw == 1:
            return self._temporal(x, kernel)
        return self._shifted_sum(x, kernel)

    def _conv2d(self, frames, kernel, strides, padding):
        """[N, H, W, C] -> [N, H', W', C'] with a (h, w) kernel slice."""
        if self.depthwise:
            if padding == "SAME" and frames.shape[1] == 1 and frames.shape[2] == 1:
                # A single pixel sees only the kernel's centre tap: one multiply instead of a
                # depthwise convolution, whose filter gradient is slowest at exactly these sizes.
                return frames * kernel[kernel.shape[0] // 2, kernel.shape[1] // 2]
            return tf.nn.depthwise_conv2d(frames, kernel[..., None], [1, *strides, 1], padding)
        return tf.nn.conv2d(frames, kernel, [1, *strides, 1], padding)

    def _temporal(self, x, kernel):
        """(t, 1, 1) kernel: a (t, 1) conv over [B, T, H*W, C], valid in time (already padded)."""
        shape = tf.shape(x)
        y = self._conv2d(tf.reshape(x, [shape[0], shape[1], -1, self.channels]), kernel[:, 0],
                         (self.stride[0], 1), "VALID")
        return tf.reshape(y, [shape[0], tf.shape(y)[1], shape[2], shape[3], self.out_channels])

    def _shifted_sum(self, x, kernel):
        """Sum over temporal taps of a 2D conv of the time-shifted frames (valid in time).

        Taps are cut with a plain slice when the temporal stride is 1 (always, in the released
        models): the gradient of a strided slice (StridedSliceGrad) was the most expensive op of
        a training step, while a slice's gradient is a cheap pad.
        """
        kt = self.kernel_size[0]
        st = self.stride[0]
        shape = tf.shape(x)
        out_t = (shape[1] - kt) // st + 1
        taps = []
        for dt, tap in enumerate(tf.unstack(kernel) if kt > 1 else [kernel[0]]):
            if kt == 1 and st == 1:
                frames = x
            elif st == 1:
                frames = tf.slice(x, [0, dt, 0, 0, 0], [-1, out_t, -1, -1, -1])
            else:
                frames = x[:, dt: dt + (out_t - 1) * st + 1: st]
            flat = tf.reshape(frames, [-1, x.shape[2] or shape[2], x.shape[3] or shape[3], self.channels])
            taps.append(self._conv2d(flat, tap, self.stride[1:], "SAME"))
        y = taps[0] if kt == 1 else tf.add_n(taps)
        y_shape = tf.shape(y)
        return tf.reshape(y, [shape[0], out_t, y_shape[1], y_shape[2], self.out_channels])


def own_states(states: Mapping[str, tf.Tensor], layer) -> States:
    """The part of `states` that `layer` declared (`layer.state_names`): each stateful layer sees
    its own states only, never the whole model's."""
    return {name: states[name] for name in layer.state_names if name in states}


class PointwiseUnit(keras.layers.Layer):
    """1x1x1 conv -> BN [-> activation]: a bottleneck's expansion, projection and skip, the head's
    projection. Stateless: a pointwise conv sees one frame at a time."""

    def __init__(self, filters: int, activation: str | None = None, kernel_regularizer=None, *,
                 bn_momentum: float, sync_bn: bool, **kwargs):
        super().__init__(**kwargs)
        self.conv = Pointwise(filters, kernel_regularizer=kernel_regularizer, name="conv")
        self.bn = _batch_norm("bn", bn_momentum, sync_bn)
        self.activation_fn = get_activation(activation) if activation else None

    def call(self, x, training=None):
        x = self.bn(self.conv(x), training=training)
        return self.activation_fn(x) if self.activation_fn else x


class ConvUnit(keras.layers.Layer):
    """A (t, h, w) conv -> BN -> activation, joint 3D or factorised (2+1)D: the stem and each
    bottleneck's depthwise feature convolution.

    Factorised units run the spatial (1, h, w) conv first and buffer its output before the
    temporal (t, 1, 1) conv, so streaming never recomputes the 2D part of past frames; each half
    has its own BN and activation, as in the official '2plus1d' / '3d_2plus1d' layers. A causal
    unit with a temporal kernel keeps the last t - 1 frames it saw as its one state.
    """

    def __init__(self, filters: int | None, kernel: tuple, stride: tuple, depthwise: bool, factorized: bool,
                 causal: bool, activation: str, state_prefix: str, kernel_regularizer=None, *,
                 bn_momentum: float, sync_bn: bool, **kwargs):
        super().__init__(**kwargs)
        kt, kh, kw = kernel
        self.buffer_size = kt - 1 if causal else 0
        self.state_names = (stream_buffer_name(state_prefix),) if self.buffer_size else ()
        self.activation_fn = get_activation(activation)
        padding = "buffered" if self.buffer_size else "same"
        if factorized and kt > 1:
            self.conv = SpatioTemporalConv(filters, (1, kh, kw), (1, *stride[1:]), depthwise, "same",
                                           kernel_regularizer, name="conv")
            self.temporal = SpatioTemporalConv(filters, (kt, 1, 1), (stride[0], 1, 1), depthwise, padding,
                                               kernel_regularizer, name="conv_temporal")
            self.bn_temporal = _batch_norm("bn_temporal", bn_momentum, sync_bn)
        else:
            self.conv = SpatioTemporalConv(filters, kernel, stride, depthwise, padding, kernel_regularizer,
                                           name="conv")
            self.temporal = self.bn_temporal = None
        self.bn = _batch_norm("bn", bn_momentum, sync_bn)

    def _post(self, x, bn, training):
        return self.activation_fn(bn(x, training=training))

    def _buffer(self, x, states: Mapping[str, tf.Tensor], new_states: States):
        if not self.buffer_size:
            return x
        [name] = self.state_names
        buffer = states.get(name)
        if buffer is None:
            shape = tf.shape(x)
            buffer = tf.zeros([shape[0], self.buffer_size, shape[2], shape[3], x.shape[-1]], x.dtype)
        full = tf.concat([tf.cast(buffer, x.dtype), x], axis=1)
        new_states[name] = tf.cast(full[:, -self.buffer_size:], tf.float32)  # states are float32
        return full

    def call(self, x, states: Mapping[str, tf.Tensor], training=None, taps=None):
        """`taps`: see `SpatioTemporalConv.call` (joint kernels only)."""
        new_states: States = {}
        if self.temporal is None:
            x = self._post(self.conv(self._buffer(x, states, new_states), taps), self.bn, training)
        else:
            if taps is not None:
                raise ValueError("kernel taps switch off joint (t, h, w) kernels only, not factorised ones")
            x = self._post(self.conv(x), self.bn, training)
            x = self._post(self.temporal(self._buffer(x, states, new_states)), self.bn_temporal, training)
        return x, new_states


class CumulativeAveragePool(keras.layers.Layer):
    """Global average pooling that can continue across calls.

    Non-causal: the mean over every frame seen so far, one vector per clip. Causal (CGAP): the
    running mean up to each frame, one vector per frame, so frame-by-frame streaming and a whole
    clip give the same result. States: running sum of per-frame means, and the frame count.
    """

    def __init__(self, causal: bool, state_prefix: str, **kwargs):
        super().__init__(**kwargs)
        self.causal = causal
        self.state_names = pool_state_names(state_prefix)

    def call(self, x, states: Mapping[str, tf.Tensor]):
        # Sums run in float32 whatever the compute dtype: a stream's running sum over thousands of
        # frames would lose its precision in 16 bits, and float32 states feed back unchanged.
        buffer_name, count_name = self.state_names
        frame_means = tf.reduce_mean(tf.cast(x, tf.float32), axis=[2, 3], keepdims=True)
        buffer = states.get(buffer_name)
        buffer = tf.zeros_like(frame_means[:, :1]) if buffer is None else tf.cast(buffer, tf.float32)
        count = tf.cast(states.get(count_name, tf.zeros([1], tf.int32)), tf.int32)
        frames = tf.shape(x)[1]
        if self.causal:
            sums = tf.cumsum(frame_means, axis=1) + buffer
            new_buffer = sums[:, -1:]
            divisors = tf.cast(tf.range(frames) + count + 1, tf.float32)
            pooled = sums / tf.reshape(divisors, [1, -1, 1, 1, 1])
        else:
            sums = tf.reduce_sum(frame_means, axis=1, keepdims=True) + buffer
            new_buffer = sums
            pooled = sums / tf.cast(count + frames, tf.float32)
        return tf.cast(pooled, x.dtype), {buffer_name: new_buffer, count_name: count + frames}


class Scale(keras.layers.Layer):
    """A learned scalar multiplier starting at zero (ReZero): new branches begin as identity."""

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(), initializer="zeros")

    def call(self, x):
        return tf.cast(self.scale, x.dtype) * x


class PositionalEncoding(keras.layers.Layer):
    """Sinusoidal frame-position code, ReZero-scaled, added to pooled SE features.

    Causal CGAP cannot tell frame 3 from frame 30 of a static scene; the larger official
    stream models add this so SE can. Positions continue across streaming calls.
    """

    def __init__(self, state_prefix: str, **kwargs):
        super().__init__(**kwargs)
        self.state_names = (position_state_name(state_prefix),)
        self.rezero = Scale(name="rezero")

    def call(self, x, states: Mapping[str, tf.Tensor]):
        [count_name] = self.state_names
        count = tf.cast(states.get(count_name, tf.zeros([1], tf.int32)), tf.int32)
        frames = tf.shape(x)[1]
        channels = x.shape[-1]
        positions = tf.cast(tf.range(count[0], count[0] + frames), tf.float32)[:, None]
        index = tf.range(channels)[None, :]
        power = tf.cast(2 * (index // 2), tf.float32) / float(channels)
        radians = positions * (1.0 / tf.pow(10_000.0, power))
        encoding = tf.concat([tf.sin(radians[:, 0::2]), tf.cos(radians[:, 1::2])], axis=-1)
        encoding = tf.reshape(tf.cast(encoding, x.dtype), [1, frames, 1, 1, channels])
        return x + self.rezero(encoding), {count_name: count + frames}


class SqueezeExcitation(keras.layers.Layer):
    """Channel gating from pooled context: pool -> [pos. enc.] -> 1x1 reduce -> 1x1 expand -> gate.

    Pooled over space and time (cumulatively when causal: `pools_clip`), per frame
    (`pools_frames`), or both concatenated (se_type '2plus3d'), which gives the gate per-frame
    detail plus clip context.
    """

    def __init__(self, spec: ArchSpec, hidden: int, state_prefix: str, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.pools_frames = spec.se_pools_frames
        self.causal = spec.causal
        self.activation_fn = get_activation(spec.activation)
        self.gate_fn = get_activation(spec.gating_activation)
        self.pool = CumulativeAveragePool(spec.causal, state_prefix, name="pool") if spec.se_pools_clip else None
        self.pos_encoding = (PositionalEncoding(state_prefix, name="pos_encoding") if spec.positional_encoding
                             else None)
        self.state_names = tuple(name for part in (self.pool, self.pos_encoding) if part is not None
                                 for name in part.state_names)
        self.reduce = Pointwise(hidden, use_bias=True, kernel_regularizer=kernel_regularizer, name="se_reduce")
        self.kernel_regularizer = kernel_regularizer

    def build(self, input_shape):
        self.expand = Pointwise(int(input_shape[-1]), use_bias=True, kernel_regularizer=self.kernel_regularizer,
                                name="se_expand")

    def call(self, x, states: Mapping[str, tf.Tensor], hidden_mask=None):
        """`hidden_mask` (0 / 1 per hidden unit, optional) narrows the bottleneck, as a supernet's
        sub-network with a smaller expansion has a smaller SE."""
        new_states: States = {}
        if not self.pools_frames:  # the clip alone
            pooled, new_states = self.pool(x, own_states(states, self.pool))
        else:
            pooled = tf.reduce_mean(x, axis=[2, 3], keepdims=True)
            if self.pool is not None:  # the clip's context beside each frame's own
                context, new_states = self.pool(pooled, own_states(states, self.pool))
                if not self.causal:
                    context = tf.tile(context, [1, tf.shape(x)[1], 1, 1, 1])
                pooled = tf.concat([context, pooled], axis=-1)
        if self.pos_encoding is not None:
            pooled, position = self.pos_encoding(pooled, own_states(states, self.pos_encoding))
            new_states.update(position)
        hidden = self.activation_fn(self.reduce(pooled))
        if hidden_mask is not None:
            hidden = hidden * tf.cast(hidden_mask, hidden.dtype)
        gate = self.gate_fn(self.expand(hidden))
        return x * gate, new_states


def strided_skip_pool(x: tf.Tensor, stride: tuple[int, int, int]) -> tf.Tensor:
    """A strided block's skip before its projection: a (1, 3, 3) average pool as a 2D pool of
    every frame, the same numbers as avg_pool3d and an op TFLite has (it has no 3D pooling); a
    window of one frame picks every st-th."""
    st, sh, sw = stride
    x = x[:, ::st] if st > 1 else x
    shape = tf.shape(x)
    frames = tf.reshape(x, [-1, x.shape[2] or shape[2], x.shape[3] or shape[3], x.shape[4]])
    frames = tf.nn.avg_pool2d(frames, [1, 3 if sh > 1 else 1, 3 if sw > 1 else 1, 1], [1, sh, sw, 1], "SAME")
    pooled = tf.shape(frames)
    return tf.reshape(frames, [shape[0], shape[1], pooled[1], pooled[2], x.shape[4]])


class Bottleneck(keras.layers.Layer):
    """MoViNet layer: expand -> depthwise (t,h,w) -> SE -> project -> ReZero -> drop path -> + skip.

    The skip is the identity when shapes agree, else (ResNet-D style) a 1x3x3 average pool when
    strided, then a 1x1x1 conv + BN. Its states are its feature unit's and its SE's.
    """

    def __init__(self, geometry, spec: ArchSpec, drop_rate: float = 0.0, kernel_regularizer=None, *,
                 bn_momentum: float, sync_bn: bool, **kwargs):
        super().__init__(name=geometry.name, **kwargs)
        layer = geometry.spec
        prefix = state_prefix(geometry.name)
        norm = dict(kernel_regularizer=kernel_regularizer, bn_momentum=bn_momentum, sync_bn=sync_bn)
        self.expansion = PointwiseUnit(layer.expand, spec.activation, name="expansion", **norm)
        self.feature = ConvUnit(None, layer.kernel, layer.stride, depthwise=True, factorized=spec.factorized,
                                causal=spec.causal, activation=spec.activation, state_prefix=prefix,
                                name="feature", **norm)
        self.se = (SqueezeExcitation(spec, geometry.se_hidden, prefix, kernel_regularizer, name="se")
                   if spec.has_se else None)
        self.state_names = self.feature.state_names + (self.se.state_names if self.se is not None else ())
        self.projection = PointwiseUnit(geometry.out_channels, name="projection", **norm)
        self.rezero = Scale(name="rezero")
        self.drop_rate = drop_rate
        self.downsample = geometry.downsample
        self.skip_stride = layer.stride
        self.skip = (PointwiseUnit(geometry.out_channels, name="skip_projection", **norm)
                     if geometry.projection_skip else None)
        if drop_rate:
            self.seed_generator = keras.random.SeedGenerator(geometry.number)

    def _drop_path(self, x, training):
        if not (training and self.drop_rate):
            return x
        keep = 1.0 - self.drop_rate
        shape = tf.concat([tf.shape(x)[:1], tf.ones([tf.rank(x) - 1], tf.int32)], 0)
        mask = tf.floor(keep + keras.random.uniform(shape, seed=self.seed_generator, dtype=x.dtype))
        return x / keep * mask

    def _skip(self, x, training):
        if self.skip is None:
            return x
        if self.downsample:
            x = strided_skip_pool(x, self.skip_stride)
        return self.skip(x, training=training)

    def call(self, inputs, states: Mapping[str, tf.Tensor], training=None):
        x = self.expansion(inputs, training=training)
        x, new_states = self.feature(x, own_states(states, self.feature), training=training)
        if self.se is not None:
            x, se_states = self.se(x, own_states(states, self.se))
            new_states.update(se_states)
        x = self.projection(x, training=training)
        x = self._drop_path(self.rezero(x), training)
        return x + self._skip(inputs, training), new_states


class Head(keras.layers.Layer):
    """1x1x1 projection + BN + activation, then the mean over every frame seen (state 'state_head')."""

    def __init__(self, project_filters: int, activation: str, kernel_regularizer=None, *,
                 bn_momentum: float, sync_bn: bool, **kwargs):
        super().__init__(**kwargs)
        self.project = PointwiseUnit(project_filters, activation, kernel_regularizer, bn_momentum=bn_momentum,
                                     sync_bn=sync_bn, name="project")
        self.pool = CumulativeAveragePool(causal=False, state_prefix=state_prefix("head"), name="pool")
        self.state_names = self.pool.state_names

    def call(self, x, states: Mapping[str, tf.Tensor], training=None):
        return self.pool(self.project(x, training=training), states)


class Classifier(keras.layers.Layer):
    """Pooled features -> dense `head_filters` + activation -> dropout -> logits (float32)."""

    def __init__(self, head_filters: int, num_classes: int, activation: str, dropout_rate: float,
                 kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.hidden = Pointwise(head_filters, use_bias=True, kernel_regularizer=kernel_regularizer, name="head")
        self.activation_fn = get_activation(activation)
        self.dropout = keras.layers.Dropout(dropout_rate) if dropout_rate else None
        self.logits = Pointwise(num_classes, use_bias=True, name="classifier",
                                kernel_initializer=keras.initializers.RandomNormal(stddev=0.01))

    def call(self, pooled, training=None):
        x = self.activation_fn(self.hidden(pooled))
        if self.dropout is not None:
            x = self.dropout(x, training=training)
        return tf.cast(tf.squeeze(self.logits(x), axis=[1, 2, 3]), tf.float32)
