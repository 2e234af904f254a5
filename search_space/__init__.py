"""What a MoViNet architecture is: specs, presets, the builder, costs and official checkpoints."""
from .builder import MoViNet, build_model, convert_conv_type
from .checkpoint import CheckpointMismatchError, load_official_checkpoint
from .flops import Cost, count_flops
from .presets import PRESET_NAMES, load_arch, preset, streaming_variant
from .space import SearchSpace
from .spec import ArchSpec, BlockSpec, HeadSpec, InputSpec, LayerSpec, SpecError, StemSpec

__all__ = [
    "ArchSpec", "BlockSpec", "HeadSpec", "InputSpec", "LayerSpec", "StemSpec", "SpecError",
    "MoViNet", "build_model", "convert_conv_type", "preset", "load_arch", "streaming_variant", "PRESET_NAMES",
    "Cost", "count_flops", "CheckpointMismatchError", "load_official_checkpoint", "SearchSpace",
]
