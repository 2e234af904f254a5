"""Connecting to Ray: a private local instance, or an existing cluster (`--address`)."""
from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from typing import Callable

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


def _setup_worker() -> None:
    """Runs in every Ray worker process. Without the dashboard (not started: it is slow to start
    and unused here) Ray Train's placement-group cleaner cannot query actor states and warns
    about it every few seconds for as long as a training runs; the cleanup it guards still
    happens when the driver's Ray instance shuts down."""
    logging.getLogger("ray.train.v2._internal.execution.controller.placement_group_cleaner").setLevel(
        logging.ERROR)
    sys.unraisablehook = functools.partial(quiet_exit_in_callbacks, report=sys.unraisablehook)


def quiet_exit_in_callbacks(unraisable, report: Callable) -> None:
    """`sys.unraisablehook` of a worker: at the end of a search Ray stops idle workers with
    SIGTERM, whose handler raises SystemExit; when that lands inside a garbage-collection
    callback (a weakref of a Keras object) Python prints it as a 10-line "Exception ignored"
    traceback under the search's final summary. That exit is the intended one; anything
    else is still reported by `report`."""
    if not isinstance(unraisable.exc_value, SystemExit):
        report(unraisable)
