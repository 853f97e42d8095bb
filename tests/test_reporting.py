"""The caseload report (issue 13): every count checked on a synthetic caseload of thousands of
cases against a second computation made here, independently, from the cases' *records*
(what the effects kept), while ``rjflow.reporting`` counts from the *events*."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from rjflow import (
    AgreementAction,
    Case,
    ConsentStatus,
    ContactActivity,
    InvalidDocument,
    InvalidInput,
    LetterStatus,
    State,
    VictimUpdateAbout,
)
from rjflow.demo import DEMO_START, build_demo_case
from rjflow.record import CaseRecord
from rjflow.reporting import COUNTS, CaseFacts, Period, Report, build_report, case_facts, report
from tests.synthetic import synthetic_caseload

#: Thousands of cases (deterministic: seed 2026).
SIZE = 2500

PERIODS = (
    Period.days(date(2025, 1, 1), date(2027, 12, 31)),  # everything
    Period.days(date(2026, 1, 1), date(2026, 12, 31)),  # a year
    Period(datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),  # a quarter
)


@pytest.fixture(scope="module")
def caseload() -> list[Case]:
    return list(synthetic_caseload(SIZE))


@pytest.fixture(scope="module")
def reports(caseload: list[Case]) -> dict[Period, Report]:
    facts = [case_facts(c) for c in caseload]
    return {p: build_report(facts, p) for p in PERIODS}


# -- the independent computation: from each case's record --------------------------------------


def _victims(rec: CaseRecord) -> set[str]:
    return {v.id for v in rec.victims}


def _first(times: list[datetime]) -> datetime | None:
    return min(times, default=None)


def _contact(rec: CaseRecord) -> datetime | None:
    v = _victims(rec)
    times = [i.at for i in rec.information if i.party in v]
    times += [c.at for c in rec.consents if c.party in v]
    times += [w.at for w in rec.victim_wishes if w.victim in v]
    times += [u.at for u in rec.victim_updates if u.victim in v]
    times += [m.at for m in rec.shuttle_messages if m.victim in v]
    times += [
        x.settled_at for x in rec.letters if x.status is LetterStatus.DELIVERED and x.settled_at
    ]
    times += [rec.conference.held_at] if rec.conference else []
    times += [f.at for f in rec.feedback if f.party in v]
    times += [f.at for f in rec.follow_ups if f.party in v]
    return _first(times)


def _consented(rec: CaseRecord, activity: ContactActivity) -> datetime | None:
    v = _victims(rec)
    return _first(
        [
            c.at
            for c in rec.consents
            if c.party in v and c.activity is activity and c.status is ConsentStatus.GIVEN
        ]
    )


def _delivered(rec: CaseRecord) -> datetime | None:
    return _first(
        [x.settled_at for x in rec.letters if x.status is LetterStatus.DELIVERED and x.settled_at]
    )


def _agreement_made(case: Case) -> datetime | None:
    rec = case.record
    reviewed = any(e.to_state == State.REVIEW.value for e in case.history)
    if rec.agreement is None or not reviewed or not rec.agreement.signatures:
        return None
    return max(s.at for s in rec.agreement.signatures)


def _milestones(case: Case) -> dict[str, list[datetime]]:
    """Each count's milestone times for one case, from its record."""
    rec = case.record
    shuttle = _first([m.at for m in rec.shuttle_messages])
    delivered = _delivered(rec)
    closure = rec.closure
    one: dict[str, datetime | None] = {
        "referred": rec.opened_at,
        "victim_contacted": _contact(rec),
        "information_given": _first([i.at for i in rec.information if i.party in _victims(rec)]),
        "direct_rj": rec.conference.held_at if rec.conference else None,
        "letter_delivered": delivered,
        "shuttle": shuttle,
        "indirect_rj": _first([t for t in (delivered, shuttle) if t is not None]),
        "agreement_made": _agreement_made(case),
    }
    for activity in ContactActivity:
        one[f"consented_{activity.value}"] = _consented(rec, activity)
    if closure is not None:
        completed = closure.reason.value == "completed"
        one["completed" if completed else "closed"] = closure.at
        if closure.outcome is not None:
            one[f"agreement_{closure.outcome.value}"] = closure.at
    told: dict[str, datetime] = {}
    for u in rec.victim_updates:
        if u.about is VictimUpdateAbout.CONCLUSION:
            told.setdefault(u.victim, u.at)
    many = {k: [t] for k, t in one.items() if t is not None}
    many["victims_informed_of_conclusion"] = list(told.values())
    many["feedback_responses"] = [f.at for f in rec.feedback]
    return many


def _expected_counts(cases: list[Case], period: Period) -> dict[str, int]:
    counts = dict.fromkeys(COUNTS, 0)
    for case in cases:
        for name, times in _milestones(case).items():
            counts[name] += sum(1 for t in times if period.start <= t < period.end)
    return counts


