"""The store contract, written once and run on every backend (SQLite, PostgreSQL): what any
rjflow store must do, whatever database holds it.  Each backend only says how to open its
store and reach its database (tests/stores.py), as eventsourcing's recorder test cases do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from rjflow import (
    AgreementAction,
    CaseExists,
    CaseNotFound,
    ConcurrencyConflict,
    CorruptRecord,
    HistoryTampered,
    IntegrityError,
    InvalidDocument,
    InvalidInput,
    RJFlowError,
    State,
)
from rjflow.demo import build_demo_case
from rjflow.policy import LONDON_CRC
from rjflow.projection import summarise
from rjflow.serialization import dumps, to_dict

from .builders import KEYRING, at_stage
from .pgserver import postgres_dsn  # noqa: F401  (the session's PostgreSQL server)
from .stores import BACKENDS, Backend, make_backend
from .test_integrity import rehash

DEMO = build_demo_case()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from make_backend(request.param, tmp_path, request)


@pytest.fixture
def stored(backend: Backend) -> Backend:
    """The backend holding the demo case."""
    with backend.open() as store:
        store.save(DEMO, expected_version=0)
    return backend


class TestRoundTrip:
    def test_a_saved_case_loads_back_identical(self, backend: Backend) -> None:
        """Save, then load: an equal case, the same events, the version its event count."""
        with backend.open() as store:
            assert store.save(DEMO, expected_version=0) == DEMO.version
            assert store.version(DEMO.case_id) == DEMO.version
            loaded = store.load(DEMO.case_id)
            assert loaded == DEMO
            assert store.events(DEMO.case_id) == list(DEMO.history)
        with backend.open() as store:  # another connection, after close
            assert store.load(DEMO.case_id) == DEMO

    def test_saving_in_steps_equals_saving_at_once(self, backend: Backend) -> None:
        """A case saved as it grows loads as the same case saved whole."""
        case, clock = at_stage(State.INTRODUCTION, case_id="RJ-STEP")
        with backend.open() as store:
            version = store.save(case, expected_version=0)
            case.record_session(duration=timedelta(hours=2), at=clock(), actor="F1")
            case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
            case.start_preparation(at=clock(), actor="F1")
            assert store.save(case, expected_version=version) == version + 3
            assert store.load("RJ-STEP") == case

    def test_listing_cases(self, backend: Backend) -> None:
        """case_ids lists every stored case once, sorted; an empty store lists none."""
        with backend.open() as store:
            assert store.case_ids() == []
            for case_id in ["RJ-B", "RJ-A", "RJ-C"]:
                store.save(at_stage(State.REFERRED, case_id=case_id)[0], expected_version=0)
            assert store.case_ids() == ["RJ-A", "RJ-B", "RJ-C"]


class TestOptimisticConcurrency:
    def test_a_stale_writer_gets_a_typed_conflict_and_writes_nothing(
        self, backend: Backend
    ) -> None:
        """Two copies loaded at one version: the second save is a ConcurrencyConflict."""
        case, clock = at_stage(State.INTRODUCTION)
        with backend.open() as store:
            store.save(case, expected_version=0)
            first = store.load(case.case_id)
            second = store.load(case.case_id)
            first.assess_risk("favourable", at=clock(), actor="F1")
            second.assess_risk("unfavourable", at=clock(), actor="F1")
            store.save(first, expected_version=case.version)
            with pytest.raises(ConcurrencyConflict) as err:
                store.save(second, expected_version=case.version)
            assert err.value.actual_version == case.version + 1
            assert "someone else" in str(err.value)
            assert store.load(case.case_id) == first

    def test_a_writer_behind_by_versions_gets_the_stored_version(self, backend: Backend) -> None:
        """Expected version older than the stored one: a conflict naming both versions."""
        case, _ = at_stage(State.INTRODUCTION)
        with backend.open() as store:
            store.save(case, expected_version=0)
            with pytest.raises(ConcurrencyConflict) as err:
                store.save(case, expected_version=case.version - 1)
            assert (err.value.expected_version, err.value.actual_version) == (
                case.version - 1,
                case.version,
            )

    def test_a_writer_ahead_of_the_store_inserts_nothing(self, backend: Backend) -> None:
        """Expected version beyond the stored one (a copy whose earlier save never happened):
        a conflict naming the stored version; no gap is ever written."""
        case, clock = at_stage(State.INTRODUCTION)
        with backend.open() as store:
            stored = store.save(case, expected_version=0)
            case.assess_risk("favourable", at=clock(), actor="F1")
            case.assess_risk("favourable", at=clock(), actor="F1")
            with pytest.raises(ConcurrencyConflict) as err:
                store.save(case, expected_version=stored + 1)
            assert err.value.actual_version == stored
            assert store.version(case.case_id) == stored

    def test_saving_nothing_new_checks_the_version(self, backend: Backend) -> None:
        """Saving a case with no new events at its own version succeeds and writes nothing;
        at a stale version it is a conflict."""
        case, clock = at_stage(State.INTRODUCTION)
        with backend.open() as store:
            version = store.save(case, expected_version=0)
            assert store.save(case, expected_version=version) == version
            other = store.load(case.case_id)
            other.assess_risk("favourable", at=clock(), actor="F1")
            store.save(other, expected_version=version)
            with pytest.raises(ConcurrencyConflict):
                store.save(case, expected_version=version)

    def test_a_new_case_under_a_taken_id_raises_case_exists(self, stored: Backend) -> None:
        """expected_version=0 under a stored id: CaseExists (a ConcurrencyConflict)."""
        other, _ = at_stage(State.PREPARATION, case_id=DEMO.case_id)
        with stored.open() as store:
            with pytest.raises(CaseExists) as err:
                store.save(other, expected_version=0)
            assert isinstance(err.value, ConcurrencyConflict)
            assert err.value.actual_version == DEMO.version
            assert store.load(DEMO.case_id) == DEMO

    @pytest.mark.parametrize("expected", [-1, DEMO.version + 1, True, "3", 2.0, None])
    def test_expected_version_out_of_range_is_invalid_input(
        self, stored: Backend, expected: object
    ) -> None:
        """A bad expected_version is InvalidInput; nothing written."""
        with stored.open() as store:
            with pytest.raises(InvalidInput):
                store.save(DEMO, expected_version=expected)  # type: ignore[arg-type]
            assert store.version(DEMO.case_id) == DEMO.version

    def test_the_database_refuses_a_duplicate_sequence(self, stored: Backend) -> None:
        """Even bypassing rjflow, a second event at a taken (case, sequence) is refused by
        the database itself."""
        with pytest.raises(stored.refused):
            stored.raw(
                "INSERT INTO rjflow_events VALUES (?, 1, 'x', 'x', 'x', '{}', NULL, NULL, "
                "'x', 'x', NULL)",
                (DEMO.case_id,),
            )


class TestAppendOnly:
    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE rjflow_events SET actor = 'F9' WHERE sequence = 3",
            "DELETE FROM rjflow_events WHERE sequence > 30",
            "DELETE FROM rjflow_events",
        ],
    )
    def test_the_database_refuses_to_change_or_delete_events(
        self, stored: Backend, sql: str
    ) -> None:
        """Regression (append-only only by convention): the database refuses UPDATE and DELETE
        of stored events; the case is unchanged."""
        with pytest.raises(stored.refused):
            stored.raw(sql)
        with stored.open() as store:
            assert store.load(DEMO.case_id) == DEMO


class TestTypedErrors:
    def test_unknown_id_raises_case_not_found(self, stored: Backend) -> None:
        """An unknown id is CaseNotFound, an rjflow error and a KeyError, plainly worded."""
        with stored.open() as store, pytest.raises(CaseNotFound) as err:
            store.load("RJ-0")
        assert isinstance(err.value, KeyError) and isinstance(err.value, RJFlowError)
        assert err.value.case_id == "RJ-0"
        assert str(err.value).startswith("The store has no case RJ-0.")

    def test_a_value_that_is_not_an_id_is_refused_without_echo(self, stored: Backend) -> None:
        """Text that is not an opaque id is InvalidInput on every read, never repeated."""
        with stored.open() as store:
            for read in (store.load, store.events, store.version, store.summary):
                with pytest.raises(InvalidInput) as err:
                    read("Jane Smith")
                assert "Jane" not in str(err.value)

    def test_a_corrupt_row_is_a_corrupt_record_naming_case_and_sequence(
        self, stored: Backend
    ) -> None:
        """A row whose data is not JSON: CorruptRecord naming the case and the sequence, not
        the row's content."""
        stored.tamper('UPDATE rjflow_events SET data = \'{"note": "secret\' WHERE sequence = 3')
        with stored.open() as store, pytest.raises(CorruptRecord) as err:
            store.load(DEMO.case_id)
        assert isinstance(err.value, InvalidDocument)
        assert (err.value.case_id, err.value.sequence) == (DEMO.case_id, 3)
        assert f"Stored case {DEMO.case_id}, event 3," in str(err.value)
        assert "secret" not in str(err.value)

    def test_an_edited_event_is_history_tampered(self, stored: Backend) -> None:
        """An event edited behind rjflow's back (triggers dropped) fails the chain on load."""
        stored.tamper("UPDATE rjflow_events SET actor = 'F9' WHERE sequence = 3")
        with stored.open() as store, pytest.raises(HistoryTampered) as err:
            store.load(DEMO.case_id)
        assert err.value.sequence == 3

    def test_rows_of_another_case_are_never_returned(self, stored: Backend) -> None:
        """Rows moved under another id: CorruptRecord from version, and load refuses them
        (an InvalidDocument), never returning the other case."""
        stored.tamper("UPDATE rjflow_events SET case_id = 'RJ-COPY'")
        with stored.open() as store:
            with pytest.raises(CorruptRecord):
                store.version("RJ-COPY")
            with pytest.raises(InvalidDocument):
                store.load("RJ-COPY")

    def test_a_policy_other_than_the_stores_is_refused(self, backend: Backend) -> None:
        """A case opened under another policy is InvalidInput naming fingerprints only."""
        policy = attrs.evolve(LONDON_CRC, name="Another programme")
        case, _ = at_stage(State.REFERRED, policy=policy)
        with backend.open() as store, pytest.raises(InvalidInput) as err:
            store.save(case, expected_version=0)
        assert "Another programme" not in str(err.value)


