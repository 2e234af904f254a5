"""The fidelity command end to end: proxy and reference trainings, the noise ceiling, resumed."""
from __future__ import annotations

import json

import pandas as pd
import pytest


def _fidelity(tmp_path, seeds: int, zero_cost: bool = False):
    import subprocess
    import sys

    from conftest import REPO, write_run

    write_run(tmp_path / "run", trials=3)
    command = [sys.executable, str(REPO / "run_search.py"), "fidelity", "--run", str(tmp_path / "run"),
               "--seeds", str(seeds), "--epochs", "1", "--clips", "6"] + (["--zero-cost"] if zero_cost else [])
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "proxy vs reference" in done.stdout and "noise ceiling" in done.stdout
    folder = tmp_path / "run" / "fidelity"
    trainings = pd.read_csv(folder / "trainings.csv")
    assert sorted(trainings.groupby("kind").size().items()) == [("proxy", 3 * seeds), ("reference", 3 * seeds)]
    assert trainings["top1"].between(0, 1).all() and trainings["setting"].nunique() == 2
    assert all(len(json.loads(c)) == 1 for c in trainings.loc[trainings["kind"] == "proxy", "curve"])
    report = json.loads((folder / "fidelity.json").read_text())
    assert report["architectures"] == 3 and report["proxy_vs_reference_kendall"]["n"] == 3
    assert "run_vs_reference_kendall" in report  # the search's own scores count as seed 0
    assert len(pd.read_csv(folder / "fidelity.csv")) == 3 and (folder / "fidelity.png").stat().st_size > 1000
    if zero_cost:  # each score ranked against the reference, beside GFLOPs
        scores = pd.read_csv(folder / "zero_cost.csv")
        assert len(scores) == 3 and scores[["synflow", "naswot", "grad_norm", "entropy"]].notna().all().all()
        assert report["entropy_vs_reference_spearman"]["n"] == 3 and "synflow vs reference" in done.stdout
    grids = sorted((folder / "ray").iterdir())
    refused = subprocess.run(command, capture_output=True, text=True)  # a measurement is there: --resume or elsewhere
    assert refused.returncode == 2 and "already holds a fidelity measurement" in refused.stderr
    again = subprocess.run(command + ["--resume"], capture_output=True, text=True)  # finished ones are not redone
    assert again.returncode == 0 and sorted((folder / "ray").iterdir()) == grids
    assert pd.read_csv(folder / "trainings.csv").equals(trainings)
    assert "zero-cost scores:" not in again.stdout  # scored once per proxy setting, kept
    return report


@pytest.mark.e2e
def test_fidelity_command_on_three_tiny_architectures(tmp_path):
    _fidelity(tmp_path, seeds=1, zero_cost=True)


@pytest.mark.slow
def test_fidelity_command_with_two_seeds_measures_the_noise_ceiling(tmp_path):
    report = _fidelity(tmp_path, seeds=2)
    assert report["proxy_seed_vs_seed_kendall"]["n"] == report["reference_seed_vs_seed_kendall"]["n"] == 3
