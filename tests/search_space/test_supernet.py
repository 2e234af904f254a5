"""The weight-sharing supernet: every sub-network it runs is the standalone network of that point.

The equivalence is what one-shot search rests on: a score inherited from the supernet is the
score of a real `MoViNet` of the sampled spec, which can then be exported or fine-tuned.
"""
import dataclasses
import random

import numpy as np
import pytest

from search_space import SearchSpace, SpecError

tf = pytest.importorskip("tensorflow")

from search_space.keras.supernet import SuperNet, kernel_type  # noqa: E402

# Small widths, two depths per block, every kernel type: each mask, path and skip form occurs.
TINY = dataclasses.replace(
    SearchSpace(), stem_widths=(8, 16), block_widths=((8, 16), (16, 24), (16, 24), (24, 32), (32, 40)),
    depths=((1, 2),) * 5, kernels=("1x3x3", "1x5x5", "3x3x3", "5x3x3", "5x1x1", "3x1x1"), head_widths=(32, 48),
    head_filters=64, resolutions=(32,))


def _randomised(net: SuperNet, seed: int) -> SuperNet:
    """Batch-norm statistics, biases and residual scales away from their initial values, so a
    wrong slice or a missed mask changes the logits."""
    rng = np.random.default_rng(seed)
    for weight in net.weights:
        if any(key in weight.path for key in ("rezero", "moving_variance", "gamma")):
            weight.assign(rng.uniform(0.5, 1.5, weight.shape).astype("float32"))
        elif any(key in weight.path for key in ("moving_mean", "beta", "bias")):
            weight.assign(rng.normal(0.0, 0.2, weight.shape).astype("float32"))
    return net


@pytest.fixture(scope="module")
def tiny_net():
    # No dropout: training mode is then deterministic, which the calibration test compares with.
    return _randomised(SuperNet(TINY, 5, {"dropout_rate": 0.0}).build_weights(), 0)


def test_kernel_types():
    assert [kernel_type(k) for k in ((1, 3, 3), (5, 1, 1), (3, 3, 3))] == ["spatial", "temporal", "spatiotemporal"]
    widest = TINY.widest_params()
    assert widest["stem_width"] == 16 and widest["block4_width"] == 40 and widest["block0_depth"] == 2


def test_encode_decode_round_trip(tiny_net):
    params = TINY.sample(random.Random(3))
    assert tiny_net.decode(tiny_net.encode(params)) == params


def test_subnetworks_compute_the_standalone_networks_logits(tiny_net):
    """Random points, one with equal widths across a block boundary (the identity skip):
    the supernet's logits and those of the standalone network holding the copied weights
    agree to float32 rounding."""
    clips = tf.constant(np.random.default_rng(1).uniform(0, 1, (2, 8, 32, 32, 3)).astype("float32"))
    rng = random.Random(1)
    for k in range(4):
        params = TINY.sample(rng)
        if k == 0:
            params["block2_width"] = params["block1_width"]
        choice = tiny_net.encode(params)
        shared = tiny_net((clips, choice), training=False).numpy()
        alone = tiny_net.subnetwork(choice)(clips, training=False).numpy()
        assert np.abs(shared - alone).max() < 1e-4 * max(1.0, np.abs(alone).max()), params


def test_calibrate_sets_statistics_of_the_batch(tiny_net):
    """After `calibrate`, inference uses the calibration batch's own statistics: the
    inference logits of that batch equal its training-mode (batch statistics) logits."""
    clips = tf.constant(np.random.default_rng(2).uniform(0, 1, (8, 8, 32, 32, 3)).astype("float32"))
    choice = tiny_net.encode(TINY.sample(random.Random(5)))
    before = tiny_net((clips, choice), training=False).numpy()
    tiny_net.calibrate(clips, choice)
    after = tiny_net((clips, choice), training=False).numpy()
    batch_stats = tiny_net((clips, choice), training=True).numpy()
    assert np.abs(after - batch_stats).max() < 1e-2 * max(1.0, np.abs(batch_stats).max())
    assert np.abs(before - batch_stats).max() > 10 * np.abs(after - batch_stats).max()
    assert tiny_net.bottlenecks[0].expansion.bn.momentum != 0.0  # training keeps its momentum


def test_one_input_shape_only():
    with pytest.raises(SpecError, match="one input shape"):
        SuperNet(dataclasses.replace(TINY, resolutions=(32, 48)), 5)
