"""The one kind of error that means "the input is wrong", shared by every package.

A `UserError` is a mistake in what the user gave (a spec field, a data folder, an option, a
checkpoint for another model, an output folder that already holds a run): the CLI prints its
message in one line and exits with status 2. Anything else is a bug and keeps its traceback.
Packages derive their own kinds from it (`search_space.SpecError`, `video_data.errors.DataError`)
so callers can catch narrowly.
"""
from __future__ import annotations

__all__ = ["UserError", "OptionsError", "RunExistsError", "Interrupted"]


class UserError(Exception):
    """Bad input, reported to the user as one line naming what is wrong."""


class OptionsError(UserError):
    """An options file, flag or dict that does not fit its dataclass; the message names the field."""


class RunExistsError(UserError):
    """The output folder already holds a run (or other files) and resume was not asked for."""


class Interrupted(Exception):
    """A run the user stopped (Ctrl-C) before it finished: what it finished is kept, and
    `--resume` continues the rest. Not a UserError: the CLI exits with status 130."""

    def __init__(self, message: str, partial=None):
        super().__init__(message)
        self.partial = partial  # what the run had finished, for a caller that wants it
