"""Trial records: one self-describing row per trial, and the run folder's tables.

A row carries the architecture itself (`spec`, as JSON), its `arch_id` and readable summary
columns (`search_space.summary`), the trial's metrics and status; the raw parameters the search
algorithm sampled go to `choices.csv` beside it (they mean something only under this run's
space, which is stored as `space.yaml`). Analysis and export read these files and nothing else.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from infra.files import write_csv
from search_space import ArchSpec, InputSpec, SearchSpace, count_flops
from search_space.summary import SUMMARY_COLUMNS, spec_json, summary

__all__ = ["trial_record", "trial_status", "write_run_tables", "RejectionLog", "METRIC_COLUMNS", "TRAINING_COLUMNS",
           "RECORD_COLUMNS"]

METRIC_COLUMNS = ("top1", "top5", "loss", "train_clips_per_s", "wall_time_s", "epochs", "reward")
TRAINING_COLUMNS = ("train_frames", "train_resolution", "train_gflops")
# Predicted by the latency table in a latency search (NaN otherwise): the cost its front is on.
RECORD_COLUMNS = ("trial_id", "status", *SUMMARY_COLUMNS, "latency_ms", *TRAINING_COLUMNS, *METRIC_COLUMNS, "curve",
                  "finished_at",
                  "error", "node", "spec")


def trial_status(metrics: dict[str, Any], error: str | None, interrupted: bool = False) -> str:
    """'error' for a raised trial, 'interrupted' for one a Ctrl-C left unfinished (`--resume`
    continues it), 'stopped_early' for one the scheduler ended while it still ran (its last
    epoch's metrics are kept), else the trial's own final status (ok, diverged, oom)."""
    if error:
        return "error"
    if interrupted:
        return "interrupted"
    status = metrics.get("status")
    if status == "running":
        return "stopped_early"
    return status or "error"


def trial_record(trial_id: str, trained: ArchSpec, num_classes: int, metrics: dict[str, Any],
                 error: str | None = None, node: str | None = None, member_input: InputSpec | None = None,
                 curve: list[float] | None = None, interrupted: bool = False,
                 latency_ms: float = math.nan) -> dict[str, Any]:
    """The row of one trial: identity, summary, metrics (NaN where it never reported), status.

    The record describes the network as it is meant to run: in a `--target` search the
    `member_input` (the family member's published clip) replaces the input it was trained at,
    so `spec`, `frames`, `resolution`, `gflops` and `params` are the member's; `train_frames`,
    `train_resolution` and `train_gflops` say what the proxy trained (the same elsewhere).
    `curve` is the held-out top-1 after each epoch (JSON), `finished_at` the Unix time of its
    last report.
    """
    spec = trained.replace(input=member_input) if member_input else trained
    row: dict[str, Any] = {"trial_id": trial_id, "status": trial_status(metrics, error, interrupted)}
    row.update(summary(spec, num_classes))
    row.update(train_frames=trained.input.frames, train_resolution=trained.input.resolution,
               train_gflops=count_flops(trained, num_classes=num_classes).gflops, latency_ms=latency_ms)
    row.update({name: metrics.get(name, math.nan) for name in METRIC_COLUMNS})
    row.update(curve=json.dumps([float(v) for v in (curve or [])]), finished_at=metrics.get("timestamp", math.nan))
    row.update(error=error or metrics.get("error") or "", node=node or metrics.get("node") or "",
               spec=spec_json(spec))
    return row


def write_run_tables(folder: Path, records: list[dict], choices: list[dict], space: SearchSpace) -> pd.DataFrame:
    """choices.csv, space.yaml and specs/<arch_id>.yaml; returns the records as a table (which
    `analysis.write_results` writes as trials.csv / trials.parquet with its Pareto column)."""
    table = pd.DataFrame(records, columns=list(RECORD_COLUMNS))
    write_csv(pd.DataFrame(choices), folder / "choices.csv")
    space.to_yaml(folder / "space.yaml")
    specs = folder / "specs"
    specs.mkdir(exist_ok=True)
    for arch, text in table.drop_duplicates("arch_id")[["arch_id", "spec"]].itertuples(index=False):
        ArchSpec.from_dict(json.loads(text)).to_yaml(specs / f"{arch}.yaml")
    return table


class RejectionLog:
    """Appends each budget rejection to rejected.csv at once, so a killed driver loses none.

    The columns are fixed by the space (every parameter, then the cost, `gflops` or `latency`,
    and `status`), whatever order a searcher hands its parameters in; a resumed run keeps the
    header already written.
    """

    def __init__(self, path: Path, space: SearchSpace, metric: str = "gflops", prefiltered: bool = False):
        self.path = path
        # A prefiltered search also rejects by zero-cost score: the score each draw had.
        self.columns = [*space.choices(), metric, "status", *(["zero_cost"] if prefiltered else [])]

    def __call__(self, row: dict) -> None:
        columns = self.columns
        if self.path.exists():
            with self.path.open(newline="") as handle:
                columns = next(csv.reader(handle), None) or columns
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, restval="", extrasaction="ignore")
            if handle.tell() == 0:
                writer.writeheader()
            writer.writerow(row)
