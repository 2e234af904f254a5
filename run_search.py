#!/usr/bin/env python3
"""MoViNet toolkit entry point: `python run_search.py [COMMAND] [flags]`.

    python run_search.py                      # a small real search on the embedded synthetic data
    python run_search.py --help               # the commands; COMMAND --help for each one's flags

The commands live in `cli/`, one module each; what they do lives in the library packages.
"""
import os
import sys

from cli import main

if __name__ == "__main__":
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader left early (`--help | head`): not an error of ours
        # Python's documented way: point stdout at devnull so the exit's flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    sys.exit(status)
