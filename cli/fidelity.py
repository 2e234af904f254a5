"""`run_search.py fidelity`: does the proxy rank a run's architectures as a longer training does?"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from .common import default, fraction, non_negative_int, positive_float, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from search.fidelity import FidelityOptions

    parser.add_argument("--run", dest="run_dir", required=True, help="a search run folder")
    parser.add_argument("--output", help="where to write (default RUN/fidelity)")
    parser.add_argument("--sample", type=positive_int, default=default(FidelityOptions, "sample"),
                        help="architectures picked evenly across GFLOPs")
    parser.add_argument("--top", type=positive_int, help="the K best architectures of the run instead")
    parser.add_argument("--seeds", type=positive_int, default=default(FidelityOptions, "seeds"),
                        help="trainings per architecture for the proxy and for the reference")
    parser.add_argument("--epochs", type=positive_int, help="reference epochs (default 3x the proxy's)")
    parser.add_argument("--frames", type=positive_int, help="reference clip frames (default the run's)")
    parser.add_argument("--resolution", type=positive_int, help="reference clip resolution (default the run's)")
    parser.add_argument("--clips", type=positive_int, help="reference synthetic clips per class (default 2x)")
    parser.add_argument("--classes", type=positive_int, help="reference synthetic classes (default the run's)")
    parser.add_argument("--steps", type=positive_int,
                        help="reference batches per epoch (default: one pass over its share of its clips)")
    parser.add_argument("--reference-from", help="reuse the reference trainings of an earlier fidelity folder")
    parser.add_argument("--proxy-only", action="store_true",
                        help="train only the proxy seeds (its noise ceiling needs no reference)")
    proxy = parser.add_argument_group("a proxy to measure instead of the run's (same architectures, same reference)")
    proxy.add_argument("--proxy-epochs", type=positive_int)
    proxy.add_argument("--proxy-batch-size", type=positive_int)
    proxy.add_argument("--proxy-replicas", type=positive_int, help="networks averaged per proxy training")
    proxy.add_argument("--proxy-steps", type=non_negative_int,
                       help="batches per epoch (0: one pass over the training clips)")
    proxy.add_argument("--proxy-lr", type=positive_float, help="learning rate per 1024 clips")
    proxy.add_argument("--proxy-clips", type=positive_int, help="synthetic clips per class")
    proxy.add_argument("--proxy-difficulty", type=fraction, help="synthetic data difficulty in [0, 1]")
    proxy.add_argument("--proxy-classes", type=positive_int, help="synthetic classes")
    proxy.add_argument("--proxy-actor-scale", type=positive_float, help="synthetic actor size (as --actor-scale)")
    proxy.add_argument("--proxy-teacher", help="distil from this teacher file (made on the proxy's data, "
                                               "proxies.distillation.make_teacher)")
    proxy.add_argument("--proxy-distillation", type=fraction, help="weight of the teacher's targets")
    proxy.add_argument("--proxy-temperature", type=positive_float, help="temperature of the teacher's targets")
    proxy.add_argument("--proxy-curriculum-epochs", type=non_negative_int,
                       help="first epochs on clips with a larger actor (synthetic data)")
    proxy.add_argument("--proxy-curriculum-actor-scale", type=positive_float, help="the actor's size in those epochs")
    parser.add_argument("--supernet", metavar="RUN",
                        help="also rank by the top-1 each architecture inherits from the supernet of this one-shot "
                             "search run (search --engine oneshot): seconds an architecture")
    parser.add_argument("--zero-cost", action="store_true",
                        help="also rank by zero-cost proxies (synflow, NASWOT, grad-norm, entropy): seconds an "
                             "architecture, no training")
    parser.add_argument("--cpus-per-trial", type=positive_float, default=default(FidelityOptions, "cpus"))
    parser.add_argument("--address", help="existing Ray cluster (e.g. auto); default: a private local Ray")
    parser.add_argument("--resume", action="store_true",
                        help="continue or extend the measurement in its folder (its trainings are reused)")


def _measured_proxy(args: argparse.Namespace):
    """The proxy (and data) the --proxy-* flags describe, on top of the run's; (None, None) without them."""
    from search import SearchOptions

    if not any(v is not None for v in (args.proxy_epochs, args.proxy_batch_size, args.proxy_replicas,
                                       args.proxy_steps, args.proxy_lr, args.proxy_clips, args.proxy_difficulty,
                                       args.proxy_classes, args.proxy_actor_scale, args.proxy_teacher,
                                       args.proxy_distillation, args.proxy_temperature,
                                       args.proxy_curriculum_epochs, args.proxy_curriculum_actor_scale)):
        return None, None
    run = SearchOptions.load(args.run_dir)
    recipe = dataclasses.replace(run.proxy.recipe, learning_rate=args.proxy_lr or run.proxy.recipe.learning_rate)
    # Absolute: Ray runs each training in its own folder.
    teacher = str(Path(args.proxy_teacher).resolve()) if args.proxy_teacher else run.proxy.teacher
    proxy = dataclasses.replace(run.proxy, teacher=teacher,
                                distillation=args.proxy_distillation or run.proxy.distillation,
                                temperature=args.proxy_temperature or run.proxy.temperature,
                                curriculum_epochs=run.proxy.curriculum_epochs if args.proxy_curriculum_epochs is None
                                else args.proxy_curriculum_epochs,
                                curriculum_actor_scale=args.proxy_curriculum_actor_scale
                                or run.proxy.curriculum_actor_scale,
                                epochs=args.proxy_epochs or run.proxy.epochs,
                                batch_size=args.proxy_batch_size or run.proxy.batch_size, recipe=recipe,
                                replicas=run.proxy.replicas if args.proxy_replicas is None else args.proxy_replicas,
                                steps_per_epoch=run.proxy.steps_per_epoch if args.proxy_steps is None
                                else args.proxy_steps or None)
    synthetic = run.data.synthetic
    synthetic = dataclasses.replace(synthetic, clips_per_class=args.proxy_clips or synthetic.clips_per_class,
                                    num_classes=args.proxy_classes or synthetic.num_classes,
                                    difficulty=synthetic.difficulty if args.proxy_difficulty is None
                                    else args.proxy_difficulty,
                                    actor_scale=args.proxy_actor_scale or synthetic.actor_scale)
    return proxy, dataclasses.replace(run.data, synthetic=synthetic)