class TestImport:
    def test_import_is_all_or_nothing(self, stored: Backend, tmp_path: Path) -> None:
        """import_jsonl saves every good line in one transaction; one taken id: CaseExists and
        nothing written; bad lines are reported."""
        other, _ = at_stage(State.PREPARATION, case_id="RJ-NEW")
        lines = tmp_path / "cases.jsonl"
        lines.write_text(dumps(other) + "\n{oops\n" + dumps(DEMO) + "\n", encoding="utf-8")
        with stored.open() as store:
            with pytest.raises(CaseExists):
                store.import_jsonl(lines)
            assert store.case_ids() == [DEMO.case_id]
            assert [s.case_id for s in store.find()] == [DEMO.case_id]

    def test_import_into_an_empty_store(self, backend: Backend, tmp_path: Path) -> None:
        """Every good line becomes a case, with its summary."""
        other, _ = at_stage(State.PREPARATION, case_id="RJ-NEW")
        lines = tmp_path / "cases.jsonl"
        lines.write_text(dumps(other) + "\n{oops\n" + dumps(DEMO) + "\n", encoding="utf-8")
        with backend.open() as store:
            report = store.import_jsonl(lines)
            assert [p.line for p in report.problems] == [2]
            assert store.case_ids() == sorted([DEMO.case_id, "RJ-NEW"])
            assert store.load("RJ-NEW") == other
            assert store.summary("RJ-NEW") == summarise(other)


