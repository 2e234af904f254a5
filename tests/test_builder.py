"""The shared builder: conv kernels equal Conv3D, streaming equals whole clips, states are exact."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import random_spec, randomize_weights
from search_space import ModelOptions, SpecError, build_model, preset
from search_space.keras.layers import SpatioTemporalConv


def _reference_conv3d(x, kernel, stride, depthwise, causal):
    """Grouped/full tf.nn.conv3d under XLA with explicit 'same' or causal padding."""
    kt, kh, kw = kernel.shape[:3]
    pads = [[0, 0]]
    for axis, (k, s) in enumerate(zip((kt, kh, kw), stride)):
        n = x.shape[axis + 1]
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads.append([total, 0] if (axis == 0 and causal) else [total // 2, total - total // 2])
    pads.append([0, 0])
    filters = kernel[..., None, :] if depthwise else kernel
    conv = tf.function(lambda a, f: tf.nn.conv3d(tf.pad(a, pads), f, [1, *stride, 1], "VALID"), jit_compile=True)
    return conv(x, filters).numpy()


@pytest.mark.parametrize("kernel, stride, depthwise, causal", [
    ((3, 3, 3), (1, 1, 1), True, False), ((5, 3, 3), (1, 2, 2), True, False), ((5, 3, 3), (1, 2, 2), True, True),
    ((3, 3, 3), (2, 2, 2), True, False), ((7, 1, 1), (1, 1, 1), True, True), ((1, 5, 5), (1, 2, 2), True, False),
    ((3, 3, 3), (1, 2, 2), False, False), ((3, 1, 1), (2, 1, 1), False, False), ((1, 3, 3), (1, 1, 1), False, True),
])
def test_spatiotemporal_conv_equals_conv3d(kernel, stride, depthwise, causal):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(2, 7, 11, 10, 6)), tf.float32)
    layer = SpatioTemporalConv(None if depthwise else 5, kernel, stride, depthwise, "causal" if causal else "same")
    ours = layer(x).numpy()
    expected = _reference_conv3d(x, layer.kernel.numpy(), stride, depthwise, causal)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_base_model_output_and_dict_call_rejected():
    model = build_model(preset("t0"), num_classes=7)
    logits = model(tf.random.uniform([2, 4, 48, 48, 3]))
    assert logits.shape == (2, 7) and logits.dtype == tf.float32
    with pytest.raises(SpecError, match="only causal specs stream"):
        model({"image": tf.zeros([1, 1, 32, 32, 3])})
    with pytest.raises(SpecError, match="init_states needs a causal"):
        model.init_states([1, 1, 32, 32, 3])


def _stream(model, video, chunk):
    states = model.init_states(video.shape)
    outputs = []
    for start in range(0, video.shape[1], chunk):
        logits, states = model({**states, "image": video[:, start:start + chunk]})
        outputs.append(logits.numpy())
    return outputs, states


@pytest.mark.parametrize("make_spec", [
    lambda: preset("t0", stream=True),
    lambda: preset("a0", stream=True).replace(positional_encoding=True),
    lambda: preset("t0", stream=True).replace(conv_type="3d", se_type="3d"),
    lambda: preset("t0", stream=True).replace(conv_type="3d_2plus1d"),
] + [lambda seed=seed: random_spec(seed, causal=True) for seed in range(3)])
def test_streaming_matches_whole_clip(make_spec):
    spec = make_spec()
    model = build_model(spec, num_classes=10)
    randomize_weights(model, seed=1)
    video = tf.constant(np.random.default_rng(2).uniform(size=(2, 6, 40, 40, 3)), tf.float32)
    whole = model(video).numpy()
    frames, states = _stream(model, video, chunk=1)
    chunks, _ = _stream(model, video, chunk=4)
    np.testing.assert_allclose(frames[-1], whole, atol=1e-4)
    np.testing.assert_allclose(chunks[-1], whole, atol=1e-4)
    # Each frame's logits equal the whole-clip logits of the prefix ending there.
    np.testing.assert_allclose(frames[2], model(video[:, :3]).numpy(), atol=1e-4)
    expected = model.init_states(video.shape)
    assert set(states) == set(expected)
    for name, value in states.items():
        assert tuple(value.shape) == tuple(expected[name].shape), name
        assert value.dtype == expected[name].dtype, name


def test_stream_frame_counts_and_buffers_advance():
    model = build_model(preset("t0", stream=True).replace(positional_encoding=True), num_classes=5)
    video = tf.random.uniform([1, 3, 32, 32, 3])
    _, states = _stream(model, video, chunk=1)
    assert int(states["state_head_pool_frame_count"][0]) == 3
    assert int(states["state_block0_layer0_pos_enc_frame_count"][0]) == 3
    assert states["state_block1_layer0_stream_buffer"].shape[1] == 2


def test_stochastic_depth_and_dropout_only_in_training():
    model = build_model(preset("t0"), num_classes=5, options=ModelOptions(dropout_rate=0.5, stochastic_depth_rate=0.5))
    randomize_weights(model)
    video = tf.random.uniform([2, 4, 32, 32, 3])
    np.testing.assert_allclose(model(video, training=False), model(video, training=False))
    assert not np.allclose(model(video, training=True), model(video, training=True))


def test_weight_decay_adds_losses():
    model = build_model(preset("t0"), num_classes=5, options=ModelOptions(weight_decay=1e-4))
    model(tf.zeros([1, 1, 32, 32, 3]))
    assert len(model.losses) > 0


def test_get_config_round_trip_rebuilds_the_same_model():
    options = ModelOptions(dropout_rate=0.3, stochastic_depth_rate=0.1, weight_decay=1e-4, bn_momentum=0.9)
    model = build_model(preset("t0", stream=True), num_classes=7, options=options)
    randomize_weights(model, seed=5)
    config = model.get_config()
    rebuilt = type(model).from_config(config)
    rebuilt(tf.zeros([1, 1, 8, 8, 3]))
    rebuilt.set_weights(model.get_weights())
    assert rebuilt.spec == model.spec and rebuilt.options == options and rebuilt.num_classes == 7
    video = tf.random.uniform([1, 3, 32, 32, 3], seed=2)
    np.testing.assert_array_equal(rebuilt(video).numpy(), model(video).numpy())
    # Keras' own serialisation of the registered class goes through the same config.
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert revived.spec == model.spec and revived.options == options


def test_stream_states_keep_their_dtype_under_mixed_precision():
    # A streaming loop feeds each step's states back in: under a 16-bit compute policy they must
    # come back with the dtypes init_states gave (float32 buffers and running sums, int32 counts).
    # bfloat16 is the CPU's mixed policy (TensorFlow has no CPU float16 kernels for some ops).
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model(preset("t0", stream=True).replace(positional_encoding=True), num_classes=5)
        randomize_weights(model, seed=3)
        video = tf.random.uniform([1, 4, 32, 32, 3], seed=6)
        frames, states = _stream(model, video, chunk=1)
        expected = model.init_states(video.shape)
        assert {name: value.dtype for name, value in states.items()} == \
            {name: value.dtype for name, value in expected.items()}
        assert {value.dtype for value in expected.values()} == {tf.float32, tf.int32}
        np.testing.assert_allclose(frames[-1], model(video).numpy(), atol=5e-2, rtol=5e-2)
    finally:
        keras.mixed_precision.set_global_policy("float32")
