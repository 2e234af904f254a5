"""The zero-cost score a prefiltered search ranks its sampled architectures by (`Prefilter`).

The searcher calls it in the Tune driver for every architecture it draws; it is a small
picklable value (the searcher's state is saved with the run, for --resume), and TensorFlow loads
on its first call only. Scoring runs beside the trials, so its seconds count in the search's
wall time, not in any trial's.
"""
from __future__ import annotations

from dataclasses import dataclass

from search_space import SearchSpace
from video_data.config import DataConfig

__all__ = ["ZeroCostScorer"]


@dataclass(frozen=True)
class ZeroCostScorer:
    """`score` of the architecture a sample of `space` describes, on the first training batch of `data`."""

    score: str
    space: SearchSpace
    data: DataConfig

    def __call__(self, params: dict) -> float:
        from proxies.zero_cost import score_architectures

        table = score_architectures({"candidate": self.space.to_spec(params)}, self.data)
        return float(table[self.score].iloc[0])
