"""A MoViNet architecture as plain data: what the builder, the cost model and the search share.

The spec mirrors the official Model Garden description (stem, five blocks of mobile inverted
bottlenecks, head) but makes every layer explicit, so a searched architecture whose layers differ
in kernel and width is as easy to write down as an official preset. Every value is checked in
one place (`ArchSpec.__post_init__` via `_check_*`), and parsing from YAML reports the exact field
that is wrong, because a search that dies on trial 300 of a typo is the worst kind of failure.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from infra.config_io import dump_yaml, from_plain, to_plain
from infra.files import parse_yaml, read_yaml

from .errors import SpecError

__all__ = [
    "SpecError", "StemSpec", "LayerSpec", "BlockSpec", "HeadSpec", "InputSpec", "ArchSpec",
    "CONV_TYPES", "SE_TYPES", "ACTIVATIONS", "GATING_ACTIVATIONS", "first_layer_stride",
]

Triple = tuple[int, int, int]

CONV_TYPES = ("3d", "2plus1d", "3d_2plus1d")
SE_TYPES = ("3d", "2d", "2plus3d", "none")
ACTIVATIONS = ("swish", "hard_swish", "relu", "relu6")
GATING_ACTIVATIONS = ("sigmoid", "hard_sigmoid")
NUM_BLOCKS = 5
NO_STRIDE_BLOCK = 3  # code block3 (paper block 5) keeps its resolution, as in every released model


def first_layer_stride(block: int) -> Triple:
    """The stride of a block's first layer in the released models: spatial 2, but for block 3."""
    return (1, 1, 1) if block == NO_STRIDE_BLOCK else (1, 2, 2)


@dataclass(frozen=True)
class StemSpec:
    """Full (non-depthwise) conv -> BN -> activation on the RGB input."""

    filters: int
    kernel: Triple = (1, 3, 3)
    stride: Triple = (1, 2, 2)


@dataclass(frozen=True)
class LayerSpec:
    """One bottleneck: 1x1x1 expand to `expand` -> depthwise `kernel`/`stride` -> SE -> 1x1x1 project."""

    expand: int
    kernel: Triple = (3, 3, 3)
    stride: Triple = (1, 1, 1)


@dataclass(frozen=True)
class BlockSpec:
    """A stage of bottlenecks that all project to `filters` channels."""

    filters: int
    layers: tuple[LayerSpec, ...]


@dataclass(frozen=True)
class HeadSpec:
    """1x1x1 conv to `project_filters` + pool, then a `head_filters` dense layer and the classifier."""

    project_filters: int
    head_filters: int = 2048
    activation: str = "swish"


@dataclass(frozen=True)
class InputSpec:
    """The clip a spec is meant to see: frames sampled every `frame_stride` source frames."""

    frames: int = 50
    resolution: int = 172
    frame_stride: int = 5

    def __post_init__(self) -> None:
        for name in ("frames", "resolution", "frame_stride"):
            _check_width(name, getattr(self, name))


