"""The caseload report's fast paths (issue 13's performance targets) count exactly as the plain
ones: the quick reading of stored facts against the field-by-field one, and the tally against
a naive counting written here from docs/reporting.md's definitions, on facts hypothesis makes
(times on a period's bounds, a letter and a shuttle message at the same instant, stages out
of time order, malformed values of every kind)."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rjflow import InvalidDocument
from rjflow.activities import AgreementOutcome, ClosureReason, ContactActivity
from rjflow.demo import build_demo_case
from rjflow.reporting import COUNTS, CaseFacts, Period, build_report, case_facts
from rjflow.states import OPEN_STATES, State
from tests.synthetic import synthetic_caseload

_BASE = datetime(2026, 1, 1, tzinfo=UTC)
#: A short span of times, so that milestones often fall on, before and after a period's bounds.
_NEAR = st.integers(min_value=-3, max_value=12).map(lambda d: _BASE + timedelta(days=30 * d))
_TIMES = st.one_of(
    _NEAR,
    st.datetimes(  # naive bounds, as hypothesis asks; the times made are in UTC
        min_value=datetime(1, 1, 2),  # noqa: DTZ001
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
_MAYBE = st.none() | _TIMES
_IDS = st.sampled_from(["C-1", "SYN-000042", "c"])

facts_strategy = st.builds(
    CaseFacts,
    case_id=_IDS,
    lead=st.none() | st.sampled_from(["F1", "F2"]),
    referred_at=_TIMES,
    first_victim_contact=_MAYBE,
    first_victim_information=_MAYBE,
    consented=st.lists(
        st.tuples(st.sampled_from([a.value for a in ContactActivity]), _TIMES), max_size=3
    ).map(tuple),
    conference_at=_MAYBE,
    letter_delivered_at=_MAYBE,
    first_shuttle_at=_MAYBE,
    agreement_made_at=_MAYBE,
    ended_at=_MAYBE,
    end_reason=st.none() | st.sampled_from([r.value for r in ClosureReason]),
    agreement_outcome=st.none() | st.sampled_from([o.value for o in AgreementOutcome]),
    conclusion_told=st.lists(_TIMES, max_size=2).map(tuple),
    feedback=st.lists(
        st.tuples(_TIMES, st.integers(min_value=0, max_value=7), st.booleans()), max_size=3
    ).map(tuple),
    sessions_attended=st.integers(min_value=0, max_value=9),
    sessions_missed=st.integers(min_value=0, max_value=3),
    stages=st.lists(st.tuples(_TIMES, st.sampled_from([s.value for s in State])), max_size=5).map(
        tuple
    ),
)

#: Values a database edited outside rjflow could hold in a facts field, or in a list's item.
_ODD_VALUES = (
    "",
    "closed",
    "completed",
    "fulfilled",
    "face_to_face",
    "2026-01-01",
    "2026-01-01T00:00:00",
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00+01:00",
    "2026-01-01T00:00:00.5-05:30",
    "0001-01-01T00:00:00+01:00",
    "2026-01-01T00:00:00+00:00",
    "not a time",
)
_ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(_ODD_VALUES),
    st.just({}),
    st.just({"a": 1}),
)
_ODD_ITEMS = st.one_of(_ODD, st.lists(_ODD, max_size=4))


def _reference_checked(data: Any) -> CaseFacts | None:
    try:
        return CaseFacts._checked(data)
    except InvalidDocument:
        return None


def _from_dict(data: Any) -> CaseFacts | None:
    try:
        return CaseFacts.from_dict(data)
    except InvalidDocument:
        return None


def _same(a: CaseFacts | None, b: CaseFacts | None) -> bool:
    """Equal, with every time in UTC (as both readings promise)."""
    if a is None or b is None:
        return a is b
    return a == b and all(
        t is None or t.tzinfo is UTC
        for t in (a.referred_at, a.ended_at, *a.conclusion_told, *(s[0] for s in a.stages))
    )


def _plain(value: Any) -> Any:
    """A CaseFacts value as JSON data, the generic way: times ISO 8601, tuples as lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


