"""Compound scaling: rules, depth scaling, FLOP targets, scaled spaces, ensembles (A6)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
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
    EnsembleSpec,
    InputSpec,
    LayerSpec,
    SearchSpace,
    SpecError,
    UserError,
    count_flops,
    load_arch,
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


def _tiny(name: str, frames: int, resolution: int) -> ArchSpec:
    return preset("t0").replace(name=name, input=InputSpec(frames, resolution, 2))


def test_ensemble_averages_members_at_their_own_input_shapes(tmp_path):
    import tensorflow as tf

    from conftest import randomize_weights
    from search_space import build_model
    from search_space.keras.ensemble_model import resample_clip

    spec = EnsembleSpec("pair", (_tiny("small", 3, 32), _tiny("large", 5, 48)))
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


def test_a6_is_the_official_ensemble_in_yaml_and_by_name(tmp_path):
    a6 = load_arch("a6")
    assert [m.name for m in a6.members] == ["a4", "a5"] and a6.input == preset("a5").input
    (tmp_path / "a6.yaml").write_text("name: a6\nmembers: [a4, a5]\n")
    assert load_arch(str(tmp_path / "a6.yaml")) == a6
    (tmp_path / "bad.yaml").write_text("name: x\nmembers: [a4, a9]\n")
    with pytest.raises(SpecError, match=r"members\[1\]: preset: unknown preset 'a9'"):
        load_arch(str(tmp_path / "bad.yaml"))
    with pytest.raises(SpecError, match="no streaming variant"):
        load_arch("a6", stream=True)


def test_scale_command_writes_the_family(tmp_path):
    run = subprocess.run([sys.executable, str(REPO / "run_search.py"), "scale", "--base", "a2", "--targets", "a0..a6",
                          "--output", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    import pandas as pd

    family = pd.read_csv(tmp_path / "family.csv")
    assert family["member"].tolist() == ["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a6_ensemble"]
    assert family["deviation"].dropna().abs().max() <= 0.03
    assert (tmp_path / "family.png").stat().st_size > 1000
    assert isinstance(load_arch(str(tmp_path / "specs" / "a6_ensemble.yaml")), EnsembleSpec)


TINY_DATA = ["--epochs", "1", "--batch-size", "4", "--synthetic-classes", "3", "--synthetic-clips", "5"]


def _cli(*args):
    run = subprocess.run([sys.executable, str(REPO / "run_search.py"), *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.mark.e2e
def test_fit_compound_coefficients_by_proxy_training(tmp_path):
    import json

    import pandas as pd

    _cli("scale", "--fit", "--base", "t0", "--candidates", "2", "--fit-frames", "4", "--fit-resolution", "32",
         "--targets", "a0", "--output", str(tmp_path), *TINY_DATA)
    fit = pd.read_csv(tmp_path / "fit.csv")
    assert len(fit) == 2 and all(parse_rule(key).multipliers(1.0).cost == pytest.approx(product)  # replayable names
                                 for key, product in zip(fit["key"], fit["cost_product"]))
    assert fit["cost_product"].between(1.8, 2.2).all() and fit["top1"].between(0, 1).all()
    chosen = json.loads((tmp_path / "fitted.json").read_text())["chosen"]
    best = fit.set_index("key").loc[chosen["name"]]
    assert best["top1"] == fit["top1"].max() and chosen["depth"] == pytest.approx(best["depth"])
    assert parse_rule(f"fitted:{tmp_path}").depth == pytest.approx(best["depth"])
    assert abs(pd.read_csv(tmp_path / "family.csv")["deviation"].iloc[0]) <= 0.03  # a0 emitted with it
    assert (tmp_path / "fit.png").stat().st_size > 1000


@pytest.mark.e2e
def test_family_of_two_scaled_searches_on_a_two_node_cluster(tmp_path):
    # Two searches run as concurrent Ray tasks on a 2-node cluster, their trials on both nodes.
    import pandas as pd
    from ray.cluster_utils import Cluster

    space = SearchSpace(depths=((1, 2),) * 5, kernels=("1x3x3", "3x3x3"))
    space.to_yaml(tmp_path / "space.yaml")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    try:
        run = _cli("family", "--targets", "a0,a1", "--num-samples", "1", "--scheduler", "none", "--space",
                   str(tmp_path / "space.yaml"), "--output", str(tmp_path / "family"), "--address", cluster.address,
                   *TINY_DATA)
    finally:
        cluster.shutdown()
    family = pd.read_csv(tmp_path / "family" / "family.csv")
    nodes = {pd.read_csv(tmp_path / "family" / "searches" / m / "trials.csv")["node"].iloc[0] for m in ("a0", "a1")}
    assert len(nodes) == 2
    assert family["member"].tolist() == ["a0", "a1"] and "the family's specs in" in run.stdout
    for row in family.itertuples():  # the budget is each member's, at its published input shape
        target = dict((t.name, t) for t in official_targets([row.member]))[row.member]
        assert 0.9 * target.gflops <= row.gflops <= 1.1 * target.gflops  # at the member's own input shape
        assert (row.frames, row.resolution) == (target.input.frames, target.input.resolution)
        assert ArchSpec.from_yaml(tmp_path / "family" / "specs" / f"{row.member}.yaml").input == target.input
        searched = pd.read_csv(tmp_path / "family" / "searches" / row.member / "trials.csv")
        assert (searched["train_frames"] == 8).all() and (searched["frames"] == target.input.frames).all()
        assert isinstance(load_arch(str(tmp_path / "family" / "specs" / f"{row.member}.yaml")), ArchSpec)


def _train_family(tmp_path, members: dict[str, float]):
    import pandas as pd

    family = tmp_path / "family"
    (family / "specs").mkdir(parents=True)
    for name, phi in members.items():
        scale(_tiny(name, 4, 32), Compound(), phi).replace(name=name).to_yaml(family / "specs" / f"{name}.yaml")
    EnsembleSpec("pair", (_tiny("a", 4, 32), _tiny("b", 4, 32))).to_yaml(family / "specs" / "pair.yaml")
    command = ["train-family", "--family", str(family), "--epochs", "1", "--batch-size", "4", "--synthetic-classes",
               "3", "--synthetic-clips", "5", "--synthetic-frames", "8"]
    _cli(*command)
    results = pd.read_csv(family / "family_results.csv")
    assert results["member"].tolist() == list(members)  # by GFLOPs; the ensemble is not trained alone
    assert results["top1"].between(0, 1).all() and (family / "family_accuracy.png").stat().st_size > 1000
    return family, command


@pytest.mark.e2e
def test_train_family_trains_its_member(tmp_path):
    _train_family(tmp_path, {"small": -1.0})


@pytest.mark.slow
def test_train_family_trains_every_member_and_resumes(tmp_path):
    family, command = _train_family(tmp_path, {"small": -1.0, "large": 1.0})
    before = (family / "trained" / "small" / "result.json").stat().st_mtime
    _cli(*command, "--resume")
    assert (family / "trained" / "small" / "result.json").stat().st_mtime == before  # finished members are kept


@pytest.mark.slow
def test_x3d_expands_one_axis_per_step_by_proxy_training(tmp_path):
    import json

    import pandas as pd

    _cli("scale", "--rule", "x3d", "--steps", "1", "--base", "t0", "--fit-frames", "4", "--fit-resolution", "32",
         "--targets", "a0", "--output", str(tmp_path), *TINY_DATA)
    fit = pd.read_csv(tmp_path / "fit.csv")
    assert sorted(fit["axis"]) == sorted(["depth", "width", "resolution", "frames"])
    path = json.loads((tmp_path / "fitted.json").read_text())["chosen"]["path"]
    assert path == [fit.loc[fit["top1"].idxmax(), "axis"]]
    assert parse_rule(f"fitted:{tmp_path}") == Greedy(tuple(path))
