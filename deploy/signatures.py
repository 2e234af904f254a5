"""The serving functions a network is exported with, as Keras `ExportArchive` endpoints.

Base: `image` [1, T, S, S, 3] -> `logits`. Stream: `image` [1, 1, S, S, 3] plus one input per
state (official names, `state_block0_layer0_stream_buffer`, ...) -> `logits` plus the next
states under the same names, zeros at the start of a video: the interface of the official
TFLite stream models, so their runners work unchanged. With `states_4d`, every 5-D state
[1, T, H, W, C] travels as [1, T*H, W, C] (GPU delegates take at most 4-D tensors) and is
reshaped back inside, so the numbers are the same.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

from search_space.keras.states import state_shapes

__all__ = ["Endpoint", "endpoint", "exported_state_shapes", "zero_inputs"]

Endpoint = tuple[Callable[[dict], dict], dict[str, tf.TensorSpec]]


def _four_d(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (shape[0], shape[1] * shape[2], shape[3], shape[4]) if len(shape) == 5 else shape


def exported_state_shapes(model, resolution: int, states_4d: bool = False) -> dict[str, tuple[tuple[int, ...], str]]:
    """{state name: (shape, dtype)} as the exported stream model takes and returns them (batch 1)."""
    shapes = state_shapes(model.spec, 1, resolution, resolution)
    return {name: (_four_d(shape) if states_4d else shape, dtype) for name, (shape, dtype) in shapes.items()}


def endpoint(model, frames: int, resolution: int, stream: bool, states_4d: bool = False) -> Endpoint:
    """The serving function and its input signature (a dict of named TensorSpecs)."""
    if not stream:
        signature = {"image": tf.TensorSpec([1, frames, resolution, resolution, 3], tf.float32, name="image")}
        return (lambda inputs: {"logits": model(inputs["image"], training=False)}), signature
    true_shapes = state_shapes(model.spec, 1, resolution, resolution)
    shapes = exported_state_shapes(model, resolution, states_4d)
    signature = {"image": tf.TensorSpec([1, 1, resolution, resolution, 3], tf.float32, name="image")}
    signature.update({name: tf.TensorSpec(shape, dtype, name=name) for name, (shape, dtype) in shapes.items()})

    def step(inputs: dict) -> dict:
        states = {name: tf.reshape(inputs[name], true_shapes[name][0]) for name in true_shapes}
        logits, new_states = model({**states, "image": inputs["image"]}, training=False)
        return {"logits": logits, **{name: tf.reshape(value, shapes[name][0]) for name, value in new_states.items()}}

    return step, signature


def zero_inputs(signature: dict[str, tf.TensorSpec]) -> dict[str, np.ndarray]:
    """Zero arrays for every input of a signature but the image: a stream's initial states."""
    return {name: np.zeros(spec.shape, spec.dtype.as_numpy_dtype) for name, spec in signature.items()
            if name != "image"}