class TestKeyedIntegrity:
    """Opened with a keyring, a store keeps each case's seal and requires it on load."""

    def saved(self, backend: Backend) -> None:
        with backend.open(keyring=KEYRING) as store:
            store.save(DEMO, expected_version=0)
            assert store.load(DEMO.case_id) == DEMO

    def test_deleting_the_newest_rows_is_detected(self, backend: Backend) -> None:
        """Truncation behind rjflow's back: the seal covers more events."""
        self.saved(backend)
        backend.tamper("DELETE FROM rjflow_events WHERE sequence > ?", (DEMO.version - 2,))
        with backend.open(keyring=KEYRING) as store, pytest.raises(IntegrityError) as err:
            store.load(DEMO.case_id)
        assert err.value.path == "integrity.version"
        with backend.open() as store:  # without the keyring: the documented limit
            assert store.load(DEMO.case_id).version == DEMO.version - 2

    def test_rows_rewritten_with_recomputed_hashes_are_detected(self, backend: Backend) -> None:
        """An edit behind rjflow's back with the chain recomputed: the head moved."""
        self.saved(backend)
        doc = to_dict(DEMO)
        doc["events"][1]["actor"] = "F9"
        rehash(doc)
        for raw in doc["events"]:
            backend.tamper(
                "UPDATE rjflow_events SET actor = ?, previous_hash = ?, hash = ? "
                "WHERE case_id = ? AND sequence = ?",
                (raw["actor"], raw["previous_hash"], raw["hash"], DEMO.case_id, raw["sequence"]),
            )
        with backend.open(keyring=KEYRING) as store, pytest.raises(IntegrityError) as err:
            store.load(DEMO.case_id)
        assert err.value.path == "integrity.head"

    def test_a_missing_seal_is_detected(self, backend: Backend) -> None:
        """A seal row removed (or a case saved by a writer without the keyring)."""
        self.saved(backend)
        backend.raw("DELETE FROM rjflow_integrity")
        with backend.open(keyring=KEYRING) as store, pytest.raises(IntegrityError) as err:
            store.load(DEMO.case_id)
        assert err.value.path == "integrity"
        assert str(err.value).startswith(f"Stored case {DEMO.case_id}: ")


