"""The package layers: a TensorFlow-free core, one typed options tree, errors that say what is wrong."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO
from infra.errors import OptionsError
from proxies.config import ProxyConfig
from search import SearchOptions
from search.trial import reward
from search.trial_records import trial_status
from search_space import Budget, SearchSpace, UserError, preset

RUNTIMES = {"tensorflow", "keras", "ray"}


@pytest.mark.parametrize("modules", ["infra", "search_space", "scaling", "analysis", "search.options", "proxies.config"])
def test_core_packages_import_no_deep_learning_runtime(modules):
    code = (f"import sys, {modules}; loaded = {sorted(RUNTIMES)!r}; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in loaded); assert not bad, bad")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr[-800:]


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


def test_cli_defaults_come_from_the_options_tree():
    from cli.common import Parser
    from cli.search import add_search_args, search_options

    parser = Parser()
    add_search_args(parser)
    assert search_options(parser.parse_args(["--output", "x"]), "x") == SearchOptions(output="x")


def _cli(*args):
    return subprocess.run([sys.executable, str(REPO / "run_search.py"), *args], capture_output=True, text=True)


def test_cli_reports_bad_input_in_one_line_and_bugs_with_a_traceback(tmp_path, monkeypatch):
    run = _cli("train", "--arch", "a0", "--data", str(tmp_path / "absent"), "--output", str(tmp_path / "out"))
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0 and "absent" in run.stderr
    run = _cli("search", "--resume", "--output", str(tmp_path))
    assert run.returncode == 2 and "no options.json" in run.stderr
    sys.path.insert(0, str(REPO))
    import run_search

    def bug(args):
        raise RuntimeError("a bug")

    import cli.flops

    monkeypatch.setattr(cli.flops, "run", bug)
    with pytest.raises(RuntimeError, match="a bug"):  # not turned into exit status 2
        run_search.main(["flops", "--arch", "a0"])


def test_stream_specs_train_as_3d_2plus1d():
    from training.trainer import training_spec

    stream = preset("a0", stream=True)
    assert training_spec(stream) == stream.replace(conv_type="3d_2plus1d")
    assert training_spec(preset("a0")) == preset("a0")


def test_multiworker_corrections_refuse_a_keras_without_their_symbols(monkeypatch):
    from training import multiworker

    monkeypatch.setattr(multiworker, "_originals", {})
    monkeypatch.setitem(multiworker._PATCHED, "keras.src.backend.tensorflow.trainer", ("gone_in_this_version",))
    with pytest.raises(multiworker.UnsupportedKerasError, match=r"keras 3\.\d+.*train with one worker"):
        multiworker.enable()


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
    scheduler = config.scheduler
    assert type(scheduler).__name__ == "AsyncHyperBandScheduler"
    rungs = [milestone for milestone, _ in scheduler._brackets[0]._rungs]  # the first rung is the grace period
    assert scheduler._max_t == options.proxy.epochs and min(rungs) == 3 * options.proxy.epochs // 4


def test_user_errors_are_one_family():
    from infra.errors import RunExistsError
    from search_space import CheckpointMismatchError, SpecError
    from video_data.errors import DataError

    for error in (SpecError, CheckpointMismatchError, DataError, OptionsError, RunExistsError):
        assert issubclass(error, UserError)
