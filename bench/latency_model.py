"""How well the latency lookup table predicts measured latency, and how far GFLOPs mislead.

Builds (or reuses) the table of a search space on this machine, then exports N random
architectures of the space whole (untrained weights: latency does not depend on them), times
each under LiteRT, and compares: Spearman rank correlation and mean absolute percentage error
of the table's prediction, and the rank correlation of GFLOPs with the measured latency.

    python bench/latency_model.py --table-dir runs/latency_table --stream --resolution 172 --archs 30
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from infra.tf_runtime import quiet_tensorflow_imports  # noqa: E402

quiet_tensorflow_imports()

from deploy.export import export_network  # noqa: E402
from deploy.latency import time_litert  # noqa: E402
from deploy.latency_table import build_latency_table  # noqa: E402
from deploy.network import Network, with_live_branches  # noqa: E402
from deploy.options import ExportOptions, LatencyOptions, LatencyTableOptions  # noqa: E402
from search_space import SearchSpace, build_model, count_flops  # noqa: E402
from search_space.latency import LatencyTable, table_spec  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--table-dir", required=True)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--resolution", type=int, default=172)
    parser.add_argument("--archs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    space = SearchSpace()
    folder = Path(args.table_dir)
    path = folder / "latency_table_1t.json"
    if not path.is_file():
        build_latency_table(space, LatencyTableOptions(stream=args.stream, frames=args.frames,
                                                       resolution=args.resolution), folder, resume=folder.is_dir())
    table = LatencyTable.load(path)
    print(f"table: {table.describe()}")
    rng = random.Random(args.seed)
    rows = []
    for index in range(args.archs):
        spec = space.to_spec(space.sample(rng), name=f"random{index}")
        model = with_live_branches(build_model(table_spec(spec, args.stream), table.num_classes))
        with tempfile.TemporaryDirectory() as scratch:
            export_network(Network(model, [str(i) for i in range(table.num_classes)], "untrained"),
                           ExportOptions(stream=args.stream, frames=args.frames, resolution=args.resolution),
                           Path(scratch) / "e")
            timings, _ = time_litert(Path(scratch) / "e" / "model.tflite", LatencyOptions(threads=(1,), runs=20))
        predicted = table.predict(spec)
        gflops = count_flops(table_spec(spec, args.stream), 1 if args.stream else args.frames, args.resolution,
                             table.num_classes).gflops
        rows.append((timings[0].median_ms, predicted.ms, gflops))
        print(f"{spec.name}: measured {timings[0].median_ms:.2f} ms, predicted {predicted.ms:.2f} ms "
              f"({100 * predicted.measured_share:.0f}% from measured units), {gflops:.3f} GFLOPs", flush=True)
    measured, predicted, gflops = (np.array(column) for column in zip(*rows))
    mape = float(np.mean(np.abs(predicted - measured) / measured))
    print(f"table vs measured: Spearman {spearmanr(predicted, measured)[0]:.3f}, MAPE {100 * mape:.1f}%, "
          f"mean measured {measured.mean():.2f} ms")
    print(f"GFLOPs vs measured: Spearman {spearmanr(gflops, measured)[0]:.3f}")


if __name__ == "__main__":
    main()