class TestErasure:
    def test_erasure_deletes_the_texts_in_the_store(self, backend: Backend) -> None:
        """store.erase_free_text: the text rows are gone, the case still loads and verifies,
        and no stored row holds the text."""
        case, clock = at_stage(State.CONFERENCE, case_id="RJ-ER")
        case.propose_agreement(
            [AgreementAction("A1", "Repay £40 to the canary café", "O1", date(2026, 9, 1))],
            at=clock(),
            actor="F1",
        )
        with backend.open(keyring=KEYRING) as store:
            store.save(case, expected_version=0)
            assert backend.raw("SELECT COUNT(*) FROM rjflow_texts")[0][0] == 1
            erased = store.erase_free_text("RJ-ER", at=clock(), actor="M1")
            assert store.load("RJ-ER") == erased
            assert store.summary("RJ-ER") == summarise(erased)
        assert backend.raw("SELECT COUNT(*) FROM rjflow_texts")[0][0] == 0
        dumped = str(backend.raw("SELECT * FROM rjflow_events"))
        assert "canary" not in dumped


# -- the caseload: summaries and queries ---------------------------------------------------------

T = datetime(2026, 1, 1, tzinfo=UTC)


def caseload() -> list[Any]:
    """Cases at several stages, two facilitators, one with an agreement action due."""
    cases = []
    for n, stage in enumerate(
        [State.REFERRED, State.INTRODUCTION, State.INTRODUCTION, State.PREPARATION, State.REVIEW]
    ):
        case, _ = at_stage(stage, case_id=f"RJ-Q{n}")
        cases.append(case)
    return cases


