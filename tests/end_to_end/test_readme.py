"""Every command line and Python block of the README, run as a user would, in a tiny form.

Each `python run_search.py ...` line of the README's bash blocks runs in a fresh folder with the
same flags plus a few that make it small (fewer trials, epochs and clips, one-layer networks):
argparse keeps the last value of a repeated flag, so the README's own numbers are overridden
and every other flag is the README's. Commands run in README order within four independent
chains (searches, their variants, scaling, training and data), one test each, so that an
example that stops working fails CI. A README command that belongs to no chain fails too: a
new example needs a place here.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import OFFICIAL, REPO

README = (REPO / "README.md").read_text()
TINY_DATA = ["--synthetic-classes", "3", "--synthetic-clips", "10", "--batch-size", "4"]
TINY_SEARCH = ["--num-samples", "3", "--epochs", "1", "--scheduler", "none", *TINY_DATA]
TINY_TRAIN = ["--epochs", "1", "--frames", "4", "--resolution", "32", "--synthetic-frames", "8", *TINY_DATA]
# Which chain a command belongs to, by the folders it names (first match wins).
CHAINS = {
    "searches": ("runs/smoke", "runs/nsga2", "runs/compare"),
    "variants": ("runs/a3", "runs/kt", "runs/oneshot", "runs/cluster"),
    "scaling": ("runs/family", "runs/fit", "runs/searched", "flops --arch a0"),
    "training": ("runs/a0", "runs/t0", "my_videos", "my_shards"),
    "shipping": ("runs/ship", "latency --arch"),
}
# The latency chain's space: a table of the paper's space takes half an hour (about 1,900 units).
LATENCY_SPACE = dict(stem_widths=(8,), block_widths=((8,), (16,), (16,), (24,), (24,)), depths=((1,),) * 5,
                     expansion_ratios=(2.0,), kernels=("1x3x3", "3x3x3"), head_widths=(32,))


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def readme_commands() -> list[str]:
    """The README's `python run_search.py` lines, continuations joined, comments dropped."""
    commands = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" # ")[0].strip()
            if line.startswith("python run_search.py") or " && python run_search.py" in line:
                commands.append(line[line.index("python run_search.py"):])
    return commands


def _chain(command: str) -> str | None:
    if command == "python run_search.py":  # the Quickstart's default search
        return "searches"
    return next((name for name, marks in CHAINS.items() if any(mark in command for mark in marks)), None)


def _tiny(argv: list[str], space: Path, latency_space: Path) -> list[str]:
    """The command with the flags that make it small appended (the last of a repeated flag wins)."""
    command = argv[0] if argv and not argv[0].startswith("-") else "search"
    if command == "latency" and "--arch" in argv:  # a real-size export: the same command at a small input
        return [*argv, "--resolution", "64", "--runs", "5"]
    if command == "latency-table":
        return [*argv, "--space", str(latency_space), "--resolution", "32", "--runs", "3", "--calibration-networks",
                "1"]
    if command == "search" and "--objective" in argv:
        return [*argv, *TINY_SEARCH, "--space", str(latency_space), "--latency-ms", "0:1000"]
    if "--resume" in argv and command == "search":
        return argv  # a resumed search runs with its stored options
    if command == "family":  # one search per member: two trials each are enough
        return [*argv, *TINY_SEARCH, "--num-samples", "2", "--space", str(space)]
    if command == "search":
        oneshot = ["--oneshot-epochs", "2", "--oneshot-warmup-epochs", "1", "--oneshot-steps-per-epoch", "2"] \
            if "oneshot" in argv else []
        return [*argv, *TINY_SEARCH, *oneshot, "--space", str(space)]
    if command == "fidelity":
        return [*argv, "--sample", "3", "--seeds", "1", "--epochs", "1", "--clips", "5"] + (
            ["--proxy-epochs", "1"] if any(a.startswith("--proxy-") for a in argv) else [])
    if command == "rerank":
        return [*argv, "--top", "2", "--seeds", "1"]
    if command == "scale" and ("--fit" in argv or "x3d" in argv):
        return [*argv, "--candidates", "2", "--steps", "1", "--epochs", "1", "--fit-frames", "4", *TINY_DATA]
    if command in ("train", "train-family"):
        return [*argv, *TINY_TRAIN] + (["--synthetic-frames", "16"] if "--data" in argv else [])
    return argv


def _videos(folder: Path) -> None:
    """A small folder of clips in the split/label layout, as a user's `my_videos/`."""
    from video_data.video import write_video

    rng = np.random.default_rng(0)
    for split in ("train", "validate"):
        for label in ("a", "b", "c"):
            for index in range(3):
                write_video(folder / split / label / f"clip{index}.mp4",
                            (rng.random((12, 48, 64, 3)) * 255).astype(np.uint8), fps=25)


def _run(argv: list[str], cwd: Path, env: dict) -> None:
    done = subprocess.run([sys.executable, str(REPO / "run_search.py"), *argv], cwd=cwd, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, (shlex.join(argv), done.stdout[-1500:], done.stderr[-3000:])
    assert "Traceback" not in done.stderr, (shlex.join(argv), done.stderr[-3000:])


def test_every_readme_command_belongs_to_a_chain():
    commands = readme_commands()
    assert len(commands) >= 25 and not [c for c in commands if _chain(c) is None], commands


@pytest.mark.e2e
@pytest.mark.parametrize("chain", list(CHAINS))
def test_readme_commands_run(chain, tmp_path):
    from search_space import SearchSpace

    work = tmp_path / "work"
    work.mkdir()
    space = tmp_path / "one_layer_space.yaml"
    SearchSpace(depths=((1,),) * 5).to_yaml(space)
    latency_space = tmp_path / "latency_space.yaml"
    SearchSpace(**LATENCY_SPACE).to_yaml(latency_space)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cluster = None
    if chain == "training":
        _videos(work / "my_videos")
        if OFFICIAL.is_dir():
            shutil.copytree(OFFICIAL / "a0_base", work / "movinet_a0_base")
    try:
        for command in [c for c in readme_commands() if _chain(c) == chain]:
            argv = shlex.split(command)[2:]
            if "--address" in argv:  # `--address auto` needs a running cluster: start one for it
                from ray.cluster_utils import Cluster

                cluster = cluster or Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
                argv[argv.index("--address") + 1] = cluster.address
            if "--checkpoint" in argv and not (work / "movinet_a0_base").is_dir():
                pytest.skip(f"official fixtures not found at {OFFICIAL}")
            _run(_tiny(argv, space, latency_space), work, env)
    finally:
        if cluster is not None:
            cluster.shutdown()


@pytest.mark.e2e
def test_readme_python_blocks_run(tmp_path):
    for block in _blocks("python"):
        done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, (block, done.stderr[-3000:])
