"""Reading and writing video files with PyAV (FFmpeg), with clear errors for bad files.

A training clip needs 8-16 frames of a 10-s video. `read_clip` therefore seeks to the keyframe
before its window, decodes only up to the window's last frame, and converts to RGB only the
frames it keeps; which frames it keeps is decided by presentation timestamps, so variable
frame rates and 60 fps sources give the same temporal spacing as 25 fps ones for a target fps.
`read_video` (every frame) is for the converter, which stores whole videos.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from .errors import DataError

__all__ = ["VideoError", "VideoInfo", "VIDEO_EXTENSIONS", "DEFAULT_FPS", "probe_video", "read_clip", "read_video", "write_video",
           "video_files"]

# Containers Kinetics downloaders leave on disk (YouTube's own, then older sets' and cameras').
VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".avi", ".mov")
DEFAULT_FPS = 25.0  # a file or record that declares no frame rate (Kinetics' usual rate)
_SKIP_MARGIN = 0.25  # s: frames this close before a window are always decoded (one may be on screen at its start)
_LONGEST_VIDEO_S = 3600.0  # timestamps sampled when a header gives no duration (the video ends sooner)


class VideoError(RuntimeError):
    """A video that cannot be used: missing, truncated, corrupt or empty. Names the file."""


@dataclass(frozen=True)
class VideoInfo:
    """What a container's header says about its first video stream."""

    width: int
    height: int
    fps: float
    duration: float | None  # seconds; None when the container does not say
    codec: str


@contextmanager
def _video_stream(path: str | Path) -> Iterator[tuple[av.container.InputContainer, av.VideoStream]]:
    """The opened container and its first video stream; FFmpeg failures become VideoError.

    Decoding is single-threaded: callers decode many videos at once (tf.data, the converter's
    and the probe's thread pools), which uses the cores better than threads inside one decoder.
    """
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: missing video file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path}: no video stream")
            yield container, container.streams.video[0]
    except VideoError:
        raise
    except (av.FFmpegError, ValueError, OSError) as err:
        raise VideoError(f"{path}: cannot decode ({type(err).__name__}: {err})") from None


def _fps(stream: av.VideoStream) -> float:
    return float(stream.average_rate or stream.guessed_rate or DEFAULT_FPS)


def _start(stream: av.VideoStream) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    if stream.duration:
        return float(stream.duration * stream.time_base)
    if container.duration:  # Matroska / WebM keep it in the container, in microseconds
        return container.duration / av.time_base
    return None


def probe_video(path: str | Path) -> VideoInfo:
    """The header of a video (no frame decoded beyond what FFmpeg needs to identify the stream).

    Zero-byte files, foreign data and MP4s cut before their index fail here, which is what
    makes a header probe of every clip a cheap check of a whole data folder.
    """
    with _video_stream(path) as (container, stream):
        return VideoInfo(stream.codec_context.width, stream.codec_context.height, _fps(stream),
                         _duration(container, stream), stream.codec_context.name)


def _scaled(stream: av.VideoStream, short_side: int | None) -> dict:
    """Reformat arguments that scale frames down (area averaging) to `short_side`, if larger."""
    height, width = stream.codec_context.height, stream.codec_context.width
    if not short_side or min(height, width) <= short_side:
        return {}
    scale = short_side / min(height, width)
    return {"width": max(1, round(width * scale)), "height": max(1, round(height * scale)), "interpolation": "AREA"}


def _rgb(reformatter: VideoReformatter, frame: av.VideoFrame, size: dict) -> np.ndarray:
    """RGB array of a frame (scaled by `size`). One reformatter per video keeps FFmpeg's scaler
    context between frames; `frame.to_ndarray` builds a new one each call (4-5x the cost)."""
    return reformatter.reformat(frame, format="rgb24", **size).to_ndarray()


def _pick(frames: Iterator[tuple[float, av.VideoFrame]], times: np.ndarray, frame_time: float,
          size: dict) -> list[np.ndarray]:
    """For ascending `times`, the frame on screen at each: the last one to start by then.

    Consumes `frames` (time, frame) only up to the first frame past the last time, and converts
    to RGB only the frames it picks. Returns fewer arrays than times if the video ends first.
    Timestamps are compared to the millisecond (Matroska's precision).
    """
    reformatter = VideoReformatter()
    picked: list[np.ndarray] = []
    shown, shown_rgb = None, None
    tolerance = 1e-3
    for time, frame in frames:
        while len(picked) < len(times) and time > times[len(picked)] + tolerance:
            if shown is None:  # the first frame starts after the window does: it is the closest
                shown = frame
            if shown_rgb is None:
                shown_rgb = _rgb(reformatter, shown, size)
            picked.append(shown_rgb)
        if len(picked) == len(times):
            return picked
        if shown is not frame:
            shown, shown_rgb = frame, None
        shown_time = time
    while shown is not None and len(picked) < len(times) and times[len(picked)] < shown_time + frame_time:
        shown_rgb = shown_rgb if shown_rgb is not None else _rgb(reformatter, shown, size)
        picked.append(shown_rgb)  # the last frame stays on screen until the video ends
    return picked


