"""Scaling by training: coefficient fits, X3D, a family searched on a 2-node cluster, a family trained."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO, tiny_spec
from scaling import (
    Compound,
    Greedy,
    official_targets,
    parse_rule,
    scale,
)
from search_space import (
    ArchSpec,
    EnsembleSpec,
    SearchSpace,
    load_arch,
)

TINY_DATA = ["--epochs", "1", "--batch-size", "4", "--synthetic-classes", "3", "--synthetic-clips", "5"]


def _cli(*args):
    run = subprocess.run([sys.executable, str(REPO / "run_search.py"), *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.mark.e2e
def test_fit_compound_coefficients_by_proxy_training(tmp_path):
    import json

    import pandas as pd

    _cli("scale", "--fit", "--base", "t0", "--candidates", "2", "--fit-frames", "4", "--fit-resolution", "32",
         "--targets", "a0", "--output", str(tmp_path), *TINY_DATA)
    fit = pd.read_csv(tmp_path / "fit.csv")
    assert len(fit) == 2 and all(parse_rule(key).multipliers(1.0).cost == pytest.approx(product)  # replayable names
                                 for key, product in zip(fit["key"], fit["cost_product"]))
    assert fit["cost_product"].between(1.8, 2.2).all() and fit["top1"].between(0, 1).all()
    chosen = json.loads((tmp_path / "fitted.json").read_text())["chosen"]
    best = fit.set_index("key").loc[chosen["name"]]
    assert best["top1"] == fit["top1"].max() and chosen["depth"] == pytest.approx(best["depth"])
    assert parse_rule(f"fitted:{tmp_path}").depth == pytest.approx(best["depth"])
    assert abs(pd.read_csv(tmp_path / "family.csv")["deviation"].iloc[0]) <= 0.03  # a0 emitted with it
    assert (tmp_path / "fit.png").stat().st_size > 1000


@pytest.mark.e2e
def test_family_of_two_scaled_searches_on_a_two_node_cluster(tmp_path):
    # Two searches run as concurrent Ray tasks on a 2-node cluster, their trials on both nodes.
    import pandas as pd
    from ray.cluster_utils import Cluster

    space = SearchSpace(depths=((1, 2),) * 5, kernels=("1x3x3", "3x3x3"))
    space.to_yaml(tmp_path / "space.yaml")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    try:
        run = _cli("family", "--targets", "a0,a1", "--num-samples", "1", "--scheduler", "none", "--space",
                   str(tmp_path / "space.yaml"), "--output", str(tmp_path / "family"), "--address", cluster.address,
                   *TINY_DATA)
    finally:
        cluster.shutdown()
    family = pd.read_csv(tmp_path / "family" / "family.csv")
    nodes = {pd.read_csv(tmp_path / "family" / "searches" / m / "trials.csv")["node"].iloc[0] for m in ("a0", "a1")}
    assert len(nodes) == 2
    assert family["member"].tolist() == ["a0", "a1"] and "the family's specs in" in run.stdout
    for row in family.itertuples():  # the budget is each member's, at its published input shape
        target = dict((t.name, t) for t in official_targets([row.member]))[row.member]
        assert 0.9 * target.gflops <= row.gflops <= 1.1 * target.gflops  # at the member's own input shape
        assert (row.frames, row.resolution) == (target.input.frames, target.input.resolution)
        assert ArchSpec.from_yaml(tmp_path / "family" / "specs" / f"{row.member}.yaml").input == target.input
        searched = pd.read_csv(tmp_path / "family" / "searches" / row.member / "trials.csv")
        assert (searched["train_frames"] == 8).all() and (searched["frames"] == target.input.frames).all()
        assert isinstance(load_arch(str(tmp_path / "family" / "specs" / f"{row.member}.yaml")), ArchSpec)


def _train_family(tmp_path, members: dict[str, float]):
    import pandas as pd

    family = tmp_path / "family"
    (family / "specs").mkdir(parents=True)
    for name, phi in members.items():
        scale(tiny_spec(name, 4, 32), Compound(), phi).replace(name=name).to_yaml(family / "specs" / f"{name}.yaml")
    EnsembleSpec("pair", (tiny_spec("a", 4, 32), tiny_spec("b", 4, 32))).to_yaml(family / "specs" / "pair.yaml")
    command = ["train-family", "--family", str(family), "--epochs", "1", "--batch-size", "4", "--synthetic-classes",
               "3", "--synthetic-clips", "5", "--synthetic-frames", "8"]
    _cli(*command)
    results = pd.read_csv(family / "family_results.csv")
    assert results["member"].tolist() == list(members)  # by GFLOPs; the ensemble is not trained alone
    assert results["top1"].between(0, 1).all() and (family / "family_accuracy.png").stat().st_size > 1000
    return family, command


@pytest.mark.e2e
def test_train_family_trains_its_member(tmp_path):
    _train_family(tmp_path, {"small": -1.0})


@pytest.mark.slow
def test_train_family_trains_every_member_and_resumes(tmp_path):
    family, command = _train_family(tmp_path, {"small": -1.0, "large": 1.0})
    before = (family / "trained" / "small" / "result.json").stat().st_mtime
    _cli(*command, "--resume")
    assert (family / "trained" / "small" / "result.json").stat().st_mtime == before  # finished members are kept


@pytest.mark.slow
def test_x3d_expands_one_axis_per_step_by_proxy_training(tmp_path):
    import json

    import pandas as pd

    _cli("scale", "--rule", "x3d", "--steps", "1", "--base", "t0", "--fit-frames", "4", "--fit-resolution", "32",
         "--targets", "a0", "--output", str(tmp_path), *TINY_DATA)
    fit = pd.read_csv(tmp_path / "fit.csv")
    assert sorted(fit["axis"]) == sorted(["depth", "width", "resolution", "frames"])
    path = json.loads((tmp_path / "fitted.json").read_text())["chosen"]["path"]
    assert path == [fit.loc[fit["top1"].idxmax(), "axis"]]
    assert parse_rule(f"fitted:{tmp_path}") == Greedy(tuple(path))
