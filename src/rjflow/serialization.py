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

**Sealed snapshots** (opt-in, for loading many cases fast): saved with a secret ``seal_key``,
the document also carries the case record and an HMAC-SHA256 seal binding that record to the
last event's hash and to the policy.  Loaded with the same key, the chain is verified and the
sealed record is used instead of replaying the history; without the key the snapshot is
ignored and the history is replayed as always.

>>> key = b"a secret of 16 bytes or more, from the app"
>>> loads(dumps(case, seal_key=key), seal_key=key) == case
True
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from rjflow._convert import structure, unstructure
from rjflow.case import OPEN_ACTION, Case
from rjflow.commands import Input, OpenCase
from rjflow.errors import ActionRefused, InvalidDocument, InvalidInput, UnknownAction
from rjflow.history import Event, canonical_json, verify_chain
from rjflow.policy import LONDON_CRC, Policy
from rjflow.record import CaseRecord
from rjflow.workflow import Workflow

__all__ = [
    "MIN_SEAL_KEY_BYTES",
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
_OPTIONAL_KEYS = frozenset({"snapshot"})
_SNAPSHOT_KEYS = frozenset({"record", "seal"})

_HEX64 = re.compile(r"[0-9a-f]{64}")

_RESEAL = "Load the case without seal_key to rebuild it from its history, then save it again."

#: The shortest seal key accepted, in bytes (HMAC-SHA256 keys should be 32 random bytes).
MIN_SEAL_KEY_BYTES = 16


def to_dict(case: Case, *, seal_key: bytes | None = None) -> dict[str, Any]:
    """The case as plain JSON data (see the module docstring for the format).

    With ``seal_key``, the document also holds a sealed snapshot of the case record.
    """
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "case_id": case.case_id,
        "state": case.state.value,
        "version": case.version,
        "events": [unstructure(e, Event) for e in case.history],
    }
    if seal_key is not None:
        key = _checked_key(seal_key)
        record = unstructure(case.record, CaseRecord)
        seal = _seal(key, case.policy, case.history[-1].hash, canonical_json(record))
        data["snapshot"] = {"record": record, "seal": seal}
    return data


def dumps(case: Case, *, indent: int | None = None, seal_key: bytes | None = None) -> str:
    """The case as JSON text; with ``seal_key``, with a sealed snapshot (see the module
    docstring)."""
    return json.dumps(
        to_dict(case, seal_key=seal_key), ensure_ascii=False, indent=indent, allow_nan=False
    )


def _checked_key(key: object) -> bytes:
    if not isinstance(key, bytes) or len(key) < MIN_SEAL_KEY_BYTES:
        raise InvalidInput(
            f"seal_key must be a secret of at least {MIN_SEAL_KEY_BYTES} bytes (got "
            f"{'a shorter one' if isinstance(key, bytes) else type(key).__name__}); use 32 "
            "random bytes kept with your application's other secrets."
        )
    return key


@functools.lru_cache(maxsize=64)
def _fingerprint(policy: Policy) -> str:
    """SHA-256 of the policy's canonical JSON: a sealed record is only good under the policy
    that judged it."""
    return hashlib.sha256(canonical_json(unstructure(policy, Policy)).encode()).hexdigest()


def _seal(key: bytes, policy: Policy, last_hash: str, record_text: str) -> str:
    message = f"rjflow sealed snapshot 1\n{_fingerprint(policy)}\n{last_hash}\n{record_text}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _verify_history(events: Sequence[Event]) -> None:
    """The chain verifies and holds at least the opening event (both ways of loading)."""
    verify_chain(events)
    if not events:
        raise InvalidDocument("A case history needs at least its opening event.", path="events")


