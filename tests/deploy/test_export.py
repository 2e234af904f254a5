"""Exports: TFLite and SavedModel reproduce the Keras logits (whole clips and every streamed
frame), with the official state names; float16 and int8 cost what they say; latency runs."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from conftest import randomize_weights
from deploy.export import export_network, exported_logits
from deploy.litert import LiteRTModel
from deploy.network import Network
from deploy.options import ExportOptions
from search_space import build_model, preset
from search_space.keras.states import state_shapes

RES = 32


def _network(stream: bool, seed: int = 1) -> Network:
    spec = preset("t0", stream=stream)
    model = build_model(spec.replace(input=spec.input.__class__(frames=6, resolution=RES, frame_stride=2)),
                        num_classes=5)
    randomize_weights(model, seed=seed)
    return Network(model, [f"c{i}" for i in range(5)], "test weights")


def _video(frames: int = 6) -> np.ndarray:
    return np.random.default_rng(3).uniform(0, 1, (1, frames, RES, RES, 3)).astype(np.float32)


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(a).max())


@pytest.fixture(scope="module")
def stream_export(tmp_path_factory):
    network = _network(stream=True)
    folder = tmp_path_factory.mktemp("stream") / "export"
    return network, folder, export_network(network, ExportOptions(stream=True, check_frames=6), folder)


def test_stream_tflite_reproduces_every_frame_with_official_state_names(stream_export):
    network, folder, manifest = stream_export
    model = LiteRTModel(folder / "model.tflite")
    names = set(state_shapes(network.spec, 1, RES, RES))
    assert set(model.inputs) == names | {"image"} and model.image_shape == (1, 1, RES, RES, 3)
    assert "state_block1_layer0_stream_buffer" in names
    video = _video()
    expected = np.stack([network.model.logits(video[:, :t + 1]).numpy()[0] for t in range(video.shape[1])])
    assert _relative(expected, model.frame_logits(video)) < 1e-4
    assert manifest["check"]["relative_error"] < 1e-4 and manifest["check"]["frames"] == 6
    assert (folder / "labels.txt").read_text().split() == network.class_names
    assert json.loads((folder / "export.json").read_text())["outputs"][0] == "logits"


def test_stream_saved_model_reproduces_every_frame(stream_export, tmp_path):
    network, folder, _ = stream_export
    options = ExportOptions(stream=True, format="saved_model")
    manifest = export_network(network, options, tmp_path / "sm")
    assert manifest["check"]["relative_error"] < 1e-4
    video = _video()
    assert _relative(LiteRTModel(folder / "model.tflite").frame_logits(video),
                     exported_logits(tmp_path / "sm", options, video)) < 1e-4


def test_states_4d_are_four_dimensional_with_the_same_numbers(stream_export, tmp_path):
    network, folder, _ = stream_export
    export_network(network, ExportOptions(stream=True, states_4d=True), tmp_path / "e")
    model = LiteRTModel(tmp_path / "e" / "model.tflite")
    assert model.image_shape == (1, 1, RES, RES, 3)
    assert all(len(shape) <= 4 for name, (shape, _) in model.inputs.items() if name != "image")
    video = _video()
    np.testing.assert_allclose(model.frame_logits(video), LiteRTModel(folder / "model.tflite").frame_logits(video),
                               rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def clip_export(tmp_path_factory):
    network = _network(stream=False)
    folder = tmp_path_factory.mktemp("clip") / "export"
    return network, folder, export_network(network, ExportOptions(), folder)


def test_clip_exports_reproduce_keras(clip_export, tmp_path):
    network, folder, manifest = clip_export
    video = _video()
    expected = network.model.logits(video).numpy()
    assert _relative(expected, exported_logits(folder, ExportOptions(), video)) < 1e-4
    assert manifest["inputs"] == {"image": {"shape": [1, 6, RES, RES, 3], "dtype": "float32"}}
    options = ExportOptions(format="saved_model")
    export_network(network, options, tmp_path / "sm")
    assert _relative(expected, exported_logits(tmp_path / "sm", options, video)) < 1e-4


def _op_counts(path) -> Counter:
    return Counter(op["op_name"] for op in LiteRTModel(path).interpreter._get_ops_details())


def test_quantised_exports_cost_what_they_say_and_int8_keeps_the_chosen_layers_in_float(clip_export, tmp_path):
    network, folder, float32 = clip_export
    half = export_network(network, ExportOptions(quantize="float16"), tmp_path / "f16")
    int8 = export_network(network, ExportOptions(quantize="int8", calibration="synthetic", calibration_clips=4),
                          tmp_path / "i8")
    assert 1e-6 < half["check"]["relative_error"] < 1e-2
    assert half["model_bytes"] < 0.6 * float32["model_bytes"]
    assert int8["check"]["clip"] == "calibration" and int8["check"]["relative_error"] < 0.2
    assert int8["model_bytes"] < 0.45 * float32["model_bytes"] and int8["float_ops"] == {}
    full_ops = _op_counts(tmp_path / "i8" / "model.tflite")
    assert full_ops["QUANTIZE"] and full_ops["DEQUANTIZE"]  # float interface, integer inside

    kept = export_network(network, ExportOptions(quantize="int8", calibration="synthetic", calibration_clips=4,
                                                 keep_float=("hard_swish", "squeeze_excite")), tmp_path / "kept")
    # t0's base model uses swish (its stream variant hard-swish): a kind the model lacks keeps nothing.
    assert kept["float_ops"]["hard_swish"] == 0 and kept["float_ops"]["squeeze_excite"] > 0
    kept_ops = _op_counts(tmp_path / "kept" / "model.tflite")
    # Every float island is entered and left through a (de)quantisation; the SE weights stay float32.
    assert kept_ops["DEQUANTIZE"] > full_ops["DEQUANTIZE"] and kept_ops["QUANTIZE"] > full_ops["QUANTIZE"]
    assert int8["model_bytes"] < kept["model_bytes"] < float32["model_bytes"]
    video = _video()
    reference = LiteRTModel(folder / "model.tflite").clip_logits(video)
    assert _relative(reference, LiteRTModel(tmp_path / "kept" / "model.tflite").clip_logits(video)) < 0.2


def test_official_stream_fixture_exports_with_its_recorded_logits(official_dir, tmp_path):
    from deploy.network import load_network

    network = load_network(arch="a0", checkpoint=official_dir / "a0_stream" / "ckpt-1", num_classes=600, stream=True)
    io = np.load(official_dir / "a0_stream" / "io.npz")
    export_network(network, ExportOptions(stream=True, resolution=64, check_frames=2), tmp_path / "e")
    frames = LiteRTModel(tmp_path / "e" / "model.tflite").frame_logits(io["video"][:1])
    assert _relative(io["frame_logits"][0], frames) < 1e-4


@pytest.mark.slow
def test_official_base_fixture_exports_with_its_recorded_logits(official_dir, tmp_path):
    from deploy.network import load_network

    network = load_network(arch="a0", checkpoint=official_dir / "a0_base" / "ckpt-1", num_classes=600)
    io = np.load(official_dir / "a0_base" / "io.npz")
    export_network(network, ExportOptions(frames=8, resolution=64), tmp_path / "e")
    model = LiteRTModel(tmp_path / "e" / "model.tflite")
    logits = np.concatenate([model.clip_logits(io["video"][i:i + 1]) for i in range(2)])
    assert _relative(io["logits"], logits) < 1e-4


def test_latency_command_times_an_export(stream_export, capsys):
    import run_search

    _, folder, _ = stream_export
    assert run_search.main(["latency", str(folder), "--json", "--runs", "3", "--warmup", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["stream"] and [t["threads"] for t in result["timings"]] == [1, 2]
    assert all(t["median_ms"] > 0 and t["unit"] == "frame" for t in result["timings"])
    assert result["state_bytes"] == LiteRTModel(folder / "model.tflite").state_bytes > 0
