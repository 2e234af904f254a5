#!/usr/bin/env python3
"""MoViNet toolkit entry point.

    python run_search.py                      # a small real search on the embedded synthetic data
    python run_search.py search --num-samples 40 --gflops 0.01:0.05 --search-alg nsga2 [--address auto]
    python run_search.py search --resume --output runs/<stamp>
    python run_search.py export --run runs/<stamp> [--top 3]
    python run_search.py train --arch a0|spec.yaml --data DIR|synthetic --output DIR [--resume]
    python run_search.py flops --arch a0 [--stream] [--frames 50 --resolution 172] [--json]
    python run_search.py data DIR [--split train|val|test] [--json]   # what a data folder holds

Every command reports bad input (unknown preset, malformed spec YAML, ...) as one line naming
what is wrong, and exits with status 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _flops(args: argparse.Namespace) -> int:
    from search_space import count_flops, load_arch

    spec = load_arch(args.arch, stream=args.stream)
    frames = args.frames or spec.input.frames
    resolution = args.resolution or spec.input.resolution
    cost = count_flops(spec, frames, resolution, num_classes=args.num_classes)
    if args.json:
        print(json.dumps({"arch": spec.name, "frames": frames, "resolution": resolution,
                          "gflops": cost.gflops, "gmacs": cost.gmacs, "params": cost.params}))
    else:
        print(f"{spec.name}: {cost.gflops:.3f} GFLOPs ({cost.gmacs:.3f} G multiply-adds), "
              f"{cost.params:,} parameters, on {frames}x{resolution}x{resolution} frames, "
              f"{args.num_classes} classes")
    return 0


def _synthetic_args(parser: argparse.ArgumentParser, classes: int = 10, clips: int = 60, frames: int = 16,
                    resolution: int = 64) -> None:
    group = parser.add_argument_group("synthetic data (--data synthetic)")
    group.add_argument("--synthetic-classes", type=int, default=classes)
    group.add_argument("--synthetic-clips", type=int, default=clips, help="clips per class (1 in 5 held out)")
    group.add_argument("--synthetic-frames", type=int, default=frames)
    group.add_argument("--synthetic-resolution", type=int, default=resolution)
    group.add_argument("--difficulty", type=float, default=0.3)


def _synthetic_config(args: argparse.Namespace) -> dict:
    return {"num_classes": args.synthetic_classes, "clips_per_class": args.synthetic_clips,
            "frames": args.synthetic_frames, "resolution": args.synthetic_resolution,
            "difficulty": args.difficulty, "seed": args.seed}


def _data_args(parser: argparse.ArgumentParser, fps: bool = True) -> None:
    group = parser.add_argument_group("data folders (the layout is found without these)")
    group.add_argument("--train-csv", help="annotations of the train split (overrides discovery)")
    group.add_argument("--val-csv", help="annotations of the val split (overrides discovery)")
    group.add_argument("--video-root", help="folder the clips are under (overrides discovery)")
    if fps:
        group.add_argument("--fps", type=float, help="sample clip frames 1/fps s apart (instead of the frame stride)")


def _data_options(args: argparse.Namespace) -> dict:
    return {"train_csv": args.train_csv, "val_csv": args.val_csv, "video_root": args.video_root, "fps": args.fps}


def _data(args: argparse.Namespace) -> int:
    from proxies.report import inspect_folder

    csv = {"train": args.train_csv, "val": args.val_csv}.get(args.split)
    report = inspect_folder(args.folder, args.split, csv=csv, video_root=args.video_root, workers=args.workers)
    print(json.dumps(report.to_dict()) if args.json else f"{report.line()} [{report.source}]")
    return 0


def _train(args: argparse.Namespace) -> int:
    from proxies.train import TrainConfig, train
    from search_space import load_arch

    spec = load_arch(args.arch, stream=args.stream)
    if spec.causal and spec.conv_type == "2plus1d":
        spec = spec.replace(conv_type="3d_2plus1d")  # official: stream models train as 3d_2plus1d
    recipe = {"dropout_rate": args.dropout, "stochastic_depth_rate": args.stochastic_depth,
              "mixed_precision": args.mixed_precision}
    if args.learning_rate is not None:
        recipe["learning_rate"] = args.learning_rate
    result = train(TrainConfig(
        spec=spec.to_dict(), data=args.data, output=args.output, epochs=args.epochs, batch_size=args.batch_size,
        frames=args.frames, resolution=args.resolution, frame_stride=args.frame_stride, seed=args.seed,
        resume=args.resume, num_workers=args.num_workers, cpus_per_worker=args.cpus_per_worker,
        gpus_per_worker=args.gpus_per_worker, address=args.address, synthetic=_synthetic_config(args),
        recipe=recipe, max_missing=args.max_missing, **_data_options(args)))
    print(json.dumps(result))
    return 0


def _search(args: argparse.Namespace) -> int:
    from proxies.search import SearchOptions, run_search
    from search_space.space import SearchSpace

    output = args.output or f"runs/{time.strftime('%Y%m%d-%H%M%S')}"
    if args.resume:
        if not args.output:
            raise FileNotFoundError("--resume needs --output, the folder of the search to continue")
        saved = os.path.join(output, "options.json")
        if not os.path.isfile(saved):
            raise FileNotFoundError(f"{output}: no options.json (not a search run folder)")
        with open(saved) as handle:
            options = SearchOptions(**json.load(handle))
    else:
        space = SearchSpace.from_yaml(args.space).to_dict() if args.space else {}
        synthetic = _synthetic_config(args)
        synthetic.pop("seed")
        options = SearchOptions(
            output=output, data=args.data, num_samples=args.num_samples, gflops=args.gflops,
            search_alg=args.search_alg, scheduler=args.scheduler, reward=args.reward,
            cpus_per_trial=args.cpus_per_trial, gpus_per_trial=args.gpus_per_trial, address=args.address,
            engine=args.engine, seed=args.seed, seed_arch=args.seed_arch,
            space=space,
            proxy={"epochs": args.epochs, "batch_size": args.batch_size}, synthetic=synthetic,
            **_data_options(args))
    table = run_search(options, resume=args.resume)
    finished = int((table["status"] == "ok").sum())
    print(f"{len(table)} trials ({finished} finished), {int(table['pareto'].sum())} on the Pareto front; "
          f"results in {output}/ (trials.csv, pareto.csv, pareto.png, configs/)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from analysis import write_results
    from proxies.search import SearchOptions, collect_trials, space_for

    run = Path(args.run_dir)
    table = collect_trials(run)
    options = SearchOptions(**json.loads((run / "options.json").read_text()))
    table = write_results(run, table.drop(columns=["pareto"]), space_for(options)[0], top_k=args.top)
    print(f"exported {min(int(table['pareto'].sum()), args.top or 10**9)} configs to {run / 'configs'}")
    return 0


def _search_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="synthetic", help="'synthetic', a Kinetics folder or a TFRecord folder")
    parser.add_argument("--num-samples", type=int, default=12, help="trials to run")
    parser.add_argument("--gflops", help="FLOP budget MIN:MAX in GFLOPs at the search input shape")
    parser.add_argument("--search-alg", default="random", choices=["random", "optuna", "nsga2"])
    parser.add_argument("--scheduler", default="asha", choices=["asha", "none"])
    parser.add_argument("--reward", default="accuracy", choices=["accuracy", "tunas"],
                        help="tunas: top1 - 0.5 * |gflops / budget max - 1|")
    parser.add_argument("--cpus-per-trial", type=float, default=1.0)
    parser.add_argument("--gpus-per-trial", type=float, default=0.0)
    parser.add_argument("--output", help="run folder (default runs/<timestamp>)")
    parser.add_argument("--resume", action="store_true", help="continue the search in --output")
    parser.add_argument("--address", help="existing Ray cluster (e.g. auto)")
    parser.add_argument("--engine", default="ray", choices=["ray", "keras-tuner"])
    parser.add_argument("--space", help="search space YAML (default: the paper's space at 8x32x32)")
    parser.add_argument("--seed-arch", help="preset or spec YAML to evaluate first (the space is widened to hold it)")
    parser.add_argument("--epochs", type=int, default=8, help="proxy epochs per trial")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    _synthetic_args(parser, classes=6, clips=60, frames=16, resolution=32)
    _data_args(parser)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Search, scale and train MoViNet video networks.")
    _search_args(parser)
    commands = parser.add_subparsers(dest="command")
    search = commands.add_parser("search", help="search the MoViNet space (the default command)")
    _search_args(search)
    search.set_defaults(run=_search)
    export = commands.add_parser("export", help="re-export Pareto configs of a finished search")
    export.add_argument("--run", dest="run_dir", required=True, help="search run folder")
    export.add_argument("--top", type=int, help="only the K most accurate Pareto architectures")
    export.set_defaults(run=_export)
    flops = commands.add_parser("flops", help="analytic GFLOPs and parameters of a preset or spec YAML")
    flops.add_argument("--arch", required=True, help="preset (a0..a5, t0) or path to a spec YAML")
    flops.add_argument("--stream", action="store_true", help="the streaming (causal) variant")
    flops.add_argument("--frames", type=int, help="clip length (default: the spec's input)")
    flops.add_argument("--resolution", type=int, help="frame size (default: the spec's input)")
    flops.add_argument("--num-classes", type=int, default=600)
    flops.add_argument("--json", action="store_true", help="print one JSON object")
    flops.set_defaults(run=_flops)

    train = commands.add_parser("train", help="full training of a spec with the paper's recipe (Ray Train)")
    train.add_argument("--arch", required=True, help="preset (a0..a5, t0) or path to a spec YAML")
    train.add_argument("--stream", action="store_true", help="train the streaming variant (as 3d_2plus1d)")
    train.add_argument("--data", default="synthetic", help="'synthetic', a Kinetics folder or a TFRecord folder")
    train.add_argument("--output", required=True, help="run folder (checkpoints, logs, weights, result.json)")
    train.add_argument("--epochs", type=int, default=240)
    train.add_argument("--batch-size", type=int, default=8, help="per worker")
    train.add_argument("--frames", type=int, help="clip frames (default: the spec's input)")
    train.add_argument("--resolution", type=int, help="clip resolution (default: the spec's input)")
    train.add_argument("--frame-stride", type=int, help="source frames between clip frames")
    train.add_argument("--learning-rate", type=float, help="per 1024 clips (paper: 1.8)")
    train.add_argument("--dropout", type=float, default=0.2)
    train.add_argument("--stochastic-depth", type=float, default=0.2)
    train.add_argument("--mixed-precision", default="auto", choices=["auto", "off", "mixed_float16", "mixed_bfloat16"])
    train.add_argument("--resume", action="store_true", help="continue the run in --output from its last checkpoint")
    train.add_argument("--num-workers", type=int, default=1, help="data-parallel Ray Train workers")
    train.add_argument("--cpus-per-worker", type=int)
    train.add_argument("--gpus-per-worker", type=float, default=0.0)
    train.add_argument("--address", help="existing Ray cluster to run on (e.g. auto or ray://host:10001)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--max-missing", type=float, default=0.2,
                       help="refuse to train if more of a split's clips are missing or corrupt")
    _synthetic_args(train)
    _data_args(train)
    train.set_defaults(run=_train)

    data = commands.add_parser("data", help="inspect a data folder without training: layout, classes, clips")
    data.add_argument("folder", help="data folder (any layout), or a TFRecord glob with {split}")
    data.add_argument("--split", default="train", choices=["train", "val", "test"])
    data.add_argument("--json", action="store_true", help="print one JSON object")
    data.add_argument("--workers", type=int, help="threads probing clip headers (default: 2 per CPU, up to 16)")
    _data_args(data, fps=False)
    data.set_defaults(run=_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.run = _search
    from search_space.errors import UserError

    try:
        return args.run(args)
    except (UserError, FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
