"""Reading a service's policy from a TOML file: values only, checked key by key.

A policy file is a flat TOML document whose keys are :class:`~rjflow.Policy` settings
(``docs/configuring.md`` lists them, and ``rjflow/schema/policy-v1.json`` is its JSON Schema)::

    name = "Youth justice service (example)"
    max_sessions = 8
    max_session_length = { hours = 2 }
    conference_categories = ["violence", "household_burglary", "robbery"]
    min_lead_level = "intermediate"

A file holds values, never code or the workflow's graph: a key not set keeps the default
(London CRC's programme).  This module reads and checks the file against a table of
settings (:class:`Setting`, built by :mod:`rjflow.policy` from the ``Policy`` class itself);
:meth:`rjflow.Policy.from_toml` builds the policy.

Every fault raises :class:`PolicyFileError`: it names the file (by its base name, when that
name is a plain file name), the key and its line, the *kind* of the bad value (never the
value itself, which is the caller's text, unless it is a number) and what is allowed.
"""

from __future__ import annotations

import difflib
import enum
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from rjflow import _toml
from rjflow._validate import is_id
from rjflow.errors import InvalidInput, RJFlowError, SourceUnavailable
from rjflow.offences import OffenceCategory
from rjflow.parties import PractitionerLevel

__all__ = [
    "DURATION_UNITS",
    "FORMAT_KEY",
    "FileCode",
    "Kind",
    "PolicyFileError",
    "RawPolicyFile",
    "Setting",
    "json_schema",
    "read",
    "to_toml",
]

#: The optional key naming the file format's version (1, the only one so far).
FORMAT_KEY = "format"
_FORMAT = 1

#: The units a duration is written in (a TOML inline table, ``{ hours = 3 }``).
DURATION_UNITS = ("weeks", "days", "hours", "minutes", "seconds")


class FileCode(enum.Enum):
    """The stable codes of :class:`PolicyFileError`, one per kind of fault."""

    #: The file is not UTF-8 TOML.
    NOT_TOML = "F001"
    #: A key that is no policy setting (or a duration unit that is none).
    UNKNOWN_KEY = "F002"
    #: A value of the wrong TOML type (text where a number belongs, ...).
    WRONG_TYPE = "F003"
    #: An item of a category list that is no offence category.
    UNKNOWN_CATEGORY = "F004"
    #: A practitioner level below foundation (a number under 1).
    LEVEL_BELOW_FOUNDATION = "F005"
    #: A practitioner level above advanced (a number over 3).
    LEVEL_ABOVE_ADVANCED = "F006"
    #: Text that is none of the allowed choices (a level's or a scope's name).
    UNKNOWN_CHOICE = "F007"
    #: A value of the right type that the policy refuses (a zero maximum, a category listed
    #: twice, required sessions above the maximum).
    INVALID_VALUE = "F008"

    @property
    def slug(self) -> str:
        """The code's name, as a program or a caseworker might search for it."""
        return self.name.lower()


class PolicyFileError(RJFlowError, ValueError):
    """A policy file cannot be used.  Nothing was built.

    ``code``: a :class:`FileCode`; ``problem``: what is wrong and what is allowed (the message
    without its location); ``file``: the full path as given (kept out of the message
    unless its base name is a plain file name); ``key``: the setting concerned (None when the
    whole file is at fault, or when the key is not shaped like a setting name, since it may be
    anyone's text); ``line``: the line of the file, when known; ``also``: the file's other
    problems found in the same reading (each key is checked, so that one reading lists every
    key and value to mend), in the file's order, each a PolicyFileError without ``also``.
    """

    def __init__(
        self,
        code: FileCode,
        problem: str,
        *,
        file: str,
        key: str | None = None,
        line: int | None = None,
        also: tuple[PolicyFileError, ...] = (),
    ) -> None:
        self.code = code
        self.problem = problem
        self.file = file
        self.key = key if key is not None and is_id(key) else None
        self.line = line
        self.also = also
        base = os.path.basename(file)
        where = base if is_id(base) else "the policy file"
        if line is not None:
            where += f", line {line}"
        if self.key is not None:
            where += f", key {self.key!r}"
        more = f"; {len(also)} more problem{'s' * (len(also) > 1)} in the file" if also else ""
        super().__init__(f"{where}: {problem} [{code.value} {code.slug}]{more}")

    def __reduce__(self) -> tuple[object, ...]:
        fields = {"file": self.file, "key": self.key, "line": self.line, "also": self.also}
        return (_rebuild_error, (self.code, self.problem, fields))


