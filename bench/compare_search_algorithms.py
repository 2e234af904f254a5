#!/usr/bin/env python3
"""Do the search algorithms find better fronts than random sampling, at equal cost?

Runs each algorithm (`--algorithms`, default random, optuna (TPE) and nsga2) with each seed at
the same number of trials, space, budget, proxy and scheduler, one search folder each under
`--output`; a comparison stopped part-way continues where it stopped (finished searches are
kept, an unfinished one resumes). Each run's front is then scored not by its own noisy proxy
numbers but by the fidelity reference (`search.fidelity.training_setup`; by default the 14-class
reference of docs/fidelity.md: 32 epochs of 18 steps on 240 clips a class, one seed): the
union of the fronts' architectures is trained once, as one resumable Ray Tune grid, and every
run's front is redrawn on its architectures' reference top-1. It prints and writes
(`comparison.csv`, `comparison.json` in `--output`):

- per run: CPU-hours its trials took, the hypervolume of its front on the proxy's scores and on
  the reference's (`analysis.hypervolume`: error [0, 1] x log10 GFLOPs [0.001, 100]), front size;
- per algorithm: mean and standard deviation over seeds, and the one-sided Mann-Whitney U
  p-value (scipy) that its reference hypervolume beats random's. With n seeds a side the exact
  test's smallest p is 1 / C(2n, n): 0.05 for 3 seeds, 0.014 for 4, 0.004 for 5.

    python bench/compare_search_algorithms.py --output runs/algorithms --seeds 3 --num-samples 16
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from analysis import load_run  # noqa: E402
from analysis.hypervolume import hypervolume  # noqa: E402
from analysis.pareto import ACCURACY_VS_COST, pareto_front  # noqa: E402
from analysis.records import trained_spec_of  # noqa: E402
from infra.files import write_csv, write_json  # noqa: E402
from proxies.config import ProxyConfig  # noqa: E402
from search import SearchOptions, TrialResources, run_search  # noqa: E402
from search.fidelity import FidelityOptions, training_setup  # noqa: E402
from search.grid import GridJob, train_grid  # noqa: E402
from search.options import SEARCH_ALGORITHMS  # noqa: E402
from search_space import Budget  # noqa: E402


def run_searches(args: argparse.Namespace) -> dict[tuple[str, int], Path]:
    """Every (algorithm, seed) search, run or resumed to completion; their folders."""
    folders = {}
    for algorithm in args.algorithms:
        for seed in range(args.seeds):
            folder = args.output / f"{algorithm}-{seed}"
            options = SearchOptions(output=str(folder), num_samples=args.num_samples, search_alg=algorithm,
                                    seed=seed, scheduler=args.scheduler, budget=Budget.parse(args.gflops),
                                    proxy=dataclasses.replace(ProxyConfig(), epochs=args.epochs),
                                    resources=TrialResources(cpus=args.cpus_per_trial))
            options = options.smoke_test() if args.smoke_test else options
            if (folder / "options.json").is_file():  # a comparison stopped part-way: that search's own options
                options = SearchOptions.load(folder)
            table = load_run(folder) if (folder / "trials.parquet").is_file() else None
            if table is None or (table["status"] == "interrupted").any() or len(table) < options.num_samples:
                print(f"search {folder.name} ...", flush=True)
                run_search(options, resume=(folder / "options.json").is_file())
            folders[algorithm, seed] = folder
    return folders


def reference_scores(args: argparse.Namespace, folders: dict[tuple[str, int], Path]) -> pd.Series:
    """The reference top-1 of every architecture on any run's front (arch_id -> top-1), each
    trained once; finished trainings are kept in reference.csv."""
    fronts = pd.concat([load_run(f).query("pareto") for f in folders.values()]).drop_duplicates("arch_id")
    path = args.output / "reference.csv"
    kept = pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=["arch_id", "status", "top1", "curve"])
    finished = set(kept.loc[kept["status"] == "ok", "arch_id"])
    first = next(iter(folders.values()))
    setup = training_setup(FidelityOptions(run=str(first), epochs=args.reference_epochs, clips=args.reference_clips,
                                           steps=args.reference_steps), SearchOptions.load(first))
    jobs = []
    for row in fronts[~fronts["arch_id"].isin(finished)].itertuples():
        spec, proxy, data = setup.job(trained_spec_of(row._asdict()), "reference")
        jobs.append(GridJob(row.arch_id, spec, dataclasses.replace(proxy, seed=1), data, {"arch_id": row.arch_id}))
    if jobs:
        name = "reference-" + hashlib.sha1(" ".join(sorted(j.key for j in jobs)).encode()).hexdigest()[:8]
        rows = train_grid(jobs, args.output, name, args.cpus_per_trial,
                          resume=(args.output / "ray" / name).exists())
        kept = pd.concat([kept, pd.DataFrame(rows)[list(kept.columns)]], ignore_index=True)
        write_csv(kept, path)
    ok = kept[kept["status"] == "ok"]
    return ok.set_index("arch_id")["top1"]


def run_row(algorithm: str, seed: int, folder: Path, reference: pd.Series) -> dict:
    """One run's cost and the hypervolume of its front on the proxy's and the reference's scores."""
    table = load_run(folder)
    front = table[table["pareto"]]
    on_reference = front.assign(top1=front["arch_id"].map(reference))
    return {"algorithm": algorithm, "seed": seed, "trials": len(table),
            "cpu_hours": float(table["wall_time_s"].sum() * SearchOptions.load(folder).resources.cpus / 3600),
            "front": len(front), "hypervolume_proxy": hypervolume(front, objectives=ACCURACY_VS_COST),
            "hypervolume_reference": hypervolume(on_reference[pareto_front(on_reference)],
                                                 objectives=ACCURACY_VS_COST),
            "best_reference_top1": float(on_reference["top1"].max())}


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm: mean and SD over seeds, and whether it beats random (one-sided Mann-Whitney U)."""
    rows = []
    baseline = runs.loc[runs["algorithm"] == "random", "hypervolume_reference"]
    for algorithm, part in runs.groupby("algorithm", sort=False):
        row = {"algorithm": algorithm, "seeds": len(part)}
        for column in ("cpu_hours", "hypervolume_proxy", "hypervolume_reference", "best_reference_top1"):
            row[f"{column}_mean"], row[f"{column}_sd"] = part[column].mean(), part[column].std(ddof=1)
        beats = (stats.mannwhitneyu(part["hypervolume_reference"], baseline, alternative="greater").pvalue
                 if algorithm != "random" and len(baseline) and len(part) else float("nan"))
        rows.append({**row, "p_beats_random": beats})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--algorithms", nargs="+", default=["random", "optuna", "nsga2"], choices=SEARCH_ALGORITHMS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--num-samples", type=int, default=16)
    parser.add_argument("--gflops", default=None, help="budget MIN:MAX (default: the search's)")
    parser.add_argument("--scheduler", default="asha")
    parser.add_argument("--epochs", type=int, default=ProxyConfig().epochs, help="proxy epochs")
    parser.add_argument("--reference-epochs", type=int, default=32)
    parser.add_argument("--reference-clips", type=int, default=240)
    parser.add_argument("--reference-steps", type=int, default=18)
    parser.add_argument("--cpus-per-trial", type=float, default=1.0)
    parser.add_argument("--smoke-test", action="store_true",
                        help="every search at the smoke-test size (2 one-epoch trials, tiny data): checks the script")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    folders = run_searches(args)
    reference = reference_scores(args, folders)
    runs = pd.DataFrame([run_row(a, s, f, reference) for (a, s), f in folders.items()])
    table = summary(runs)
    write_csv(runs, args.output / "comparison.csv")
    write_json(args.output / "comparison.json", json.loads(table.to_json(orient="records")))
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.precision", 3):
        print(runs.to_string(index=False))
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
