"""Names and shapes of streaming states, derived from the spec walk (official naming).

A causal model carries, per layer, a stream buffer of the last k_t - 1 frames for its temporal
kernel, the running sum and frame count of each cumulative pool, and the frame count of each
positional encoding. Keeping their derivation here, from the same walk the builder uses, means
`init_states` can never disagree with what the layers produce.
"""
from __future__ import annotations

import tensorflow as tf

from ..spec import ArchSpec
from ..walk import walk

__all__ = ["state_shapes", "zero_states"]


def state_shapes(spec: ArchSpec, batch: int, height: int, width: int) -> dict[str, tuple[tuple[int, ...], str]]:
    """{state name: (shape, dtype)} for a causal `spec` fed frames of `height` x `width`."""
    geometry = walk(spec, 1, height, width)
    factorized = spec.conv_type != "3d"
    shapes: dict[str, tuple[tuple[int, ...], str]] = {}
    count = ((1,), "int32")
    stem_kt = spec.stem.kernel[0]
    if stem_kt > 1:
        # Joint kernels buffer their input; factorised ones the output of the spatial conv.
        h, w, c = ((geometry.stem_size.h, geometry.stem_size.w, spec.stem.filters) if factorized
                   else (height, width, 3))
        shapes["state_stem_stream_buffer"] = ((batch, stem_kt - 1, h, w, c), "float32")
    for layer in geometry.layers:
        prefix = f"state_{layer.name}"
        kt = layer.spec.kernel[0]
        if kt > 1:
            size = layer.out_size if factorized else layer.in_size
            shapes[f"{prefix}_stream_buffer"] = ((batch, kt - 1, size.h, size.w, layer.spec.expand), "float32")
        if "3d" in spec.se_type:
            shapes[f"{prefix}_pool_buffer"] = ((batch, 1, 1, 1, layer.spec.expand), "float32")
            shapes[f"{prefix}_pool_frame_count"] = count
        if spec.positional_encoding:
            shapes[f"{prefix}_pos_enc_frame_count"] = count
    shapes["state_head_pool_buffer"] = ((batch, 1, 1, 1, spec.head.project_filters), "float32")
    shapes["state_head_pool_frame_count"] = count
    return shapes


def zero_states(spec: ArchSpec, input_shape) -> dict[str, tf.Tensor]:
    """Zero states for an input of shape [batch, frames, height, width, 3]."""
    batch, _, height, width = (int(d) for d in list(input_shape)[:4])
    return {name: tf.zeros(shape, dtype) for name, (shape, dtype) in state_shapes(spec, batch, height, width).items()}
