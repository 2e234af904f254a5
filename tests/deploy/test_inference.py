"""Prediction: the compiled stream equals the clip, a folder of videos classified from a training run."""
from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, randomize_weights
from search_space import build_model, preset
from video_data.synthetic import SyntheticConfig, generate_clip
from video_data.video import write_video


def test_compiled_stream_matches_the_clip_and_traces_once():
    model = build_model(preset("t0", stream=True).replace(positional_encoding=True), num_classes=6)
    randomize_weights(model, seed=4)
    video = tf.random.uniform([2, 5, 32, 32, 3], seed=3)
    states = None
    for t in range(5):
        logits, states = model.stream(video[:, t:t + 1], states)
    assert model._compiled_stream.experimental_get_tracing_count() == 1  # one trace for the whole loop
    np.testing.assert_allclose(logits.numpy(), model.logits(video).numpy(), atol=1e-4)
    logits, _ = model.stream(video[:, :3])  # several frames at once, from the start
    np.testing.assert_allclose(logits.numpy(), model.logits(video[:, :3]).numpy(), atol=1e-4)
    with pytest.raises(Exception, match="only causal specs stream"):
        build_model(preset("t0"), num_classes=6).stream(video)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A run folder as `train` leaves it for a stream spec: inference.yaml and its weights."""
    run = tmp_path_factory.mktemp("run")
    spec = preset("t0", stream=True).replace(input=preset("t0").input.__class__(frames=6, resolution=32,
                                                                               frame_stride=2))
    model = build_model(spec, num_classes=3)
    randomize_weights(model, seed=2)
    spec.to_yaml(run / "inference.yaml")
    model.save_weights(str(run / "inference.weights.h5"))
    (run / "result.json").write_text(json.dumps({"num_classes": 3, "classes": ["left", "right", "up"]}))
    return run, model


def test_predict_command_streams_a_folder_like_the_whole_clip(run_folder, tmp_path, capsys):
    import sys

    sys.path.insert(0, str(REPO))
    import run_search
    from deploy.predict import Classifier
    from video_data.pipeline import ClipConfig

    run, model = run_folder
    config = SyntheticConfig(num_classes=3, clips_per_class=1, frames=16, resolution=48)
    for label in range(2):
        write_video(tmp_path / "videos" / f"clip{label}.mp4", generate_clip(config, label, 0))
    assert run_search.main(["predict", str(tmp_path / "videos"), "--run", str(run), "--json", "--top", "3",
                            "--stream"]) == 0
    streamed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["video"].rsplit("/", 1)[-1] for p in streamed] == ["clip0.mp4", "clip1.mp4"]
    # The same clips classified whole by the fixture's model (the weights the command loaded).
    clips = Classifier(model, ["left", "right", "up"], ClipConfig(frames=6, resolution=32, stride=2, flip=False))
    for prediction in streamed:
        expected = clips.predict(prediction["video"], top=3)
        assert dict(prediction["top"]) == pytest.approx(dict(expected.top), abs=1e-4)
        assert prediction["ms_per_frame"] > 0 and abs(sum(dict(prediction["top"]).values()) - 1) < 1e-5
    assert run_search.main(["predict", str(tmp_path / "absent.mp4"), "--run", str(run)]) == 2
