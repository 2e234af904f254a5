"""The report: hypervolume by hand, EDF, the HTML page of one and of two runs, legible figures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import write_report
from analysis.hypervolume import Bounds, edf, hypervolume, hypervolume_curve
from analysis.pareto import front_objectives
from conftest import write_run


def test_hypervolume_of_hand_computed_fronts():
    bounds = Bounds({"gflops": (1e-2, 1.0)})
    # top-1 0.8 at 0.1 GFLOPs -> (error 0.2, cost 0.5); top-1 0.6 at 10^-1.6 -> (0.4, 0.2):
    # union of [0.2, 1] x [0.5, 1] and [0.4, 1] x [0.2, 1] = 0.4 + 0.48 - 0.3
    front = pd.DataFrame({"top1": [0.8, 0.6], "gflops": [0.1, 10 ** -1.6]})
    assert hypervolume(front, bounds) == pytest.approx(0.58)
    assert hypervolume(front.iloc[:1], bounds) == pytest.approx(0.4)
    assert hypervolume(pd.DataFrame({"top1": [0.5, np.nan], "gflops": [100.0, 0.1]}), bounds) == 0.0  # beyond bounds
    three = pd.DataFrame({"top1": [0.8, 0.5], "gflops": [10 ** -1.0, 10 ** -1.6], "params": [10 ** 5, 10 ** 5]})
    cube = Bounds({"gflops": (1e-2, 1.0), "params": (1e4, 1e6)})  # params at 0.5 for both
    assert hypervolume(three, cube, {"top1": "max", "gflops": "min", "params": "min"}) == pytest.approx(
        0.5 * (0.8 * 0.5 + 0.5 * 0.8 - 0.5 * 0.5))
    # A latency search's front weighs predicted latency: 10 ms sits at 2/5 of log10 [0.1, 10^4] ms.
    latency = pd.DataFrame({"top1": [0.5, 0.9], "gflops": [0.1, 0.1], "latency_ms": [10.0, 10.0 ** 4]})
    assert front_objectives(latency) == {"top1": "max", "latency_ms": "min"}
    assert hypervolume(latency, Bounds(), front_objectives(latency)) == pytest.approx(0.5 * 0.6)
    assert front_objectives(latency.assign(latency_ms=[10.0, np.nan])) == {"top1": "max", "gflops": "min"}


def test_hypervolume_never_falls_as_trials_complete_and_edf():
    trials = pd.DataFrame({"top1": [0.3, 0.6, 0.5, 0.9], "gflops": [0.05, 0.2, 0.01, 0.5],
                           "status": ["ok", "ok", "error", "ok"], "finished_at": [3.0, 1.0, 2.0, 4.0]})
    curve = hypervolume_curve(trials)
    assert len(curve) == 4 and (np.diff(curve.to_numpy()) >= 0).all() and curve.iloc[-1] > curve.iloc[0] > 0
    x, y = edf([0.4, 0.1, np.nan, 0.3])
    assert x.tolist() == [0.1, 0.3, 0.4] and y.tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_report_of_one_and_of_two_runs(tmp_path):
    write_run(tmp_path / "random", trials=6, seed=1)
    write_run(tmp_path / "nsga2", trials=5, seed=2, search_alg="nsga2")
    one = write_report([tmp_path / "random"])
    assert one == tmp_path / "random" / "report.html"
    for name in ("accuracy_vs_gflops", "hypervolume", "learning_curves", "learned", "edf"):
        assert (tmp_path / "random" / f"{name}.png").stat().st_size > 2000, name
    both = write_report([tmp_path / "random", tmp_path / "nsga2"], tmp_path / "both")
    page = both.read_text()
    assert "http://" not in page and "https://" not in page and page.count("data:image/png;base64,") >= 5
    summary = page[page.index("<table"):page.index("</table>")]  # one row per run: name, algorithm, trials
    assert "<td>random</td>\n      <td>random</td>\n      <td>6</td>" in summary
    assert "<td>nsga2</td>\n      <td>nsga2</td>\n      <td>5</td>" in summary
    assert "spec " in page and "blocks:" in page  # the front's specs are in the page


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path):
    """The page opens offline in a real browser: a screenshot of it is mostly not blank."""
    import shutil
    import subprocess

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    write_run(tmp_path / "run", trials=6)
    page = write_report([tmp_path / "run"])
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,3000", f"--screenshot={shot}",
                    page.as_uri()], check=True, capture_output=True, timeout=120)
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (3000, 1200)
    assert (pixels[..., :3] < 0.9).any(axis=2).mean() > 0.05  # figures drawn, not a blank page


def test_figures_stay_legible():
    """Plain numbers on log axes, the family's names apart from the official ones, a legend
    that covers no bars, and fit candidates named by the rule that replays them."""
    from analysis.family_figures import official_family, plot_family_cost
    from analysis.plots import plot_candidates

    figure = plot_family_cost(official_family(), "the same")
    figure.canvas.draw()
    axes = figure.axes[0]
    labels = [t.get_text() for t in axes.get_xticklabels() + axes.get_yticklabels() if t.get_text()]
    assert labels and not any("10^" in label or "times" in label for label in labels), labels
    assert len(axes.texts) == 14  # each member named twice: the official name below its point, the family's above
    assert all(t.xyann[1] < 0 for t in axes.texts[:7]) and all(t.xyann[1] > 0 for t in axes.texts[7:])

    table = pd.DataFrame({"top1": [0.4, 0.6], "gflops": [0.02, 0.021], "label": ["compound:1.2,1.1,1.15,1.04",
                                                                               "compound:1.9,1,1.05,1"]})
    ticks = [t.get_text() for t in plot_candidates(table, "fit").axes[0].get_yticklabels()]
    assert sorted(ticks) == sorted(table["label"])


def test_learned_figure_keeps_its_legend_off_the_panels(tmp_path):
    from analysis import load_run
    from analysis.report_figures import learned_figure

    write_run(tmp_path / "run", trials=6)
    figure = learned_figure(load_run(tmp_path / "run"))
    assert figure.legends and all(ax.get_legend() is None for ax in figure.axes)
