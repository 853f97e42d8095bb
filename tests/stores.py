"""The stores the contract suite runs on: each backend says only how to open its store and
how to reach its database behind rjflow's back (as a tamperer with full rights would)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from rjflow import Case, RJFlowError
from rjflow._eventstore import EventStore
from rjflow.states import ACTIONS
from rjflow.store import SQLiteStore
from rjflow.testing import Clock

from .strategies import inputs

#: The SQL in these tests uses "?" placeholders; PostgreSQL's driver wants "%s".
SQL = str


class Backend:
    """How to open a store on one database, and reach that database directly."""

    name: str
    #: The driver's exception for a statement the database refuses.
    refused: type[Exception] | tuple[type[Exception], ...]

    def open(self, **options: Any) -> EventStore:
        raise NotImplementedError

    def raw(self, sql: SQL, params: tuple[object, ...] = ()) -> list[Any]:
        """Run one statement as rjflow's own database user would (triggers in force)."""
        raise NotImplementedError

    def tamper(self, sql: SQL, params: tuple[object, ...] = ()) -> None:
        """Run one statement with the append-only triggers out of the way (a tamperer)."""
        raise NotImplementedError


class SQLiteBackend(Backend):
    name = "sqlite"
    refused = sqlite3.IntegrityError

    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self, **options: Any) -> EventStore:
        return SQLiteStore(self.path, **options)

    def raw(self, sql: SQL, params: tuple[object, ...] = ()) -> list[Any]:
        db = sqlite3.connect(self.path)
        try:
            rows = db.execute(sql, params).fetchall()
            db.commit()
            return rows
        finally:
            db.close()

    def tamper(self, sql: SQL, params: tuple[object, ...] = ()) -> None:
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            db.execute("BEGIN")
            db.execute("DROP TRIGGER IF EXISTS rjflow_events_no_update")
            db.execute("DROP TRIGGER IF EXISTS rjflow_events_no_delete")
            db.execute(sql, params)
            db.execute("COMMIT")  # the store puts the triggers back when it next opens
        finally:
            db.close()


class PostgresBackend(Backend):
    """A fresh schema of the test server per test, named in the DSN's search_path."""

    name = "postgres"

    def __init__(self, server_dsn: str) -> None:
        import psycopg  # noqa: PLC0415 - only where PostgreSQL is tested
        import psycopg.conninfo  # noqa: PLC0415

        self.psycopg = psycopg
        self.refused = (psycopg.errors.IntegrityError, psycopg.errors.RaiseException)
        self.schema = f"t_{uuid.uuid4().hex[:16]}"
        self.server_dsn = server_dsn
        with psycopg.connect(server_dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.schema}")
        self.dsn = psycopg.conninfo.make_conninfo(
            server_dsn, options=f"-c search_path={self.schema}"
        )

    def open(self, **options: Any) -> EventStore:
        from rjflow.store import PostgresStore  # noqa: PLC0415 - needs psycopg

        return PostgresStore(self.dsn, **{"pool_size": 2, **options})

    def raw(self, sql: SQL, params: tuple[object, ...] = ()) -> list[Any]:
        with self.psycopg.connect(self.dsn) as conn:
            cur = conn.execute(sql.replace("?", "%s"), params)
            return cur.fetchall() if cur.description is not None else []

    def tamper(self, sql: SQL, params: tuple[object, ...] = ()) -> None:
        with self.psycopg.connect(self.dsn) as conn:
            conn.execute("ALTER TABLE rjflow_events DISABLE TRIGGER USER")
            conn.execute(sql.replace("?", "%s"), params)
            conn.execute("ALTER TABLE rjflow_events ENABLE TRIGGER USER")

    def drop(self) -> None:
        with self.psycopg.connect(self.server_dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


def make_backend(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The backend ``name`` on a fresh, empty database."""
    if name == "sqlite":
        yield SQLiteBackend(tmp_path / "rj.sqlite3")
        return
    dsn = request.getfixturevalue("postgres_dsn")
    backend = PostgresBackend(dsn)
    try:
        yield backend
    finally:
        backend.drop()


BACKENDS = ["sqlite", "postgres"]

Opener = Callable[..., EventStore]


def save_each_action(
    store: EventStore,
    case: Case,
    clock: Clock,
    steps: st.DataObject,
    *,
    most: int,
    check: Callable[[], None],
) -> int:
    """Save ``case`` as a new case, then fire up to ``most`` random actions with random
    inputs drawn from ``steps``, saving after each one accepted and calling ``check``;
    returns how many were saved."""
    version = store.save(case, expected_version=0)
    saves = 0
    for _ in range(steps.draw(st.integers(0, most), label="actions")):
        name = steps.draw(st.sampled_from(sorted(ACTIONS)), label="action")
        data = steps.draw(inputs(name, case.record), label="input")
        try:
            case.fire(name, at=clock(), actor="F1", **data)
        except RJFlowError:
            continue
        version = store.save(case, expected_version=version)
        check()
        saves += 1
    return saves
