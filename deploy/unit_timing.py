"""Times the unit models of a latency-table folder on the device this runs on.

This file imports nothing of the toolkit (only numpy and the LiteRT interpreter, from
`ai-edge-litert` or `tflite-runtime`), so it runs where the toolkit does not: `latency-table`
copies it into its folder as `measure_units.py`; copy the folder to a phone (Termux) or a
board and run

    python measure_units.py FOLDER --threads 1

to write `FOLDER/latency_table_1t.json`, the table `search --latency-table` reads. Each unit
model is timed as the whole network would be: inputs set once, `warmup` untimed calls, then
the median of `runs` timed calls; an empty model's call time is measured the same way and
taken off every unit, since a whole network pays it once. A few whole networks of the space
(`calibration/`) are timed too: units timed alone run faster than inside a network (their
weights and activations stay in cache), and the median ratio of a whole network's time to the
sum of its units is the table's `scale`. Each network is timed right after its own units are
timed again: a shared machine's speed drifts over minutes, and a ratio of two timings taken
far apart would measure the drift.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

MANIFEST = "units.json"


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # the older standalone runtime, still the one some boards ship
        from tflite_runtime.interpreter import Interpreter
    return Interpreter


@contextlib.contextmanager
def _native_notices_dropped():
    """The interpreter announces its XNNPACK delegate on the C-level stderr for every model: a
    line per unit, thousands per table. (This file stands alone, so it cannot use the
    toolkit's `infra.tf_runtime`.)"""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def call_times(path: Path, threads: int, warmup: int, runs: int) -> list[float]:
    """Milliseconds of each of `runs` timed calls of the TFLite model at `path`."""
    with _native_notices_dropped():
        interpreter = _interpreter_class()(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
    rng = np.random.default_rng(0)
    for detail in interpreter.get_input_details():
        shape, dtype = detail["shape"], detail["dtype"]
        value = rng.uniform(0, 1, shape).astype(dtype) if np.issubdtype(dtype, np.floating) else np.ones(shape, dtype)
        interpreter.set_tensor(detail["index"], value)
    with _native_notices_dropped():  # the delegate is applied, and announced, at the first call
        interpreter.invoke()
    for _ in range(warmup):
        interpreter.invoke()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(1e3 * (time.perf_counter() - start))
    return times


def time_model(path: Path, threads: int, warmup: int, runs: int) -> float:
    """Median milliseconds of one call of the TFLite model at `path`."""
    return float(np.median(call_times(path, threads, warmup, runs)))


def device_name() -> str:
    """The CPU's model name where the system says it, else the machine type."""
    with contextlib.suppress(OSError):  # no /proc (macOS, some boards): the machine type
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def table_path(folder: Path, threads: int) -> Path:
    return folder / f"latency_table_{threads}t.json"


def measure(folder: str | Path, threads: int, device: str | None = None, warmup: int = 3, runs: int = 20,
            progress=None) -> Path:
    """Times every unit of `folder` and writes its latency table; returns the table's path."""
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    call_ms = time_model(folder / manifest["call_model"], threads, warmup, runs)
    units, groups = {}, {}
    for index, unit in enumerate(manifest["units"]):
        ms = time_model(folder / unit["file"], threads, warmup, runs)
        units[unit["key"]] = {"ms": max(ms - call_ms, 0.0), "gflops": unit["gflops"]}
        groups[unit["key"]] = unit["group"]
        if progress is not None:
            progress(index + 1, len(manifest["units"]))
    files = {unit["key"]: unit["file"] for unit in manifest["units"]}
    ratios = []
    for network in manifest.get("calibration", []):
        parts = sum(max(time_model(folder / files[key], threads, warmup, runs) - call_ms, 0.0)
                    for key in network["units"])
        ratios.append((time_model(folder / network["file"], threads, warmup, runs) - call_ms) / parts)
    table = {"device": device or device_name(), "threads": threads, "stream": manifest["stream"],
             "frames": manifest["frames"], "resolution": manifest["resolution"],
             "num_classes": manifest["num_classes"], "style": manifest["style"], "call_ms": call_ms,
             "scale": float(np.median(ratios)) if ratios else 1.0, "units": units, "groups": groups}
    path = table_path(folder, threads)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(table, indent=1))
    os.replace(partial, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time the unit models of a latency-table folder on this device")
    parser.add_argument("folder")
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--device", help="a name for this device (default: the CPU's model name)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    for threads in args.threads:
        def progress(done, total):
            if done % 50 == 0 or done == total:
                print(f"  {threads} thread(s): {done}/{total} units", flush=True)
        print(f"wrote {measure(args.folder, threads, args.device, args.warmup, args.runs, progress)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
