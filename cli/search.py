"""`run_search.py [search]`: an architecture search under a FLOP budget (the default command)."""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from .common import add_data_args, data_config, default, fraction, non_negative_int, positive_float, positive_int


def add_search_args(parser: argparse.ArgumentParser) -> None:
    """The flags of a search (also those of each member search of `family`)."""
    from proxies.config import ProxyConfig
    from search.options import ENGINES, ONESHOT_SAMPLINGS, REWARDS, SCHEDULERS, SEARCH_ALGORITHMS, OneShotOptions, \
        SearchOptions, TrialResources

    add_data_args(parser)
    parser.add_argument("--num-samples", type=positive_int, default=default(SearchOptions, "num_samples"),
                        help="trials to run (--engine oneshot: architectures scored at the end)")
    parser.add_argument("--gflops", help="FLOP budget MIN:MAX in GFLOPs at the search input shape")
    from search_space.budget import COST_METRICS, Budget

    parser.add_argument("--objective", default=default(Budget, "metric"), choices=COST_METRICS,
                        help="the cost the budget and the front are on (latency: predicted by --latency-table)")
    parser.add_argument("--latency-ms", help="latency budget MIN:MAX in ms per call (with --objective latency)")
    parser.add_argument("--latency-table", help="a latency table JSON (run_search.py latency-table)")
    parser.add_argument("--search-alg", default=default(SearchOptions, "search_alg"), choices=SEARCH_ALGORITHMS)
    parser.add_argument("--scheduler", default=default(SearchOptions, "scheduler"), choices=SCHEDULERS)
    parser.add_argument("--reward", default=default(SearchOptions, "reward"), choices=REWARDS,
                        help="tunas: top1 - 0.5 * |cost / budget max - 1|")
    parser.add_argument("--cpus-per-trial", type=positive_float, default=default(TrialResources, "cpus"))
    parser.add_argument("--gpus-per-trial", type=float, default=default(TrialResources, "gpus"))
    parser.add_argument("--output", help="run folder (default runs/<timestamp>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the search in --output (with its stored options; other flags are ignored)")
    parser.add_argument("--address", help="existing Ray cluster (e.g. auto); default: a private local Ray")
    parser.add_argument("--engine", default=default(SearchOptions, "engine"), choices=ENGINES,
                        help="ray: one proxy training a trial (Ray Tune); keras-tuner: the same without Ray; "
                             "oneshot: one weight-sharing supernet and a REINFORCE controller (needs a budget max)")
    parser.add_argument("--oneshot-epochs", type=positive_int, default=default(OneShotOptions, "epochs"),
                        help=f"--engine oneshot: supernet epochs of {default(OneShotOptions, 'steps_per_epoch')} steps")
    parser.add_argument("--oneshot-steps-per-epoch", type=positive_int,
                        default=default(OneShotOptions, "steps_per_epoch"),
                        help="--engine oneshot: weight steps (and controller steps) of a supernet epoch")
    parser.add_argument("--oneshot-warmup-epochs", type=non_negative_int,
                        default=default(OneShotOptions, "warmup_epochs"),
                        help="--engine oneshot: first epochs training the shared weights only")
    parser.add_argument("--oneshot-sampling", default=default(OneShotOptions, "sampling"), choices=ONESHOT_SAMPLINGS,
                        help="--engine oneshot: what a weight step trains: the controller's sample (one), or it "
                             "with the widest and smallest sub-networks (sandwich)")
    parser.add_argument("--space", help="search space YAML (default: the paper's space at 8x32x32)")
    parser.add_argument("--seed-arch", help="preset or spec YAML to evaluate first (the space is widened to hold it)")
    parser.add_argument("--target", help="search for a family member (a0..a6): the space scaled for its GFLOPs, "
                                         "the budget checked at its published input")
    parser.add_argument("--rule", default=default(SearchOptions, "rule"), help="scaling rule for --target")
    parser.add_argument("--epochs", type=positive_int, default=default(ProxyConfig, "epochs"),
                        help="proxy epochs per trial")
    parser.add_argument("--batch-size", type=positive_int, default=default(ProxyConfig, "batch_size"))
    parser.add_argument("--replicas", type=positive_int, default=default(ProxyConfig, "replicas"),
                        help="networks trained per trial from different seeds; the trial scores their mean")
    parser.add_argument("--teacher", help="distil from this teacher file (run_search.py teacher): each clip's "
                                          "target mixes the teacher's distribution into its label")
    parser.add_argument("--distillation", type=fraction, default=default(ProxyConfig, "distillation"),
                        help="weight of the teacher's targets (with --teacher)")
    parser.add_argument("--temperature", type=positive_float, default=default(ProxyConfig, "temperature"),
                        help="temperature of the teacher's targets (with --teacher)")
    parser.add_argument("--curriculum-epochs", type=non_negative_int, default=default(ProxyConfig, "curriculum_epochs"),
                        help="first epochs of each trial on synthetic clips with a larger actor "
                             "(--curriculum-actor-scale), then the task's own")
    parser.add_argument("--curriculum-actor-scale", type=positive_float,
                        default=default(ProxyConfig, "curriculum_actor_scale"),
                        help="the actor's size in the curriculum's epochs, a multiple of the data's")
    parser.add_argument("--prefilter", metavar="SCORE:FRACTION",
                        help="random search: draw 1/FRACTION architectures a trial and train the one a zero-cost "
                             "score (synflow, naswot, grad_norm, entropy) ranks best, e.g. naswot:0.25")
    parser.add_argument("--seed", type=int, default=default(SearchOptions, "seed"), help="search algorithm seed")
    parser.add_argument("--smoke-test", action="store_true",
                        help="the smallest search that runs every part (2 one-epoch trials, about a minute): "
                             "checks an installation or a cluster")


