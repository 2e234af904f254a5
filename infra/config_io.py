"""Typed option dataclasses to and from plain data (JSON / YAML), with field-path errors.

Options files (`options.json` of a run, a search space YAML) are read back into the same frozen
dataclasses that hold the defaults, so the dataclass is the one home of every default and every
type. An unknown key or a value of the wrong type is a `UserError` naming its path
(`proxy.recipe.learning_rate: must be a number, got str '4'`), never a silent fallback.
Supported field types: bool, int, float, str, None unions, homogeneous tuples (`tuple[int, ...]`,
nested), fixed tuples (`tuple[float, float]`), nested dataclasses and plain `dict`.
"""
from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, Mapping

import yaml

from .errors import OptionsError, UserError
from .files import write_text

__all__ = ["to_plain", "from_plain", "dump_yaml", "check_numbers"]


def to_plain(value: Any) -> Any:
    """Dataclasses, tuples and dicts as plain dicts, lists and scalars."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def dump_yaml(data: Any, path: Any = None) -> str:
    """Plain data as block-style YAML in field order, written to `path` if given; returns the text."""
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
    if path is not None:
        write_text(path, text)
    return text


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_plain(cls: type, data: Any, where: str = "", error: type[UserError] = OptionsError) -> Any:
    """An instance of dataclass `cls` from plain data (`to_plain` output, a parsed YAML or JSON).

    Missing keys take the defaults; a missing required field, an unknown key or a value of the
    wrong type raises `error` naming its path (`blocks[1].layers[0].expand: must be an integer,
    got str '80'`). The one parser of the toolkit's dataclasses: option trees and specs alike.
    """
    if not isinstance(data, Mapping):
        raise error(f"{where or cls.__name__}: expected a mapping, got {type(data).__name__} {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise error(f"{_join(where, unknown[0])}: unknown field (expected one of {', '.join(sorted(fields))})")
    missing = [name for name, f in fields.items() if name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise error(f"{_join(where, missing[0])}: missing required field")
    hints = _hints(cls)
    values = {name: _parse(hints[name], value, _join(where, name), error) for name, value in data.items()}
    try:
        return cls(**values)
    except UserError as err:  # the dataclass's own checks name the field; say where it is nested
        raise error(_join(where, str(err)) if where else str(err)) from None


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _parse(kind: Any, value: Any, where: str, error: type[UserError]) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _parse(option, value, where, error)
            except UserError as err:
                errors.append(err)
        raise errors[0]
    if dataclasses.is_dataclass(kind):
        return from_plain(kind, value, where, error)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise error(f"{where}: must be a list, got {type(value).__name__} {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_parse(args[0], v, f"{where}[{i}]", error) for i, v in enumerate(value))
        if len(value) != len(args):
            raise error(f"{where}: must be a list of {len(args)} values, got {value!r}")
        return tuple(_parse(a, v, f"{where}[{i}]", error) for i, (a, v) in enumerate(zip(args, value)))
    if kind is dict or origin is dict:
        if not isinstance(value, Mapping):
            raise error(f"{where}: must be a mapping, got {type(value).__name__} {value!r}")
        return dict(value)
    return _scalar(kind, value, where, error)


_SCALARS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _scalar(kind: Any, value: Any, where: str, error: type[UserError]) -> Any:
    if kind is Any:
        return value
    if kind not in _SCALARS:
        raise TypeError(f"{where}: unsupported option type {kind!r}")  # a bug in the dataclass, not user input
    fits = {bool: isinstance(value, bool), str: isinstance(value, str),
            int: isinstance(value, int) and not isinstance(value, bool),
            float: isinstance(value, (int, float)) and not isinstance(value, bool)}[kind]
    if not fits:
        raise error(f"{where}: must be {_SCALARS[kind]}, got {type(value).__name__} {value!r}")
    return float(value) if kind is float else value


_CHECKS = {
    "positive": (lambda v: v > 0, "must be at least 1", "must be greater than 0"),
    "non_negative": (lambda v: v >= 0, "must be 0 or more", "must be 0 or more"),
    "fraction": (lambda v: 0 <= v <= 1, "must be between 0 and 1", "must be between 0 and 1"),
    "open_fraction": (lambda v: 0 < v <= 1, "must be above 0 and at most 1", "must be above 0 and at most 1"),
}


def check_numbers(options: Any, **rules: tuple[str, ...]) -> None:
    """A dataclass's numbers checked where they enter (its `__post_init__`): each field named under
    `positive` (ints at least 1, floats above 0), `non_negative`, `fraction` ([0, 1]) or
    `open_fraction` ((0, 1]) must hold its rule; None means "not set" and passes. An OptionsError
    names the field, so a bad flag, options file or Python call is refused before anything runs."""
    for rule, names in rules.items():
        holds, for_int, for_float = _CHECKS[rule]
        for name in names:
            value = getattr(options, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not holds(value):
                message = for_int if isinstance(value, int) and not isinstance(value, bool) else for_float
                raise OptionsError(f"{name}: {message}, got {value!r}")
