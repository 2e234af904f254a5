"""The search report: one self-contained HTML page (figures embedded, no external URL) per
search or across searches, and the figures as PNG files beside it.

Sections: a summary per run (trials by status, best top-1, hypervolume: on predicted latency
where every run predicted it, else on GFLOPs); accuracy vs cost with every run's trials and
fronts; hypervolume against completed trials (runs of one search
algorithm pooled into a median and a band); per-trial learning curves; what the search
learned (kernel types, depths and widths per block on the front vs all trials); the error EDF
of the sampled architectures; proxy fidelity where `fidelity` has run; the front as a table
with each architecture's spec; and a trained family beside the published MoViNets.
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from infra.errors import RunExistsError
from infra.files import read_json, write_bytes, write_json, write_text
from infra.run_folder import RunKind, claim_output

from .family_figures import plot_family_accuracy
from .hypervolume import Bounds, hypervolume
from .pareto import cost_column, score_column
from .records import RunNotFoundError, load_runs, run_options, spec_of
from .report_figures import accuracy_vs_gflops, edf_figure, hypervolume_figure, learned_figure, learning_curves
from .retrained import RETRAINED_COLUMNS

__all__ = ["write_report", "REPORT_MANIFEST"]

REPORT_MANIFEST = "report.json"  # the runs a report outside their folders was made of

_STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#eee}img{max-width:100%}details{margin:2px 0}pre{font-size:11px;background:#f6f6f6;padding:6px}
h2{border-bottom:1px solid #ccc;margin-top:2em}.note{color:#555;font-size:13px}"""
_SUMMARY = ["trial_id", "status", "arch_id", "depths", "widths", "kernels_spatial", "kernels_temporal",
            "kernels_spatiotemporal", "gflops", "params", "top1", "top5"]


