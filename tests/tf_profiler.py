"""TensorFlow-profiler FLOPs of a built model: the ground truth the analytic count is held to.

The published MoViNet GFLOPs are the profiler's float-op count of the inference graph / 2. The
profiler silently counts 0 for any op whose shape is not fully static and for ops hidden in
function calls, so (as in shared/docs/official_measurements.md) the frozen graph is re-imported
for static shapes, nested functions are profiled at their call-site shapes, and an op that
carries multiply-adds but still has an unknown shape is an error rather than a silent zero.
"""
from __future__ import annotations

import tensorflow as tf
from tensorflow.core.framework import function_pb2
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
from tensorflow.python.framework.function_def_to_graph import function_def_to_graph

__all__ = ["profile_flops"]

_CALL_OPS = ("PartitionedCall", "StatefulPartitionedCall")
_MAC_OPS = ("Conv2D", "Conv3D", "DepthwiseConv2dNative", "MatMul", "BatchMatMulV2")


def _profile(graph: tf.Graph) -> int:
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    result = tf.compat.v1.profiler.profile(graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op",
                                           options=options)
    return int(result.total_float_ops)


def _check_static(graph: tf.Graph) -> None:
    unknown = [op.name for op in graph.get_operations()
               if op.type in _MAC_OPS and not op.outputs[0].shape.is_fully_defined()]
    if unknown:
        raise RuntimeError(f"profiler would skip ops with unknown shapes: {unknown[:3]}")


def _count(graph: tf.Graph, library: dict) -> int:
    _check_static(graph)
    total = _profile(graph)
    for op in graph.get_operations():
        if op.type in _CALL_OPS:
            fdef = function_pb2.FunctionDef()
            fdef.CopyFrom(library[op.node_def.attr["f"].func.name])
            for arg in fdef.arg_attr:
                fdef.arg_attr[arg].attr.pop("_output_shapes", None)
            total += _count(function_def_to_graph(fdef, input_shapes=[t.shape for t in op.inputs]), library)
    return total


def profile_flops(model: tf.keras.Model, input_shape: tuple[int, ...]) -> int:
    """Raw profiler float ops of `model(x, training=False)` for x of static `input_shape`."""
    forward = tf.function(lambda x: model(x, training=False))
    concrete = forward.get_concrete_function(tf.TensorSpec(input_shape, tf.float32))
    graph_def = convert_variables_to_constants_v2(concrete).graph.as_graph_def()
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    return _count(graph, {f.signature.name: f for f in graph_def.library.function})
