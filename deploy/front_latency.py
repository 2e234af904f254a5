"""Measured latency of a latency search's Pareto front: each front network exported as its
table timed its units (same mode, input, classes; float32 TFLite) and timed whole under LiteRT
at the table's thread count, beside what the table predicted. The check a user needs before
trusting a front drawn on predictions (`pareto_latency.csv` in the run folder).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import keras
import pandas as pd

from analysis.records import spec_of
from infra.files import write_csv
from search_space import build_model
from search_space.latency import LatencyTable, table_spec

from .export import export_network
from .latency import time_litert
from .network import Network, with_live_branches
from .options import ExportOptions, LatencyOptions

__all__ = ["measure_front_latency"]


def measure_front_latency(run: str | Path, table_path: str | Path) -> pd.DataFrame:
    """Predicted and measured ms per call of every front network of the search in `run`."""
    run = Path(run)
    table = LatencyTable.load(table_path)
    trials = pd.read_parquet(run / "trials.parquet")
    rows = []
    for _, row in trials[trials["pareto"]].iterrows():
        spec = table_spec(spec_of(row), table.stream)
        model = with_live_branches(build_model(spec, table.num_classes))
        with tempfile.TemporaryDirectory() as scratch:
            export_network(Network(model, [str(i) for i in range(table.num_classes)], "untrained"),
                           ExportOptions(stream=table.stream, frames=table.frames, resolution=table.resolution),
                           Path(scratch) / "export")
            timings, _ = time_litert(Path(scratch) / "export" / "model.tflite",
                                     LatencyOptions(threads=(table.threads,)))
        keras.backend.clear_session()  # each export traces a model; hundreds would fill the memory
        rows.append({"trial_id": row["trial_id"], "arch_id": row["arch_id"], "top1": row["top1"],
                     "gflops": row["gflops"], "predicted_ms": row["latency_ms"],
                     "measured_ms": timings[0].median_ms, "device": table.device, "threads": table.threads})
    front = pd.DataFrame(rows)
    write_csv(front, run / "pareto_latency.csv")
    return front
