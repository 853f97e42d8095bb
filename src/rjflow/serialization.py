"""Saving and loading cases: the history is the document.

A saved case is its events and nothing the events do not already say::

    {"schema_version": 2, "case_id": "RJ-1", "state": "review", "version": 19,
     "events": [{"sequence": 1, "at": "2026-03-02T09:00:00+00:00", "actor": "M1",
                 "action": "open_case", "data": {...}, "from_state": null,
                 "to_state": "referred", "previous_hash": "000...", "hash": "9f2...",
                 "texts": {}}, ...],
     "integrity": {...}}                      # only when saved with a keyring

Loading verifies the hash chain, checks every free text against its commitment, then
*replays* every event through the same rules that accepted it, so a document that was
tampered with, or that the rules would have refused, never becomes a case.  ``state`` and
``version`` are there for people and queries, and are checked against the replay.  The JSON
Schema is shipped as ``rjflow/schema/case-v2.json``; documents of schema 1 (the previous
release) still load (see :mod:`rjflow._upcast`).

>>> from rjflow.demo import build_demo_case
>>> from rjflow.serialization import dumps, loads
>>> case = build_demo_case()
>>> loads(dumps(case)) == case
True

**Free text** (a closure note, what an agreement action says) is not hashed: an event's
``data`` holds a salted commitment ``{"$text": "<hex>"}`` and the text sits in the event's
``texts`` (see :mod:`rjflow.freetext`), so it can be erased (:func:`rjflow.erase_free_text`)
without breaking the chain.

**Keyed integrity** (opt-in, see :mod:`rjflow.integrity`): saved with the application's
:class:`~rjflow.Keyring`, the document carries an ``integrity`` object — key id, case id,
version, head hash and an HMAC-SHA256 over them.  A load given the keyring *requires* it, so
edits (even with every hash recomputed), removed newest events and a removed seal are
detected.  Without a keyring the chain alone detects accidental corruption and naive edits,
not a forger who recomputes the hashes, nor the loss of the newest events.

>>> from rjflow.integrity import Keyring
>>> ring = Keyring({"2026-11": b"a secret of 16 bytes or more, from the app"}, current="2026-11")
>>> loads(dumps(case, keyring=ring), keyring=ring) == case
True

**Sealed snapshots** (for loading many cases fast): saved with a keyring and
``snapshot=True``, the document also carries the case record, sealed under the same key to
the head and the policy.  Loaded with the keyring, the chain, texts, integrity and seal are
verified and the sealed record is used instead of replaying the history; without the keyring
the snapshot is ignored and the history is replayed as always.

>>> loads(dumps(case, keyring=ring, snapshot=True), keyring=ring) == case
True

``seal_key=`` (the previous release's sealed snapshots) is a deprecated alias of a one-key
keyring with ``snapshot=True``; it will warn in the next release and go in the one after.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from rjflow import _reader
from rjflow._convert import structure, unstructure
from rjflow._frozen import freeze, frozen_texts
from rjflow._upcast import READERS, Provenance, upcast
from rjflow._validate import _check_id, aware_datetime, collection, is_id, of_type, shown
from rjflow.case import OPEN_ACTION, Case
from rjflow.commands import Input, OpenCase
from rjflow.errors import (
    ActionRefused,
    HistoryTampered,
    IntegrityError,
    InvalidDocument,
    InvalidInput,
    PolicyChanged,
    PolicyMismatch,
    SourceUnavailable,
    UnknownAction,
)
from rjflow.freetext import ERASE_ACTION, positions_match, reveal, verify_texts
from rjflow.history import Event, FreeText, canonical_json, share_repeats, verify_chain
from rjflow.integrity import MIN_KEY_BYTES, Keyring, integrity_mac, snapshot_seal
from rjflow.policy import LONDON_CRC, SCHEDULING_FIELDS, Policy
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
    "migrated_from",
    "replay",
    "sealed_history",
    "to_dict",
]

#: The version of the saved-case format this release writes (it also reads every earlier one).
SCHEMA_VERSION = 2
_MAX_INDENT = 16  # the widest indent dumps accepts, in spaces per level

_TOP_KEYS = frozenset({"schema_version", "case_id", "state", "version", "events"})
_OPTIONAL_KEYS = frozenset({"snapshot", "integrity", "migrated_from", "policy"})
_SNAPSHOT_KEYS = frozenset({"record", "seal"})
_INTEGRITY_KEYS = frozenset({"key_id", "case_id", "version", "head", "mac"})
_MIGRATED_KEYS = frozenset({"schema_version", "version", "head"})

_HEX64 = re.compile(r"[0-9a-f]{64}")

_RESEAL = "Load the case without the keyring to rebuild it from its history, then save it again."
_RESTORE = "Restore the document from a trusted copy (or the store's backup)."

#: The shortest seal key accepted, in bytes (kept for ``seal_key=``; see
#: :data:`rjflow.integrity.MIN_KEY_BYTES`).
MIN_SEAL_KEY_BYTES = MIN_KEY_BYTES

#: The key id a ``seal_key=`` secret gets in its one-key keyring.
_SEAL_KEY_ID = "seal-key"


def migrated_from(case: Case) -> Mapping[str, Any] | None:
    """Where ``case`` was migrated from, when it was loaded from an older schema (or from a
    document that says so): ``{"schema_version": 1, "version": n, "head": "<hex>"}``, the old
    document's schema, event count and last event hash.  None for a case never migrated.

    Saving the case writes it as the document's ``migrated_from``; with a keyring it is
    covered by the integrity seal."""
    provenance = case._migrated_from
    return dict(provenance) if provenance is not None else None


def _ring(keyring: Keyring | None, seal_key: bytes | None) -> Keyring | None:
    """The keyring to use: ``keyring``, or the one-key ring ``seal_key=`` stands for."""
    if seal_key is None:
        if keyring is not None and not isinstance(keyring, Keyring):
            raise InvalidInput(
                f"'keyring' must be a rjflow Keyring (got {type(keyring).__name__})."
            )
        return keyring
    if keyring is not None:
        raise InvalidInput("Pass keyring= or the deprecated seal_key=, not both.")
    if not isinstance(seal_key, bytes) or len(seal_key) < MIN_SEAL_KEY_BYTES:
        raise InvalidInput(
            f"seal_key must be a secret of at least {MIN_SEAL_KEY_BYTES} bytes (got "
            f"{'a shorter one' if isinstance(seal_key, bytes) else type(seal_key).__name__}); "
            "use 32 random bytes kept with your application's other secrets."
        )
    return Keyring({_SEAL_KEY_ID: seal_key}, current=_SEAL_KEY_ID)


def to_dict(
    case: Case,
    *,
    keyring: Keyring | None = None,
    snapshot: bool = False,
    seal_key: bytes | None = None,
) -> dict[str, Any]:
    """The case as plain JSON data (see the module docstring for the format).

    With ``keyring``, the document carries an ``integrity`` seal under the keyring's current
    key; with ``snapshot=True`` as well, a sealed snapshot of the case record.  ``seal_key``
    is the deprecated form of a one-key keyring with a snapshot.  Raises
    :class:`~rjflow.InvalidInput` for a snapshot without a keyring or a malformed key.
    """
    of_type("case", case, Case, "a rjflow Case")
    ring = _ring(keyring, seal_key)
    if seal_key is not None:
        snapshot = True
    if snapshot and ring is None:
        raise InvalidInput(
            "A snapshot is sealed under the application's key; pass keyring= with snapshot=True."
        )
    head = case.history[-1].hash
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "case_id": case.case_id,
        "state": case.state.value,
        "version": case.version,
        "events": [unstructure(e, Event) for e in case.history],
    }
    provenance = case._migrated_from
    if provenance is not None:
        data["migrated_from"] = dict(provenance)
    data["policy"] = {"name": case.policy.name, "fingerprint": _fingerprint(case.policy)}
    if ring is not None:
        key_id = ring.current
        seal = "-"
        if snapshot:
            record = unstructure(case.record, CaseRecord)
            seal = snapshot_seal(
                ring,
                key_id,
                policy_fingerprint=_fingerprint(case.policy),
                head=head,
                record_text=canonical_json(record),
            )
            data["snapshot"] = {"record": record, "seal": seal}
        mac = integrity_mac(
            ring,
            key_id,
            case_id=case.case_id,
            version=case.version,
            head=head,
            migrated_from=canonical_json(provenance) if provenance is not None else "-",
            snapshot_seal=seal,
        )
        data["integrity"] = {
            "key_id": key_id,
            "case_id": case.case_id,
            "version": case.version,
            "head": head,
            "mac": mac,
        }
    return data


def dumps(
    case: Case,
    *,
    indent: int | None = None,
    keyring: Keyring | None = None,
    snapshot: bool = False,
    seal_key: bytes | None = None,
) -> str:
    """The case as JSON text (``keyring``, ``snapshot``, ``seal_key``: see :func:`to_dict`).

    ``indent``: None (one line) or the spaces per level, a whole number from 0 to
    16.  Raises :class:`~rjflow.InvalidInput` for another ``indent`` and
    what :func:`to_dict` raises.
    """
    if indent is not None and (type(indent) is not int or not 0 <= indent <= _MAX_INDENT):
        raise InvalidInput(
            f"'indent' must be None or a whole number of spaces from 0 to {_MAX_INDENT}."
        )
    return json.dumps(
        to_dict(case, keyring=keyring, snapshot=snapshot, seal_key=seal_key),
        ensure_ascii=False,
        indent=indent,
        allow_nan=False,
    )


@functools.lru_cache(maxsize=64)
def _fingerprint(policy: Policy) -> str:
    """SHA-256 of the policy's canonical JSON: a sealed record is only good under the policy
    that judged it.  Values that judge no action (``policy.SCHEDULING_FIELDS``: deadlines) are
    left out, so adding or changing one keeps sealed records good."""
    values = {k: v for k, v in unstructure(policy, Policy).items() if k not in SCHEDULING_FIELDS}
    return hashlib.sha256(canonical_json(values).encode()).hexdigest()


def _verify_history(events: Sequence[Event]) -> frozenset[tuple[int, str]]:
    """The chain verifies, holds at least the opening event, and every free text matches its
    commitment (both ways of loading); returns the erased texts."""
    verify_chain(events)
    if not events:
        raise InvalidDocument("A case history needs at least its opening event.", path="events")
    return verify_texts(events)


#: Every field a sealed record holds today; a snapshot without one of them is from an earlier
#: release.
_RECORD_FIELDS = frozenset(f.name for f in attrs.fields(CaseRecord))


def _sealed_record(
    events: Sequence[Event], snapshot: object, policy: Policy, keyring: Keyring, key_id: str
) -> dict[str, Any]:
    """The snapshot's record as JSON data, once its seal checks out against ``events``' head
    and ``policy``; :class:`InvalidDocument` otherwise."""
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
    expected = snapshot_seal(
        keyring,
        key_id,
        policy_fingerprint=_fingerprint(policy),
        head=events[-1].hash,
        record_text=text,
    )
    if not hmac.compare_digest(expected, seal):
        raise InvalidDocument(
            "The snapshot's seal does not match its record, the history and this policy: the "
            "snapshot was altered, or sealed with another key or under another policy. " + _RESEAL,
            path="snapshot.seal",
        )
    return raw


def _from_snapshot(
    events: Sequence[Event], snapshot: object, policy: Policy, keyring: Keyring, key_id: str
) -> Case | None:
    """The case from its sealed record (chain, texts and integrity already verified), or None
    when the record was sealed by an earlier release that kept fewer facts (then replay)."""
    raw = _sealed_record(events, snapshot, policy, keyring, key_id)
    if not raw.keys() >= _RECORD_FIELDS:
        # Sealed by an earlier release, before the record kept facts it keeps now (e.g. when
        # the current stage began): its seal is good, but the record would lack them. The
        # history is replayed instead, which derives every fact the rules read.
        return None
    record = structure(raw, CaseRecord, "snapshot.record")
    if record.version != len(events):
        raise InvalidDocument(  # a seal is only made for a record and its own history
            f"The sealed record is at version {record.version} but the history has "
            f"{len(events)} events.",
            path="snapshot.record.version",
        )
    return Case(record, list(events), Workflow.for_policy(policy))


def _check_integrity(
    data: Mapping[str, Any], events: Sequence[Event], keyring: Keyring | None
) -> str | None:
    """Check the document's ``integrity`` object; return the key id it was sealed with.

    With ``keyring`` the object is required and its MAC checked (IntegrityError); without
    one, an object that is present must still be well formed and describe this history
    (HistoryTampered), which catches naive truncation — but proves nothing against a forger.
    """
    error = IntegrityError if keyring is not None else HistoryTampered
    integrity: Any = data.get("integrity")
    if "integrity" not in data:
        if keyring is None:
            return None
        raise IntegrityError(
            "The document carries no integrity seal, but it was loaded with a keyring: it was "
            "saved without the key, or its seal was removed. If you know this document is "
            "genuine (compare it with a trusted copy), load it without the keyring and save "
            f"it with the keyring; otherwise {_RESTORE[0].lower()}{_RESTORE[1:]}",
            path="integrity",
        )
    ok = (
        isinstance(integrity, Mapping)
        and set(integrity) == _INTEGRITY_KEYS
        and isinstance(integrity["key_id"], str)
        and is_id(integrity["key_id"])
        and isinstance(integrity["case_id"], str)
        and type(integrity["version"]) is int
        and all(
            isinstance(integrity[k], str) and _HEX64.fullmatch(integrity[k])
            for k in ("head", "mac")
        )
    )
    if not ok:
        raise error(
            "'integrity' must be an object with exactly the fields key_id (an id), case_id, "
            "version (a whole number), head and mac (64 lowercase hexadecimal digits each); it "
            f"was altered. {_RESTORE}",
            path="integrity",
        )
    key_id: str = integrity["key_id"]
    if keyring is not None:
        if key_id not in keyring:
            raise IntegrityError(
                f"The document was sealed with key {key_id}, which this keyring does not hold "
                f"(it holds {', '.join(keyring.key_ids)}). Add that key to the keyring (keys "
                "are dropped only once no document is sealed with them), or the seal was "
                f"forged. {_RESTORE}",
                path="integrity.key_id",
            )
        snapshot = data.get("snapshot")
        seal = snapshot.get("seal") if isinstance(snapshot, Mapping) else None
        provenance = data.get("migrated_from")
        try:
            provenance_text = canonical_json(provenance) if provenance is not None else "-"
        except (TypeError, ValueError):
            provenance_text = "?"
        expected = integrity_mac(
            keyring,
            key_id,
            case_id=integrity["case_id"],
            version=integrity["version"],
            head=integrity["head"],
            migrated_from=provenance_text,
            snapshot_seal=seal if isinstance(seal, str) and "snapshot" in data else "-",
        )
        if not hmac.compare_digest(expected, integrity["mac"]):
            raise IntegrityError(
                "The document's integrity seal does not match: the seal, the snapshot or the "
                "migration record was altered, added or removed, or the seal was made with a "
                f"different secret under the same key id. {_RESTORE}",
                path="integrity.mac",
            )
    first_id = events[0].data.get("case_id") if isinstance(events[0].data, Mapping) else None
    if integrity["case_id"] != first_id or integrity["case_id"] != data["case_id"]:
        raise error(
            "The integrity seal was made for another case: it was copied from another "
            f"document. {_RESTORE}",
            path="integrity.case_id",
        )
    if integrity["version"] != len(events):
        change = "removed" if integrity["version"] > len(events) else "added"
        raise error(
            f"The integrity seal was made over {integrity['version']} events but the history "
            f"holds {len(events)}: events were {change} after it was saved. {_RESTORE}",
            path="integrity.version",
        )
    if integrity["head"] != events[-1].hash:
        raise error(
            "The history's last event is not the one the integrity seal was made over: the "
            f"history was changed (and its hashes recomputed) after it was saved. {_RESTORE}",
            path="integrity.head",
        )
    return key_id


def _check_provenance(value: object) -> Provenance:
    ok = (
        isinstance(value, Mapping)
        and set(value) == _MIGRATED_KEYS
        and type(value["schema_version"]) is int
        and 1 <= value["schema_version"] < SCHEMA_VERSION
        and type(value["version"]) is int
        and value["version"] >= 1
        and isinstance(value["head"], str)
        and _HEX64.fullmatch(value["head"]) is not None
    )
    if not ok or not isinstance(value, Mapping):
        raise InvalidDocument(
            "'migrated_from' must be an object with exactly the fields schema_version (an "
            "earlier schema version), version (a whole number, 1 or more) and head (64 "
            "lowercase hexadecimal digits).",
            path="migrated_from",
        )
    return {str(k): v for k, v in value.items()}


def replay(
    events: Sequence[Event],
    *,
    policy: Policy = LONDON_CRC,
    migrated_from: Provenance | None = None,
) -> Case:
    """Rebuild a case from its events alone, checking the chain, the free texts and every rule
    again.

    ``migrated_from``: the provenance of a case upcast from an older schema (see
    :func:`migrated_from`).  Its first ``migrated_from["version"]`` events were judged by the
    rules of the release that recorded them; they are applied as recorded (through the same
    machine, stage by stage) and not judged again by rules that did not exist then.  Every
    later event is judged by today's rules.

    Raises :class:`~rjflow.HistoryTampered` when the chain or a free text does not verify,
    :class:`~rjflow.InvalidDocument` naming the first event the rules refuse (or a malformed
    ``migrated_from``), and :class:`~rjflow.InvalidInput` when ``events`` is not a sequence
    of :class:`~rjflow.Event` or ``policy`` not a :class:`~rjflow.Policy`.
    """
    events = collection("events", events, "Event values")
    for event in events:
        of_type("events", event, Event, "a list of rjflow Event values")
    of_type("policy", policy, Policy, "a rjflow Policy")
    if migrated_from is not None:
        migrated_from = _check_provenance(migrated_from)
    _verify_history(events)
    case = _replay(events, policy, carried_over(migrated_from))
    if migrated_from is not None:
        case._migrated_from = migrated_from
    return case


def carried_over(provenance: Provenance | None) -> int:
    """How many leading events of a migrated case were recorded under an older schema."""
    return int(provenance["version"]) if provenance is not None else 0


def _replay(events: Sequence[Event], policy: Policy, carried: int = 0) -> Case:
    """Replay verified events (see :func:`replay`); the first ``carried`` events were carried
    over from an older schema and are applied as recorded."""
    first = events[0]
    case = _open(
        first.action,
        stored_data=first.data,
        at=first.at,
        actor=first.actor,
        policy=policy,
        recorded=first,
    )
    _check_same(case.history[0], first, 0)
    case._events[0] = first  # the same event (same hash); the stored one is linked to the next
    for index, stored in enumerate(events[1:], start=1):
        if stored.action == ERASE_ACTION:
            _replay_erasure(case, stored, index)
            continue
        produced = _apply(
            case,
            stored.action,
            stored_data=stored.data,
            at=stored.at,
            actor=stored.actor,
            index=index,
            recorded=stored,
            judged=index >= carried,
        )
        _check_same(produced, stored, index)
    return case


def _open(
    action: str,
    *,
    stored_data: Mapping[str, Any],
    at: datetime,
    actor: str,
    policy: Policy,
    recorded: Event | None,
) -> Case:
    """The case opened by a history's first event (stored, or an upcast step)."""
    if action != OPEN_ACTION:
        raise InvalidDocument(
            f"A case history starts with {OPEN_ACTION!r}, not {shown(action)}.",
            path="events[0].action",
            sequence=1,
        )
    data = dict(reveal(recorded) if recorded is not None else stored_data)
    case_id = data.pop("case_id", None)
    if not isinstance(case_id, str):
        raise InvalidDocument(
            "The opening event does not name its case id.", path="events[0].data", sequence=1
        )
    inp = structure(data, OpenCase, "events[0].data")
    if recorded is not None:
        positions_match(inp, recorded)
    try:
        return Case._opened(case_id, inp, at, actor, policy, recorded=recorded)
    except InvalidInput as exc:
        raise InvalidDocument(f"events[0]: {exc}", path="events[0]", sequence=1) from None


