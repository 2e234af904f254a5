"""One walk over a spec that derives every layer's channels and tensor sizes.

The builder, the analytic cost model and the streaming-state shapes all read this walk, so
there is a single source of truth for what each layer sees (the pycls habit of re-deriving
shapes by hand in a `complexity()` twin is exactly what drifts).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import SpecError
from .rounding import make_divisible
from .spec import ArchSpec, LayerSpec

__all__ = ["Size", "LayerGeometry", "Walk", "walk", "se_hidden_filters", "strided_size"]

SE_RATIO = 0.25


@dataclass(frozen=True)
class Size:
    """Frames, height, width of a feature map (channels are kept beside it)."""

    t: int
    h: int
    w: int

    @property
    def pixels(self) -> int:
        return self.t * self.h * self.w


@dataclass(frozen=True)
class LayerGeometry:
    """What one bottleneck receives and produces; `number` counts layers from 1 across blocks."""

    name: str
    block: int
    index: int
    number: int
    spec: LayerSpec
    in_channels: int
    out_channels: int
    se_hidden: int
    in_size: Size
    out_size: Size

    @property
    def downsample(self) -> bool:
        return any(s > 1 for s in self.spec.stride)

    @property
    def projection_skip(self) -> bool:
        """Official rule: the skip is a 1x1x1 projection unless shapes already agree."""
        return self.in_channels != self.out_channels or self.downsample


@dataclass(frozen=True)
class Walk:
    """The stem, every bottleneck and the head of a spec at one input size."""

    input_size: Size
    stem_size: Size
    layers: tuple[LayerGeometry, ...]
    head_in_channels: int
    head_size: Size


def se_hidden_filters(spec: ArchSpec, expand: int) -> int:
    """SE bottleneck width; 2plus3d SE pools twice (global + per frame), doubling its input."""
    multiplier = 2 if spec.se_pools_clip and spec.se_pools_frames else 1  # '2plus3d' concatenates both
    return make_divisible(SE_RATIO * expand * multiplier, 8)


def strided_size(size: Size, stride: tuple[int, int, int]) -> Size:
    """'same' (and causal) padding keep ceil(n / stride) positions along every axis."""
    return Size(*(math.ceil(n / s) for n, s in zip((size.t, size.h, size.w), stride)))


def walk(spec: ArchSpec, frames: int | None = None, height: int | None = None,
         width: int | None = None) -> Walk:
    """Walks `spec` at an input of `frames` x `height` x `width` (defaults: the spec's input)."""
    frames = spec.input.frames if frames is None else frames
    height = spec.input.resolution if height is None else height
    width = height if width is None else width
    for name, value in (("frames", frames), ("resolution", height), ("resolution", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(f"{name}: must be a positive integer, got {value!r}")
    input_size = Size(frames, height, width)
    size = strided_size(input_size, spec.stem.stride)
    stem_size = size
    channels = spec.stem.filters
    layers = []
    number = 0
    for b, block in enumerate(spec.blocks):
        for i, layer in enumerate(block.layers):
            number += 1
            out_size = strided_size(size, layer.stride)
            layers.append(LayerGeometry(
                name=f"block{b}_layer{i}", block=b, index=i, number=number, spec=layer,
                in_channels=channels, out_channels=block.filters,
                se_hidden=se_hidden_filters(spec, layer.expand), in_size=size, out_size=out_size))
            size, channels = out_size, block.filters
    return Walk(input_size=input_size, stem_size=stem_size, layers=tuple(layers),
                head_in_channels=channels, head_size=size)