def fidelity_options(args: argparse.Namespace):
    """The `FidelityOptions` the flags describe (the defaults are the dataclass's)."""
    from search.fidelity import FidelityOptions

    proxy, proxy_data = _measured_proxy(args)
    return FidelityOptions(run=args.run_dir, output=args.output, sample=args.sample, top=args.top,
                           seeds=args.seeds, epochs=args.epochs, frames=args.frames, resolution=args.resolution,
                           clips=args.clips, classes=args.classes, steps=args.steps, proxy=proxy,
                           proxy_data=proxy_data,
                           kinds=("proxy",) if args.proxy_only else default(FidelityOptions, "kinds"),
                           reference_from=args.reference_from, zero_cost=args.zero_cost, supernet=args.supernet,
                           cpus=args.cpus_per_trial,
                           address=args.address)


def run(args: argparse.Namespace) -> int:
    from analysis.fidelity_stats import summary_lines
    from search.fidelity import run_fidelity

    options = fidelity_options(args)
    report = run_fidelity(options, resume=args.resume)
    print("\n".join(summary_lines(report)))
    extra = (", zero_cost.csv" if options.zero_cost else "") + (", supernet.csv" if options.supernet else "")
    print(f"results in {options.folder}/: fidelity.csv, fidelity.json, fidelity.png, trainings.csv{extra}")
    return 0
