"""The flags naming the network a deployment command starts from (`export-model`, `latency`):
a training run, or a spec with an official checkpoint (or, said explicitly, untrained weights)."""
from __future__ import annotations

import argparse

from .common import UsageError, default, positive_int


def add_network_args(parser: argparse.ArgumentParser, untrained_help: str) -> None:
    from deploy.network import load_network

    group = parser.add_argument_group("the network (--run, or --arch with --checkpoint or --untrained)")
    group.add_argument("--run", dest="run_dir", help="a finished training run folder")
    group.add_argument("--arch", help="preset (a0..a5, t0) or spec YAML")
    group.add_argument("--checkpoint", help="official Model Garden checkpoint prefix or folder (with --arch)")
    group.add_argument("--untrained", action="store_true", help=untrained_help)
    group.add_argument("--num-classes", type=positive_int, default=default(load_network, "num_classes"),
                       help="classes of the checkpoint's model")
    group.add_argument("--classes", help="JSON list of class names (with --checkpoint)")


def check_network_args(args: argparse.Namespace) -> None:
    """Exactly one source, refused before anything loads."""
    if args.run_dir and (args.arch or args.checkpoint or args.untrained):
        raise UsageError("give --run, or --arch with --checkpoint / --untrained, not both")
    if not args.run_dir and not args.arch:
        raise UsageError("give --run (a training run folder) or --arch (with --checkpoint or --untrained)")
    if args.arch and not args.checkpoint and not args.untrained:
        raise UsageError(f"--arch {args.arch}: give --checkpoint (official weights) or --untrained (random weights)")
    if args.checkpoint and args.untrained:
        raise UsageError("--checkpoint and --untrained: give one of them")


def network(args: argparse.Namespace, stream: bool):
    from deploy.network import load_network

    return load_network(run=args.run_dir, arch=args.arch, checkpoint=args.checkpoint, classes=args.classes,
                        num_classes=args.num_classes, untrained=args.untrained, stream=stream)
