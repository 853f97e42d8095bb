"""A case as a store's rows, and back: event rows, free-text rows, seals, and the errors a
stored row can raise.  Shared by every backend (see :mod:`rjflow._eventstore`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rjflow import _reader
from rjflow._convert import structure
from rjflow._validate import _check_id
from rjflow.case import Case
from rjflow.errors import (
    CaseExists,
    ConcurrencyConflict,
    CorruptRecord,
    InvalidDocument,
    InvalidInput,
    RJFlowError,
)
from rjflow.freetext import ERASE_ACTION, erasure_targets
from rjflow.history import Event, canonical_json
from rjflow.integrity import Keyring, integrity_mac
from rjflow.serialization import _check_integrity, migrated_from

__all__ = [
    "check_case",
    "check_seal",
    "conflict",
    "event",
    "events",
    "not_this_case",
    "opened_case_id",
    "rows",
    "seal_row",
    "shown_version",
    "text_rows",
    "valid_id",
    "version_error",
]


#: How an event's data is kept: ``json.dumps(data, ensure_ascii=False, sort_keys=True)``,
#: with the encoder made once rather than at every call.
_DATA_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def rows(case: Case, after: int) -> list[tuple[object, ...]]:
    """The case's events after version ``after`` as rows of ``rjflow_events``."""
    case_id = case.case_id
    return [
        (
            case_id,
            e.sequence,
            e.at.isoformat(),
            e.actor,
            e.action,
            _DATA_JSON(e.data),
            e.from_state,
            e.to_state,
            e.previous_hash,
            e.hash,
            e.occurred_at.isoformat() if e.occurred_at is not None else None,
        )
        for e in case.history[after:]
    ]


def opened_case_id(data: object) -> object:
    """The case id an opening event's stored data names, or None when it cannot be read
    (that fault is reported by load, naming the row)."""
    try:
        parsed = _reader.parse(data) if isinstance(data, str) else None
    except InvalidDocument:
        return None
    return parsed.get("case_id") if isinstance(parsed, dict) else None


def not_this_case(case_id: str) -> CorruptRecord:
    return CorruptRecord(
        f"Stored case {case_id} holds the history of a different case; the database was "
        "changed outside rjflow. Restore the case from a backup.",
        case_id=case_id,
        path="events[0]",
        sequence=1,
    )


def check_case(case: object) -> None:
    if not isinstance(case, Case):
        raise InvalidInput(f"'case' must be a rjflow Case (got {type(case).__name__}).")


def valid_id(case_id: object) -> None:
    """Refuse, without repeating it, anything but an opaque id matched in full."""
    _check_id("case_id", case_id)


def conflict(
    case_id: str, expected_version: int, stored_version: int, *, diverged: bool = False
) -> ConcurrencyConflict:
    """The conflict to raise; ``diverged``: the store holds as many events as expected, but
    its history is not this copy's (another writer saved a different change)."""
    if expected_version == 0 and stored_version > 0:
        return CaseExists(case_id, stored_version)
    conflict = ConcurrencyConflict(case_id, expected_version, stored_version)
    if diverged:
        conflict.args = (
            f"Case {case_id} was changed by someone else: the store also holds version "
            f"{stored_version}, but its history differs from this copy's (another writer saved "
            "a different change at that version). Nothing was saved; load the case again, "
            "repeat the change and save again.",
        )
    return conflict


def shown_version(found: object) -> str:
    """A stored schema version fit to show (digits only), or ``?``."""
    return str(found) if isinstance(found, str) and found.isdigit() and len(found) < 6 else "?"


def version_error(found: object, current: int, oldest_migrated: int) -> RJFlowError:
    """The store's schema version is neither current nor one this release migrates."""
    shown = shown_version(found)
    older = shown.isdigit() and int(shown) < oldest_migrated
    return RJFlowError(
        f"The store has schema version {shown}; this release reads {current}"
        + (f" and migrates {oldest_migrated}. " if oldest_migrated < current else ". ")
        + (
            "Move its cases with the release that wrote it (load each case, save it "
            "with rjflow.serialization.dumps) and load those documents here."
            if older
            else "Upgrade rjflow to open it."
        )
    )


