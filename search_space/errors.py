"""Errors in an architecture: a spec that cannot be built, a checkpoint that does not fit it.

Both are `UserError`s (`infra.errors`): the CLI reports them in one line. They also derive
from `ValueError`, which Python callers have always caught.
"""
from __future__ import annotations

from infra.errors import UserError

__all__ = ["SpecError", "CheckpointMismatchError"]


class SpecError(UserError, ValueError):
    """A spec value that cannot describe a buildable MoViNet; the message names the field."""


class CheckpointMismatchError(UserError, ValueError):
    """The checkpoint does not fit the model; the message names the first offending variable."""
