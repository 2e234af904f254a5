"""The search's parts without running one: options, records, rewards, schedulers, rejections, fidelity set-up."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from infra.errors import OptionsError
from proxies.config import ProxyConfig
from search import SearchOptions
from search.trial import reward
from search.trial_records import trial_status
from search_space import (
    ArchSpec,
    Budget,
    SearchSpace,
    UserError,
    count_flops,
    preset,
)


def test_options_round_trip_and_name_bad_keys(tmp_path):
    options = SearchOptions(output=str(tmp_path), num_samples=3, budget=Budget(0.01, 0.08),
                            space=SearchSpace(frames=(8, 12)), proxy=ProxyConfig(epochs=2))
    options.save(tmp_path)
    assert SearchOptions.load(tmp_path) == options
    saved = json.loads((tmp_path / "options.json").read_text())
    for mutate, message in [
        (lambda d: d["proxy"].update(epocs=3), r"proxy.epocs: unknown field"),
        (lambda d: d["proxy"]["recipe"].update(learning_rate="4"), r"proxy.recipe.learning_rate: must be a number"),
        (lambda d: d["proxy"].update(replicas=0), r"proxy.replicas: must be at least 1, got 0"),
        (lambda d: d["data"]["synthetic"].update(num_classes=2.5), r"data.synthetic.num_classes: must be an integer"),
        (lambda d: d["space"].update(frames=8), r"space.frames: must be a list"),
        (lambda d: d.update(search_alg="grid"), r"search_alg: 'grid' is not one of random, optuna, nsga2"),
    ]:
        data = json.loads(json.dumps(saved))
        mutate(data)
        (tmp_path / "options.json").write_text(json.dumps(data))
        with pytest.raises(OptionsError, match=message):
            SearchOptions.load(tmp_path)
    with pytest.raises(OptionsError, match="no options.json"):
        SearchOptions.load(tmp_path / "absent")


def test_tunas_reward():
    assert reward(0.6, 0.05, "accuracy", 0.1) == 0.6
    assert reward(0.6, 0.05, "tunas", 0.1) == pytest.approx(0.6 - 0.5 * 0.5)
    assert reward(0.6, 0.15, "tunas", 0.1) == pytest.approx(0.6 - 0.5 * 0.5)
    assert reward(0.6, 0.1, "tunas", None) == 0.6
    assert reward(float("nan"), 0.1, "tunas", 0.1) == 0.0


def test_trial_status_maps_early_stopping():
    assert trial_status({"status": "running", "top1": 0.3}, None) == "stopped_early"  # ASHA ended it
    assert trial_status({"status": "ok"}, None) == "ok"
    assert trial_status({"status": "diverged"}, None) == "diverged"
    assert trial_status({}, "RuntimeError: boom") == "error"
    assert trial_status({}, None) == "error"  # never reported


def test_default_search_stops_early_with_asha():
    from search.ray_engine import _tune_config
    from search.trial import TrialTask
    from search.trial_records import RejectionLog

    options = SearchOptions(output="x")
    task = TrialTask(options.space, options.data, options.proxy, options.budget, options.reward, 6)
    config = _tune_config(options, task, RejectionLog(REPO / "unused.csv", options.space), None)
    # Four trials report every epoch, the best first: ASHA may stop the worse ones only from the
    # grace period (3/4 of the epochs) on, and lets the best finish.
    from types import SimpleNamespace

    from ray.tune.schedulers import TrialScheduler

    scheduler, trials, stopped = config.scheduler, [SimpleNamespace(trial_id=f"t{i}") for i in range(4)], {}
    for trial in trials:
        scheduler.on_trial_add(None, trial)
    for epoch in range(1, options.proxy.epochs + 1):
        for top1, trial in reversed(list(enumerate(trials))):
            if trial.trial_id not in stopped and scheduler.on_trial_result(
                    None, trial, {"training_iteration": epoch, "top1": top1 / 10}) == TrialScheduler.STOP:
                stopped[trial.trial_id] = epoch
    grace = 3 * options.proxy.epochs // 4
    assert stopped == {"t2": grace, "t1": grace, "t0": grace, "t3": options.proxy.epochs}


def test_workers_do_not_print_their_sigterm_exit_from_a_gc_callback():
    # Ray stops idle workers with SIGTERM, whose handler raises SystemExit wherever the worker is,
    # sometimes inside a weakref callback: Python then prints "Exception ignored" and a traceback.
    code = """