def _apply(
    case: Case,
    name: str,
    *,
    stored_data: Mapping[str, Any],
    at: datetime,
    actor: str,
    index: int,
    recorded: Event | None,
    judged: bool = True,
) -> Event:
    """Take one stored action (an event, or an upcast step) through the rules again, or
    (``judged=False``) apply one carried over from an older schema as recorded."""
    where = f"events[{index}]"
    try:
        action = case.workflow.action(name)
    except UnknownAction as exc:
        raise InvalidDocument(
            f"{where}.action: {exc}", path=f"{where}.action", sequence=index + 1
        ) from None
    data = reveal(recorded) if recorded is not None else stored_data
    inp: Input = structure(data, action.input, f"{where}.data")
    if recorded is not None:
        positions_match(inp, recorded)
    try:
        return case._perform(
            action,
            inp,
            at,
            actor,
            recorded,
            judged=judged,
            occurred_at=recorded.occurred_at if recorded is not None else None,
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


def _replay_erasure(case: Case, stored: Event, index: int) -> None:
    """Accept a stored erasure event (its data and targets were checked by verify_texts)."""
    where = f"events[{index}]"
    rec = case.record
    problem = None
    if stored.from_state != rec.state.value or stored.to_state is not None:
        problem = "its stages are not the case's stage at that point"
    elif stored.texts:
        problem = "it keeps texts of its own"
    else:
        try:
            aware_datetime("at", stored.at)
            _check_id("actor", stored.actor)
        except InvalidInput:
            problem = "its time or actor is malformed"
        else:
            if stored.at < rec.updated_at:
                problem = "it is dated before the case's previous change"
    if problem is not None:
        raise InvalidDocument(
            f"{where}: the erasure event does not fit the history ({problem}); the history "
            "was altered or written by other software.",
            path=where,
            sequence=index + 1,
        )
    case._append_erasure(stored)


def _check_same(produced: Event, stored: Event, index: int) -> None:
    if produced.hash != stored.hash:
        raise InvalidDocument(
            f"events[{index}] does not match what the rules produce from it (its stages or "
            "data differ); the history was altered or written by other software.",
            path=f"events[{index}]",
            sequence=index + 1,
        )


def _rebuild(data: Mapping[str, Any], version: int, policy: Policy) -> Case:
    """A current case from an older document: verified by its own schema's rules, upcast,
    then replayed through the current rules (new hashes; free text committed afresh)."""
    steps, provenance = upcast(data, version, SCHEMA_VERSION)
    first = steps[0]
    case = _open(
        first.action,
        stored_data=first.data,
        at=first.at,
        actor=first.actor,
        policy=policy,
        recorded=None,
    )
    for index, step in enumerate(steps[1:], start=1):
        _apply(
            case,
            step.action,
            stored_data=step.data,
            at=step.at,
            actor=step.actor,
            index=index,
            recorded=None,
            judged=False,
        )
    case._migrated_from = provenance
    return case


def from_dict(
    data: Mapping[str, Any],
    *,
    policy: Policy | None = None,
    keyring: Keyring | None = None,
    seal_key: bytes | None = None,
) -> Case:
    """Load a case from plain JSON data; never returns a partly built case.

    With ``keyring``, the document's ``integrity`` seal is required and checked (raising
    :class:`~rjflow.IntegrityError` when it is missing, made with an unknown key, does not
    match, or was made over another case or another length of history); a sealed snapshot,
    when present, is then used instead of replaying the history.  ``seal_key`` is the
    deprecated form of a one-key keyring.  A schema-1 document is verified with the schema-1
    rules and upcast (:mod:`rjflow._upcast`); it carries no integrity seal, so it cannot be
    loaded with a keyring.  Raises :class:`~rjflow.InvalidDocument` (or its subclasses
    :class:`~rjflow.HistoryTampered`, :class:`~rjflow.IntegrityError`) for anything else.

    **Which policy judges it** (issue 12): the document records the policy that judged the
    case (its ``policy``: name and fingerprint).  Without ``policy=``, the default
    (:data:`~rjflow.LONDON_CRC`) is used only for a case it judged (or an older document that
    records none); a case judged under another policy raises
    :class:`~rjflow.PolicyMismatch`.  Given ``policy=``, the history is replayed under it;
    when it is not the recorded one, :class:`~rjflow.PolicyChanged` is warned.
    """
    ring = _ring(keyring, seal_key)  # a misconfigured key is reported whether or not needed
    policy = _judging_policy(data, policy)
    if not isinstance(data, Mapping):
        raise InvalidDocument(
            f"A saved case must be a JSON object (got {type(data).__name__}).", path="$"
        )
    version = data.get("schema_version")
    legacy = (
        version if type(version) is int and version in READERS and version < SCHEMA_VERSION else 0
    )
    if legacy and ring is not None:
        raise IntegrityError(
            f"This document has schema version {version}, saved before keyed integrity "
            "existed, so it carries no integrity seal and cannot be loaded with a keyring. "
            "If you know it is genuine (compare it with a trusted copy), load it once without "
            "the keyring and save it with the keyring.",
            path="schema_version",
        )
    if not legacy and version is None and "schema_version" not in data:
        raise InvalidDocument(
            "The document has no schema_version: it is not a saved rjflow case (save cases "
            "with rjflow.serialization.dumps or to_dict).",
            path="schema_version",
        )
    if not legacy and (type(version) is not int or version != SCHEMA_VERSION):
        raise InvalidDocument(
            f"schema_version {shown(version)} is not one this release reads (it reads "
            f"{', '.join(map(str, sorted({*READERS, SCHEMA_VERSION})))}); upgrade rjflow or "
            "convert the document.",
            path="schema_version",
        )
    case = _rebuild(data, legacy, policy) if legacy else _load_current(data, policy, ring)
    for key, actual in (
        ("case_id", case.case_id),
        ("state", case.state.value),
        ("version", case.version),
    ):
        if type(data[key]) is not type(actual) or data[key] != actual:
            raise InvalidDocument(
                f"{key!r} says {shown(data[key])} but the history gives {actual!r}; the document "
                "was altered.",
                path=key,
            )
    return case


_EVENT_KEYS = frozenset(
    {"sequence", "at", "actor", "action", "data", "from_state", "to_state"}
    | {"previous_hash", "hash", "texts"}
)
_EVENT_KEYS_LATE = _EVENT_KEYS | {"occurred_at"}
_TEXT_KEYS = frozenset({"salt", "text"})


def _unchecked_event(raw: object) -> Event:
    """An :class:`Event` made from a stored event's JSON data without the loader's checks
    (its data frozen, as every event's is):
    only for :func:`sealed_history`, whose seals then vouch for every value (a value that
    is not what rjflow writes fails the chain or the seal).  KeyError, TypeError or
    ValueError when it is not even shaped like an event."""
    if type(raw) is not dict or not (raw.keys() == _EVENT_KEYS or raw.keys() == _EVENT_KEYS_LATE):
        raise ValueError("not an event")
    texts = raw["texts"]
    if type(texts) is not dict or type(raw["data"]) is not dict:
        raise ValueError("not an event")
    kept: dict[str, FreeText] = {}
    for pointer, text in texts.items():
        if type(text) is not dict or text.keys() != _TEXT_KEYS:
            raise ValueError("not a free text")
        kept[pointer] = FreeText(text["salt"], text["text"])
    at = datetime.fromisoformat(raw["at"])
    late = raw.get("occurred_at")
    occurred = None if late is None else datetime.fromisoformat(late)
    if (
        at.tzinfo is None
        or at.isoformat() != raw["at"]
        or (occurred is not None and (occurred.tzinfo is None or occurred.isoformat() != late))
    ):
        # The hash covers the time as ISO text: only the one spelling rjflow writes is read.
        raise ValueError("a time not as rjflow writes it")
    event = object.__new__(Event)
    for name, value in (
        ("sequence", raw["sequence"]),
        ("at", at),
        ("actor", raw["actor"]),
        ("action", raw["action"]),
        ("data", freeze(raw["data"])),
        ("from_state", raw["from_state"]),
        ("to_state", raw["to_state"]),
        ("previous_hash", raw["previous_hash"]),
        ("hash", raw["hash"]),
        ("texts", frozen_texts(kept)),
        ("occurred_at", occurred),
    ):
        object.__setattr__(event, name, value)
    return event


def sealed_history(
    data: Mapping[str, Any], *, keyring: Keyring, policy: Policy | None = None
) -> tuple[Event, ...] | None:
    """The history of a sealed document, verified but not replayed: for reading a whole
    caseload's events (a report) faster than loading each case.

    ``data`` is a saved case as JSON data (:func:`to_dict` with a keyring).  Every check that
    makes the events trustworthy is made, as :func:`from_dict` makes it with ``keyring``: the
    policy that judged the case (``policy`` as for :func:`from_dict`), the hash chain, every
    free text against its commitment, the document's integrity seal (made with the keyring's
    key over the case id, the number of events and the last event's hash) and the snapshot's
    seal.  What it does not do is replay the events through the rules and build the case:
    the integrity seal says rjflow recorded exactly these events with the application's key,
    and rjflow records only what its rules accepted.  (Without a keyring a history must be
    replayed: anyone can recompute a chain of hashes.)

    Returns the events (read-only, times as written) or None when the document is not a
    sealed document of the current schema, judged under the policy it would be loaded under,
    whose every part checks out; then load it with
    :func:`from_dict`, which says why it does not load, if it does not.  Never raises for a
    document's content; raises :class:`~rjflow.InvalidInput` for a ``keyring`` or ``policy``
    of the wrong type.
    """
    of_type("keyring", keyring, Keyring, "a rjflow Keyring")
    if policy is not None:
        of_type("policy", policy, Policy, "a rjflow Policy")
    if (
        not isinstance(data, Mapping)
        or "integrity" not in data
        or type(data.get("schema_version")) is not int
        or data["schema_version"] != SCHEMA_VERSION
        or not data.keys() >= _TOP_KEYS
        or not data.keys() <= _TOP_KEYS | _OPTIONAL_KEYS
        or type(data["events"]) is not list
        or not data["events"]
    ):
        return None
    judging = policy if policy is not None else LONDON_CRC
    recorded = data.get("policy")
    if recorded is not None and not (
        isinstance(recorded, Mapping)
        and recorded.get("fingerprint") == _fingerprint(judging)
        and recorded.get("name") == judging.name
    ):
        # Judged under another policy: from_dict refuses it, or (given policy=) replays it
        # under that one and says so; either way not a history to take as it stands.
        return None
    try:
        events = tuple(_unchecked_event(raw) for raw in data["events"])
        _verify_history(events)
        if "migrated_from" in data:
            _check_provenance(data["migrated_from"])
        key_id = _check_integrity(data, events, keyring)
        if key_id is None:
            return None
        if "snapshot" in data:
            _sealed_record(events, data["snapshot"], judging, keyring, key_id)
        state = next(e.to_state for e in reversed(events) if e.to_state is not None)
    except (InvalidDocument, KeyError, TypeError, ValueError, AttributeError, StopIteration):
        return None
    if (
        type(data["version"]) is not int
        or data["version"] != len(events)
        or data["case_id"] != events[0].data.get("case_id")
        or not is_id(data["case_id"])  # what a full load refuses: read in full, refused there
        or data["state"] != state
    ):
        return None
    return events


def _judging_policy(data: object, given: Policy | None) -> Policy:
    """The policy to load ``data`` under: ``given``, or the default when the document records
    no other; a document judged under another policy needs ``policy=`` (issue 12)."""
    if given is not None:
        of_type("policy", given, Policy, "a rjflow Policy")
    if not isinstance(data, Mapping) or "policy" not in data:
        return given if given is not None else LONDON_CRC
    recorded = data["policy"]
    if (
        not isinstance(recorded, Mapping)
        or set(recorded) != {"name", "fingerprint"}
        or not isinstance(recorded["name"], str)
        or not isinstance(recorded["fingerprint"], str)
        or not _HEX64.fullmatch(recorded["fingerprint"])
    ):
        raise InvalidDocument(
            "'policy' must be an object with exactly a name (text) and a fingerprint (64 "
            "lowercase hex digits); the document was altered.",
            path="policy",
        )
    fingerprint: str = recorded["fingerprint"]
    policy = given if given is not None else LONDON_CRC
    if fingerprint == _fingerprint(policy):
        if recorded["name"] != policy.name:  # the fingerprint covers the name
            raise InvalidDocument(
                "'policy' names another policy than its fingerprint stands for; the document "
                "was altered.",
                path="policy.name",
            )
        return policy
    if given is None:
        raise PolicyMismatch(
            f"This case was judged under another policy (fingerprint {fingerprint[:12]}) than "
            f"the default (fingerprint {_fingerprint(LONDON_CRC)[:12]}). Load it with policy= "
            "the service's policy (for example Policy.from_toml of its file); passing another "
            "policy= re-judges its history under that one, which is then reported.",
            recorded=fingerprint,
        )
    warnings.warn(
        PolicyChanged(
            f"This case was judged under another policy (fingerprint {fingerprint[:12]}); as "
            f"asked, its history was replayed and judged under the policy given (fingerprint "
            f"{_fingerprint(given)[:12]}), and saving it records that one.",
            recorded=fingerprint,
            given=_fingerprint(given),
        ),
        stacklevel=3,
    )
    return given


def _load_current(data: Mapping[str, Any], policy: Policy, keyring: Keyring | None) -> Case:
    extra = set(data) - _TOP_KEYS - _OPTIONAL_KEYS
    missing = _TOP_KEYS - set(data)
    if extra or missing:
        raise InvalidDocument(
            "A saved case has exactly the fields "
            f"{', '.join(sorted(_TOP_KEYS))} (and optionally "
            f"{', '.join(sorted(_OPTIONAL_KEYS))}); "
            + " ".join(
                ([f"it has {len(extra)} unknown field(s)."] if extra else [])
                + ([f"missing: {', '.join(sorted(missing))}."] if missing else [])
            ),
            path="$",
        )
    raw_events = data["events"]
    if not isinstance(raw_events, list):
        raise InvalidDocument("'events' must be a list of events.", path="events")
    for index, raw in enumerate(raw_events):
        if isinstance(raw, dict) and "texts" not in raw:
            raise InvalidDocument(
                f"events[{index}].texts: is required but missing (an object, empty when the "
                "event holds no free text).",
                path=f"events[{index}].texts",
                sequence=index + 1,
            )
    events = [structure(e, Event, f"events[{i}]") for i, e in enumerate(raw_events)]
    _verify_history(events)
    share_repeats(events)
    provenance = _check_provenance(data["migrated_from"]) if "migrated_from" in data else None
    key_id = _check_integrity(data, events, keyring)
    case: Case | None = None
    if keyring is not None and key_id is not None and "snapshot" in data:
        case = _from_snapshot(events, data["snapshot"], policy, keyring, key_id)
    if case is None:
        if provenance is not None and provenance["version"] > len(events):
            raise InvalidDocument(
                f"'migrated_from' says {provenance['version']} events were carried over from "
                f"an earlier schema, but the history holds {len(events)}: the document was "
                "altered.",
                path="migrated_from.version",
            )
        case = _replay(events, policy, carried_over(provenance))
    if provenance is not None:
        case._migrated_from = provenance
    return case


def loads(
    text: str | bytes,
    *,
    policy: Policy | None = None,
    keyring: Keyring | None = None,
    seal_key: bytes | None = None,
) -> Case:
    """Load a case from JSON text, or from UTF-8 bytes (``keyring``, ``seal_key``: see
    :func:`from_dict`).

    Read by the one reader every entry point shares (``docs/format.md``, "Reading rules"): a
    leading byte order mark is dropped; invalid UTF-8, invalid JSON, ``NaN``, duplicate keys,
    lone surrogates and too-deep nesting raise :class:`~rjflow.InvalidDocument`.
    ``policy``: see :func:`from_dict` (which policy judges the case).
    """
    return from_dict(_reader.read_document(text), policy=policy, keyring=keyring, seal_key=seal_key)


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
    source: str | Path | Iterable[str] | Iterable[bytes],
    *,
    policy: Policy | None = None,
    keyring: Keyring | None = None,
    seal_key: bytes | None = None,
) -> LoadReport:
    """Load every case of a JSON Lines file (a path, or an iterable of lines).

    Good lines become cases; each bad line is reported with its number and what is wrong;
    blank lines are skipped.  A path is read lazily, one line at a time, and split on
    ``"\\n"`` only; an iterable gives one line per item (text or UTF-8 bytes).  Every line is
    read by the same rules as :func:`loads`; a line that cannot be read (bad UTF-8, too deeply
    nested, ...) is reported and the rest still load.  ``keyring``, ``seal_key``: see
    :func:`from_dict`.

    A ``str`` is a path, never JSON text: a ``str`` holding a newline or starting with ``{``
    or ``[`` is refused (pass ``text.split("\\n")`` for text in memory).  Raises
    :class:`~rjflow.InvalidInput` (never repeating ``source``) for such a ``str``, for bytes,
    and for anything that is neither a path nor an iterable; and
    :class:`~rjflow.SourceUnavailable` (an ``OSError``, whose message does not repeat the
    path) when the path cannot be opened or read.
    """
    lines = _reader.iter_lines(_jsonl_source(source))
    cases: list[Case] = []
    problems: list[LineProblem] = []
    try:
        for number, line in lines:
            if isinstance(line, InvalidDocument):
                problems.append(LineProblem(number, str(line), line.sequence))
                continue
            try:
                data = _reader.parse(line, line=number)
                cases.append(from_dict(data, policy=policy, keyring=keyring, seal_key=seal_key))
            except InvalidDocument as exc:
                problems.append(LineProblem(number, str(exc), exc.sequence))
    except OSError as exc:
        raise SourceUnavailable.reading("The JSON Lines file", exc, str(source)) from None
    return LoadReport(tuple(cases), tuple(problems))


