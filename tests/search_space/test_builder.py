"""The one Keras builder: 3D kernels from 2D ops, streaming equals the whole clip, states, batch norm."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import random_spec, randomize_weights, tiny_spec
from search_space import (
    EnsembleSpec,
    InputSpec,
    ModelOptions,
    SpecError,
    build_model,
    count_flops,
    preset,
)
from search_space.keras.layers import BatchNorm, SpatioTemporalConv


def _reference_conv3d(x, kernel, stride, depthwise, causal):
    """Grouped/full tf.nn.conv3d under XLA with explicit 'same' or causal padding."""
    kt, kh, kw = kernel.shape[:3]
    pads = [[0, 0]]
    for axis, (k, s) in enumerate(zip((kt, kh, kw), stride)):
        n = x.shape[axis + 1]
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads.append([total, 0] if (axis == 0 and causal) else [total // 2, total - total // 2])
    pads.append([0, 0])
    return tf.nn.conv3d(tf.pad(x, pads), kernel[..., None, :] if depthwise else kernel, [1, *stride, 1], "VALID")


def _with_gradients(conv, x, kernel):
    """Output and the gradients of a fixed random projection of it w.r.t. input and kernel."""
    with tf.GradientTape() as tape:
        tape.watch([x, kernel])
        y = conv(x, kernel)
        projection = tf.reshape(tf.sin(tf.range(tf.size(y), dtype=tf.float32)), tf.shape(y))  # same under XLA
        loss = tf.reduce_sum(y * projection)
    return [y, *tape.gradient(loss, [x, kernel])]


@pytest.mark.parametrize("kernel, stride, depthwise, causal, size", [
    ((3, 3, 3), (1, 1, 1), True, False, (11, 10)), ((5, 3, 3), (1, 2, 2), True, False, (11, 10)),
    ((5, 3, 3), (1, 2, 2), True, True, (11, 10)), ((3, 3, 3), (2, 2, 2), True, False, (11, 10)),
    ((7, 1, 1), (1, 1, 1), True, True, (11, 10)), ((1, 5, 5), (1, 2, 2), True, False, (11, 10)),
    ((3, 3, 3), (1, 2, 2), False, False, (11, 10)), ((3, 1, 1), (2, 1, 1), False, False, (11, 10)),
    ((1, 3, 3), (1, 1, 1), False, True, (11, 10)),
    # one pixel (only the centre tap counts) and two pixels, where the fast paths differ
    ((5, 3, 3), (1, 1, 1), True, False, (1, 1)), ((1, 5, 5), (1, 2, 2), True, False, (1, 1)),
    ((3, 3, 3), (1, 1, 1), True, True, (2, 2)),
])
def test_spatiotemporal_conv_equals_conv3d(kernel, stride, depthwise, causal, size):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(2, 7, *size, 6)), tf.float32)
    layer = SpatioTemporalConv(None if depthwise else 5, kernel, stride, depthwise, "causal" if causal else "same")
    layer.build(x.shape)
    got = tf.function(lambda a: _with_gradients(lambda i, _: layer(i), a, layer.kernel.value))(x)
    expected = tf.function(lambda a, w: _with_gradients(
        lambda i, k: _reference_conv3d(i, k, stride, depthwise, causal), a, w), jit_compile=True)(
        x, tf.constant(layer.kernel.numpy()))
    assert got[0].shape == expected[0].shape
    for name, a, b in zip(("output", "input gradient", "kernel gradient"), got, expected):
        # 1e-5 relative to the tensor's scale: sums of ~100 float32 terms in another order
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5 * np.abs(b).max(), rtol=1e-5, err_msg=name)


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


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_each_stateful_layer_declares_exactly_its_states(seed):
    # The layers' declared states (what each receives) partition the states `init_states` makes
    # from the walk: no state is threaded to a layer that does not own it, none is missing.
    spec = random_spec(seed, causal=True)
    model = build_model(spec, num_classes=4)
    owners = [model.stem, *model.bottlenecks, model.head]
    declared = [name for owner in owners for name in owner.state_names]
    assert len(declared) == len(set(declared))
    assert set(declared) == set(model.init_states([1, 2, 64, 64, 3]))


def test_stochastic_depth_and_dropout_only_in_training():
    model = build_model(preset("t0"), num_classes=5, options=ModelOptions(dropout_rate=0.5, stochastic_depth_rate=0.5))
    randomize_weights(model)
    video = tf.random.uniform([2, 4, 32, 32, 3])
    np.testing.assert_allclose(model(video, training=False), model(video, training=False))
    assert not np.allclose(model(video, training=True), model(video, training=True))


def test_weight_decay_is_l2_of_every_kernel_but_the_classifiers():
    model = build_model(preset("t0"), num_classes=5, options=ModelOptions(weight_decay=1e-4))
    model(tf.zeros([1, 1, 32, 32, 3]))
    kernels = [v for v in model.trainable_variables if v.path.endswith("kernel") and "classifier/classifier" not in v.path]
    expected = sum(1e-4 * float(tf.reduce_sum(tf.square(v))) for v in kernels)
    assert float(tf.add_n(model.losses)) == pytest.approx(expected, rel=1e-5)


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


def _keras_batch_norm(monkeypatch):
    """Within the test, every BatchNorm trains through Keras' own (unfused) code."""
    monkeypatch.setattr(BatchNorm, "call", lambda self, *args, **kwargs: keras.layers.BatchNormalization.call(
        self, *args, **kwargs))


