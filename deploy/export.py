"""Exporting a network as a SavedModel or a TFLite model (float32, float16 or int8), base or
streaming, and checking the export against the Keras model it came from.

The SavedModel is written with Keras' `ExportArchive` (which tracks every variable, so
TensorFlow's TFLite converter folds the weights into the flatbuffer; a `tf.Module` around a
Keras 3 model left them as unresolved resource variables). Each export is run once after it is
written, on a check clip (the first calibration clip, or a fixed random one), beside the Keras
model: the largest logit difference, relative to the logits' scale, and whether the top class
agrees, go into `export.json`, so a user sees what quantisation costs before shipping it.

Output folder: `model.tflite` or `saved_model/`, `labels.txt`, and `export.json` (written
last: the spec, the inputs and outputs with their shapes, the quantisation, the check).
"""
from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Iterator

import keras
import numpy as np
import tensorflow as tf

from infra.files import replaced_folder, write_bytes, write_json, write_text
from infra.tf_runtime import drop_retracing_notes, native_logs_held
from search_space import SpecError
from video_data.config import DataConfig
from video_data.pipeline import ClipConfig, open_data

from .litert import LiteRTModel
from .network import Network
from .options import ExportOptions
from .quantize import quantized_int8
from .signatures import endpoint, zero_inputs

__all__ = ["export_network", "calibration_clips", "exported_logits"]

drop_retracing_notes()


def calibration_clips(source: str, count: int, frames: int, resolution: int, stride: int) -> list[np.ndarray]:
    """`count` evaluation-cut clips [1, T, S, S, 3] of a data source's training split."""
    train, _ = open_data(DataConfig(source=source).absolute(),
                         ClipConfig(frames=frames, resolution=resolution, stride=stride, flip=False))
    return [clip.numpy() for clip, _ in train.dataset(False, 1).take(count)]


def _stream_inputs(model, video: np.ndarray, signature: dict, step) -> Iterator[dict[str, np.ndarray]]:
    """The inputs of every frame of a video fed through the stream step: each frame with the
    states the frames before it left (what int8 calibration must see: states are activations)."""
    states = zero_inputs(signature)
    for t in range(video.shape[1]):
        inputs = {"image": video[:, t:t + 1], **states}
        yield inputs
        outputs = step({name: tf.constant(value) for name, value in inputs.items()})
        states = {name: outputs[name].numpy() for name in states}


def _keras_logits(model, video: np.ndarray, stream: bool, signature: dict, step) -> np.ndarray:
    """The reference: [1, classes] for a clip, [T, classes] frame by frame for a stream."""
    if not stream:
        return model.logits(video).numpy()
    compiled = tf.function(step)
    return np.stack([compiled({k: tf.constant(v) for k, v in inputs.items()})["logits"].numpy()[0]
                     for inputs in _stream_inputs(model, video, signature, compiled)])


def _write_saved_model(model, step, signature: dict, folder: Path) -> None:
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", step, input_signature=[signature])
    with native_logs_held():
        archive.write_out(str(folder), verbose=False)


def _tflite(saved_model: Path, options: ExportOptions, representative) -> tuple[bytes, dict[str, int]]:
    """The TFLite model, and for int8 how many ops each `keep_float` kind kept in float."""
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if options.quantize == "int8":
        return quantized_int8(converter, representative, options.keep_float)
    if options.quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    with native_logs_held():
        return converter.convert(), {}


def exported_logits(path: Path, options: ExportOptions, video: np.ndarray) -> np.ndarray:
    """What the written model computes on `video`, in the shape `_keras_logits` gives."""
    if options.format == "tflite":
        model = LiteRTModel(path / "model.tflite")
        return model.frame_logits(video) if options.stream else model.clip_logits(video)
    serving = tf.saved_model.load(str(path / "saved_model")).signatures["serving_default"]
    if not options.stream:
        return serving(image=tf.constant(video))["logits"].numpy()
    inputs = {name: spec for name, spec in serving.structured_input_signature[1].items()}
    states = zero_inputs(inputs)
    logits = []
    for t in range(video.shape[1]):
        outputs = serving(image=tf.constant(video[:, t:t + 1]), **{k: tf.constant(v) for k, v in states.items()})
        logits.append(outputs.pop("logits").numpy()[0])
        states = {name: outputs[name].numpy() for name in states}
    return np.stack(logits)


def _check(reference: np.ndarray, exported: np.ndarray) -> dict:
    scale = float(np.abs(reference).max())
    error = float(np.abs(reference - exported).max())
    return {"max_abs_error": error, "logit_scale": scale, "relative_error": error / scale if scale else 0.0,
            "top1_agreement": float(np.mean(reference.argmax(-1) == exported.argmax(-1)))}


def export_network(network: Network, options: ExportOptions, output: str | Path) -> dict:
    """Writes `network` to the folder `output` as `options` say and returns the manifest.

    The caller has claimed `output` (`EXPORT_RUN`); the folder appears whole or not at all.
    """
    model, spec = network.model, network.spec
    if options.stream and not spec.causal:
        raise SpecError(f"{spec.name}: only causal specs stream; export without --stream, or train with --stream")
    frames = options.frames or spec.input.frames
    resolution = options.resolution or spec.input.resolution
    step, signature = endpoint(model, 1 if options.stream else frames, resolution, options.stream, options.states_4d)
    clips = (calibration_clips(options.calibration, options.calibration_clips, frames, resolution,
                               spec.input.frame_stride) if options.calibration else [])
    check_clip = (clips[0] if clips else
                  np.random.default_rng(0).uniform(0, 1, (1, frames, resolution, resolution, 3)).astype(np.float32))
    if options.stream:
        check_clip = check_clip[:, :options.check_frames]
    reference = _keras_logits(model, check_clip, options.stream, signature, step)

    def representative() -> Iterator[dict[str, np.ndarray]]:
        compiled = tf.function(step)
        for clip in clips:
            yield from (_stream_inputs(model, clip, signature, compiled) if options.stream else [{"image": clip}])

    with replaced_folder(output) as staging, tempfile.TemporaryDirectory() as scratch:
        saved_model = staging / "saved_model" if options.format == "saved_model" else Path(scratch) / "saved_model"
        _write_saved_model(model, step, signature, saved_model)
        float_ops = {}
        if options.format == "tflite":
            model_bytes, float_ops = _tflite(saved_model, options, representative)
            write_bytes(staging / "model.tflite", model_bytes)
        check = _check(reference, exported_logits(staging, options, check_clip))
        write_text(staging / "labels.txt", "".join(f"{name}\n" for name in network.class_names))
        manifest = {
            "spec": spec.to_dict(), "weights": network.weights, "num_classes": len(network.class_names),
            "options": dataclasses.asdict(options), "frames": frames, "resolution": resolution,
            "float_ops": float_ops,
            "inputs": {name: {"shape": list(s.shape), "dtype": s.dtype.name} for name, s in signature.items()},
            "outputs": ["logits", *[name for name in signature if name != "image"]],
            "model_bytes": _size(staging), "check": {"frames": int(check_clip.shape[1]),
                                                    "clip": "calibration" if clips else "random", **check}}
        write_json(staging / "export.json", manifest)
    return manifest


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
