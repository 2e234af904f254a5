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

from infra.config_io import dump_yaml
from infra.files import parse_yaml, read_yaml

from .errors import SpecError

__all__ = [
    "SpecError", "StemSpec", "LayerSpec", "BlockSpec", "HeadSpec", "InputSpec", "ArchSpec",
    "CONV_TYPES", "SE_TYPES", "ACTIVATIONS", "GATING_ACTIVATIONS", "parse_input", "first_layer_stride",
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

    def replace(self, **changes: Any) -> "ArchSpec":
        """A validated copy with some top-level fields changed."""
        return dataclasses.replace(self, **changes)

    # ----- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain lists/dicts/scalars, the form written to YAML."""
        return _to_plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ArchSpec":
        """Parses and validates; a bad value raises SpecError naming its field path."""
        return _parse_arch(data)

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
            return _parse_arch(data)
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
    for name in ("frames", "resolution", "frame_stride"):
        _check_width(f"input.{name}", getattr(inp, name))
    strides = [spec.stem.stride] + [layer.stride for layer in spec.layers]
    spatial = math.prod(s[1] for s in strides)
    temporal = math.prod(s[0] for s in strides)
    if inp.resolution < spatial:
        raise SpecError(f"input.resolution: {inp.resolution} is smaller than the total spatial stride {spatial}")
    if inp.frames < temporal:
        raise SpecError(f"input.frames: {inp.frames} is fewer than the total temporal stride {temporal}")


# ------------------------------------------------------------------------------------------
# Parsing from plain data (YAML); every error names the field path
# ------------------------------------------------------------------------------------------
def _to_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _fields(cls: type, data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise SpecError(f"{where or 'spec'}: expected a mapping, got {type(data).__name__} {data!r}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SpecError(f"{_join(where, unknown[0])}: unknown field (expected one of {', '.join(sorted(known))})")
    required = {f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    missing = sorted(required - set(data))
    if missing:
        raise SpecError(f"{_join(where, missing[0])}: missing required field")
    return dict(data)


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{where}: must be an integer, got {type(value).__name__} {value!r}")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise SpecError(f"{where}: must be a string, got {type(value).__name__} {value!r}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{where}: must be true or false, got {type(value).__name__} {value!r}")
    return value


def _triple(value: Any, where: str) -> Triple:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise SpecError(f"{where}: must be a list of 3 integers (t, h, w), got {value!r}")
    return tuple(_int(v, f"{where}[{i}]") for i, v in enumerate(value))  # type: ignore[return-value]


def _list(value: Any, where: str) -> list:
    if not isinstance(value, (list, tuple)):
        raise SpecError(f"{where}: must be a list, got {type(value).__name__} {value!r}")
    return list(value)


def _parse_layer(data: Any, where: str) -> LayerSpec:
    d = _fields(LayerSpec, data, where)
    out = {"expand": _int(d["expand"], f"{where}.expand")}
    for name in ("kernel", "stride"):
        if name in d:
            out[name] = _triple(d[name], f"{where}.{name}")
    return LayerSpec(**out)


def _parse_block(data: Any, where: str) -> BlockSpec:
    d = _fields(BlockSpec, data, where)
    layers = _list(d["layers"], f"{where}.layers")
    return BlockSpec(filters=_int(d["filters"], f"{where}.filters"),
                     layers=tuple(_parse_layer(l, f"{where}.layers[{i}]") for i, l in enumerate(layers)))


def _parse_simple(cls: type, data: Any, where: str, ints: Sequence[str], strs: Sequence[str] = (),
                  triples: Sequence[str] = ()) -> Any:
    d = _fields(cls, data, where)
    for name in ints:
        if name in d:
            d[name] = _int(d[name], f"{where}.{name}")
    for name in strs:
        if name in d:
            d[name] = _str(d[name], f"{where}.{name}")
    for name in triples:
        if name in d:
            d[name] = _triple(d[name], f"{where}.{name}")
    return cls(**d)


def _parse_arch(data: Mapping[str, Any]) -> ArchSpec:
    d = _fields(ArchSpec, data, "")
    blocks = _list(d["blocks"], "blocks")
    kwargs: dict[str, Any] = {
        "name": _str(d["name"], "name"),
        "stem": _parse_simple(StemSpec, d["stem"], "stem", ["filters"], triples=["kernel", "stride"]),
        "blocks": tuple(_parse_block(b, f"blocks[{i}]") for i, b in enumerate(blocks)),
        "head": _parse_simple(HeadSpec, d["head"], "head", ["project_filters", "head_filters"], ["activation"]),
    }
    for name in ("conv_type", "se_type", "activation", "gating_activation"):
        if name in d:
            kwargs[name] = _str(d[name], name)
    for name in ("causal", "positional_encoding"):
        if name in d:
            kwargs[name] = _bool(d[name], name)
    if "input" in d:
        kwargs["input"] = parse_input(d["input"], "input")
    return ArchSpec(**kwargs)


def parse_input(data: Any, where: str) -> InputSpec:
    """An `InputSpec` from plain data, every field checked (a spec's or an ensemble's input)."""
    shape = _parse_simple(InputSpec, data, where, ["frames", "resolution", "frame_stride"])
    for name in ("frames", "resolution", "frame_stride"):
        _check_width(f"{where}.{name}", getattr(shape, name))
    return shape
