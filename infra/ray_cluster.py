"""Connecting to Ray: a private local instance, or an existing cluster (`--address`)."""
from __future__ import annotations

import functools
import importlib.util
import logging
import os
import re
import sys
from pathlib import Path
from typing import Callable

from .tf_runtime import quiet_tensorflow_imports

__all__ = ["connect", "quiet_exit_in_callbacks"]


def connect(address: str | None) -> None:
    """Starts a private local Ray instance, or joins the cluster at `address` shipping this code.

    Without an address Ray would join whatever cluster its state file (/tmp/ray/
    ray_current_cluster) names: after a local cluster died uncleanly that means waiting forever
    on a dead GCS, and with someone else's live cluster it means running there unasked. So no
    address means `address="local"`: always a new instance owned by this process.
    """
    import ray

    if ray.is_initialized():
        return
    # A private instance gets Ray's default token authentication; its notice saying so is noise.
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    runtime_env = {"worker_process_setup_hook": _setup_worker}
    if address:
        root = Path(__file__).resolve().parents[1]
        runtime_env.update(working_dir=str(root), excludes=["runs/", ".git/", "tests/", "bench/"])
    ray.init(address=address or "local", include_dashboard=False, runtime_env=runtime_env)
    _drop_worker_lines(_BENIGN_WORKER_LINES)


# Lines Ray's own processes print that say nothing a user can act on. Ray Train's controller
# starts a preemption watcher whose constructor arguments sit in the object store; its C++
# core worker reports that at ERROR level on every training, which reads as a failure.
_BENIGN_WORKER_LINES = re.compile(r"core_worker\.cc:\d+: Actor with class name: 'PreemptionWatcher'")


def _drop_worker_lines(pattern: re.Pattern) -> None:
    """Leaves the worker lines matching `pattern` out of what Ray forwards to this console.

    Ray offers no public filter for forwarded worker output; this wraps its printing handler
    (`ray_print_logs`, Ray 2.60's), and leaves the console as it is if that handler is absent.
    """
    try:
        from ray._private.ray_logging import global_worker_stdstream_dispatcher as dispatcher
    except ImportError:
        return
    with dispatcher._lock:
        for index, (name, handler) in enumerate(dispatcher.handlers):
            if name == "ray_print_logs":
                def filtered(data, handler=handler):
                    lines = [line for line in data.get("lines", []) if not pattern.search(line)]
                    if lines:
                        handler({**data, "lines": lines})

                dispatcher.handlers[index] = (name, filtered)


def _setup_worker() -> None:
    """Runs in every Ray worker process. Without the dashboard (not started: it is slow to start
    and unused here) Ray Train's placement-group cleaner cannot query actor states and warns
    about it every few seconds for as long as a training runs; the cleanup it guards still
    happens when the driver's Ray instance shuts down. Ray Train's worker context logs each
    epoch's whole report at INFO under a logger named by its file path, out of reach of Ray
    Train's own `LoggingConfig`; it would bury Keras' one line per epoch."""
    logging.getLogger("ray.train.v2._internal.execution.controller.placement_group_cleaner").setLevel(
        logging.ERROR)
    context = importlib.util.find_spec("ray.train.v2._internal.execution.context")
    if context is not None and context.origin:
        logging.getLogger(context.origin).setLevel(logging.WARNING)
    quiet_tensorflow_imports()  # Ray Train's TensorFlow backend imports it before our code runs
    # Ray's state API, which Ray Train's cleaner queries from inside the cluster, finds "its"
    # cluster by auto-detection, which fails with a traceback when another Ray instance runs
    # on the same machine: name this worker's cluster.
    import ray

    os.environ.setdefault("RAY_ADDRESS", ray.get_runtime_context().gcs_address)
    sys.unraisablehook = functools.partial(quiet_exit_in_callbacks, report=sys.unraisablehook)


def quiet_exit_in_callbacks(unraisable, report: Callable) -> None:
    """`sys.unraisablehook` of a worker: at the end of a search Ray stops idle workers with
    SIGTERM, whose handler raises SystemExit; when that lands inside a garbage-collection
    callback (a weakref of a Keras object) Python prints it as a 10-line "Exception ignored"
    traceback under the search's final summary. That exit is the intended one; anything
    else is still reported by `report`."""
    if not isinstance(unraisable.exc_value, SystemExit):
        report(unraisable)
