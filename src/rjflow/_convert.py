"""The one cattrs converter between rjflow's values and plain JSON data.

Unstructuring turns inputs and records into dicts of JSON types (times as ISO 8601 text,
durations as whole seconds, enums as their values).  Structuring is strict: a wrong type is
an error, never silently coerced (cattrs' defaults would turn ``5`` into ``"5"``), and unknown
keys are refused, so a tampered document cannot slip through.
"""

from __future__ import annotations

import enum
import functools
import re
import sys
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from rjflow._frozen import SHARE_BELOW, FrozenDict, FrozenList, thaw
from rjflow._validate import aware_datetime, is_id, shown, to_enum, valid_text
from rjflow.commands import OpenCase
from rjflow.errors import InvalidDocument, InvalidInput
from rjflow.freetext import ERASED
from rjflow.history import Event
from rjflow.offences import OffenceCategory
from rjflow.parties import Facilitator, Offender, Party, Role, Staff, StaffRole, Supporter, Victim

__all__ = [
    "CONVERTER",
    "INPUT_CONVERTER",
    "format_duration",
    "input_json",
    "input_value",
    "parse_duration",
    "structure",
    "unstructure",
]

T = TypeVar("T")

CONVERTER = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


def _strict(kind: type, what: str) -> Callable[[object, type], Any]:
    def hook(value: object, _type: type) -> Any:
        if type(value) is not kind:
            raise InvalidInput(f"expected {what}, got {type(value).__name__}")
        return value

    return hook


def _structure_text(value: object, _type: type) -> str:
    # Every text in a document must be valid Unicode text: a lone surrogate (JSON allows the
    # escape "\ud800") cannot be encoded as UTF-8, hashed or saved again.
    # ERASED (a str subclass) stands for erased free text when a history is replayed.
    if value is ERASED:
        return value
    if type(value) is not str:
        raise InvalidInput(f"expected text, got {type(value).__name__}")
    if value.isascii():
        # The common case: ASCII holds no surrogate.  Short texts (ids, who acted, actions,
        # stages, enum values) repeat in every event and case of a caseload: one shared object
        # each (sys.intern) instead of a copy per occurrence.
        return sys.intern(value) if len(value) < SHARE_BELOW else value
    return valid_text("text", value, controls=True)


CONVERTER.register_structure_hook(str, _structure_text)
CONVERTER.register_structure_hook(int, _strict(int, "a whole number"))
CONVERTER.register_structure_hook(bool, _strict(bool, "true or false"))

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_TEXT = (
    "expected an ISO 8601 date-time text with its time zone offset, as rjflow writes it "
    "(for example 2026-03-02T09:00:00+00:00)"
)


def _parse_datetime(value: object) -> datetime:
    """The datetime a document's text says, in the offset it was written with.

    Only the text ``datetime.isoformat`` writes is accepted, so that one instant has one
    spelling (an event's hash covers the text)."""
    parsed = None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None or parsed.isoformat() != value:
        raise InvalidInput(_DATETIME_TEXT)
    return parsed


def _structure_datetime(value: object, _type: type) -> datetime:
    # Times inside rjflow are UTC (see _validate.aware_datetime).
    return aware_datetime("time", _parse_datetime(value))


def _structure_event_time(value: object, _type: type) -> datetime:
    # An event keeps the offset it was recorded with: its hash covers that text, and
    # documents written before times were normalised to UTC must still verify.  A fixed
    # offset compares by the instant, so ordering is unaffected.
    parsed = _parse_datetime(value)
    aware_datetime("at", parsed)  # in range
    return parsed


def _structure_date(value: object, _type: type) -> date:
    parsed = None
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise InvalidInput("expected an ISO 8601 date text such as 2026-03-02")
    return parsed


#: Durations read so far, by their seconds: a caseload repeats a few (sessions of an hour or
#: two), so each is held once.  Bounded: emptied when full.
_DURATIONS: dict[int, timedelta] = {}


def _structure_seconds(value: object, _type: type) -> timedelta:
    if type(value) is not int or value < 0:
        raise InvalidInput("expected a duration as a whole number of seconds, 0 or more")
    found = _DURATIONS.get(value)
    if found is not None:
        return found
    try:
        duration = timedelta(seconds=value)
    except OverflowError:
        pass
    else:
        if len(_DURATIONS) >= 1024:
            _DURATIONS.clear()
        _DURATIONS[value] = duration
        return duration
    raise InvalidInput("expected a duration as a whole number of seconds, 0 or more")


def _structure_enum(value: object, cls: type[enum.Enum]) -> enum.Enum:
    # Documents stay canonical: an enum is stored by its value only (labels are for callers).
    if not isinstance(value, bool) and isinstance(value, str | int):
        member = cls._value2member_map_.get(value)
        if member is not None and type(member.value) is type(value):
            return member
    allowed = ", ".join(repr(m.value) for m in cls)
    raise InvalidInput(f"expected one of {allowed}, got {shown(value)}")