class TestQuickReading:
    @given(facts_strategy)
    def test_to_dict_writes_every_field_converted_the_generic_way(self, facts: CaseFacts) -> None:
        # to_dict is written field by field for speed; this is the generic reading of it.
        expected = {f.name: _plain(getattr(facts, f.name)) for f in attrs.fields(CaseFacts)}
        assert facts.to_dict() == expected

    @given(facts_strategy)
    def test_what_to_dict_writes_is_read_back_by_the_quick_reading(self, facts: CaseFacts) -> None:
        from rjflow.reporting import _quick_facts  # noqa: PLC0415

        data = json.loads(json.dumps(facts.to_dict()))
        assert _quick_facts(CaseFacts, data) == facts
        assert CaseFacts._checked(data) == facts

    @given(facts_strategy, st.data())
    @example(
        facts=case_facts(build_demo_case()),
        data=None,  # the demo case as stored, unchanged
    )
    def test_the_quick_reading_never_accepts_what_the_checked_one_refuses(
        self, facts: CaseFacts, data: st.DataObject | None
    ) -> None:
        stored = json.loads(json.dumps(facts.to_dict()))
        if data is not None:
            field = data.draw(st.sampled_from(sorted(stored)))
            value = stored[field]
            if isinstance(value, list) and value and data.draw(st.booleans()):
                # one item of a list field, or one value inside that item
                index = data.draw(st.integers(min_value=0, max_value=len(value) - 1))
                item = value[index]
                if isinstance(item, list) and data.draw(st.booleans()):
                    item[data.draw(st.integers(0, len(item) - 1))] = data.draw(_ODD)
                else:
                    value[index] = data.draw(_ODD_ITEMS)
            else:
                stored[field] = data.draw(_ODD_ITEMS)
        assert _same(_from_dict(stored), _reference_checked(stored))

    def test_every_value_in_every_place_is_read_as_the_checked_reading_reads_it(self) -> None:
        """Each field, each item of a list field and each value inside an item, replaced by
        each of a fixed set of odd values: the two readings agree every time."""
        t = "2026-03-01T10:00:00+00:00"
        rich = case_facts(build_demo_case()).to_dict()
        rich.update(
            consented=[["face_to_face", t], ["shuttle", t]],
            conclusion_told=[t, t],
            feedback=[[t, 5, True], [t, 0, False]],
            stages=[[t, "referred"], [t, "closed"]],
            end_reason="completed",
            agreement_outcome="fulfilled",
        )
        odd: list[Any] = [
            *_ODD_VALUES,
            *(None, True, False, 0, 1, -1, 6, 1.0, [], [t], [t, t, t], {}, {"a": 1}),
        ]
        compared = 0
        for field in sorted(rich):
            places: list[tuple[int, ...]] = [()]
            if isinstance(rich[field], list):
                for i, item in enumerate(rich[field]):
                    places.append((i,))
                    if isinstance(item, list):
                        places += [(i, j) for j in range(len(item))]
            for place in places:
                for value in odd:
                    data = json.loads(json.dumps(rich))
                    if not place:
                        data[field] = value
                    elif len(place) == 1:
                        data[field][place[0]] = value
                    else:
                        data[field][place[0]][place[1]] = value
                    assert _same(_from_dict(data), _reference_checked(data)), (field, place, value)
                    compared += 1
        assert compared > 1000

    def test_the_synthetic_caseload_is_read_quickly(self) -> None:
        """Every stored case of the tests' caseload takes the quick reading (a regression
        here would not change a count, only make a report over a store slower)."""
        from rjflow.reporting import _quick_facts  # noqa: PLC0415

        for case in synthetic_caseload(300, seed=13):
            facts = case_facts(case)
            assert _quick_facts(CaseFacts, json.loads(json.dumps(facts.to_dict()))) == facts


# -- the tally against a naive counting from the documented definitions ----------------------


