"""Small validators and converters shared by the value classes, raising :class:`InvalidInput`.

Each one checks a value in full (``fullmatch``, element types, a ``str`` is never a
collection) and returns it in one canonical form (UTC times, enum members, plain ``int``), so
that whatever rjflow accepts on write loads again on read.  Messages name the field and the
kind of problem; they quote a value only when it is a validated opaque id or a number, since
any other text may be personal data.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from rjflow.errors import InvalidInput

__all__ = [
    "ID_PATTERN",
    "aware_datetime",
    "boolean",
    "calendar_date",
    "collection",
    "enum_members",
    "enum_values",
    "free_text",
    "is_id",
    "nonnegative_timedelta",
    "opaque_id",
    "opaque_ids",
    "plain_timedelta",
    "redacted",
    "shown",
    "to_enum",
    "valid_text",
    "whole_number",
]

E = TypeVar("E", bound=enum.Enum)

#: An opaque id: 1 to 64 letters, digits, ``.``, ``_``, ``:`` or ``-``, starting with a letter
#: or digit.  Always matched in full (``re.fullmatch``): ``$`` would also match before a
#: trailing newline.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")

#: Characters refused in free text: lone surrogates (not Unicode text at all, and not
#: encodable as UTF-8) and the control characters other than tab, line feed and carriage
#: return (NUL, escape, DEL and the C1 range among them), which no caseworker types, many
#: systems cannot store, and terminals act upon.
_BAD_TEXT = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Characters refused in any text at all: lone surrogates.
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def is_id(value: object) -> bool:
    """True when ``value`` is a str matching :data:`ID_PATTERN` in full."""
    return type(value) is str and ID_PATTERN.fullmatch(value) is not None


def _check_id(name: str, value: object) -> None:
    if not is_id(value):
        # The value itself is not repeated: a rejected id is often a person's name.
        got = "text that is not an id" if isinstance(value, str) else type(value).__name__
        raise InvalidInput(
            f"{name!r} must be an opaque id: 1 to 64 letters, digits, '.', '_', ':' or '-', "
            f"starting with a letter or digit (got {got}). Use your system's reference (for a "
            "person, never their name)."
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


def valid_text(
    name: str, value: object, *, max_length: int | None = None, controls: bool = False
) -> str:
    """``value`` if it is valid text of at most ``max_length`` characters, as a plain
    ``str``; else :class:`InvalidInput` naming ``name`` (never the text).

    Valid text has no lone surrogate and, unless ``controls``, no control character other
    than tab and line breaks (see ``_BAD_TEXT``)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{name!r} must be text (got {type(value).__name__}).")
    if value.isascii() and (controls or value.isprintable()):
        pass  # the common case, decided without the pattern
    elif (_SURROGATES if controls else _BAD_TEXT).search(value):
        raise InvalidInput(
            f"{name!r} holds characters that are not valid text (a lone surrogate or a "
            "control character); pass the text as it was typed, encoded correctly."
        )
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(
            f"{name!r} must be text of at most {max_length} characters (got {len(value)})."
        )
    return str(value)


def free_text(max_length: int | None = None) -> Callable[[Any, Any, Any], None]:
    """An attrs validator: the field is valid text (None passes; wrap in ``optional`` for
    intent)."""

    def check(_inst: Any, attribute: Any, value: Any) -> None:
        if value is not None:
            valid_text(attribute.name, value, max_length=max_length)

    return check


def redacted(value: object) -> str:
    """The ``repr`` of a free-text field: its length only, so that logging a record with
    ``%r`` never writes a note or an agreement's wording."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return f"<redacted {len(value)} chars>"
    return "<redacted>"


def aware_datetime(name: str, value: object) -> datetime:
    """``value`` as the same instant in UTC, if it is a timezone-aware datetime; else
    :class:`InvalidInput`.

    Every time entering rjflow goes through here: comparing times in UTC is the only way
    ordering agrees with the clock when the caller's zone repeats an hour (a ``fold``).
    """
    if type(value) is datetime and value.tzinfo is UTC and not value.fold:
        return value  # already in the one form: the common case, kept cheap
    if not isinstance(value, datetime):
        raise InvalidInput(
            f"{name!r} must be a timezone-aware datetime (got {type(value).__name__}); pass "
            "for example datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)."
        )
    problem = None
    try:
        offset = value.utcoffset()
        utc = value.astimezone(UTC) if offset is not None else None
    except Exception:  # out of range, or a tzinfo of the caller's that fails: never ours
        problem = "it cannot be expressed in UTC (out of range, or its time zone is broken)"
    if problem is not None:
        raise InvalidInput(f"{name!r} must be a timezone-aware datetime: {problem}.")
    if utc is None:
        raise InvalidInput(
            f"{name!r} must be timezone-aware (got a naive datetime); pass for example "
            "datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)."
        )
    return datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, UTC
    )


def calendar_date(name: str, value: object) -> date:
    """``value`` as a plain :class:`~datetime.date`; a ``datetime`` (which is a kind of date)
    is refused, since a time of day would be silently dropped."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(f"{name!r} must be a date (got {type(value).__name__}).")
    return date(value.year, value.month, value.day)


