"""`run_search.py teacher`: train a distillation teacher once on the proxy's data and cache its targets."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_data_args, data_config, default, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from proxies.distillation import TeacherOptions
    from search_space import SearchSpace

    space = SearchSpace()
    parser.add_argument("--output", required=True, help="the teacher file to write (an existing one is refused)")
    parser.add_argument("--arch", default=default(TeacherOptions, "arch"), help="preset or spec YAML")
    parser.add_argument("--epochs", type=positive_int, default=default(TeacherOptions, "epochs"),
                        help="training epochs (of the proxy's steps)")
    parser.add_argument("--frames", type=positive_int, default=space.frames[0],
                        help="clip frames (the proxy's input)")
    parser.add_argument("--resolution", type=positive_int, default=space.resolutions[0],
                        help="frame size (the proxy's input)")
    add_data_args(parser)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from infra.errors import UserError
    from proxies.config import ProxyConfig
    from proxies.distillation import make_teacher
    from search_space import InputSpec, SearchSpace, load_arch

    output = Path(args.output)
    if output.exists():
        raise UserError(f"{output}: exists; remove it or choose another --output")
    if not output.parent.is_dir():
        raise UserError(f"{output.parent}: no such folder")
    spec = load_arch(args.arch)
    spec = replace(spec, name=f"teacher-{spec.name}",
                   input=InputSpec(args.frames, args.resolution, SearchSpace().frame_stride))
    made = make_teacher(spec, data_config(args), ProxyConfig(epochs=args.epochs), output,
                        report=lambda m: print(f"epoch {m['epoch']}/{args.epochs}: top-1 {m['top1']:.3f}", flush=True))
    print(f"teacher {args.arch}: top-1 {made.top1:.3f} on the held-out clips, {made.wall_time_s:.0f} s, "
          f"targets for {len(made.logits)} training clips in {output}")
    print(f"use it with: run_search.py search --teacher {output}   (or fidelity --proxy-teacher {output})")
    return 0