def _naive(facts: list[CaseFacts], period: Period) -> dict[str, Any]:
    """Each count as docs/reporting.md defines it, written plainly (a milestone counts when
    it happened in the period; an ended case's reason, outcome and sessions count when it
    ended in the period; an open case's stage is its last stage change before the period
    ended, for cases referred before the end and not ended by then)."""

    def inside(t: datetime | None) -> bool:
        return t is not None and period.start <= t < period.end

    counts = dict.fromkeys(COUNTS, 0)
    reasons: dict[str, int] = {}
    stages: dict[str, int] = {}
    to_contact, to_completion, sessions = [], [], []
    scores: list[int] = []
    for f in facts:
        counts["referred"] += inside(f.referred_at)
        if inside(f.first_victim_contact):
            counts["victim_contacted"] += 1
            assert f.first_victim_contact is not None
            to_contact.append((f.first_victim_contact - f.referred_at) / timedelta(days=1))
        counts["information_given"] += inside(f.first_victim_information)
        for activity, t in f.consented:
            counts[f"consented_{activity}"] += inside(t)
        counts["direct_rj"] += inside(f.conference_at)
        counts["letter_delivered"] += inside(f.letter_delivered_at)
        counts["shuttle"] += inside(f.first_shuttle_at)
        indirect = sorted(t for t in (f.letter_delivered_at, f.first_shuttle_at) if t)
        counts["indirect_rj"] += bool(indirect) and inside(indirect[0])
        counts["agreement_made"] += inside(f.agreement_made_at)
        counts["victims_informed_of_conclusion"] += sum(map(inside, f.conclusion_told))
        for t, score, _changed in f.feedback:
            counts["feedback_responses"] += inside(t)
            if inside(t) and 1 <= score <= 5:
                scores.append(score)
        if inside(f.ended_at):
            reasons[str(f.end_reason)] = reasons.get(str(f.end_reason), 0) + 1
            if f.end_reason == "completed":
                counts["completed"] += 1
                assert f.ended_at is not None
                to_completion.append((f.ended_at - f.referred_at) / timedelta(days=1))
            else:
                counts["closed"] += 1
            if f.agreement_outcome:
                counts[f"agreement_{f.agreement_outcome}"] += 1
            sessions.append(f.sessions_attended)
        still_open = f.ended_at is None or f.ended_at >= period.end
        if f.referred_at < period.end and still_open:
            before = [s for t, s in f.stages if t < period.end]
            if before and before[-1] in {s.value for s in OPEN_STATES}:
                stages[before[-1]] = stages.get(before[-1], 0) + 1
    return {
        "counts": counts,
        "reasons": {k: v for k, v in reasons.items() if v},
        "stages": stages,
        "to_contact": sorted(to_contact),
        "to_completion": sorted(to_completion),
        "sessions": sorted(sessions),
        "scores": sorted(scores),
    }


@given(
    st.lists(facts_strategy, max_size=12),
    st.integers(min_value=-2, max_value=4),
    st.integers(min_value=1, max_value=6),
)
def test_the_tally_counts_as_the_definitions_say(
    facts: list[CaseFacts], first: int, months: int
) -> None:
    # bounds on the same 30-day steps as most milestones: many fall exactly on one
    start = _BASE + timedelta(days=30 * first)
    period = Period(start, start + timedelta(days=30 * months))
    got = build_report(facts, period)
    want = _naive(facts, period)
    assert dict(got.counts) == want["counts"]
    assert {k: v for k, v in got.closed_by_reason.items() if v} == want["reasons"]
    assert {k: v for k, v in got.open_by_stage.items() if v} == want["stages"]
    # durations in days, computed two ways: equal but for the last bits of a float
    assert list(got.days_to_first_contact.values) == pytest.approx(want["to_contact"], rel=1e-12)
    assert list(got.days_to_completion.values) == pytest.approx(want["to_completion"], rel=1e-12)
    assert got.sessions.cases == len(want["sessions"])
    assert got.sessions.attended == sum(want["sessions"])
    if want["sessions"]:
        assert got.sessions.median == statistics.median(want["sessions"])
    by_score = {k: v for k, v in got.satisfaction.by_score if v}
    assert by_score == {s: want["scores"].count(s) for s in set(want["scores"])}


