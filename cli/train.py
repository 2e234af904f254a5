"""`run_search.py train`: full training of a spec with the paper's recipe (Ray Train)."""
from __future__ import annotations

import argparse
import dataclasses

from .common import add_data_args, data_config, default, fraction, positive_float, positive_int


def add_train_args(parser: argparse.ArgumentParser, resume_help: str) -> None:
    """What `train` and `train-family` share: data, schedule, recipe, workers."""
    from search_space import ModelOptions
    from training.config import TrainConfig
    from training.recipe import MIXED_PRECISION, Recipe

    add_data_args(parser)
    parser.add_argument("--epochs", type=positive_int, default=default(TrainConfig, "epochs"))
    parser.add_argument("--batch-size", type=positive_int, default=default(TrainConfig, "batch_size"),
                        help="per worker")
    parser.add_argument("--frames", type=positive_int, help="clip frames (default: the spec's input)")
    parser.add_argument("--resolution", type=positive_int, help="clip resolution (default: the spec's input)")
    parser.add_argument("--frame-stride", type=positive_int, help="source frames between clip frames")
    parser.add_argument("--learning-rate", type=positive_float,
                        help=f"per 1024 clips (default {default(Recipe, 'learning_rate')}; "
                             f"fine-tuning {Recipe.fine_tuning().learning_rate})")
    parser.add_argument("--dropout", type=fraction, default=default(ModelOptions, "dropout_rate"))
    parser.add_argument("--stochastic-depth", type=fraction, default=default(ModelOptions, "stochastic_depth_rate"))
    parser.add_argument("--mixed-precision", default=default(Recipe, "mixed_precision"), choices=MIXED_PRECISION)
    parser.add_argument("--resume", action="store_true", help=resume_help)
    parser.add_argument("--num-workers", type=positive_int, default=default(TrainConfig, "num_workers"),
                        help="data-parallel Ray Train workers")
    parser.add_argument("--cpus-per-worker", type=positive_int)
    parser.add_argument("--gpus-per-worker", type=float, default=default(TrainConfig, "gpus_per_worker"))
    parser.add_argument("--address", help="existing Ray cluster to run on (e.g. auto or ray://host:10001)")
    parser.add_argument("--seed", type=int, default=default(TrainConfig, "seed"))


def train_config(args: argparse.Namespace, spec: dict, output: str):
    """The `TrainConfig` the flags describe (the defaults are the dataclasses')."""
    from training.config import TrainConfig
    from training.recipe import Recipe

    init = getattr(args, "init", None)
    recipe = Recipe.fine_tuning() if init else Recipe()
    recipe = dataclasses.replace(
        recipe, learning_rate=args.learning_rate or recipe.learning_rate, mixed_precision=args.mixed_precision,
        model=dataclasses.replace(recipe.model, dropout_rate=args.dropout, stochastic_depth_rate=args.stochastic_depth))
    return TrainConfig(
        spec=spec, output=output, data=data_config(args), recipe=recipe, epochs=args.epochs,
        batch_size=args.batch_size, frames=args.frames, resolution=args.resolution, frame_stride=args.frame_stride,
        seed=args.seed, resume=args.resume, num_workers=args.num_workers, cpus_per_worker=args.cpus_per_worker,
        gpus_per_worker=args.gpus_per_worker, address=args.address, init=init,
        freeze="backbone" if getattr(args, "freeze_backbone", False) else getattr(args, "freeze_until", None))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", required=True, help="preset (a0..a5, t0) or path to a spec YAML")
    parser.add_argument("--stream", action="store_true", help="train the streaming variant (as 3d_2plus1d)")
    parser.add_argument("--output", required=True, help="run folder (checkpoints, logs, weights, result.json)")
    add_train_args(parser, "continue the run in --output from its last checkpoint")
    tuning = parser.add_argument_group("fine-tuning (the class logits are rebuilt for the data's classes)")
    tuning.add_argument("--init", help="start from an official checkpoint (prefix or folder) or a training run folder")
    frozen = tuning.add_mutually_exclusive_group()
    frozen.add_argument("--freeze-backbone", action="store_true", help="train the classifier only")
    frozen.add_argument("--freeze-until", metavar="blockN", help="keep the stem and blocks 0..N as loaded")


def run(args: argparse.Namespace) -> int:
    from search_space import ArchSpec, SpecError, load_arch
    from training.trainer import train

    spec = load_arch(args.arch, stream=args.stream)
    if not isinstance(spec, ArchSpec):
        raise SpecError(f"--arch {args.arch}: an ensemble is trained member by member (train-family)")
    result = train(train_config(args, spec.to_dict(), args.output))
    print(f"{result['spec']}: {result['epochs']} epochs, held-out top-1 {result['top1']:.3f}, top-5 "
          f"{result['top5']:.3f}, loss {result['loss']:.3f} on {result['num_classes']} classes; weights, metrics.csv "
          f"and result.json in {args.output}/")
    return 0