def _jsonl_source(source: object) -> Path | Iterable[str | bytes]:
    """``source`` of :func:`load_jsonl` as a Path or an iterable of lines; InvalidInput for
    anything else (never repeating it)."""
    if isinstance(source, str):
        if "\n" in source or source.lstrip(" \t\r\ufeff").startswith(("{", "[")):
            raise InvalidInput(
                "'source' is text, not a path: pass a pathlib.Path for a file, or the text's "
                'lines (text.split("\\n")) for JSON Lines held in memory.'
            )
        if "\x00" in source or not source:
            raise InvalidInput("'source' is not a usable file path; pass a pathlib.Path.")
        return Path(source)
    if isinstance(source, os.PathLike):
        path = os.fspath(source)
        if not isinstance(path, str) or "\x00" in path:
            raise InvalidInput("'source' is not a usable file path; pass a pathlib.Path.")
        return Path(path)
    if isinstance(source, bytes | bytearray | memoryview) or not isinstance(source, Iterable):
        raise InvalidInput(
            "'source' must be a path (str or pathlib.Path) or an iterable of lines (str or "
            f"bytes), got {type(source).__name__}."
        )
    return source


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a saved case of the current schema version, as
    shipped in the package (``schema/case-v2.json``; ``case-v1.json`` is kept for
    reference)."""
    path = f"schema/case-v{SCHEMA_VERSION}.json"
    text = resources.files("rjflow").joinpath(path).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
