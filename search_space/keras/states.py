"""Names and shapes of streaming states, derived from the spec walk (official naming).

A causal model carries, per layer, a stream buffer of the last k_t - 1 frames for its temporal
kernel, the running sum and frame count of each cumulative pool, and the frame count of each
positional encoding. The names are made here and nowhere else (the layers take theirs from
these functions), and the shapes come from the same walk the builder uses, so `init_states`
can never disagree with what the layers produce.
"""
from __future__ import annotations

import tensorflow as tf

from ..spec import ArchSpec
from ..walk import walk

__all__ = ["state_prefix", "stream_buffer_name", "pool_state_names", "position_state_name", "state_shapes",
           "zero_states"]


def state_prefix(owner: str) -> str:
    """'state_stem', 'state_block0_layer0', 'state_head': the official prefix of an owner's states."""
    return f"state_{owner}"


def stream_buffer_name(prefix: str) -> str:
    return f"{prefix}_stream_buffer"


def pool_state_names(prefix: str) -> tuple[str, str]:
    """A cumulative pool's running sum and frame count."""
    return f"{prefix}_pool_buffer", f"{prefix}_pool_frame_count"


def position_state_name(prefix: str) -> str:
    return f"{prefix}_pos_enc_frame_count"


def state_shapes(spec: ArchSpec, batch: int, height: int, width: int) -> dict[str, tuple[tuple[int, ...], str]]:
    """{state name: (shape, dtype)} for a causal `spec` fed frames of `height` x `width`."""
    geometry = walk(spec, 1, height, width)
    shapes: dict[str, tuple[tuple[int, ...], str]] = {}
    count = ((1,), "int32")
    stem_kt = spec.stem.kernel[0]
    if stem_kt > 1:
        # Joint kernels buffer their input; factorised ones the output of the spatial conv.
        h, w, c = ((geometry.stem_size.h, geometry.stem_size.w, spec.stem.filters) if spec.factorized
                   else (height, width, 3))
        shapes[stream_buffer_name(state_prefix("stem"))] = ((batch, stem_kt - 1, h, w, c), "float32")
    for layer in geometry.layers:
        prefix = state_prefix(layer.name)
        kt = layer.spec.kernel[0]
        if kt > 1:
            size = layer.out_size if spec.factorized else layer.in_size
            shapes[stream_buffer_name(prefix)] = ((batch, kt - 1, size.h, size.w, layer.spec.expand), "float32")
        if spec.has_se and spec.se_pools_clip:
            pool_sum, pool_count = pool_state_names(prefix)
            shapes[pool_sum] = ((batch, 1, 1, 1, layer.spec.expand), "float32")
            shapes[pool_count] = count
        if spec.positional_encoding:
            shapes[position_state_name(prefix)] = count
    head_sum, head_count = pool_state_names(state_prefix("head"))
    shapes[head_sum] = ((batch, 1, 1, 1, spec.head.project_filters), "float32")
    shapes[head_count] = count
    return shapes


def zero_states(spec: ArchSpec, input_shape) -> dict[str, tf.Tensor]:
    """Zero states for an input of shape [batch, frames, height, width, 3]."""
    batch, _, height, width = (int(d) for d in list(input_shape)[:4])
    return {name: tf.zeros(shape, dtype) for name, (shape, dtype) in state_shapes(spec, batch, height, width).items()}
