"""The official MoViNet family (Model Garden `BLOCK_SPECS`) as data, base and stream variants.

Numbers are copied from the released code so that checkpoints load and costs match; see
shared/docs/movinet_spec.md section 1. A block row is (base width, expansion widths, kernels);
the first layer of every block strides spatially except block 4, exactly as released.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from infra.files import read_yaml

from .ensemble import A6, EnsembleSpec
from .spec import ArchSpec, BlockSpec, HeadSpec, InputSpec, LayerSpec, SpecError, StemSpec, first_layer_stride

__all__ = ["preset", "load_arch", "streaming_variant", "PRESET_NAMES", "STREAM_POSITIONAL_ENCODING", "OFFICIAL_CLASSES"]

K13, K15, K33, K53 = (1, 3, 3), (1, 5, 5), (3, 3, 3), (5, 3, 3)

# name: (stem width, [(block width, expansions, kernels)] * 5, (project, head) widths)
_TABLE = {
    "a0": (8, [(8, (24,), (K15,)),
               (32, (80, 80, 80), (K33, K33, K33)),
               (56, (184, 112, 184), (K53, K33, K33)),
               (56, (184, 184, 184, 184), (K53, K33, K33, K33)),
               (104, (384, 280, 280, 344), (K53, K15, K15, K15))], (480, 2048)),
    "a1": (16, [(16, (40, 40), (K15, K33)),
                (40, (96, 120, 96, 96), (K33,) * 4),
                (64, (216, 128, 216, 168, 216), (K53,) + (K33,) * 4),
                (64, (216, 216, 216, 128, 128, 216), (K53, K33, K33, K33, K15, K33)),
                (136, (456, 360, 360, 360, 456, 456, 544), (K53, K15, K15, K15, K15, K33, K13))],
           (600, 2048)),
    "a2": (16, [(16, (40, 40, 64), (K15, K33, K33)),
                (40, (96, 120, 96, 96, 120), (K33,) * 5),
                (72, (240, 160, 240, 192, 240), (K53,) + (K33,) * 4),
                (72, (240, 240, 240, 240, 144, 240), (K53, K33, K33, K33, K15, K33)),
                (144, (480, 384, 384, 480, 480, 480, 576), (K53, K15, K15, K15, K15, K33, K13))],
           (640, 2048)),
    "a3": (16, [(16, (40, 40, 64, 40), (K15, K33, K33, K33)),
                (48, (112, 144, 112, 112, 144, 144), (K33, K33, K33, K15, K33, K33)),
                (80, (240, 152, 240, 192, 240), (K53,) + (K33,) * 4),
                (88, (264, 264, 264, 264, 160, 264, 264, 264), (K53, K33, K33, K33, K15, K33, K33, K33)),
                (168, (560, 448, 448, 560, 560, 560, 448, 448, 560, 672),
                 (K53, K15, K15, K15, K15, K33, K15, K15, K33, K13))], (744, 2048)),
    "a4": (24, [(24, (64, 64, 96, 64, 96, 64), (K15,) + (K33,) * 5),
                (56, (168, 168, 136, 136, 168, 168, 168, 136, 136), (K33,) * 7 + (K15, K33)),
                (96, (320, 160, 320, 192, 320, 160, 320, 256, 320), (K53,) + (K33,) * 8),
                (96, (320, 320, 320, 320, 192, 320, 320, 192, 320, 320),
                 (K53, K33, K33, K33, K15, K33, K33, K33, K33, K33)),
                (192, (640, 512, 512, 640, 640, 640, 512, 512, 640, 768, 640, 640, 768),
                 (K53, K15, K15, K15, K15, K33, K15, K15, K15, K15, K15, K33, K33))], (856, 2048)),
    "a5": (24, [(24, (64, 64, 96, 64, 96, 64), (K15, K15, K33, K33, K33, K33)),
                (64, (192, 152, 152, 152, 192, 192, 192, 152, 152, 192, 192), (K53,) + (K33,) * 10),
                (112, (376, 224, 376, 376, 296, 376, 224, 376, 376, 296, 376, 376, 376),
                 (K53,) + (K33,) * 12),
                (120, (376, 376, 376, 376, 224, 376, 376, 224, 376, 376, 376),
                 (K53, K33, K33, K33, K15, K33, K33, K33, K33, K33, K33)),
                (224, (744, 744, 600, 600, 744, 744, 744, 896, 600, 600, 896, 744, 744, 896, 600, 600, 744, 744),
                 (K53, K33, K15, K15, K15, K15, K33, K15, K15, K15, K15, K15, K33, K15, K15, K15, K15, K33))],
           (992, 2048)),
    "t0": (8, [(8, (16,), (K15,)),
               (32, (72, 72), (K33, K15)),
               (56, (112, 112, 112), (K53, K15, K33)),
               (56, (184, 184, 184, 184), (K53, K15, K33, K33)),
               (104, (344, 344, 344, 344), (K53, K15, K15, K33))], (240, 1024)),
}

# Paper evaluation inputs (frames, resolution, frame stride): README / TF Hub / Model Garden YAMLs.
_INPUTS = {"a0": (50, 172, 5), "a1": (50, 172, 5), "a2": (50, 224, 5), "a3": (120, 256, 2),
           "a4": (80, 290, 3), "a5": (120, 320, 2), "t0": (25, 160, 10)}

# The classes of every official checkpoint (Kinetics-600): the default classifier width wherever a
# network is built, counted or scaled without data of its own.
OFFICIAL_CLASSES = 600

# The official stream models add a positional encoding in SE for the larger models only.
STREAM_POSITIONAL_ENCODING = ("a3", "a4", "a5")
PRESET_NAMES = tuple(_TABLE)

def _blocks(rows) -> tuple[BlockSpec, ...]:
    blocks = []
    for b, (filters, expands, kernels) in enumerate(rows):
        first_stride = first_layer_stride(b)
        layers = tuple(LayerSpec(expand=e, kernel=k, stride=first_stride if i == 0 else (1, 1, 1))
                       for i, (e, k) in enumerate(zip(expands, kernels, strict=True)))
        blocks.append(BlockSpec(filters=filters, layers=layers))
    return tuple(blocks)


def streaming_variant(spec: ArchSpec, positional_encoding: bool | None = None) -> ArchSpec:
    """The official Stream recipe applied to any spec.

    Causal, (2+1)D convolutions, 2plus3d SE, hard swish / hard sigmoid; positional encoding as
    given (default: keep the spec's). The classifier head keeps its activation, as the official
    `MovinetClassifier` default (swish) does. Temporal strides are dropped, since a stream
    produces one output per input frame.
    """
    if spec.causal:
        return spec
    blocks = tuple(BlockSpec(b.filters, tuple(LayerSpec(l.expand, l.kernel, (1, *l.stride[1:])) for l in b.layers))
                   for b in spec.blocks)
    stem = StemSpec(spec.stem.filters, spec.stem.kernel, (1, *spec.stem.stride[1:]))
    return spec.replace(name=f"{spec.name}_stream", stem=stem, blocks=blocks, conv_type="2plus1d",
                        se_type="2plus3d", activation="hard_swish", gating_activation="hard_sigmoid",
                        causal=True,
                        positional_encoding=spec.positional_encoding if positional_encoding is None
                        else positional_encoding)


def preset(name: str, stream: bool = False) -> ArchSpec:
    """Official MoViNet `name` (a0..a5, t0): Base by default, Stream with `stream=True`."""
    key = name.lower()
    if key not in _TABLE:
        raise SpecError(f"preset: unknown preset {name!r} (known: {', '.join(PRESET_NAMES)})")
    stem, rows, (project, head) = _TABLE[key]
    frames, resolution, stride = _INPUTS[key]
    base = ArchSpec(name=key, stem=StemSpec(filters=stem), blocks=_blocks(rows),
                    head=HeadSpec(project_filters=project, head_filters=head),
                    input=InputSpec(frames=frames, resolution=resolution, frame_stride=stride))
    return streaming_variant(base, key in STREAM_POSITIONAL_ENCODING) if stream else base


def load_arch(arch: str, stream: bool = False) -> ArchSpec | EnsembleSpec:
    """A preset name (a0..a5, t0; a6 is the official A4 + A5 ensemble), or a spec or ensemble
    (`members: [...]`) YAML path, optionally as its streaming variant."""
    if arch.endswith((".yaml", ".yml")) or Path(arch).exists():
        data = read_yaml(arch, "spec file")
        if not isinstance(data, Mapping):
            raise SpecError(f"{arch}: expected a mapping of spec fields, got {type(data).__name__}")
        try:
            spec = EnsembleSpec.from_dict(data) if "members" in data else ArchSpec.from_dict(data)
        except SpecError as err:
            raise SpecError(f"{arch}: {err}") from None
    else:
        spec = A6() if arch.lower() == "a6" else preset(arch)
    if isinstance(spec, EnsembleSpec):
        if stream:
            raise SpecError(f"{spec.name}: an ensemble has no streaming variant")
        return spec
    return streaming_variant(spec) if stream else spec
