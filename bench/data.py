#!/usr/bin/env python3
"""Is the input pipeline fast enough on real-size videos? Decoding and loaders vs the a0 step.

All in this process, on clips generated here (nothing is downloaded): 10-s, 25 fps H.264 clips
of moving textured content with sensor noise, at 340x256 (the usual Kinetics download size) and
640x360, encoded by libx264 (crf 23, veryfast) with its default keyframe interval (250 frames:
one keyframe per clip, plus scene cuts, as ffmpeg leaves trimmed Kinetics clips) and with a
keyframe every 2 s.

1. Decode, one thread, per clip: whole video (`read_video`) vs the seeking decode
   (`read_clip`) of 16-frame stride-2 windows at random positions.
2. Loaders, all cores (tf.data), training clips/s at the proxy shape vs an a0 training step at
   the same shape: in-memory synthetic data (the default search), real-size mp4 decoded whole
   (the old loader), real-size mp4 with seeking decode, and the same videos converted to
   TFRecords with 128-pixel short sides (`python -m video_data.convert --resize 128`).
   Ratio > 1 means the model, not the data, is the bottleneck.

    python bench/data.py [--frames 8 --resolution 32 --batch 16]   # the default search's proxy shape
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.tf_runtime import load_tensorflow  # noqa: E402

tf = load_tensorflow()
import keras  # noqa: E402
import numpy as np  # noqa: E402

from proxies.config import PROXY_RECIPE  # noqa: E402
from search_space import preset  # noqa: E402
from training.compile import compiled_model, one_hot  # noqa: E402
from video_data.convert import convert_to_tfrecord  # noqa: E402
from video_data.layout import Clip  # noqa: E402
from video_data.pipeline import ClipConfig, SyntheticSource, TFRecordSource, VideoSource  # noqa: E402
from video_data.synthetic import SyntheticConfig  # noqa: E402
from video_data.video import read_clip, read_video, write_video  # noqa: E402

SECONDS, FPS = 10, 25


def realistic_frames(height: int, width: int, seed: int) -> np.ndarray:
    """uint8 [250, H, W, 3]: a panning camera over a textured scene, a moving object, sensor noise."""
    rng = np.random.default_rng(seed)
    frames = SECONDS * FPS
    scene_h, scene_w = height + 240, width + 2 * frames
    yy, xx = np.mgrid[0:scene_h, 0:scene_w] / 64.0
    scene = np.zeros((scene_h, scene_w, 3))
    for _ in range(6):  # gratings at several scales and orientations
        angle, freq = rng.uniform(0, np.pi), rng.uniform(0.5, 4)
        scene += np.sin(freq * (xx * np.cos(angle) + yy * np.sin(angle)) + rng.uniform(0, 6))[..., None] * \
            rng.uniform(-1, 1, 3)
    blocks = rng.normal(size=(scene_h // 4 + 1, scene_w // 4 + 1, 3))
    scene = 128 + 18 * scene + 20 * np.kron(blocks, np.ones((4, 4, 1)))[:scene_h, :scene_w]
    y, x = np.mgrid[0:height, 0:width]
    video = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        top = int(120 + 110 * np.sin(t / 40))
        frame = scene[top:top + height, 2 * t:2 * t + width].copy()
        cx, cy = width * (0.5 + 0.3 * np.sin(t / 15)), height * (0.5 + 0.25 * np.cos(t / 11))
        frame[(x - cx) ** 2 + (y - cy) ** 2 < (height / 8) ** 2] = (220, 60, 40)
        video[t] = np.clip(frame + rng.normal(0, 6, frame.shape), 0, 255)
    return video


def write_clips(folder: Path, height: int, width: int, count: int, keyint: int | None) -> list[Path]:
    options = {"crf": "23", "preset": "veryfast", **({"g": str(keyint)} if keyint else {})}
    paths = []
    for seed in range(count):
        path = folder / f"{width}x{height}_g{keyint or 'default'}_{seed}.mp4"
        write_video(path, realistic_frames(height, width, seed), fps=FPS, options=options)
        paths.append(path)
    return paths


def _per_clip(fn, repeats: int) -> float:
    fn(0)  # warm-up (codec initialisation, page cache)
    start = time.perf_counter()
    for i in range(repeats):
        fn(i)
    return (time.perf_counter() - start) / repeats


def decode_table(folder: Path) -> None:
    print("\n1. decode per clip, one thread: whole video vs seeking decode of a 16-frame stride-2 window")
    print(f"{'clip (10 s, 25 fps, H.264)':<36}{'kbit/s':>8}{'whole':>10}{'seeking':>10}{'speed-up':>10}")
    for height, width in ((256, 340), (360, 640)):
        for keyint in (None, 50):
            path = write_clips(folder, height, width, 1, keyint)[0]
            kbps = path.stat().st_size * 8 / SECONDS / 1e3
            whole = _per_clip(lambda i: read_video(path), 3)
            positions = np.random.default_rng(0).random(40)
            seeking = _per_clip(lambda i: read_clip(path, 16, stride=2, position=positions[i]), 40)
            gop = "keyframe every 2 s" if keyint else "x264 default keyframes"
            print(f"{f'{width}x{height}, {gop}':<36}{kbps:8.0f}{whole * 1e3:8.1f}ms{seeking * 1e3:8.1f}ms"
                  f"{whole / seeking:9.1f}x")


class WholeVideoSource(VideoSource):
    """The loader before seeking (the baseline): decode every frame, then take a training window."""

    def _decode(self, path: bytes, training: bool, seed: np.ndarray) -> np.ndarray:
        frames, _ = read_video(path.decode(), self.clip.decode_side)
        span = (self.clip.frames - 1) * self.clip.stride + 1
        start = int(np.random.default_rng(seed).integers(0, max(len(frames) - span, 0) + 1))
        return frames[(start + self.clip.stride * np.arange(self.clip.frames)) % len(frames)]


def _loader_rate(source, batch: int, min_clips: int) -> float:
    """Clips/s of one epoch up to `min_clips`, reading included: timed from the built pipeline
    (its functions traced, as `fit` traces them once for all epochs), so the shuffle buffer's
    fill, which reads every record of this small epoch, counts."""
    dataset = source.dataset(True, batch)
    clips, start = 0, time.perf_counter()
    for x, _ in dataset:
        clips += int(x.shape[0])
        if clips >= min_clips:
            return clips / (time.perf_counter() - start)
    raise ValueError(f"an epoch of {source} holds fewer than {min_clips} clips; raise --repeat")


def _model_rate(clip: ClipConfig, classes: int, batch: int, steps: int = 20) -> float:
    model = compiled_model(preset("a0"), classes, PROXY_RECIPE, batch, steps, 1)  # a search trial's step
    x = tf.random.uniform([batch, clip.frames, clip.resolution, clip.resolution, 3])
    data = tf.data.Dataset.from_tensors((x, tf.zeros([batch], tf.int32))).repeat().map(one_hot(classes))
    model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # trace
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * batch / (time.perf_counter() - start)


def _converted(folder: Path, source: VideoSource, short_side: int, fps: float | None, repeat: int) -> list[str]:
    """Converts `source` (`python -m video_data.convert --resize short_side [--fps fps]`), then writes
    two shards listing every record `repeat` times, as the mp4 loaders list each video."""
    output = folder / f"records-{short_side}-{fps}"
    started = time.perf_counter()
    convert_to_tfrecord(source, output, "train", shards=2, short_side=short_side, fps=fps, progress=False)
    converted = sorted(str(p) for p in output.glob("train-*"))
    print(f"(converting {len(source)} clips to {short_side}-pixel, {fps or FPS:g} fps TFRecords took "
          f"{time.perf_counter() - started:.1f} s, {sum(Path(p).stat().st_size for p in converted) / len(source) / 1e6:.2f}"
          f" MB a clip)")
    records = list(tf.data.TFRecordDataset(converted))
    shards = [str(output / f"epoch-{i:05d}-of-00002") for i in range(2)]
    for index, shard in enumerate(shards):
        with tf.io.TFRecordWriter(shard) as writer:
            for record in records[index::2] * repeat:
                writer.write(record.numpy())
    return shards


def loader_table(folder: Path, args: argparse.Namespace) -> None:
    clip = ClipConfig(frames=args.frames, stride=2, resolution=args.resolution)
    # The model is timed before and after the loaders and its faster rate kept: on a shared
    # machine this keeps the loader / model ratios conservative.
    model = _model_rate(clip, 8, args.batch)
    print(f"\n2. loaders, {os.cpu_count()} cores, training clips of {args.frames}x{args.resolution}^2 (stride 2), "
          f"batch {args.batch}\na0 training step at that shape: {model:.1f} clips/s")
    videos = write_clips(folder, 256, 340, args.videos, None)
    clips = [Clip(path.stem, f"class{i % 8}", path) for i, path in enumerate(videos)]
    names = [f"class{i}" for i in range(8)]
    # Same temporal sampling (every 2nd frame of 25 fps video) from every TFRecord variant.
    timed_clip = dataclasses.replace(clip, fps=FPS / clip.stride)
    loaders = {
        "in-memory synthetic (default search)": SyntheticSource(
            SyntheticConfig(num_classes=8, clips_per_class=50, frames=16, resolution=args.resolution), clip),
        "340x256 mp4, whole-video decode": WholeVideoSource(clips * args.repeat, clip, names),
        "340x256 mp4, seeking decode": VideoSource(clips * args.repeat, clip, names),
    }
    for short_side, fps in ((128, None), (128, FPS / clip.stride), (64, FPS / clip.stride)):
        shards = _converted(folder, VideoSource(clips, clip, names), short_side, fps, args.repeat)
        loaders[f"TFRecord, {short_side}-px JPEG, {fps or FPS:g} fps"] = TFRecordSource(shards, timed_clip, names)
    rates = {name: _loader_rate(loader, args.batch, min_clips=args.min_clips) for name, loader in loaders.items()}
    again = _model_rate(clip, 8, args.batch)
    print(f"a0 training step timed again after the loaders: {again:.1f} clips/s")
    model = max(model, again)
    for name, rate in rates.items():
        print(f"{name:<38}{rate:8.1f} clips/s   loader / model = {rate / model:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--videos", type=int, default=8, help="distinct 340x256 videos for the loaders")
    parser.add_argument("--repeat", type=int, default=40, help="times each video is listed in the loaders' epoch")
    parser.add_argument("--min-clips", type=int, default=240, help="clips timed per loader (within one epoch)")
    parser.add_argument("--loaders-only", action="store_true", help="skip the single-thread decode table")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} (another process on this machine slows every figure)")
    with tempfile.TemporaryDirectory() as folder:
        if not args.loaders_only:
            decode_table(Path(folder))
        loader_table(Path(folder), args)


if __name__ == "__main__":
    keras.utils.set_random_seed(0)
    main()
