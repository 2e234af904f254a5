#!/usr/bin/env python3
"""MoViNet toolkit entry point.

    python run_search.py                      # a small real search on the embedded synthetic data
    python run_search.py search --num-samples 40 --gflops 0.01:0.05 --search-alg nsga2 [--address auto]
    python run_search.py search --resume --output runs/<stamp>
    python run_search.py export --run runs/<stamp> [--top 3]
    python run_search.py scale --base a2 --rule compound --targets a0..a6 --output runs/family
    python run_search.py scale --fit --base a0 --output runs/fit        # coefficients by proxy training
    python run_search.py family --targets a0..a5 --output runs/searched-family [--address auto]
    python run_search.py train-family --family runs/family --data DIR --epochs 30 [--resume]
    python run_search.py report --run runs/<a> [--run runs/<b> ...] [--output DIR] [--family runs/family]
    python run_search.py fidelity --run runs/<stamp> [--sample 20 | --top 5] [--epochs 24 --clips 120 --seeds 2]
    python run_search.py train --arch a0|spec.yaml --data DIR|synthetic --output DIR [--resume]
    python run_search.py flops --arch a0 [--stream] [--frames 50 --resolution 172] [--per-block] [--json]
    python run_search.py data DIR [--split train|val|test] [--json]   # what a data folder holds
    python run_search.py predict VIDEO|DIR --run runs/a0 [--stream] [--top 5]

Bad input (an unknown preset, a malformed spec YAML, a missing data folder...) is reported in
one line naming what is wrong, with exit status 2; anything else is a bug and shows its
traceback. Defaults come from the option dataclasses (`search.SearchOptions`,
`proxies.config.TrainConfig`, ...), never from this file.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from typing import Any


def _default(cls: type, name: str) -> Any:
    """The default of dataclass field `name` of `cls` (the one home of every CLI default)."""
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    return field.default_factory() if field.default is dataclasses.MISSING else field.default


# ----- flops -----------------------------------------------------------------------------------
def _flops(args: argparse.Namespace) -> int:
    from search_space import count_flops, load_arch

    spec = load_arch(args.arch, stream=args.stream)
    frames = args.frames or spec.input.frames
    resolution = args.resolution or spec.input.resolution
    cost = count_flops(spec, frames, resolution, num_classes=args.num_classes)
    if args.json:
        result = {"arch": spec.name, "frames": frames, "resolution": resolution, "gflops": cost.gflops,
                  "gmacs": cost.gmacs, "params": cost.params}
        if args.per_block:
            result["per_block_gflops"] = cost.per_block()
        print(json.dumps(result))
        return 0
    print(f"{spec.name}: {cost.gflops:.3f} GFLOPs ({cost.gmacs:.3f} G multiply-adds), {cost.params:,} parameters, "
          f"on {frames}x{resolution}x{resolution} frames, {args.num_classes} classes")
    if args.per_block:
        depths = {f"block{b}": len(block.layers) for b, block in enumerate(spec.blocks)}
        for name, gflops in cost.per_block().items():
            layers = f"{depths[name]:>3} layers" if name in depths else " " * 10
            print(f"  {name:<7}{layers}  {gflops:9.4f} GFLOPs  {100 * gflops / cost.gflops:5.1f}%")
    return 0


# ----- data options shared by search and train ------------------------------------------------
def _folder_args(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    group = parser.add_argument_group("data folders (the layout is found without these)")
    group.add_argument("--train-csv", help="annotations of the train split (overrides discovery)")
    group.add_argument("--val-csv", help="annotations of the val split (overrides discovery)")
    group.add_argument("--video-root", help="folder the clips are under (overrides discovery)")
    return group


def _data_args(parser: argparse.ArgumentParser) -> None:
    from proxies.config import DataConfig
    from proxies.synthetic import SyntheticConfig

    parser.add_argument("--data", default=_default(DataConfig, "source"),
                        help="'synthetic', a data folder (any Kinetics-style layout) or TFRecord shards")
    folders = _folder_args(parser)
    folders.add_argument("--fps", type=float, help="sample clip frames 1/fps s apart (instead of the frame stride)")
    folders.add_argument("--max-missing", type=float, default=_default(DataConfig, "max_missing"),
                         help="refuse to start if more of a split's clips are missing or corrupt")
    group = parser.add_argument_group("synthetic data (--data synthetic)")
    group.add_argument("--synthetic-classes", type=int, default=_default(SyntheticConfig, "num_classes"))
    group.add_argument("--synthetic-clips", type=int, default=_default(SyntheticConfig, "clips_per_class"),
                       help="clips per class (1 in 5 held out)")
    group.add_argument("--synthetic-frames", type=int, default=_default(SyntheticConfig, "frames"))
    group.add_argument("--synthetic-resolution", type=int, default=_default(SyntheticConfig, "resolution"))
    group.add_argument("--difficulty", type=float, default=_default(SyntheticConfig, "difficulty"))


def _data_config(args: argparse.Namespace):
    from proxies.config import DataConfig
    from proxies.synthetic import SyntheticConfig

    synthetic = SyntheticConfig(num_classes=args.synthetic_classes, clips_per_class=args.synthetic_clips,
                                frames=args.synthetic_frames, resolution=args.synthetic_resolution,
                                difficulty=args.difficulty)
    return DataConfig(source=args.data, synthetic=synthetic, train_csv=args.train_csv, val_csv=args.val_csv,
                      video_root=args.video_root, fps=args.fps, max_missing=args.max_missing)


def _data(args: argparse.Namespace) -> int:
    from proxies.report import inspect_folder

    csv = {"train": args.train_csv, "val": args.val_csv}.get(args.split)
    report = inspect_folder(args.folder, args.split, csv=csv, video_root=args.video_root, workers=args.workers)
    print(json.dumps(report.to_dict()) if args.json else f"{report.line()} [{report.source}]")
    return 0


# ----- search ----------------------------------------------------------------------------------
def _search_args(parser: argparse.ArgumentParser) -> None:
    from proxies.config import ProxyConfig
    from search.options import ENGINES, REWARDS, SCHEDULERS, SEARCH_ALGORITHMS, SearchOptions, TrialResources

    _data_args(parser)
    parser.add_argument("--num-samples", type=int, default=_default(SearchOptions, "num_samples"), help="trials to run")
    parser.add_argument("--gflops", help="FLOP budget MIN:MAX in GFLOPs at the search input shape")
    parser.add_argument("--search-alg", default=_default(SearchOptions, "search_alg"), choices=SEARCH_ALGORITHMS)
    parser.add_argument("--scheduler", default=_default(SearchOptions, "scheduler"), choices=SCHEDULERS)
    parser.add_argument("--reward", default=_default(SearchOptions, "reward"), choices=REWARDS,
                        help="tunas: top1 - 0.5 * |gflops / budget max - 1|")
    parser.add_argument("--cpus-per-trial", type=float, default=_default(TrialResources, "cpus"))
    parser.add_argument("--gpus-per-trial", type=float, default=_default(TrialResources, "gpus"))
    parser.add_argument("--output", help="run folder (default runs/<timestamp>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the search in --output (with its stored options; other flags are ignored)")
    parser.add_argument("--address", help="existing Ray cluster (e.g. auto); default: a private local Ray")
    parser.add_argument("--engine", default=_default(SearchOptions, "engine"), choices=ENGINES)
    parser.add_argument("--space", help="search space YAML (default: the paper's space at 8x32x32)")
    parser.add_argument("--seed-arch", help="preset or spec YAML to evaluate first (the space is widened to hold it)")
    parser.add_argument("--target", help="search for a family member (a0..a6): the space scaled for its GFLOPs, "
                                         "the budget checked at its published input")
    parser.add_argument("--rule", default=_default(SearchOptions, "rule"), help="scaling rule for --target")
    parser.add_argument("--epochs", type=int, default=_default(ProxyConfig, "epochs"), help="proxy epochs per trial")
    parser.add_argument("--batch-size", type=int, default=_default(ProxyConfig, "batch_size"))
    parser.add_argument("--replicas", type=int, default=_default(ProxyConfig, "replicas"),
                        help="networks trained per trial from different seeds; the trial scores their mean")
    parser.add_argument("--seed", type=int, default=_default(SearchOptions, "seed"), help="search algorithm seed")


def _search_options(args: argparse.Namespace, output: str):
    from search.options import SearchOptions, TrialResources
    from search_space import Budget, SearchSpace

    defaults = SearchOptions()
    return SearchOptions(
        output=output, num_samples=args.num_samples, search_alg=args.search_alg, scheduler=args.scheduler,
        reward=args.reward, engine=args.engine, seed=args.seed, seed_arch=args.seed_arch, address=args.address,
        target=args.target, rule=args.rule,
        space=SearchSpace.from_yaml(args.space) if args.space else defaults.space, budget=Budget.parse(args.gflops),
        proxy=dataclasses.replace(defaults.proxy, epochs=args.epochs, batch_size=args.batch_size,
                                  replicas=args.replicas),
        data=_data_config(args), resources=TrialResources(cpus=args.cpus_per_trial, gpus=args.gpus_per_trial))


def _search(args: argparse.Namespace) -> int:
    from search import SearchOptions, run_search
    from search_space import UserError

    if args.resume:
        if not args.output:
            raise UserError("--resume needs --output, the folder of the search to continue")
        options = SearchOptions.load(args.output)
    else:
        options = _search_options(args, args.output or f"runs/{time.strftime('%Y%m%d-%H%M%S')}")
    table = run_search(options, resume=args.resume)
    counts = table["status"].value_counts()
    states = ", ".join(f"{counts[s]} {label}" for s, label in (("ok", "finished"), ("stopped_early", "stopped early"),
                                                                ("error", "failed"), ("nan", "diverged (NaN)"),
                                                                ("oom", "out of memory")) if s in counts)
    print(f"{len(table)} trials: {states}; {int(table['pareto'].sum())} on the Pareto front. Results in "
          f"{options.output}/: report.html, trials.csv, pareto.csv, pareto.png, configs/ (front specs), "
          f"specs/ (all specs)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from analysis import load_run, write_results

    run = Path(args.run_dir)
    table = write_results(run, load_run(run).drop(columns=["pareto"]), top_k=args.top)
    print(f"exported {min(int(table['pareto'].sum()), args.top or 10**9)} configs to {run / 'configs'}")
    return 0


# ----- scale -----------------------------------------------------------------------------------
def _scale_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", default="a2", help="preset or spec YAML to scale (the paper's base: a2)")
    parser.add_argument("--rule", default="compound",
                        help="compound[:depth,width,res,frames] | dwr[:exponents] | x3d:AXIS,... | fitted:DIR")
    parser.add_argument("--targets", default="a0..a6", help="family members to emit, e.g. a0..a6 or a3,a6")
    parser.add_argument("--inputs", default="official", choices=["official", "rule"],
                        help="official: each member takes the published input shape; rule: the rule scales it")
    parser.add_argument("--rounding", default="efficientnet", choices=["efficientnet", "nearest"],
                        help="widths to multiples of 8: never >10%% down (EfficientNet), or nearest")
    parser.add_argument("--phis", help="emit the base scaled at these compound coefficients instead of targets, "
                                       "e.g. --phis=-1,0,1,2 (members phi-1, phi0, ...; '=' lets a list start with "
                                       "a minus)")
    parser.add_argument("--output", required=True, help="folder for family.csv, family.png and specs/")
    fit = parser.add_argument_group("fitting the rule by proxy training (--fit, or --rule x3d without a path)")
    fit.add_argument("--fit", action="store_true", help="random search of compound coefficients at phi = 1")
    fit.add_argument("--candidates", type=int, default=_default(_fit_options(), "candidates"))
    fit.add_argument("--steps", type=int, default=_default(_fit_options(), "steps"), help="X3D expansion steps")
    fit.add_argument("--fit-frames", type=int, default=_default(_fit_options(), "frames"),
                     help="the base's input while fitting")
    fit.add_argument("--fit-resolution", type=int, default=_default(_fit_options(), "resolution"))
    fit.add_argument("--epochs", type=int, default=_default(_proxy_config(), "epochs"), help="proxy epochs")
    fit.add_argument("--batch-size", type=int, default=_default(_proxy_config(), "batch_size"))
    fit.add_argument("--cpus-per-trial", type=float, default=1.0)
    fit.add_argument("--address", help="existing Ray cluster (e.g. auto)")
    fit.add_argument("--resume", action="store_true", help="continue an interrupted fit")
    _data_args(parser)


def _fit_options():
    from search.scaling_fit import FitOptions

    return FitOptions


def _proxy_config():
    from proxies.config import ProxyConfig

    return ProxyConfig


def _fitted_rule(args: argparse.Namespace, base) -> str:
    """Runs the fit that `--fit` or a bare `--rule x3d` asks for; returns the rule to emit with."""
    from proxies.config import ProxyConfig
    from search.scaling_fit import FitOptions, fit_compound, fit_x3d

    options = FitOptions(output=args.output, candidates=args.candidates, steps=args.steps, frames=args.fit_frames,
                         resolution=args.fit_resolution, proxy=ProxyConfig(epochs=args.epochs,
                                                                            batch_size=args.batch_size),
                         data=_data_config(args), cpus=args.cpus_per_trial, address=args.address,
                         resume=args.resume)
    result = fit_x3d(base, options) if args.rule == "x3d" else fit_compound(base, options)
    print(f"fitted: {result['chosen']} (candidates in {args.output}/fit.csv, fit.png)")
    return f"fitted:{args.output}"


def _scale(args: argparse.Namespace) -> int:
    from pathlib import Path

    import pandas as pd

    from analysis.family import family_row, plot_family_cost
    from scaling import Target, emit_family, official_targets, parse_rule, parse_targets, scale
    from scaling.scale import Scaled
    from search_space import EnsembleSpec, count_flops, load_arch

    base = load_arch(args.base)
    output = Path(args.output)
    (output / "specs").mkdir(parents=True, exist_ok=True)
    if args.fit or args.rule == "x3d":
        from infra.tf_runtime import load_tensorflow

        load_tensorflow()
        args.rule = _fitted_rule(args, base)
    rule = parse_rule(args.rule)
    if args.phis:
        members = []
        for phi in (float(p) for p in args.phis.split(",")):
            spec = scale(base, rule, phi)
            gflops = count_flops(spec).gflops
            members.append((Target(f"phi{phi:g}", gflops, spec.input), Scaled(spec, phi, 1.0, gflops, gflops)))
    else:
        members = emit_family(base, rule, official_targets(parse_targets(args.targets)), args.inputs, args.rounding)
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
    table.to_csv(output / "family.csv", index=False)
    plot_family_cost(table[table["member"] != "a6_ensemble"], f"{base.name} scaled, {rule.name}").savefig(
        output / "family.png", dpi=120)
    print(rule.describe())
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"specs in {output / 'specs'}/, table in {output / 'family.csv'}, plot in {output / 'family.png'}")
    return 0


# ----- family ----------------------------------------------------------------------------------
def _family(args: argparse.Namespace) -> int:
    from pathlib import Path

    from scaling import parse_targets
    from search.family import search_family

    output = Path(args.output or f"runs/family-{time.strftime('%Y%m%d-%H%M%S')}")
    table = search_family(_search_options(args, str(output)), parse_targets(args.targets), output, args.resume)
    print(table[["member", "gflops", "budget_gflops", "params", "depths", "widths", "proxy_top1"]].to_string(
        index=False))
    print(f"the family's specs in {output / 'specs'}/, each search in {output / 'searches'}/")
    return 0


def _train_family(args: argparse.Namespace) -> int:
    from pathlib import Path

    from search.family import train_family

    config = _train_config(args, spec={}, output="")
    table = train_family(Path(args.family), config, args.address)
    print(table[["member", "gflops", "params", "top1", "top5"]].to_string(index=False))
    print(f"results in {args.family}/family_results.csv and family_accuracy.png; runs in {args.family}/trained/")
    return 0


# ----- report ----------------------------------------------------------------------------------
def _report(args: argparse.Namespace) -> int:
    from analysis import write_report

    path = write_report(args.runs, args.output, args.family)
    print(f"report: {path} (figures as PNG files beside it)")
    return 0


# ----- fidelity --------------------------------------------------------------------------------
def _fidelity_args(parser: argparse.ArgumentParser) -> None:
    from search.fidelity import FidelityOptions

    parser.add_argument("--run", dest="run_dir", required=True, help="a search run folder")
    parser.add_argument("--output", help="where to write (default RUN/fidelity)")
    parser.add_argument("--sample", type=int, default=_default(FidelityOptions, "sample"),
                        help="architectures picked evenly across GFLOPs")
    parser.add_argument("--top", type=int, help="the K best architectures of the run instead")
    parser.add_argument("--seeds", type=int, default=_default(FidelityOptions, "seeds"),
                        help="trainings per architecture for the proxy and for the reference")
    parser.add_argument("--epochs", type=int, help="reference epochs (default 3x the proxy's)")
    parser.add_argument("--frames", type=int, help="reference clip frames (default the run's)")
    parser.add_argument("--resolution", type=int, help="reference clip resolution (default the run's)")
    parser.add_argument("--clips", type=int, help="reference synthetic clips per class (default 2x)")
    parser.add_argument("--classes", type=int, help="reference synthetic classes (default the run's)")
    parser.add_argument("--steps", type=int,
                        help="reference batches per epoch (default: one pass over its share of its clips)")
    parser.add_argument("--reference-from", help="reuse the reference trainings of an earlier fidelity folder")
    parser.add_argument("--proxy-only", action="store_true",
                        help="train only the proxy seeds (its noise ceiling needs no reference)")
    proxy = parser.add_argument_group("a proxy to measure instead of the run's (same architectures, same reference)")
    proxy.add_argument("--proxy-epochs", type=int)
    proxy.add_argument("--proxy-batch-size", type=int)
    proxy.add_argument("--proxy-replicas", type=int, help="networks averaged per proxy training")
    proxy.add_argument("--proxy-steps", type=int, help="batches per epoch (0: one pass over the training clips)")
    proxy.add_argument("--proxy-lr", type=float, help="learning rate per 1024 clips")
    proxy.add_argument("--proxy-clips", type=int, help="synthetic clips per class")
    proxy.add_argument("--proxy-difficulty", type=float, help="synthetic data difficulty in [0, 1]")
    proxy.add_argument("--proxy-classes", type=int, help="synthetic classes")
    parser.add_argument("--cpus-per-trial", type=float, default=_default(FidelityOptions, "cpus"))
    parser.add_argument("--address", help="existing Ray cluster (e.g. auto); default: a private local Ray")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted measurement")


def _measured_proxy(args: argparse.Namespace):
    """The proxy (and data) the --proxy-* flags describe, on top of the run's; (None, None) without them."""
    from search import SearchOptions

    if not any(v is not None for v in (args.proxy_epochs, args.proxy_batch_size, args.proxy_replicas,
                                       args.proxy_steps, args.proxy_lr, args.proxy_clips, args.proxy_difficulty,
                                       args.proxy_classes)):
        return None, None
    run = SearchOptions.load(args.run_dir)
    recipe = dataclasses.replace(run.proxy.recipe, learning_rate=args.proxy_lr or run.proxy.recipe.learning_rate)
    proxy = dataclasses.replace(run.proxy, epochs=args.proxy_epochs or run.proxy.epochs,
                                batch_size=args.proxy_batch_size or run.proxy.batch_size, recipe=recipe,
                                replicas=run.proxy.replicas if args.proxy_replicas is None else args.proxy_replicas,
                                steps_per_epoch=run.proxy.steps_per_epoch if args.proxy_steps is None
                                else args.proxy_steps or None)
    synthetic = run.data.synthetic
    synthetic = dataclasses.replace(synthetic, clips_per_class=args.proxy_clips or synthetic.clips_per_class,
                                    num_classes=args.proxy_classes or synthetic.num_classes,
                                    difficulty=synthetic.difficulty if args.proxy_difficulty is None
                                    else args.proxy_difficulty)
    return proxy, dataclasses.replace(run.data, synthetic=synthetic)


