"""Zero-cost proxies: deterministic, and moved by what each claims to read."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from conftest import one_layer_t0

CLASSES = 5


def _batch(n: int = 6):
    rng = np.random.default_rng(0)
    return rng.random([n, 4, 32, 32, 3], dtype=np.float32), rng.integers(0, CLASSES, n)


def _scores(spec, clips=None, labels=None):
    from proxies.zero_cost import zero_cost_scores

    batch = _batch()
    return zero_cost_scores(spec, batch[0] if clips is None else clips, batch[1] if labels is None else labels,
                            CLASSES)


def _each_layer(spec, change):
    """`spec` with `change(layer)` (a dict of new field values) applied to every bottleneck."""
    return spec.replace(blocks=tuple(
        dataclasses.replace(b, layers=tuple(dataclasses.replace(layer, **change(layer)) for layer in b.layers))
        for b in spec.blocks))


@pytest.fixture(scope="module")
def base():
    return _scores(one_layer_t0())


def test_scores_are_finite_and_repeat_exactly(base):
    assert all(math.isfinite(v) for v in base.values()) and base["grad_norm"] > 0
    assert _scores(one_layer_t0()) == base


def test_every_score_reads_the_residual_branches(base):
    # ReZero starts at 0, which shuts every branch: with it left shut, a score could not see a
    # bottleneck's kernel and these two networks would tie on all four.
    other = _scores(_each_layer(one_layer_t0(), lambda layer: {"kernel": (1, 5, 5)}))
    assert all(abs(other[k] - base[k]) > 1e-6 * max(1.0, abs(base[k])) for k in base), (base, other)


def test_wider_expansions_carry_more_signal_and_information(base):
    wide = _scores(_each_layer(one_layer_t0(), lambda layer: {"expand": 4 * layer.expand}))
    assert wide["synflow"] > base["synflow"] and wide["entropy"] > base["entropy"]


def test_naswot_cannot_tell_a_clip_from_its_copy():
    # Two identical clips give identical activation patterns: two equal rows, a singular kernel.
    clips, labels = _batch()
    clips[1] = clips[0]
    assert _scores(one_layer_t0(), clips, labels)["naswot"] == -math.inf
