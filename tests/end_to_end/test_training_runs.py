"""Full training through Ray Train: killed and resumed, on one and two workers, with a quiet console."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import REPO, one_layer_t0


def _train_command(output, *extra):
    """A tiny t0 training; `extra` arguments override the defaults here (argparse keeps the last)."""
    return [sys.executable, str(REPO / "run_search.py"), "train", "--arch", "t0", "--data", "synthetic",
            "--output", str(output), "--epochs", "3", "--frames", "4", "--resolution", "32", "--frame-stride", "2",
            "--synthetic-classes", "3", "--synthetic-clips", "10", "--synthetic-frames", "8",
            "--synthetic-resolution", "32", *extra]


def _checkpoints(output):
    folder = output / "ray" / "train"
    return sorted(p for p in folder.glob("checkpoint_*")) if folder.is_dir() else []


def _killed_and_resumed(output, *args):
    """Starts a training, kills it after its first checkpoint, checks that it refuses to start
    over without --resume, resumes it and returns its result."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(_train_command(output, *args), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while not _checkpoints(output) and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert _checkpoints(output) and not (output / "result.json").exists()

    refused = subprocess.run(_train_command(output, *args), env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "pass --resume" in refused.stderr
    resumed = subprocess.run(_train_command(output, *args, "--resume"), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    console = resumed.stdout + resumed.stderr  # what a user reads: no noise that looks like a failure
    for noise in ("oneDNN", "cuInit", "PreemptionWatcher", "Reporting training result", "shuffle=True",
                  "ran out of data"):
        assert noise not in console, (noise, console[-3000:])
    result = json.loads((output / "result.json").read_text())
    # An epoch trained again after the kill (its checkpoint was written but not yet registered)
    # replaces its row in metrics.csv instead of adding a second one.
    epochs = [int(line.split(",")[0]) for line in (output / "metrics.csv").read_text().splitlines()[1:]]
    assert epochs == list(range(result["epochs"])), epochs
    return result


def _kill_resume_and_compare(tmp_path, reference_args, killed_args):
    """Runs a reference training, then another killed after its first checkpoint and resumed;
    both must end with the same result."""
    reference = subprocess.run(_train_command(tmp_path / "reference", *reference_args), capture_output=True,
                               text=True)
    assert reference.returncode == 0, reference.stderr[-2000:]
    expected = json.loads((tmp_path / "reference" / "result.json").read_text())
    result = _killed_and_resumed(tmp_path / "killed", *killed_args)
    assert result["epochs"] == expected["epochs"] == 3
    assert result["loss"] == pytest.approx(expected["loss"], rel=1e-4, abs=1e-5)
    assert result["top1"] == pytest.approx(expected["top1"], abs=1e-6)


NO_DROPOUT = ("--dropout", "0", "--stochastic-depth", "0")


@pytest.mark.e2e
def test_two_workers_killed_and_resumed_finish_the_schedule(tmp_path):
    # CI's short version of the test below: no reference run to compare with, a one-layer t0 and
    # 2 epochs (each process's first epoch traces the multi-worker step, most of the test's time).
    one_layer_t0().to_yaml(tmp_path / "one_layer_t0.yaml")
    result = _killed_and_resumed(tmp_path / "run", "--arch", str(tmp_path / "one_layer_t0.yaml"), "--epochs", "2",
                                 "--batch-size", "2", "--num-workers", "2", *NO_DROPOUT)
    assert result["epochs"] == 2 and 0 <= result["top1"] <= 1 and np.isfinite(result["loss"])


@pytest.mark.slow
def test_two_workers_killed_and_resumed_train_like_one_worker(tmp_path):
    # Ray Train with 2 data-parallel workers of batch 2 on local Ray, killed after its first
    # epoch and resumed, ends where 1 worker of batch 4 ends: shards, synchronised batch norm,
    # summed-then-clipped gradients. Dropout is off: its masks depend on how the batch is split.
    _kill_resume_and_compare(tmp_path, ("--batch-size", "4", *NO_DROPOUT),
                             ("--batch-size", "2", "--num-workers", "2", *NO_DROPOUT))


@pytest.mark.slow
def test_killed_training_with_dropout_resumes_to_the_same_result(tmp_path):
    _kill_resume_and_compare(tmp_path, ("--batch-size", "4"), ("--batch-size", "4"))


@pytest.mark.e2e
def test_fine_tuning_from_a_run_trains_only_the_classifier_and_records_its_start(tmp_path):
    from conftest import randomize_weights
    from search_space import build_model
    from training.initial_weights import backbone_variables

    spec = one_layer_t0()
    spec.to_yaml(tmp_path / "arch.yaml")
    source = build_model(spec, num_classes=3)
    randomize_weights(source, 1)
    (tmp_path / "start").mkdir()
    spec.to_yaml(tmp_path / "start" / "spec.yaml")
    source.save_weights(str(tmp_path / "start" / "model.weights.h5"))
    (tmp_path / "start" / "result.json").write_text(json.dumps({"num_classes": 3}))
    command = _train_command(tmp_path / "tuned", "--arch", str(tmp_path / "arch.yaml"), "--epochs", "1",
                             "--synthetic-classes", "4", "--init", str(tmp_path / "start"), "--freeze-backbone")
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads((tmp_path / "tuned" / "result.json").read_text())
    assert result["num_classes"] == 4 and result["freeze"] == "backbone"
    assert result["init"] == str(tmp_path / "start")
    tuned = build_model(spec, num_classes=4)
    tuned.load_weights(str(tmp_path / "tuned" / "model.weights.h5"))
    frozen = [v for layer in (tuned.stem, *tuned.bottlenecks, tuned.head) for v in layer.weights]
    originals = {v.path: np.array(v) for v in backbone_variables(source)}
    assert len(frozen) > 20
    for variable in frozen:
        np.testing.assert_array_equal(np.array(variable), originals[variable.path])
    refused = subprocess.run(_train_command(tmp_path / "other", "--init", str(tmp_path / "start")),
                             capture_output=True, text=True)  # the full t0 is another architecture
    assert refused.returncode == 2 and "another architecture" in refused.stderr and not (tmp_path / "other").exists()
