"""Reading a search run's records back: the trials table and the specs it carries."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from search_space import ArchSpec, InputSpec, UserError

__all__ = ["load_run", "load_runs", "spec_of", "trained_spec_of", "run_options", "RunNotFoundError"]


class RunNotFoundError(UserError):
    """A folder that holds no finished search run."""


def load_run(folder: str | Path) -> pd.DataFrame:
    """The trials table of the run in `folder` (one self-describing record per trial)."""
    path = Path(folder) / "trials.parquet"
    if not path.is_file():
        raise RunNotFoundError(f"{folder}: no trials.parquet (not a finished search run)")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise RunNotFoundError(f"{path}: unreadable ({str(err).splitlines()[0]})") from None


def spec_of(record: pd.Series | dict, name: str | None = None) -> ArchSpec:
    """The architecture a record carries (its `spec` column, at the input it is meant for),
    optionally renamed."""
    spec = ArchSpec.from_dict(json.loads(record["spec"]))
    return spec.replace(name=name) if name else spec


def trained_spec_of(record: pd.Series | dict) -> ArchSpec:
    """The architecture at the input its trial trained at (`train_frames` x `train_resolution`):
    in a `--target` search the proxy's shape, not the member's; what re-training it needs."""
    spec = spec_of(record)
    frames, resolution = record.get("train_frames"), record.get("train_resolution")
    if frames is None or pd.isna(frames):  # a run recorded before the training shape had columns
        return spec
    return spec.replace(input=InputSpec(int(frames), int(resolution), spec.input.frame_stride))


def load_runs(*folders: str | Path) -> pd.DataFrame:
    """The trial records of one or many runs, with a `run` column (the folder's name, or its
    path where two folders share a name)."""
    paths = [Path(f) for f in folders]
    names = [p.name for p in paths]
    labels = [p.name if names.count(p.name) == 1 else str(p) for p in paths]
    return pd.concat([load_run(path).assign(run=label) for path, label in zip(paths, labels)], ignore_index=True)


def run_options(folder: str | Path) -> dict:
    """The run's stored options as plain data ({} if it has none): read as JSON, not parsed into
    `search.SearchOptions`, so analysis needs nothing of the search driver."""
    path = Path(folder) / "options.json"
    return json.loads(path.read_text()) if path.is_file() else {}
