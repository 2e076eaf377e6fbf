"""Parsing of convention codes (enums with an alias table), shared by the convention modules."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from openalm.errors import DataError

E = TypeVar("E", bound=enum.IntEnum)

_DROP = str.maketrans("", "", " _-/.()")


def normalise(text: str) -> str:
    """Alias key of a code: lower case without spaces, ``_ - / . ( )``.

    ``"Actual/360"``, ``"act_360"`` and ``"ACT 360"`` all become ``"act360"``-like keys.
    """
    return text.strip().lower().translate(_DROP)


def alias_table(enum_cls: type[E], codes: Mapping[E, str], aliases: Mapping[str, E]) -> dict[str, E]:
    """Normalised alias -> member, containing every canonical code, member name and alias."""
    table: dict[str, E] = {}
    for member in enum_cls:
        table[normalise(codes[member])] = member
        table[normalise(member.name)] = member
    for alias, member in aliases.items():
        key = normalise(alias)
        if table.get(key, member) is not member:
            raise AssertionError(f"alias {alias!r} is ambiguous")
        table[key] = member
    return table


def parse_code(enum_cls: type[E], table: Mapping[str, E], value: Any, what: str, expected: str) -> E:
    """Member of ``enum_cls`` named by ``value`` (a member, or a string in ``table``).

    Raises
    ------
    DataError
        With the value and the canonical codes expected.
    """
    if isinstance(value, enum_cls):
        return value
    if isinstance(value, str):
        member = table.get(normalise(value))
        if member is not None:
            return member
    raise DataError(f"unknown {what}; expected one of {expected}", value=value)


def parse_code_array(
    enum_cls: type[E], table: Mapping[str, E], values: Iterable[Any], what: str, expected: str
) -> npt.NDArray[np.int8]:
    """Vectorised :func:`parse_code`: ``int8`` codes, -1 for ``None`` / NaN / empty strings.

    Raises
    ------
    DataError
        Naming the first bad value and its index.
    """
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = values.to_numpy()
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    out = np.full(len(items), -1, dtype=np.int8)
    cache: dict[Any, int] = {}
    for i, v in enumerate(items):
        if v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip()):
            continue
        code = cache.get(v) if isinstance(v, str) else None
        if code is None:
            try:
                code = int(parse_code(enum_cls, table, v, what, expected))
            except DataError as err:
                raise DataError(f"unknown {what} at index {i}; expected one of {expected}", value=v) from err
            if isinstance(v, str):
                cache[v] = code
        out[i] = code
    return out
