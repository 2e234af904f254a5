"""Analytic FLOPs and parameters of a spec, without building a model.

Convention (the published MoViNet one): GFLOPs = TensorFlow profiler float ops / 2, i.e. a
multiply-add counts 1 and each element-wise op the profiler counts (batch-norm scale and
shift, Mul/Add inside activations, bias, SE gate product, ReZero scale, residual add, pooling
sums, and the accumulation of the temporal taps of a joint 3D kernel, which the builder
computes as a sum of 2D convolutions) counts 0.5. Ops the profiler does not cost (sigmoid, relu6, Conv3D-style average pools,
cumulative sums) count 0. `macs` holds only convolution and dense multiply-adds.

The count walks the same `walk()` geometry the builder uses, so it can be checked against the
profiler of the built model (tests do) and against the official numbers in shared/reference.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .ensemble import EnsembleSpec
from .presets import OFFICIAL_CLASSES
from .spec import ArchSpec
from .walk import LayerGeometry, Size, strided_size, walk

__all__ = ["Cost", "count_flops", "layer_gflops", "ELEMENTWISE_OPS"]

# Per-element ops TensorFlow's profiler counts for each activation of
# `search_space/keras/activations.py` (Mul/AddV2 count, while Sigmoid and Relu6 have no
# registered cost): silu is x * sigmoid(beta * x), hard swish x * relu6(x + 3) * (1/6).
ELEMENTWISE_OPS = {"swish": 2, "hard_swish": 3, "relu": 0, "relu6": 0, "sigmoid": 0, "hard_sigmoid": 2}

_BN_OPS = 2  # inference batch norm: x * scale + shift
_BN_PARAMS = 4  # gamma, beta, moving mean, moving variance


@dataclass
class Cost:
    """Cost of one spec at one input size; `layers` gives GFLOPs per named stage."""

    macs: int = 0
    elementwise: int = 0
    params: int = 0
    layers: dict[str, float] = field(default_factory=dict)

    @property
    def gflops(self) -> float:
        return (self.macs + 0.5 * self.elementwise) / 1e9

    @property
    def gmacs(self) -> float:
        return self.macs / 1e9

    def per_block(self) -> dict[str, float]:
        """GFLOPs of the stem, each block (its layers summed) and the head, in network order."""
        blocks: dict[str, float] = {}
        for name, gflops in self.layers.items():
            key = name.split("_layer")[0]
            blocks[key] = blocks.get(key, 0.0) + gflops
        return blocks


class _Tally:
    """Accumulates the cost of the ops the builder emits, one helper per op kind."""

    def __init__(self, spec: ArchSpec):
        self.spec = spec
        self.cost = Cost()

    def conv(self, positions: int, taps: int, cin: int, cout: int, depthwise: bool = False,
             bias: bool = False) -> None:
        per_output = taps * (1 if depthwise else cin)
        self.cost.macs += positions * cout * per_output
        self.cost.params += per_output * cout + (cout if bias else 0)
        if bias:
            self.cost.elementwise += positions * cout

    def norm_act(self, elements: int, channels: int, activation: str | None, bn: bool = True) -> None:
        if bn:
            self.cost.elementwise += _BN_OPS * elements
            self.cost.params += _BN_PARAMS * channels
        if activation:
            self.cost.elementwise += ELEMENTWISE_OPS[activation] * elements

    def unit(self, size_in: Size, kernel, stride, cin: int, cout: int, depthwise: bool,
             activation: str | None) -> Size:
        """A ConvUnit: joint, or factorised spatial-then-temporal with BN + activation each."""
        kt, kh, kw = kernel
        if self.spec.factorized and kt > 1:
            mid = strided_size(size_in, (1, *stride[1:]))
            self.conv(mid.pixels, kh * kw, cin, cout, depthwise)
            self.norm_act(mid.pixels * cout, cout, activation)
            out = strided_size(mid, (stride[0], 1, 1))
            self.conv(out.pixels, kt, cout, cout, depthwise)
        else:
            out = strided_size(size_in, stride)
            self.conv(out.pixels, kt * kh * kw, cin, cout, depthwise)
            if kt > 1 and (kh, kw, *stride[1:]) != (1, 1, 1, 1):
                # The builder sums kt time-shifted 2D convolutions (no CPU kernel for 3D depthwise).
                self.cost.elementwise += (kt - 1) * out.pixels * cout
        self.norm_act(out.pixels * cout, cout, activation)
        return out

    def pool(self, size: Size, channels: int) -> None:
        """Spatial mean per frame, then the (cumulative) mean over frames and its state update."""
        self.cost.elementwise += size.pixels * channels + 3 * size.t * channels

    def squeeze_excitation(self, g: LayerGeometry, size: Size) -> None:
        spec, expand = self.spec, g.spec.expand
        per_frame = spec.causal or spec.se_pools_frames
        positions = size.t if per_frame else 1
        pooled_channels = 2 * expand if spec.se_pools_clip and spec.se_pools_frames else expand
        self.pool(size, expand)
        if spec.positional_encoding:
            self.cost.elementwise += 2 * positions * pooled_channels
            self.cost.params += 1
        self.conv(positions, 1, pooled_channels, g.se_hidden, bias=True)
        self.norm_act(positions * g.se_hidden, g.se_hidden, spec.activation, bn=False)
        self.conv(positions, 1, g.se_hidden, expand, bias=True)
        self.norm_act(positions * expand, expand, spec.gating_activation, bn=False)
        self.cost.elementwise += size.pixels * expand  # x * gate

    def bottleneck(self, g: LayerGeometry) -> None:
        spec, act, expand = self.spec, self.spec.activation, g.spec.expand
        self.conv(g.in_size.pixels, 1, g.in_channels, expand)
        self.norm_act(g.in_size.pixels * expand, expand, act)
        out = self.unit(g.in_size, g.spec.kernel, g.spec.stride, expand, expand, True, act)
        if spec.has_se:
            self.squeeze_excitation(g, out)
        out_elements = out.pixels * g.out_channels
        self.conv(out.pixels, 1, expand, g.out_channels)
        self.norm_act(out_elements, g.out_channels, None)
        self.cost.elementwise += 2 * out_elements  # ReZero scale, residual add
        self.cost.params += 1
        if g.projection_skip:
            self.conv(out.pixels, 1, g.in_channels, g.out_channels)
            self.norm_act(out_elements, g.out_channels, None)


def layer_gflops(spec: ArchSpec, geometry: LayerGeometry) -> float:
    """GFLOPs of one bottleneck of `spec` (the latency table's units are single layers)."""
    tally = _Tally(spec)
    tally.bottleneck(geometry)
    return tally.cost.gflops


def count_flops(spec: ArchSpec | EnsembleSpec, frames: int | None = None, resolution: int | None = None,
                num_classes: int = OFFICIAL_CLASSES) -> Cost:
    """Cost of `spec` on one clip of `frames` x `resolution`^2 (defaults: the spec's input).

    An ensemble costs the sum of its members at their own input shapes (`frames` and
    `resolution` then size the ensemble's clip only, which members resample).
    """
    if isinstance(spec, EnsembleSpec):
        total = Cost()
        for member in spec.members:
            cost = count_flops(member, num_classes=num_classes)
            total.macs += cost.macs
            total.elementwise += cost.elementwise
            total.params += cost.params
            total.layers.update({f"{member.name}/{name}": value for name, value in cost.layers.items()})
        return total
    geometry = walk(spec, frames, resolution, resolution)
    tally = _Tally(spec)

    def stage(name: str, run) -> None:
        before = tally.cost.gflops
        run()
        tally.cost.layers[name] = tally.cost.gflops - before

    stage("stem", lambda: tally.unit(geometry.input_size, spec.stem.kernel, spec.stem.stride, 3,
                                     spec.stem.filters, False, spec.activation))
    for g in geometry.layers:
        stage(g.name, lambda g=g: tally.bottleneck(g))

    def head() -> None:
        project, hidden = spec.head.project_filters, spec.head.head_filters
        tally.conv(geometry.head_size.pixels, 1, geometry.head_in_channels, project)
        tally.norm_act(geometry.head_size.pixels * project, project, spec.activation)
        tally.pool(geometry.head_size, project)
        tally.conv(1, 1, project, hidden, bias=True)
        tally.norm_act(hidden, hidden, spec.head.activation, bn=False)
        tally.conv(1, 1, hidden, num_classes, bias=True)

    stage("head", head)
    return tally.cost