def _rebuild_error(code: FileCode, problem: str, fields: dict[str, Any]) -> PolicyFileError:
    return PolicyFileError(code, problem, **fields)


class Kind(enum.Enum):
    """The kinds of value a policy setting takes, and how each is written in TOML."""

    TEXT = "text"
    WHOLE = "whole number"
    SWITCH = "true or false"
    DURATION = "duration"
    CATEGORIES = "list of offence categories"
    LEVEL = "practitioner level"
    CHOICE = "choice"


@attrs.frozen
class Setting:
    """One key a policy file may set: its kind, the allowed words for a ``CHOICE``, its
    documentation (with its source) and its default as JSON data."""

    kind: Kind
    doc: str = ""
    choices: tuple[str, ...] = ()
    default: Any = None
    #: The smallest whole number allowed (``WHOLE`` settings).
    minimum: int = 0


@attrs.frozen
class RawPolicyFile:
    """A policy file read and checked: ``values`` (setting → Python value, ready for
    ``Policy(**values)``), the ``lines`` each key stands on, and the ``file`` as given."""

    file: str
    values: Mapping[str, Any]
    lines: Mapping[str, int]


_TOML_TYPES: dict[type, str] = {
    str: "text",
    bool: "true or false",
    int: "a whole number",
    float: "a decimal number",
    list: "a list",
    dict: "a table",
}


def _kind_of(value: object) -> str:
    """The TOML kind of ``value``, for messages: never the value itself."""
    for python_type, name in _TOML_TYPES.items():
        if type(value) is python_type:
            return name
    return "a date or time"


_LEVELS = tuple(level.label for level in PractitionerLevel)
_CATEGORIES = tuple(c.value for c in OffenceCategory)


def read(path: str | os.PathLike[str], settings: Mapping[str, Setting]) -> RawPolicyFile:
    """Read the policy file at ``path`` and check every key against ``settings``.

    Returns the values converted for ``Policy`` (durations as ``timedelta``, categories as
    frozensets of :class:`~rjflow.OffenceCategory`, levels as
    :class:`~rjflow.PractitionerLevel`).  Raises :class:`PolicyFileError` for a file that is
    not TOML or holds a bad key or value, :class:`~rjflow.SourceUnavailable` (an ``OSError``)
    when the file cannot be read, and :class:`~rjflow.InvalidInput` for a ``path`` that is no
    path.
    """
    try:
        file = os.fspath(path)
    except TypeError:
        file = None
    if not isinstance(file, str) or "\x00" in file:
        raise InvalidInput(
            f"'path' must be a file path, as text or a pathlib.Path (got {type(path).__name__})."
        )
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise SourceUnavailable.reading("The policy file", exc, file) from None
    try:
        document, text = _toml.parse(data)
    except _toml.TomlFault as fault:
        column = f" near column {fault.column}" if fault.column else ""
        problem = {
            "encoding": "is not UTF-8 text; save it as UTF-8.",
            "twice": "sets a key that an earlier line already set; keep one of the two lines.",
        }.get(
            fault.kind,
            f"is not valid TOML{column}; write each setting as key = value "
            "(see docs/configuring.md).",
        )
        raise PolicyFileError(FileCode.NOT_TOML, problem, file=file, line=fault.line) from None
    lines = _key_lines(text)
    values: dict[str, Any] = {}
    problems: list[PolicyFileError] = []
    for key, value in document.items():
        try:
            values[key] = _setting(key, value, settings, file=file, line=lines.get(key))
        except PolicyFileError as exc:
            problems.append(exc)
    values.pop(FORMAT_KEY, None)
    if problems:
        first = problems[0]
        raise PolicyFileError(
            first.code,
            first.problem,
            file=file,
            key=first.key,
            line=first.line,
            also=tuple(problems[1:]),
        )
    return RawPolicyFile(file, MappingProxyType(values), MappingProxyType(lines))


