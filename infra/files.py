"""The boundary between the toolkit and files: reading what a user gives, writing what a run keeps.

Reading: every file a user hands in (spec and ensemble YAML, a search space, options.json,
annotation CSVs, label maps, fitted.json) is read here, and whatever goes wrong with it (not
there, a folder, not text, broken YAML or JSON, a YAML tag that would construct a Python
object) becomes one `UserError` naming the file and, where the parser knows it, the line. Only
plain YAML is read (`yaml.safe_load`): a `!!python/...` tag is refused, never run.

Writing: a run's state files (options, trial and training tables, results, figures) are written
to a temporary file beside their target and renamed over it (`os.replace`, atomic on one file
system), so a kill in the middle of a write leaves the previous version, never half of a file.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import yaml

from .errors import UserError

_UMASK = os.umask(0)
os.umask(_UMASK)

__all__ = ["UserFileError", "read_text", "read_yaml", "parse_yaml", "read_json", "atomic_path", "write_text",
           "write_bytes", "write_json", "write_csv", "write_rows", "write_parquet", "save_figure", "replaced_folder"]


class UserFileError(UserError):
    """A file given by the user that cannot be read as what it should be; the message names it."""


def read_text(path: str | Path, what: str = "file") -> str:
    """The text of `path`; a UserFileError if it is missing, a folder, unreadable or not UTF-8."""
    path = Path(path)
    if not path.exists():
        raise UserFileError(f"{path}: {what} not found")
    if path.is_dir():
        raise UserFileError(f"{path}: is a folder, expected a {what}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UserFileError(f"{path}: cannot read this {what} ({err.strerror or err})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UserFileError(f"{path}: not a text file (byte {err.start} is not UTF-8); expected a {what}") from None


def parse_yaml(text: str, origin: str) -> Any:
    """Plain YAML `text` as Python data; errors name `origin` and the line."""
    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as err:
        tag = re.search(r"tag '([^']+)'", str(getattr(err, "problem", "")))
        name = tag.group(1).replace("tag:yaml.org,2002:", "!!") if tag else "a tag"
        raise UserFileError(f"{origin}{_line(err)}: refused the YAML tag {name} (only plain YAML is read, "
                            f"nothing that builds Python objects)") from None
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise UserFileError(f"{origin}{_line(err)}: not valid YAML ({problem})") from None


def read_yaml(path: str | Path, what: str = "YAML file") -> Any:
    """The plain YAML in `path` (see `parse_yaml`)."""
    return parse_yaml(read_text(path, what), str(path))


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    """The JSON in `path`; a broken file is a UserFileError naming its line and column."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UserFileError(f"{path}:{err.lineno}: not valid JSON ({err.msg}, column {err.colno})") from None


def _line(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    return f":{mark.line + 1}" if mark is not None else ""


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed over `path` when the block succeeds,
    removed if it raises. Whatever writes there (pandas, matplotlib, Keras) writes atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp's private 0600 would outlive the rename
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def replaced_folder(folder: str | Path) -> Iterator[Path]:
    """A fresh staging folder beside `folder` to fill; when the block succeeds it takes the place
    of `folder` as a whole (so nothing stale of the old contents survives), and if it raises,
    `folder` is left as it was."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    retired = folder.with_name(f".{folder.name}.replaced")
    try:
        yield staging
        shutil.rmtree(retired, ignore_errors=True)
        if folder.exists():
            os.replace(folder, retired)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """`data` as the whole of `path`, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """`text` as the whole of `path`, atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, data: Any, indent: int | None = 2) -> Path:
    """`data` as JSON in `path`, atomically."""
    return write_text(path, json.dumps(data, indent=indent) + "\n")


def write_csv(table: Any, path: str | Path) -> Path:
    """A pandas DataFrame as CSV (no index), atomically."""
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)
    return Path(path)


def write_rows(rows: list[dict], path: str | Path) -> Path:
    """Rows of plain values as CSV (the first row's keys, then any others, as the header), atomically."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with atomic_path(path) as temporary, temporary.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def write_parquet(table: Any, path: str | Path) -> Path:
    """A pandas DataFrame as Parquet (no index), atomically."""
    with atomic_path(path) as temporary:
        table.to_parquet(temporary, index=False)
    return Path(path)


def save_figure(figure: Any, path: str | Path, dpi: int = 120) -> Path:
    """A matplotlib Figure as PNG, atomically."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png")
    return Path(path)
