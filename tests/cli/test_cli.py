"""The command line: defaults from the option dataclasses, one-line errors, tracebacks for bugs, commands that answer at once."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO
from search import SearchOptions
from search_space import (
    EnsembleSpec,
    load_arch,
)


def test_every_commands_defaults_come_from_the_option_dataclasses(tmp_path):
    """Each command given only what it requires builds exactly the library's default options:
    a default typed into a parser instead of read from its dataclass fails here."""
    from cli import parser_for
    from cli.convert import convert_options
    from cli.fidelity import fidelity_options
    from cli.scale import fit_options, scale_options
    from cli.search import search_options
    from cli.train import train_config
    from conftest import write_run
    from deploy import TOP_CLASSES
    from proxies.config import ProxyConfig
    from search.fidelity import FidelityOptions
    from search.options import FitOptions
    from search.scaled_family import ScaleOptions
    from search_space import OFFICIAL_CLASSES
    from training.config import TrainConfig
    from video_data.convert import ConvertOptions

    def parse(command, *flags):
        return parser_for(command).parse_args(list(flags))

    assert search_options(parse("search"), "x") == SearchOptions(output="x")
    assert search_options(parse("family"), "x") == SearchOptions(output="x")
    assert train_config(parse("train", "--arch", "t0", "--output", "x"), {}, "x") == TrainConfig(spec={}, output="x")
    assert train_config(parse("train-family", "--family", "f"), {}, "x") == TrainConfig(spec={}, output="x")
    write_run(tmp_path / "run", trials=3)
    assert fidelity_options(parse("fidelity", "--run", str(tmp_path / "run"))) == FidelityOptions(
        run=str(tmp_path / "run"))
    assert scale_options(parse("scale", "--output", "x")) == ScaleOptions(output="x")
    assert fit_options(parse("scale", "--fit", "--output", "x")) == FitOptions(output="x", proxy=ProxyConfig())
    assert convert_options(parse("convert", "d", "o")) == ConvertOptions(data="d", output="o")
    assert parse("flops", "--arch", "a0").num_classes == parse("predict", "v").num_classes == OFFICIAL_CLASSES
    assert parse("predict", "v").top == TOP_CLASSES
    from cli.export_model import export_options
    from deploy.options import ExportOptions, LatencyOptions
    from training.recipe import Recipe

    tuned = train_config(parse("train", "--arch", "t0", "--output", "x", "--init", "c"), {}, "x")
    assert tuned == TrainConfig(spec={}, output="x", init="c", recipe=Recipe.fine_tuning())
    assert export_options(parse("export-model", "--output", "x")) == ExportOptions()
    from cli.latency_table import table_options
    from deploy.options import LatencyTableOptions

    assert table_options(parse("latency-table", "--output", "x")) == LatencyTableOptions()
    latency = parse("latency")
    assert LatencyOptions(tuple(latency.threads), latency.warmup, latency.runs) == LatencyOptions()


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


def test_a_reader_that_leaves_early_gets_no_traceback():
    # As `run_search.py --help | head -1`: the pipe is closed before anything is written to it.
    import os

    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, str(REPO / "run_search.py"), "--help"], stdout=write,
                              stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write)
    assert done.returncode == 1 and done.stderr == ""


def test_cli_flops_json():
    out = subprocess.run([sys.executable, str(REPO / "run_search.py"), "flops", "--arch", "a0", "--frames", "50",
                          "--resolution", "172", "--json"], capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["params"] == 3_126_071 and result["gflops"] == pytest.approx(2.774, rel=0.01)


def test_cli_flops_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstem: {filters: 0}\n")
    for arch, message in (("a9", "unknown preset 'a9'"), (str(bad), "blocks: missing required field")):
        run = subprocess.run([sys.executable, str(REPO / "run_search.py"), "flops", "--arch", arch],
                             capture_output=True, text=True)
        assert run.returncode == 2
        assert message in run.stderr.strip().splitlines()[-1]


def test_scale_command_writes_the_family(tmp_path):
    run = subprocess.run([sys.executable, str(REPO / "run_search.py"), "scale", "--base", "a2", "--targets", "a0..a6",
                          "--output", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    import pandas as pd

    family = pd.read_csv(tmp_path / "family.csv")
    assert family["member"].tolist() == ["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a6_ensemble"]
    assert family["deviation"].dropna().abs().max() <= 0.03
    assert (tmp_path / "family.png").stat().st_size > 1000
    assert isinstance(load_arch(str(tmp_path / "specs" / "a6_ensemble.yaml")), EnsembleSpec)