def _setting(
    key: str, value: object, settings: Mapping[str, Setting], *, file: str, line: int | None
) -> Any:
    """One key of the file checked and its value converted (the format key's value as is);
    PolicyFileError for a key that is no setting or a value it does not take."""
    if key == FORMAT_KEY:
        if type(value) is not int or value != _FORMAT:
            raise PolicyFileError(
                FileCode.INVALID_VALUE,
                f"the file format version must be {_FORMAT} (the only one this release "
                "reads); remove the key or set it to 1.",
                file=file,
                key=key,
                line=line,
            )
        return value
    setting = settings.get(key)
    if setting is None:
        # A misspelt setting is the usual cause: name the one it is closest to (a name of
        # ours, never the key itself, which may be anyone's text).
        close = difflib.get_close_matches(key, [*settings, FORMAT_KEY], n=1, cutoff=0.8)
        guess = f" (did you mean {close[0]}?)" if close else ""
        # The key itself is not kept or shown (it is no setting, so it may be anyone's
        # text): the line says where it is.
        raise PolicyFileError(
            FileCode.UNKNOWN_KEY,
            f"this key is not a policy setting{guess}; the settings are: "
            f"{', '.join(sorted(settings))} (and {FORMAT_KEY}).",
            file=file,
            line=line,
        )
    return _convert(setting, value, file=file, key=key, line=line)


def _key_lines(text: str) -> dict[str, int]:
    """The line each top-level ``key = value`` starts on (the parser gives no positions)."""
    found: dict[str, int] = {}
    # A key's first part: ``key =``, or ``key.sub =`` (a dotted key makes a table).
    pattern = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*[=.]""")
    header = re.compile(r"""\s*\[+\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))""")
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("["):
            # A table header: keys below it are not top-level settings, but the table's own
            # name is a top-level key (no setting is a table), found on this line.
            match = header.match(line)
            if match:
                found.setdefault(next(g for g in match.groups() if g is not None), number)
            break
        match = pattern.match(line)
        if match:
            key = next(g for g in match.groups() if g is not None)
            found.setdefault(key, number)
    return found


def _convert(setting: Setting, value: object, *, file: str, key: str, line: int | None) -> Any:
    def fail(code: FileCode, problem: str) -> PolicyFileError:
        return PolicyFileError(code, problem, file=file, key=key, line=line)

    def wrong(expected: str) -> PolicyFileError:
        return fail(FileCode.WRONG_TYPE, f"must be {expected} (got {_kind_of(value)}).")

    kind = setting.kind
    if kind is Kind.TEXT:
        if type(value) is not str:
            raise wrong("text in quotes")
        return value
    if kind is Kind.WHOLE:
        if type(value) is not int:
            raise wrong("a whole number, without quotes")
        return value
    if kind is Kind.SWITCH:
        if type(value) is not bool:
            raise wrong("true or false, without quotes")
        return value
    if kind is Kind.DURATION:
        return _duration(value, fail, wrong)
    if kind is Kind.CATEGORIES:
        return _categories(value, fail, wrong)
    if kind is Kind.LEVEL:
        return _level(value, fail, wrong)
    if type(value) is not str:
        raise wrong(f"one of {', '.join(map(repr, setting.choices))}")
    if value not in setting.choices:
        raise fail(
            FileCode.UNKNOWN_CHOICE,
            f"must be one of {', '.join(map(repr, setting.choices))} (got other text).",
        )
    return value


def _duration(value: object, fail: Any, wrong: Any) -> timedelta:
    example = "a table of whole units such as { days = 90 } or { hours = 3 }"
    if type(value) is not dict:
        raise wrong(example)
    if not value:
        raise fail(FileCode.INVALID_VALUE, f"is an empty table; give {example}.")
    parts: dict[str, int] = {}
    for unit, amount in value.items():
        if unit not in DURATION_UNITS:
            raise fail(
                FileCode.UNKNOWN_KEY,
                f"holds a unit that is not one of {', '.join(DURATION_UNITS)}.",
            )
        if type(amount) is not int or amount < 0:
            raise fail(
                FileCode.WRONG_TYPE,
                f"'{unit}' must be a whole number of 0 or more, without quotes (got "
                f"{amount if type(amount) is int else _kind_of(amount)}).",
            )
        parts[unit] = amount
    try:
        return timedelta(**parts)
    except OverflowError:
        raise fail(FileCode.INVALID_VALUE, "is too long a duration.") from None


def _categories(value: object, fail: Any, wrong: Any) -> frozenset[OffenceCategory]:
    if type(value) is not list:
        raise wrong('a list of offence categories, such as ["violence"] (or [] for none)')
    members: list[OffenceCategory] = []
    for index, item in enumerate(value, 1):
        if type(item) is not str:
            raise fail(
                FileCode.WRONG_TYPE,
                f"item {index} must be an offence category in quotes (got {_kind_of(item)}).",
            )
        if item not in _CATEGORIES:
            raise fail(
                FileCode.UNKNOWN_CATEGORY,
                f"item {index} is not an offence category; the categories are: "
                f"{', '.join(_CATEGORIES)}.",
            )
        member = OffenceCategory(item)
        if member in members:
            raise fail(
                FileCode.INVALID_VALUE, f"item {index} ({item}) is listed twice; list it once."
            )
        members.append(member)
    return frozenset(members)


def _level(value: object, fail: Any, wrong: Any) -> PractitionerLevel:
    allowed = f"one of {', '.join(map(repr, _LEVELS))} (or 1, 2, 3)"
    if type(value) is int:
        if value < PractitionerLevel.FOUNDATION:
            raise fail(
                FileCode.LEVEL_BELOW_FOUNDATION,
                f"is {value}, below foundation (1), the lowest level; give {allowed}.",
            )
        if value > PractitionerLevel.ADVANCED:
            raise fail(
                FileCode.LEVEL_ABOVE_ADVANCED,
                f"is {value}, above advanced (3), the highest level: no practitioner could "
                f"ever qualify; give {allowed}.",
            )
        return PractitionerLevel(value)
    if type(value) is not str:
        raise wrong(allowed)
    if value not in _LEVELS:
        raise fail(FileCode.UNKNOWN_CHOICE, f"must be {allowed} (got other text).")
    return PractitionerLevel[value.upper()]


def json_schema(settings: Mapping[str, Setting]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy file with these settings, as JSON data
    (TOML's data model is JSON's plus dates; a policy file holds no dates)."""
    properties: dict[str, Any] = {
        FORMAT_KEY: {"description": "The file format's version (optional).", "const": _FORMAT}
    }
    for key, setting in sorted(settings.items()):
        schema = _schema_of(setting)
        schema["description"] = _plain(setting.doc)
        if setting.default is not None:
            schema["default"] = setting.default
        properties[key] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.invalid/rjflow/schema/policy-v1.json",
        "title": "rjflow policy file",
        "description": (
            "A service's restorative justice policy (rjflow.Policy) as TOML: every key is "
            "optional and defaults to London CRC's programme."
        ),
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def _plain(doc: str) -> str:
    return " ".join(doc.replace("``", "").replace("**", "").split())