def _fidelity(args: argparse.Namespace) -> int:
    from search.fidelity import FidelityOptions, run_fidelity

    proxy, proxy_data = _measured_proxy(args)
    options = FidelityOptions(run=args.run_dir, output=args.output, sample=args.sample, top=args.top,
                              seeds=args.seeds, epochs=args.epochs, frames=args.frames, resolution=args.resolution,
                              clips=args.clips, classes=args.classes, steps=args.steps, proxy=proxy,
                              proxy_data=proxy_data,
                              kinds=("proxy",) if args.proxy_only else ("proxy", "reference"),
                              reference_from=args.reference_from, cpus=args.cpus_per_trial, address=args.address)
    report = run_fidelity(options, resume=args.resume)
    print(_fidelity_summary(report))
    print(f"results in {options.folder}/: fidelity.csv, fidelity.json, fidelity.png, trainings.csv")
    return 0


def _fidelity_summary(report: dict) -> str:
    def tau(key: str) -> str:
        value = report.get(key)
        if not value or value["value"] is None:
            return "n/a"
        interval = "" if value["low"] is None else f" [{value['low']:+.2f}, {value['high']:+.2f}]"
        return f"{value['value']:+.2f}{interval}"

    def pairs(kind: str) -> str:
        seeds = (report.get(f"{kind}_seed_vs_seed_kendall") or {}).get("seeds", 0)
        return f"mean over the {seeds * (seeds - 1) // 2} pairs of {seeds} seeds" if seeds > 2 else ""

    singles = [s["value"] for s in report.get("proxy_one_seed_vs_reference_kendall", []) if s["value"] is not None]
    lines = [f"{report['architectures']} architectures, {report['trainings']} trainings; Kendall tau (90% interval):",
             f"  proxy vs reference      {tau('proxy_vs_reference_kendall')}   (Spearman "
             f"{tau('proxy_vs_reference_spearman')}; the proxy's mean over its seeds)",
             "  one proxy seed vs ref.  " + ("  ".join(f"{v:+.2f}" for v in singles) or "n/a") + "   (each seed)",
             f"  GFLOPs vs reference     {tau('gflops_vs_reference_kendall')}",
             f"  params vs reference     {tau('params_vs_reference_kendall')}",
             f"  proxy minus GFLOPs      {tau('proxy_minus_gflops_kendall')}   (paired: above 0 is clearly better)",
             f"  run's own vs reference  {tau('run_vs_reference_kendall')}",
             f"  proxy seed vs seed      {tau('proxy_seed_vs_seed_kendall')}   "
             f"(noise ceiling{'; ' + pairs('proxy') if pairs('proxy') else ''})",
             f"  reference seed vs seed  {tau('reference_seed_vs_seed_kendall')}   {pairs('reference')}"]
    halves = report.get("proxy_half_vs_half_kendall")
    if halves:
        k = halves["seeds_averaged"]
        lines.append(f"  {f'proxy {k}-seed means':<24}{tau('proxy_half_vs_half_kendall')}   (seed vs seed when a "
                     f"trial averages {k} of these trainings)")
    lines.append("  epoch vs last (proxy)   " + "  ".join(f"{e['epoch']}: {e['tau']['value']:+.2f}"
                                                        for e in report["epoch_vs_last_kendall"]
                                                        if e["tau"]["value"] is not None))
    return "\n".join(line.rstrip() for line in lines)