@given(facts_strategy, _TIMES)
def test_stage_before_is_the_last_change_before_the_moment(
    facts: CaseFacts, moment: datetime
) -> None:
    before = [stage for t, stage in facts.stages if t < moment]
    assert facts.stage_before(moment) == (before[-1] if before else None)


# -- case_facts' steps for the agreement's later life (not on the synthetic caseload's routes) --


def _reviewed(actions: list[str]) -> tuple[Any, Any]:
    from datetime import date  # noqa: PLC0415

    from rjflow import AgreementAction  # noqa: PLC0415
    from tests.builders import at_stage  # noqa: PLC0415

    case, clock = at_stage(State.CONFERENCE)
    agreed = [AgreementAction(a, "Mend it", "O1", date(2026, 6, 1)) for a in actions]
    case.propose_agreement(agreed, at=clock(), actor="F1")
    for party in ("O1", "V1", "S1", "F1"):
        case.sign_agreement(party, at=clock(), actor="F1")
    case.record_session(duration=timedelta(hours=1), at=clock(), actor="F1")
    case.start_reviews(at=clock(), actor="F1")
    return case, clock


class TestAgreementOutcomeSteps:
    """The outcome case_facts reads from the events against the one the record keeps
    (CaseRecord.agreement_outcome, computed by the effects from the same actions)."""

    def test_a_varied_agreement_is_judged_on_its_new_actions(self) -> None:
        case, clock = _reviewed(["A1", "A2"])
        # the parties drop A2: only A1 is judged
        assert case.record.agreement is not None
        kept = [a for a in case.record.agreement.actions if a.id == "A1"]
        case.vary_agreement(kept, at=clock(), actor="F1")
        for party in ("O1", "V1", "S1", "F1"):
            case.sign_agreement(party, at=clock(), actor="F1")
        case.record_progress("A1", "done", at=clock(), actor="F1")
        outcome = case.record.agreement_outcome()
        assert outcome is not None
        case.record_session(duration=timedelta(hours=1), at=clock(), actor="F1")
        case.complete(at=clock(), actor="F1")
        assert case_facts(case).agreement_outcome == outcome.value

    def test_a_waived_action_counts_as_the_record_counts_it(self) -> None:
        case, clock = _reviewed(["A1", "A2"])
        case.record_progress("A1", "done", at=clock(), actor="F1")
        case.waive_agreement_action("A2", at=clock(), actor="F1")
        outcome = case.record.agreement_outcome()
        assert outcome is not None
        case.record_session(duration=timedelta(hours=1), at=clock(), actor="F1")
        case.complete(at=clock(), actor="F1")
        assert case_facts(case).agreement_outcome == outcome.value


class TestFactsAtTheBoundary:
    """Facts are read from a store a tool can change: what from_dict takes is what a case's
    facts can be, and its refusals name the field, never the text."""

    @pytest.mark.parametrize("field", ["case_id", "lead"])
    @pytest.mark.parametrize("text", ["Jane Doe, 1 High St", "", "x" * 65])
    def test_an_id_field_holding_a_name_is_refused(self, field: str, text: str) -> None:
        data = json.loads(json.dumps(case_facts(build_demo_case()).to_dict()))
        data[field] = text
        with pytest.raises(InvalidDocument) as caught:
            CaseFacts.from_dict(data)
        assert caught.value.path == field and f"field {field} must be an opaque id" in str(
            caught.value
        )
        assert "Jane" not in str(caught.value)

    def test_a_missing_field_is_named_and_an_unknown_one_counted(self) -> None:
        data = json.loads(json.dumps(case_facts(build_demo_case()).to_dict()))
        del data["sessions_missed"], data["lead"]
        data["Jane Doe"] = 1
        with pytest.raises(InvalidDocument) as caught:
            CaseFacts.from_dict(data)
        message = str(caught.value)
        assert "missing lead, sessions_missed; 1 unknown field." in message
        assert "Jane" not in message and caught.value.path == "$.lead"
