"""What a MoViNet architecture is: specs, presets, the builder, costs and official checkpoints."""
from .builder import MoViNet, build_model
from .presets import PRESET_NAMES, preset
from .spec import ArchSpec, BlockSpec, HeadSpec, InputSpec, LayerSpec, SpecError, StemSpec

__all__ = [
    "ArchSpec", "BlockSpec", "HeadSpec", "InputSpec", "LayerSpec", "StemSpec", "SpecError",
    "MoViNet", "build_model", "preset", "PRESET_NAMES",
]
