"""The event store on PostgreSQL, for several application servers sharing one database.

``pip install 'rjflow[postgres]'`` (psycopg 3 and psycopg_pool).  The same contract as
:class:`rjflow.store.SQLiteStore` — the same methods, errors, optimistic concurrency,
append-only events, keyed seals, caseload summaries and report facts — written once in
:class:`rjflow._eventstore.EventStore`; this module is only the connection layer.

Concurrency across servers: a save is one statement (its own READ COMMITTED transaction, one
round trip): it inserts the new events, their texts, the seal and the read models only if the
stored event they follow has this copy's hash.  Two servers saving the same case at the same
version both try to insert the same ``(case_id, sequence)``: PostgreSQL's primary key lets
the first commit and refuses the second (a unique violation, after waiting for the first),
which becomes :class:`~rjflow.ConcurrencyConflict`; nothing of the loser's is written.  No
table lock is taken, so saves of different cases run in parallel.  Each read (``load``,
``events``, ``version``) is one REPEATABLE READ snapshot, and never waits for a writer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import psycopg.errors
from psycopg_pool import ConnectionPool, PoolTimeout

from rjflow import _pgsql
from rjflow._eventstore import Duplicate, EventStore, Transaction, Write
from rjflow._storerows import version_error
from rjflow.errors import InvalidInput, StoreUnavailable
from rjflow.integrity import Keyring
from rjflow.policy import LONDON_CRC, Policy

__all__ = ["PostgresStore"]


class PostgresStore(EventStore):
    """Cases kept as their event histories in a PostgreSQL database.

    ``dsn``: a libpq connection string or URI (``"host=db dbname=rj user=app"``,
    ``"postgresql://app@db/rj"``); it is never put in a message.  ``pool_size``: the most
    connections this store opens (psycopg_pool; one is opened at once); ``timeout``: seconds
    to wait for the server at start and for a free connection.  The store's tables, triggers
    and indexes are created, or migrated, when it opens, under a transaction-scoped advisory
    lock, so servers starting together do it once (a store of schema 3, the previous release,
    gets each case's report facts built from its events, in that one transaction).  One store
    may be shared by the threads of a process; each process opens its own.

    Raises :class:`~rjflow.StoreUnavailable` when the server cannot be reached or used (the
    message names the kind of fault and PostgreSQL's SQLSTATE, never the DSN), an
    :class:`~rjflow.RJFlowError` when the database holds a store of another schema version,
    and :class:`~rjflow.InvalidInput` for arguments of the wrong kind.
    """

    _sql = _pgsql

    def __init__(
        self,
        dsn: str,
        *,
        policy: Policy = LONDON_CRC,
        keyring: Keyring | None = None,
        pool_size: int = 4,
        timeout: float = 30.0,
    ) -> None:
        self._configure(policy, keyring)
        if not isinstance(dsn, str):
            raise InvalidInput(
                f"'dsn' must be a PostgreSQL connection string (got {type(dsn).__name__})."
            )
        if type(pool_size) is not int or not 1 <= pool_size <= 1000:
            raise InvalidInput("'pool_size' must be a whole number of connections, 1 to 1000.")
        if type(timeout) not in (int, float) or not 0 < timeout < float("inf"):
            raise InvalidInput("'timeout' must be a number of seconds above 0.")
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        try:
            # One direct connection first: a server that is down, or refuses the role, fails
            # here at once with its SQLSTATE, not after the pool's retries.
            psycopg.connect(dsn, connect_timeout=max(1, round(timeout))).close()
            pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
                dsn,
                min_size=1,
                max_size=pool_size,
                timeout=timeout,
                kwargs={"autocommit": True},
                name="rjflow",
                open=False,
            )
            pool.open(wait=True, timeout=timeout)
        except (psycopg.Error, PoolTimeout) as exc:
            raise _unavailable(exc) from None
        self._pool = pool
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        """Create the schema, or check its version, under the schema lock."""
        with self._transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_pgsql.SCHEMA_LOCK,))
            (exists,) = cur.execute(_pgsql.HAS_META).fetchone()
            found = None
            if exists:
                row = cur.execute(_pgsql.GET_META, ("schema_version",)).fetchone()
                found = row[0] if row is not None else None
            if found is None:
                for statement in _pgsql.CREATE:
                    cur.execute(statement)
                cur.execute(_pgsql.PUT_META, ("schema_version", str(_pgsql.STORE_SCHEMA_VERSION)))
            elif found in _MIGRATED:
                # Schema 3 to 4: the report facts table, and every case's summary and facts
                # from its events, in this one locked transaction.
                for statement in _pgsql.CREATE:
                    cur.execute(statement)
                self._recompute_read_models(cur)
                cur.execute(_pgsql.SET_META, ("schema_version", str(_pgsql.STORE_SCHEMA_VERSION)))
            elif found != str(_pgsql.STORE_SCHEMA_VERSION):
                raise version_error(found, _pgsql.STORE_SCHEMA_VERSION, _pgsql.MIGRATES_FROM)

    # -- the connection layer --------------------------------------------------------------

    def _connection(self) -> Any:
        if self._pool is None:
            raise StoreUnavailable("The store was closed; open a new PostgresStore.")
        return self._pool.connection()

    @contextmanager
    def _transaction(self) -> Iterator[Transaction]:
        try:
            with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except psycopg.errors.UniqueViolation:
            raise Duplicate from None
        except (psycopg.Error, PoolTimeout) as exc:
            raise _unavailable(exc) from None

    def _write_alone(self, write: Write) -> bool:
        """A lone case in one statement, outside any explicit transaction (autocommit makes
        the statement its own transaction): one round trip instead of BEGIN, the inserts,
        the summary, the facts and COMMIT each waiting for the server."""
        statement = _one_statement(write)
        if statement is None:
            return False
        try:
            with self._connection() as conn, conn.cursor() as cur:
                self._write_statement(cur, write, statement)
        except psycopg.errors.UniqueViolation:
            raise Duplicate from None
        except (psycopg.Error, PoolTimeout) as exc:
            raise _unavailable(exc) from None
        return True

    def _write(self, tx: Transaction, write: Write) -> None:
        """In a transaction (an import's batch): each case in one statement when it can be."""
        statement = _one_statement(write)
        if statement is None:
            super()._write(tx, write)
        else:
            self._write_statement(tx, write, statement)

    def _write_statement(
        self, tx: Transaction, write: Write, statement: tuple[str, list[object]]
    ) -> None:
        """Run :func:`rjflow._pgsql.save_case`; nothing inserted means the stored event the
        new ones follow is not this copy's: raise the conflict the store's last event shows."""
        (inserted,) = tx.execute(*statement).fetchone()
        if inserted == 0:
            self._refuse(tx, write)

    def _read_together(self, *statements: tuple[str, Sequence[Any]]) -> list[list[Any]]:
        try:
            with self._connection() as conn:
                if len(statements) == 1:
                    sql, params = statements[0]
                    return [conn.execute(sql, params).fetchall()]
                with conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    return [conn.execute(sql, params).fetchall() for sql, params in statements]
        except (psycopg.Error, PoolTimeout) as exc:
            raise _unavailable(exc) from None

    def _time(self, value: datetime | None) -> object:
        return value.astimezone(UTC) if value is not None else None

    def _from_time(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError
        return value.astimezone(UTC)

    def close(self) -> None:
        """Close the pool's connections (waiting for those in use to be returned)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def _one_statement(write: Write) -> tuple[str, list[object]] | None:
    """:func:`rjflow._pgsql.save_case` and its values for ``write``; None when the save
    deletes erased texts (rows its inserts may add: one statement sees one snapshot) or adds
    no events (nothing to gate on: the checked, multi-statement path handles it)."""
    if write.erased or not write.events:
        return None
    sql = _pgsql.save_case(
        len(write.events),
        len(write.texts),
        follows=write.follows is not None,
        provenance=write.provenance is not None,
        seal=write.seal is not None,
    )
    params: list[object] = []
    if write.follows is not None:
        params += (write.case_id, write.expected_version, write.follows)
    for row in write.events:
        params += row
    for text in write.texts:
        params += text
    if write.provenance is not None:
        params += write.provenance
    if write.seal is not None:
        params += write.seal
    params += write.summary
    params += write.facts
    return sql, params


#: The schema versions this release migrates when a store is opened.
_MIGRATED = frozenset(str(v) for v in range(_pgsql.MIGRATES_FROM, _pgsql.STORE_SCHEMA_VERSION))


def _unavailable(exc: Exception) -> StoreUnavailable:
    """The driver's fault, by kind and SQLSTATE only: its text may quote the DSN's host or
    user, or a value."""
    state = getattr(getattr(exc, "diag", None), "sqlstate", None) or getattr(exc, "sqlstate", None)
    shown = f", SQLSTATE {state}" if isinstance(state, str) and state.isalnum() else ""
    return StoreUnavailable(
        f"The PostgreSQL store cannot be used ({type(exc).__name__}{shown}). Check that the "
        "server is running and reachable with the connection settings given, that the role may "
        "use the database, and that the database holds an rjflow store or none yet."
    )
