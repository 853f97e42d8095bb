"""Saving and loading cases: the history is the document.

A saved case is its events and nothing the events do not already say::

    {"schema_version": 1, "case_id": "RJ-1", "state": "review", "version": 19,
     "events": [{"sequence": 1, "at": "2026-03-02T09:00:00+00:00", "actor": "M1",
                 "action": "open_case", "data": {...}, "from_state": null,
                 "to_state": "referred", "previous_hash": "000...", "hash": "9f2..."}, ...]}

Loading verifies the hash chain, then *replays* every event through the same rules that
accepted it, so a document that was tampered with, or that the rules would have refused,
never becomes a case.  ``state`` and ``version`` are there for people and queries, and are
checked against the replay.  The JSON Schema is shipped as ``rjflow/schema/case-v1.json``.

>>> from rjflow.demo import build_demo_case
>>> from rjflow.serialization import dumps, loads
>>> case = build_demo_case()
>>> loads(dumps(case)) == case
True
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from rjflow._convert import structure, unstructure
from rjflow.case import OPEN_ACTION, Case
from rjflow.commands import Input, OpenCase
from rjflow.errors import ActionRefused, InvalidDocument, InvalidInput, UnknownAction
from rjflow.history import Event, verify_chain
from rjflow.policy import LONDON_CRC, Policy

__all__ = [
    "SCHEMA_VERSION",
    "LineProblem",
    "LoadReport",
    "dumps",
    "from_dict",
    "json_schema",
    "load_jsonl",
    "loads",
    "replay",
    "to_dict",
]

#: The version of the saved-case format this release writes and reads.
SCHEMA_VERSION = 1

_TOP_KEYS = frozenset({"schema_version", "case_id", "state", "version", "events"})


def to_dict(case: Case) -> dict[str, Any]:
    """The case as plain JSON data (see the module docstring for the format)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "case_id": case.case_id,
        "state": case.state.value,
        "version": case.version,
        "events": [unstructure(e, Event) for e in case.history],
    }


def dumps(case: Case, *, indent: int | None = None) -> str:
    """The case as JSON text."""
    return json.dumps(to_dict(case), ensure_ascii=False, indent=indent, allow_nan=False)


def replay(events: Sequence[Event], *, policy: Policy = LONDON_CRC) -> Case:
    """Rebuild a case from its events alone, checking the chain and every rule again.

    Raises :class:`~rjflow.HistoryTampered` when the chain does not verify, and
    :class:`~rjflow.InvalidDocument` naming the first event the rules refuse.
    """
    verify_chain(events)
    if not events:
        raise InvalidDocument("A case history needs at least its opening event.", path="events")
    first = events[0]
    if first.action != OPEN_ACTION:
        raise InvalidDocument(
            f"A case history starts with {OPEN_ACTION!r}, not {first.action!r}.",
            path="events[0].action",
            sequence=1,
        )
    data = dict(first.data)
    case_id = data.pop("case_id", None)
    if not isinstance(case_id, str):
        raise InvalidDocument(
            "The opening event does not name its case id.", path="events[0].data", sequence=1
        )
    try:
        case = Case._opened(
            case_id, structure(data, OpenCase, "events[0].data"), first.at, first.actor, policy
        )
    except InvalidInput as exc:
        raise InvalidDocument(f"events[0]: {exc}", path="events[0]", sequence=1) from None
    _check_same(case.history[0], first, 0)
    for index, stored in enumerate(events[1:], start=1):
        where = f"events[{index}]"
        try:
            action = case.workflow.action(stored.action)
        except UnknownAction as exc:
            raise InvalidDocument(
                f"{where}.action: {exc}", path=f"{where}.action", sequence=index + 1
            ) from None
        inp: Input = structure(stored.data, action.input, f"{where}.data")
        try:
            produced = case._perform(action, inp, stored.at, stored.actor, stored)
        except ActionRefused as refused:
            raise InvalidDocument(
                f"{where}: the programme's rules refuse this event ({', '.join(refused.codes)}); "
                "the history cannot have been produced by rjflow under this policy.",
                path=where,
                sequence=index + 1,
            ) from None
        except InvalidInput as exc:
            raise InvalidDocument(f"{where}: {exc}", path=where, sequence=index + 1) from None
        _check_same(produced, stored, index)
    return case


