"""Official Model Garden checkpoints: their logits reproduced, mismatches refused before anything loads."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from search_space import CheckpointMismatchError, build_model, load_official_checkpoint, preset

CASES = {"a0_base": ("a0", False), "a0_stream": ("a0", True)}


@pytest.mark.parametrize("fixture", sorted(CASES))
def test_official_logits(official_dir, fixture):
    name, stream = CASES[fixture]
    model = build_model(preset(name, stream=stream), num_classes=600)
    load_official_checkpoint(model, official_dir / fixture / "ckpt-1")
    io = np.load(official_dir / fixture / "io.npz")
    np.testing.assert_allclose(model(io["video"], training=False).numpy(), io["logits"], atol=1e-4)
    if stream:
        states = model.init_states(io["video"].shape)
        for t in range(io["video"].shape[1]):
            logits, states = model({**states, "image": io["video"][:, t:t + 1]})
            np.testing.assert_allclose(logits.numpy(), io["frame_logits"][:, t], atol=1e-4)


def test_variable_list_is_fully_mapped(official_dir):
    from search_space.keras.checkpoint import official_variable_map

    model = build_model(preset("a0", stream=True))
    listed = [line.split("\t")[0] for line in (official_dir / "a0_stream" / "variables.txt").read_text().splitlines()]
    assert sorted(official_variable_map(model)) == sorted(n for n in listed if n.startswith("model/"))


def _weights(model):
    return [w.numpy().copy() for w in model.weights]


@pytest.mark.parametrize("arch, classes, message", [
    (("t0", False), 600, "unexpected variable|has shape|missing variable"),
    (("a1", False), 600, "missing variable|has shape"),
    (("a0", False), 400, r"variable model/layer_with_weights-1/_classifier/_conv/kernel has shape \[1, 1, 1, 2048, 600\], model a0 expects \[2048, 400\]"),
    (("a0", True), 600, "missing variable model/layer_with_weights-0/layer_with_weights-0/_stem/_conv/_conv/kernel"),
])
def test_mismatched_checkpoint_loads_nothing(official_dir, arch, classes, message):
    model = build_model(preset(arch[0], stream=arch[1]), num_classes=classes)
    before = _weights(model)
    with pytest.raises(CheckpointMismatchError, match=message):
        load_official_checkpoint(model, official_dir / "a0_base" / "ckpt-1")
    for old, new in zip(before, _weights(model)):
        np.testing.assert_array_equal(old, new)


def test_missing_and_corrupt_checkpoint(tmp_path, official_dir):
    model = build_model(preset("a0"))
    with pytest.raises(CheckpointMismatchError, match="no checkpoint here"):
        load_official_checkpoint(model, tmp_path / "ckpt-9")
    with pytest.raises(CheckpointMismatchError, match="no checkpoint found in this folder"):
        load_official_checkpoint(model, tmp_path)
    (tmp_path / "ckpt-1.index").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointMismatchError, match="unreadable checkpoint"):
        load_official_checkpoint(model, tmp_path / "ckpt-1")


def test_folder_resolves_to_latest_checkpoint(official_dir, tmp_path):
    model = build_model(preset("a0"))
    tf.train.Checkpoint(model=tf.Module()).write(str(tmp_path / "other"))  # not a MoViNet
    with pytest.raises(CheckpointMismatchError):
        load_official_checkpoint(model, tmp_path / "other")