def _image(fig: Figure, folder: Path, name: str) -> str:
    """Writes the figure as folder/name.png and returns it as an embedded <img>."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    write_bytes(folder / f"{name}.png", buffer.getvalue())
    return f'<img alt="{name}" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _summary(table: pd.DataFrame, bounds: Bounds, groups: dict[str, str]) -> pd.DataFrame:
    rows, cost = [], cost_column(table)  # one cost for every run: latency only where all predicted it
    for run, part in table.groupby("run", sort=False):
        score = score_column(part)  # a re-ranked run's front is on its re-trainings' means
        objectives = {score: "max", cost: "min"}
        counts = part["status"].value_counts()
        front = part[part["pareto"]]
        rows.append({"run": run, "search algorithm": groups.get(run, "?"), "trials": len(part),
                     **{s: int(counts.get(s, 0)) for s in ("ok", "stopped_early", "interrupted", "error", "diverged", "oom")},
                     "best top-1": part["top1"].max(),
                     **({"best re-ranked top-1 (mean)": part[score].max()} if score != "top1" else {}),
                     "front": len(front),
                     "hypervolume": hypervolume(front, bounds, objectives)})
    return pd.DataFrame(rows)


def _fidelity_section(folders: list[Path], out: Path) -> str:
    parts = []
    for folder in folders:
        report_path = folder / "fidelity" / "fidelity.json"
        if not report_path.is_file():
            continue
        report = json.loads(report_path.read_text())
        keys = [k for k in report if k.endswith("_kendall") and isinstance(report[k], dict)]
        rows = [{"ranking": k.removesuffix("_kendall").replace("_", " "), "Kendall tau": report[k]["value"],
                 "90% low": report[k]["low"], "90% high": report[k]["high"], "architectures": report[k]["n"]}
                for k in keys]
        image = (folder / "fidelity" / "fidelity.png").read_bytes()
        parts.append(f"<h3>{html.escape(folder.name)}</h3>" + pd.DataFrame(rows).to_html(index=False, na_rep="-",
                                                                                          float_format="%.2f")
                     + f'<img alt="fidelity" src="data:image/png;base64,{base64.b64encode(image).decode()}">')
    if not parts:
        return "<p class=note>No fidelity measurement yet: <code>run_search.py fidelity --run DIR</code>.</p>"
    return "".join(parts)


def _front_table(table: pd.DataFrame) -> str:
    cost = cost_column(table)
    front = table[table["pareto"]].sort_values(["run", cost])
    retrained = [c for c in RETRAINED_COLUMNS if c in front and front[c].notna().any()]
    columns = ["run", *_SUMMARY[:-3], *([cost] if cost != "gflops" else []), *_SUMMARY[-3:], *retrained]
    rows = []
    for _, row in front.iterrows():
        cells = "".join(f"<td>{html.escape(f'{row[c]:.4g}' if isinstance(row[c], float) else str(row[c]))}</td>"
                        for c in columns)
        spec = html.escape(spec_of(row).to_yaml())
        rows.append(f"<tr>{cells}</tr><tr><td colspan={len(columns)} style='text-align:left'>"
                    f"<details><summary>spec {html.escape(row['arch_id'])}</summary><pre>{spec}</pre></details>"
                    "</td></tr>")
    header = "".join(f"<th>{c}</th>" for c in columns)
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>"


def _check_output(out: Path, folders: list[Path]) -> None:
    """A report goes into one of its runs' folders (it is derived from their records), a new or
    empty folder, or a folder holding an earlier report of the same runs; anything else is
    refused before a byte is written."""
    runs = sorted(str(f.resolve()) for f in folders)
    if out.resolve() in {f.resolve() for f in folders}:
        return
    manifest = out / REPORT_MANIFEST
    if manifest.is_file():
        earlier = read_json(manifest, "report manifest")
        if isinstance(earlier, dict) and sorted(earlier.get("runs", [])) == runs:
            return
        raise RunExistsError(f"{out}: holds a report of other runs; choose another --output")
    claim_output(out, RunKind("report", ("report.html",), resumable=False), resume=False)


def write_report(runs: list[str | Path], output: str | Path | None = None, family: str | Path | None = None,
                 bounds: Bounds = Bounds()) -> Path:
    """Writes report.html and its PNGs to `output` (default: the first run's folder)."""
    folders = [Path(r) for r in runs]
    out = Path(output) if output else folders[0]
    table = load_runs(*folders)
    trained = None
    if family is not None:
        results = Path(family) / "family_results.csv"
        if not results.is_file():
            raise RunNotFoundError(f"{family}: no family_results.csv (train the family with `train-family` first)")
        trained = pd.read_csv(results)
    _check_output(out, folders)
    out.mkdir(parents=True, exist_ok=True)
    if out.resolve() not in {f.resolve() for f in folders}:
        write_json(out / REPORT_MANIFEST, {"runs": sorted(str(f.resolve()) for f in folders)})
    groups = {label: run_options(folder).get("search_alg", "?") for label, folder in
              zip(table["run"].drop_duplicates(), folders)}
    sections = [
        ("Runs", _summary(table, bounds, groups).to_html(index=False, float_format="%.3f")
         + f"<p class=note>Hypervolume: share of the box error [0, 1] x log10 GFLOPs "
           f"[{bounds.costs['gflops'][0]:g}, {bounds.costs['gflops'][1]:g}] dominated by the front of finished "
           f"trials (reference point: its far corner, the same for every run).</p>"),
        ("Accuracy vs GFLOPs", _image(accuracy_vs_gflops(table), out, "accuracy_vs_gflops")),
        ("Hypervolume vs completed trials", _image(hypervolume_figure(table, groups, bounds), out, "hypervolume")),
        ("Learning curves", _image(learning_curves(table), out, "learning_curves")),
        ("What the search learned", _image(learned_figure(table), out, "learned")),
        ("Error EDF of the sampled architectures", _image(edf_figure(table), out, "edf")),
        ("Proxy fidelity", _fidelity_section(folders, out)),
        ("Pareto front", _front_table(table)),
    ]
    if trained is not None:
        sections.append(("Trained family", _image(plot_family_accuracy(trained.to_dict("records"), "this data"), out, "family_accuracy")))
    body = "".join(f"<h2>{html.escape(title)}</h2>{content}" for title, content in sections)
    title = "MoViNet search report: " + ", ".join(html.escape(f.name) for f in folders)
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>{_STYLE}</style>"
            f"</head><body><h1>{title}</h1>{body}</body></html>")
    path = out / "report.html"
    write_text(path, page)
    return path