def events(
    case_id: str, rows: Sequence[Sequence[Any]], text_rows: Sequence[Sequence[Any]]
) -> list[Event]:
    """A case's event rows and text rows as its events, oldest first (not verified)."""
    texts: dict[int, dict[str, dict[str, str]]] = {}
    for seq, pointer, salt, text in text_rows:
        texts.setdefault(seq, {})[pointer] = {"salt": salt, "text": text}
    return [event(case_id, index, tuple(row), texts) for index, row in enumerate(rows)]


def event(
    case_id: str, index: int, row: tuple[Any, ...], texts: dict[int, dict[str, dict[str, str]]]
) -> Event:
    """One stored row as an Event; any fault is a CorruptRecord naming the case and event."""
    seq, at, actor, action, data, from_state, to_state, prev, digest, occurred = row
    sequence = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
    path = f"events[{index}]"

    def corrupt(where: str, what: str) -> CorruptRecord:
        event = f"event {sequence}" if sequence is not None else f"row {index + 1}"
        return CorruptRecord(
            f"Stored case {case_id}, {event}, cannot be read as an event ({what}); the database "
            "was changed outside rjflow. Restore the case from a backup.",
            case_id=case_id,
            path=where,
            sequence=sequence,
        )

    try:
        parsed = _reader.parse(data) if isinstance(data, str) else None
    except InvalidDocument:
        parsed = None
    if not isinstance(parsed, dict):
        raise corrupt(f"{path}.data", "its data is not a JSON object")
    raw = {
        "sequence": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "data": parsed,
        "from_state": from_state,
        "to_state": to_state,
        "previous_hash": prev,
        "hash": digest,
        "texts": texts.get(seq, {}) if isinstance(seq, int) else {},
    }
    if occurred is not None:
        raw["occurred_at"] = occurred
    try:
        return structure(raw, Event, path)
    except InvalidDocument as exc:
        where = exc.path or path
        raise corrupt(where, f"at {where}") from None


def text_rows(
    case: Case, expected_version: int
) -> tuple[list[tuple[str, int, str, str, str]], list[tuple[str, int, str]]]:
    """The free-text rows the events after ``expected_version`` add, and the rows their
    erasure events delete."""
    added = []
    deleted = []
    for e in case.history[expected_version:]:
        added += [(case.case_id, e.sequence, p, t.salt, t.text) for p, t in e.texts.items()]
        if e.action == ERASE_ACTION:
            deleted += [(case.case_id, seq, p) for seq, p in erasure_targets(e)]
    return added, deleted


def seal_row(keyring: Keyring | None, case: Case) -> tuple[str, str, int, str, str] | None:
    """The integrity row for the case's head under the keyring's current key, or None."""
    if keyring is None:
        return None
    head = case.history[-1].hash
    key_id = keyring.current
    provenance = migrated_from(case)
    mac = integrity_mac(
        keyring,
        key_id,
        case_id=case.case_id,
        version=case.version,
        head=head,
        migrated_from=canonical_json(provenance) if provenance is not None else "-",
    )
    return (case.case_id, key_id, case.version, head, mac)


def check_seal(
    rows: Sequence[Sequence[Any]],
    keyring: Keyring,
    case_id: str,
    events: list[Event],
    *,
    provenance: Mapping[str, Any] | None,
) -> None:
    """Require and check the stored integrity seal of ``case_id`` (IntegrityError); ``rows``:
    what GET_INTEGRITY read (no row, or one)."""
    seal = (
        dict(zip(("key_id", "case_id", "version", "head", "mac"), rows[0], strict=True))
        if rows
        else None
    )
    document = {
        "case_id": case_id,
        **({"integrity": seal} if seal is not None else {}),
        **({"migrated_from": dict(provenance)} if provenance is not None else {}),
    }
    _check_integrity(document, events, keyring)
