"""Compound scaling of MoViNet specs and search spaces: pure spec -> spec, no TensorFlow.

`scale(spec, rule, phi)` and `scale_to(spec, rule, gflops)` scale one network;
`scale_space(space, rule, phi)` scales a search space (the paper's method); `emit_family`
scales a base to the A0-A6 targets. Rules: `Compound` (EfficientNet, with frames),
`WidthDominant` (dWr), `Greedy` (X3D, fitted by training), or user coefficients.
"""
from .depth import scale_layers, scaled_block_depth
from .rules import AXES, Compound, Greedy, Multipliers, Rule, WidthDominant, parse_rule
from .scale import Scaled, apply_multipliers, scale, scale_to
from .scaled_space import scale_space, scale_widths
from .targets import FAMILY, Target, emit_family, official_targets, parse_targets

__all__ = ["scale_layers", "scaled_block_depth", "FAMILY", "Target", "emit_family", "official_targets",
           "parse_targets", "AXES", "Compound", "Greedy", "Multipliers", "Rule", "WidthDominant", "parse_rule",
           "Scaled", "apply_multipliers", "scale", "scale_to", "scale_space", "scale_widths"]
