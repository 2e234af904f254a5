"""Compound scaling as spec in, spec out: rules, phi, targets, depth scaling, scaled spaces."""
from __future__ import annotations

import numpy as np
import pytest

from scaling import (
    Compound,
    Greedy,
    WidthDominant,
    emit_family,
    official_targets,
    parse_rule,
    parse_targets,
    scale,
    scale_layers,
    scale_space,
    scale_to,
)
from search_space import (
    ArchSpec,
    BlockSpec,
    LayerSpec,
    SearchSpace,
    SpecError,
    UserError,
    count_flops,
    preset,
)

RULES = [Compound(), WidthDominant(), Greedy(("frames", "width", "depth", "resolution")), Compound(1.1, 1.2, 1.0, 1.0)]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_phi_zero_is_the_identity(rule):
    for name in ("a0", "a2", "t0"):
        assert scale(preset(name), rule, 0.0) == preset(name)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_scaled_specs_are_valid_for_any_phi(rule):
    for phi in np.arange(-3.0, 4.01, 0.5):
        spec = scale(preset("a2"), rule, float(phi))
        widths = [spec.stem.filters, spec.head.project_filters] + [b.filters for b in spec.blocks] + [
            layer.expand for layer in spec.layers]
        assert all(w > 0 and w % 8 == 0 for w in widths), (phi, widths)
        assert all(len(b.layers) >= 1 for b in spec.blocks)
        assert spec.input.resolution % 4 == 0 and spec.input.frames >= 1
        # strides stay where the released models have them: first layer of blocks 0, 1, 2 and 4
        assert [b.layers[0].stride for b in spec.blocks] == [b.layers[0].stride for b in preset("a2").blocks]
        assert all(layer.stride == (1, 1, 1) for b in spec.blocks for layer in b.layers[1:])


def test_cost_grows_with_phi():
    costs = [count_flops(scale(preset("a2"), Compound(), phi)).gflops for phi in (-2, -1, 0, 1, 2)]
    assert costs == sorted(costs) and costs[3] / costs[2] == pytest.approx(2.0, rel=0.25)


@pytest.mark.parametrize("inputs", ["official", "rule"])
def test_every_default_target_within_three_percent(inputs):
    members = emit_family(preset("a2"), Compound(), official_targets(), inputs)
    assert [t.name for t, _ in members] == ["a0", "a1", "a2", "a3", "a4", "a5", "a6"]
    for target, scaled in members:
        assert abs(scaled.deviation) <= 0.03, (target.name, scaled.deviation)
        assert count_flops(scaled.spec).gflops == pytest.approx(scaled.gflops)
        if inputs == "official":
            assert (scaled.spec.input.frames, scaled.spec.input.resolution) == (target.input.frames,
                                                                                target.input.resolution)
    a6 = dict((t.name, t) for t, _ in members)["a6"]
    assert a6.gflops == pytest.approx(count_flops(preset("a4")).gflops + count_flops(preset("a5")).gflops)


def test_scale_to_other_rules_and_tiny_targets():
    base = preset("a0")
    for rule in (WidthDominant(), Greedy(("frames", "width"))):
        for target in (1.0, 2.0, 20.0):
            assert abs(scale_to(base, rule, target).deviation) <= 0.03


def test_depth_scaling_repeats_in_place_and_keeps_the_strided_first_layer():
    first = LayerSpec(16, (5, 3, 3), (1, 2, 2))
    a, b, c = (LayerSpec(16 * i, (3, 3, 3)) for i in (2, 3, 4))
    block = BlockSpec(32, (first, a, b, c))
    assert scale_layers(block, 7).layers == (first, a, a, b, b, c, c)
    assert scale_layers(block, 3).layers == (first, a, b)
    assert scale_layers(block, 1).layers == (first,)
    single = scale_layers(BlockSpec(32, (first,)), 3).layers
    assert single[0] == first and single[1:] == (LayerSpec(16, (5, 3, 3), (1, 1, 1)),) * 2


def test_base_space_scaled_by_three_quarters_has_a2_widths():
    paper_base = SearchSpace(stem_widths=(16,), block_widths=((24,), (48,), (96,), (96,), (192,)), head_widths=(512,))
    scaled = scale_space(paper_base, Compound(1.0, 0.75, 1.0, 1.0), 1.0, rounding="nearest")
    a2 = preset("a2")
    assert scaled.stem_widths == (a2.stem.filters,)
    assert [w[0] for w in scaled.block_widths] == [b.filters for b in a2.blocks]  # 16, 40, 72, 72, 144
    with_floor = scale_space(paper_base, Compound(1.0, 0.75, 1.0, 1.0), 1.0)
    assert with_floor.block_widths[0] == (24,)  # EfficientNet's 90% floor turns 18 into 24, not 16


def test_scaled_space_grows_depth_beyond_ten_and_keeps_the_proxy_input():
    space = SearchSpace()
    scaled = scale_space(space, Compound(), 3.0, scale_input=False)
    assert max(scaled.depths[4]) > 10 and scaled.frames == space.frames and scaled.resolutions == space.resolutions
    assert min(scaled.block_widths[4]) > min(space.block_widths[4])
    assert scale_space(space, Compound(), 0.0) is space


def test_emitted_specs_round_trip_and_build(tmp_path):
    from search_space import build_model

    for target, scaled in emit_family(preset("a2"), Compound(), official_targets(["a0", "a3"])):
        path = tmp_path / f"{target.name}.yaml"
        scaled.spec.to_yaml(path)
        assert ArchSpec.from_yaml(path) == scaled.spec
    model = build_model(ArchSpec.from_yaml(tmp_path / "a0.yaml"), num_classes=5)
    assert model.count_params() == count_flops(ArchSpec.from_yaml(tmp_path / "a0.yaml"), num_classes=5).params


def test_rules_and_targets_parse_with_clear_errors():
    assert parse_rule("compound:1.2,1.1,1.15,1") == Compound(1.2, 1.1, 1.15, 1.0)
    assert parse_rule("x3d:frames,width").path == ("frames", "width")
    for text, message in (("dwr:0.5,0.5,0.5,0", "sum to 1"), ("x3d:height", "'height' is not one of"),
                          ("compound:a,b", "expected numbers"), ("efficient", "expected compound"),
                          ("fitted:/nowhere", "no fitted.json")):
        with pytest.raises(UserError, match=message):
            parse_rule(text)
    assert parse_targets("a0..a2,a6") == ["a0", "a1", "a2", "a6"]
    with pytest.raises(SpecError, match="t0 has no place"):
        parse_targets("t0")
