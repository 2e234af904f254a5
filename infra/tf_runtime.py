"""Importing TensorFlow without its start-up notices on the console, and only when it is needed.

TensorFlow 2.21 writes half a dozen informational lines to the C-level stderr when it loads
(oneDNN, CPU instruction sets, no CUDA driver on a CPU-only machine), before its logging is
initialised, so no environment variable silences them, and Ray repeats them for every worker.
Loading it captures stderr while TensorFlow loads and picks its devices, then writes back
every line that is not one of those known notices: real errors still reach the user.

`quiet_tensorflow_imports()` (the CLI calls it first) makes the first `import tensorflow`,
by whichever module (Keras, a pipeline), go through that capture; so a command loads
TensorFlow only if it gets that far, and a refusal or `flops` never pays for it. Ray workers,
separate processes, call `load_tensorflow()` themselves.
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Iterator

__all__ = ["load_tensorflow", "quiet_tensorflow_imports", "native_logs_held", "drop_retracing_notes"]

_NOTICES = [r"All log messages before absl::InitializeLog\(\) is called", r"oneDNN custom operations are on",
            r"This TensorFlow binary is optimized to use available CPU", r"^To enable the following instructions:",
            r"Could not find cuda drivers on your machine"]
if not Path("/dev/nvidia0").exists():  # no GPU here at all: the CUDA probe's failure is expected
    _NOTICES.append(r"failed call to cuInit")
_NOTICE = re.compile("|".join(_NOTICES))


@contextlib.contextmanager
def _notices_filtered() -> Iterator[None]:
    """Captures the C-level stderr for the block, then writes back what is not a known notice."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode(errors="replace").splitlines(keepends=True):
                if not _NOTICE.search(line):
                    sys.stderr.write(line)
            sys.stderr.flush()


@contextlib.contextmanager
def native_logs_held() -> Iterator[None]:
    """Holds back the C-level log lines of a block (the TFLite converter and interpreter write
    dozens per model: op counts, MLIR passes, delegate notices) and shows them only if the block
    fails, where they explain the error."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                capture.seek(0)
                sys.stderr.write(capture.read().decode(errors="replace"))
                sys.stderr.flush()


def _without_retracing_notes(record) -> bool:
    return "triggered tf.function retracing" not in record.getMessage()


def drop_retracing_notes() -> None:
    """TensorFlow warns that a function was retraced when a reused worker trains its next
    network, or an export traces its next model: what each should do, not a problem to report."""
    logger = load_tensorflow().get_logger()
    if _without_retracing_notes not in logger.filters:
        logger.addFilter(_without_retracing_notes)


def load_tensorflow() -> ModuleType:
    """`import tensorflow` (and its device discovery) with the known start-up notices filtered out."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with _notices_filtered():
        import tensorflow as tf

        tf.config.list_physical_devices()
    return tf


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run inside the capture (device discovery included)."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with _notices_filtered():
            self.loader.exec_module(module)
            module.config.list_physical_devices()


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` as the path finder does, and hands it `_QuietLoader`; once."""

    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow_imports() -> None:
    """From now on, the first import of TensorFlow in this process filters its start-up notices."""
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
