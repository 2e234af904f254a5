"""Scaling rules fitted by proxy training: compound coefficients by random search (the paper's
way) and X3D's greedy one-axis-at-a-time expansion.

Both train small: the base at the proxy input (8 x 32^2 by default) scaled by each candidate,
on synthetic data generated at twice that resolution and frame count so that scaling
resolution or frames shows real detail rather than upsampled pixels. Results go to the output
folder: `fit.csv` (every candidate and its top-1), `fit.png`, and `fitted.json`, which
`--rule fitted:DIR` reads.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.plots import plot_candidates
from infra.files import save_figure, write_csv, write_text
from infra.run_folder import RunKind, claim_output
from scaling import AXES, Greedy, Multipliers, apply_multipliers, scale
from scaling.fit import sample_coefficients
from search_space import ArchSpec, count_flops

from .grid import GridJob, train_grid
from .options import FitOptions

__all__ = ["fit_compound", "fit_x3d", "FIT_RUN"]

FIT_RUN = RunKind("scaling-rule fit", ("fitted.json", "fit.csv", "ray/fit", "ray/x3d_step*"))


def _train(options: FitOptions, name: str, candidates: list[tuple[str, ArchSpec, dict]]) -> pd.DataFrame:
    data = options.data_for([spec for _, spec, _ in candidates])
    jobs = [GridJob(key, spec, options.proxy, data, info | {"gflops": count_flops(spec).gflops})
            for key, spec, info in candidates]
    return pd.DataFrame(train_grid(jobs, Path(options.output), name, options.cpus, options.address, options.resume))


def fit_compound(base: ArchSpec, options: FitOptions) -> dict:
    """Random search over coefficient sets at phi = 1; the best top-1 wins. Returns fitted.json."""
    claim_output(options.output, FIT_RUN, options.resume)
    start = options.base(base)
    candidates = []
    for rule in sample_coefficients(options.candidates, options.seed):
        coefficients = {axis: getattr(rule, axis) for axis in AXES}
        candidates.append((rule.name, scale(start, rule, 1.0), coefficients))
    table = _train(options, "fit", candidates)
    table["cost_product"] = [Multipliers(**{a: row[a] for a in AXES}).cost for _, row in table.iterrows()]
    table["label"] = [f"{row.key}  (cost x{row.cost_product:.2f})" for row in table.itertuples()]
    chosen = table.loc[table["top1"].idxmax()]
    result = {"chosen": {axis: float(chosen[axis]) for axis in AXES} | {"name": chosen["key"]},
              "candidates": table.drop(columns=["curve"]).to_dict("records")}
    _write(Path(options.output), table, result, "compound coefficient candidates at phi = 1")
    return result


def fit_x3d(base: ArchSpec, options: FitOptions) -> dict:
    """X3D: at each step expand each axis once (about 2x cost) from the current network, train
    the four candidates and keep the best axis. Returns fitted.json with the path."""
    claim_output(options.output, FIT_RUN, options.resume)
    current, path, tables = options.base(base), [], []
    factors = dict(Greedy(()).factors)
    for step in range(options.steps):
        candidates = []
        for axis in AXES:
            spec = apply_multipliers(current, Multipliers(**{axis: factors[axis]}))
            candidates.append((f"step{step}_{axis}", spec.replace(name=f"{base.name}_x3d_{'_'.join(path + [axis])}"),
                               {"step": step, "axis": axis}))
        table = _train(options, f"x3d_step{step}", candidates)
        best = table.loc[table["top1"].idxmax()]
        table["label"] = [f"step {step}: {axis}{' (kept)' if axis == best['axis'] else ''}" for axis in table["axis"]]
        path.append(best["axis"])
        current = dict((key, spec) for key, spec, _ in candidates)[best["key"]]
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    result = {"chosen": {"path": path}, "candidates": table.drop(columns=["curve"]).to_dict("records")}
    _write(Path(options.output), table, result, "X3D expansion: each step's four candidates")
    return result


def _write(folder: Path, table: pd.DataFrame, result: dict, title: str) -> None:
    write_csv(table, folder / "fit.csv")
    write_text(folder / "fitted.json", json.dumps(result, indent=2, default=float))
    save_figure(plot_candidates(table, title), folder / "fit.png")
