"""Small attrs validators shared by the value classes, raising :class:`InvalidInput`."""

from __future__ import annotations

import enum
import re
from datetime import datetime, timedelta
from typing import Any, TypeVar

from rjflow.errors import InvalidInput

__all__ = [
    "aware_datetime",
    "boolean",
    "nonnegative_timedelta",
    "opaque_id",
    "opaque_ids",
    "shown",
    "to_enum",
]

E = TypeVar("E", bound=enum.Enum)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$")


def _check_id(name: str, value: object) -> None:
    if not isinstance(value, str) or not _ID.match(value):
        # The value itself is not repeated: a rejected id is often a person's name.
        got = "text that is not an id" if isinstance(value, str) else type(value).__name__
        raise InvalidInput(
            f"{name!r} must be an opaque id: 1 to 64 letters, digits, '.', '_', ':' or '-', "
            f"starting with a letter or digit (got {got}). Use your system's reference for "
            "the person, never their name."
        )


def opaque_id(_inst: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: ``value`` is a short opaque id such as ``"V1"``."""
    _check_id(attribute.name, value)


def opaque_ids(_inst: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: ``value`` is a tuple of opaque ids without repeats."""
    if not isinstance(value, tuple):
        raise InvalidInput(
            f"{attribute.name!r} must be a tuple of ids (got {type(value).__name__})."
        )
    for item in value:
        _check_id(attribute.name, item)
    if len(set(value)) != len(value):
        raise InvalidInput(f"{attribute.name!r} lists the same id twice; list each party once.")


def aware_datetime(name: str, value: object) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime, else raise InvalidInput."""
    if not isinstance(value, datetime):
        raise InvalidInput(
            f"{name!r} must be a timezone-aware datetime (got {type(value).__name__})."
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{name!r} must be timezone-aware (got a naive datetime); pass for example "
            "datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)."
        )
    return value


def nonnegative_timedelta(_inst: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: ``value`` is a timedelta of zero or more whole seconds."""
    if not isinstance(value, timedelta):
        raise InvalidInput(
            f"{attribute.name!r} must be a timedelta, for example timedelta(hours=2) "
            f"(got {type(value).__name__})."
        )
    if value < timedelta(0) or value.microseconds:
        raise InvalidInput(f"{attribute.name!r} must be zero or more whole seconds (got {value}).")


def to_enum(cls: type[E], name: str, value: object) -> E:
    """``value`` as a member of ``cls`` (a member or its value), else InvalidInput."""
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in cls)
        raise InvalidInput(f"{name!r} must be one of {allowed} (got {shown(value)}).") from None


def shown(value: object) -> str:
    """``value`` for an error message: short codes verbatim, anything else by its type only,
    since free text may be personal data."""
    if isinstance(value, str) and _ID.match(value) and len(value) <= 32:
        return repr(value)
    if isinstance(value, int | float | bool) or value is None:
        return repr(value)
    return f"a {type(value).__name__}"


def boolean(_inst: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: ``value`` is True or False."""
    if not isinstance(value, bool):
        raise InvalidInput(
            f"{attribute.name!r} must be True or False (got {type(value).__name__})."
        )