import functools, sys, weakref
from infra.ray_cluster import quiet_exit_in_callbacks
sys.unraisablehook = functools.partial(quiet_exit_in_callbacks, report=sys.unraisablehook)
class Thing: pass
def collect(error):
    thing = Thing()
    def callback(_):
        raise error
    ref = weakref.ref(thing, callback)
    del thing
    return ref
collect(SystemExit(1)); collect(ValueError("still reported"))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0 and "SystemExit" not in run.stderr and "still reported" in run.stderr, run.stderr


def test_a_search_resumes_only_with_its_own_options(tmp_path):
    from conftest import write_run
    from search import SearchOptions, run_search

    write_run(tmp_path / "run", trials=2)
    stored = SearchOptions.load(tmp_path / "run")
    before = (tmp_path / "run" / "options.json").read_bytes()
    with pytest.raises(UserError, match=r"holds a search with other options \(num_samples differs\)"):
        run_search(stored.__class__(**{**stored.__dict__, "num_samples": 1}), resume=True)
    assert (tmp_path / "run" / "options.json").read_bytes() == before


def test_rejections_keep_the_spaces_columns_whatever_order_a_searcher_gives(tmp_path):
    from search.trial_records import RejectionLog

    space = SearchSpace(depths=((1, 2),) * 5, kernels=("1x3x3", "3x3x3"))
    log = RejectionLog(tmp_path / "rejected.csv", space)
    first = space.sample(random.Random(0))
    log({**first, "gflops": 0.5, "status": "rejected_budget"})
    second = dict(reversed(list(space.sample(random.Random(1)).items())))  # e.g. an Optuna suggestion
    log({"gflops": 0.7, "status": "rejected_budget", **second})
    table = pd.read_csv(tmp_path / "rejected.csv")
    assert list(table.columns) == [*space.choices(), "gflops", "status"]
    assert table["block0_width"].tolist() == [first["block0_width"], second["block0_width"]]
    assert table["gflops"].tolist() == [0.5, 0.7]


def test_a_family_members_record_is_at_its_input_and_keeps_the_proxys():
    from search.trial_records import trial_record

    trained = SearchSpace().to_spec(SearchSpace().sample(random.Random(3)))
    a3 = preset("a3").input
    row = trial_record("t1", trained, 600, {"status": "ok", "top1": 0.5}, member_input=a3)
    spec = ArchSpec.from_dict(json.loads(row["spec"]))
    assert spec.input == a3 and (row["frames"], row["resolution"]) == (120, 256)
    assert row["gflops"] == pytest.approx(count_flops(trained, 120, 256).gflops)
    assert (row["train_frames"], row["train_resolution"]) == (8, 32)
    assert row["train_gflops"] == pytest.approx(count_flops(trained).gflops) and row["train_gflops"] < row["gflops"] / 100


def test_reference_is_longer_by_default_and_takes_its_own_steps(tmp_path):
    from conftest import write_run
    from search import SearchOptions
    from search.fidelity import FidelityOptions, training_setup

    write_run(tmp_path / "run", trials=3)
    run = SearchOptions.load(tmp_path / "run")
    default = training_setup(FidelityOptions(run=str(tmp_path / "run")), run)
    assert default.proxy == run.proxy and default.reference.epochs == 3 * run.proxy.epochs
    assert default.reference.steps_per_epoch is None and default.reference_data.synthetic.clips_per_class == 10
    assert default.reference_data.synthetic.num_classes == 3
    chosen = training_setup(FidelityOptions(run=str(tmp_path / "run"), epochs=24, clips=5, classes=4, steps=18), run)
    assert (chosen.reference.epochs, chosen.reference.steps_per_epoch) == (24, 18)
    assert chosen.reference_data.synthetic.clips_per_class == 5 and chosen.proxy == run.proxy
    assert chosen.reference_data.synthetic.num_classes == 4 and chosen.data.synthetic.num_classes == 3


