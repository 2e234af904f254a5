"""The searchable dimensions of the MoViNet family, as data.

Default = the paper's space: 5 blocks; per block a base width from the paper's widths
(16, 24, 48, 96, 96, 192 for stem and blocks) scaled by {0.75, 1, 1.25} and rounded to a
multiple of 8, and 1..10 layers; per layer an expansion ratio and a (t, h, w) kernel from
{1x3x3, 1x5x5, 1x7x7, 3x3x3, 5x3x3, 5x1x1, 7x1x1}; the head width; input frames and resolution.
Strides follow the released models (first layer of blocks 1, 2, 3 and 5 strides spatially).

A point in the space is a flat dict of parameters (`block2_layer0_kernel: "5x3x3"` ...) that
Ray Tune, Optuna and KerasTuner all accept (`search.engines` turns `choices()` into their
definitions); `to_spec` / `to_params` convert both ways, and `including(spec)` widens the space
so a seed architecture such as preset a0 maps into it.
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config_io import dump_yaml, from_plain, to_plain
from infra.errors import OptionsError
from infra.files import read_yaml

from .errors import SpecError
from .rounding import make_divisible
from .spec import ArchSpec, BlockSpec, HeadSpec, InputSpec, LayerSpec, StemSpec, first_layer_stride

__all__ = ["SearchSpace", "kernel_name", "parse_kernel"]

_PAPER_WIDTHS = (16, 24, 48, 96, 96, 192)
_PAPER_KERNELS = ("1x3x3", "1x5x5", "1x7x7", "3x3x3", "5x3x3", "5x1x1", "7x1x1")


def kernel_name(kernel: tuple[int, int, int]) -> str:
    return "x".join(str(k) for k in kernel)


def parse_kernel(name: str) -> tuple[int, int, int]:
    parts = tuple(int(p) for p in name.split("x"))
    if len(parts) != 3:
        raise SpecError(f"kernel: expected 'TxHxW', got {name!r}")
    return parts  # type: ignore[return-value]


def _scaled(base: int, multipliers) -> tuple[int, ...]:
    return tuple(sorted({make_divisible(base * m, 8) for m in multipliers}))


@dataclass(frozen=True)
class SearchSpace:
    """Choices per dimension; every combination is a valid `ArchSpec`."""

    stem_widths: tuple[int, ...] = _scaled(_PAPER_WIDTHS[0], (0.75, 1.0, 1.25))
    block_widths: tuple[tuple[int, ...], ...] = tuple(_scaled(w, (0.75, 1.0, 1.25)) for w in _PAPER_WIDTHS[1:])
    depths: tuple[tuple[int, ...], ...] = tuple(tuple(range(1, 11)) for _ in range(5))
    expansion_ratios: tuple[float, ...] = (1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
    kernels: tuple[str, ...] = _PAPER_KERNELS
    head_widths: tuple[int, ...] = _scaled(512, (0.75, 1.0, 1.25))
    head_filters: int = 2048
    frames: tuple[int, ...] = (8,)
    resolutions: tuple[int, ...] = (32,)
    frame_stride: int = 2
    name: str = "movinet_space"

    def __post_init__(self) -> None:
        if len(self.block_widths) != 5 or len(self.depths) != 5:
            raise SpecError("search space: block_widths and depths need one entry per block (5)")
        for label, values in (("stem_widths", self.stem_widths), ("expansion_ratios", self.expansion_ratios),
                              ("kernels", self.kernels), ("head_widths", self.head_widths),
                              ("frames", self.frames), ("resolutions", self.resolutions)):
            if not values:
                raise SpecError(f"search space: {label} is empty")
        for b in range(5):
            if not self.block_widths[b] or not self.depths[b] or min(self.depths[b]) < 1:
                raise SpecError(f"search space: block {b} needs widths and depths >= 1")
        for kernel in self.kernels:
            parse_kernel(kernel)

    # ----- parameters ----------------------------------------------------------------------
    @property
    def max_depth(self) -> list[int]:
        return [max(d) for d in self.depths]

    def choices(self) -> dict[str, tuple]:
        """Every parameter and its choices (layer parameters beyond a block's depth are ignored)."""
        params: dict[str, tuple] = {"stem_width": self.stem_widths}
        for b in range(5):
            params[f"block{b}_width"] = self.block_widths[b]
            params[f"block{b}_depth"] = self.depths[b]
            for i in range(self.max_depth[b]):
                params[f"block{b}_layer{i}_expand"] = self.expansion_ratios
                params[f"block{b}_layer{i}_kernel"] = self.kernels
        params["head_width"] = self.head_widths
        params["frames"] = self.frames
        params["resolution"] = self.resolutions
        return params

    def widest_params(self) -> dict[str, Any]:
        """The largest value of every parameter (kernels: the first): the network whose weights a
        weight-sharing supernet holds (`search_space.keras.supernet`)."""
        return self._extreme(max)

    def smallest_params(self) -> dict[str, Any]:
        """The smallest value of every parameter (kernels: the first), the other end of a
        supernet's sandwich rule (`search.oneshot`)."""
        return self._extreme(min)

    def _extreme(self, pick) -> dict[str, Any]:
        """Every parameter at `pick` of its values; a kernel has no order of size, so its first."""
        return {name: values[0] if name.endswith("_kernel") else pick(values)
                for name, values in self.choices().items()}

    def sample(self, rng: random.Random) -> dict[str, Any]:
        return {name: rng.choice(values) for name, values in self.choices().items()}

    def to_spec(self, params: dict[str, Any], name: str = "searched") -> ArchSpec:
        """The architecture a parameter dict describes."""
        blocks = []
        for b in range(5):
            width = int(params[f"block{b}_width"])
            layers = []
            for i in range(int(params[f"block{b}_depth"])):
                stride = first_layer_stride(b) if i == 0 else (1, 1, 1)
                expand = make_divisible(float(params[f"block{b}_layer{i}_expand"]) * width, 8)
                layers.append(LayerSpec(expand=expand, kernel=parse_kernel(params[f"block{b}_layer{i}_kernel"]),
                                        stride=stride))
            blocks.append(BlockSpec(filters=width, layers=tuple(layers)))
        return ArchSpec(name=name, stem=StemSpec(filters=int(params["stem_width"])), blocks=tuple(blocks),
                        head=HeadSpec(project_filters=int(params["head_width"]), head_filters=self.head_filters),
                        input=InputSpec(frames=int(params["frames"]), resolution=int(params["resolution"]),
                                        frame_stride=self.frame_stride))

    def to_params(self, spec: ArchSpec) -> dict[str, Any]:
        """The parameters of `spec`; raises SpecError naming the first value outside the space."""
        params: dict[str, Any] = {"stem_width": spec.stem.filters, "head_width": spec.head.project_filters,
                                  "frames": spec.input.frames, "resolution": spec.input.resolution}
        for b, block in enumerate(spec.blocks):
            params[f"block{b}_width"] = block.filters
            params[f"block{b}_depth"] = len(block.layers)
            for i in range(self.max_depth[b]):
                layer = block.layers[min(i, len(block.layers) - 1)]  # unused slots repeat the last layer
                ratio = next((r for r in self.expansion_ratios
                              if make_divisible(r * block.filters, 8) == layer.expand), None)
                if ratio is None:
                    raise SpecError(f"{spec.name}: blocks[{b}] expansion {layer.expand} is outside the search space")
                params[f"block{b}_layer{i}_expand"] = ratio
                params[f"block{b}_layer{i}_kernel"] = kernel_name(layer.kernel)
        for key, value in params.items():
            if value not in self.choices()[key]:
                raise SpecError(f"{spec.name}: {key}={value!r} is outside the search space")
        expected = self.to_spec(params, spec.name)
        if expected.replace(input=spec.input) != spec.replace(conv_type=expected.conv_type, input=spec.input):
            raise SpecError(f"{spec.name}: strides or options differ from this search space's")
        return params

    def including(self, spec: ArchSpec) -> "SearchSpace":
        """This space widened just enough to contain `spec` (e.g. a seed architecture).

        The classifier's hidden width is one value per space, so it becomes the seed's.
        """
        def union(values, extra):
            return tuple(sorted(set(values) | set(extra)))
        ratios = {layer.expand / block.filters for block in spec.blocks for layer in block.layers}
        return dataclasses.replace(
            self, stem_widths=union(self.stem_widths, [spec.stem.filters]),
            block_widths=tuple(union(w, [blk.filters]) for w, blk in zip(self.block_widths, spec.blocks)),
            depths=tuple(union(d, [len(blk.layers)]) for d, blk in zip(self.depths, spec.blocks)),
            expansion_ratios=union(self.expansion_ratios, ratios),
            kernels=union(self.kernels, [kernel_name(l.kernel) for l in spec.layers]),
            head_widths=union(self.head_widths, [spec.head.project_filters]), head_filters=spec.head.head_filters,
            frames=union(self.frames, [spec.input.frames]), resolutions=union(self.resolutions, [spec.input.resolution]))

    # ----- serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain lists and scalars (YAML / JSON form)."""
        return to_plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "") -> "SearchSpace":
        """Parses the `to_dict` form; a bad field raises a UserError naming it (after `origin`)."""
        try:
            return from_plain(cls, data)
        except OptionsError as err:
            raise OptionsError(f"{origin}: {err}" if origin else str(err)) from None

    def to_yaml(self, path: str | Path | None = None) -> str:
        return dump_yaml(self.to_dict(), path)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "SearchSpace":
        return cls.from_dict(read_yaml(path, "search space file") or {}, origin=str(path))
