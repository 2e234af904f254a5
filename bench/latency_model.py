"""How well the latency lookup table predicts measured latency, and how far GFLOPs mislead.

Builds (or reuses) the table of a search space on this machine, then exports N random
architectures of the space whole (untrained weights: latency does not depend on them), times
each under LiteRT, and compares: Spearman rank correlation and mean absolute percentage error
of the table's prediction, and the rank correlation of GFLOPs with the measured latency.

    python bench/latency_model.py --table-dir runs/latency_table --stream --resolution 172 --archs 30
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from infra.tf_runtime import quiet_tensorflow_imports  # noqa: E402

quiet_tensorflow_imports()

from deploy.export import export_network  # noqa: E402
from deploy.latency_table import build_latency_table  # noqa: E402
from deploy.network import Network, with_live_branches  # noqa: E402
from deploy.options import ExportOptions, LatencyTableOptions  # noqa: E402
from deploy.unit_timing import time_model  # noqa: E402
from search_space import SearchSpace, build_model, count_flops  # noqa: E402
from search_space.latency import LatencyTable, table_spec  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--table-dir", required=True)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--resolution", type=int, default=172)
    parser.add_argument("--archs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--retime", action="store_true", help="time the table's units again")
    args = parser.parse_args()
    space = SearchSpace()
    folder = Path(args.table_dir)
    path = folder / "latency_table_1t.json"
    if not path.is_file() or args.retime:  # resumed: the unit models already written are kept
        build_latency_table(space, LatencyTableOptions(stream=args.stream, frames=args.frames,
                                                       resolution=args.resolution), folder, resume=folder.is_dir())
    table = LatencyTable.load(path)
    print(f"table: {table.describe()}, scale {table.scale:.3f} (from {len(table.units)} units and 5 whole networks)")
    rng = random.Random(args.seed)  # not the calibration networks' seed (0)
    exported, scratch = [], tempfile.TemporaryDirectory()
    for index in range(args.archs):  # all TensorFlow work first, then only LiteRT timing
        spec = space.to_spec(space.sample(rng), name=f"random{index}")
        model = with_live_branches(build_model(table_spec(spec, args.stream), table.num_classes))
        out = Path(scratch.name) / spec.name
        export_network(Network(model, [str(i) for i in range(table.num_classes)], "untrained"),
                       ExportOptions(stream=args.stream, frames=args.frames, resolution=args.resolution,
                                     check_frames=1), out)
        exported.append((spec, out / "model.tflite"))
        keras.backend.clear_session()
    # This VM's speed drifts by tens of percent over minutes (see performance.md), so the
    # calibration networks are timed again beside the evaluated ones: the scale refitted now.
    manifest = json.loads((folder / "units.json").read_text())
    ratios = [(time_model(folder / n["file"], 1, 3, 20) - table.call_ms) /
              sum(table.units[k]["ms"] for k in n["units"]) for n in manifest["calibration"]]
    refit = float(np.median(ratios))
    rows = []
    for spec, path in exported:
        measured = time_model(path, 1, 3, 20)
        predicted = table.predict(spec)
        units = (predicted.ms - table.call_ms) / table.scale
        gflops = count_flops(table_spec(spec, args.stream), 1 if args.stream else args.frames, args.resolution,
                             table.num_classes).gflops
        rows.append((measured, table.call_ms + table.scale * units, table.call_ms + refit * units, gflops))
        print(f"{spec.name}: measured {measured:.2f} ms, predicted {rows[-1][1]:.2f} ms (scale refitted now: "
              f"{rows[-1][2]:.2f}; {100 * predicted.measured_share:.0f}% from measured units), {gflops:.3f} GFLOPs",
              flush=True)
    scratch.cleanup()
    measured, predicted, refitted, gflops = (np.array(column) for column in zip(*rows))
    print(f"scale: {table.scale:.3f} when the table was timed, {refit:.3f} now (calibration ratios "
          f"{', '.join(f'{r:.2f}' for r in ratios)})")
    for label, values in (("table as built", predicted), ("table, scale refitted beside", refitted)):
        mape = float(np.mean(np.abs(values - measured) / measured))
        print(f"{label}: Spearman {spearmanr(values, measured)[0]:.3f}, MAPE {100 * mape:.1f}%")
    print(f"GFLOPs vs measured: Spearman {spearmanr(gflops, measured)[0]:.3f}")
    print(f"measured: {measured.min():.2f} to {measured.max():.2f} ms, mean {measured.mean():.2f} ms")


if __name__ == "__main__":
    main()
