"""Errors in the data a user points us at (a folder, a CSV, TFRecord shards)."""
from __future__ import annotations

from infra.errors import UserError

__all__ = ["DataError"]


class DataError(UserError):
    """The data cannot be used as given; the message names the file or folder and what is wrong."""
