"""The command line: `run_search.py COMMAND [flags]`, one module per command.

Each command module has `HELP` (its line in the overview), `add_arguments(parser)` and
`run(args) -> exit status`. Only the module of the command given is imported, and a parser
is built only for it, so `flops` or `--help` load neither TensorFlow nor Ray, and TensorFlow,
when a command does load it, loads without its start-up notices (`quiet_tensorflow_imports`).
Bad input (a `UserError`, including a flag that does not parse) is one line, `error: ...`, with
exit status 2; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import importlib
import sys

from infra.errors import Interrupted, UserError
from infra.tf_runtime import quiet_tensorflow_imports

from .common import Parser, UsageError

__all__ = ["COMMANDS", "main", "parser_for", "overview"]

# name -> (module, one line of help); the order is the overview's.
COMMANDS = {
    "search": ("cli.search", "search the MoViNet space (the default command)"),
    "export": ("cli.export", "re-export the Pareto configs of a finished search"),
    "report": ("cli.report", "self-contained HTML report of one or several search runs"),
    "rerank": ("cli.rerank", "re-train a finished search's best architectures with fresh seeds: a front with spread"),
    "fidelity": ("cli.fidelity", "does the proxy rank a run's architectures as training does?"),
    "teacher": ("cli.teacher", "train a distillation teacher once on the proxy's data (search --teacher)"),
    "flops": ("cli.flops", "analytic GFLOPs and parameters of a preset or spec YAML"),
    "scale": ("cli.scale", "emit the A0-A6 family from one base with a scaling rule (or fit the rule)"),
    "family": ("cli.family", "one scaled search per family member, the best of each as the family"),
    "train": ("cli.train", "full training of a spec with the paper's recipe (Ray Train)"),
    "train-family": ("cli.train_family", "train every member of a family folder (Ray Train)"),
    "export-model": ("cli.export_model", "a trained network as SavedModel or TFLite (float, float16, int8; stream)"),
    "latency": ("cli.latency", "per-clip or per-frame latency of an exported model or a spec under LiteRT"),
    "latency-table": ("cli.latency_table", "time every unit of a search space: the table latency search predicts from"),
    "predict": ("cli.predict", "classify video files with a trained model or an official checkpoint"),
    "data": ("cli.data", "inspect a data folder without training: layout, classes, clips"),
    "convert": ("cli.convert", "convert a data folder into TFRecord shards"),
}
_DEFAULT = "search"


def overview() -> str:
    """The top-level help: every command and its line, without importing any of them."""
    width = max(map(len, COMMANDS))
    lines = ["usage: run_search.py [COMMAND] [flags]   (no command: a search with its defaults)", "",
             "Search, scale, train and ship MoViNet video networks.", "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "run_search.py COMMAND --help shows a command's flags."]
    return "\n".join(lines)


def _command(argv: list[str]) -> tuple[str, list[str]]:
    """The command named first (or the default search, when the first word is a flag) and its flags."""
    if argv and argv[0] in COMMANDS:
        return argv[0], argv[1:]
    if argv and not argv[0].startswith("-"):
        raise UsageError(f"run_search.py: unknown command {argv[0]!r} (one of {', '.join(COMMANDS)})")
    return _DEFAULT, argv


def parser_for(name: str) -> Parser:
    """The parser of command `name` (its module imported now, not before)."""
    module = importlib.import_module(COMMANDS[name][0])
    parser = Parser(prog=f"run_search.py {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command line `argv` (default: the process's); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"]):
        print(overview())
        return 0
    quiet_tensorflow_imports()
    try:
        name, flags = _command(argv)
        args = parser_for(name).parse_args(flags)
        return importlib.import_module(COMMANDS[name][0]).run(args)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Interrupted as err:
        print(f"interrupted: {err}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted: what had finished is kept; run the same command with --resume to continue",
              file=sys.stderr)
        return 130
    except Exception as err:  # a UserError raised in a Ray task arrives wrapped: report its cause alone
        cause = getattr(err, "cause", None)
        if isinstance(cause, UserError):
            print(f"error: {cause}", file=sys.stderr)
            return 2
        raise
