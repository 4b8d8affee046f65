"""The base of the stage settings classes: per-scale defaults, typed overrides and a JSON view.

A stage's settings class is a frozen dataclass that subclasses :class:`StageSettings` and names its
``SECTION`` (the ``<section>__<field>`` prefix of ``hm run --set``) and its ``SCALE_DEFAULTS``.
Overrides given as strings (a command line, a notebook's parameters) are parsed by the field's type
hint (:func:`parse_field`), which also serves :class:`hm_lib.config.Config` and classes without the base.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from hm_lib.config import check_field, check_scale
from hm_lib.errors import SettingError

TRUE, FALSE, NONE = ("true", "1", "yes"), ("false", "0", "no"), ("none", "null", "")
# What a value of a type looks like, for error messages (tuples: their items' examples, comma-separated).
EXAMPLES: dict[type, str] = {bool: "true", int: "3", float: "0.5", str: "text", Path: "data/cache",
                             dt.date: "2020-09-16"}


@dataclass(frozen=True)
class StageSettings:
    """Frozen dataclass mixin: ``for_scale``, ``replace``, ``as_dict``, ``from_dict`` and ``parse``."""

    SECTION: ClassVar[str] = ""
    SCALE_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {}

    @classmethod
    def for_scale(cls, scale: str = "default", **overrides: Any) -> Self:
        """Defaults for a data scale (tiny, small, default, full), then ``overrides`` (strings parsed)."""
        parsed = {name: cls.parse(name, value) for name, value in overrides.items()}
        return cls(**{**cls.SCALE_DEFAULTS.get(check_scale(scale), {}), **parsed})

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (strings parsed)."""
        return dataclasses.replace(self, **{name: self.parse(name, value) for name, value in changes.items()})

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view: tuples become lists, paths strings."""
        return {name: _plain(value) for name, value in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        """Inverse of :meth:`as_dict` (lists back to tuples, strings to paths); unknown keys raise."""
        return cls(**{name: cls.parse(name, value) for name, value in values.items()})

    @classmethod
    def parse(cls, name: str, value: Any) -> Any:
        """``value`` as field ``name``'s type (see :func:`parse_field`)."""
        return parse_field(cls, name, value, cls.SECTION)


def parse_field(cls: type, name: str, value: Any, section: str = "") -> Any:
    """``value`` as the type hint of dataclass ``cls``'s field ``name``: strings parsed, lists made tuples.

    Other values pass unchanged (the class's own checks judge them). An unknown field, or a string
    that is not of the type, raises a one-line SettingError naming ``<section>__<name>``.
    """
    key = f"{section}__{name}" if section else name
    fields = _fields(cls)
    if name not in fields:
        check_field(key, section or cls.__name__, fields)
    try:
        return _convert(fields[name], value)
    except ValueError:
        default = next(f.default for f in dataclasses.fields(cls) if f.name == name)
        expected = f"{_name(fields[name])} such as {_example(fields[name], default)}"
        raise SettingError(f"{key}={value!r}: expected {expected}") from None


@functools.cache
def _fields(cls: type) -> dict[str, Any]:
    """The type hints of a dataclass's fields, by name."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _convert(hint: Any, value: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if isinstance(value, str) and type(None) in args and value.strip().lower() in NONE:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(arg, value)
            except ValueError:
                continue
        raise ValueError(value)
    if origin is tuple:
        if isinstance(value, str):  # "64,96" or "no_image,end_to_end"
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)):
            return value
        kinds = [args[0]] * len(value) if args[-1] is Ellipsis else list(args)
        if len(kinds) != len(value):
            raise ValueError(value)
        return tuple(_convert(kind, item) for kind, item in zip(kinds, value))
    if not isinstance(value, str):
        return value
    if hint is bool:
        if value.strip().lower() not in TRUE + FALSE:
            raise ValueError(value)
        return value.strip().lower() in TRUE
    if hint in (int, float, Path):
        return hint(value)
    return dt.date.fromisoformat(value.strip()) if hint is dt.date else value


def _name(hint: Any) -> str:
    """``int | None``, ``tuple[str, ...]``, ``Path``: a hint as the messages write it."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        return " | ".join("None" if a is type(None) else _name(a) for a in args)
    if typing.get_origin(hint) is tuple:
        return f"tuple[{', '.join('...' if a is Ellipsis else _name(a) for a in args)}]"
    return getattr(hint, "__name__", str(hint))


def _example(hint: Any, default: Any) -> str:
    """The field's default as it would be typed, else an example of its type."""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, tuple):
        if default:
            return ",".join(map(str, default))
    elif default is not None and default is not dataclasses.MISSING:
        return str(default)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        return _example(args[0], None)
    if typing.get_origin(hint) is tuple:
        return ",".join(_example(a, None) for a in ([args[0]] * 2 if args[-1] is Ellipsis else args))
    return EXAMPLES.get(hint, "...")


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, Path) else value
