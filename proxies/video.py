"""Reading and writing video files with PyAV (FFmpeg), with clear errors for bad files."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np

__all__ = ["VideoError", "read_video", "write_video", "clip_indices"]


class VideoError(RuntimeError):
    """A video that cannot be used: missing, truncated, corrupt or empty. Names the file."""


def read_video(path: str | Path) -> tuple[np.ndarray, float]:
    """All frames as uint8 [N, H, W, 3] RGB, and the stream's frame rate."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: missing video file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path}: no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate or stream.guessed_rate or 25)
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    except VideoError:
        raise
    except (av.FFmpegError, ValueError, OSError) as err:
        raise VideoError(f"{path}: cannot decode ({type(err).__name__}: {err})") from None
    if not frames:
        raise VideoError(f"{path}: no decodable frames")
    return np.stack(frames), fps


def write_video(path: str | Path, frames: np.ndarray, fps: int = 25, codec: str = "libx264") -> None:
    """Writes uint8 [N, H, W, 3] frames as H.264 (dimensions rounded up to even by padding)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = np.asarray(frames, np.uint8)
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if pad_h or pad_w:
        frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())


def clip_indices(num_frames: int, clip_frames: int, stride: int, start: int) -> np.ndarray:
    """Frame indices of a clip of `clip_frames` every `stride` frames from `start`, looping short videos."""
    return (start + stride * np.arange(clip_frames)) % num_frames