class TestSummaries:
    def test_each_save_writes_the_cases_summary(self, backend: Backend) -> None:
        """After every save the stored summary is the projection of the saved case."""
        case, clock = at_stage(State.INTRODUCTION, case_id="RJ-S")
        with backend.open() as store:
            store.save(case, expected_version=0)
            assert store.summary("RJ-S") == summarise(case)
            version = case.version
            case.record_session(duration=timedelta(hours=2), at=clock(), actor="F1")
            case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
            case.start_preparation(at=clock(), actor="F1")
            store.save(case, expected_version=version)
            assert store.summary("RJ-S") == summarise(case)
            assert store.summary("RJ-S").stage is State.PREPARATION

    def test_a_refused_save_leaves_the_summary(self, stored: Backend) -> None:
        """A conflicting save writes no summary either (one transaction)."""
        other, _ = at_stage(State.PREPARATION, case_id=DEMO.case_id)
        with stored.open() as store:
            with pytest.raises(CaseExists):
                store.save(other, expected_version=0)
            assert store.summary(DEMO.case_id) == summarise(DEMO)

    def test_queries(self, backend: Backend) -> None:
        """By stage, by facilitator, overdue, opened and closed in a period, paged: the
        answers computed here from the cases themselves."""
        cases = [*caseload(), DEMO]
        with backend.open() as store:
            for case in cases:
                store.save(case, expected_version=0)
            summaries = {c.case_id: summarise(c) for c in cases}

            def ids(found: list[Any]) -> list[str]:
                return [s.case_id for s in found]

            assert ids(store.find(stage=State.INTRODUCTION)) == ["RJ-Q1", "RJ-Q2"]
            assert ids(store.find(stage="completed")) == [DEMO.case_id]
            by_f1 = sorted(c.case_id for c in cases if c.record.lead_facilitator == "F1")
            assert ids(store.find(facilitator="F1")) == by_f1
            assert ids(store.find(facilitator="F7")) == []
            everything = sorted(summaries)
            assert ids(store.find()) == everything
            page1 = store.find(limit=2)
            page2 = store.find(limit=2, after=page1[-1].case_id)
            assert ids(page1) + ids(page2) == everything[:4]
            first = min(c.record.opened_at for c in cases)
            assert ids(store.find(opened=(first, first + timedelta(seconds=1)))) == sorted(
                c.case_id for c in cases if c.record.opened_at == first
            )
            closed_at = DEMO.record.closure.at  # type: ignore[union-attr]
            assert ids(store.find(closed=(closed_at, closed_at + timedelta(1)))) == [DEMO.case_id]
            assert ids(store.find(closed=(closed_at - timedelta(1), closed_at))) == []
            for when in (T, T + timedelta(days=400), T + timedelta(days=4000)):
                expected = sorted(i for i, s in summaries.items() if s.overdue(when))
                assert ids(store.find(overdue_at=when)) == expected
            counts = store.count_by_stage()
            assert counts[State.INTRODUCTION] == 2 and counts[State.CONFERENCE] == 0
            assert sum(counts.values()) == len(cases)

    def test_an_open_agreement_action_makes_a_case_overdue(self, backend: Backend) -> None:
        """A case whose signed agreement's action deadline has passed is found overdue the
        day after the deadline, not on it."""
        case, clock = at_stage(State.CONFERENCE, case_id="RJ-DUE")
        deadline = date(2026, 3, 12)
        case.propose_agreement(
            [AgreementAction("A1", "Write a letter", "O1", deadline)], at=clock(), actor="F1"
        )
        for party in ("O1", "V1", "S1", "F1"):
            case.sign_agreement(party, at=clock(), actor="F1")
        on_the_day = datetime(2026, 3, 12, 23, 59, tzinfo=UTC)
        with backend.open() as store:
            store.save(case, expected_version=0)
            assert store.find(overdue_at=on_the_day) == []
            assert [s.case_id for s in store.find(overdue_at=on_the_day + timedelta(1))] == [
                "RJ-DUE"
            ]

    @pytest.mark.parametrize(
        "bad",
        [
            {"stage": "nowhere"},
            {"facilitator": "Jane Smith"},
            {"overdue_at": datetime(2026, 1, 1)},  # noqa: DTZ001 - naive on purpose
            {"opened": (T,)},
            {"opened": (T + timedelta(days=1), T)},  # backwards: matches nothing, a mistake
            {"closed": (T, T)},
            {"limit": 0},
            {"limit": 1001},
            {"after": "Jane Smith"},
        ],
    )
    def test_bad_query_filters_are_invalid_input(
        self, backend: Backend, bad: dict[str, Any]
    ) -> None:
        """A filter of the wrong kind: InvalidInput, never repeating the text given."""
        with backend.open() as store, pytest.raises(InvalidInput) as err:
            store.find(**bad)
        assert "Jane" not in str(err.value)

    def test_rebuild_and_verify(self, stored: Backend) -> None:
        """A summary changed behind rjflow's back is reported by verify and mended by rebuild;
        a summary of an unknown case is CaseNotFound."""
        stored.raw("UPDATE rjflow_summaries SET stage = 'referred', sessions_held = 99")
        with stored.open() as store:
            assert store.summary(DEMO.case_id).sessions_held == 99
            problems = store.verify()
            assert [(p.case_id, "differs" in p.message) for p in problems] == [(DEMO.case_id, True)]
            assert store.rebuild() == 1
            assert store.verify() == []
            assert store.summary(DEMO.case_id) == summarise(DEMO)
            with pytest.raises(CaseNotFound):
                store.summary("RJ-NONE")

    def test_an_unreadable_summary_is_a_corrupt_record(self, stored: Backend) -> None:
        """A summary row that cannot be read: CorruptRecord naming the case; rebuild mends."""
        stored.raw("UPDATE rjflow_summaries SET stage = 'nowhere'")
        with stored.open() as store:
            with pytest.raises(CorruptRecord) as err:
                store.summary(DEMO.case_id)
            assert err.value.case_id == DEMO.case_id
            assert len(store.verify()) == 1
            store.rebuild()
            assert store.verify() == []

    def test_verify_names_a_case_that_does_not_load(self, stored: Backend) -> None:
        """Regression (a damaged case vanishing from the caseload): a tampered case is reported
        by verify (never raised), and rebuild keeps its last summary rather than dropping it
        from every list."""
        stored.tamper("UPDATE rjflow_events SET actor = 'F9' WHERE sequence = 3")
        with stored.open() as store:
            problems = store.verify()
            assert [p.case_id for p in problems] == [DEMO.case_id]
            assert store.rebuild() == 0
            assert [s.case_id for s in store.find()] == [DEMO.case_id]
            assert store.summary(DEMO.case_id) == summarise(DEMO)

    def test_rebuild_drops_a_summary_without_events(self, stored: Backend) -> None:
        """A summary whose case has no events (left by a tool): verify names it, rebuild
        drops it."""
        stored.raw(
            "INSERT INTO rjflow_summaries SELECT 'RJ-GHOST', stage, version, opened_at, "
            "updated_at, offence_category, lead_facilitator, closure_reason, outcome, closed_at, "
            "sessions_held, due_at, actionable FROM rjflow_summaries"
        )
        with stored.open() as store:
            assert [p.case_id for p in store.verify()] == ["RJ-GHOST"]
            assert store.rebuild() == 1
            assert [s.case_id for s in store.find()] == [DEMO.case_id]
            assert store.verify() == []


def test_the_error_base_is_rjflows() -> None:
    """Every error the contract names is an RJFlowError (so one except catches them)."""
    for kind in (CaseExists, CaseNotFound, ConcurrencyConflict, CorruptRecord, IntegrityError):
        assert issubclass(kind, RJFlowError)
