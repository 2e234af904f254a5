"""Running an exported TFLite model with the LiteRT interpreter (`ai-edge-litert`), as a phone
or board would: whole clips, or a video frame by frame with its states carried between calls.

The interpreter's CPU path is XNNPACK (on by default for float and int8 models); `threads`
is its thread count.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from infra.errors import UserError
from infra.tf_runtime import native_logs_held

__all__ = ["LiteRTModel"]


class LiteRTModel:
    """One TFLite model's `serving_default` signature: `image` (+ states) -> `logits` (+ states)."""

    def __init__(self, path: str | Path, threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"{self.path}: no TFLite model here")
        try:
            with native_logs_held():
                self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
                self.runner = self.interpreter.get_signature_runner("serving_default")
        except (ValueError, RuntimeError) as err:
            raise UserError(f"{self.path}: not a TFLite model with a serving_default signature ({err})") from None
        self.inputs = {name: (tuple(int(d) for d in detail["shape"]), np.dtype(detail["dtype"]))
                       for name, detail in self.runner.get_input_details().items()}
        if "image" not in self.inputs:
            raise UserError(f"{self.path}: its signature has no 'image' input (inputs: {', '.join(self.inputs)})")
        with native_logs_held():  # the first call applies the XNNPACK delegate, which says so
            self(np.zeros(self.image_shape, np.float32), self.initial_states())

    @property
    def image_shape(self) -> tuple[int, ...]:
        return self.inputs["image"][0]

    @property
    def streams(self) -> bool:
        """Whether the model takes states (a stream model: one frame per call)."""
        return len(self.inputs) > 1

    def initial_states(self) -> dict[str, np.ndarray]:
        """Zero states: the start of a video."""
        return {name: np.zeros(shape, dtype) for name, (shape, dtype) in self.inputs.items() if name != "image"}

    @property
    def state_bytes(self) -> int:
        return sum(array.nbytes for array in self.initial_states().values())

    def __call__(self, image: np.ndarray, states: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """One call: the image (a clip, or one frame for a stream model) and the states -> all outputs."""
        return self.runner(image=np.asarray(image, np.float32), **(states or {}))

    def clip_logits(self, video: np.ndarray) -> np.ndarray:
        """Logits [1, classes] of a whole clip [1, T, S, S, 3] (base models)."""
        return self(video)["logits"]

    def frame_logits(self, video: np.ndarray) -> np.ndarray:
        """Logits after each frame [T, classes] of a video [1, T, S, S, 3] fed one frame per call."""
        states = self.initial_states()
        logits = []
        for t in range(video.shape[1]):
            outputs = self(video[:, t:t + 1], states)
            logits.append(outputs.pop("logits")[0])
            states = outputs
        return np.stack(logits)
