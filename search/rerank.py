"""Re-ranking a finished search: its best architectures trained again with fresh seeds.

A trial's score is one proxy training, and the trials that make a front are partly the ones
whose seed was lucky (one training ranks another seed's at Kendall tau +0.33 on the default
proxy, docs/fidelity.md). `run_rerank` picks the `top` best architectures by non-dominated rank
(the front first, then the front of what is left, best top-1 first within one), trains each
`seeds` more times with the run's own proxy and data as one resumable Ray Tune grid, keeps every
training in `rerank.csv`, and rewrites the run's records, front, plot, exported configs and
report from the mean of those trainings with its spread (`analysis.retrained`). The front is
then drawn among the re-ranked architectures only: a trial scored once cannot be compared with a
mean of several.
"""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pandas as pd

from analysis import load_run, write_report, write_results
from analysis.pareto import cost_column, front_ranks
from analysis.records import trained_spec_of
from analysis.retrained import with_retrainings
from infra.errors import Interrupted, RunExistsError
from infra.files import write_csv
from search_space import UserError

from .grid import GridJob, train_grid
from .options import RerankOptions, SearchOptions

__all__ = ["run_rerank", "apply_retrainings", "rerank_candidates", "RERANK_FILE"]

RERANK_FILE = "rerank.csv"
_EXPERIMENT = "rerank"
_COLUMNS = ["trial_id", "arch_id", "seed", "status", "top1", "curve"]


def rerank_candidates(table: pd.DataFrame, top: int) -> pd.DataFrame:
    """The `top` best distinct finished architectures of a trials table by non-dominated rank
    on the trials' own scores (front first), best top-1 first within a rank."""
    finished = table[table["status"] == "ok"].sort_values("top1", ascending=False).drop_duplicates("arch_id")
    ranks = front_ranks(finished, {"top1": "max", cost_column(finished): "min"})
    ranked = finished.assign(front_rank=ranks).dropna(subset=["front_rank"])
    return ranked.sort_values(["front_rank", "top1"], ascending=[True, False]).head(top)


def _earlier(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"trial_id": str, "arch_id": str}) if path.is_file() \
        else pd.DataFrame(columns=_COLUMNS)


def run_rerank(options: RerankOptions, resume: bool = False) -> pd.DataFrame:
    """Trains what is missing, rewrites the run's results from the re-trainings and returns its
    trials table. Without `resume` a run already re-ranked is refused before anything is
    written; with it, finished re-trainings are kept and only new ones (a larger `top` or more
    `seeds`) are trained."""
    folder = Path(options.run)
    run = SearchOptions.load(folder)
    table = load_run(folder)
    path = folder / RERANK_FILE
    if not resume and (path.is_file() or any((folder / "ray").glob(f"{_EXPERIMENT}-*"))):
        raise RunExistsError(f"{folder}: already re-ranked ({RERANK_FILE}); pass --resume to extend it "
                             f"(a larger --top or more --seeds trains only what is new)")
    chosen = rerank_candidates(table, options.top)
    if chosen.empty:
        raise UserError(f"{folder}: no finished trial to re-rank")
    earlier = _earlier(path)
    done = set(zip(earlier.loc[earlier["status"] == "ok", "arch_id"], earlier.loc[earlier["status"] == "ok", "seed"]))
    seeds = range(run.proxy.seed + 1, run.proxy.seed + options.seeds + 1)
    jobs = [GridJob(f"{row.arch_id}-seed{seed}", trained_spec_of(row._asdict()),
                    dataclasses.replace(run.proxy, seed=seed), run.data,
                    {"trial_id": row.trial_id, "arch_id": row.arch_id, "seed": seed})
            for row in chosen.itertuples() for seed in seeds if (row.arch_id, seed) not in done]
    rows = []
    if jobs:
        # The grid's name follows its jobs, so --resume finds an interrupted grid and a new one never collides.
        digest = hashlib.sha1(" ".join(sorted(job.key for job in jobs)).encode()).hexdigest()[:8]
        try:
            rows = train_grid(jobs, folder, f"{_EXPERIMENT}-{digest}", options.cpus, options.address, resume)
        except Interrupted as stopped:  # keep what finished, whatever grid a resumed run asks for next
            _keep(earlier, stopped.partial or [], path)
            raise
    retrainings = _keep(earlier, rows, path)
    if not (retrainings["status"] == "ok").any():
        raise UserError(f"{folder}: no re-training finished (see {RERANK_FILE}); the front is left as it was")
    table = apply_retrainings(folder, table)
    write_report([folder])
    return table


def _keep(earlier: pd.DataFrame, rows: list[dict], path: Path) -> pd.DataFrame:
    retrainings = pd.concat([earlier, pd.DataFrame(rows, columns=_COLUMNS)], ignore_index=True)
    retrainings = retrainings.drop_duplicates(["arch_id", "seed"], keep="last")
    write_csv(retrainings[_COLUMNS], path)
    return retrainings


def apply_retrainings(folder: Path, table: pd.DataFrame) -> pd.DataFrame:
    """The run's results (records, front, plot, configs) written again with every re-training
    kept in its rerank.csv, if it has one: what a resumed search, which rebuilds its records
    from Ray's, needs so as not to lose its re-ranked front."""
    path = Path(folder) / RERANK_FILE
    if path.is_file():
        table = with_retrainings(table, _earlier(path))
    return write_results(Path(folder), table)