def test_proxy_flags_describe_another_proxy_on_the_runs_settings(tmp_path):
    from cli import parser_for
    from cli.fidelity import _measured_proxy
    from conftest import write_run

    write_run(tmp_path / "run", trials=3)
    args = parser_for("fidelity").parse_args(["--run", str(tmp_path / "run")])
    assert _measured_proxy(args) == (None, None)  # no flag: the run's own proxy
    args = parser_for("fidelity").parse_args(["--run", str(tmp_path / "run"), "--proxy-epochs", "16",
                                              "--proxy-classes", "4", "--proxy-steps", "0",
                                              "--proxy-actor-scale", "1.3"])
    proxy, data = _measured_proxy(args)
    assert (proxy.epochs, proxy.steps_per_epoch, proxy.batch_size) == (16, None, 4)
    assert (data.synthetic.num_classes, data.synthetic.clips_per_class, data.synthetic.actor_scale) == (4, 5, 1.3)


def test_a_distilled_or_warmed_up_proxy_is_its_own_setting_and_the_reference_is_neither(tmp_path):
    from cli import parser_for
    from cli.fidelity import _measured_proxy
    from conftest import write_run
    from search import SearchOptions
    from search.fidelity import FidelityOptions, _settings, training_setup

    write_run(tmp_path / "run", trials=3)
    run = SearchOptions.load(tmp_path / "run")
    plain = training_setup(FidelityOptions(run=str(tmp_path / "run")), run)
    args = parser_for("fidelity").parse_args(["--run", str(tmp_path / "run"), "--proxy-teacher", "t.teacher",
                                              "--proxy-distillation", "0.3", "--proxy-curriculum-epochs", "4"])
    proxy, data = _measured_proxy(args)
    assert proxy.teacher == str(tmp_path.cwd() / "t.teacher") and proxy.distillation == 0.3  # absolute for Ray
    assert (proxy.curriculum_epochs, proxy.curriculum_actor_scale) == (4, 1.6)
    distilled = training_setup(FidelityOptions(run=str(tmp_path / "run"), proxy=proxy, proxy_data=data), run)
    assert distilled.reference.teacher is None and distilled.reference.curriculum_epochs == 0
    assert _settings(distilled)["reference"] == _settings(plain)["reference"]
    assert _settings(distilled)["proxy"] != _settings(plain)["proxy"]


def test_grid_rows_skip_jobs_an_interrupted_grid_never_started():
    """Ctrl-C during a grid: Tune returns the unstarted trials without a config (it used to crash)."""
    from types import SimpleNamespace

    from search.grid import GridJob, grid_rows

    jobs = {key: GridJob(key, None, None, None, {"arch_id": key[:1]})
            for key in ("a-proxy-1", "b-proxy-1", "c-proxy-1")}
    finished = SimpleNamespace(config={"key": "a-proxy-1"}, error=None, metrics={"status": "ok"},
                               metrics_dataframe=pd.DataFrame({"top1": [0.2, 0.4]}))
    stopped = SimpleNamespace(config={"key": "b-proxy-1"}, error=None, metrics={"status": "running"},
                              metrics_dataframe=pd.DataFrame({"top1": [0.3]}))
    unstarted = SimpleNamespace(config=None, error=None, metrics=None, metrics_dataframe=None)
    rows = grid_rows([finished, stopped, unstarted], jobs)
    assert [(r["key"], r["status"], r["top1"]) for r in rows[:1]] == [("a-proxy-1", "ok", 0.4)]
    assert len(rows) == 2 and rows[1]["status"] == "running" and np.isnan(rows[1]["top1"])
