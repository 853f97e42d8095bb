"""An append-only event store on SQLite: a file path, or ``":memory:"``.

Saving appends the events a case gained since ``expected_version``, inside one
``BEGIN IMMEDIATE`` transaction; the table's ``(case_id, sequence)`` primary key makes the
database itself refuse a second writer's events, so two processes saving the same case can
never both succeed.  The loser gets :class:`~rjflow.ConcurrencyConflict` and nothing it sent
is written.  Loading reads the events and replays them, verifying the hash chain.

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
from pathlib import Path
from types import TracebackType

from rjflow import _sql
from rjflow._convert import structure
from rjflow.case import Case
from rjflow.errors import ConcurrencyConflict, InvalidDocument, RJFlowError
from rjflow.history import Event
from rjflow.policy import LONDON_CRC, Policy
from rjflow.serialization import replay

__all__ = ["SQLiteStore"]


class SQLiteStore:
    """Cases kept as their event histories in one SQLite database.

    Use one store (one connection) per thread or process; SQLite serialises the writers.
    ``timeout`` is how long a writer waits for another's transaction, in seconds.
    """

    def __init__(
        self, path: str | Path = ":memory:", *, policy: Policy = LONDON_CRC, timeout: float = 30.0
    ) -> None:
        self.policy = policy
        self._db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        if str(path) != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _sql.CREATE:
                self._db.execute(statement)
            columns = {row[0] for row in self._db.execute(_sql.EVENT_COLUMNS)}
            if "occurred_at" not in columns:  # a store made before late entry existed
                self._db.execute(_sql.ADD_OCCURRED_AT)
            self._db.execute(_sql.PUT_META, ("schema_version", str(_sql.STORE_SCHEMA_VERSION)))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        (found,) = self._db.execute(_sql.GET_META, ("schema_version",)).fetchone()
        if found != str(_sql.STORE_SCHEMA_VERSION):
            self._db.close()
            raise RJFlowError(
                f"The store at {path} has schema version {found}; this release reads "
                f"{_sql.STORE_SCHEMA_VERSION}. Upgrade rjflow to open it."
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
                e.occurred_at.isoformat() if e.occurred_at is not None else None,
            )
            for e in history[expected_version:]
        ]
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            last = db.execute(_sql.LAST_EVENT, (case.case_id,)).fetchone()
            stored_version, stored_hash = last if last is not None else (0, None)
            same_past = expected_version == 0 or stored_hash == history[expected_version - 1].hash
            if stored_version != expected_version or not same_past:
                raise ConcurrencyConflict(case.case_id, expected_version, stored_version)
            db.executemany(_sql.INSERT_EVENT, rows)
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
        for index, row in enumerate(self._db.execute(_sql.CASE_EVENTS, (case_id,))):
            seq, at, actor, action, data, from_state, to_state, prev, digest, occurred = row
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
            }
            if occurred is not None:
                raw["occurred_at"] = occurred
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
            return replay(events, policy=self.policy)
        except InvalidDocument as exc:
            exc.args = (f"Stored case {case_id}: {exc}",)
            raise

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