def nonnegative_timedelta(_inst: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: ``value`` is a timedelta of zero or more whole seconds."""
    if not isinstance(value, timedelta):
        raise InvalidInput(
            f"{attribute.name!r} must be a timedelta, for example timedelta(hours=2) "
            f"(got {type(value).__name__})."
        )
    if value < timedelta(0) or value.microseconds:
        raise InvalidInput(f"{attribute.name!r} must be zero or more whole seconds (got {value}).")


def plain_timedelta(value: object) -> object:
    """A converter: a ``timedelta`` subclass as a plain timedelta (anything else unchanged,
    for the validator to judge)."""
    if isinstance(value, timedelta) and type(value) is not timedelta:
        return timedelta(value.days, value.seconds, value.microseconds)
    return value


def whole_number(name: str, value: object, *, minimum: int | None = None) -> int:
    """``value`` as a plain ``int`` (``True``/``False`` and floats are refused)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{name!r} must be a whole number (got {type(value).__name__}).")
    number = int(value)
    if minimum is not None and number < minimum:
        raise InvalidInput(f"{name!r} must be a whole number of {minimum} or more (got {number}).")
    return number


def _labels(member: enum.Enum) -> tuple[str, ...]:
    label = getattr(member, "label", None)
    names = [member.name.lower()]
    if isinstance(label, str):
        names.append(label.lower())
    return tuple(names)


def to_enum(cls: type[E], name: str, value: object) -> E:
    """``value`` as a member of ``cls``: the member itself, its value, or its label (case
    does not matter for labels); else :class:`InvalidInput`.

    ``True``/``False`` and floats are never taken for a number, and a ``str`` value must
    match exactly.
    """
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        for member in cls:
            if member.value == value and isinstance(member.value, str):
                return member
        folded = value.lower()
        for member in cls:
            if folded in _labels(member):
                return member
    elif isinstance(value, int) and not isinstance(value, bool | enum.Enum):
        for member in cls:
            if type(member.value) is int and member.value == value:
                return member
    allowed = ", ".join(repr(m.value) for m in cls)
    labels = [m.label for m in cls if isinstance(getattr(m, "label", None), str)]  # type: ignore[attr-defined]
    also = f" or a label ({', '.join(labels)})" if labels else ""
    raise InvalidInput(f"{name!r} must be one of {allowed}{also} (got {shown(value)}).")


def enum_values(cls: type[enum.Enum], name: str, value: object, of: str) -> frozenset[Any]:
    """``value`` (a collection, never a ``str``) as a frozenset of ``cls``'s canonical values;
    ``of`` says what the items are, for the message.  Equal sets are one shared object (a
    caseload's parties hold the same few, most of them empty)."""
    values = frozenset(m.value for m in enum_members(cls, name, value, of))
    return _VALUE_SETS.setdefault(values, values)


#: The sets of enum values made so far: few, since each enum has few members.
_VALUE_SETS: dict[frozenset[Any], frozenset[Any]] = {}


def enum_members(cls: type[E], name: str, value: object, of: str) -> frozenset[E]:
    """``value`` (a collection, never a ``str``) as a frozenset of ``cls`` members."""
    return frozenset(to_enum(cls, name, item) for item in collection(name, value, of))


def collection(name: str, value: object, of: str = "items") -> tuple[Any, ...]:
    """``value`` as a tuple of its items: a list, tuple, set or other iterable, but never a
    ``str``/``bytes`` (which would become its letters) nor a mapping (its keys)."""
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise InvalidInput(
            f"{name!r} must be a list, tuple or set of {of} (got {type(value).__name__}); "
            "even a single one goes in a list."
        )
    return tuple(value)


def of_type(name: str, value: object, kind: type | tuple[type, ...], what: str) -> None:
    """Refuse ``value`` unless it is a ``kind``: InvalidInput naming the argument ``name`` and
    the expected type (``what``), and the type given, never the value."""
    if not isinstance(value, kind):
        raise InvalidInput(f"{name!r} must be {what} (got {type(value).__name__}).")


def shown(value: object) -> str:
    """``value`` for an error message: short ids and numbers verbatim, anything else by its
    type only, since free text may be personal data."""
    if is_id(value) and len(value) <= 32:  # type: ignore[arg-type]
        return repr(value)
    if type(value) in (int, float, bool) or value is None:
        return repr(value)
    return f"a {type(value).__name__}"


def boolean(_inst: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: ``value`` is True or False."""
    if not isinstance(value, bool):
        raise InvalidInput(
            f"{attribute.name!r} must be True or False (got {type(value).__name__})."
        )
