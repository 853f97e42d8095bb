"""Time at the boundary: every datetime entering rjflow is the same instant in UTC.

Python compares two datetimes of one ``zoneinfo`` zone by their wall clock, ignoring
``fold``; across zones it compares instants.  Normalising to UTC where times enter makes
ordering, equality, hashing and replay agree (issue 9, item 1).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rjflow import Case, Facilitator, InvalidDocument, InvalidInput, Offence, OffenceCategory
from rjflow.history import GENESIS_HASH, Event, event_hash
from rjflow.serialization import dumps, from_dict, loads, replay, to_dict

from .builders import Clock, new_case

LONDON = ZoneInfo("Europe/London")


def local(*fields: int) -> datetime:
    """A naive wall-clock time, to be placed in a zone (or refused for having none)."""
    return datetime(*fields)  # noqa: DTZ001


def open_at(at: datetime) -> Case:
    return Case.open(
        "RJ-1",
        offence=Offence(OffenceCategory.HOUSEHOLD_BURGLARY),
        offender="O1",
        victims=["V1"],
        facilitators=[Facilitator("F1")],
        lead_facilitator="F1",
        at=at,
        actor="F1",
    )


class TestFolds:
    def test_fold_earlier_wall_clock_later_is_refused_as_earlier(self) -> None:
        """Issue 9's input: 01:10 GMT (fold=1) then 01:20 BST (fold=0), really 50 minutes
        earlier, was accepted and the saved document then failed to load."""
        case = open_at(datetime(2026, 10, 25, 1, 10, tzinfo=LONDON, fold=1))
        with pytest.raises(InvalidInput, match="earlier than the case's last change"):
            case.record_sentence(
                sentenced_on=date(2026, 1, 1),
                at=datetime(2026, 10, 25, 1, 20, tzinfo=LONDON, fold=0),
                actor="F1",
            )
        assert case.version == 1
        assert loads(dumps(case)) == case

    def test_fold_truly_later_change_is_accepted(self) -> None:
        """01:20 BST (fold=0) then 01:10 GMT (fold=1), 50 minutes later, was refused as
        "earlier" because the wall clock went back."""
        case = open_at(datetime(2026, 10, 25, 1, 20, tzinfo=LONDON, fold=0))
        event = case.record_sentence(
            sentenced_on=date(2026, 1, 1),
            at=datetime(2026, 10, 25, 1, 10, tzinfo=LONDON, fold=1),
            actor="F1",
        )
        assert event.at == datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
        assert loads(dumps(case)) == case


class TestNormalised:
    def test_event_at_text_is_utc(self) -> None:
        """The ``at`` of an event is written as UTC ISO text, whatever zone it came in."""
        case = open_at(
            datetime(2026, 3, 2, 15, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
        )
        assert to_dict(case)["events"][0]["at"] == "2026-03-02T10:00:00+00:00"
        assert case.record.opened_at.tzinfo is UTC

    def test_microseconds_survive_the_round_trip(self) -> None:
        """Sub-second times are kept and load back to the same instant."""
        case = open_at(datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=ZoneInfo("America/St_Johns")))
        loaded = loads(dumps(case))
        assert loaded == case
        assert loaded.record.opened_at.microsecond == 123456

    def test_equal_instants_in_two_zones_make_equal_cases(self) -> None:
        """The same instant given in two zones gives the same event hash."""
        a = open_at(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        b = open_at(datetime(2026, 3, 2, 4, 0, tzinfo=ZoneInfo("America/New_York")))
        assert a.history[0].hash == b.history[0].hash
        assert a == b

    def test_date_field_refuses_a_datetime(self) -> None:
        """A datetime is a kind of date; taking one for ``sentenced_on`` would drop its time."""
        case, clock = new_case(sentenced=False)
        with pytest.raises(InvalidInput, match="sentenced_on"):
            case.record_sentence(
                sentenced_on=datetime(2026, 1, 1, tzinfo=UTC),  # type: ignore[arg-type]
                at=clock(),
                actor="F1",
            )
        assert case.version == 1

    @pytest.mark.parametrize(
        "at",
        [
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
            datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
            local(2026, 3, 2, 9, 0),
            "2026-03-02T09:00:00+00:00",
        ],
    )
    def test_time_that_cannot_be_utc_is_invalid_input(self, at: Any) -> None:
        """Naive, out-of-range or non-datetime times: InvalidInput, never OverflowError."""
        with pytest.raises(InvalidInput, match="'at'"):
            open_at(at)


class _BrokenZone(tzinfo):
    """A caller's time zone that fails when asked for its offset."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        raise RuntimeError("this zone is broken")


def test_time_in_a_broken_zone_is_invalid_input() -> None:
    """A tzinfo that raises is reported as InvalidInput, not as its own exception."""
    with pytest.raises(InvalidInput, match="'at'") as err:
        open_at(datetime(2026, 3, 2, 9, 0, tzinfo=_BrokenZone()))
    assert err.value.__context__ is None


