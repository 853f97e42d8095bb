"""Append-only event stores: SQLite (a file path, or ``":memory:"``) and PostgreSQL.

:class:`SQLiteStore` is described here; :class:`PostgresStore` (``pip install
'rjflow[postgres]'``, imported only when first used) keeps the same contract on a PostgreSQL
server shared by several application servers (see docs/postgres.md).  Both keep, in the same
transaction as a case's events, its :class:`~rjflow.projection.CaseSummary`, which
:meth:`~SQLiteStore.find` queries without replaying cases, and its report facts
(:func:`rjflow.reporting.case_facts`), which :meth:`~SQLiteStore.report_facts` reads for the
caseload report.

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

Events are append-only in the database itself: triggers refuse every UPDATE and DELETE of
``rjflow_events``.

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

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rjflow import _sql
from rjflow._eventstore import Duplicate, EventStore, StoreProblem, Transaction, Write
from rjflow._storerows import version_error
from rjflow.errors import InvalidInput, StoreUnavailable
from rjflow.integrity import Keyring
from rjflow.policy import LONDON_CRC, Policy
from rjflow.projection import CaseSummary

if TYPE_CHECKING:
    # The explicit alias re-exports it for type checkers; at run time __getattr__ imports it.
    from rjflow.pgstore import PostgresStore as PostgresStore  # noqa: PLC0414

# PostgresStore is left out of ``import *``: it needs psycopg, which only the postgres extra
# installs.
__all__ = ["CaseSummary", "EventStore", "SQLiteStore", "StoreProblem"]


def __getattr__(name: str) -> Any:
    """``PostgresStore`` is imported on first use, so that psycopg is needed only then."""
    if name == "PostgresStore":
        try:
            from rjflow.pgstore import PostgresStore  # noqa: PLC0415
        except ImportError as exc:
            raise ImportError(
                "rjflow.store.PostgresStore needs psycopg 3 and psycopg_pool: install them "
                "with pip install 'rjflow[postgres]'."
            ) from exc
        return PostgresStore
    raise AttributeError(f"module 'rjflow.store' has no attribute {name!r}")


class SQLiteStore(EventStore):
    """Cases kept as their event histories in one SQLite database.

    Use one store (one connection) per thread or process; SQLite serialises the writers.
    ``timeout`` is how long a writer waits for another's transaction, in seconds.  Reading
    never waits for a writer: a file database is kept in WAL mode, opening a store that
    already has its tables only reads, and every read sees one committed state.  A store of
    schema 2 or 3 (the previous releases) is migrated when it is opened: each case's summary and
    report facts are built from its events, in one transaction.

    Raises :class:`~rjflow.StoreUnavailable` when the database cannot be opened or used (no
    such folder, no permission, not an SQLite database, locked for longer than ``timeout``),
    and :class:`~rjflow.InvalidInput` when ``path`` is not a str or ``os.PathLike`` naming a
    file (bytes are refused), ``policy`` not a :class:`~rjflow.Policy`, ``keyring`` not a
    :class:`~rjflow.Keyring`, or ``timeout`` not a number of seconds from 0.
    """

    _sql = _sql

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        policy: Policy = LONDON_CRC,
        timeout: float = 30.0,
        keyring: Keyring | None = None,
    ) -> None:
        self._configure(policy, keyring)
        if (
            type(timeout) not in (int, float)
            or not 0 <= timeout < float("inf")  # NaN fails this too
        ):
            raise InvalidInput("'timeout' must be a number of seconds, 0 or more.")
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
        """Create the tables if they are missing, taking the write lock only then; migrate a
        store of the previous schema."""
        db = self._db
        if self._path != ":memory:":
            (mode,) = db.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if "rjflow_meta" in self._objects():
            found = self._schema_version()
            if found in _MIGRATED:
                self._migrate(found)
            elif found != str(_sql.STORE_SCHEMA_VERSION):
                raise version_error(found, _sql.STORE_SCHEMA_VERSION, _sql.MIGRATES_FROM)
        if not self._objects() >= _sql.OBJECT_NAMES:
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _sql.CREATE:
                    db.execute(statement)
                db.execute(_sql.PUT_META, ("schema_version", str(_sql.STORE_SCHEMA_VERSION)))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        found = self._schema_version()
        if found != str(_sql.STORE_SCHEMA_VERSION):
            raise version_error(found, _sql.STORE_SCHEMA_VERSION, _sql.MIGRATES_FROM)

    def _migrate(self, found: str) -> None:
        """Schema 2 or 3 to 4: add what is missing (schema 3: the summaries and the
        append-only triggers; schema 4: the report facts), and build each case's summary and
        report facts from its events, in one write transaction.  A case that does not load
        gets neither (``verify`` names it); nothing else changes."""
        with self._transaction() as db:
            if self._schema_version() != found:
                return  # another process migrated it meanwhile
            for statement in _sql.CREATE:
                db.execute(statement)
            self._recompute_read_models(db)
            db.execute(_sql.SET_META, ("schema_version", str(_sql.STORE_SCHEMA_VERSION)))

    def _schema_version(self) -> object:
        row = self._db.execute(_sql.GET_META, ("schema_version",)).fetchone()
        return row[0] if row is not None else None

    def _objects(self) -> set[str]:
        return {row[0] for row in self._db.execute(_sql.OBJECTS)}

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

    # -- the connection layer --------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Transaction]:
        """``BEGIN IMMEDIATE``: one writer at a time, waiting up to ``timeout``."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None
        try:
            yield db
            db.execute("COMMIT")
        except sqlite3.IntegrityError:
            db.execute("ROLLBACK")
            raise Duplicate from None
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise self._unavailable(exc) from None
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _insert_events(self, tx: Transaction, write: Write) -> None:
        """Check that the stored event the new ones follow has this copy's hash (a read),
        then insert them (plain inserts): nothing can come between the two, as the write
        transaction holds SQLite's only write lock.  INSERT_EVENT_AFTER would do both in one
        statement, but an ``INSERT ... SELECT`` reading the table it writes makes SQLite set
        the selected row aside and keep a statement journal, which cost an append about as
        much as its commit.  A new case's first event takes the key ``(case_id, 1)``: refused
        if the id is taken (Duplicate, then CaseExists)."""
        if write.follows is not None:
            follows = (write.case_id, write.expected_version, write.follows)
            if not write.events or tx.execute(_sql.HAS_EVENT, follows).fetchone() is None:
                self._refuse(tx, write)
        if write.events:
            tx.executemany(_sql.INSERT_EVENT, write.events)

    def _put_summary(self, tx: Transaction, row: tuple[object, ...], *, new: bool = False) -> None:
        """Insert the case's summary row, or set the columns whose values changed (reading the
        stored row costs less than rewriting indexes whose columns did not change; see
        :func:`rjflow._sql.update_summary`).  A new case's row is inserted (replacing one a
        tool left without events) without reading first."""
        stored = None if new else tx.execute(_sql.GET_SUMMARY, (row[0],)).fetchone()
        if stored is None:
            tx.execute(_sql.PUT_SUMMARY, row)
            return
        changed = tuple(i for i in range(1, len(row)) if stored[i] != row[i])
        if changed:
            tx.execute(_sql.update_summary(changed), (*(row[i] for i in changed), row[0]))

    def _read_together(self, *statements: tuple[str, Sequence[Any]]) -> list[list[Any]]:
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

    def _time(self, value: datetime | None) -> object:
        if value is None:
            return None
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def _from_time(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError
        return parsed.astimezone(UTC)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()


#: The schema versions this release migrates when a store is opened.
_MIGRATED = frozenset(str(v) for v in range(_sql.MIGRATES_FROM, _sql.STORE_SCHEMA_VERSION))


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