def _nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _in(period: Period) -> Callable[[datetime | None], bool]:
    return lambda t: t is not None and period.start <= t < period.end


# -- the tests ------------------------------------------------------------------------------------


class TestCountsOnASyntheticCaseload:
    def test_the_caseload_exercises_every_count(self, reports: dict[Period, Report]) -> None:
        """A check that cannot fail for want of data: every count is non-zero over all time."""
        everything = reports[PERIODS[0]]
        assert everything.cases == SIZE
        assert all(v > 0 for v in everything.counts.values()), everything.counts

    @pytest.mark.parametrize("period", PERIODS, ids=["all", "year", "quarter"])
    def test_every_count_matches_the_records(
        self, caseload: list[Case], reports: dict[Period, Report], period: Period
    ) -> None:
        assert dict(reports[period].counts) == _expected_counts(caseload, period)

    @pytest.mark.parametrize("period", PERIODS, ids=["all", "year", "quarter"])
    def test_closures_by_reason_match_the_records(
        self, caseload: list[Case], reports: dict[Period, Report], period: Period
    ) -> None:
        inside = _in(period)
        expected = Counter(
            c.record.closure.reason.value
            for c in caseload
            if c.record.closure is not None and inside(c.record.closure.at)
        )
        found = {k: v for k, v in reports[period].closed_by_reason.items() if v}
        assert found == dict(expected)

    @pytest.mark.parametrize("period", PERIODS, ids=["all", "year", "quarter"])
    def test_times_match_the_records(
        self, caseload: list[Case], reports: dict[Period, Report], period: Period
    ) -> None:
        inside, day = _in(period), 86400.0
        contact = [
            ((t - c.record.opened_at).total_seconds() / day)
            for c in caseload
            if inside(t := _contact(c.record))
        ]
        completion = [
            (c.record.closure.at - c.record.opened_at).total_seconds() / day
            for c in caseload
            if c.state is State.COMPLETED and inside(c.record.closure.at)  # type: ignore[union-attr]
        ]
        r = reports[period]
        for found, values in (
            (r.days_to_first_contact, contact),
            (r.days_to_completion, completion),
        ):
            assert found.count == len(values)
            assert found.median == pytest.approx(statistics.median(values))
            assert found.p90 == pytest.approx(_nearest_rank(values, 0.9))

    @pytest.mark.parametrize("period", PERIODS, ids=["all", "year", "quarter"])
    def test_satisfaction_and_sessions_match_the_records(
        self, caseload: list[Case], reports: dict[Period, Report], period: Period
    ) -> None:
        inside = _in(period)
        feedback = [f for c in caseload for f in c.record.feedback if inside(f.at)]
        r = reports[period]
        assert r.satisfaction.responses == len(feedback)
        assert r.satisfaction.mean == pytest.approx(
            statistics.fmean(f.satisfaction for f in feedback)
        )
        assert dict(r.satisfaction.by_score) == {
            k: sum(1 for f in feedback if f.satisfaction == k) for k in range(1, 6)
        }
        assert r.satisfaction.things_changed == sum(f.things_changed for f in feedback)
        ended = [c for c in caseload if c.record.closure and inside(c.record.closure.at)]
        attended = [sum(s.attended for s in c.record.sessions) for c in ended]
        assert r.sessions.cases == len(ended)
        assert r.sessions.attended == sum(attended)
        assert r.sessions.missed == sum(
            sum(not s.attended for s in c.record.sessions) for c in ended
        )
        assert r.sessions.mean == pytest.approx(statistics.fmean(attended))

    def test_open_cases_by_stage_match_the_records(
        self, caseload: list[Case], reports: dict[Period, Report]
    ) -> None:
        """After every case's last event, a case's stage at the end is its record's stage."""
        expected = Counter(c.state.value for c in caseload if c.is_open)
        found = {k: v for k, v in reports[PERIODS[0]].open_by_stage.items() if v}
        assert found == dict(expected)


class TestPeriods:
    def test_a_period_is_half_open(self) -> None:
        """A completion exactly at the end is the next period's; exactly at the start, this."""
        case = build_demo_case()
        done = case.record.closure.at  # type: ignore[union-attr]
        before = report([case], Period(done - timedelta(days=1), done))
        after = report([case], Period(done, done + timedelta(days=1)))
        assert (before.counts["completed"], after.counts["completed"]) == (0, 1)

    def test_whole_days_include_both_ends(self) -> None:
        period = Period.days(date(2026, 3, 2), date(2026, 3, 2))
        assert period.start == DEMO_START.replace(hour=0)
        assert period.end - period.start == timedelta(days=1)
        assert report([build_demo_case()], period).counts["referred"] == 1

    def test_bad_periods_are_refused(self) -> None:
        t = DEMO_START
        with pytest.raises(InvalidInput):
            Period(t, t)
        with pytest.raises(InvalidInput):
            Period(t.replace(tzinfo=None), t + timedelta(days=1))
        with pytest.raises(InvalidInput):
            Period.days(t, t)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            build_report([], "2026")  # type: ignore[arg-type]

    def test_a_late_entry_counts_when_it_happened(self) -> None:
        """A conference recorded in April but held in March is March's direct RJ."""
        case = build_demo_case()
        held = case.record.conference.held_at  # type: ignore[union-attr]
        month = Period(held.replace(day=1, hour=0), (held.replace(day=1) + timedelta(days=32)))
        assert report([case], month).counts["direct_rj"] == 1
        facts = case_facts(case)
        assert facts.conference_at == held

    def test_the_report_reads_its_input_once(self) -> None:
        r = report(iter([build_demo_case()]), PERIODS[0])
        assert r.cases == 1 and r.counts["completed"] == 1


