"""A family emitted from one base by a scaling rule (`run_search.py scale`), and written as a folder.

`scale_family` scales a base to every official target (or to given compound coefficients)
with a rule, written or first fitted by proxy training (`search.scaling_fit`, the only part
that needs Ray), and writes `specs/<member>.yaml` (with `a6_ensemble.yaml`, the emitted A4
and A5 averaged, when both are in), `family.csv` and `family.png`. Without a fit it loads no
TensorFlow, Ray or pandas: the rules-only command answers in about a second.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.family_figures import family_row, plot_family_cost
from infra.errors import OptionsError
from infra.files import save_figure, write_rows
from infra.run_folder import RunKind, claim_output
from scaling import Target, emit_family, official_targets, parse_rule, parse_targets, scale
from scaling.scale import ROUNDINGS, Scaled
from scaling.targets import INPUTS
from search_space import EnsembleSpec, SpecError, count_flops, load_arch

if TYPE_CHECKING:
    from .options import FitOptions

__all__ = ["ScaleOptions", "ScaledFamily", "scale_family", "SCALED_FAMILY"]

SCALED_FAMILY = RunKind("scaled family", ("family.csv", "specs"), resumable=False)


@dataclass(frozen=True)
class ScaleOptions:
    """A family emitted from one base by a scaling rule.

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
    """What `scale_family` wrote: the rule used, one row per member (as in family.csv), and the
    fit's result (fitted.json) when the rule was fitted."""

    rule: str
    rows: list[dict]
    fitted: dict | None = None


def scale_family(options: ScaleOptions, fit: FitOptions | None = None) -> ScaledFamily:
    """Writes the family folder; with `fit`, the rule is first fitted by proxy training in the
    same folder (`fit_compound`, or `fit_x3d` for rule 'x3d').

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
        from .scaling_fit import fit_compound, fit_x3d  # Ray Tune, only for a fit

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
    networks = list(rows)
    emitted = {target.name: scaled.spec for target, scaled in members}
    if {"a4", "a5"} <= set(emitted):  # A6 the official way too: the emitted A4 and A5, logits averaged
        ensemble = EnsembleSpec("a6_ensemble", (emitted["a4"], emitted["a5"]))
        ensemble.to_yaml(output / "specs" / "a6_ensemble.yaml")
        rows.append(family_row("a6_ensemble", ensemble))
    write_rows(rows, output / "family.csv")
    save_figure(plot_family_cost(networks, f"{base.name} scaled, {rule.name}"), output / "family.png")
    return ScaledFamily(rule.describe(), rows, fitted)
