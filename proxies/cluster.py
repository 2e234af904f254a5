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
    runtime_env = None
    if address:
        root = Path(__file__).resolve().parents[1]
        runtime_env = {"working_dir": str(root), "excludes": ["runs/", ".git/", "tests/", "bench/"]}
    ray.init(address=address or "local", include_dashboard=False, runtime_env=runtime_env)