def _schema_of(setting: Setting) -> dict[str, Any]:
    kind = setting.kind
    if kind is Kind.TEXT:
        return {"type": "string", "minLength": 1, "maxLength": 200}
    if kind is Kind.WHOLE:
        return {"type": "integer", "minimum": setting.minimum}
    if kind is Kind.SWITCH:
        return {"type": "boolean"}
    if kind is Kind.DURATION:
        return {
            "type": "object",
            "properties": {unit: {"type": "integer", "minimum": 0} for unit in DURATION_UNITS},
            "additionalProperties": False,
            "minProperties": 1,
        }
    if kind is Kind.CATEGORIES:
        return {"type": "array", "items": {"enum": list(_CATEGORIES)}, "uniqueItems": True}
    if kind is Kind.LEVEL:
        return {
            "oneOf": [
                {"enum": list(_LEVELS)},
                {"type": "integer", "minimum": 1, "maximum": len(_LEVELS)},
            ]
        }
    return {"enum": list(setting.choices)}


def to_toml(values: Mapping[str, Any], comments: Mapping[str, str] | None = None) -> str:
    """``values`` (file data: text, whole numbers, switches, lists of text, duration tables)
    as TOML, one ``key = value`` a line, each followed by its comment from ``comments``.

    >>> print(to_toml({"max_sessions": 8, "max_session_length": {"hours": 2}}), end="")
    max_sessions = 8
    max_session_length = { hours = 2 }
    """
    lines = []
    for key, value in values.items():
        comment = (comments or {}).get(key)
        line = f"{_toml_key(key)} = {_toml_value(value)}"
        lines.append(f"{line}  # {comment}" if comment else line)
    return "\n".join(lines) + "\n"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")