def _check_same(produced: Event, stored: Event, index: int) -> None:
    if produced.hash != stored.hash:
        raise InvalidDocument(
            f"events[{index}] does not match what the rules produce from it (its stages or "
            "data differ); the history was altered or written by other software.",
            path=f"events[{index}]",
            sequence=index + 1,
        )


def from_dict(data: Mapping[str, Any], *, policy: Policy = LONDON_CRC) -> Case:
    """Load a case from plain JSON data; never returns a partly built case."""
    if not isinstance(data, Mapping):
        raise InvalidDocument(
            f"A saved case must be a JSON object (got {type(data).__name__}).", path="$"
        )
    version = data.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise InvalidDocument(
            f"schema_version {version!r} is not one this release reads (it reads "
            f"{SCHEMA_VERSION}); upgrade rjflow or convert the document.",
            path="schema_version",
        )
    extra = set(data) - _TOP_KEYS
    missing = _TOP_KEYS - set(data)
    if extra or missing:
        raise InvalidDocument(
            "A saved case has exactly the fields "
            f"{', '.join(sorted(_TOP_KEYS))}; "
            + (f"unknown: {', '.join(sorted(map(str, extra)))}. " if extra else "")
            + (f"missing: {', '.join(sorted(missing))}." if missing else ""),
            path="$",
        )
    raw_events = data["events"]
    if not isinstance(raw_events, list):
        raise InvalidDocument("'events' must be a list of events.", path="events")
    events = [structure(e, Event, f"events[{i}]") for i, e in enumerate(raw_events)]
    case = replay(events, policy=policy)
    for key, actual in (
        ("case_id", case.case_id),
        ("state", case.state.value),
        ("version", case.version),
    ):
        if type(data[key]) is not type(actual) or data[key] != actual:
            raise InvalidDocument(
                f"{key!r} says {data[key]!r} but the history gives {actual!r}; the document was "
                "altered.",
                path=key,
            )
    return case


def loads(text: str | bytes, *, policy: Policy = LONDON_CRC) -> Case:
    """Load a case from JSON text."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidDocument(f"The text is not valid JSON: {exc}.", path="$") from None
    return from_dict(data, policy=policy)


@attrs.frozen
class LineProblem:
    """One line of a JSON Lines file that could not be loaded."""

    line: int
    message: str
    sequence: int | None = None


@attrs.frozen
class LoadReport:
    """The cases that loaded, and every line that did not, by line number."""

    cases: tuple[Case, ...]
    problems: tuple[LineProblem, ...]

    @property
    def ok(self) -> bool:
        """True when every non-blank line loaded."""
        return not self.problems


def load_jsonl(source: str | Path | Iterable[str], *, policy: Policy = LONDON_CRC) -> LoadReport:
    """Load every case of a JSON Lines file (a path, or an iterable of lines).

    Good lines become cases; each bad line is reported with its number and what is wrong;
    blank lines are skipped.
    """
    if isinstance(source, str | Path):
        with Path(source).open(encoding="utf-8") as handle:
            return load_jsonl(list(handle), policy=policy)
    cases: list[Case] = []
    problems: list[LineProblem] = []
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            cases.append(loads(line, policy=policy))
        except InvalidDocument as exc:
            problems.append(LineProblem(number, str(exc), exc.sequence))
    return LoadReport(tuple(cases), tuple(problems))


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a saved case, as shipped in the package."""
    text = resources.files("rjflow").joinpath("schema/case-v1.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
