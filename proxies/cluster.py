"""Connecting to Ray: a fresh local instance, or an existing cluster (`--address`)."""
from __future__ import annotations

from pathlib import Path

import ray

__all__ = ["connect"]


def connect(address: str | None) -> None:
    """Starts local Ray, or joins the cluster at `address` shipping this project's code to it."""
    if ray.is_initialized():
        return
    runtime_env = None
    if address:
        root = Path(__file__).resolve().parents[1]
        runtime_env = {"working_dir": str(root), "excludes": ["runs/", ".git/", "tests/", "bench/"]}
    ray.init(address=address, include_dashboard=False, runtime_env=runtime_env)