# ----- train -----------------------------------------------------------------------------------
def _train_args(parser: argparse.ArgumentParser) -> None:
    """What `train` and `train-family` share: data, schedule, recipe, workers."""
    from proxies.config import TrainConfig
    from proxies.recipe import Recipe
    from search_space import ModelOptions

    _data_args(parser)
    parser.add_argument("--epochs", type=int, default=_default(TrainConfig, "epochs"))
    parser.add_argument("--batch-size", type=int, default=_default(TrainConfig, "batch_size"), help="per worker")
    parser.add_argument("--frames", type=int, help="clip frames (default: the spec's input)")
    parser.add_argument("--resolution", type=int, help="clip resolution (default: the spec's input)")
    parser.add_argument("--frame-stride", type=int, help="source frames between clip frames")
    parser.add_argument("--learning-rate", type=float, default=_default(Recipe, "learning_rate"),
                        help="per 1024 clips")
    parser.add_argument("--dropout", type=float, default=_default(ModelOptions, "dropout_rate"))
    parser.add_argument("--stochastic-depth", type=float, default=_default(ModelOptions, "stochastic_depth_rate"))
    parser.add_argument("--mixed-precision", default=_default(Recipe, "mixed_precision"),
                        choices=["auto", "off", "mixed_float16", "mixed_bfloat16"])
    parser.add_argument("--resume", action="store_true", help="continue the run in --output from its last checkpoint")
    parser.add_argument("--num-workers", type=int, default=_default(TrainConfig, "num_workers"),
                        help="data-parallel Ray Train workers")
    parser.add_argument("--cpus-per-worker", type=int)
    parser.add_argument("--gpus-per-worker", type=float, default=_default(TrainConfig, "gpus_per_worker"))
    parser.add_argument("--address", help="existing Ray cluster to run on (e.g. auto or ray://host:10001)")
    parser.add_argument("--seed", type=int, default=_default(TrainConfig, "seed"))


