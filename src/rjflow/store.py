"""An append-only event store on SQLite: a file path, or ``":memory:"``.

Saving appends the events a case gained since ``expected_version``, inside one
``BEGIN IMMEDIATE`` transaction; the table's ``(case_id, sequence)`` primary key makes the
database itself refuse a second writer's events, so two processes saving the same case can
never both succeed.  The loser gets :class:`~rjflow.ConcurrencyConflict` and nothing it sent
is written; a *new* case saved under a taken id gets :class:`~rjflow.CaseExists` (a
``ConcurrencyConflict``).  Loading reads the events and replays them, verifying the hash
chain; a row that cannot be read back is a :class:`~rjflow.CorruptRecord` naming the case and
the event, and an unknown id a :class:`~rjflow.CaseNotFound` (a ``KeyError``).

Readers never wait for writers: file databases run in WAL mode, opening a store whose tables
exist takes no lock, and each read sees one committed state (a deferred read transaction).

Free text sits in its own table, ``rjflow_texts``, beside the events: saving a case after
:func:`~rjflow.erase_free_text` deletes the erased texts' rows in the same transaction.

Opened with a ``keyring``, the store also keeps each case's integrity seal (an HMAC of its
id, version and head hash, see :mod:`rjflow.integrity`) in ``rjflow_integrity``, written in
the same transaction as the events, and requires and checks it on load: rows edited with
the hashes recomputed, or the newest rows deleted, are then detected.  Every writer of such a
store must hold the keyring.

>>> from rjflow.demo import build_demo_case
>>> from rjflow.store import SQLiteStore
>>> case = build_demo_case()
>>> with SQLiteStore(":memory:") as store:
...     store.save(case, expected_version=0)
...     store.load(case.case_id) == case
33
True
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from rjflow import _reader, _sql
from rjflow._convert import structure
from rjflow._validate import _check_id, of_type
from rjflow.case import Case
from rjflow.erasure import erase_free_text
from rjflow.errors import (
    CaseExists,
    CaseNotFound,
    ConcurrencyConflict,
    CorruptRecord,
    InvalidDocument,
    InvalidInput,
    RJFlowError,
    StoreUnavailable,
)
from rjflow.freetext import ERASE_ACTION, ErasureReason, erasure_targets
from rjflow.history import Event, canonical_json
from rjflow.integrity import Keyring, integrity_mac
from rjflow.policy import LONDON_CRC, Policy
from rjflow.serialization import (
    LoadReport,
    _check_integrity,
    _check_provenance,
    _fingerprint,
    load_jsonl,
    migrated_from,
    replay,
)

__all__ = ["SQLiteStore"]


class SQLiteStore:
    """Cases kept as their event histories in one SQLite database.

    Use one store (one connection) per thread or process; SQLite serialises the writers.
    ``timeout`` is how long a writer waits for another's transaction, in seconds.  Reading
    never waits for a writer: a file database is kept in WAL mode, opening a store that
    already has its tables only reads, and every read sees one committed state.

    Raises :class:`~rjflow.StoreUnavailable` when the database cannot be opened or used (no
    such folder, no permission, not an SQLite database, locked for longer than ``timeout``),
    and :class:`~rjflow.InvalidInput` when ``path`` is not a str or ``os.PathLike`` naming a
    file (bytes are refused), ``policy`` not a :class:`~rjflow.Policy`, ``keyring`` not a
    :class:`~rjflow.Keyring`, or ``timeout`` not a number of seconds from 0.
    """

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        policy: Policy = LONDON_CRC,
        timeout: float = 30.0,
        keyring: Keyring | None = None,
    ) -> None:
        if keyring is not None and not isinstance(keyring, Keyring):
            raise InvalidInput(
                f"'keyring' must be a rjflow Keyring (got {type(keyring).__name__})."
            )
        of_type("policy", policy, Policy, "a rjflow Policy")
        if (
            type(timeout) not in (int, float)
            or not 0 <= timeout < float("inf")  # NaN fails this too
        ):
            raise InvalidInput("'timeout' must be a number of seconds, 0 or more.")
        self.policy = policy
        self.keyring = keyring
        self._path = _store_path(path)
        try:
            self._db = sqlite3.connect(self._path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None
        try:
            self._open()
        except BaseException as exc:
            self._db.close()
            if isinstance(exc, sqlite3.Error):
                raise self._unavailable(exc) from None
            raise

    def _open(self) -> None:
        """Create the tables if they are missing, taking the write lock only then."""
        db = self._db
        if self._path != ":memory:":
            (mode,) = db.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if "rjflow_meta" in self._tables():
            self._check_version()  # an older or newer store is refused before anything is made
        if not self._tables() >= _sql.TABLE_NAMES:
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _sql.CREATE:
                    db.execute(statement)
                db.execute(_sql.PUT_META, ("schema_version", str(_sql.STORE_SCHEMA_VERSION)))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        self._check_version()

    def _check_version(self) -> None:
        row = self._db.execute(_sql.GET_META, ("schema_version",)).fetchone()
        found = row[0] if row is not None else None
        if found != str(_sql.STORE_SCHEMA_VERSION):
            shown = _shown_version(found)
            older = shown.isdigit() and int(shown) < _sql.STORE_SCHEMA_VERSION
            raise RJFlowError(
                f"The store has schema version {shown}; this release reads "
                f"{_sql.STORE_SCHEMA_VERSION}. "
                + (
                    "Move its cases with the release that wrote it (load each case, save it "
                    "with rjflow.serialization.dumps) and load those documents here."
                    if older
                    else "Upgrade rjflow to open it."
                )
            )

    def _tables(self) -> set[str]:
        return {row[0] for row in self._db.execute(_sql.TABLES)}

    def _unavailable(self, exc: sqlite3.Error) -> StoreUnavailable:
        # SQLite's own reason ("unable to open database file", "file is not a database",
        # "database is locked") never holds stored data; the path is the application's and is
        # kept on the error (``path``), not put in the message.
        error = StoreUnavailable(
            f"The store's database cannot be used: {exc}. Check that its folder exists and may "
            "be written, that the file is an rjflow store (or a new file name), and that no "
            "other program holds it."
        )
        error.path = self._path
        return error

    # -- writing ---------------------------------------------------------------------------

    def save(self, case: Case, *, expected_version: int) -> int:
        """Append the case's events after ``expected_version`` (0 for a new case).

        Returns the new version.  Raises, writing nothing: :class:`~rjflow.CaseExists` when
        ``expected_version`` is 0 and the store already holds a case with this id;
        :class:`~rjflow.ConcurrencyConflict` when the store's version of the case is not
        ``expected_version`` (or its history there is not this case's);
        :class:`~rjflow.InvalidInput` when ``case`` is not a :class:`~rjflow.Case`, was
        opened under a policy other than the store's, or ``expected_version`` is not a whole
        number from 0 to the case's version; :class:`~rjflow.StoreUnavailable` when the
        database cannot be written.
        """
        _check_case(case)
        if case.policy != self.policy:
            raise InvalidInput(
                "The case was opened under a different policy (fingerprint "
                f"{_fingerprint(case.policy)[:12]}) from the store's (fingerprint "
                f"{_fingerprint(self.policy)[:12]}); save it in a store opened with the case's "
                "policy, or load it under the store's policy first."
            )
        history = case.history
        if (
            not isinstance(expected_version, int)
            or isinstance(expected_version, bool)
            or not 0 <= expected_version <= len(history)
        ):
            raise InvalidInput(
                "'expected_version' must be a whole number from 0 (a new case) to the case's "
                f"version {len(history)}: the version the case had when it was loaded."
            )
        try:
            self._append([(case, expected_version)])
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None
        return len(history)

    def import_jsonl(
        self, source: str | Path | Iterable[str] | Iterable[bytes], *, seal_key: bytes | None = None
    ) -> LoadReport:
        """Add the cases of a JSON Lines file (or an iterable of lines) as new cases.

        The file is read exactly as :func:`~rjflow.serialization.load_jsonl` reads it (same
        decoding, line splitting and errors), under the store's policy.  All the good cases
        are saved in one transaction, or none: a case whose id the store already holds raises
        :class:`~rjflow.CaseExists`, and a case id the file holds twice
        :class:`~rjflow.InvalidDocument`; then nothing is written.  The returned report lists every
        line that did not load (those are not imported).
        """
        report = load_jsonl(source, policy=self.policy, keyring=self.keyring, seal_key=seal_key)
        seen: set[str] = set()
        for case in report.cases:
            if case.case_id in seen:
                raise InvalidDocument(
                    f"The file holds case {case.case_id} more than once; nothing was imported. "
                    "Keep one line per case (the latest version) and import again.",
                    path="$",
                )
            seen.add(case.case_id)
        try:
            self._append([(case, 0) for case in report.cases])
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None
        return report

    def _append(self, batch: Sequence[tuple[Case, int]]) -> None:
        """In one write transaction: check every case's stored version, then insert."""
        db = self._db
        case, expected_version = batch[0] if batch else (None, 0)
        db.execute("BEGIN IMMEDIATE")
        try:
            for case, expected_version in batch:
                history = case.history
                last = db.execute(_sql.LAST_EVENT, (case.case_id,)).fetchone()
                stored_version, stored_hash = last if last is not None else (0, None)
                same_past = (
                    expected_version == 0 or stored_hash == history[expected_version - 1].hash
                )
                if stored_version != expected_version or not same_past:
                    raise _conflict(
                        case.case_id,
                        expected_version,
                        int(stored_version),
                        diverged=stored_version == expected_version,
                    )
                db.executemany(_sql.INSERT_EVENT, _rows(case, expected_version))
                texts, erased = _text_rows(case, expected_version)
                db.executemany(_sql.INSERT_TEXT, texts)
                db.executemany(_sql.DELETE_TEXT, erased)
                provenance = migrated_from(case)
                if expected_version == 0 and provenance is not None:
                    db.execute(
                        _sql.PUT_MIGRATION,
                        (
                            case.case_id,
                            provenance["schema_version"],
                            provenance["version"],
                            provenance["head"],
                        ),
                    )
                seal = _seal_row(self.keyring, case)
                if seal is not None:
                    db.execute(_sql.PUT_INTEGRITY, seal)
            db.execute("COMMIT")
        except sqlite3.IntegrityError:
            db.execute("ROLLBACK")
            assert case is not None  # an insert failed, so there was a case
            actual = self.version(case.case_id)
            raise _conflict(case.case_id, expected_version, actual) from None
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    # -- reading ---------------------------------------------------------------------------

    def version(self, case_id: str) -> int:
        """The stored version of a case (0 if the store does not have it).

        Raises :class:`~rjflow.InvalidInput`, without repeating it, when ``case_id`` is not an
        opaque id; :class:`~rjflow.CorruptRecord` when the rows stored under ``case_id`` open
        another case (copied outside rjflow).
        """
        _valid_id(case_id)
        last, opening = self._read_together(
            (_sql.LAST_EVENT, (case_id,)), (_OPENING_DATA, (case_id,))
        )
        if opening and _opened_case_id(opening[0][0]) not in (case_id, None):
            raise _not_this_case(case_id)
        return int(last[0][0]) if last else 0

    def events(self, case_id: str) -> list[Event]:
        """The stored events of a case, oldest first (not verified; :meth:`load` verifies).

        Raises :class:`~rjflow.CorruptRecord`, naming the case and the event's sequence, when
        a row cannot be read as an event; :class:`~rjflow.InvalidInput` when ``case_id`` is
        not an opaque id.
        """
        _valid_id(case_id)
        rows, text_rows = self._read_together(
            (_sql.CASE_EVENTS, (case_id,)), (_sql.CASE_TEXTS, (case_id,))
        )
        texts: dict[int, dict[str, dict[str, str]]] = {}
        for seq, pointer, salt, text in text_rows:
            texts.setdefault(seq, {})[pointer] = {"salt": salt, "text": text}
        return [_event(case_id, index, row, texts) for index, row in enumerate(rows)]

    def load(self, case_id: str) -> Case:
        """The case rebuilt from its stored events, its chain verified.

        Raises :class:`~rjflow.CaseNotFound` (a ``KeyError``) when the store has no such case;
        :class:`~rjflow.InvalidInput`, without repeating it, when ``case_id`` is not an opaque
        id; :class:`~rjflow.CorruptRecord` when a row cannot be read as an event; and
        :class:`~rjflow.InvalidDocument` (or :class:`~rjflow.HistoryTampered`) when the stored
        history does not verify.
        """
        events = self.events(case_id)
        if not events:
            raise CaseNotFound(case_id)
        try:
            rows = self._read(_sql.GET_MIGRATION, (case_id,))
            provenance = (
                _check_provenance(
                    dict(zip(("schema_version", "version", "head"), rows[0], strict=True))
                )
                if rows
                else None
            )
            if self.keyring is not None:
                _check_seal(self._read, self.keyring, case_id, events, provenance)
            case = replay(events, policy=self.policy, migrated_from=provenance)
        except InvalidDocument as exc:
            exc.args = (f"Stored case {case_id}: {exc}",)
            raise
        if case.case_id != case_id:  # rows copied from another case: never return that case
            raise _not_this_case(case_id)
        return case

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        """One read statement: it sees the last committed state and never takes a lock that
        would make a writer (or this reader) wait."""
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None

    def _read_together(self, *statements: tuple[str, tuple[object, ...]]) -> list[list[Any]]:
        """Several read statements over one committed state: a deferred read transaction,
        which in WAL mode neither waits for a writer nor makes one wait."""
        db = self._db
        try:
            db.execute("BEGIN DEFERRED")
            try:
                return [db.execute(sql, params).fetchall() for sql, params in statements]
            finally:
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None

    def erase_free_text(
        self,
        case_id: str,
        *,
        at: datetime,
        actor: str,
        reason: ErasureReason | str = ErasureReason.SUBJECT_REQUEST,
        events: Iterable[int] | None = None,
    ) -> Case:
        """Erase a stored case's free text (see :func:`rjflow.erase_free_text`): load it,
        erase, and save the erasure, which deletes the texts' rows; returns the case.

        Raises what :meth:`load`, :func:`~rjflow.erase_free_text` and :meth:`save` raise
        (:class:`~rjflow.ConcurrencyConflict` if another writer saved the case meanwhile).
        """
        case = self.load(case_id)
        version = case.version
        erase_free_text(case, at=at, actor=actor, reason=reason, events=events)
        self.save(case, expected_version=version)
        return case

    def case_ids(self) -> list[str]:
        """The ids of every stored case, sorted."""
        return [row[0] for row in self._read(_sql.CASE_IDS)]

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _rows(case: Case, after: int) -> list[tuple[object, ...]]:
    """The case's events after version ``after`` as rows of ``rjflow_events``."""
    return [
        (
            case.case_id,
            e.sequence,
            e.at.isoformat(),
            e.actor,
            e.action,
            json.dumps(e.data, ensure_ascii=False, sort_keys=True),
            e.from_state,
            e.to_state,
            e.previous_hash,
            e.hash,
            e.occurred_at.isoformat() if e.occurred_at is not None else None,
        )
        for e in case.history[after:]
    ]


def _store_path(path: object) -> str:
    """The database path as text: a str or os.PathLike naming a file (or ":memory:");
    InvalidInput, never repeating it, for anything else or a name no file can have."""
    name = os.fspath(path) if isinstance(path, str | os.PathLike) else None
    if not isinstance(name, str):
        raise InvalidInput(
            "'path' must be a file path (str or pathlib.Path) or ':memory:' (got "
            f"{type(path).__name__})."
        )
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        name = "\x00"  # a lone surrogate: refused below like a NUL
    if not name or "\x00" in name:
        raise InvalidInput(
            "'path' cannot be used as a file name (it is empty, or holds a NUL character or a "
            "lone surrogate); give the path of the store's file."
        )
    return name


#: The data of a case's opening event, which names the case it opened.
_OPENING_DATA = "SELECT data FROM rjflow_events WHERE case_id = ? AND sequence = 1"


def _opened_case_id(data: object) -> object:
    """The case id an opening event's stored data names, or None when it cannot be read
    (that fault is reported by load, naming the row)."""
    try:
        parsed = _reader.parse(data) if isinstance(data, str) else None
    except InvalidDocument:
        return None
    return parsed.get("case_id") if isinstance(parsed, dict) else None


def _not_this_case(case_id: str) -> CorruptRecord:
    return CorruptRecord(
        f"Stored case {case_id} holds the history of a different case; the database was "
        "changed outside rjflow. Restore the case from a backup.",
        case_id=case_id,
        path="events[0]",
        sequence=1,
    )


def _check_case(case: object) -> None:
    if not isinstance(case, Case):
        raise InvalidInput(f"'case' must be a rjflow Case (got {type(case).__name__}).")


def _valid_id(case_id: object) -> None:
    """Refuse, without repeating it, anything but an opaque id matched in full."""
    _check_id("case_id", case_id)


def _conflict(
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


def _shown_version(found: object) -> str:
    return str(found) if isinstance(found, str) and found.isdigit() and len(found) < 6 else "?"


def _event(
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


def _text_rows(
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


def _seal_row(keyring: Keyring | None, case: Case) -> tuple[str, str, int, str, str] | None:
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


def _check_seal(
    read: Any,
    keyring: Keyring,
    case_id: str,
    events: list[Event],
    provenance: Mapping[str, Any] | None,
) -> None:
    """Require and check the stored integrity seal of ``case_id`` (IntegrityError)."""
    rows = read(_sql.GET_INTEGRITY, (case_id,))
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
