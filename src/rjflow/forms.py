"""Each action's input as data: the fields a form shows, and a JSON Schema per action.

Everything here is derived from the workflow table (:data:`rjflow.states.ACTIONS`) and the
input classes of :mod:`rjflow.commands` — their fields, types, defaults and ``metadata``
(``doc`` for the help text, ``policy_limit`` naming the :class:`~rjflow.Policy` value that
bounds a field, ``minimum``/``maximum``, ``min_items``, ``max_length``, ``kinds``,
``never_offered`` for choices the action's rules always refuse) — so a form
never keeps a field list of its own.  The JSON a form sends back is read by
:meth:`rjflow.Case.fire`, :meth:`~rjflow.Case.blockers` and :meth:`~rjflow.Case.can` with the
converter that reads the history (durations as ISO 8601 text such as ``PT1H30M``, dates as
``2026-03-02``, enums by value).

>>> from rjflow.forms import form
>>> session = form("record_session")
>>> tuple((f.name, f.kind, f.required) for f in session.fields)
(('duration', 'duration', True), ('attendance', 'choice', False))
>>> duration, attendance = session.fields
>>> duration.limits.get("maximum")
'PT3H'
>>> tuple(c.value for c in attendance.choices)
('attended', 'missed_acceptable', 'missed_unacceptable')
>>> tuple(session.json_schema().get("required", ()))
('duration',)
"""

from __future__ import annotations

import enum
import functools
import types
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Union, get_args, get_origin

import attrs

from rjflow._convert import _PARTY_TYPES, DURATION_PATTERN, format_duration, input_json
from rjflow._validate import ID_PATTERN as _ID_PATTERN
from rjflow.commands import TEXT_LENGTH
from rjflow.offences import OffenceCategory
from rjflow.parties import Party
from rjflow.policy import LONDON_CRC, Policy
from rjflow.states import ACTIONS, State
from rjflow.workflow import Workflow

__all__ = [
    "ID_PATTERN",
    "JSON_SCHEMA_DIALECT",
    "Choice",
    "Form",
    "FormField",
    "form",
    "forms",
    "input_json",
]

