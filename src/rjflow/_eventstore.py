"""What every rjflow store does, whatever database holds it.

:class:`EventStore` holds the store's contract once — optimistic concurrency, append-only
events, free text beside them, keyed seals, the caseload summaries and their queries, the
cases' report facts — over a small connection layer each backend provides
(:mod:`rjflow.store` for SQLite, :mod:`rjflow.pgstore` for PostgreSQL): a write transaction,
a read over one committed state, and how its driver spells times.  Each backend's statements
live in its own SQL module (:mod:`rjflow._sql`, :mod:`rjflow._pgsql`), with the same names.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, NamedTuple, Protocol, Self

import attrs

from rjflow import _storerows as rowmap
from rjflow._validate import _check_id, aware_datetime, is_id, of_type
from rjflow.activities import AgreementOutcome, ClosureReason
from rjflow.case import Case
from rjflow.erasure import erase_free_text
from rjflow.errors import (
    CaseNotFound,
    CorruptRecord,
    InvalidDocument,
    InvalidInput,
)
from rjflow.freetext import ErasureReason
from rjflow.history import Event
from rjflow.integrity import Keyring
from rjflow.offences import OffenceCategory
from rjflow.policy import Policy
from rjflow.projection import CaseSummary, summarise
from rjflow.reporting import CaseFacts, case_facts
from rjflow.serialization import (
    LoadReport,
    _check_provenance,
    _fingerprint,
    load_jsonl,
    migrated_from,
    replay,
)
from rjflow.states import State

__all__ = ["EventStore", "StoreProblem", "Write"]

#: The most summaries one query returns.
MAX_PAGE = 1000

#: How many cases' report facts :meth:`EventStore.report_facts` reads in one query.
FACTS_PAGE = 2000


class Transaction(Protocol):
    """The part of a DB-API connection or cursor a write transaction uses."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Any: ...


class Duplicate(Exception):
    """Raised by a backend's write transaction when the database refused a duplicate key:
    another writer saved the same case first."""


@attrs.frozen
class StoreProblem:
    """One thing :meth:`EventStore.verify` found wrong: the case id and what is wrong."""

    case_id: str
    message: str


class Write(NamedTuple):
    """Everything one save writes for one case, computed before its transaction: rows of the
    store's tables, in the order of their columns (see :mod:`rjflow._sql`)."""

    case_id: str
    #: The version the case had when it was loaded (0: a new case).
    expected_version: int
    #: The hash of the stored event the new ones follow (None for a new case).
    follows: str | None
    events: list[tuple[object, ...]]
    texts: list[tuple[str, int, str, str, str]]
    #: Free-text rows the new erasure events delete.
    erased: list[tuple[str, int, str]]
    provenance: tuple[object, ...] | None
    seal: tuple[str, str, int, str, str] | None
    summary: tuple[object, ...]
    facts: tuple[str, int, str]


