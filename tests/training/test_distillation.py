"""Distillation: a teacher's cached soft targets, looked up by clip index, mixed into a proxy's labels."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from conftest import one_layer_t0
from infra.errors import UserError
from proxies.config import ProxyConfig
from proxies.distillation import TeacherTargets, soft_labels
from proxies.proxy import _subset, train_proxy
from proxies.ray_trial import proxy_sources
from video_data.config import DataConfig
from video_data.pipeline import ClipConfig, SyntheticSource
from video_data.synthetic import SyntheticConfig

DATA = SyntheticConfig(num_classes=3, clips_per_class=10, frames=8, resolution=32, difficulty=0.2)
CLIP = ClipConfig(frames=4, stride=2, resolution=32, flip=False)


@pytest.fixture(scope="module")
def sources():
    return SyntheticSource(DATA, CLIP, "train"), SyntheticSource(DATA, CLIP, "val")


def _targets(logits: np.ndarray, names=("a", "b", "c")) -> TeacherTargets:
    return TeacherTargets(logits.astype(np.float32), tuple(names), "name: t\n", 0.5, 12.0)


def test_items_are_each_clips_index_in_the_source(sources):
    train, _ = sources
    items, labels = [], []
    for _, label, item in train.dataset(True, 5, seed=3, epoch=1, items=True):
        items += item.numpy().tolist()
        labels += label.numpy().tolist()
    assert sorted(items) == list(range(len(train))) and items != sorted(items)  # shuffled, each clip once
    np.testing.assert_array_equal(train.labels[items], labels)


def test_soft_labels_are_distributions_flattened_by_temperature():
    logits = np.array([[4.0, 0.0, 0.0, 9.0], [0.0, 1.0, 2.0, 0.0]])
    sharp, flat = soft_labels(logits, 3, 1.0), soft_labels(logits, 3, 4.0)
    np.testing.assert_allclose(sharp.sum(axis=1), 1.0, atol=1e-6)
    assert sharp.shape == (2, 3) and sharp[0].argmax() == 0  # the fourth class is not the proxy's
    assert flat[0, 0] < sharp[0, 0] and flat[0, 1] > sharp[0, 1]
    np.testing.assert_allclose(sharp[1], np.exp([0, 1, 2]) / np.exp([0, 1, 2]).sum(), rtol=1e-6)


def test_teacher_file_round_trips_and_refuses_other_data(tmp_path):
    path = tmp_path / "t.teacher"
    made = _targets(np.arange(12.0).reshape(4, 3))
    made.save(path)
    loaded = TeacherTargets.load(path)
    np.testing.assert_array_equal(loaded.logits, made.logits)
    assert (loaded.class_names, loaded.arch, loaded.top1, loaded.wall_time_s) == (("a", "b", "c"), "name: t\n",
                                                                                 0.5, 12.0)
    loaded.check_matches(4, ["a", "b", "c"], path)
    with pytest.raises(UserError, match="made on 4 training clips, the data has 5"):
        loaded.check_matches(5, ["a", "b", "c"], path)
    with pytest.raises(UserError, match="made for classes a, b, c"):
        loaded.check_matches(4, ["a", "c", "b"], path)
    with pytest.raises(UserError, match="no such file"):
        TeacherTargets.load(tmp_path / "missing.teacher")
    (tmp_path / "junk.teacher").write_text("not a teacher")
    with pytest.raises(UserError, match="not a teacher file"):
        TeacherTargets.load(tmp_path / "junk.teacher")


def test_proxy_targets_mix_the_teachers_distribution_with_the_label(sources, tmp_path):
    train, _ = sources
    rng = np.random.default_rng(0)
    soft = tf.constant(soft_labels(rng.normal(size=(len(train), 3)) * 3, 3, 2.0))
    proxy = ProxyConfig(batch_size=4, distillation=0.25, clip_fraction=1.0)
    with_items = train.dataset(True, 4, seed=0, items=True).unbatch().batch(4, drop_remainder=True)
    mixed = _subset(train, proxy, True, 3, teacher=soft)
    for (clips, targets), (raw_clips, labels, items) in zip(mixed, with_items):
        np.testing.assert_array_equal(clips.numpy(), raw_clips.numpy())
        expected = 0.75 * np.eye(3)[labels.numpy()] + 0.25 * soft.numpy()[items.numpy()]
        np.testing.assert_allclose(targets.numpy(), expected, rtol=1e-6)


def test_teacher_command_makes_a_file_a_proxy_distils_from_and_refuses_other_data(tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    data = DataConfig(synthetic=DATA)
    spec = one_layer_t0()
    (tmp_path / "teacher.yaml").write_text(spec.to_yaml())
    path = tmp_path / "t.teacher"
    data_flags = ["--synthetic-classes", "3", "--synthetic-clips", "10", "--synthetic-frames", "8",
                  "--synthetic-resolution", "32", "--difficulty", "0.2"]
    command = [sys.executable, str(REPO / "run_search.py"), "teacher", "--arch", str(tmp_path / "teacher.yaml"),
               "--epochs", "1", "--frames", str(spec.input.frames), "--resolution", str(spec.input.resolution),
               "--output", str(path), *data_flags]
    made = subprocess.run(command, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr[-3000:]
    assert "epoch 1/1: top-1" in made.stdout and f"in {path}" in made.stdout
    train, _ = proxy_sources(spec, data)
    targets = TeacherTargets.load(path)
    assert targets.logits.shape == (len(train), 3) and np.isfinite(targets.logits).all() and targets.wall_time_s > 0
    assert np.abs(targets.logits).sum(axis=1).min() > 0  # every clip has the teacher's view
    again = subprocess.run(command, capture_output=True, text=True)  # a teacher is never overwritten
    assert again.returncode == 2 and again.stderr.startswith("error:") and "exists" in again.stderr
    result = train_proxy(spec, ProxyConfig(epochs=1, batch_size=4, teacher=str(path)), *proxy_sources(spec, data))
    assert result.status == "ok" and 0.0 <= result.top1 <= 1.0
    other = dataclasses.replace(data, synthetic=dataclasses.replace(DATA, clips_per_class=15))
    with pytest.raises(UserError, match="training clips"):
        train_proxy(spec, ProxyConfig(epochs=1, batch_size=4, teacher=str(path)), *proxy_sources(spec, other))
    # A search on other data refuses the teacher before it writes anything.
    search = subprocess.run([sys.executable, str(REPO / "run_search.py"), "search", "--teacher", str(path),
                             "--output", str(tmp_path / "run"), *data_flags[:2], "--synthetic-clips", "15"],
                            capture_output=True, text=True)
    assert search.returncode == 2 and "made on 24 training clips, the data has 36" in search.stderr
    assert not (tmp_path / "run").exists()