#: The JSON Schema dialect of :meth:`Form.json_schema`.
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: What every id rjflow takes looks like (a party, a staff member, an agreement action, a
#: case), matched in full: 1 to 64 letters, digits, ``.``, ``_``, ``:`` or ``-``, starting with
#: a letter or a digit.  An id field's JSON Schema ``pattern``; a page checks an answer with
#: ``ID_PATTERN.fullmatch(text)``.
ID_PATTERN = _ID_PATTERN


@attrs.frozen
class Choice:
    """One allowed value of a choice field: ``value`` is what is sent, ``label`` what a
    caseworker reads."""

    value: str | int
    label: str

    def to_json_dict(self) -> dict[str, Any]:
        """``{"value": ..., "label": ...}``."""
        return {"value": self.value, "label": self.label}


@attrs.frozen
class FormField:
    """One field of an action's input, as a form shows it.

    ``name``: the keyword :meth:`rjflow.Case.fire` takes and the JSON key.  ``json_type``: the
    JSON type sent (``string``, ``integer``, ``boolean``, ``array``, ``object``).  ``kind``: what
    widget fits: ``id`` (a party's or an agreement action's opaque id), ``text`` (free text),
    ``date`` (ISO 8601 date, ``2026-02-01``), ``duration`` (ISO 8601 duration text,
    ``PT1H30M``), ``choice`` (one of ``choices``), ``yes_no``, ``whole_number``, ``ids`` (a list
    of ids), ``party`` (an object of one of the ``variants``, by its ``role``) or ``list`` (a
    list of objects of ``fields``).  ``required``: it must be given; ``nullable``: ``null``
    (None) is a meaningful answer (``help`` says what it means).  ``default``: the value used
    when it is not given, in its JSON form.  ``limits``: bounds from the input class and the
    policy (``minimum``, ``maximum`` — for a duration as ISO 8601 text, with
    ``maximum_seconds`` beside it — ``max_length``, ``min_items``).  ``help``: a sentence for
    the caseworker saying what the field means, never how it is written (that is the
    ``kind``'s: a form may ask for a duration in minutes).  ``schema``: the field's JSON
    Schema.
    """

    name: str
    json_type: str
    kind: str
    required: bool
    nullable: bool
    default: Any
    choices: tuple[Choice, ...]
    limits: Mapping[str, Any]
    help: str
    schema: Mapping[str, Any]
    fields: tuple[FormField, ...] = ()
    variants: Mapping[str, tuple[FormField, ...]] = attrs.field(factory=dict)

    @property
    def label(self) -> str:
        """The field's name as a caseworker would say it: ``action_id`` is "action id"."""
        return self.name.replace("_", " ")

    def to_json_dict(self) -> dict[str, Any]:
        """The field as JSON data (every attribute, ``label`` included)."""
        return {
            "name": self.name,
            "label": self.label,
            "json_type": self.json_type,
            "kind": self.kind,
            "required": self.required,
            "nullable": self.nullable,
            "default": self.default,
            "choices": [c.to_json_dict() for c in self.choices],
            "limits": dict(self.limits),
            "help": self.help,
            "fields": [f.to_json_dict() for f in self.fields],
            "variants": {
                role: [f.to_json_dict() for f in fields] for role, fields in self.variants.items()
            },
        }


@attrs.frozen
class Form:
    """An action's input as data: what :meth:`rjflow.Case.fire` takes besides ``at``,
    ``actor`` and ``occurred_at``.  ``leads_to``: the stage it moves the case to (None for
    record-keeping)."""

    action: str
    summary: str
    leads_to: State | None
    fields: tuple[FormField, ...]

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema (draft 2020-12) of the input as JSON: an object of the fields, no
        others.  A document it accepts may still be refused by the rules (a session longer
        than the policy allows, an unknown party): ask :meth:`rjflow.Case.blockers`."""
        return {
            "$schema": JSON_SCHEMA_DIALECT,
            "title": self.action.replace("_", " "),
            "description": self.summary,
            "type": "object",
            "properties": {f.name: dict(f.schema) for f in self.fields},
            "required": [f.name for f in self.fields if f.required],
            "additionalProperties": False,
        }

    def to_json_dict(self) -> dict[str, Any]:
        """The form as JSON data: action, summary, ``leads_to`` (a stage value or null), the
        fields and the JSON Schema."""
        return {
            "action": self.action,
            "summary": self.summary,
            "leads_to": None if self.leads_to is None else self.leads_to.value,
            "fields": [f.to_json_dict() for f in self.fields],
            "json_schema": self.json_schema(),
        }


def form(action: str, policy: Policy = LONDON_CRC) -> Form:
    """The form of ``action`` (any action of the table, offered by ``policy`` or not), with the
    limits ``policy`` sets.  Raises :class:`~rjflow.UnknownAction` for a name the table does not
    hold."""
    return _form(Workflow.for_policy(policy).action(action).name, policy)


def forms(policy: Policy = LONDON_CRC) -> tuple[Form, ...]:
    """The form of every action ``policy``'s workflow offers, in the table's order."""
    return tuple(_form(name, policy) for name in Workflow.for_policy(policy).actions)


@functools.lru_cache(maxsize=512)
def _form(name: str, policy: Policy) -> Form:
    definition = ACTIONS[name]
    return Form(
        definition.name,
        definition.summary,
        definition.dest,
        _fields(definition.input, policy),
    )


def _fields(cls: type, policy: Policy | None) -> tuple[FormField, ...]:
    resolved = attrs.resolve_types(cls)
    return tuple(_field(a, policy) for a in attrs.fields(resolved) if a.init)


def _label(member: enum.Enum) -> str:
    label = getattr(member, "label", None)
    return label if isinstance(label, str) else member.name.lower().replace("_", " ")


def _optional(kind: Any) -> tuple[Any, bool]:
    """``kind`` without ``None``, and whether None was one of its choices."""
    if get_origin(kind) in (Union, types.UnionType):
        args = get_args(kind)
        rest = tuple(a for a in args if a is not type(None))
        if len(rest) != len(args):
            return (rest[0] if len(rest) == 1 else Union[rest]), True  # noqa: UP007
    return kind, False


_ID_SCHEMA = {"type": "string", "pattern": f"^(?:{ID_PATTERN.pattern})$"}


@attrs.frozen
class _Shape:
    json_type: str
    kind: str
    schema: dict[str, Any]
    choices: tuple[Choice, ...] = ()
    fields: tuple[FormField, ...] = ()
    variants: Mapping[str, tuple[FormField, ...]] = attrs.field(factory=dict)


def _party_classes(kinds: tuple[type, ...] | None) -> list[tuple[str, type]]:
    return [
        (role, cls) for role, cls in _PARTY_TYPES.items() if kinds is None or issubclass(cls, kinds)
    ]


def _object_schema(fields: tuple[FormField, ...], extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**extra, **{f.name: dict(f.schema) for f in fields}},
        "required": [*extra, *(f.name for f in fields if f.required)],
        "additionalProperties": False,
    }


def _shape(kind: Any, meta: Mapping[str, Any], name: str) -> _Shape:
    """The JSON shape of a field's type: the converter's form of it (see rjflow._convert)."""
    if kind is str:
        if meta.get("free_text"):
            return _Shape("string", "text", {"type": "string", "maxLength": TEXT_LENGTH})
        return _Shape("string", "id", dict(_ID_SCHEMA))
    if kind is bool:
        return _Shape("boolean", "yes_no", {"type": "boolean"})
    if kind is int:
        schema: dict[str, Any] = {"type": "integer"}
        for bound in ("minimum", "maximum"):
            if bound in meta:
                schema[bound] = meta[bound]
        return _Shape("integer", "whole_number", schema)
    if kind is date:
        return _Shape(
            "string",
            "date",
            {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        )
    if kind is timedelta:
        pattern = f"^{DURATION_PATTERN}$"
        return _Shape("string", "duration", {"type": "string", "pattern": pattern})
    return _compound_shape(kind, meta, name)


def _compound_shape(kind: Any, meta: Mapping[str, Any], name: str) -> _Shape:
    """The JSON shape of an enum, a party, a collection or a nested record."""
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        # A value the action's rules always refuse (``never_offered``: closing a case as
        # completed, recording an action as waived) is not offered; the schema still takes
        # it, so that a client sending it is shown rjflow's reason.
        never = meta.get("never_offered", ())
        members = [m for m in kind if m not in never]
        choices = tuple(Choice(m.value, _label(m)) for m in members)
        json_type = "integer" if all(type(m.value) is int for m in kind) else "string"
        return _Shape(json_type, "choice", {"enum": [m.value for m in kind]}, choices)
    if kind == Party:
        variants = {role: _party_fields(cls) for role, cls in _party_classes(meta.get("kinds"))}
        return _Shape(
            "object",
            "party",
            {
                "oneOf": [
                    _object_schema(fields, {"role": {"const": role}})
                    for role, fields in variants.items()
                ]
            },
            variants=variants,
        )
    origin = get_origin(kind)
    if origin in (tuple, frozenset):
        item = get_args(kind)[0]
        if item is str and name == "specialisms":  # a facilitator's: category values (_convert)
            return _Shape(
                "array",
                "choices",
                {"type": "array", "items": {"enum": [c.value for c in OffenceCategory]}},
                tuple(Choice(c.value, _label(c)) for c in OffenceCategory),
            )
        if item is str:
            items = {"type": "array", "items": dict(_ID_SCHEMA), "uniqueItems": True}
            return _Shape("array", "ids", items)
        fields = _fields(item, None)
        schema = {"type": "array", "items": _object_schema(fields, {})}
        if "min_items" in meta:
            schema["minItems"] = meta["min_items"]
        return _Shape("array", "list", schema, fields=fields)
    if attrs.has(kind):
        fields = _fields(kind, None)
        return _Shape("object", "object", _object_schema(fields, {}), fields=fields)
    raise TypeError(f"rjflow.forms has no JSON shape for the field {name!r}")  # pragma: no cover


def _party_fields(cls: type) -> tuple[FormField, ...]:
    # The party's role is its discriminator in JSON (see rjflow._convert); a staff member's
    # role field *is* that discriminator, so it is not a field of its own.
    return tuple(f for f in _fields(cls, None) if f.name != "role")


def _json_default(value: object) -> Any:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple | frozenset):
        return sorted(value) if isinstance(value, frozenset) else list(value)
    return value


def _field(attribute: attrs.Attribute[Any], policy: Policy | None) -> FormField:
    meta = attribute.metadata
    kind, nullable = _optional(attribute.type)
    shape = _shape(kind, meta, attribute.name)
    required = attribute.default is attrs.NOTHING
    default: Any = None if required else attribute.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()
    limits: dict[str, Any] = {}
    for key in ("minimum", "maximum", "min_items", "max_length"):
        if key in meta:
            limits[key] = meta[key]
    limit_name = meta.get("policy_limit")
    if limit_name is not None and policy is not None:
        limit: timedelta = getattr(policy, limit_name)
        limits["maximum"] = format_duration(limit)
        limits["maximum_seconds"] = int(limit.total_seconds())
    schema = dict(shape.schema)
    if nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    help_text = str(meta.get("doc", ""))
    schema["title"] = attribute.name.replace("_", " ")
    if help_text:
        schema["description"] = help_text
    if not required:
        schema["default"] = _json_default(default)
    return FormField(
        name=attribute.name,
        json_type=shape.json_type,
        kind=shape.kind,
        required=required,
        nullable=nullable,
        default=_json_default(default),
        choices=shape.choices,
        limits=limits,
        help=help_text,
        schema=schema,
        fields=shape.fields,
        variants=shape.variants,
    )