def _from_snapshot(
    events: Sequence[Event], snapshot: object, policy: Policy, seal_key: bytes
) -> Case:
    """The case from its sealed record, after verifying the chain and the seal."""
    _verify_history(events)
    if not isinstance(snapshot, Mapping) or set(snapshot) != _SNAPSHOT_KEYS:
        raise InvalidDocument(
            "'snapshot' must be an object with exactly the fields record and seal.",
            path="snapshot",
        )
    raw, seal = snapshot["record"], snapshot["seal"]
    if not isinstance(raw, dict) or not isinstance(seal, str):
        raise InvalidDocument(
            "'snapshot' holds the record as an object and the seal as text.", path="snapshot"
        )
    if not _HEX64.fullmatch(seal):
        raise InvalidDocument(
            "The snapshot's seal is not 64 lowercase hexadecimal digits; it was altered. "
            + _RESEAL,
            path="snapshot.seal",
        )
    try:
        text = canonical_json(raw)
    except (TypeError, ValueError):
        raise InvalidDocument(
            "The snapshot's record is not plain JSON data.", path="snapshot.record"
        ) from None
    if not hmac.compare_digest(_seal(seal_key, policy, events[-1].hash, text), seal):
        raise InvalidDocument(
            "The snapshot's seal does not match its record, the history and this policy: the "
            "snapshot was altered, or sealed with another key or under another policy. " + _RESEAL,
            path="snapshot.seal",
        )
    record = structure(raw, CaseRecord, "snapshot.record")
    if record.version != len(events):
        raise InvalidDocument(  # a seal is only made for a record and its own history
            f"The sealed record is at version {record.version} but the history has "
            f"{len(events)} events.",
            path="snapshot.record.version",
        )
    return Case(record, list(events), Workflow.for_policy(policy))


def replay(events: Sequence[Event], *, policy: Policy = LONDON_CRC) -> Case:
    """Rebuild a case from its events alone, checking the chain and every rule again.

    Raises :class:`~rjflow.HistoryTampered` when the chain does not verify, and
    :class:`~rjflow.InvalidDocument` naming the first event the rules refuse.
    """
    _verify_history(events)
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
            produced = case._perform(
                action, inp, stored.at, stored.actor, stored, occurred_at=stored.occurred_at
            )
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


def from_dict(
    data: Mapping[str, Any], *, policy: Policy = LONDON_CRC, seal_key: bytes | None = None
) -> Case:
    """Load a case from plain JSON data; never returns a partly built case.

    With ``seal_key`` and a sealed snapshot in the document, the chain and the seal are
    verified and the sealed record is used instead of replaying the history.
    """
    if seal_key is not None:
        _checked_key(seal_key)  # a misconfigured key is reported whether or not it is needed
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
    extra = set(data) - _TOP_KEYS - _OPTIONAL_KEYS
    missing = _TOP_KEYS - set(data)
    if extra or missing:
        raise InvalidDocument(
            "A saved case has exactly the fields "
            f"{', '.join(sorted(_TOP_KEYS))} (and optionally snapshot); "
            + (f"unknown: {', '.join(sorted(map(str, extra)))}. " if extra else "")
            + (f"missing: {', '.join(sorted(missing))}." if missing else ""),
            path="$",
        )
    raw_events = data["events"]
    if not isinstance(raw_events, list):
        raise InvalidDocument("'events' must be a list of events.", path="events")
    events = [structure(e, Event, f"events[{i}]") for i, e in enumerate(raw_events)]
    if seal_key is not None and "snapshot" in data:
        case = _from_snapshot(events, data["snapshot"], policy, seal_key)
    else:
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


def loads(text: str | bytes, *, policy: Policy = LONDON_CRC, seal_key: bytes | None = None) -> Case:
    """Load a case from JSON text (``seal_key``: see :func:`from_dict`)."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidDocument(f"The text is not valid JSON: {exc}.", path="$") from None
    return from_dict(data, policy=policy, seal_key=seal_key)


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


def load_jsonl(
    source: str | Path | Iterable[str],
    *,
    policy: Policy = LONDON_CRC,
    seal_key: bytes | None = None,
) -> LoadReport:
    """Load every case of a JSON Lines file (a path, or an iterable of lines).

    Good lines become cases; each bad line is reported with its number and what is wrong;
    blank lines are skipped.  ``seal_key``: see :func:`from_dict`.
    """
    if isinstance(source, str | Path):
        with Path(source).open(encoding="utf-8") as handle:
            return load_jsonl(list(handle), policy=policy, seal_key=seal_key)
    cases: list[Case] = []
    problems: list[LineProblem] = []
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            cases.append(loads(line, policy=policy, seal_key=seal_key))
        except InvalidDocument as exc:
            problems.append(LineProblem(number, str(exc), exc.sequence))
    return LoadReport(tuple(cases), tuple(problems))


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a saved case, as shipped in the package."""
    text = resources.files("rjflow").joinpath("schema/case-v1.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
