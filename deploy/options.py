"""What an export and a latency measurement take, as option dataclasses free of TensorFlow (the
CLI reads its defaults from them without loading a runtime)."""
from __future__ import annotations

from dataclasses import dataclass

from infra.config_io import check_numbers
from infra.errors import OptionsError
from infra.run_folder import RunKind

__all__ = ["EXPORT_FORMATS", "EXPORT_RUN", "FLOAT_LAYERS", "LATENCY_TABLE_RUN", "QUANTIZATIONS", "ExportOptions", "LatencyOptions",
           "LatencyTableOptions"]

EXPORT_RUN = RunKind("model export", ("export.json",), resumable=False)
LATENCY_TABLE_RUN = RunKind("latency table", ("units.json", "units/*.tflite"))

EXPORT_FORMATS = ("tflite", "saved_model")
QUANTIZATIONS = ("none", "float16", "int8")
# Kinds of layer an int8 export can keep in float32 (deploy/quantize.py says why each).
FLOAT_LAYERS = ("pool", "hard_swish", "squeeze_excite", "classifier")


@dataclass(frozen=True)
class ExportOptions:
    """How to export a network.

    `frames` / `resolution` fix the input shape (default: the spec's input); a stream export
    takes one frame per call, and `frames` is then the length of the clips it is checked and
    calibrated on. `calibration` is the data int8 quantisation measures activation ranges on
    (a data folder, TFRecords or 'synthetic'), `calibration_clips` how many of its clips.
    `keep_float` names kinds of layer (`FLOAT_LAYERS`) an int8 model keeps in float32.
    `states_4d` reshapes 5-D stream states [1, T, H, W, C] to 4-D [1, T*H, W, C], which GPU
    delegates accept.
    """

    format: str = "tflite"
    quantize: str = "none"
    stream: bool = False
    states_4d: bool = False
    frames: int | None = None
    resolution: int | None = None
    calibration: str | None = None
    calibration_clips: int = 32
    keep_float: tuple[str, ...] = ()
    check_frames: int = 8

    def __post_init__(self) -> None:
        check_numbers(self, positive=("frames", "resolution", "calibration_clips", "check_frames"))
        if self.format not in EXPORT_FORMATS:
            raise OptionsError(f"format: {self.format!r} is not one of {', '.join(EXPORT_FORMATS)}")
        if self.quantize not in QUANTIZATIONS:
            raise OptionsError(f"quantize: {self.quantize!r} is not one of {', '.join(QUANTIZATIONS)}")
        if self.quantize != "none" and self.format != "tflite":
            raise OptionsError(f"quantize {self.quantize}: quantised models are TFLite models; use --format tflite")
        if self.quantize == "int8" and self.calibration is None:
            raise OptionsError("quantize int8: give --calibration DATA (a data folder, TFRecords or 'synthetic') "
                               "to measure activation ranges on")
        unknown = [kind for kind in self.keep_float if kind not in FLOAT_LAYERS]
        if unknown:
            raise OptionsError(f"keep_float: {', '.join(map(repr, unknown))} not among {', '.join(FLOAT_LAYERS)}")
        if self.keep_float and self.quantize != "int8":
            raise OptionsError("keep_float: only an int8 model has layers to keep in float; add --quantize int8")
        if self.states_4d and not self.stream:
            raise OptionsError("states_4d: only stream exports have states; add --stream")


@dataclass(frozen=True)
class LatencyOptions:
    """How latency is measured: `warmup` untimed calls, then the median of `runs` timed ones, for
    each thread count (LiteRT with XNNPACK)."""

    threads: tuple[int, ...] = (1, 2)
    warmup: int = 5
    runs: int = 30

    def __post_init__(self) -> None:
        check_numbers(self, positive=("warmup", "runs"))
        if not self.threads or any(t < 1 for t in self.threads):
            raise OptionsError(f"threads: positive thread counts, got {list(self.threads)}")


@dataclass(frozen=True)
class LatencyTableOptions:
    """A latency table's mode and input, and how its units are timed.

    `stream`: units of the space's stream variant, timed per frame (else per clip of `frames`);
    `frames` / `resolution` default to the space's first choices; `num_classes` sizes the
    classifier; `calibration_networks` whole networks of the space set how much slower units
    run inside a network than alone; `export_only` writes the models for another device to time.
    """

    stream: bool = False
    frames: int | None = None
    resolution: int | None = None
    num_classes: int = 600
    calibration_networks: int = 5
    threads: tuple[int, ...] = (1,)
    warmup: int = 3
    runs: int = 20
    export_only: bool = False
    device: str | None = None

    def __post_init__(self) -> None:
        check_numbers(self, positive=("frames", "resolution", "num_classes", "warmup", "runs", "calibration_networks"))
        if not self.threads or any(t < 1 for t in self.threads):
            raise OptionsError(f"threads: positive thread counts, got {list(self.threads)}")