def _rehash(doc: dict[str, Any]) -> dict[str, Any]:
    """The document's chain recomputed after its events were edited (as an older release
    would have written them)."""
    previous = GENESIS_HASH
    for event in doc["events"]:
        event["previous_hash"] = previous
        fields = {k: event[k] for k in event if k not in ("hash", "texts")}
        event["hash"] = previous = event_hash(**fields)
    return doc


class TestDocuments:
    def test_document_written_with_offsets_still_loads(self) -> None:
        """Documents from before times were normalised carry the caller's offset in ``at``;
        their hashes cover that text, and they still load, to the same instants."""
        case, clock = new_case(clock=Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))
        case.start_introduction(at=clock(), actor="F1")
        doc = to_dict(case)
        for event in doc["events"]:
            utc = datetime.fromisoformat(event["at"])
            event["at"] = utc.astimezone(timezone(timedelta(hours=1))).isoformat()
        loaded = from_dict(_rehash(doc))
        assert loaded.record == case.record
        assert [e.at for e in loaded.history] == [e.at for e in case.history]

    def test_replay_of_events_recorded_in_a_zone_with_a_fold(self) -> None:
        """Events whose ``at`` holds a zoneinfo time in the repeated hour (as an application
        might build them) replay to the same record: compared in UTC, not by wall clock."""
        case, clock = new_case(clock=Clock(datetime(2026, 10, 25, 0, 10, tzinfo=UTC)))
        case.start_introduction(at=clock(), actor="F1")
        events: list[Event] = []
        previous = GENESIS_HASH
        for e in case.history:
            event = Event.create(
                sequence=e.sequence,
                at=e.at.astimezone(LONDON),  # 01:10 BST, then 01:10 GMT (fold=1)
                actor=e.actor,
                action=e.action,
                data=e.data,
                from_state=e.from_state,
                to_state=e.to_state,
                previous_hash=previous,
            )
            events.append(event)
            previous = event.hash
        assert [e.at.fold for e in events] == [0, 1]
        assert replay(events).record == case.record

    def test_document_with_disordered_times_is_refused(self) -> None:
        """A history whose second event is earlier, in UTC, than its first does not load."""
        case, clock = new_case()
        case.start_introduction(at=clock(), actor="F1")
        doc = to_dict(case)
        doc["events"][1]["at"] = "2026-03-02T09:20:00+01:00"  # 08:20 UTC, before 09:00 UTC
        with pytest.raises(InvalidDocument, match="earlier"):
            from_dict(_rehash(doc))

    @pytest.mark.parametrize(
        "text", ["2026-03-02T09:00:00Z", "2026-03-02 09:00:00+00:00", "20260302T090000+0000"]
    )
    def test_document_time_in_another_spelling_is_refused(self, text: str) -> None:
        """One instant has one spelling in a document: what ``isoformat`` writes."""
        doc = to_dict(new_case()[0])
        doc["events"][0]["at"] = text
        with pytest.raises(InvalidDocument, match="ISO 8601"):
            from_dict(doc)


# -- property: acceptance agrees with UTC ordering ----------------------------------------------

#: Zones with folds (DST), half-hour and 45-minute offsets, a 30-minute DST shift.
ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Australia/Sydney",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "America/St_Johns",
    "UTC",
]

#: Local hours that occur twice in 2026 (the fall-back nights), where folds matter.
AMBIGUOUS = [
    local(2026, 10, 25, 1, 0),  # Europe/London
    local(2026, 11, 1, 1, 0),  # America/New_York
    local(2026, 4, 5, 1, 30),  # Australia/Lord_Howe (30 minutes)
    local(2026, 4, 5, 2, 0),  # Australia/Sydney
    local(2026, 4, 5, 2, 45),  # Pacific/Chatham
]


@st.composite
def aware_times(draw: st.DrawFn) -> datetime:
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    near_fold = draw(st.booleans())
    if near_fold:
        base = draw(st.sampled_from(AMBIGUOUS))
        naive = base + timedelta(minutes=draw(st.integers(-30, 90)))
    else:
        naive = draw(st.datetimes(local(2000, 1, 1), local(2100, 1, 1)))
    return naive.replace(tzinfo=zone, fold=draw(st.integers(0, 1)))


@given(first=aware_times(), second=aware_times())
def test_acceptance_agrees_with_utc_ordering(first: datetime, second: datetime) -> None:
    """For random aware times in random zones with random folds (100 examples in the dev
    profile, 1,300 in ci): a later change is accepted exactly when it is not earlier in UTC,
    and every accepted case round-trips through dumps/loads."""
    case = open_at(first)
    later = second.astimezone(UTC) >= first.astimezone(UTC)
    try:
        case.record_sentence(sentenced_on=date(2026, 1, 1), at=second, actor="F1")
        accepted = True
    except InvalidInput:
        accepted = False
    assert accepted == later
    assert case.version == (2 if accepted else 1)
    loaded = loads(dumps(case))
    assert loaded == case
    assert all(e.at.utcoffset() == timedelta(0) for e in loaded.history)
    # Compared in UTC: PEP 495 makes an ambiguous local time unequal to every other zone's.
    assert loaded.record.updated_at == (second if accepted else first).astimezone(UTC)