@pytest.mark.parametrize("shape", [(2, 3, 5, 5, 8), (4, 7, 7, 16), (3, 2, 1, 1, 32)])
def test_fused_batch_norm_trains_like_keras(shape, monkeypatch):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(1.0, 3.0, shape), tf.float32)
    results = []
    for fused in (True, False):
        layer = BatchNorm(momentum=0.9, epsilon=1e-3)
        layer.build(shape)
        layer.gamma.assign(rng.uniform(0.5, 1.5, shape[-1]).astype("float32") if fused else results[0][-1][0])
        layer.beta.assign(rng.normal(size=shape[-1]).astype("float32") if fused else results[0][-1][1])
        if not fused:
            _keras_batch_norm(monkeypatch)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * tf.sin(y))
        grads = tape.gradient(loss, [x, layer.gamma.value, layer.beta.value])
        values = [y, *grads, layer.moving_mean, layer.moving_variance, layer(x, training=False)]
        results.append([np.asarray(v) for v in values] + [(layer.gamma.numpy(), layer.beta.numpy())])
    names = ("output", "input gradient", "gamma gradient", "beta gradient", "moving mean", "moving variance",
             "inference output")
    for name, a, b in zip(names, results[0], results[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max(), err_msg=name)


def test_model_gradients_with_fused_batch_norm_match_keras(monkeypatch):
    model = build_model(preset("t0"), num_classes=10, options=ModelOptions(dropout_rate=0.0, stochastic_depth_rate=0.0))
    randomize_weights(model, seed=1)
    x, y = tf.random.uniform([2, 6, 48, 48, 3], seed=1), tf.constant([1, 3])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def gradients():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        return [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]

    fused = gradients()
    _keras_batch_norm(monkeypatch)
    plain = gradients()
    scale = max(np.abs(g).max() for g in plain)
    # Relative to the largest gradient: some betas feed straight into another batch norm, which
    # removes them, so their exact gradient is 0 and both sides hold rounding noise (~1e-9).
    for variable, a, b in zip(model.trainable_variables, fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * scale, err_msg=variable.path)


def test_ensemble_averages_members_at_their_own_input_shapes(tmp_path):
    import tensorflow as tf

    from conftest import randomize_weights
    from search_space import build_model
    from search_space.keras.ensemble_model import resample_clip

    spec = EnsembleSpec("pair", (tiny_spec("small", 3, 32), tiny_spec("large", 5, 48)))
    assert spec.input == InputSpec(5, 48, 2)
    model = build_model(spec, num_classes=4)
    randomize_weights(model, seed=7)
    clip = tf.random.uniform([2, 5, 48, 48, 3], seed=3)
    small, large = model.members
    expected = (small(resample_clip(clip, 3, 32)) + large(clip)) / 2
    np.testing.assert_allclose(model(clip).numpy(), expected.numpy(), atol=1e-6)
    assert resample_clip(clip, 3, 32).shape == (2, 3, 32, 32, 3)
    np.testing.assert_array_equal(resample_clip(clip, 3, 48)[:, 1].numpy(), clip[:, 2].numpy())  # frames 0, 2, 4
    cost = count_flops(spec, num_classes=4)
    assert cost.gflops == pytest.approx(count_flops(spec.members[0], num_classes=4).gflops
                                        + count_flops(spec.members[1], num_classes=4).gflops)
    assert cost.params == model.count_params()