CONVERTER.register_unstructure_hook(datetime, datetime.isoformat)
CONVERTER.register_structure_hook(datetime, _structure_datetime)
CONVERTER.register_unstructure_hook(date, date.isoformat)
CONVERTER.register_structure_hook(date, _structure_date)
CONVERTER.register_unstructure_hook(timedelta, lambda d: int(d.total_seconds()))
CONVERTER.register_structure_hook(timedelta, _structure_seconds)
CONVERTER.register_structure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
)


# Event data is frozen inside rjflow; what it hands out as plain JSON data is the caller's own,
# mutable copy.  (A mapping of attrs values, such as an event's texts, is unstructured below.)
def _is_plain_data(t: Any) -> bool:
    if t in (FrozenDict, FrozenList):
        return True
    if getattr(t, "__origin__", None) is not Mapping:
        return False
    return not attrs.has(t.__args__[1])


def _mapping_of_values(t: Any) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    inner = t.__args__[1]
    return lambda m: {k: CONVERTER.unstructure(v, inner) for k, v in m.items()}


CONVERTER.register_unstructure_hook_func(_is_plain_data, thaw)
CONVERTER.register_unstructure_hook_factory(
    lambda t: getattr(t, "__origin__", None) is Mapping and attrs.has(t.__args__[1]),
    _mapping_of_values,
)


def _sorted_set(t: Any) -> Callable[[frozenset[Any]], list[Any]]:
    inner = t.__args__[0]
    return lambda s: sorted(CONVERTER.unstructure(x, inner) for x in s)


CONVERTER.register_unstructure_hook_factory(
    lambda t: getattr(t, "__origin__", None) is frozenset, _sorted_set
)


def _is_sequence_type(t: Any) -> bool:
    return getattr(t, "__origin__", None) in (tuple, frozenset)


def _sequence_hook(t: Any, converter: cattrs.Converter) -> Callable[[object, Any], Any]:
    """Tuples and frozensets come from JSON lists only (not from text, which is iterable).

    Items are structured by the converter the hook belongs to, so the fast converter stays
    fast all the way down."""
    kind = t.__origin__
    inner = t.__args__[0]
    structure_item = converter.get_structure_hook(inner)

    def hook(value: object, _t: Any) -> Any:
        if not isinstance(value, list):
            raise InvalidInput(f"expected a list, got {type(value).__name__}")
        items: list[Any] = []
        errors: list[Exception] = []
        for index, item in enumerate(value):
            try:
                items.append(structure_item(item, inner))
            except Exception as exc:
                exc.add_note(IterableValidationNote(f"@ index {index}", index, inner))
                errors.append(exc)
        if errors:
            raise IterableValidationError("invalid items", errors, t)
        return kind(items)

    return hook


CONVERTER.register_structure_hook_factory(_is_sequence_type, _sequence_hook)

_PARTY_TYPES: dict[str, type] = {
    Role.OFFENDER.value: Offender,
    Role.VICTIM.value: Victim,
    Role.SUPPORTER.value: Supporter,
    Role.FACILITATOR.value: Facilitator,
    # Staff parties (issue 14): their role is their own field, and also the discriminator.
    StaffRole.MANAGER.value: Staff,
    StaffRole.ADMINISTRATOR.value: Staff,
}


#: Party fields added after schema 1 (issue 14: youth and access).  Left out while they hold
#: their default, so a party written by the previous release encodes exactly as it did (its
#: opening event's hash is reproduced on replay) and a new one only grows when it needs to.
_ADDED_PARTY_FIELDS = ("under_18", "needs_interpreter", "appropriate_adult")


def _party_unstructure_fn(cls: type) -> Callable[[Any], dict[str, Any]]:
    names = {a.name for a in attrs.fields(cls)}
    added = {n: override(omit_if_default=True) for n in _ADDED_PARTY_FIELDS if n in names}
    return make_dict_unstructure_fn(cls, CONVERTER, **added)  # type: ignore[arg-type]


_PARTY_FIELDS: dict[type, Callable[[Any], dict[str, Any]]] = {
    cls: _party_unstructure_fn(cls) for cls in _PARTY_TYPES.values()
}


def _unstructure_party(party: Party) -> dict[str, Any]:
    data: dict[str, Any] = {"role": party.role.value}
    data.update(_PARTY_FIELDS[type(party)](party))
    return data


