"""What a search learned: per-block choices on the Pareto front against all sampled trials.

The trial records carry their specs, so per-block statistics (kernel type shares, depth,
width) come from the specs themselves, whatever space produced them.
"""
from __future__ import annotations

import pandas as pd

from search_space.summary import KERNEL_TYPES, kernel_type

from .records import spec_of

__all__ = ["block_choices", "kernel_shares"]


def block_choices(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (trial, block): depth, width, mean expansion ratio and each kernel type's share."""
    rows = []
    for _, record in table.iterrows():
        spec = spec_of(record)
        for b, block in enumerate(spec.blocks):
            kinds = [kernel_type(layer.kernel) for layer in block.layers]
            rows.append({"trial_id": record["trial_id"], "run": record.get("run", ""), "pareto": bool(record["pareto"]),
                         "block": b, "depth": len(block.layers), "width": block.filters,
                         "expansion": sum(layer.expand for layer in block.layers) / len(block.layers) / block.filters,
                         **{kind: kinds.count(kind) / len(kinds) for kind in KERNEL_TYPES}})
    return pd.DataFrame(rows)


def kernel_shares(choices: pd.DataFrame) -> pd.DataFrame:
    """Mean kernel-type share per block, on the front and over all trials (columns: kind)."""
    groups = {"all trials": choices, "Pareto front": choices[choices["pareto"]]}
    frames = [part.groupby("block")[list(KERNEL_TYPES)].mean().assign(group=name) for name, part in groups.items()]
    return pd.concat(frames).reset_index()
