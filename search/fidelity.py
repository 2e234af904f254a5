"""Proxy fidelity of a search run: its architectures trained again with more proxy seeds and at
a reference fidelity (longer, more data, optionally bigger clips), as resumable Ray Tune trials.

`run_fidelity(FidelityOptions(run=...))` picks architectures from the run's records (evenly
across GFLOPs, or the K best), trains each `seeds` times with the run's proxy and `seeds` times
at the reference fidelity, and writes under `<run>/fidelity/`: `trainings.csv` (one row per
training with its per-epoch top-1 curve), `fidelity.csv` (one row per architecture),
`fidelity.json` (`analysis.fidelity_stats.fidelity_report`) and `fidelity.png`; with `zero_cost`,
each architecture's zero-cost scores too (`proxies.zero_cost`, kept in `zero_cost.csv`), ranked
against the reference beside GFLOPs, params and the proxy. Trainings are kept
with the setting they were trained at, so a rerun trains only what is missing and a reference
measured once serves every proxy setting tried after it (`proxy`, `reference_from`): how a user
checks a cheaper proxy on their own data without paying for the reference again.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from analysis import load_run
from analysis.fidelity_stats import TRAINING_COLUMNS, fidelity_report, per_architecture
from analysis.plots import plot_fidelity
from analysis.records import trained_spec_of
from infra.config_io import check_numbers, to_plain
from infra.errors import OptionsError
from infra.files import save_figure, write_csv, write_json
from infra.run_folder import RunKind, claim_output
from proxies.config import ProxyConfig
from search_space import ArchSpec, InputSpec, UserError
from video_data.config import DataConfig

from .grid import GridJob, train_grid
from .options import SearchOptions

__all__ = ["FidelityOptions", "run_fidelity", "select_architectures", "training_setup", "TrainingSetup",
           "FIDELITY_RUN"]

_EXPERIMENT = "fidelity"
FIDELITY_RUN = RunKind("fidelity measurement", ("trainings.csv", f"ray/{_EXPERIMENT}-*"))
_COLUMNS = list(TRAINING_COLUMNS)
_ZERO_COST_FILE = "zero_cost.csv"
_SUPERNET_FILE = "supernet.csv"  # architectures scored by a one-shot run's supernet (--supernet)


@dataclass(frozen=True)
class FidelityOptions:
    """Which architectures of `run`, and what the reference fidelity is.

    Attributes:
      sample: architectures picked evenly across GFLOPs (ignored with `top`).
      top: the K best architectures by the run's top-1 instead.
      seeds: trainings per architecture, each for the proxy and for the reference.
      epochs, frames, resolution, clips, classes, steps: the reference's epochs (default 3x the
        proxy's), clip frames and resolution (default the run's), synthetic clips per class
        (default 2x) and classes (default the run's), and batches per epoch (default the run
        proxy's setting: one pass over the proxy's share of the reference's clips, 2x the
        proxy's steps with 2x the clips).
      proxy, proxy_data: proxy settings and data to measure instead of the run's (same
        architectures, same reference).
      kinds: what to train: 'proxy' and 'reference' (a proxy's seed-vs-seed noise ceiling
        alone needs no reference).
      reference_from: an earlier fidelity folder whose reference trainings are reused.
      zero_cost: also score every architecture with the zero-cost proxies (seconds each, no
        training) on the proxy's data.
      supernet: a one-shot search run (`search --engine oneshot`) whose trained supernet also
        scores every architecture with inherited weights (the `supernet` column).
    """

    run: str
    output: str | None = None
    sample: int = 20
    top: int | None = None
    seeds: int = 2
    epochs: int | None = None
    frames: int | None = None
    resolution: int | None = None
    clips: int | None = None
    classes: int | None = None
    steps: int | None = None
    proxy: ProxyConfig | None = None
    proxy_data: DataConfig | None = None
    kinds: tuple[str, ...] = ("proxy", "reference")
    reference_from: str | None = None
    zero_cost: bool = False
    supernet: str | None = None
    cpus: float = 1.0
    address: str | None = None

    def __post_init__(self) -> None:
        check_numbers(self, positive=("sample", "top", "seeds", "epochs", "frames", "resolution", "clips", "classes",
                                      "steps", "cpus"))
        unknown = sorted(set(self.kinds) - {"proxy", "reference"})
        if unknown or not self.kinds:
            raise OptionsError(f"kinds: 'proxy' and/or 'reference', got {list(self.kinds)}")

    @property
    def folder(self) -> Path:
        return Path(self.output) if self.output else Path(self.run) / "fidelity"


def select_architectures(table: pd.DataFrame, sample: int = 20, top: int | None = None) -> pd.DataFrame:
    """Distinct scored architectures of a run: the `top` best by top-1, or `sample` evenly spaced by GFLOPs."""
    scored = table[table["status"].isin(["ok", "stopped_early"])].sort_values("top1", ascending=False)
    scored = scored.drop_duplicates("arch_id")
    if top:
        return scored.head(top).reset_index(drop=True)
    scored = scored.sort_values("gflops").reset_index(drop=True)
    if len(scored) <= sample:
        return scored
    return scored.iloc[np.unique(np.linspace(0, len(scored) - 1, sample).round().astype(int))].reset_index(drop=True)


@dataclass(frozen=True)
class TrainingSetup:
    """The two fidelities every job trains at."""

    proxy: ProxyConfig
    data: DataConfig
    reference: ProxyConfig
    reference_data: DataConfig
    frames: int | None
    resolution: int | None

    def job(self, spec: ArchSpec, kind: str) -> tuple[ArchSpec, ProxyConfig, DataConfig]:
        if kind == "proxy":
            return spec, self.proxy, self.data
        shape = InputSpec(self.frames or spec.input.frames, self.resolution or spec.input.resolution,
                          spec.input.frame_stride)
        return spec.replace(input=shape), self.reference, self.reference_data


def training_setup(options: FidelityOptions, run: SearchOptions) -> TrainingSetup:
    """The proxy and reference trainings `options` describe on the run's settings (also what
    scores other architectures against the same reference, e.g. a run's front)."""
    proxy = options.proxy or run.proxy
    # One network per reference training: the reference's own seeds are its noise ceiling.
    # No teacher or curriculum either: the reference is what a distilled proxy, or one warmed
    # up on easier clips, is measured against.
    reference = dataclasses.replace(run.proxy, epochs=options.epochs or 3 * run.proxy.epochs,
                                    steps_per_epoch=options.steps or run.proxy.steps_per_epoch, replicas=1,
                                    teacher=None, curriculum_epochs=0)
    data = run.data
    if data.is_synthetic:
        synthetic = data.synthetic
        frames = max(synthetic.frames, ((options.frames or 0) - 1) * run.space.frame_stride + 1)
        synthetic = dataclasses.replace(synthetic, clips_per_class=options.clips or 2 * synthetic.clips_per_class,
                                        num_classes=options.classes or synthetic.num_classes, frames=frames,
                                        resolution=max(synthetic.resolution, options.resolution or 0))
        data = dataclasses.replace(data, synthetic=synthetic)
    return TrainingSetup(proxy, options.proxy_data or run.data, reference, data, options.frames,
                         options.resolution)


