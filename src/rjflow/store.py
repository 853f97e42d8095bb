"""An append-only event store on SQLite: a file path, or ``":memory:"``.

Saving appends the events a case gained since ``expected_version``, inside one
``BEGIN IMMEDIATE`` transaction; the table's ``(case_id, sequence)`` primary key makes the
database itself refuse a second writer's events, so two processes saving the same case can
never both succeed.  The loser gets :class:`~rjflow.ConcurrencyConflict` and nothing it sent
is written.  Loading reads the events and replays them, verifying the hash chain.

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
26
True
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType

from rjflow import _sql
from rjflow._convert import structure
from rjflow.case import Case
from rjflow.erasure import erase_free_text
from rjflow.errors import ConcurrencyConflict, InvalidDocument, InvalidInput, RJFlowError
from rjflow.freetext import ERASE_ACTION, ErasureReason, erasure_targets
from rjflow.history import Event
from rjflow.integrity import Keyring, integrity_mac
from rjflow.policy import LONDON_CRC, Policy
from rjflow.serialization import _check_integrity, replay

__all__ = ["SQLiteStore"]


class SQLiteStore:
    """Cases kept as their event histories in one SQLite database.

    Use one store (one connection) per thread or process; SQLite serialises the writers.
    ``timeout`` is how long a writer waits for another's transaction, in seconds.
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
        self.policy = policy
        self.keyring = keyring
        self._db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        if str(path) != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _sql.CREATE:
                self._db.execute(statement)
            self._db.execute(_sql.PUT_META, ("schema_version", str(_sql.STORE_SCHEMA_VERSION)))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        (found,) = self._db.execute(_sql.GET_META, ("schema_version",)).fetchone()
        if found != str(_sql.STORE_SCHEMA_VERSION):
            self._db.close()
            older = found.isdigit() and int(found) < _sql.STORE_SCHEMA_VERSION
            raise RJFlowError(
                f"The store at {path} has schema version {found}; this release reads "
                f"{_sql.STORE_SCHEMA_VERSION}. "
                + (
                    "Move its cases with the release that wrote it (load each case, save it "
                    "with rjflow.serialization.dumps) and load those documents here."
                    if older
                    else "Upgrade rjflow to open it."
                )
            )

    # -- writing ---------------------------------------------------------------------------

    def save(self, case: Case, *, expected_version: int) -> int:
        """Append the case's events after ``expected_version`` (0 for a new case).

        Returns the new version.  Raises :class:`~rjflow.ConcurrencyConflict`, writing
        nothing, when the store's version of the case is not ``expected_version`` (or its
        history there is not this case's).
        """
        history = case.history
        if not 0 <= expected_version <= len(history):
            raise ValueError(
                f"expected_version must be between 0 and the case's version {len(history)} "
                f"(got {expected_version})."
            )
        rows = [
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
            )
            for e in history[expected_version:]
        ]
        texts, erased = _text_rows(case, expected_version)
        seal = _seal_row(self.keyring, case)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            last = db.execute(_sql.LAST_EVENT, (case.case_id,)).fetchone()
            stored_version, stored_hash = last if last is not None else (0, None)
            same_past = expected_version == 0 or stored_hash == history[expected_version - 1].hash
            if stored_version != expected_version or not same_past:
                raise ConcurrencyConflict(case.case_id, expected_version, stored_version)
            db.executemany(_sql.INSERT_EVENT, rows)
            db.executemany(_sql.INSERT_TEXT, texts)
            db.executemany(_sql.DELETE_TEXT, erased)
            if seal is not None:
                db.execute(_sql.PUT_INTEGRITY, seal)
            db.execute("COMMIT")
        except sqlite3.IntegrityError:
            db.execute("ROLLBACK")
            actual = self.version(case.case_id)
            raise ConcurrencyConflict(case.case_id, expected_version, actual) from None
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return len(history)

    # -- reading ---------------------------------------------------------------------------

    def version(self, case_id: str) -> int:
        """The stored version of a case (0 if the store does not have it)."""
        last = self._db.execute(_sql.LAST_EVENT, (case_id,)).fetchone()
        return int(last[0]) if last is not None else 0

    def events(self, case_id: str) -> list[Event]:
        """The stored events of a case, oldest first (not verified; :meth:`load` verifies)."""
        events = []
        texts: dict[int, dict[str, dict[str, str]]] = {}
        for seq, pointer, salt, text in self._db.execute(_sql.CASE_TEXTS, (case_id,)):
            texts.setdefault(seq, {})[pointer] = {"salt": salt, "text": text}
        for index, row in enumerate(self._db.execute(_sql.CASE_EVENTS, (case_id,))):
            seq, at, actor, action, data, from_state, to_state, prev, digest = row
            raw = {
                "sequence": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "data": json.loads(data),
                "from_state": from_state,
                "to_state": to_state,
                "previous_hash": prev,
                "hash": digest,
                "texts": texts.get(seq, {}),
            }
            events.append(structure(raw, Event, f"store[{case_id}].events[{index}]"))
        return events

    def load(self, case_id: str) -> Case:
        """The case rebuilt from its stored events, its chain verified.

        Raises :class:`KeyError` when the store has no such case, and
        :class:`~rjflow.InvalidDocument` (or :class:`~rjflow.HistoryTampered`) when the stored
        history does not verify.
        """
        events = self.events(case_id)
        if not events:
            raise KeyError(f"The store has no case {case_id}.")
        try:
            if self.keyring is not None:
                _check_seal(self._db, self.keyring, case_id, events)
            return replay(events, policy=self.policy)
        except InvalidDocument as exc:
            exc.args = (f"Stored case {case_id}: {exc}",)
            raise

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
        return [row[0] for row in self._db.execute(_sql.CASE_IDS)]

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
    mac = integrity_mac(keyring, key_id, case_id=case.case_id, version=case.version, head=head)
    return (case.case_id, key_id, case.version, head, mac)


def _check_seal(
    db: sqlite3.Connection, keyring: Keyring, case_id: str, events: list[Event]
) -> None:
    """Require and check the stored integrity seal of ``case_id`` (IntegrityError)."""
    row = db.execute(_sql.GET_INTEGRITY, (case_id,)).fetchone()
    seal = (
        dict(zip(("key_id", "case_id", "version", "head", "mac"), row, strict=True))
        if row
        else None
    )
    document = {"case_id": case_id, **({"integrity": seal} if seal is not None else {})}
    _check_integrity(document, events, keyring)
