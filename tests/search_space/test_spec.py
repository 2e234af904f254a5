"""Specs as data: presets, YAML round trips, validation that names the field, streaming variants."""
from __future__ import annotations

import pytest
import yaml

from search_space import (
    PRESET_NAMES,
    ArchSpec,
    LayerSpec,
    SpecError,
    UserError,
    load_arch,
    preset,
    streaming_variant,
)
from search_space.rounding import make_divisible
from search_space.walk import walk


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("stream", [False, True])
def test_preset_yaml_round_trip(tmp_path, name, stream):
    spec = preset(name, stream=stream)
    path = tmp_path / "spec.yaml"
    spec.to_yaml(path)
    assert ArchSpec.from_yaml(path) == spec
    assert load_arch(str(path)) == spec


def test_official_block_specs_a0():
    spec = preset("a0")
    assert [b.filters for b in spec.blocks] == [8, 32, 56, 56, 104]
    assert [len(b.layers) for b in spec.blocks] == [1, 3, 3, 4, 4]
    assert spec.blocks[2].layers[0] == LayerSpec(expand=184, kernel=(5, 3, 3), stride=(1, 2, 2))
    assert all(layer.stride == (1, 1, 1) for layer in spec.blocks[3].layers)  # block 4 never strides
    assert (spec.head.project_filters, spec.head.head_filters) == (480, 2048)
    assert (spec.input.frames, spec.input.resolution, spec.input.frame_stride) == (50, 172, 5)


def test_stream_presets_follow_official_settings():
    a0, a3 = preset("a0", stream=True), preset("a3", stream=True)
    assert (a0.causal, a0.conv_type, a0.se_type, a0.activation, a0.gating_activation) == (
        True, "2plus1d", "2plus3d", "hard_swish", "hard_sigmoid")
    assert not a0.positional_encoding and a3.positional_encoding
    assert a0.head.activation == "swish"
    assert [len(b.layers) for b in preset("a5").blocks] == [6, 11, 13, 11, 18]


def test_layer_counts_of_all_presets():
    expected = {"a0": 15, "a1": 24, "a2": 26, "a3": 33, "a4": 47, "a5": 59, "t0": 14}
    assert {name: len(preset(name).layers) for name in PRESET_NAMES} == expected


def test_walk_sizes_and_se_width():
    geometry = walk(preset("a0"), 50, 172, 172)
    assert geometry.stem_size.h == 86 and geometry.head_size.h == 6 and geometry.head_size.t == 50
    assert geometry.layers[0].se_hidden == 8 and geometry.layers[1].se_hidden == 24
    assert walk(preset("a0", stream=True)).layers[0].se_hidden == 16
    assert make_divisible(20) == 24 and make_divisible(12) == 16 and make_divisible(6) == 8


def test_unknown_preset():
    with pytest.raises(SpecError, match="unknown preset 'a9'"):
        preset("a9")


def _with_layer(spec, **changes):
    first = spec.blocks[0]
    layer = LayerSpec(**{**first.layers[0].__dict__, **changes})
    blocks = (type(first)(first.filters, (layer,) + first.layers[1:]),) + spec.blocks[1:]
    return spec.replace(blocks=blocks)


@pytest.mark.parametrize("changes, message", [
    (dict(kernel=(2, 3, 3)), r"blocks\[0\].layers\[0\].kernel: sizes must be odd"),
    (dict(expand=0), r"blocks\[0\].layers\[0\].expand: must be a positive integer"),
    (dict(stride=(1, 3, 3)), r"blocks\[0\].layers\[0\].stride: each stride must be 1 or 2"),
    (dict(stride=(1, 2, 1)), r"height and width strides must match"),
    (dict(kernel=(3, 3)), r"kernel: must be 3 positive integers"),
])
def test_invalid_layer_values(changes, message):
    with pytest.raises(SpecError, match=message):
        _with_layer(preset("a0"), **changes)


def test_invalid_top_level_values():
    spec = preset("a0")
    with pytest.raises(SpecError, match="conv_type: '4d' is not one of"):
        spec.replace(conv_type="4d")
    with pytest.raises(SpecError, match="positional_encoding: only causal"):
        spec.replace(positional_encoding=True)
    with pytest.raises(SpecError, match="blocks: a MoViNet has 5 blocks, got 4"):
        spec.replace(blocks=spec.blocks[:4])
    with pytest.raises(SpecError, match="input.resolution: 16 is smaller than the total spatial stride 32"):
        spec.replace(input=type(spec.input)(frames=8, resolution=16))
    with pytest.raises(SpecError, match="cannot stride in time"):
        _with_layer(preset("a0", stream=True), stride=(2, 2, 2))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["blocks"][1]["layers"][0].update(expand="80"), r"blocks\[1\].layers\[0\].expand: must be an integer, got str"),
    (lambda d: d.update(causal="yes"), r"causal: must be true or false"),
    (lambda d: d["stem"].update(kernal=[1, 3, 3]), r"stem.kernal: unknown field"),
    (lambda d: d.pop("head"), r"head: missing required field"),
    (lambda d: d.update(blocks={"a": 1}), r"blocks: must be a list"),
    (lambda d: d["blocks"][4]["layers"][0].update(kernel=[5, 3]), r"blocks\[4\].layers\[0\].kernel: must be a list of 3"),
    (lambda d: d["input"].update(frames=1.5), r"input.frames: must be an integer, got float"),
])
def test_yaml_errors_name_the_field(tmp_path, mutate, message):
    data = preset("a0").to_dict()
    mutate(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match=message):
        ArchSpec.from_yaml(path)


def test_malformed_and_missing_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(UserError, match="broken.yaml:2: not valid YAML"):
        ArchSpec.from_yaml(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(SpecError, match="expected a mapping"):
        ArchSpec.from_yaml(path)
    with pytest.raises(UserError, match="spec file not found"):
        ArchSpec.from_yaml(tmp_path / "absent.yaml")


def test_streaming_variant_of_any_spec():
    spec = _with_layer(preset("t0"), stride=(2, 2, 2))
    stream = streaming_variant(spec)
    assert stream.causal and stream.layers[0].stride == (1, 2, 2) and stream.name == "t0_stream"
    assert streaming_variant(stream) is stream


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
