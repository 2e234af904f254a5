"""Predicted latency of any spec from a per-unit lookup table, without TensorFlow.

GFLOPs mislead for depthwise 3D networks: memory traffic and per-op overheads, not
multiply-adds, set their speed. As once-for-all and ProxylessNAS do, the latency of a network
is predicted as the sum of its units' latencies, each measured once on the target device
(`deploy.latency_table` times every unit configuration of a search space under LiteRT), plus
the cost of one interpreter call. A unit is the stem, one bottleneck, or the head with the
classifier; its key names everything its latency depends on (channels, kernel, stride, feature
map size), so two specs sharing a unit share its entry.

A unit missing from the table (a spec outside the space it was built for) is estimated from the
measured unit of the same kind, kernel, stride and size with the nearest GFLOPs, scaled by the
GFLOPs ratio; a prediction says which share of its time was measured rather than estimated.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.config_io import from_plain, to_plain
from infra.files import read_json, write_json

from .cost import count_flops, layer_gflops
from .errors import SpecError
from .presets import OFFICIAL_CLASSES, streaming_variant
from .rounding import make_divisible
from .space import SearchSpace, kernel_name, parse_kernel
from .spec import ArchSpec, LayerSpec
from .walk import LayerGeometry, Size, se_hidden_filters, strided_size, walk

__all__ = ["Unit", "LatencyTable", "LatencyPrediction", "spec_units", "space_units", "style_of", "table_spec"]


@dataclass(frozen=True)
class Unit:
    """One timed piece of a network: its key, kind, GFLOPs and what builds it (`geometry`: a
    `LayerGeometry` for a bottleneck; (input size, filters) for the stem; (input size, input
    channels, projection filters, hidden filters) for the head with its classifier)."""

    key: str
    kind: str  # "stem", "layer" or "head"
    group: str  # kind, kernel, stride and size: units an estimate may be scaled from
    gflops: float
    geometry: Any = field(compare=False, repr=False)


def style_of(spec: ArchSpec) -> str:
    """What every unit of a table shares: conv and SE types, activations, causality."""
    return (f"{spec.conv_type}/se={spec.se_type}/{spec.activation}/{spec.gating_activation}/"
            f"head={spec.head.activation}/{'causal' if spec.causal else 'clip'}/pos={spec.positional_encoding}")


def _size(size: Size) -> str:
    return f"{size.t}x{size.h}x{size.w}"


def _stride(stride) -> str:
    return "x".join(str(s) for s in stride)


def table_spec(spec: ArchSpec, stream: bool) -> ArchSpec:
    """The network a table of this mode times: the stream variant of `spec` for stream tables."""
    return streaming_variant(spec) if stream else spec


def spec_units(spec: ArchSpec, frames: int, resolution: int, num_classes: int = OFFICIAL_CLASSES) -> list[Unit]:
    """The units of `spec` (already in the table's mode) at one call's input: frames x resolution^2."""
    geometry = walk(spec, frames, resolution, resolution)
    cost = count_flops(spec, frames, resolution, num_classes)
    stem = spec.stem
    units = [Unit(f"stem 3-{stem.filters} k{kernel_name(stem.kernel)} s{_stride(stem.stride)} at "
                  f"{_size(geometry.input_size)}", "stem",
                  f"stem k{kernel_name(stem.kernel)} s{_stride(stem.stride)} at {_size(geometry.input_size)}",
                  cost.layers["stem"], (geometry.input_size, stem.filters))]
    units += [_layer_unit(spec, g) for g in geometry.layers]
    head = spec.head
    units.append(Unit(f"head {geometry.head_in_channels}-{head.project_filters}-{head.head_filters}-{num_classes} "
                      f"at {_size(geometry.head_size)}", "head", f"head at {_size(geometry.head_size)}",
                      cost.layers["head"], (geometry.head_size, geometry.head_in_channels, head.project_filters,
                                            head.head_filters)))
    return units


def space_units(space: SearchSpace, stream: bool, frames: int, resolution: int,
                num_classes: int = OFFICIAL_CLASSES) -> tuple[ArchSpec, list[Unit]]:
    """Every unit configuration any spec of `space` can hold, at the table's input, and a spec of
    the space's style (what the units are built in).

    Strides are fixed per block position, so feature map sizes are too: a block's first layer
    takes any width of the block before (or of the stem), its other layers their block's width.
    """
    template = table_spec(space.to_spec({name: values[0] for name, values in space.choices().items()}), stream)
    frames = 1 if stream else frames
    units: dict[str, Unit] = {}

    def add(unit: Unit) -> None:
        units.setdefault(unit.key, unit)

    for width in space.stem_widths:
        add(spec_units(template.replace(stem=dataclasses.replace(template.stem, filters=width)), frames, resolution,
                       num_classes)[0])
    firsts = {g.block: g for g in walk(template, frames, resolution, resolution).layers if g.index == 0}
    inputs = space.stem_widths
    for b, first in sorted(firsts.items()):
        for width in space.block_widths[b]:
            for ratio in space.expansion_ratios:
                expand = make_divisible(ratio * width, 8)
                for kernel in map(parse_kernel, space.kernels):
                    for cin in inputs:
                        add(_layer_unit(template, _geometry(template, b, 0, cin, width, expand, kernel,
                                                            first.spec.stride, first.in_size)))
                    if max(space.depths[b]) > 1:
                        add(_layer_unit(template, _geometry(template, b, 1, width, width, expand, kernel, (1, 1, 1),
                                                            first.out_size)))
        inputs = space.block_widths[b]
    for last in space.block_widths[4]:
        for project in space.head_widths:
            blocks = (*template.blocks[:4], dataclasses.replace(template.blocks[4], filters=last))
            add(spec_units(template.replace(blocks=blocks, head=dataclasses.replace(template.head,
                                                                                      project_filters=project)),
                           frames, resolution, num_classes)[-1])
    return template, list(units.values())


def _geometry(spec: ArchSpec, block: int, index: int, cin: int, width: int, expand: int, kernel, stride,
              size: Size) -> LayerGeometry:
    """Layer `index` of `block` (0: the first, which strides; 1: any later one)."""
    return LayerGeometry(f"block{block}_layer{index}", block, index, 1, LayerSpec(expand, kernel, stride), cin, width,
                         se_hidden_filters(spec, expand), size, strided_size(size, stride))


def _layer_unit(spec: ArchSpec, g: LayerGeometry) -> Unit:
    shape = f"k{kernel_name(g.spec.kernel)} s{_stride(g.spec.stride)} at {_size(g.in_size)}"
    return Unit(f"layer {g.in_channels}-{g.spec.expand}-{g.out_channels} {shape}", "layer", f"layer {shape}",
                layer_gflops(spec, g), g)


@dataclass(frozen=True)
class LatencyPrediction:
    """Predicted milliseconds per call, and the share of them read from measured units."""

    ms: float
    measured_share: float


@dataclass(frozen=True)
class LatencyTable:
    """Milliseconds per unit on one device at one thread count, for one mode and input.

    `stream`: per frame of the stream variant (else per clip of `frames`). `call_ms` is what an
    interpreter call costs whatever the network (timed on an empty model): every unit's time
    is net of it, and a prediction adds it once. `scale` is how much slower units run inside a
    network than alone (cache), the median over a few whole networks of the space timed with
    the units: a prediction is `call_ms + scale * (sum of its units)`.
    """

    device: str
    threads: int
    stream: bool
    frames: int
    resolution: int
    num_classes: int
    style: str
    call_ms: float
    units: dict[str, dict[str, float]]  # key -> {"ms", "gflops"}
    scale: float = 1.0
    groups: dict[str, str] = field(default_factory=dict)  # key -> its group (for estimates)

    def describe(self) -> str:
        mode = "stream, per frame" if self.stream else f"per clip of {self.frames} frames"
        return (f"{self.device}, {self.threads} thread{'s' if self.threads > 1 else ''}, {mode} at "
                f"{self.resolution}x{self.resolution}, {len(self.units)} units")

    def units_of(self, spec: ArchSpec) -> list[Unit]:
        spec = table_spec(spec, self.stream)
        if style_of(spec) != self.style:
            raise SpecError(f"{spec.name}: its style ({style_of(spec)}) is not the latency table's ({self.style})")
        return spec_units(spec, 1 if self.stream else self.frames, self.resolution, self.num_classes)

    def predict(self, spec: ArchSpec) -> LatencyPrediction:
        """Milliseconds per call of `spec` on the table's device."""
        measured = estimated = 0.0
        for unit in self.units_of(spec):
            if unit.key in self.units:
                measured += self.units[unit.key]["ms"]
            else:
                estimated += self._estimate(unit)
        total = measured + estimated
        return LatencyPrediction(self.call_ms + self.scale * total, measured / total if total else 1.0)

    def _estimate(self, unit: Unit) -> float:
        """The nearest-GFLOPs measured unit of the same group (else kind), scaled by GFLOPs."""
        kin = [key for key, group in self.groups.items() if group == unit.group] or \
            [key for key in self.units if key.split(" ", 1)[0] == unit.kind]
        if not kin:
            raise SpecError(f"the latency table holds no {unit.kind} to estimate {unit.key} from")
        nearest = min(kin, key=lambda key: abs(math.log(max(self.units[key]["gflops"], 1e-12) /
                                                        max(unit.gflops, 1e-12))))
        entry = self.units[nearest]
        return entry["ms"] * unit.gflops / entry["gflops"] if entry["gflops"] > 0 else entry["ms"]

    def save(self, path: str | Path) -> Path:
        return write_json(path, to_plain(self))

    @classmethod
    def load(cls, path: str | Path) -> "LatencyTable":
        return from_plain(cls, read_json(path, "latency table"), str(path), error=SpecError)
