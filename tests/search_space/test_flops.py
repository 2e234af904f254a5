"""Analytic FLOPs and parameters against the official counts and TensorFlow's profiler."""
from __future__ import annotations

import json

import pytest
from tf_profiler import profile_flops

from conftest import REFERENCE, missing, random_spec
from search_space import PRESET_NAMES, build_model, count_flops, preset


def _official():
    path = REFERENCE / "official_models.json"
    if not path.exists():
        missing(f"official reference numbers not found at {path}")
    return json.loads(path.read_text())


def test_presets_match_official_counts():
    reference = _official()
    for row in reference["base"]:
        cost = count_flops(preset(row["model_id"]), row["frames"], row["size"])
        assert cost.params == row["params"], row["model_id"]
        assert cost.macs == row["conv_matmul_macs"], row["model_id"]
        assert cost.gflops * 1e9 == pytest.approx(row["raw_over_2"], rel=0.01), row["model_id"]
    for name, params in reference["stream_params_600_classes"].items():
        assert count_flops(preset(name, stream=True)).params == params, name


def test_a0_paper_shape_numbers():
    cost = count_flops(preset("a0"), frames=50, resolution=172)
    assert cost.params == 3_126_071
    assert cost.gflops == pytest.approx(2.774, rel=0.01)
    assert sum(cost.layers.values()) == pytest.approx(cost.gflops)


def _assert_matches_profiler(spec, frames, resolution):
    model = build_model(spec, num_classes=600)
    cost = count_flops(spec, frames, resolution)
    assert cost.params == model.count_params()
    profiled = profile_flops(model, (1, frames, resolution, resolution, 3)) / 2
    assert cost.gflops * 1e9 == pytest.approx(profiled, rel=0.01)


_LARGE = ("a1", "a2", "a3", "a4", "a5")  # 10-40 s each to build and profile: slow; a0 and t0 run in CI


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in _LARGE else n for n in PRESET_NAMES])
@pytest.mark.parametrize("stream", [False, True])
def test_presets_match_profiler(name, stream):
    _assert_matches_profiler(preset(name, stream=stream), frames=5, resolution=64)


@pytest.mark.parametrize("seed", [0, 1, 2] + [pytest.param(s, marks=pytest.mark.slow) for s in range(3, 8)])
def test_random_specs_match_profiler(seed):
    spec = random_spec(seed)
    _assert_matches_profiler(spec, frames=spec.input.frames, resolution=spec.input.resolution)
