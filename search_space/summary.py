"""What a trial record says about its architecture: a stable id and a readable summary.

A search run's table must describe each architecture by itself, not by parameters that only
mean something under the search space that produced them (a space whose widening rules change
would re-read old parameters as other networks). So each record carries the spec itself, an
`arch_id` that is the same for the same network in any run (a hash of the spec's canonical
form, its name left out), and a handful of columns a person can read and plot.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .cost import count_flops
from .spec import ArchSpec

__all__ = ["arch_id", "spec_json", "kernel_type", "summary", "SUMMARY_COLUMNS", "KERNEL_TYPES"]

KERNEL_TYPES = ("spatial", "temporal", "spatiotemporal")
SUMMARY_COLUMNS = ("arch_id", "depths", "widths", "stem_width", "head_width", "expansion",
                   *(f"kernels_{kind}" for kind in KERNEL_TYPES), "frames", "resolution", "gflops", "params")


def spec_json(spec: ArchSpec) -> str:
    """The spec as compact JSON with sorted keys (the form stored in a record's `spec` column)."""
    return json.dumps(spec.to_dict(), sort_keys=True, separators=(",", ":"))


def arch_id(spec: ArchSpec) -> str:
    """12 hex digits identifying the network: equal for equal specs whatever their names."""
    canonical = json.dumps({k: v for k, v in spec.to_dict().items() if k != "name"}, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha1(canonical.encode()).hexdigest()[:12]


def kernel_type(kernel: tuple[int, int, int]) -> str:
    """'spatial' (1xkxk), 'temporal' (kx1x1) or 'spatiotemporal' (kxkxk, k_t > 1)."""
    if kernel[0] == 1:
        return "spatial"
    return "temporal" if kernel[1:] == (1, 1) else "spatiotemporal"


def summary(spec: ArchSpec, num_classes: int, frames: int | None = None,
            resolution: int | None = None) -> dict[str, Any]:
    """Readable columns: per-block depths and widths ('1 3 3 4 4'), mean expansion ratio, kernel
    counts by type, input shape, and analytic GFLOPs and parameters at that shape."""
    cost = count_flops(spec, frames, resolution, num_classes)
    kinds = [kernel_type(layer.kernel) for layer in spec.layers]
    ratios = [layer.expand / block.filters for block in spec.blocks for layer in block.layers]
    row: dict[str, Any] = {
        "arch_id": arch_id(spec),
        "depths": " ".join(str(len(block.layers)) for block in spec.blocks),
        "widths": " ".join(str(block.filters) for block in spec.blocks),
        "stem_width": spec.stem.filters, "head_width": spec.head.project_filters,
        "expansion": round(sum(ratios) / len(ratios), 3),
    }
    row.update({f"kernels_{kind}": kinds.count(kind) for kind in KERNEL_TYPES})
    row.update(frames=frames or spec.input.frames, resolution=resolution or spec.input.resolution,
               gflops=cost.gflops, params=cost.params)
    return row
