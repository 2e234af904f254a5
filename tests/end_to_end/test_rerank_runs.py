"""Re-ranking end to end: a search's best architectures re-trained with fresh seeds, the front
quoted by their mean with its spread, a second run refused, and more seeds added with --resume."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO
from search_space import SearchSpace

TINY = ["--epochs", "1", "--batch-size", "4", "--synthetic-classes", "3", "--synthetic-clips", "5",
        "--synthetic-frames", "8", "--synthetic-resolution", "32"]


def _run(*args):
    return subprocess.run([sys.executable, str(REPO / "run_search.py"), *map(str, args)], capture_output=True,
                          text=True)


@pytest.mark.e2e
def test_search_reranks_its_front_and_rerank_extends_it(tmp_path):
    output = tmp_path / "run"
    SearchSpace(depths=((1, 1),) * 5).to_yaml(tmp_path / "space.yaml")
    search = _run("search", "--output", output, *TINY, "--num-samples", "2", "--scheduler", "none",
                  "--space", tmp_path / "space.yaml", "--rerank", "2", "--rerank-seeds", "1")
    assert search.returncode == 0, search.stderr[-3000:]
    assert "front of the re-ranked architectures" in search.stdout
    retrainings = pd.read_csv(output / "rerank.csv")
    trials = pd.read_csv(output / "trials.csv")
    assert len(retrainings) == 2 and (retrainings["status"] == "ok").all() and (retrainings["seed"] == 1).all()
    assert set(retrainings["arch_id"]) == set(trials["arch_id"]) and trials["top1_n"].eq(1).all()
    # The fresh seed's score is the mean, not the trial's own (the score that picked it).
    assert (trials["top1_mean"] == trials["arch_id"].map(retrainings.set_index("arch_id")["top1"])).all()

    refused = _run("rerank", "--run", output)  # already re-ranked: nothing is trained or written
    assert refused.returncode == 2 and "already re-ranked" in refused.stderr
    assert pd.read_csv(output / "rerank.csv").equals(retrainings)

    more = _run("rerank", "--run", output, "--top", "2", "--seeds", "2", "--resume")
    assert more.returncode == 0, more.stderr[-3000:]
    retrainings = pd.read_csv(output / "rerank.csv")
    assert sorted(retrainings["seed"]) == [1, 1, 2, 2] and (retrainings["status"] == "ok").all()
    assert len(list((output / "ray").glob("rerank-*"))) == 2  # the second grid trained only the new seed
    trials, front = pd.read_csv(output / "trials.csv"), pd.read_csv(output / "pareto.csv")
    assert trials["top1_n"].eq(2).all() and len(front) >= 1
    for _, row in front.iterrows():  # every seed kept; the front quoted by their mean and its interval
        seeds = json.loads(row["top1_seeds"])
        assert row["top1_mean"] == pytest.approx(sum(seeds) / 2)
        assert row["top1_low"] <= row["top1_mean"] <= row["top1_high"]
    configs = sorted(p.stem for p in (output / "configs").glob("*.yaml"))
    assert configs == sorted(f"pareto_{t}" for t in front["trial_id"])
    assert "top1_mean" in (output / "report.html").read_text()