def _timed(container, stream, start: float, fps: float, skip_before: float = 0.0) -> Iterator[tuple[float, av.VideoFrame]]:
    """Decoded frames with their presentation time in seconds from the stream's start.

    Frames shown before `skip_before` that no other frame refers to (most B-frames) are not
    decoded at all (FFmpeg's skip_frame=NONREF, set per packet from its timestamp): between the
    keyframe a seek lands on and the window, only the frames the window depends on are decoded.
    """
    count = 0
    for packet in container.demux(stream):
        if skip_before > 0:
            early = packet.pts is not None and float(packet.pts * stream.time_base) - start < skip_before
            stream.codec_context.skip_frame = "NONREF" if early else "DEFAULT"
        for frame in packet.decode():
            yield (frame.time - start if frame.pts is not None else count / fps), frame
            count += 1


def read_clip(path: str | Path, num_frames: int, stride: int = 1, fps: float | None = None,
              position: float = 0.5, short_side: int | None = None) -> np.ndarray:
    """`num_frames` RGB frames uint8 [T, H, W, 3], one every `stride` source frames or `1 / fps` s.

    `position` in [0, 1] places the window within the video (0: start, 0.5: centred, as for
    evaluation; training draws it at random), starting on a frame. Each clip frame is the one on
    screen at its time, so `fps` gives the same spacing in seconds whatever the file's frame
    rate, constant or not. A video shorter than the window is looped, as the other sources do.
    With `short_side`, larger frames are scaled down to it as they are converted to RGB.
    """
    with _video_stream(path) as (container, stream):
        rate, start, duration = _fps(stream), _start(stream), _duration(container, stream)
        size = _scaled(stream, short_side)
        frame_time = 1.0 / rate
        offsets = (1.0 / fps if fps else stride * frame_time) * np.arange(num_frames)
        if duration is not None and duration >= offsets[-1] + frame_time:
            first = np.floor(position * (duration - frame_time - offsets[-1]) * rate) / rate  # on a frame
            if first > frame_time:  # (backward: FFmpeg lands on the keyframe at or before it)
                container.seek(int((start + first) / stream.time_base), stream=stream)
            picked = _pick(_timed(container, stream, start, rate, skip_before=first - _SKIP_MARGIN), first + offsets,
                           frame_time, size)
            if len(picked) == num_frames:
                return np.stack(picked)
            container.seek(0, stream=stream)  # the header overstated the length: loop it below
            stream.codec_context.skip_frame = "DEFAULT"
        timed = list(_timed(container, stream, start, rate))
        if not timed:
            raise VideoError(f"{path}: no decodable frames")
        length = timed[-1][0] + frame_time
        first = np.floor(position * max(length - frame_time - offsets[-1], 0.0) * rate) / rate
        times = (first + offsets) % length
        order = np.argsort(times, kind="stable")
        return np.stack(_pick(iter(timed), times[order], frame_time, size))[np.argsort(order)]


def read_video(path: str | Path, short_side: int | None = None, fps: float | None = None) -> tuple[np.ndarray, float]:
    """Every frame as uint8 [N, H, W, 3] RGB, and the frame rate of what is returned.

    With `short_side`, larger frames are scaled down by FFmpeg (area averaging) as they are
    converted, so a converter storing small frames never holds full-size ones. With `fps` below
    the file's rate, one frame every 1/fps seconds by timestamp (the one on screen then), so a
    converter storing a lower rate writes, and later reads, proportionally less; only the kept
    frames are converted to RGB.
    """
    with _video_stream(path) as (container, stream):
        rate, size = _fps(stream), _scaled(stream, short_side)
        if fps and fps < rate:
            length = (_duration(container, stream) or _LONGEST_VIDEO_S) + 1.0  # the header may understate
            frames = _pick(_timed(container, stream, _start(stream), rate), np.arange(0.0, length, 1.0 / fps),
                           1.0 / rate, size)
            rate = float(fps)
        else:
            reformatter = VideoReformatter()
            frames = [_rgb(reformatter, frame, size) for frame in container.decode(stream)]
    if not frames:
        raise VideoError(f"{path}: no decodable frames")
    return np.stack(frames), rate


def write_video(path: str | Path, frames: np.ndarray, fps: int = 25, codec: str = "libx264",
                options: dict[str, str] | None = None) -> None:
    """Writes uint8 [N, H, W, 3] frames (dimensions rounded up to even by padding).

    The container follows the file's extension, so `clip.webm` with codec 'libvpx-vp9' or
    `clip.mkv` with 'mpeg4' are written as downloaders leave them. `options` go to the encoder
    (default for libx264: crf 18, preset veryfast).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = np.asarray(frames, np.uint8)
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if pad_h or pad_w:
        frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    if options is None:
        options = {"crf": "18", "preset": "veryfast"} if codec == "libx264" else {}
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = options
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())


def video_files(path: str | Path) -> list[Path]:
    """The video at `path`, or every video below the folder `path`, sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path}: no such video or folder")
    videos = sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS)
    if not videos:
        raise DataError(f"{path}: no videos ({', '.join(VIDEO_EXTENSIONS)}) below this folder")
    return videos
