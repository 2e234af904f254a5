"""`run_search.py scale`: the A0-A6 family from one base with a scaling rule, or the rule fitted first."""
from __future__ import annotations

import argparse

from .common import UsageError, add_data_args, data_config, default, positive_float, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from proxies.config import ProxyConfig
    from scaling.scale import ROUNDINGS
    from scaling.targets import INPUTS
    from search.options import FitOptions
    from search.scaled_family import ScaleOptions

    parser.add_argument("--base", default=default(ScaleOptions, "base"),
                        help="preset or spec YAML to scale (the paper's base: a2)")
    parser.add_argument("--rule", default=default(ScaleOptions, "rule"),
                        help="compound[:depth,width,res,frames] | dwr[:exponents] | x3d:AXIS,... | fitted:DIR")
    parser.add_argument("--targets", default=default(ScaleOptions, "targets"),
                        help="family members to emit, e.g. a0..a6 or a3,a6")
    parser.add_argument("--inputs", default=default(ScaleOptions, "inputs"), choices=INPUTS,
                        help="official: each member takes the published input shape; rule: the rule scales it")
    parser.add_argument("--rounding", default=default(ScaleOptions, "rounding"), choices=list(ROUNDINGS),
                        help="widths to multiples of 8: never >10%% down (efficientnet), or nearest")
    parser.add_argument("--phis", help="emit the base scaled at these compound coefficients instead of targets, "
                                       "e.g. --phis=-1,0,1,2 (members phi-1, phi0, ...; '=' lets a list start with "
                                       "a minus)")
    parser.add_argument("--output", required=True, help="folder for family.csv, family.png and specs/")
    fit = parser.add_argument_group("fitting the rule by proxy training (--fit, or --rule x3d without a path)")
    fit.add_argument("--fit", action="store_true", help="random search of compound coefficients at phi = 1")
    fit.add_argument("--candidates", type=positive_int, default=default(FitOptions, "candidates"))
    fit.add_argument("--steps", type=positive_int, default=default(FitOptions, "steps"), help="X3D expansion steps")
    fit.add_argument("--fit-frames", type=positive_int, default=default(FitOptions, "frames"),
                     help="the base's input while fitting")
    fit.add_argument("--fit-resolution", type=positive_int, default=default(FitOptions, "resolution"))
    fit.add_argument("--epochs", type=positive_int, default=default(ProxyConfig, "epochs"), help="proxy epochs")
    fit.add_argument("--batch-size", type=positive_int, default=default(ProxyConfig, "batch_size"))
    fit.add_argument("--cpus-per-trial", type=positive_float, default=default(FitOptions, "cpus"))
    fit.add_argument("--address", help="existing Ray cluster (e.g. auto)")
    fit.add_argument("--resume", action="store_true", help="continue an interrupted fit in --output")
    add_data_args(parser)


def _phis(text: str | None) -> tuple[float, ...] | None:
    if not text:
        return None
    try:
        return tuple(float(p) for p in text.split(","))
    except ValueError:
        raise UsageError(f"--phis {text}: expected numbers separated by commas, e.g. --phis=-1,0,1") from None


def scale_options(args: argparse.Namespace):
    """The `ScaleOptions` the flags describe (the defaults are the dataclass's)."""
    from search.scaled_family import ScaleOptions

    return ScaleOptions(output=args.output, base=args.base, rule=args.rule, targets=args.targets, inputs=args.inputs,
                        rounding=args.rounding, phis=_phis(args.phis))


def fit_options(args: argparse.Namespace):
    """The `FitOptions` of a fit the flags ask for (--fit, or a bare --rule x3d); None without one."""
    import dataclasses

    from proxies.config import ProxyConfig
    from search.options import FitOptions

    if not (args.fit or args.rule == "x3d"):
        if args.resume:
            raise UsageError("--resume continues a fit (--fit, or --rule x3d); a rule-only family is written at once")
        return None
    proxy = dataclasses.replace(ProxyConfig(), epochs=args.epochs, batch_size=args.batch_size)
    return FitOptions(output=args.output, candidates=args.candidates, steps=args.steps, frames=args.fit_frames,
                      resolution=args.fit_resolution, proxy=proxy, data=data_config(args), cpus=args.cpus_per_trial,
                      address=args.address, resume=args.resume)


def run(args: argparse.Namespace) -> int:
    from search.scaled_family import scale_family

    family = scale_family(scale_options(args), fit_options(args))
    if family.fitted is not None:
        print(f"fitted: {family.fitted['chosen']} (candidates in {args.output}/fit.csv, fit.png)")
    print(family.rule)
    for row in family.rows:
        target = f" ({100 * row['deviation']:+.1f}% of {row['target_gflops']:.4g})" if "deviation" in row else ""
        print(f"  {row['member']:<12} {row['gflops']:9.4g} GFLOPs{target}  {row['params'] / 1e6:6.2f}M params  "
              f"input {row['frames']}x{row['resolution']}  depths {row['depths'] or '-'}  widths {row['widths'] or '-'}")
    print(f"specs in {args.output}/specs/, table in {args.output}/family.csv, plot in {args.output}/family.png")
    return 0