class EventStore(abc.ABC):
    """The store's contract over a backend's connection layer (see the module docstring)."""

    policy: Policy
    keyring: Keyring | None
    _sql: ModuleType

    def _configure(self, policy: Policy, keyring: Keyring | None) -> None:
        if keyring is not None and not isinstance(keyring, Keyring):
            raise InvalidInput(
                f"'keyring' must be a rjflow Keyring (got {type(keyring).__name__})."
            )
        of_type("policy", policy, Policy, "a rjflow Policy")
        self.policy = policy
        self.keyring = keyring

    # -- the backend's connection layer -------------------------------------------------------

    @abc.abstractmethod
    def _transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction: committed when the block ends, rolled back when it raises.
        A duplicate key raises :class:`Duplicate`; a database fault StoreUnavailable."""

    @abc.abstractmethod
    def _read_together(self, *statements: tuple[str, Sequence[Any]]) -> list[list[Any]]:
        """Several read statements over one committed state (StoreUnavailable on a fault)."""

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._read_together((sql, params))[0]

    @abc.abstractmethod
    def _time(self, value: datetime | None) -> object:
        """A UTC time as the summary table's column holds it."""

    @abc.abstractmethod
    def _from_time(self, value: Any) -> datetime | None:
        """A summary column's time as a UTC datetime."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the store's connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def save(self, case: Case, *, expected_version: int) -> int:
        """Append the case's events after ``expected_version`` (0 for a new case), and its
        summary, in one transaction.

        Returns the new version.  Raises, writing nothing: :class:`~rjflow.CaseExists` when
        ``expected_version`` is 0 and the store already holds a case with this id;
        :class:`~rjflow.ConcurrencyConflict` when the store's version of the case is not
        ``expected_version`` (or its history there is not this case's);
        :class:`~rjflow.InvalidInput` when ``case`` is not a :class:`~rjflow.Case`, was
        opened under a policy other than the store's, or ``expected_version`` is not a whole
        number from 0 to the case's version; :class:`~rjflow.StoreUnavailable` when the
        database cannot be written.
        """
        rowmap.check_case(case)
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
        self._append([(case, expected_version)])
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
        self._append([(case, 0) for case in report.cases])
        return report

    def _append(self, batch: Sequence[tuple[Case, int]]) -> None:
        """Write each case's events after its expected version, its texts, seal and read
        models: all of the batch in one transaction, or nothing.

        What is written is computed first (:meth:`_write_of`), outside the transaction, so
        the database is held only for the statements.  A backend may write a lone case in
        one statement (:meth:`_write_alone`)."""
        writes = [self._write_of(case, expected_version) for case, expected_version in batch]
        write = writes[0] if writes else None
        try:
            if write is not None and len(writes) == 1 and self._write_alone(write):
                return
            with self._transaction() as tx:
                for write in writes:
                    self._write(tx, write)
        except Duplicate:
            assert write is not None  # an insert failed, so there was a case
            actual = self.version(write.case_id)
            raise rowmap.conflict(write.case_id, write.expected_version, actual) from None

    def _write_of(self, case: Case, expected_version: int) -> Write:
        """The rows one save of ``case`` writes, its read models computed here."""
        texts, erased = rowmap.text_rows(case, expected_version)
        provenance = migrated_from(case) if expected_version == 0 else None
        summary, facts = self._read_model_rows(case)
        return Write(
            case_id=case.case_id,
            expected_version=expected_version,
            follows=case.history[expected_version - 1].hash if expected_version else None,
            events=rowmap.rows(case, expected_version),
            texts=texts,
            erased=erased,
            provenance=(
                (
                    case.case_id,
                    provenance["schema_version"],
                    provenance["version"],
                    provenance["head"],
                )
                if provenance is not None
                else None
            ),
            seal=rowmap.seal_row(self.keyring, case),
            summary=summary,
            facts=facts,
        )

    def _read_model_rows(self, case: Case) -> tuple[tuple[object, ...], tuple[str, int, str]]:
        """The case's read models as rows: its summary and its report facts (the one place
        a store computes them, whether it saves, migrates or rebuilds)."""
        return self._summary_row(summarise(case)), (case.case_id, case.version, _facts_text(case))

    def _write_alone(self, write: Write) -> bool:
        """Write one case's rows in a single statement, which is its own transaction, and
        return True; or return False (the default) to have :meth:`_write` do it inside
        :meth:`_transaction`.  Raises as :meth:`_transaction` and :meth:`_write` do."""
        return False

    def _write(self, tx: Transaction, write: Write) -> None:
        """Write one case's rows in the transaction ``tx``, or raise the conflict."""
        sql = self._sql
        self._insert_events(tx, write)
        if write.texts:
            tx.executemany(sql.INSERT_TEXT, write.texts)
        if write.erased:
            tx.executemany(sql.DELETE_TEXT, write.erased)
        if write.provenance is not None:
            tx.execute(sql.PUT_MIGRATION, write.provenance)
        if write.seal is not None:
            tx.execute(sql.PUT_INTEGRITY, write.seal)
        self._put_summary(tx, write.summary, new=write.expected_version == 0)
        tx.execute(sql.PUT_FACTS, write.facts)

    def _insert_events(self, tx: Transaction, write: Write) -> None:
        """Insert the case's events after its expected version, or raise the conflict.

        The check is the database's, in the inserts themselves: a new case's first event
        takes the key ``(case_id, 1)`` (refused if the id is taken: Duplicate, then
        CaseExists); a later event is inserted only if the stored event it follows is there
        with the hash this copy has (``INSERT ... WHERE EXISTS``), so a writer behind, ahead
        or on another history inserts nothing, and two writers at one version collide on the
        key.  No separate read of the last event, so no extra round trip.
        """
        sql = self._sql
        new = write.events
        if write.follows is not None:
            follows = (write.case_id, write.expected_version, write.follows)
            inserted = (
                tx.execute(sql.INSERT_EVENT_AFTER, (*new[0], *follows)).rowcount if new else None
            )
            if inserted == 0 or not new:
                self._refuse(tx, write)
            new = new[1:]
        if new:
            tx.executemany(sql.INSERT_EVENT, new)

    def _refuse(self, tx: Transaction, write: Write) -> None:
        """After the stored event ``write`` follows was not found (nothing inserted): raise
        the conflict the stored last event shows; return only when ``write`` adds no events
        and the store's last event is the one it follows (saving nothing new)."""
        last = tx.execute(self._sql.LAST_EVENT, (write.case_id,)).fetchone()
        stored_version, stored_hash = last if last is not None else (0, None)
        if (stored_version, stored_hash) != (write.expected_version, write.follows) or write.events:
            raise rowmap.conflict(
                write.case_id,
                write.expected_version,
                int(stored_version),
                diverged=stored_version == write.expected_version,
            )

    def _put_summary(self, tx: Transaction, row: tuple[object, ...], *, new: bool = False) -> None:
        """Write a case's summary row (insert, or replace the stored one); ``new``: the case's
        first save (a stored summary is then only one left without events)."""
        tx.execute(self._sql.PUT_SUMMARY, row)

    def _put_read_models(self, tx: Transaction, case: Case) -> None:
        """Write the case's read models at its version: its summary and its report facts."""
        summary, facts = self._read_model_rows(case)
        self._put_summary(tx, summary)
        tx.execute(self._sql.PUT_FACTS, facts)

    def _recompute_read_models(self, tx: Transaction) -> int:
        """In a migration's write transaction: every case's summary and report facts from its
        events, read through ``tx`` (so that the migration holds one connection).  A case that
        does not load keeps what it had (``verify`` names it).  Returns how many were written."""
        sql = self._sql
        written = 0
        for (case_id,) in tx.execute(sql.CASE_IDS).fetchall():
            statements = (sql.CASE_EVENTS, sql.CASE_TEXTS, sql.GET_MIGRATION, sql.GET_INTEGRITY)
            try:
                rowmap.valid_id(case_id)
                rows = [tx.execute(statement, (case_id,)).fetchall() for statement in statements]
                case = self._case_from_rows(case_id, *rows)
            except (InvalidDocument, InvalidInput):
                continue
            self._put_read_models(tx, case)
            written += 1
        return written

    def _summary_row(self, s: CaseSummary) -> tuple[object, ...]:
        return (
            s.case_id,
            s.stage.value,
            s.version,
            self._time(s.opened_at),
            self._time(s.updated_at),
            s.offence_category.value,
            s.lead_facilitator,
            s.closure_reason.value if s.closure_reason is not None else None,
            s.outcome.value if s.outcome is not None else None,
            self._time(s.closed_at),
            s.sessions_held,
            self._time(s.due_at),
            bool(s.actionable),
        )

    # -- reading ---------------------------------------------------------------------------

    def version(self, case_id: str) -> int:
        """The stored version of a case (0 if the store does not have it).

        Raises :class:`~rjflow.InvalidInput`, without repeating it, when ``case_id`` is not an
        opaque id; :class:`~rjflow.CorruptRecord` when the rows stored under ``case_id`` open
        another case (copied outside rjflow).
        """
        rowmap.valid_id(case_id)
        last, opening = self._read_together(
            (self._sql.LAST_EVENT, (case_id,)), (self._sql.OPENING_DATA, (case_id,))
        )
        if opening and rowmap.opened_case_id(opening[0][0]) not in (case_id, None):
            raise rowmap.not_this_case(case_id)
        return int(last[0][0]) if last else 0

    def events(self, case_id: str) -> list[Event]:
        """The stored events of a case, oldest first (not verified; :meth:`load` verifies).

        Raises :class:`~rjflow.CorruptRecord`, naming the case and the event's sequence, when
        a row cannot be read as an event; :class:`~rjflow.InvalidInput` when ``case_id`` is
        not an opaque id.
        """
        rowmap.valid_id(case_id)
        rows, text_rows = self._read_together(
            (self._sql.CASE_EVENTS, (case_id,)), (self._sql.CASE_TEXTS, (case_id,))
        )
        return rowmap.events(case_id, rows, text_rows)

    def load(self, case_id: str) -> Case:
        """The case rebuilt from its stored events, its chain verified.

        Its events, texts, provenance and seal are read together, over one committed state, so
        a writer saving the case meanwhile cannot make a good case look tampered with.

        Raises :class:`~rjflow.CaseNotFound` (a ``KeyError``) when the store has no such case;
        :class:`~rjflow.InvalidInput`, without repeating it, when ``case_id`` is not an opaque
        id; :class:`~rjflow.CorruptRecord` when a row cannot be read as an event; and
        :class:`~rjflow.InvalidDocument` (or :class:`~rjflow.HistoryTampered`) when the stored
        history does not verify.
        """
        return self._load(case_id)[0]

    def _load(self, case_id: str, *also: tuple[str, Sequence[Any]]) -> tuple[Case, list[list[Any]]]:
        """:meth:`load`, and what the statements ``also`` read in the same snapshot."""
        rowmap.valid_id(case_id)
        sql = self._sql
        rows, text_rows, migration, seal, *more = self._read_together(
            (sql.CASE_EVENTS, (case_id,)),
            (sql.CASE_TEXTS, (case_id,)),
            (sql.GET_MIGRATION, (case_id,)),
            (sql.GET_INTEGRITY, (case_id,)),
            *also,
        )
        return self._case_from_rows(case_id, rows, text_rows, migration, seal), more

    def _case_from_rows(
        self,
        case_id: str,
        rows: Sequence[Sequence[Any]],
        text_rows: Sequence[Sequence[Any]],
        migration: Sequence[Sequence[Any]],
        seal: Sequence[Sequence[Any]],
    ) -> Case:
        """The case its stored rows give, verified (what :meth:`load` raises)."""
        events = rowmap.events(case_id, rows, text_rows)
        if not events:
            raise CaseNotFound(case_id)
        try:
            provenance = (
                _check_provenance(
                    dict(zip(("schema_version", "version", "head"), migration[0], strict=True))
                )
                if migration
                else None
            )
            if self.keyring is not None:
                rowmap.check_seal(seal, self.keyring, case_id, events, provenance=provenance)
            case = replay(events, policy=self.policy, migrated_from=provenance)
        except InvalidDocument as exc:
            exc.args = (f"Stored case {case_id}: {exc}",)
            raise
        if case.case_id != case_id:  # rows copied from another case: never return that case
            raise rowmap.not_this_case(case_id)
        return case

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
        return [row[0] for row in self._read(self._sql.CASE_IDS)]

    # -- the caseload: summaries and their queries -------------------------------------------

    def summary(self, case_id: str) -> CaseSummary:
        """The stored summary of a case (see :mod:`rjflow.projection`), without replaying it.

        Raises :class:`~rjflow.CaseNotFound` when the store has no summary of this case,
        :class:`~rjflow.InvalidInput` (not repeating it) when ``case_id`` is not an opaque id,
        :class:`~rjflow.CorruptRecord` when the row cannot be read (``rebuild`` mends it).
        """
        rowmap.valid_id(case_id)
        rows = self._read(self._sql.GET_SUMMARY, (case_id,))
        if not rows:
            raise CaseNotFound(case_id)
        return self._summary(rows[0])

    def find(
        self,
        *,
        stage: State | str | None = None,
        facilitator: str | None = None,
        overdue_at: datetime | None = None,
        opened: tuple[datetime, datetime] | None = None,
        closed: tuple[datetime, datetime] | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[CaseSummary]:
        """One page of the caseload: the summaries matching every filter given, by case id.

        ``stage``: a :class:`~rjflow.State` (or its value); ``facilitator``: the lead
        facilitator's id; ``overdue_at``: cases overdue at this time (their ``due_at`` is
        before it; see :func:`rjflow.projection.next_due`); ``opened`` / ``closed``: a
        period ``(start, end)``, start included and end excluded, in which the case was
        opened / completed or closed.
        Paged by case id: ``after`` is the last case id of the previous page, ``limit`` the
        page size (1 to 1000).  Times are timezone-aware.  One indexed query, no replay.

        Raises :class:`~rjflow.InvalidInput` for a filter of the wrong kind, or a period that
        does not end after it starts (never repeating the value given, unless it is a
        validated id).
        """
        clauses: list[str] = []
        params: list[object] = []
        where = self._sql.FIND_WHERE
        if stage is not None:
            try:
                stage_value = State(stage).value
            except ValueError:
                raise InvalidInput(
                    "'stage' must be a rjflow State or its value, such as 'review'."
                ) from None
            clauses.append(where["stage"])
            params.append(stage_value)
        if facilitator is not None:
            _check_id("facilitator", facilitator)
            clauses.append(where["facilitator"])
            params.append(facilitator)
        if overdue_at is not None:
            clauses.append(where["overdue"])
            params.append(self._time(aware_datetime("overdue_at", overdue_at)))
        for name, period in (("opened", opened), ("closed", closed)):
            if period is not None:
                start, end = _period(name, period)
                clauses.append(where[name])
                params += [self._time(start), self._time(end)]
        if after is not None:
            _check_id("after", after)
            clauses.append(where["after"])
            params.append(after)
        if type(limit) is not int or not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"'limit' must be a whole number from 1 to {MAX_PAGE}.")
        statement = self._sql.FIND.format(where=" AND ".join(clauses) or "1 = 1")
        return [self._summary(row) for row in self._read(statement, (*params, limit))]

    def count_by_stage(self) -> dict[State, int]:
        """How many cases the store holds at each stage (every stage, 0 included)."""
        counts = dict.fromkeys(State, 0)
        for stage, count in self._read(self._sql.COUNT_BY_STAGE):
            try:
                counts[State(stage)] = int(count)
            except ValueError:
                continue  # an unknown stage in a damaged row: verify reports it
        return counts

    def rebuild(self) -> int:
        """Recompute every case's summary and report facts from its stored events (each case
        loaded and verified) and drop those that have no events; returns how many cases were
        written.

        A case that does not load keeps the summary and facts it had (none after a
        migration), so it never drops out of a caseload list unnoticed; :meth:`verify` names
        it.  Safe while others write: a case's read models are written only if it is still at
        the version they were computed from."""
        sql = self._sql
        written = 0
        ids = self.case_ids()
        summaries, facts = self._read_together((sql.SUMMARY_IDS, ()), (sql.FACTS_IDS, ()))
        for statement, stored in ((sql.DELETE_SUMMARY, summaries), (sql.DELETE_FACTS, facts)):
            orphans = {row[0] for row in stored} - set(ids)
            if orphans:
                with self._transaction() as tx:
                    tx.executemany(statement, [(i,) for i in sorted(orphans)])
        for case_id in ids:
            try:
                case = self.load(case_id)
            except (InvalidDocument, InvalidInput):  # InvalidInput: rows under a non-id
                continue
            with self._transaction() as tx:
                last = tx.execute(sql.LAST_EVENT, (case_id,)).fetchone()
                if last is not None and int(last[0]) == case.version:
                    self._put_read_models(tx, case)
                    written += 1
        return written

    def verify(self) -> list[StoreProblem]:
        """Check every case: its chain (and seal, with a keyring) verifies, and its stored
        summary and report facts are the ones its events give.  Returns the problems found
        (empty: all good); never raises for a damaged case."""
        sql = self._sql
        problems: list[StoreProblem] = []
        ids = self.case_ids()
        summarised, with_facts = self._read_together((sql.SUMMARY_IDS, ()), (sql.FACTS_IDS, ()))
        for what, stored_ids in (("a summary", summarised), ("report facts", with_facts)):
            problems += [
                StoreProblem(i, f"{what} without events; run rebuild.")
                for i in sorted({row[0] for row in stored_ids} - set(ids))
                if is_id(i)
            ]
        for case_id in ids:
            if not is_id(case_id):
                problems.append(StoreProblem("?", "events stored under a value not an id."))
                continue
            try:  # the case and its read models as one snapshot: a writer meanwhile is fine
                case, (summary_rows, facts_rows) = self._load(
                    case_id, (sql.GET_SUMMARY, (case_id,)), (sql.GET_FACTS, (case_id,))
                )
            except InvalidDocument as exc:
                problems.append(StoreProblem(case_id, str(exc)))
                continue
            problems += self._check_summary(case, summary_rows)
            problems += self._check_facts(case, facts_rows)
        return problems

    def _check_summary(self, case: Case, rows: list[Any]) -> list[StoreProblem]:
        if not rows:
            return [StoreProblem(case.case_id, "no summary; run rebuild.")]
        try:
            stored = self._summary(rows[0])
        except CorruptRecord as exc:
            return [StoreProblem(case.case_id, str(exc))]
        if stored != summarise(case):
            return [StoreProblem(case.case_id, "the summary differs from the events; run rebuild.")]
        return []

    def _check_facts(self, case: Case, rows: list[Any]) -> list[StoreProblem]:
        if not rows:
            return [StoreProblem(case.case_id, "no report facts; run rebuild.")]
        version, text = rows[0]
        try:
            stored = _facts(case.case_id, text)
        except CorruptRecord as exc:
            return [StoreProblem(case.case_id, str(exc))]
        if version != case.version or stored != case_facts(case):
            return [
                StoreProblem(case.case_id, "the report facts differ from the events; run rebuild.")
            ]
        return []

    # -- the caseload report: each case's facts ----------------------------------------------

    def facts(self, case_id: str) -> CaseFacts:
        """The stored report facts of a case (:func:`rjflow.reporting.case_facts` of it, kept
        with its events), without replaying it.  Their version is not compared with the
        case's here (:meth:`report_facts` and :meth:`verify` do).

        Raises :class:`~rjflow.CaseNotFound` when the store has no facts of this case,
        :class:`~rjflow.InvalidInput` (not repeating it) when ``case_id`` is not an opaque id,
        :class:`~rjflow.CorruptRecord` when the row cannot be read (``rebuild`` mends it).
        """
        rowmap.valid_id(case_id)
        rows = self._read(self._sql.GET_FACTS, (case_id,))
        if not rows:
            raise CaseNotFound(case_id)
        return _facts(case_id, rows[0][1])

    def report_facts(self, *, problems: list[StoreProblem] | None = None) -> Iterator[CaseFacts]:
        """Every stored case's report facts, by case id, read a page of
        :data:`FACTS_PAGE` cases at a time (one indexed query each): what
        :func:`rjflow.reporting.build_report` counts, without loading a single case.

        >>> from datetime import date
        >>> from rjflow.demo import build_demo_case
        >>> from rjflow.reporting import Period, build_report
        >>> from rjflow.store import SQLiteStore
        >>> with SQLiteStore(":memory:") as store:
        ...     _ = store.save(build_demo_case(), expected_version=0)
        ...     year = Period.days(date(2026, 1, 1), date(2026, 12, 31))
        ...     build_report(store.report_facts(), year).counts["completed"]
        1

        Each case is read once, as it stood when its page was read (a case saved meanwhile
        counts with its old or its new facts, never twice); the cases are those with a
        summary (a case that did not load when the store was migrated has neither:
        :meth:`verify` names it).  A case whose facts cannot be read, are missing or are
        older than its summary (written by an older release during an upgrade) raises
        :class:`~rjflow.CorruptRecord` naming it, or, when a ``problems`` list is given, is
        added to it as a :class:`StoreProblem` and left out; ``rebuild`` mends it.  Raises
        :class:`~rjflow.StoreUnavailable` when the database cannot be read.
        """
        after = ""
        while True:
            page = self._read(self._sql.REPORT_FACTS, (after, FACTS_PAGE))
            for case_id, version, facts_version, text in page:
                try:
                    if text is None or facts_version != version:
                        raise _corrupt_facts(
                            case_id,
                            "are missing or older than the case (saved by an older release)",
                        )
                    facts = _facts(case_id, text)
                except CorruptRecord as exc:
                    if problems is None:
                        raise
                    problems.append(StoreProblem(exc.case_id, str(exc)))
                    continue
                yield facts
            if len(page) < FACTS_PAGE:
                return
            after = page[-1][0]

    def _summary(self, row: Sequence[Any]) -> CaseSummary:
        """A summary row as a CaseSummary; CorruptRecord when it cannot be read."""
        (case_id, stage, version, opened, updated, category, lead, reason, outcome, closed,
         sessions, due, actionable) = row  # fmt: skip
        try:
            return CaseSummary(
                case_id=_summary_id(case_id),
                stage=State(stage),
                version=_whole(version),
                opened_at=_required(self._from_time(opened)),
                updated_at=_required(self._from_time(updated)),
                offence_category=OffenceCategory(category),
                lead_facilitator=_summary_id(lead) if lead is not None else None,
                closure_reason=ClosureReason(reason) if reason is not None else None,
                outcome=AgreementOutcome(outcome) if outcome is not None else None,
                closed_at=self._from_time(closed),
                sessions_held=_whole(sessions),
                due_at=self._from_time(due),
                actionable=bool(actionable) if actionable in (0, 1) else _bad(),
            )
        except (ValueError, TypeError, InvalidInput):
            shown = case_id if is_id(case_id) else "?"
            raise CorruptRecord(
                f"The summary of stored case {shown} cannot be read; the database was changed "
                "outside rjflow. Run rebuild to recompute it from the events.",
                case_id=shown,
                path="summary",
                sequence=None,
            ) from None


