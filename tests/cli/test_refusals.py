"""Every command against bad input: exit status 2, one line `error: ...`, and every file as it was.

The table below runs each subcommand in this process (`cli.main`) against missing paths, empty,
binary, broken and unsafe files, wrong types, zero and negative numbers, and an output folder
that already holds something, over a world of run folders made once. After each refusal every
file of that world must be byte-identical, no file may have appeared, and Ray must not have
started. A few of the cases run again as real processes, to see the exit status and the one
line on the console as a user does.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import REPO, write_run
from search_space import preset

TINY_SPEC = preset("t0").replace(name="tiny")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """Run folders of every kind, and broken user files, made once for the whole table."""
    root = tmp_path_factory.mktemp("world")
    write_run(root / "run", trials=6)
    write_run(root / "other_run", trials=4, seed=5)
    write_run(root / "measured_run", trials=4, seed=7)
    (root / "measured_run" / "fidelity").mkdir()
    (root / "measured_run" / "fidelity" / "trainings.csv").write_text("arch_id,kind,seed,setting,status,top1,curve\n")
    training = root / "training"
    (training / "ray" / "train").mkdir(parents=True)
    TINY_SPEC.to_yaml(training / "spec.yaml")
    family = root / "family"
    (family / "specs").mkdir(parents=True)
    TINY_SPEC.to_yaml(family / "specs" / "a0.yaml")
    (family / "family.csv").write_text("member,gflops\na0,0.1\n")
    (family / "trained" / "a0").mkdir(parents=True)
    (root / "untrained_family" / "specs").mkdir(parents=True)
    TINY_SPEC.to_yaml(root / "untrained_family" / "specs" / "a0.yaml")
    (root / "empty_family").mkdir()
    (root / "fit").mkdir()
    (root / "fit" / "fitted.json").write_text(json.dumps({"chosen": {"depth": 1.2}}))
    (root / "family_search" / "searches").mkdir(parents=True)
    (root / "conversion").mkdir()
    (root / "conversion" / "conversion.json").write_text("{}")
    (root / "report_of_others").mkdir()
    (root / "report_of_others" / "report.html").write_text("<html></html>")
    (root / "report_of_others" / "report.json").write_text(json.dumps({"runs": ["/elsewhere"]}))
    (root / "notes").mkdir()
    (root / "notes" / "todo.txt").write_text("my notes\n")
    (root / "empty.yaml").write_text("")
    (root / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (root / "broken.yaml").write_text("name: x\nblocks: [\n")
    (root / "unsafe.yaml").write_text("name: !!python/object/apply:os.system ['echo owned']\n")
    (root / "list.yaml").write_text("- a\n- b\n")
    spec = TINY_SPEC.to_dict()
    spec["blocks"][0]["filters"] = "wide"
    (root / "types.yaml").write_text(yaml.safe_dump(spec))
    (root / "space_types.yaml").write_text("frames: 8\n")
    (root / "classes.json").write_text('["a", "b",')
    (root / "ensemble.yaml").write_text("name: pair\nmembers: [a0, a1]\ninput: {frames: 8, size: 32}\n")
    from video_data.video import write_video

    write_video(root / "clip.mp4", np.zeros((4, 32, 32, 3), np.uint8), fps=25)
    return root


BAD_FILES = ["missing.yaml", "empty.yaml", "binary.yaml", "broken.yaml", "unsafe.yaml", "list.yaml", "types.yaml",
             "ensemble.yaml"]


TINY = ["--epochs", "1", "--batch-size", "4", "--synthetic-classes", "3", "--synthetic-clips", "5"]


CASES = {
    # search (both engines): an existing run, another folder, resume of nothing, bad files and numbers
    "search into a finished search": ["search", "--output", "{w}/run", *TINY],
    "keras-tuner search into a finished search": ["search", "--engine", "keras-tuner", "--output", "{w}/run", *TINY],
    "search into a folder of notes": ["search", "--output", "{w}/notes", *TINY],
    "search into a file": ["search", "--output", "{w}/empty.yaml", *TINY],
    "search resume of nothing": ["search", "--resume", "--output", "{w}/notes"],
    "search resume without output": ["search", "--resume"],
    "search resume with broken options": ["search", "--resume", "--output", "{w}/family"],
    **{f"search space {name}": ["search", "--space", f"{{w}}/{name}", "--output", "{w}/new"]
       for name in ["missing.yaml", "binary.yaml", "broken.yaml", "unsafe.yaml", "list.yaml", "space_types.yaml"]},
    **{f"search seed-arch {name}": ["search", "--seed-arch", f"{{w}}/{name}", "--output", "{w}/new", *TINY]
       for name in BAD_FILES},
    "search seed-arch outside the budget": ["search", "--seed-arch", "a0", "--gflops", "0.02:0.06", "--output",
                                            "{w}/new", *TINY],
    "search unknown target": ["search", "--target", "a9", "--output", "{w}/new", *TINY],
    "search budget text": ["search", "--gflops", "cheap", "--output", "{w}/new"],
    "search zero budget": ["search", "--gflops", "0:0", "--output", "{w}/new"],
    "search negative budget": ["search", "--gflops=-1:2", "--output", "{w}/new"],
    "search budget out of reach": ["search", "--gflops", "500:900", "--output", "{w}/new", *TINY],
    "search zero samples": ["search", "--num-samples", "0", "--output", "{w}/new"],
    "search negative epochs": ["search", "--epochs", "-2", "--output", "{w}/new"],
    "search float batch": ["search", "--batch-size", "2.5", "--output", "{w}/new"],
    "search zero replicas": ["search", "--replicas", "0", "--output", "{w}/new"],
    "search curriculum on a data folder": ["search", "--curriculum-epochs", "4", "--data", "{w}/notes", "--output",
                                           "{w}/new"],
    "search missing teacher": ["search", "--teacher", "{w}/absent.teacher", "--output", "{w}/new"],
    "search negative curriculum": ["search", "--curriculum-epochs", "-1", "--output", "{w}/new"],
    "teacher over an existing file": ["teacher", "--output", "{w}/empty.yaml"],
    "search zero cpus": ["search", "--cpus-per-trial", "0", "--output", "{w}/new"],
    "search one class": ["search", "--synthetic-classes", "1", "--output", "{w}/new"],
    "search 99 classes": ["search", "--synthetic-classes", "99", "--output", "{w}/new"],
    "search difficulty 2": ["search", "--difficulty", "2", "--output", "{w}/new"],
    "search missing share": ["search", "--max-missing", "1.5", "--output", "{w}/new"],
    "search missing data": ["search", "--data", "{w}/absent", "--output", "{w}/new"],
    "search batch larger than the data": ["search", "--synthetic-clips", "5", "--synthetic-classes", "3", "--output",
                                          "{w}/new"],
    "search unknown flag": ["search", "--epocs", "3"],
    "unknown command": ["serch"],
    # export, report
    "export a missing run": ["export", "--run", "{w}/absent"],
    "export a folder that is no run": ["export", "--run", "{w}/notes"],
    "export top 0": ["export", "--run", "{w}/run", "--top", "0"],
    "report a missing run": ["report", "--run", "{w}/absent"],
    "report into a folder of notes": ["report", "--run", "{w}/run", "--output", "{w}/notes"],
    "report into a report of other runs": ["report", "--run", "{w}/run", "--output", "{w}/report_of_others"],
    "report a missing family": ["report", "--run", "{w}/run", "--family", "{w}/empty_family", "--output", "{w}/new"],
    # fidelity
    "fidelity of a missing run": ["fidelity", "--run", "{w}/absent"],
    "fidelity into an existing measurement": ["fidelity", "--run", "{w}/measured_run", "--sample", "3"],
    "fidelity zero seeds": ["fidelity", "--run", "{w}/run", "--seeds", "0"],
    "fidelity zero sample": ["fidelity", "--run", "{w}/run", "--sample", "0"],
    "fidelity reference from a missing folder": ["fidelity", "--run", "{w}/run", "--reference-from", "{w}/notes",
                                                 "--output", "{w}/new"],
    "fidelity resume of nothing": ["fidelity", "--run", "{w}/run", "--resume", "--output", "{w}/new"],
    # flops
    **{f"flops {name}": ["flops", "--arch", f"{{w}}/{name}"] for name in BAD_FILES},
    "flops unknown preset": ["flops", "--arch", "a9"],
    "flops negative frames": ["flops", "--arch", "a0", "--frames", "-3"],
    "flops zero resolution": ["flops", "--arch", "a0", "--resolution", "0"],
    "flops zero classes": ["flops", "--arch", "a0", "--num-classes", "0"],
    # scale
    **{f"scale base {name}": ["scale", "--base", f"{{w}}/{name}", "--output", "{w}/new"] for name in BAD_FILES},
    "scale two coefficients": ["scale", "--rule", "compound:1,2", "--output", "{w}/new"],
    "scale zero coefficient": ["scale", "--rule", "compound:1.2,1.1,1.15,0", "--output", "{w}/new"],
    "scale dwr not summing to 1": ["scale", "--rule", "dwr:0.5,0.5,0.5,0.5", "--output", "{w}/new"],
    "scale unknown axis": ["scale", "--rule", "x3d:wid", "--output", "{w}/new"],
    "scale fitted from nothing": ["scale", "--rule", "fitted:{w}/notes", "--output", "{w}/new"],
    "scale fitted from a broken fit": ["scale", "--rule", "fitted:{w}/fit", "--output", "{w}/new"],
    "scale unknown target": ["scale", "--targets", "a9", "--output", "{w}/new"],
    "scale phis not numbers": ["scale", "--phis", "one,two", "--output", "{w}/new"],
    "scale into a family": ["scale", "--output", "{w}/family"],
    "scale resume without a fit": ["scale", "--resume", "--output", "{w}/family"],
    "scale fit into a family": ["scale", "--fit", "--output", "{w}/family", *TINY],
    "scale fit zero candidates": ["scale", "--fit", "--candidates", "0", "--output", "{w}/new"],
    "scale an ensemble": ["scale", "--base", "a6", "--output", "{w}/new"],
    # family searches and training
    "family unknown target": ["family", "--targets", "a9", "--output", "{w}/new"],
    "family into a family search": ["family", "--targets", "a0", "--output", "{w}/family_search", *TINY],
    "family zero samples": ["family", "--num-samples", "0", "--output", "{w}/new"],
    **{f"train arch {name}": ["train", "--arch", f"{{w}}/{name}", "--output", "{w}/new"] for name in BAD_FILES},
    "train into a training run": ["train", "--arch", "t0", "--output", "{w}/training", *TINY],
    "train into a folder of notes": ["train", "--arch", "t0", "--output", "{w}/notes", *TINY],
    "train resume of nothing": ["train", "--arch", "t0", "--resume", "--output", "{w}/notes", *TINY],
    "train zero epochs": ["train", "--arch", "t0", "--epochs", "0", "--output", "{w}/new"],
    "train missing data": ["train", "--arch", "t0", "--data", "{w}/absent", "--output", "{w}/new"],
    "train an ensemble": ["train", "--arch", "a6", "--output", "{w}/new", *TINY],
    "train batch larger than the data": ["train", "--arch", "t0", "--output", "{w}/new", *TINY, "--batch-size", "64"],
    "train-family of a missing folder": ["train-family", "--family", "{w}/absent", *TINY],
    "train-family of an empty folder": ["train-family", "--family", "{w}/empty_family", *TINY],
    "train-family already trained": ["train-family", "--family", "{w}/family", *TINY],
    "train-family resume of nothing": ["train-family", "--family", "{w}/untrained_family", "--resume", *TINY],
    "train-family zero epochs": ["train-family", "--family", "{w}/family", "--epochs", "0"],
    # predict, data, convert
    "predict a missing video": ["predict", "{w}/absent.mp4", "--run", "{w}/training"],
    "predict without a model": ["predict", "{w}/clip.mp4"],
    "predict with a run that never finished": ["predict", "{w}/clip.mp4", "--run", "{w}/training"],
    "predict zero top": ["predict", "{w}/clip.mp4", "--run", "{w}/training", "--top", "0"],
    "data of a missing folder": ["data", "{w}/absent"],
    "data zero workers": ["data", "{w}/notes", "--workers", "0"],
    "convert a missing folder": ["convert", "{w}/absent", "{w}/new"],
    "convert into a conversion": ["convert", "{w}/notes", "{w}/conversion"],
    "convert zero resize": ["convert", "{w}/notes", "{w}/new", "--resize", "0"],
    # fine-tuning, export-model, latency
    "train from a missing checkpoint": ["train", "--arch", "t0", "--init", "{w}/absent", "--output", "{w}/new", *TINY],
    "train freezing without init": ["train", "--arch", "t0", "--freeze-backbone", "--output", "{w}/new", *TINY],
    "train freezing a block it lacks": ["train", "--arch", "t0", "--init", "{w}/absent", "--freeze-until", "block7",
                                        "--output", "{w}/new", *TINY],
    "export-model without a network": ["export-model", "--output", "{w}/new"],
    "export-model arch without weights": ["export-model", "--arch", "t0", "--output", "{w}/new"],
    "export-model run and arch": ["export-model", "--run", "{w}/training", "--arch", "t0", "--output", "{w}/new"],
    "export-model int8 without calibration": ["export-model", "--arch", "t0", "--untrained", "--quantize", "int8",
                                              "--output", "{w}/new"],
    "export-model float layers of a float model": ["export-model", "--arch", "t0", "--untrained", "--keep-float", "pool",
                                                   "--output", "{w}/new"],
    "export-model an unknown float layer": ["export-model", "--arch", "t0", "--untrained", "--quantize", "int8",
                                            "--calibration", "synthetic", "--keep-float", "conv", "--output", "{w}/new"],
    "export-model 4-D states of a clip": ["export-model", "--arch", "t0", "--untrained", "--states-4d",
                                          "--output", "{w}/new"],
    "export-model quantised saved_model": ["export-model", "--arch", "t0", "--untrained", "--quantize", "float16",
                                           "--format", "saved_model", "--output", "{w}/new"],
    "export-model into a non-empty folder": ["export-model", "--arch", "t0", "--untrained", "--output", "{w}/notes"],
    "export-model of an unfinished run": ["export-model", "--run", "{w}/training", "--output", "{w}/new"],
    "export-model zero frames": ["export-model", "--arch", "t0", "--untrained", "--frames", "0", "--output", "{w}/new"],
    "latency of a missing model": ["latency", "{w}/absent.tflite"],
    "latency of a non-model": ["latency", "{w}/binary.yaml"],
    "latency model and arch": ["latency", "{w}/absent.tflite", "--arch", "t0", "--untrained"],
    "latency zero threads": ["latency", "{w}/absent.tflite", "--threads", "0"],
    "latency-table into a non-empty folder": ["latency-table", "--output", "{w}/notes"],
    "latency-table zero runs": ["latency-table", "--output", "{w}/new", "--runs", "0"],
    "latency-table resume of nothing": ["latency-table", "--output", "{w}/notes", "--resume"],
    "search latency without a table": ["search", "--objective", "latency", "--output", "{w}/new"],
    "search latency with a GFLOPs budget": ["search", "--objective", "latency", "--latency-table", "{w}/absent.json",
                                            "--gflops", "0.1:0.2", "--output", "{w}/new"],
    "search latency budget without the objective": ["search", "--latency-ms", "1:2", "--output", "{w}/new"],
    "search a missing latency table": ["search", "--objective", "latency", "--latency-table", "{w}/absent.json",
                                       "--output", "{w}/new"],
    "search a broken latency table": ["search", "--objective", "latency", "--latency-table", "{w}/broken.yaml",
                                      "--output", "{w}/new"],
    "search a reversed latency budget": ["search", "--objective", "latency", "--latency-table", "{w}/absent.json",
                                         "--latency-ms", "5:1", "--output", "{w}/new"],
}


def _state(root: Path) -> dict[str, str]:
    """Every file under `root` and its checksum (folders too, so a new empty folder shows)."""
    return {str(path.relative_to(root)): hashlib.sha1(path.read_bytes()).hexdigest() if path.is_file() else "dir"
            for path in sorted(root.rglob("*"))}


def _argv(template: list[str], world: Path) -> list[str]:
    return [part.replace("{w}", str(world)) for part in template]


@pytest.mark.parametrize("case", list(CASES))
def test_refused_in_one_line_and_nothing_changed(case, world, capsys):
    from cli import main

    before = _state(world)
    status = main(_argv(CASES[case], world))
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and lines[0].startswith("error: "), (status, captured.err[-2000:])
    assert _state(world) == before, "a refused command changed or wrote files"
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized(), "a refused command started Ray"


@pytest.mark.parametrize("case", ["search into a finished search", "flops unsafe.yaml", "train into a training run",
                                  "scale two coefficients"])
def test_refusals_as_a_user_sees_them(case, world):
    """As real processes: exit status 2, one line on stderr, nothing on stdout, no TensorFlow loaded."""
    run = subprocess.run([sys.executable, "-X", "importtime", str(REPO / "run_search.py"), *_argv(CASES[case], world)],
                         capture_output=True, text=True, cwd=REPO)
    imports = [line for line in run.stderr.splitlines() if line.startswith("import time:")]
    lines = [line for line in run.stderr.splitlines() if not line.startswith("import time:")]
    assert run.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ") and not run.stdout, run.stderr[-2000:]
    assert not any(line.rstrip().endswith("| tensorflow") for line in imports), "a refusal loaded TensorFlow"
