#!/usr/bin/env python3
"""MoViNet toolkit entry point: `python run_search.py [COMMAND] [flags]`.

    python run_search.py                      # a small real search on the embedded synthetic data
    python run_search.py --help               # the commands; COMMAND --help for each one's flags

The commands live in `cli/`, one module each; what they do lives in the library packages.
"""
import sys

from cli import main

if __name__ == "__main__":
    sys.exit(main())