def _party_hook(_t: Any, converter: cattrs.Converter) -> Callable[[object, Any], Party]:
    hooks = {role: converter.get_structure_hook(cls) for role, cls in _PARTY_TYPES.items()}

    def structure_party(value: object, _type: object) -> Party:
        if not isinstance(value, dict):
            raise InvalidInput(f"expected a party object, got {type(value).__name__}")
        fields = dict(value)
        role = fields.pop("role", None)
        hook = hooks.get(role) if isinstance(role, str) else None
        if hook is None:
            raise InvalidInput(f"a party's 'role' must be one of {', '.join(sorted(_PARTY_TYPES))}")
        if _PARTY_TYPES[role] is Staff:
            fields["role"] = role
        party: Party = hook(fields, _PARTY_TYPES[role])
        return party

    return structure_party


CONVERTER.register_unstructure_hook_factory(
    lambda t: t == Party or t in _PARTY_FIELDS, lambda _t: _unstructure_party
)


_CATEGORY_VALUES = frozenset(c.value for c in OffenceCategory)


def _structure_specialisms(value: object, _type: object) -> frozenset[str]:
    # Documents stay canonical: a facilitator's specialisms are category values, exactly
    # (labels are accepted from callers, never read from a document).
    if not isinstance(value, list) or not all(
        type(item) is str and item in _CATEGORY_VALUES for item in value
    ):
        raise InvalidInput("expected a list of offence category values")
    return frozenset(value)


def _facilitator_hook(_t: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Facilitator]:
    return make_dict_structure_fn(
        Facilitator, converter, specialisms=override(struct_hook=_structure_specialisms)
    )


CONVERTER.register_structure_hook_factory(lambda t: t is Facilitator, _facilitator_hook)


def _event_hook(_t: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Event]:
    return make_dict_structure_fn(Event, converter, at=override(struct_hook=_structure_event_time))


CONVERTER.register_structure_hook_factory(lambda t: t is Event, _event_hook)
CONVERTER.register_structure_hook_factory(lambda t: t == Party, _party_hook)

# Issue 14 (D2): an event recorded when it happened has no ``occurred_at`` field at all.
CONVERTER.register_unstructure_hook(
    Event, make_dict_unstructure_fn(Event, CONVERTER, occurred_at=override(omit_if_default=True))
)

# Issue 14 (D2): an opening event without staff (saved before staff roles were recorded) keeps
# exactly the data, and so the hash, it was saved with.
CONVERTER.register_unstructure_hook(
    OpenCase, make_dict_unstructure_fn(OpenCase, CONVERTER, staff=override(omit_if_default=True))
)


def unstructure(value: object, cls: type | None = None) -> Any:
    """``value`` as plain JSON data."""
    return CONVERTER.unstructure(value, cls if cls is not None else type(value))


def _describe(exc: BaseException, path: str) -> tuple[str, str]:
    """The first leaf error of a cattrs error tree, with the path to it."""
    if isinstance(exc, ClassValidationError | IterableValidationError):
        for sub in exc.exceptions:
            notes = getattr(sub, "__notes__", None)
            where = notes[-1] if notes else None
            name = getattr(where, "name", None)
            index = getattr(where, "index", None)
            if name is not None:
                step = f".{name}"
            elif type(index) is int or is_id(index):
                step = f"[{index}]"
            elif index is not None:
                step = "[a key]"  # a mapping's key is caller text: shown only if id-shaped
            else:
                step = ""
            if isinstance(sub, KeyError) and name is not None:
                # The note already names the missing attribute: name it once.
                return path + step, "is required but missing"
            return _describe(sub, path + step)
    if isinstance(exc, ForbiddenExtraKeysError):
        # The unknown keys are not repeated: a document's keys are caller text.
        count = len(exc.extra_fields)
        return path, f"has {count} unknown field{'s' if count != 1 else ''}"
    if isinstance(exc, KeyError):
        return f"{path}.{exc.args[0]}", "is required but missing"
    if isinstance(exc, InvalidInput):
        return path, str(exc)  # rjflow's own messages, which never quote caller text
    return path, f"does not have the expected shape ({type(exc).__name__})"


#: The same hooks without detailed validation: the fast path for documents that are valid.
_FAST = CONVERTER.copy(detailed_validation=False)


def structure(data: object, cls: type[T], path: str) -> T:
    """Build a ``cls`` from plain JSON data, or raise :class:`InvalidDocument` naming where.

    ``path`` says where in the document ``data`` sits, for the error message.
    """
    try:
        return _FAST.structure(data, cls)
    except Exception:  # any failure is explained by the detailed pass below
        pass
    try:
        return CONVERTER.structure(data, cls)
    except InvalidDocument:
        raise
    except Exception as exc:  # cattrs wraps validator errors in exception groups
        where, what = _describe(exc, path)
    # Raised outside the handler, so that no chained exception carries caller text along.
    raise InvalidDocument(f"{where}: {what.rstrip('.')}.", path=where)


