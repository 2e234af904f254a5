"""The Keras 3 implementation of specs: layers, the one builder, streaming states, checkpoints.

Imported on first use (`search_space.build_model` and friends load it), so the architecture
core stays free of TensorFlow.
"""
from .builder import MoViNet, build_model, convert_conv_type
from .checkpoint import load_official_checkpoint

__all__ = ["MoViNet", "build_model", "convert_conv_type", "load_official_checkpoint"]