def _train_config(args: argparse.Namespace, spec: dict, output: str):
    from proxies.config import TrainConfig
    from proxies.recipe import Recipe

    recipe = Recipe()
    recipe = dataclasses.replace(
        recipe, learning_rate=args.learning_rate, mixed_precision=args.mixed_precision,
        model=dataclasses.replace(recipe.model, dropout_rate=args.dropout, stochastic_depth_rate=args.stochastic_depth))
    return TrainConfig(
        spec=spec, output=output, data=_data_config(args), recipe=recipe, epochs=args.epochs,
        batch_size=args.batch_size, frames=args.frames, resolution=args.resolution, frame_stride=args.frame_stride,
        seed=args.seed, resume=args.resume, num_workers=args.num_workers, cpus_per_worker=args.cpus_per_worker,
        gpus_per_worker=args.gpus_per_worker, address=args.address)


def _train(args: argparse.Namespace) -> int:
    from proxies.train import train
    from search_space import load_arch

    spec = load_arch(args.arch, stream=args.stream)
    print(json.dumps(train(_train_config(args, spec.to_dict(), args.output))))
    return 0


# ----- predict ---------------------------------------------------------------------------------
def _predict(args: argparse.Namespace) -> int:
    from proxies.predict import load_classifier, video_files

    classifier = load_classifier(run=args.run_dir, arch=args.arch, checkpoint=args.checkpoint, classes=args.classes,
                                 num_classes=args.num_classes, frames=args.frames, resolution=args.resolution,
                                 fps=args.fps)
    for path in video_files(args.video):
        prediction = classifier.predict(path, top=args.top, stream=args.stream)
        print(json.dumps(dataclasses.asdict(prediction)) if args.json else prediction.line(), flush=True)
    return 0