def _setting(proxy: ProxyConfig, data: DataConfig, frames: int | None, resolution: int | None) -> str:
    """8 hex digits naming a training setting: results of one setting are never mixed with another's.

    One replica, an actor of the original size, no teacher and no curriculum are left out of
    the text, so settings named before those options existed keep their names (and their
    trainings).
    """
    plain = to_plain({"proxy": dataclasses.replace(proxy, seed=0), "data": data, "frames": frames,
                      "resolution": resolution})
    if plain["proxy"]["replicas"] == 1:
        del plain["proxy"]["replicas"]
    if plain["proxy"]["teacher"] is None:
        for field in ("teacher", "distillation", "temperature"):
            del plain["proxy"][field]
    if plain["proxy"]["curriculum_epochs"] == 0:
        for field in ("curriculum_epochs", "curriculum_actor_scale"):
            del plain["proxy"][field]
    if plain["data"]["synthetic"]["actor_scale"] == 1.0:
        del plain["data"]["synthetic"]["actor_scale"]
    text = json.dumps(plain, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _settings(setup: TrainingSetup) -> dict[str, str]:
    return {"proxy": _setting(setup.proxy, setup.data, None, None),
            "reference": _setting(setup.reference, setup.reference_data, setup.frames, setup.resolution)}


def _jobs(architectures: pd.DataFrame, setup: TrainingSetup, seeds: int, kinds: tuple[str, ...],
          done: set[tuple]) -> list[GridJob]:
    """The trainings not yet in `done` ((arch_id, kind, seed, setting) of finished ones)."""
    settings, jobs = _settings(setup), []
    for row in architectures.itertuples():
        for kind in kinds:
            spec, proxy, data = setup.job(trained_spec_of(row._asdict()), kind)
            jobs += [GridJob(f"{row.arch_id}-{kind}-{seed}", spec, dataclasses.replace(proxy, seed=seed), data,
                             {"arch_id": row.arch_id, "kind": kind, "seed": seed, "setting": settings[kind]})
                     for seed in range(1, seeds + 1) if (row.arch_id, kind, seed, settings[kind]) not in done]
    return jobs


def _earlier(folder: Path) -> pd.DataFrame:
    path = folder / "trainings.csv"
    # Settings are hex digests: read as text, or one of digits alone comes back a number and never matches.
    return pd.read_csv(path, dtype={"setting": str, "arch_id": str}) if path.is_file() \
        else pd.DataFrame(columns=_COLUMNS)


def run_fidelity(options: FidelityOptions, resume: bool = False) -> dict:
    """Trains what is missing, writes the fidelity files and returns the report.

    Finished trainings accumulate in `trainings.csv`, each with the setting it was trained at,
    so `resume` (a folder that already holds a measurement) trains only what is missing, and
    another proxy setting measured there with `resume` reuses the reference.
    """
    run = SearchOptions.load(options.run)
    architectures = select_architectures(load_run(options.run), options.sample, options.top)
    if len(architectures) < 3:
        raise UserError(f"{options.run}: {len(architectures)} scored architectures; fidelity needs at least 3")
    claim_output(options.folder, FIDELITY_RUN, resume)
    if options.reference_from and not (Path(options.reference_from) / "trainings.csv").is_file():
        raise UserError(f"{options.reference_from}: no trainings.csv (not a fidelity folder) for --reference-from")
    if options.supernet:
        from .oneshot import check_oneshot_run

        check_oneshot_run(options.supernet)
    setup = training_setup(options, run)
    options.folder.mkdir(parents=True, exist_ok=True)
    earlier = _earlier(options.folder)
    if options.reference_from:
        reference = _earlier(Path(options.reference_from))
        earlier = pd.concat([earlier, reference[reference["kind"] == "reference"]], ignore_index=True)
    finished = earlier[earlier["status"] == "ok"]
    done = set(zip(finished["arch_id"], finished["kind"], finished["seed"], finished["setting"]))
    jobs = _jobs(architectures, setup, options.seeds, options.kinds, done)
    rows = []
    if jobs:
        # The grid's name follows its jobs, so --resume finds an interrupted grid and a new one never collides.
        digest = hashlib.sha1(" ".join(sorted(j.key + j.info["setting"] for j in jobs)).encode()).hexdigest()[:8]
        rows = train_grid(jobs, options.folder, f"{_EXPERIMENT}-{digest}", options.cpus, options.address, resume)
    trainings = pd.concat([earlier, pd.DataFrame(rows, columns=_COLUMNS)], ignore_index=True)
    trainings = trainings.drop_duplicates(["arch_id", "kind", "seed", "setting"], keep="last")
    write_csv(trainings[_COLUMNS], options.folder / "trainings.csv")
    settings = _settings(setup)
    current = trainings[trainings["arch_id"].isin(architectures["arch_id"])
                        & (trainings["setting"] == trainings["kind"].map(settings))]
    frame = _with_run_and_cost(current, architectures)
    if options.zero_cost:
        frame = frame.merge(_zero_cost(architectures, setup, options.folder, settings["proxy"]), on="arch_id",
                            how="left")
    if options.supernet:
        frame = frame.merge(_supernet_scores(architectures, options.supernet, options.folder), on="arch_id",
                            how="left")
    return write_fidelity(options.folder, frame)


def _supernet_scores(architectures: pd.DataFrame, run: str, folder: Path) -> pd.DataFrame:
    """Each architecture's top-1 with the weights it inherits from the one-shot run's supernet
    (batch norms re-estimated for it), kept in supernet.csv by run with the seconds each took."""
    def score(rows) -> pd.DataFrame:
        from .oneshot import load_oneshot  # TensorFlow loads only when a supernet is asked for

        training, scored = load_oneshot(run), []
        for row in rows:
            candidate = training.evaluate(training.task.space.to_params(trained_spec_of(row._asdict())))
            print(f"supernet: {row.arch_id} top-1 {candidate.top1:.3f} ({candidate.seconds:.1f} s)", flush=True)
            scored.append({"arch_id": row.arch_id, "supernet": candidate.top1, "seconds": candidate.seconds})
        return pd.DataFrame(scored)

    kept = _cached_scores(folder / _SUPERNET_FILE, "run", str(Path(run).resolve()), architectures, score)
    return kept[["arch_id", "supernet"]]


def _zero_cost(architectures: pd.DataFrame, setup: TrainingSetup, folder: Path,
               setting: str) -> pd.DataFrame:
    """Each architecture's zero-cost scores at the proxy's shape and data, computed once per
    proxy setting (kept in zero_cost.csv)."""
    def score(rows) -> pd.DataFrame:
        from proxies.zero_cost import score_architectures  # TensorFlow loads only when scores are asked for

        return score_architectures({row.arch_id: setup.job(trained_spec_of(row._asdict()), "proxy")[0]
                                    for row in rows}, setup.data, progress=print)

    return _cached_scores(folder / _ZERO_COST_FILE, "setting", setting, architectures, score)


def _cached_scores(path: Path, column: str, key: str, architectures: pd.DataFrame,
                   score: Callable[[list], pd.DataFrame]) -> pd.DataFrame:
    """Per-architecture scores kept in `path` under `key` (in `column`: a proxy setting, a
    supernet run), so a rerun scores (`score(rows)`, a table by arch_id) only the architectures
    not yet scored under that key; returns that key's rows without the key."""
    kept = pd.read_csv(path, dtype={column: str, "arch_id": str}) if path.is_file() \
        else pd.DataFrame(columns=["arch_id", column])
    known = set(kept.loc[kept[column] == key, "arch_id"])
    missing = [row for row in architectures.itertuples() if row.arch_id not in known]
    if missing:
        kept = pd.concat([kept, score(missing).assign(**{column: key})], ignore_index=True)
        write_csv(kept, path)
    return kept[kept[column] == key].drop(columns=column)


def _with_run_and_cost(trainings: pd.DataFrame, architectures: pd.DataFrame) -> pd.DataFrame:
    """Trainings with each architecture's cost at the search shape (as the run's records give
    it, with the run's classes), plus the run's own scores."""
    own = pd.DataFrame({"arch_id": architectures["arch_id"], "kind": "run", "seed": 0,
                        "status": architectures["status"], "top1": architectures["top1"], "curve": "[]"})
    frame = pd.concat([trainings, own], ignore_index=True)
    for column in ("gflops", "params"):
        frame[column] = frame["arch_id"].map(architectures.set_index("arch_id")[column])
    return frame


def write_fidelity(folder: Path, trainings: pd.DataFrame) -> dict:
    """fidelity.csv, fidelity.json and fidelity.png from a trainings table."""
    trainings = trainings.copy()
    trainings["curve"] = [json.loads(c) if isinstance(c, str) else c for c in trainings["curve"]]
    report = fidelity_report(trainings)
    write_csv(per_architecture(trainings), folder / "fidelity.csv")
    report = _finite(report)
    write_json(folder / "fidelity.json", report)
    save_figure(plot_fidelity(trainings), folder / "fidelity.png")
    return report


def _finite(value):
    """NaN (no interval for too few architectures) as null, so the JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