# -- JSON-shaped input from applications (issue 10) ------------------------------------------
# An application's form or JSON API gives an action's input as JSON values.  They are read by
# the converter that reads the history, with two differences that belong to input only: a
# duration is ISO 8601 duration text (a bare number could mean seconds or minutes, and a
# caseworker's "90" must never become a 90-second session), and an enum may be given by its
# label as well as its value (as the typed methods take it).  What is built is then checked by
# the input class itself, exactly as a typed call is, and stored in the history's canonical
# form (durations as whole seconds, enums as values).

#: A duration in the ISO 8601 form rjflow reads: days, hours, minutes and whole seconds
#: (``P1D``, ``PT2H``, ``PT1H30M``, ``PT90M``, ``PT0S``); years, months, weeks and fractions are
#: refused (a month has no fixed length).
DURATION_PATTERN = (
    r"P(?!$)(?:([0-9]{1,6})D)?(?:T(?=[0-9])(?:([0-9]{1,6})H)?(?:([0-9]{1,6})M)?(?:([0-9]{1,9})S)?)?"
)
_DURATION = re.compile(DURATION_PATTERN)
_DURATION_TEXT = (
    "expected a duration as ISO 8601 text, for example PT2H, PT1H30M or PT90M (PT0S for none)"
)


def parse_duration(value: object) -> timedelta:
    """``value``, ISO 8601 duration text such as ``PT1H30M``, as a timedelta; else
    :class:`InvalidInput` (which never repeats the text).

    >>> parse_duration("PT1H30M"), parse_duration("P1DT2H")
    (datetime.timedelta(seconds=5400), datetime.timedelta(days=1, seconds=7200))
    """
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(_DURATION_TEXT)
    days, hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def format_duration(value: timedelta) -> str:
    """``value`` (whole seconds, not negative) as ISO 8601 duration text, the form
    :func:`parse_duration` reads: ``timedelta(hours=1, minutes=30)`` is ``"PT1H30M"``.

    >>> format_duration(timedelta(hours=1, minutes=30)), format_duration(timedelta(0))
    ('PT1H30M', 'PT0S')
    """
    total = int(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    text = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return text if text != "P" else "PT0S"


def _structure_duration_text(value: object, _type: type) -> timedelta:
    return parse_duration(value)


def _structure_enum_input(value: object, cls: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return to_enum(cls, "value", value)
        except InvalidInput:
            pass
    allowed = ", ".join(repr(m.value) for m in cls)
    raise InvalidInput(f"expected one of {allowed}")


#: The converter for JSON-shaped input: the history's, reading durations as ISO 8601 text and
#: enums by value or label.
INPUT_CONVERTER = CONVERTER.copy()
INPUT_CONVERTER.register_structure_hook(timedelta, _structure_duration_text)
INPUT_CONVERTER.register_structure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum_input
)
INPUT_CONVERTER.register_unstructure_hook(timedelta, format_duration)

_JSON_SCALARS = (str, int, float, bool, type(None))


def is_json(value: object) -> bool:
    """True when ``value`` is made of JSON types only (dict with text keys, list, text,
    numbers, booleans, None), exactly: an enum member or a tuple is a Python value."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return True
    if kind is list:
        return all(is_json(item) for item in value)  # type: ignore[attr-defined]
    if kind is dict:
        return all(type(k) is str and is_json(v) for k, v in value.items())  # type: ignore[attr-defined]
    return False


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return {a.name: a.type for a in attrs.fields(attrs.resolve_types(cls)) if a.init}


def input_value(cls: type, name: str, value: T) -> T | Any:
    """``value`` for the field ``name`` of the input class ``cls``: read by
    :data:`INPUT_CONVERTER` when it is JSON-shaped (:func:`is_json`), else unchanged (a typed
    value, which the input class checks itself).

    Raises :class:`InvalidInput` naming the field (never repeating the value) when a JSON value
    does not have the field's shape.
    """
    kind = _field_types(cls).get(name)
    if kind is None or not is_json(value):
        return value
    try:
        return INPUT_CONVERTER.structure(value, kind)
    except Exception as exc:  # cattrs wraps hook errors in exception groups
        where, what = _describe(exc, name)
    # Raised outside the handler, so that no chained exception carries caller text along.
    raise InvalidInput(f"{where!r} is not valid: {what.rstrip('.')}.")


def input_json(inp: object) -> dict[str, Any]:
    """An input value as the JSON data an application would send for it: durations as ISO
    8601 text, enums as their values, dates as ISO 8601 text, parties with their ``role``.

    Read back through :meth:`rjflow.Case.fire` it builds an equal input."""
    data: dict[str, Any] = INPUT_CONVERTER.unstructure(inp, type(inp))
    return data
