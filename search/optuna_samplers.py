"""Optuna samplers as the Ray Tune searcher needs them: picklable.

Ray Tune stores the searcher (and so the Optuna sampler inside it) in the run folder when the
search starts and as trials finish, which is what lets `--resume` continue a search. Optuna 5's
genetic samplers (NSGA-II) hold a `threading.Lock`, which cannot be pickled: every NSGA-II
search died in `tune.Tuner(...)`. This subclass leaves the lock out of its pickled state and
makes a new one when restored; everything else is Optuna's.
"""
from __future__ import annotations

import threading

import optuna

__all__ = ["NSGAIISampler"]


class NSGAIISampler(optuna.samplers.NSGAIISampler):
    """Optuna's NSGA-II sampler, picklable (its thread lock is made anew on unpickling)."""

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_thread_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._thread_lock = threading.Lock()
