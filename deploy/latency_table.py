"""Building a latency lookup table: every unit configuration of a search space (stem widths,
every bottleneck a spec of the space can hold, head widths) as its own small TFLite model, then
timed under LiteRT on this machine, or on a phone or board with the folder's own script.

Folder: `units/NNNNN.tflite` (one per unit, written as it is converted, so `--resume` continues
an interrupted build), `calibration/NN.tflite` (a few whole networks of the space, which set
the table's `scale`), `units.json` (the manifest: mode, input, style, each unit's key, group,
GFLOPs and file, each calibration network's file and units), `measure_units.py`
(`deploy.unit_timing`, standalone), and `latency_table_<T>t.json` per thread count timed here.
"""
from __future__ import annotations

import logging
import random
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
from tqdm import tqdm

from infra.files import write_bytes, write_json
from infra.tf_runtime import native_logs_held
from search_space import ArchSpec, SearchSpace, build_model
from search_space.keras.builder import head_units, stem_unit
from search_space.keras.layers import Bottleneck
from search_space.latency import LatencyTable, Unit, space_units, spec_units, style_of, table_spec

from . import unit_timing
from .export import export_network
from .network import Network, with_live_branches
from .options import ExportOptions, LatencyTableOptions

__all__ = ["build_latency_table", "unit_tflite"]

_NORM = dict(bn_momentum=0.99, sync_bn=False)


def _unit_layers(template: ArchSpec, unit: Unit, num_classes: int):
    """The unit's Keras layer(s), a function calling them, and its input shape."""
    if unit.kind == "stem":
        size, _ = unit.geometry
        layer = stem_unit(template.replace(stem=template.stem.__class__(unit.geometry[1], template.stem.kernel,
                                                                        template.stem.stride)), **_NORM)
        return [layer], (lambda x, states: layer(x, states, training=False)), (size, 3)
    if unit.kind == "layer":
        g = unit.geometry
        layer = Bottleneck(g, template, **_NORM)
        return [layer], (lambda x, states: layer(x, states, training=False)), (g.in_size, g.in_channels)
    size, channels, project, hidden = unit.geometry
    head, classifier = head_units(template.replace(head=template.head.__class__(project, hidden,
                                                                                template.head.activation)),
                                  num_classes, 0.0, **_NORM)

    def call(x, states):
        pooled, new_states = head(x, states, training=False)
        return classifier(pooled, training=False), new_states

    return [head, classifier], call, (size, channels)


def unit_tflite(template: ArchSpec, unit: Unit, num_classes: int) -> bytes:
    """One unit as a float32 TFLite model: its input and (for stream tables) its states in, its
    output and new states out, with non-degenerate weights (ReZero scales at 1, so the converter
    cannot fold a branch away)."""
    layers, call, (size, channels) = _unit_layers(template, unit, num_classes)
    x = tf.zeros([1, size.t, size.h, size.w, channels])
    _, states = call(x, {})  # builds the layers and tells the states' shapes
    for layer in layers:
        for variable in layer.weights:
            if variable.path.endswith("rezero/scale"):
                variable.assign(tf.ones_like(variable))
    signature = [tf.TensorSpec(x.shape, tf.float32), {name: tf.TensorSpec(v.shape, v.dtype) for name, v in
                                                      states.items()}]
    function = tf.function(lambda x, states: call(x, states), input_signature=signature)
    frozen = convert_variables_to_constants_v2(function.get_concrete_function())
    return _convert(frozen)


def _convert(frozen) -> bytes:
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)  # "consider providing the trackable_obj": a frozen graph has none to give
    try:
        with native_logs_held():
            return tf.lite.TFLiteConverter.from_concrete_functions([frozen]).convert()
    finally:
        absl.setLevel(level)


def _call_model() -> bytes:
    """An (almost) empty model: what one interpreter call costs whatever the network."""
    function = tf.function(lambda x: x + 1.0, input_signature=[tf.TensorSpec([1, 8], tf.float32)])
    return _convert(convert_variables_to_constants_v2(function.get_concrete_function()))


def _calibration_networks(space: SearchSpace, options: LatencyTableOptions, frames: int, resolution: int,
                          folder: Path, resume: bool) -> list[dict]:
    """`options.calibration_networks` random networks of the space, exported whole as the table
    will predict them, with the keys of their units."""
    rng = random.Random(0)
    networks = []
    for index in range(options.calibration_networks):
        spec = table_spec(space.to_spec(space.sample(rng), name=f"calibration{index}"), options.stream)
        name = f"calibration/{index:02d}.tflite"
        if not (resume and (folder / name).is_file()):
            model = with_live_branches(build_model(spec, options.num_classes))
            with tempfile.TemporaryDirectory() as scratch:
                export_network(Network(model, [str(i) for i in range(options.num_classes)], "untrained"),
                               ExportOptions(stream=options.stream, frames=frames, resolution=resolution,
                                             check_frames=1), Path(scratch) / "export")
                write_bytes(folder / name, (Path(scratch) / "export" / "model.tflite").read_bytes())
            keras.backend.clear_session()
        units = spec_units(spec, 1 if options.stream else frames, resolution, options.num_classes)
        networks.append({"file": name, "units": [unit.key for unit in units]})
    return networks


def build_latency_table(space: SearchSpace, options: LatencyTableOptions, folder: str | Path,
                        resume: bool = False) -> list[LatencyTable]:
    """Exports every unit of `space` into `folder` (skipping those a resumed build already wrote),
    then times them at each of `options.threads` unless `options.export_only`."""
    folder = Path(folder)
    frames = options.frames or space.frames[0]
    resolution = options.resolution or space.resolutions[0]
    template, units = space_units(space, options.stream, frames, resolution, options.num_classes)
    entries = []
    (folder / "units").mkdir(parents=True, exist_ok=True)
    write_bytes(folder / "units" / "call.tflite", _call_model())
    for index, unit in enumerate(tqdm(units, desc="converting units", unit="unit", disable=None)):
        name = f"units/{index:05d}.tflite"
        if not (resume and (folder / name).is_file()):
            write_bytes(folder / name, unit_tflite(template, unit, options.num_classes))
            if index % 100 == 99:
                keras.backend.clear_session()  # thousands of traced units would fill the memory
        entries.append({"key": unit.key, "group": unit.group, "gflops": unit.gflops, "file": name})
    shutil.copyfile(unit_timing.__file__, folder / "measure_units.py")
    write_json(folder / unit_timing.MANIFEST, {
        "stream": options.stream, "frames": frames, "resolution": resolution, "num_classes": options.num_classes,
        "style": style_of(template), "call_model": "units/call.tflite", "units": entries,
        "calibration": _calibration_networks(space, options, frames, resolution, folder, resume)}, indent=1)
    if options.export_only:
        return []
    tables = []
    for threads in options.threads:
        with tqdm(total=len(units), desc=f"timing at {threads} thread(s)", unit="unit", disable=None) as bar:
            path = unit_timing.measure(folder, threads, options.device, options.warmup, options.runs,
                                       lambda done, total: bar.update(1))
        tables.append(LatencyTable.load(path))
    return tables