class TestOutputs:
    def test_json_and_csv_carry_the_same_numbers(self) -> None:
        r = report([build_demo_case()], PERIODS[1])
        data = r.to_dict()
        assert data["counts"] == dict(r.counts)
        rows = {(s, m): v for s, m, v in (line.split(",") for line in r.to_csv().splitlines()[1:])}
        assert all(rows[("counts", k)] == str(v) for k, v in r.counts.items())
        assert rows[("days_to_completion", "median")] == "86.0"


class TestFacts:
    def test_facts_survive_plain_data_and_count_the_same(self, caseload: list[Case]) -> None:
        """What a store's read model would keep gives the very same report."""
        import json  # noqa: PLC0415

        facts = [case_facts(c) for c in caseload[:300]]
        again = [CaseFacts.from_dict(json.loads(json.dumps(f.to_dict()))) for f in facts]
        assert again == facts
        assert build_report(again, PERIODS[1]) == build_report(facts, PERIODS[1])

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("referred_at", "2026-01-01T00:00:00"),
            ("referred_at", None),
            ("sessions_attended", True),
            ("feedback", [["2026-01-01T00:00:00+00:00", 5]]),
            ("case_id", 7),
            ("end_reason", "a $\\alpha$ reason"),
            ("agreement_outcome", "fulfilled-ish"),
            ("stages", [["2026-01-01T00:00:00+00:00", "limbo"]]),
            ("consented", [["hug", "2026-01-01T00:00:00+00:00"]]),
            # Regression (read back what to_dict never writes): an object for a list, an
            # item of the wrong length, a number for a flag, a time that overflowed on
            # conversion to UTC (OverflowError, not a typed error).
            ("stages", {}),
            ("conclusion_told", "2026-01-01T00:00:00+00:00"),
            ("consented", [["face_to_face", "2026-01-01T00:00:00+00:00", 1]]),
            ("feedback", [["2026-01-01T00:00:00+00:00", 5, 1]]),
            ("ended_at", "0001-01-01T00:00:00+01:00"),
        ],
    )
    def test_malformed_facts_are_refused(self, field: str, value: object) -> None:
        data = case_facts(build_demo_case()).to_dict()
        data[field] = value
        with pytest.raises(InvalidDocument):
            CaseFacts.from_dict(data)
        with pytest.raises(InvalidDocument):
            CaseFacts.from_dict({**data, "extra": 1})

    def test_first_contact_agrees_with_the_deadlines(self, caseload: list[Case]) -> None:
        """The deadlines judge contact from the record, the report from the events: for a
        one-victim case, an open first-contact obligation means no contact was counted."""
        checked = 0
        for case in caseload:
            if case.is_open and len(case.record.victims) == 1:
                owed = any(o.code == "first_contact_due" for o in case.due(case.record.updated_at))
                assert owed == (case_facts(case).first_victim_contact is None), case.case_id
                checked += 1
        assert checked > 100


class TestAgreementEdges:
    def test_an_abandoned_agreement_is_not_made_and_a_variation_keeps_the_first(self) -> None:
        from tests.builders import at_stage  # noqa: PLC0415

        case, clock = at_stage(State.CONFERENCE)
        actions = [AgreementAction("A1", "Mend it", "O1", date(2026, 6, 1))]
        case.propose_agreement(actions, at=clock(), actor="F1")
        case.sign_agreement("O1", at=clock(), actor="F1")
        case.abandon_agreement(at=clock(), actor="F1")
        assert case_facts(case).agreement_made_at is None
        case.propose_agreement(actions, at=clock(), actor="F1")
        for party in ("O1", "V1", "S1", "F1"):
            signed = clock()
            case.sign_agreement(party, at=signed, actor="F1")
        case.record_session(duration=timedelta(hours=1), at=clock(), actor="F1")
        case.start_reviews(at=clock(), actor="F1")
        assert case_facts(case).agreement_made_at == signed
        case.vary_agreement(actions, at=clock(), actor="F1")
        for party in ("O1", "V1", "S1", "F1"):
            case.sign_agreement(party, at=clock(), actor="F1")
        assert case_facts(case).agreement_made_at == signed
