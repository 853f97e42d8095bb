"""The one cattrs converter between rjflow's values and plain JSON data.

Unstructuring turns inputs and records into dicts of JSON types (times as ISO 8601 text,
durations as whole seconds, enums as their values).  Structuring is strict: a wrong type is
an error, never silently coerced (cattrs' defaults would turn ``5`` into ``"5"``), and unknown
keys are refused, so a tampered document cannot slip through.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_unstructure_fn, override

from rjflow._validate import shown
from rjflow.commands import OpenCase
from rjflow.errors import InvalidDocument, InvalidInput
from rjflow.history import Event
from rjflow.parties import Facilitator, Offender, Party, Role, Staff, StaffRole, Supporter, Victim

__all__ = ["CONVERTER", "structure", "unstructure"]

T = TypeVar("T")

CONVERTER = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


def _strict(kind: type, what: str) -> Callable[[object, type], Any]:
    def hook(value: object, _type: type) -> Any:
        if type(value) is not kind:
            raise InvalidInput(f"expected {what}, got {type(value).__name__}")
        return value

    return hook


CONVERTER.register_structure_hook(str, _strict(str, "text"))
CONVERTER.register_structure_hook(int, _strict(int, "a whole number"))
CONVERTER.register_structure_hook(bool, _strict(bool, "true or false"))


def _structure_datetime(value: object, _type: type) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(f"expected an ISO 8601 date-time text, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("expected an ISO 8601 date-time text") from None
    if parsed.tzinfo is None:
        raise InvalidInput("the date-time has no time zone offset")
    return parsed


def _structure_date(value: object, _type: type) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise InvalidInput("expected an ISO 8601 date text such as 2026-03-02")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("expected an ISO 8601 date text such as 2026-03-02") from None


def _structure_seconds(value: object, _type: type) -> timedelta:
    if type(value) is not int or value < 0:
        raise InvalidInput("expected a duration as a whole number of seconds, 0 or more")
    return timedelta(seconds=value)


def _structure_enum(value: object, cls: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInput(f"expected one of {', '.join(repr(m.value) for m in cls)}")
    try:
        return cls(value)
    except ValueError:
        raise InvalidInput(
            f"expected one of {', '.join(repr(m.value) for m in cls)}, got {shown(value)}"
        ) from None


CONVERTER.register_unstructure_hook(datetime, datetime.isoformat)
CONVERTER.register_structure_hook(datetime, _structure_datetime)
CONVERTER.register_unstructure_hook(date, date.isoformat)
CONVERTER.register_structure_hook(date, _structure_date)
CONVERTER.register_unstructure_hook(timedelta, lambda d: int(d.total_seconds()))
CONVERTER.register_structure_hook(timedelta, _structure_seconds)
CONVERTER.register_structure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
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


_PARTY_FIELDS: dict[type, Callable[[Any], dict[str, Any]]] = {
    cls: make_dict_unstructure_fn(cls, CONVERTER) for cls in _PARTY_TYPES.values()
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
            elif index is not None:
                step = f"[{index}]"
            else:
                step = ""
            return _describe(sub, path + step)
    if isinstance(exc, ForbiddenExtraKeysError):
        return path, f"unknown field(s) {', '.join(sorted(exc.extra_fields))}"
    if isinstance(exc, KeyError):
        return f"{path}.{exc.args[0]}", "is required but missing"
    if isinstance(exc, InvalidInput | ValueError | TypeError):
        return path, str(exc)
    return path, f"{type(exc).__name__}: {exc}"


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
        raise InvalidDocument(f"{where}: {what}.", path=where) from None
