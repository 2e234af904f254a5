"""The latency lookup table: every unit of a space enumerated and timed, predictions from it
for any spec of the space (estimates beyond it, said so), the standalone device script."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from deploy.latency_table import build_latency_table
from deploy.options import LatencyTableOptions
from search_space import SearchSpace, SpecError
from search_space.latency import LatencyTable, space_units, spec_units, table_spec

TINY_SPACE = SearchSpace(stem_widths=(8,), block_widths=((8, 16), (16,), (16,), (24,), (24,)), depths=((1, 2),) * 5,
                         expansion_ratios=(2.0,), kernels=("1x3x3", "3x3x3"), head_widths=(32,), head_filters=64)


def test_the_space_units_hold_every_unit_of_every_spec_of_the_space():
    _, units = space_units(TINY_SPACE, stream=False, frames=4, resolution=32, num_classes=5)
    keys = {unit.key for unit in units}
    assert len(keys) == len(units)
    # stem 1; block 0: (1 input width x 2 widths + 2 widths) x 2 kernels; block 1: (2 + 1) x 2; blocks 2-4: 2 x 2
    assert len(units) == 1 + 8 + 6 + 3 * 4 + 1
    rng = random.Random(0)
    for _ in range(20):
        spec = TINY_SPACE.to_spec(TINY_SPACE.sample(rng))
        assert {unit.key for unit in spec_units(spec, 4, 32, 5)} <= keys


@pytest.fixture(scope="module")
def stream_table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("table")
    options = LatencyTableOptions(stream=True, resolution=32, num_classes=5, threads=(1,), runs=5,
                                  calibration_networks=2)
    [table] = build_latency_table(TINY_SPACE, options, folder)
    return folder, table


def test_a_table_predicts_the_space_from_measurements_and_beyond_it_by_estimates(stream_table):
    folder, table = stream_table
    assert LatencyTable.load(folder / "latency_table_1t.json") == table and table.stream and table.threads == 1
    spec = TINY_SPACE.to_spec(TINY_SPACE.sample(random.Random(1)))
    inside = table.predict(spec)
    assert inside.measured_share == 1.0 and inside.ms > table.call_ms > 0
    assert 0.5 < table.scale < 3  # units inside a network run somewhat slower than alone, not 3x
    wider = spec.replace(blocks=(spec.blocks[0].__class__(40, spec.blocks[0].layers), *spec.blocks[1:]))
    outside = table.predict(wider)
    assert 0 < outside.measured_share < 1 and outside.ms > inside.ms
    with pytest.raises(SpecError, match="style"):
        table.predict(table_spec(spec, True).replace(activation="relu"))


def test_the_device_script_times_an_exported_folder_without_the_toolkit(stream_table, tmp_path):
    folder, table = stream_table
    script = folder / "measure_units.py"
    assert "import search_space" not in script.read_text() and "from search_space" not in script.read_text()
    run = subprocess.run([sys.executable, "-I", str(script), str(folder), "--threads", "2", "--runs", "3",
                          "--device", "test board"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    other = json.loads((folder / "latency_table_2t.json").read_text())
    assert other["device"] == "test board" and other["threads"] == 2 and set(other["units"]) == set(table.units)
    assert other["scale"] > 0 and LatencyTable.load(folder / "latency_table_2t.json").predict(
        TINY_SPACE.to_spec(TINY_SPACE.sample(random.Random(2)))).ms > 0
