"""Reading a search run's records back: the trials table and the specs it carries."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from search_space import ArchSpec, UserError

__all__ = ["load_run", "spec_of", "RunNotFoundError"]


class RunNotFoundError(UserError):
    """A folder that holds no finished search run."""


def load_run(folder: str | Path) -> pd.DataFrame:
    """The trials table of the run in `folder` (one self-describing record per trial)."""
    path = Path(folder) / "trials.parquet"
    if not path.is_file():
        raise RunNotFoundError(f"{folder}: no trials.parquet (not a finished search run)")
    return pd.read_parquet(path)


def spec_of(record: pd.Series | dict, name: str | None = None) -> ArchSpec:
    """The architecture a record carries (its `spec` column), optionally renamed."""
    spec = ArchSpec.from_dict(json.loads(record["spec"]))
    return spec.replace(name=name) if name else spec