def _predict_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="a video file, or a folder of videos (searched recursively)")
    parser.add_argument("--run", dest="run_dir", help="a training run folder (spec, weights, class names)")
    parser.add_argument("--arch", help="preset or spec YAML, with --checkpoint (an official Model Garden checkpoint)")
    parser.add_argument("--checkpoint", help="official checkpoint prefix or folder (with --arch)")
    parser.add_argument("--classes", help="JSON list of class names (with --checkpoint)")
    parser.add_argument("--num-classes", type=int, default=600, help="classes of the checkpoint's model")
    parser.add_argument("--frames", type=int, help="clip frames (default: the spec's input)")
    parser.add_argument("--resolution", type=int, help="clip resolution (default: the spec's input)")
    parser.add_argument("--fps", type=float, help="sample frames 1/fps s apart (default: the spec's frame stride)")
    parser.add_argument("--stream", action="store_true", help="feed frames one by one (causal specs); ms/frame")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON object per video")


# ----- parser ----------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Search, scale and train MoViNet video networks.")
    _search_args(parser)
    commands = parser.add_subparsers(dest="command")
    search = commands.add_parser("search", help="search the MoViNet space (the default command)")
    _search_args(search)
    search.set_defaults(run=_search, tensorflow=True)
    export = commands.add_parser("export", help="re-export Pareto configs of a finished search")
    export.add_argument("--run", dest="run_dir", required=True, help="search run folder")
    export.add_argument("--top", type=int, help="only the K most accurate Pareto architectures")
    export.set_defaults(run=_export, tensorflow=False)
    flops = commands.add_parser("flops", help="analytic GFLOPs and parameters of a preset or spec YAML")
    flops.add_argument("--arch", required=True, help="preset (a0..a5, t0) or path to a spec YAML")
    flops.add_argument("--stream", action="store_true", help="the streaming (causal) variant")
    flops.add_argument("--frames", type=int, help="clip length (default: the spec's input)")
    flops.add_argument("--resolution", type=int, help="frame size (default: the spec's input)")
    flops.add_argument("--num-classes", type=int, default=600)
    flops.add_argument("--per-block", action="store_true", help="GFLOPs of the stem, each block and the head")
    flops.add_argument("--json", action="store_true", help="print one JSON object")
    flops.set_defaults(run=_flops, tensorflow=False)
    scale = commands.add_parser("scale", help="emit the A0-A6 family from one base with a scaling rule")
    _scale_args(scale)
    scale.set_defaults(run=_scale, tensorflow=False)
    report = commands.add_parser("report", help="self-contained HTML report of one or several search runs")
    report.add_argument("--run", dest="runs", action="append", required=True, help="a search run folder (repeatable)")
    report.add_argument("--output", help="folder for report.html and its PNGs (default: the first run's)")
    report.add_argument("--family", help="a trained family folder (family_results.csv) to draw beside the published")
    report.set_defaults(run=_report, tensorflow=False)
    fidelity = commands.add_parser("fidelity", help="does the proxy rank a run's architectures as training does?")
    _fidelity_args(fidelity)
    fidelity.set_defaults(run=_fidelity, tensorflow=True)
    train = commands.add_parser("train", help="full training of a spec with the paper's recipe (Ray Train)")
    train.add_argument("--arch", required=True, help="preset (a0..a5, t0) or path to a spec YAML")
    train.add_argument("--stream", action="store_true", help="train the streaming variant (as 3d_2plus1d)")
    train.add_argument("--output", required=True, help="run folder (checkpoints, logs, weights, result.json)")
    _train_args(train)
    train.set_defaults(run=_train, tensorflow=True)
    family = commands.add_parser("family", help="one scaled search per family member, the best of each as the family")
    family.add_argument("--targets", default="a0..a5", help="members to search for, e.g. a0..a5 or a0,a3")
    _search_args(family)
    family.set_defaults(run=_family, tensorflow=True)
    train_family = commands.add_parser("train-family", help="train every member of a family folder (Ray Train)")
    train_family.add_argument("--family", required=True, help="a family folder (from `scale` or `family`)")
    _train_args(train_family)
    train_family.set_defaults(run=_train_family, tensorflow=True)
    data = commands.add_parser("data", help="inspect a data folder without training: layout, classes, clips")
    data.add_argument("folder", help="data folder (any layout), or a TFRecord glob with {split}")
    data.add_argument("--split", default="train", choices=["train", "val", "test"])
    data.add_argument("--json", action="store_true", help="print one JSON object")
    data.add_argument("--workers", type=int, help="threads probing clip headers (default: 2 per CPU, up to 16)")
    _folder_args(data)
    data.set_defaults(run=_data, tensorflow=True)
    predict = commands.add_parser("predict", help="classify video files with a trained model or official checkpoint")
    _predict_args(predict)
    predict.set_defaults(run=_predict, tensorflow=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    parser.set_defaults(run=_search, tensorflow=True)  # no command: the default search
    args = parser.parse_args(argv)
    from search_space import UserError
    from infra.tf_runtime import load_tensorflow

    if args.tensorflow:
        load_tensorflow()  # once, before any module imports it, so its start-up notices stay off the console

    try:
        return args.run(args)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
