"""Connecting to Ray: a private local instance, or an existing cluster (`--address`)."""
from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["connect"]


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
    runtime_env = {"worker_process_setup_hook": _quiet_ray_train}
    if address:
        root = Path(__file__).resolve().parents[1]
        runtime_env.update(working_dir=str(root), excludes=["runs/", ".git/", "tests/", "bench/"])
    ray.init(address=address or "local", include_dashboard=False, runtime_env=runtime_env)


def _quiet_ray_train() -> None:
    """Runs in every Ray worker process. Without the dashboard (not started: it is slow to start
    and unused here) Ray Train's placement-group cleaner cannot query actor states and warns
    about it every few seconds for as long as a training runs; the cleanup it guards still
    happens when the driver's Ray instance shuts down."""
    logging.getLogger("ray.train.v2._internal.execution.controller.placement_group_cleaner").setLevel(
        logging.ERROR)
