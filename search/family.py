"""The family the paper's way and trained: one scaled search per target, then every member trained.

`search_family` runs one search per target (a0..a5), each in the search space scaled for that
target's budget (`search.targets`), as concurrent Ray tasks (concurrent on a cluster; on one
machine they share its CPUs), and writes the best architecture of each search as the family:
`specs/<target>.yaml`, `family.csv`, `family.png`. `train_family` trains every member of a
family folder (this one, or `run_search.py scale` output) with the shared builder and the
paper's recipe through Ray Train, members concurrently, resumable member by member, and writes
`family_results.csv` and `family_accuracy.png` (beside the published Kinetics-600 points).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import load_run, spec_of
from analysis.family import family_row, plot_family_accuracy, plot_family_cost
from infra.errors import OptionsError
from infra.files import save_figure, write_csv
from infra.run_folder import RunKind, claim_output
from proxies.config import TrainConfig
from scaling import Target, emit_family, official_targets, parse_rule, parse_targets, scale
from scaling.family import INPUTS
from scaling.scale import ROUNDINGS, Scaled
from search_space import ArchSpec, EnsembleSpec, SpecError, UserError, count_flops, load_arch

from .options import SearchOptions
from .scaling_fit import FitOptions, fit_compound, fit_x3d

__all__ = ["search_family", "train_family", "family_members", "scale_family", "ScaleOptions", "ScaledFamily", "FAMILY_SEARCH",
           "FAMILY_TRAINING", "SCALED_FAMILY", "FAMILY_TARGETS"]

FAMILY_SEARCH = RunKind("family search", ("searches",))
FAMILY_TRAINING = RunKind("family training", ("*",))  # the family folder's trained/, member by member


SCALED_FAMILY = RunKind("scaled family", ("family.csv", "specs"))
FAMILY_TARGETS = "a0..a5"  # what `family` searches for: A6 is the A4 + A5 ensemble, not a network of its own


@dataclass(frozen=True)
class ScaleOptions:
    """A family emitted from one base by a scaling rule (`run_search.py scale`).

    Attributes:
      base: a preset or spec YAML (the paper's base is a2).
      rule: compound[:depth,width,res,frames] | dwr[:exponents] | x3d:AXIS,... | fitted:DIR.
      targets: the members to emit, e.g. 'a0..a6' or 'a3,a6' (each at its official GFLOPs).
      inputs: 'official' (each member at its published input shape) or 'rule' (the rule scales it).
      rounding: widths to multiples of 8 never >10% down ('efficientnet') or to the 'nearest'.
      phis: instead of targets, the base scaled at these compound coefficients.
    """

    output: str
    base: str = "a2"
    rule: str = "compound"
    targets: str = "a0..a6"
    inputs: str = "official"
    rounding: str = "efficientnet"
    phis: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.inputs not in INPUTS:
            raise OptionsError(f"inputs: {self.inputs!r} is not one of {', '.join(INPUTS)}")
        if self.rounding not in ROUNDINGS:
            raise OptionsError(f"rounding: {self.rounding!r} is not one of {', '.join(ROUNDINGS)}")


@dataclass(frozen=True)
class ScaledFamily:
    """What `scale_family` wrote: the rule used, the family table, and the fit (if one ran)."""

    rule: str
    table: pd.DataFrame
    fitted: dict | None = None


def scale_family(options: ScaleOptions, fit: FitOptions | None = None) -> ScaledFamily:
    """Writes `specs/`, `family.csv` and `family.png` of the base scaled by the rule to every
    target (or phi); with `fit`, the rule is first fitted by proxy training (`fit_compound`, or
    `fit_x3d` for rule 'x3d') in the same folder, whose result (fitted.json) is returned too.

    The base, targets, phis and rule are checked before anything is written; a new family
    needs a new or empty folder, a fit may be resumed (`fit.resume`).
    """
    base = load_arch(options.base)
    if isinstance(base, EnsembleSpec):
        raise SpecError(f"--base {options.base}: an ensemble is not scaled as one network; scale its members")
    names = None if options.phis else parse_targets(options.targets)
    output = Path(options.output)
    fitted = None
    if fit is None:
        rule = parse_rule(options.rule)
        claim_output(output, SCALED_FAMILY, resume=False)
    else:
        fitted = fit_x3d(base, fit) if options.rule == "x3d" else fit_compound(base, fit)
        rule = parse_rule(f"fitted:{output}")
    if options.phis:
        members = []
        for phi in options.phis:
            spec = scale(base, rule, phi)
            gflops = count_flops(spec).gflops
            members.append((Target(f"phi{phi:g}", gflops, spec.input), Scaled(spec, phi, 1.0, gflops, gflops)))
    else:
        members = emit_family(base, rule, official_targets(names), options.inputs, options.rounding)
    rows = []
    for target, scaled in members:
        scaled.spec.replace(name=target.name).to_yaml(output / "specs" / f"{target.name}.yaml")
        rows.append({**family_row(target.name, scaled.spec), "target_gflops": target.gflops,
                     "deviation": scaled.deviation, "phi": scaled.phi, "width_adjust": scaled.width_adjust})
    emitted = {target.name: scaled.spec for target, scaled in members}
    if {"a4", "a5"} <= set(emitted):  # A6 the official way too: the emitted A4 and A5, logits averaged
        ensemble = EnsembleSpec("a6_ensemble", (emitted["a4"], emitted["a5"]))
        ensemble.to_yaml(output / "specs" / "a6_ensemble.yaml")
        rows.append(family_row("a6_ensemble", ensemble))
    table = pd.DataFrame(rows)
    write_csv(table, output / "family.csv")
    save_figure(plot_family_cost(table[table["member"] != "a6_ensemble"], f"{base.name} scaled, {rule.name}"),
                output / "family.png")
    return ScaledFamily(rule.describe(), table, fitted)


def _best(table: pd.DataFrame) -> pd.Series:
    finished = table[table["status"] == "ok"]
    if finished.empty:
        raise UserError("no trial of this search finished; nothing to put in the family")
    return finished.loc[finished["top1"].idxmax()]


def search_family(options: SearchOptions, targets: list[str], output: Path, resume: bool = False) -> pd.DataFrame:
    """One scaled search per target (concurrent Ray tasks), the best of each as the family.

    Every member's search is planned (space, budget, data) before anything is written or Ray
    starts; on `resume` a member whose search had started continues it, the others start.
    """
    import ray

    from infra.ray_cluster import connect

    from .driver import SEARCH_RUN, plan_search, run_search

    output = Path(output)
    claim_output(output, FAMILY_SEARCH, resume)
    runs = {t: dataclasses.replace(options, output=str(output / "searches" / t), target=t) for t in targets}
    for run in runs.values():
        plan_search(run)
    connect(options.address)
    search = ray.remote(num_cpus=0)(run_search)  # the trials, not the drivers, hold the CPUs
    ray.get([search.remote(run, SEARCH_RUN.held_by(Path(run.output))) for run in runs.values()])
    (output / "specs").mkdir(parents=True, exist_ok=True)
    rows = []
    for target, run in runs.items():
        best = _best(load_run(run.output))
        spec = spec_of(best, target)
        spec.to_yaml(output / "specs" / f"{target}.yaml")
        rows.append({**family_row(target, spec), "arch_id": best["arch_id"], "proxy_top1": best["top1"],
                     "budget_gflops": best["budget_gflops"], "search": run.output})
    table = pd.DataFrame(rows)
    write_csv(table, output / "family.csv")
    save_figure(plot_family_cost(table, "searched family"), output / "family.png")
    return table


def family_members(folder: Path) -> dict[str, ArchSpec]:
    """The trainable members of a family folder (`specs/*.yaml`; ensembles are not trained alone)."""
    specs = sorted((folder / "specs").glob("*.yaml"))
    if not specs:
        raise UserError(f"{folder}: no specs/*.yaml (write a family with `scale` or `family` first)")
    members = {path.stem: load_arch(str(path)) for path in specs}
    trainable = {name: spec for name, spec in members.items() if isinstance(spec, ArchSpec)}
    if not trainable:
        raise UserError(f"{folder}: specs/ holds only ensembles; their members must be in specs/ to be trained")
    return trainable


def _train_member(config: TrainConfig) -> dict:
    """One member's training as a Ray task. Whether to resume is decided where it runs, not when
    it is submitted: Ray retries a task whose worker was lost (e.g. killed for memory), and the
    retry must continue what the first attempt wrote."""
    from proxies.train import TRAINING_RUN, train

    return train(dataclasses.replace(config, resume=TRAINING_RUN.held_by(Path(config.output))))


def train_family(folder: Path, config: TrainConfig, address: str | None = None) -> pd.DataFrame:
    """Trains every member with `config` (its spec and output set per member) as Ray tasks, as
    many at once as the cluster's CPUs hold, into `folder/trained/`. A new family training
    needs an empty `trained/`; with `config.resume` a member whose `result.json` exists is
    kept, an interrupted one resumes."""
    import ray

    from infra.ray_cluster import connect

    members = family_members(folder)
    claim_output(folder / "trained", FAMILY_TRAINING, config.resume, flag="--family")
    if not config.data.is_synthetic:  # refused here in one line, not from a Ray task per member
        from proxies.pipeline import ClipConfig, open_data
        from proxies.report import check_data

        train_source, val_source = open_data(config.data, ClipConfig())
        check_data({"train": train_source, "val": val_source}, config.data.max_missing)
    connect(address)
    remote_train = ray.remote(num_cpus=0)(_train_member)
    waiting = [dataclasses.replace(config, spec=spec.to_dict(), output=str(folder / "trained" / name))
               for name, spec in members.items() if not (folder / "trained" / name / "result.json").is_file()]
    # Only as many trainings as the cluster holds at once: one started beyond that waits for its
    # workers, and Ray Train fails a worker group that cannot start within a minute.
    cpus_per_training = (config.cpus_per_worker or 1) * config.num_workers
    capacity = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_training))
    running: list = []
    while waiting or running:
        while waiting and len(running) < capacity:
            running.append(remote_train.remote(waiting.pop(0)))
        done, running = ray.wait(running, num_returns=1)
        ray.get(done)
    rows = []
    for name, spec in members.items():
        result = json.loads((folder / "trained" / name / "result.json").read_text())
        rows.append({**family_row(name, spec), "top1": result["top1"], "top5": result["top5"],
                     "epochs": result["epochs"]})
    table = pd.DataFrame(rows).sort_values("gflops").reset_index(drop=True)
    write_csv(table, folder / "family_results.csv")
    label = "synthetic data" if config.data.is_synthetic else Path(config.data.source).name
    save_figure(plot_family_accuracy(table, label), folder / "family_accuracy.png")
    return table