# -- helpers -----------------------------------------------------------------------------------


def _facts_text(case: Case) -> str:
    """The case's report facts as the store keeps them: compact JSON text, keys sorted."""
    return _FACTS_JSON(case_facts(case).to_dict())


_FACTS_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def _corrupt_facts(case_id: object, what: str) -> CorruptRecord:
    shown = case_id if is_id(case_id) else "?"
    assert isinstance(shown, str)
    return CorruptRecord(
        f"The report facts of stored case {shown} {what}. Run rebuild to recompute them from "
        "the events.",
        case_id=shown,
        path="facts",
        sequence=None,
    )


def _parse_facts(text: str) -> Any:
    """Stored facts' JSON text, parsed (NaN and Infinity refused; ``CaseFacts.from_dict``
    then allows only its own shape, two levels deep); InvalidDocument for anything else.

    Not the one reader's full checks (:mod:`rjflow._reader`: a walk over every value, and
    a key given twice refused), which would cost the caseload report as much again: a facts
    row edited into other well-formed facts, with a key twice or not, can only be found by
    recomputing them from the events, which is what ``verify`` does."""
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError):  # InvalidDocument is a ValueError too
        raise InvalidDocument("not JSON", path="$") from None


def _no_constant(_name: str) -> Any:
    raise InvalidDocument("NaN or Infinity", path="$")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _facts(case_id: object, text: object) -> CaseFacts:
    """A stored facts row as CaseFacts of ``case_id``; CorruptRecord when it cannot be read."""
    try:
        if not isinstance(text, str):
            raise InvalidDocument("not text", path="$")
        facts = CaseFacts.from_dict(_parse_facts(text))
    except InvalidDocument:
        raise _corrupt_facts(
            case_id, "cannot be read; the database was changed outside rjflow"
        ) from None
    if facts.case_id != case_id:
        raise _corrupt_facts(case_id, "are another case's; the database was changed outside rjflow")
    return facts


def _bad() -> bool:
    raise ValueError


def _whole(value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError
    return value


def _required(value: datetime | None) -> datetime:
    if value is None:
        raise ValueError
    return value


def _summary_id(value: object) -> str:
    if not is_id(value):
        raise ValueError
    assert isinstance(value, str)
    return value


def _period(name: str, period: object) -> tuple[datetime, datetime]:
    if not isinstance(period, tuple) or len(period) != 2:
        raise InvalidInput(f"'{name}' must be a pair of times (start, end).")
    start = aware_datetime(f"{name}[0]", period[0])
    end = aware_datetime(f"{name}[1]", period[1])
    if end <= start:  # an empty period matches nothing: a mistake, not a question
        raise InvalidInput(
            f"'{name}' must end after it starts: give (start, end), the end excluded."
        )
    return start, end
