"""`run_search.py latency-table`: time every unit configuration of a search space under LiteRT,
the lookup table `search --objective latency` predicts latency from."""
from __future__ import annotations

import argparse

from .common import default, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from deploy.options import LatencyTableOptions

    parser.add_argument("--output", required=True, help="folder for the unit models, measure_units.py and the tables")
    parser.add_argument("--space", help="search space YAML (default: the paper's space)")
    parser.add_argument("--stream", action="store_true", help="time the stream variant per frame")
    parser.add_argument("--frames", type=positive_int, help="clip frames (default: the space's)")
    parser.add_argument("--resolution", type=positive_int, help="input height and width (default: the space's)")
    parser.add_argument("--num-classes", type=positive_int, default=default(LatencyTableOptions, "num_classes"))
    parser.add_argument("--calibration-networks", type=positive_int,
                        default=default(LatencyTableOptions, "calibration_networks"),
                        help="whole networks timed to learn how much slower units run inside a network")
    parser.add_argument("--threads", type=positive_int, nargs="+",
                        default=list(default(LatencyTableOptions, "threads")))
    parser.add_argument("--warmup", type=positive_int, default=default(LatencyTableOptions, "warmup"))
    parser.add_argument("--runs", type=positive_int, default=default(LatencyTableOptions, "runs"))
    parser.add_argument("--device", help="a name for this machine in the table (default: the CPU's model name)")
    parser.add_argument("--export-only", action="store_true",
                        help="write the unit models only, to time them on another device with measure_units.py")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted build in --output")


def table_options(args: argparse.Namespace):
    """The `LatencyTableOptions` the flags describe (the defaults are the dataclass's)."""
    from deploy.options import LatencyTableOptions

    return LatencyTableOptions(stream=args.stream, frames=args.frames, resolution=args.resolution,
                               num_classes=args.num_classes, calibration_networks=args.calibration_networks,
                               threads=tuple(args.threads), warmup=args.warmup,
                               runs=args.runs, export_only=args.export_only, device=args.device)


def run(args: argparse.Namespace) -> int:
    from deploy.options import LATENCY_TABLE_RUN
    from infra.run_folder import claim_output
    from search_space import SearchSpace

    options = table_options(args)
    space = SearchSpace.from_yaml(args.space) if args.space else SearchSpace()
    claim_output(args.output, LATENCY_TABLE_RUN, args.resume)
    from deploy.latency_table import build_latency_table

    tables = build_latency_table(space, options, args.output, resume=args.resume)
    if not tables:
        print(f"unit models in {args.output}/; on the target device run: python {args.output}/measure_units.py "
              f"{args.output} --threads 1")
    for table, threads in zip(tables, options.threads):
        print(f"{table.describe()}: {args.output}/latency_table_{threads}t.json "
              f"(search with --objective latency --latency-table that file)")
    return 0
