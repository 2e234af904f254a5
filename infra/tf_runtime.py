"""Importing TensorFlow once per process without its start-up notices on the console.

TensorFlow 2.21 writes half a dozen informational lines to the C-level stderr when it loads
(oneDNN, CPU instruction sets, no CUDA driver on a CPU-only machine), before its logging is
initialised, so no environment variable silences them, and Ray repeats them for every worker.
`load_tensorflow` captures stderr while TensorFlow loads and picks its devices, then writes
back every line that is not one of those known notices: real errors still reach the user.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from types import ModuleType

__all__ = ["load_tensorflow"]

_NOTICES = [r"All log messages before absl::InitializeLog\(\) is called", r"oneDNN custom operations are on",
            r"This TensorFlow binary is optimized to use available CPU", r"^To enable the following instructions:",
            r"Could not find cuda drivers on your machine"]
if not Path("/dev/nvidia0").exists():  # no GPU here at all: the CUDA probe's failure is expected
    _NOTICES.append(r"failed call to cuInit")
_NOTICE = re.compile("|".join(_NOTICES))


def load_tensorflow() -> ModuleType:
    """`import tensorflow` (and its device discovery) with the known start-up notices filtered out."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode(errors="replace").splitlines(keepends=True):
                if not _NOTICE.search(line):
                    sys.stderr.write(line)
            sys.stderr.flush()
    return tf