def search_options(args: argparse.Namespace, output: str):
    """The `SearchOptions` the flags describe (the defaults are the dataclasses')."""
    from search.options import OneShotOptions, Prefilter, SearchOptions, TrialResources
    from search_space import SearchSpace

    defaults = SearchOptions()
    options = SearchOptions(
        output=output, num_samples=args.num_samples, search_alg=args.search_alg, scheduler=args.scheduler,
        reward=args.reward, engine=args.engine, seed=args.seed, seed_arch=args.seed_arch, address=args.address,
        target=args.target, rule=args.rule,
        space=SearchSpace.from_yaml(args.space) if args.space else defaults.space, budget=_budget(args),
        proxy=dataclasses.replace(defaults.proxy, epochs=args.epochs, batch_size=args.batch_size,
                                  replicas=args.replicas, distillation=args.distillation,
                                  temperature=args.temperature, curriculum_epochs=args.curriculum_epochs,
                                  curriculum_actor_scale=args.curriculum_actor_scale,
                                  # Absolute: Ray runs each trial in its own folder.
                                  teacher=str(Path(args.teacher).resolve()) if args.teacher else None),
        data=data_config(args), resources=TrialResources(cpus=args.cpus_per_trial, gpus=args.gpus_per_trial),
        prefilter=Prefilter.parse(args.prefilter),
        oneshot=OneShotOptions(epochs=args.oneshot_epochs, steps_per_epoch=args.oneshot_steps_per_epoch,
                               warmup_epochs=args.oneshot_warmup_epochs, sampling=args.oneshot_sampling))
    return options.smoke_test() if args.smoke_test else options


def _budget(args: argparse.Namespace):
    """The budget the flags describe: GFLOPs, or latency predicted by a table."""
    import os

    from infra.errors import UserError
    from search_space import Budget

    if args.objective == "gflops":
        if args.latency_ms or args.latency_table:
            raise UserError("--latency-ms and --latency-table need --objective latency")
        return Budget.parse(args.gflops)
    if args.gflops:
        raise UserError("--objective latency: give the budget as --latency-ms MIN:MAX, not --gflops")
    if not args.latency_table:
        raise UserError("--objective latency: give --latency-table (a table from run_search.py latency-table)")
    return Budget.parse(args.latency_ms, metric="latency", latency_table=os.path.abspath(args.latency_table))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from search.options import RerankOptions

    add_search_args(parser)
    parser.add_argument("--rerank", type=positive_int,
                        help="after the trials, re-train the K best architectures (front first) with fresh seeds "
                             "and quote the front by their mean (as `run_search.py rerank`)")
    parser.add_argument("--rerank-seeds", type=positive_int, default=default(RerankOptions, "seeds"),
                        help="fresh trainings of each architecture --rerank re-trains")


def run(args: argparse.Namespace) -> int:
    from infra.errors import UserError
    from search import SearchOptions, run_search

    if args.resume:
        if not args.output:
            raise UserError("--resume needs --output, the folder of the search to continue")
        options = SearchOptions.load(args.output)
    else:
        options = search_options(args, args.output or f"runs/{time.strftime('%Y%m%d-%H%M%S')}")
    table = run_search(options, resume=args.resume)
    counts = table["status"].value_counts()
    states = ", ".join(f"{counts[s]} {label}" for s, label in (("ok", "finished"), ("stopped_early", "stopped early"),
                                                                ("error", "failed"), ("diverged", "diverged (NaN loss)"),
                                                                ("oom", "out of memory")) if s in counts)
    print(f"{len(table)} trials: {states}; {int(table['pareto'].sum())} on the Pareto front. Results in "
          f"{options.output}/: report.html, trials.csv, pareto.csv, pareto.png, configs/ (front specs), "
          f"specs/ (all specs)")
    if args.rerank:
        from search.options import RerankOptions
        from search.rerank import run_rerank

        from .rerank import summary

        print(f"re-ranking the {args.rerank} best architectures with {args.rerank_seeds} fresh seeds each ...",
              flush=True)
        table = run_rerank(RerankOptions(run=options.output, top=args.rerank, seeds=args.rerank_seeds,
                                         cpus=options.resources.cpus, address=options.address), resume=args.resume)
        print(summary(table))
    if options.budget.metric == "latency" and table["pareto"].any():
        from deploy.front_latency import measure_front_latency

        print("measuring the front's latency (each network exported and timed whole under LiteRT) ...", flush=True)
        front = measure_front_latency(options.output, options.budget.latency_table)
        for _, row in front.iterrows():
            print(f"  {row['trial_id']}: predicted {row['predicted_ms']:.3g} ms, measured {row['measured_ms']:.3g} ms")
        print(f"written to {options.output}/pareto_latency.csv")
    return 0