@dataclass(frozen=True)
class ArchSpec:
    """A complete MoViNet-family architecture.

    `causal` makes every temporal operation look only at past frames, which is what lets the
    model stream one frame at a time with external states; `conv_type` chooses joint 3D or
    factorised (2+1)D depthwise kernels; `se_type` chooses how squeeze-excitation pools.
    """

    name: str
    stem: StemSpec
    blocks: tuple[BlockSpec, ...]
    head: HeadSpec
    conv_type: str = "3d"
    se_type: str = "3d"
    activation: str = "swish"
    gating_activation: str = "sigmoid"
    causal: bool = False
    positional_encoding: bool = False
    input: InputSpec = field(default_factory=InputSpec)

    def __post_init__(self) -> None:
        _check_spec(self)

    # ----- convenience views -------------------------------------------------------------
    @property
    def layers(self) -> list[LayerSpec]:
        """All bottleneck layers in order, across blocks."""
        return [layer for block in self.blocks for layer in block.layers]

    # What `conv_type` and `se_type` mean, said once: builder, cost model, states and checkpoint
    # loading read these instead of comparing strings.
    @property
    def factorized(self) -> bool:
        """Temporal kernels run as a spatial (1, h, w) then a temporal (t, 1, 1) convolution
        ('2plus1d', '3d_2plus1d'), each with its own batch norm and activation."""
        return self.conv_type != "3d"

    @property
    def mobile_layout(self) -> bool:
        """Variables in the official stream models' MobileConv2D layout ('2plus1d')."""
        return self.conv_type == "2plus1d"

    @property
    def has_se(self) -> bool:
        return self.se_type != "none"

    @property
    def se_pools_clip(self) -> bool:
        """SE pools over space and time (cumulatively when causal): '3d', '2plus3d'."""
        return self.se_type in ("3d", "2plus3d")

    @property
    def se_pools_frames(self) -> bool:
        """SE pools each frame over space: '2d', '2plus3d' (which concatenates both poolings)."""
        return self.se_type in ("2d", "2plus3d")

    def replace(self, **changes: Any) -> "ArchSpec":
        """A validated copy with some top-level fields changed."""
        return dataclasses.replace(self, **changes)

    # ----- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain lists/dicts/scalars, the form written to YAML."""
        return to_plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ArchSpec":
        """Parses and validates (`infra.config_io.from_plain`, the toolkit's one parser of
        dataclasses); a bad value raises SpecError naming its field path."""
        return from_plain(cls, data, error=SpecError)

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Writes the spec to `path` (if given) and returns the YAML text."""
        return dump_yaml(self.to_dict(), path)

    @classmethod
    def from_yaml(cls, source: str | Path) -> "ArchSpec":
        """Reads a spec from a YAML file path (or YAML text containing a newline)."""
        if isinstance(source, Path) or "\n" not in str(source):
            data, origin = read_yaml(source, "spec file"), str(source)
        else:
            data, origin = parse_yaml(str(source), "<yaml>"), "<yaml>"
        if not isinstance(data, Mapping):
            raise SpecError(f"{origin}: expected a mapping of spec fields, got {type(data).__name__}")
        try:
            return cls.from_dict(data)
        except SpecError as err:
            raise SpecError(f"{origin}: {err}") from None


# ------------------------------------------------------------------------------------------
# Validation of a constructed spec
# ------------------------------------------------------------------------------------------
def _check_spec(spec: ArchSpec) -> None:
    _check_choice("conv_type", spec.conv_type, CONV_TYPES)
    _check_choice("se_type", spec.se_type, SE_TYPES)
    _check_choice("activation", spec.activation, ACTIVATIONS)
    _check_choice("gating_activation", spec.gating_activation, GATING_ACTIVATIONS)
    _check_choice("head.activation", spec.head.activation, ACTIVATIONS)
    if spec.positional_encoding and not spec.causal:
        raise SpecError("positional_encoding: only causal (streaming) specs use positional encoding")
    if spec.positional_encoding and spec.se_type == "none":
        raise SpecError("positional_encoding: needs squeeze-excitation (se_type is 'none')")
    _check_width("stem.filters", spec.stem.filters)
    _check_kernel("stem", spec.stem.kernel, spec.stem.stride, spec.causal)
    if len(spec.blocks) != NUM_BLOCKS:
        raise SpecError(f"blocks: a MoViNet has {NUM_BLOCKS} blocks, got {len(spec.blocks)}")
    for b, block in enumerate(spec.blocks):
        _check_width(f"blocks[{b}].filters", block.filters)
        if not block.layers:
            raise SpecError(f"blocks[{b}].layers: a block needs at least one layer")
        for i, layer in enumerate(block.layers):
            where = f"blocks[{b}].layers[{i}]"
            _check_width(f"{where}.expand", layer.expand)
            _check_kernel(where, layer.kernel, layer.stride, spec.causal)
    _check_width("head.project_filters", spec.head.project_filters)
    _check_width("head.head_filters", spec.head.head_filters)
    _check_input(spec)


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise SpecError(f"{name}: {value!r} is not one of {', '.join(choices)}")


def _check_width(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SpecError(f"{name}: must be a positive integer, got {value!r}")


def _check_kernel(where: str, kernel: Triple, stride: Triple, causal: bool) -> None:
    for label, values in (("kernel", kernel), ("stride", stride)):
        if (not isinstance(values, tuple) or len(values) != 3
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values)):
            raise SpecError(f"{where}.{label}: must be 3 positive integers (t, h, w), got {values!r}")
    if any(k % 2 == 0 for k in kernel):
        raise SpecError(f"{where}.kernel: sizes must be odd so padding is symmetric, got {list(kernel)}")
    if any(s not in (1, 2) for s in stride):
        raise SpecError(f"{where}.stride: each stride must be 1 or 2, got {list(stride)}")
    if stride[1] != stride[2]:
        raise SpecError(f"{where}.stride: height and width strides must match, got {list(stride)}")
    if causal and stride[0] != 1:
        raise SpecError(f"{where}.stride: a causal (streaming) spec cannot stride in time, got {list(stride)}")


def _check_input(spec: ArchSpec) -> None:
    inp = spec.input
    strides = [spec.stem.stride] + [layer.stride for layer in spec.layers]
    spatial = math.prod(s[1] for s in strides)
    temporal = math.prod(s[0] for s in strides)
    if inp.resolution < spatial:
        raise SpecError(f"input.resolution: {inp.resolution} is smaller than the total spatial stride {spatial}")
    if inp.frames < temporal:
        raise SpecError(f"input.frames: {inp.frames} is fewer than the total temporal stride {temporal}")
