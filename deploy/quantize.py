"""Post-training int8 quantisation, with chosen kinds of layer kept in float.

Full-integer quantisation runs every op that has an int8 kernel in int8; the interface stays
float32 (quantised and dequantised inside), so stream states go back in as they come out. Some
layers are known to suffer: averages over many positions (global and causal pooling), the
hard-swish activation's kink near zero, the squeeze-excitation gate that rescales every
channel, and the classifier whose logits are the answer. `keep_float` names kinds of layer to
leave in float32 (the rest stays int8), so a user can measure what each costs and buys.

The converter calibrates once (TensorFlow's `QuantizationDebugger` keeps the calibrated
model); each denylist then only re-runs the quantiser, which names the ops to skip by their
output tensors. Those names come from the Keras layers the ops were traced in (`.../se/...`,
`.../pool/...`), or for pooling and hard-swish from the op type itself.
"""
from __future__ import annotations

import re
import warnings
from typing import Callable, Iterable, Iterator

import tensorflow as tf

from infra.tf_runtime import native_logs_held

from .options import FLOAT_LAYERS

__all__ = ["quantized_int8"]


def _in_layer(*names: str) -> Callable[[str, str], bool]:
    """Ops traced inside a Keras layer called one of `names` (TensorFlow suffixes scopes with `_1`...)."""
    scope = re.compile(rf"/({'|'.join(names)})(_\d+)?/")
    return lambda op, tensor: bool(scope.search(tensor))


_POOL_OPS = {"MEAN", "AVERAGE_POOL_2D"}
_IN_POOL = _in_layer("pool")  # the stream's running averages: a sum and a frame count

_KINDS: dict[str, Callable[[str, str], bool]] = {
    "pool": lambda op, tensor: op in _POOL_OPS or _IN_POOL(op, tensor),
    "hard_swish": lambda op, tensor: op == "HARD_SWISH",
    "squeeze_excite": _in_layer("se"),
    "classifier": _in_layer("head", "classifier"),
}
assert set(_KINDS) == set(FLOAT_LAYERS)


def _ops(model: bytes) -> Iterator[tuple[str, str]]:
    """(op type, first output tensor's name) of every op of a TFLite model."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model)
    names = {tensor["index"]: tensor["name"] for tensor in interpreter.get_tensor_details()}
    for op in interpreter._get_ops_details():  # the only listing of a model's ops LiteRT offers
        if op["outputs"].size:
            yield op["op_name"], names[op["outputs"][0]]


def quantized_int8(converter: tf.lite.TFLiteConverter, representative: Callable[[], Iterable[dict]],
                   keep_float: tuple[str, ...] = ()) -> tuple[bytes, dict[str, int]]:
    """The int8 model `converter` describes, calibrated on `representative`, with the ops of the
    `keep_float` kinds left in float32; and how many ops each kind kept in float.

    A kind can match nothing (a spec without squeeze-excitation); the count says so.
    """
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    with native_logs_held(), warnings.catch_warnings():
        # Calibration runs TensorFlow's own (deprecated) interpreter, which warns about itself.
        warnings.filterwarnings("ignore", message=r"(?s).*tf.lite.Interpreter is deprecated")
        debugger = tf.lite.experimental.QuantizationDebugger(converter=converter)
        ops = list(_ops(debugger.calibrated_model))
        kept = {kind: [tensor for op, tensor in ops if _KINDS[kind](op, tensor)] for kind in keep_float}
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(
            denylisted_nodes=sorted({tensor for tensors in kept.values() for tensor in tensors}))
        model = debugger.get_nondebug_quantized_model()
    return model, {kind: len(tensors) for kind, tensors in kept.items()}
