"""Fine-tuning: the backbone of an official checkpoint or a training run loaded whole (the
class logits rebuilt), frozen layers left exactly as loaded, a checkpoint that does not fit refused."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from conftest import one_layer_t0, randomize_weights
from search_space import CheckpointMismatchError, build_model, preset
from training.compile import compile_for_recipe
from training.initial_weights import backbone_variables, freeze, load_initial_weights
from training.recipe import Recipe


def _run_folder(folder, spec, classes=3, seed=1):
    """A finished training run as `train` leaves it: spec.yaml, model.weights.h5, result.json."""
    model = build_model(spec, classes)
    randomize_weights(model, seed)
    folder.mkdir()
    spec.to_yaml(folder / "spec.yaml")
    model.save_weights(str(folder / "model.weights.h5"))
    (folder / "result.json").write_text(json.dumps({"num_classes": classes}))
    return model


def _values(variables):
    return [np.array(v) for v in variables]


def test_a_runs_backbone_loads_and_the_frozen_part_stays_as_loaded_while_the_head_trains(tmp_path):
    spec = one_layer_t0()
    source = _run_folder(tmp_path / "run", spec)
    model = build_model(spec, num_classes=5)
    assert load_initial_weights(model, tmp_path / "run") == len(backbone_variables(model))
    for mine, theirs in zip(backbone_variables(model), backbone_variables(source)):
        np.testing.assert_array_equal(np.array(mine), np.array(theirs))
    assert model.classifier.logits.kernel.shape[-1] == 5
    frozen = freeze(model, "block1")
    assert frozen == ["stem", "block0_layer0", "block1_layer0"]
    kept = [v for layer in (model.stem, *model.bottlenecks[:2]) for v in layer.weights]  # BN statistics included
    before, head_before, free_before = _values(kept), _values(model.classifier.weights), _values(
        model.bottlenecks[2].trainable_weights)
    compile_for_recipe(model, Recipe.fine_tuning(), 4, 2, 2)
    rng = np.random.default_rng(0)
    clips = rng.uniform(0, 1, (8, 4, 32, 32, 3)).astype("float32")
    labels = keras.utils.to_categorical(rng.integers(0, 5, 8), 5)
    model.fit(clips, labels, batch_size=4, epochs=2, verbose=0)
    for old, new in zip(before, _values(kept)):
        np.testing.assert_array_equal(old, new)
    assert any(not np.allclose(old, new) for old, new in zip(head_before, _values(model.classifier.weights)))
    free_after = _values(model.bottlenecks[2].trainable_weights)
    assert any(not np.allclose(old, new) for old, new in zip(free_before, free_after))


def test_a_checkpoint_of_another_architecture_is_refused_before_any_weight_changes(tmp_path):
    spec = one_layer_t0()
    _run_folder(tmp_path / "run", spec.replace(stem=spec.stem.__class__(filters=spec.stem.filters + 8,
                                                                        kernel=spec.stem.kernel,
                                                                        stride=spec.stem.stride)))
    model = build_model(spec, num_classes=4)
    randomize_weights(model, 2)
    before = _values(model.weights)
    with pytest.raises(CheckpointMismatchError, match=r"run: variable .*stem.* has shape"):
        load_initial_weights(model, tmp_path / "run")
    for old, v in zip(before, model.weights):
        np.testing.assert_array_equal(old, np.array(v))
    with pytest.raises(CheckpointMismatchError, match="no checkpoint here"):
        load_initial_weights(model, tmp_path / "absent")


def test_freeze_names_what_it_accepts():
    from search_space import SpecError

    model = build_model(one_layer_t0(), num_classes=3)
    assert freeze(model, "backbone")[-1] == "head" and not model.bottlenecks[-1].trainable
    with pytest.raises(SpecError, match="blocks 0..4"):
        freeze(build_model(one_layer_t0(), 3), "block9")
    with pytest.raises(SpecError, match="'backbone' or 'blockN'"):
        freeze(build_model(one_layer_t0(), 3), "everything")


def test_official_stream_checkpoint_starts_a_stream_training_that_streams_like_its_clips(official_dir):
    """An official '2plus1d' stream checkpoint into the '3d_2plus1d' model a stream spec trains as:
    every backbone variable loaded, and after conversion the frame-by-frame logits are the clip's."""
    from search_space import convert_conv_type, load_official_checkpoint

    model = build_model(preset("a0", stream=True).replace(conv_type="3d_2plus1d"), num_classes=7)
    load_initial_weights(model, official_dir / "a0_stream" / "ckpt-1")
    official = build_model(preset("a0", stream=True), num_classes=600)
    load_official_checkpoint(official, official_dir / "a0_stream" / "ckpt-1")
    for mine, theirs in zip(backbone_variables(model), backbone_variables(official)):
        np.testing.assert_array_equal(np.array(mine), np.array(theirs))
    shipped = convert_conv_type(model, "2plus1d")
    video = np.random.default_rng(1).uniform(0, 1, (1, 4, 32, 32, 3)).astype("float32")
    states = None
    for t in range(4):
        logits, states = shipped.stream(video[:, t:t + 1], states)
    np.testing.assert_allclose(logits.numpy(), model.logits(video).numpy(), rtol=1e-4, atol=1e-5)
