"""The one kind of error that means "the input is wrong", shared by every package.

A `UserError` is a mistake in what the user gave (a spec field, a data folder, an option, a
checkpoint for another model): the CLI prints its message in one line and exits with status 2.
Anything else is a bug and keeps its traceback. Subclasses name the area so callers can catch
narrowly; they also derive from `ValueError` where Python code has always expected that.
"""
from __future__ import annotations

__all__ = ["UserError", "SpecError", "CheckpointMismatchError", "RunExistsError"]


class UserError(Exception):
    """Bad input, reported to the user as one line naming what is wrong."""


class SpecError(UserError, ValueError):
    """A spec value that cannot describe a buildable MoViNet; the message names the field."""


class CheckpointMismatchError(UserError, ValueError):
    """The checkpoint does not fit the model; the message names the first offending variable."""


class RunExistsError(UserError):
    """The output folder already holds a run (search or training) and resume was not asked for."""
