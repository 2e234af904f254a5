"""Depth scaling of one block's per-layer list.

EfficientNet scales a stage by repeating its one block definition `ceil(d * repeats)` times;
timm's `_scale_stage_depth` spreads the new count over a stage's several block definitions.
A MoViNet block is a list of distinct layers (each its own expansion and kernel), so scaling
it means choosing, for every position of the new list, which old layer it copies:

- the first layer always stays first: it carries the block's stride (downsampling) and its
  channel change, and the projection skip that goes with them;
- with m layers after the first, and m' wanted, new position j (0-based) copies old position
  floor(j m / m'), so growing repeats every layer in place, in proportion (first + A B C scaled
  to first + 6 becomes first + A A B B C C, not A B C A B C), and shrinking keeps an evenly
  spaced subset (every other layer when halving);
- a block of one layer grows by copies of that layer without its stride.
"""
from __future__ import annotations

import dataclasses

from search_space import BlockSpec, LayerSpec
from search_space.rounding import round_depth

__all__ = ["scale_layers", "scaled_block_depth"]


def scaled_block_depth(layers: int, multiplier: float) -> int:
    """New layer count: ceil(multiplier * layers), at least 1 (EfficientNet's `round_repeats`)."""
    return round_depth(multiplier * layers)


def scale_layers(block: BlockSpec, count: int) -> BlockSpec:
    """`block` with `count` layers chosen as the module docstring says."""
    layers = block.layers
    first, rest = layers[0], layers[1:]
    if count == 1:
        return dataclasses.replace(block, layers=(first,))
    pool = rest or (LayerSpec(first.expand, first.kernel, (1, 1, 1)),)
    n, new = len(pool), count - 1
    picked = tuple(pool[min(n - 1, (j * n) // new)] for j in range(new))
    return dataclasses.replace(block, layers=(first, *picked))
