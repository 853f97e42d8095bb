"""The caseload report: what the service did in a period, counted the same way everywhere.

Every count is a function of each case's event history, defined once in docs/reporting.md
and implemented once here: :func:`case_facts` reads one case's history in one pass and keeps
the dated milestones the counts need (a few dozen values: a report over 100,000 cases never
holds the cases themselves); :func:`build_report` counts the milestones that fall in a
:class:`Period`.  :func:`report` does both for an iterable of cases.

A period is half-open: it holds the instants ``start <= t < end`` (UTC).
:meth:`Period.days` makes one from whole calendar days, both included.  A milestone's time
is when it *happened* (an event's ``occurred_at`` when it was entered late, else when it was
recorded).

>>> from datetime import date
>>> from rjflow.demo import build_demo_case
>>> year = Period.days(date(2026, 1, 1), date(2026, 12, 31))
>>> r = report([build_demo_case()], year)
>>> r.counts["referred"], r.counts["direct_rj"], r.counts["agreement_fulfilled"]
(1, 1, 1)
>>> r.days_to_completion.median  # referred 2 March, completed 27 May
86.0
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import attrs

from rjflow._validate import aware_datetime, is_id
from rjflow.activities import (
    ActionStatus,
    AgreementOutcome,
    ClosureReason,
    ContactActivity,
)
from rjflow.errors import InvalidDocument, InvalidInput
from rjflow.history import Event
from rjflow.states import OPEN_STATES, State

__all__ = [
    "COUNTS",
    "CaseFacts",
    "Distribution",
    "Period",
    "Report",
    "Satisfaction",
    "SessionsUsed",
    "build_report",
    "case_facts",
    "report",
]

_DAY = 86400.0

#: Every count of :attr:`Report.counts`, in the report's order, with what it counts.
COUNTS: Mapping[str, str] = {
    "referred": "cases referred (opened)",
    "victim_contacted": "cases whose first contact with a victim happened",
    "information_given": "cases in which a victim was first given information",
    "consented_face_to_face": "cases in which a victim first consented to meet",
    "consented_shuttle": "cases in which a victim first consented to shuttle mediation",
    "consented_receive_letter": "cases in which a victim first consented to receive a letter",
    "direct_rj": "cases whose conference was held (direct RJ)",
    "indirect_rj": "cases whose first letter delivery or shuttle message happened (indirect RJ)",
    "letter_delivered": "cases whose first letter of apology was delivered",
    "shuttle": "cases whose first shuttle message was carried",
    "agreement_made": "cases whose outcome agreement was signed by all (reviews then started)",
    "agreement_fulfilled": "cases that ended with their agreement fulfilled",
    "agreement_partly_fulfilled": "cases that ended with their agreement partly fulfilled",
    "agreement_not_fulfilled": "cases that ended with their agreement not fulfilled",
    "completed": "cases completed",
    "closed": "cases closed early (any reason but completion)",
    "victims_informed_of_conclusion": "victims first told of the case's conclusion",
    "feedback_responses": "feedback responses recorded (every participant)",
}

_CONSENT_KEYS = {a.value: f"consented_{a.value}" for a in ContactActivity}
_CONTACT_BY_PARTY = frozenset(
    {
        "give_information",
        "record_consent",
        "record_decline",
        "withdraw_consent",
        "record_feedback",
        "record_follow_up",
    }
)
_CONTACT_BY_VICTIM = frozenset(
    {"record_victim_wishes", "inform_victim", "record_shuttle_message", "deliver_letter"}
)


def _start(value: object) -> datetime:
    return aware_datetime("start", value)


def _end(value: object) -> datetime:
    return aware_datetime("end", value)


@attrs.frozen
class Period:
    """The instants ``start <= t < end`` (both timezone-aware, kept in UTC; ``start`` before
    ``end``, else :class:`~rjflow.InvalidInput`)."""

    start: datetime = attrs.field(converter=_start)
    end: datetime = attrs.field(converter=_end)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInput(
                "A report's period must end after it starts; give the later time as its end."
            )

    @classmethod
    def days(cls, first: date, last: date) -> Period:
        """Whole calendar days ``first`` to ``last``, both included: from midnight UTC of
        ``first`` up to (not including) midnight UTC after ``last``."""
        for name, value in (("first", first), ("last", last)):
            if not isinstance(value, date) or isinstance(value, datetime):
                raise InvalidInput(f"{name!r} must be a date (got {type(value).__name__}).")
        start = datetime.combine(first, time(), tzinfo=UTC)
        return cls(start, datetime.combine(last, time(), tzinfo=UTC) + timedelta(days=1))

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment < self.end


@attrs.frozen
class CaseFacts:
    """One case's dated milestones, read from its event history by :func:`case_facts`; each
    field is defined in docs/reporting.md.  Times are when the event happened (UTC)."""

    case_id: str
    lead: str | None
    referred_at: datetime
    first_victim_contact: datetime | None = None
    first_victim_information: datetime | None = None
    consented: tuple[tuple[str, datetime], ...] = ()
    conference_at: datetime | None = None
    letter_delivered_at: datetime | None = None
    first_shuttle_at: datetime | None = None
    agreement_made_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    agreement_outcome: str | None = None
    conclusion_told: tuple[datetime, ...] = ()
    feedback: tuple[tuple[datetime, int, bool], ...] = ()
    sessions_attended: int = 0
    sessions_missed: int = 0
    stages: tuple[tuple[datetime, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The facts as plain JSON data (times ISO 8601 in UTC), for a store's read model to
        keep beside the case, so that a report need not load the cases again; read back with
        :meth:`from_dict`."""
        # Field by field (a store writes this at every save): attrs.asdict and a loop over
        # the times cost three times as much.  A test checks the keys are the fields.
        return {
            "case_id": self.case_id,
            "lead": self.lead,
            "referred_at": self.referred_at.isoformat(),
            "first_victim_contact": _iso(self.first_victim_contact),
            "first_victim_information": _iso(self.first_victim_information),
            "consented": [[a, t.isoformat()] for a, t in self.consented],
            "conference_at": _iso(self.conference_at),
            "letter_delivered_at": _iso(self.letter_delivered_at),
            "first_shuttle_at": _iso(self.first_shuttle_at),
            "agreement_made_at": _iso(self.agreement_made_at),
            "ended_at": _iso(self.ended_at),
            "end_reason": self.end_reason,
            "agreement_outcome": self.agreement_outcome,
            "conclusion_told": [t.isoformat() for t in self.conclusion_told],
            "feedback": [[t.isoformat(), score, changed] for t, score, changed in self.feedback],
            "sessions_attended": self.sessions_attended,
            "sessions_missed": self.sessions_missed,
            "stages": [[t.isoformat(), stage] for t, stage in self.stages],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseFacts:
        """Facts from :meth:`to_dict`'s data.  Raises :class:`~rjflow.InvalidDocument`
        (naming the field, never repeating its value) when a field is missing, unknown or
        of the wrong kind."""
        if not isinstance(data, Mapping):
            raise InvalidDocument(
                "Case facts must be an object with exactly the fields of CaseFacts.to_dict().",
                path="$",
            )
        if data.keys() != _FIELDS:
            missing = sorted(_FIELDS - data.keys())
            unknown = len(data.keys() - _FIELDS)  # counted, not named: anyone's text
            raise InvalidDocument(
                "Case facts must hold exactly the fields of CaseFacts.to_dict(): "
                + "; ".join(
                    ([f"missing {', '.join(missing)}"] if missing else [])
                    + ([f"{unknown} unknown field{'s' * (unknown > 1)}"] if unknown else [])
                )
                + ".",
                path=f"$.{missing[0]}" if missing else "$",
            )
        # Read once per case by a report over a store's facts: first the quick reading of
        # exactly what to_dict writes; anything else is read (and refused) field by field.
        try:
            quick = _quick_facts(cls, data)
        except (TypeError, ValueError, OverflowError):
            quick = None
        if quick is not None:
            return quick
        return cls._checked(data)

    @classmethod
    def _checked(cls, data: Mapping[str, Any]) -> CaseFacts:
        """:meth:`from_dict`'s field-by-field reading, naming the first field it refuses."""
        get = data.__getitem__
        try:
            lead = get("lead")
            return cls(
                case_id=_opaque_id(get("case_id"), "case_id"),
                lead=None if lead is None else _opaque_id(lead, "lead"),
                referred_at=_time(get("referred_at"), "referred_at"),
                first_victim_contact=_maybe_time(get, "first_victim_contact"),
                first_victim_information=_maybe_time(get, "first_victim_information"),
                conference_at=_maybe_time(get, "conference_at"),
                letter_delivered_at=_maybe_time(get, "letter_delivered_at"),
                first_shuttle_at=_maybe_time(get, "first_shuttle_at"),
                agreement_made_at=_maybe_time(get, "agreement_made_at"),
                ended_at=_maybe_time(get, "ended_at"),
                end_reason=_choice(get("end_reason"), "end_reason", _REASONS, optional=True),
                agreement_outcome=_choice(
                    get("agreement_outcome"), "agreement_outcome", _OUTCOMES, optional=True
                ),
                consented=tuple(
                    [
                        (_choice(a, "consented", _ACTIVITIES), _time(t, "consented"))
                        for a, t in _rows(get("consented"), "consented", 2)
                    ]
                ),
                conclusion_told=tuple(
                    [
                        _time(t, "conclusion_told")
                        for t in _rows(get("conclusion_told"), "conclusion_told")
                    ]
                ),
                feedback=tuple(
                    [
                        (_time(t, "feedback"), _whole(n, "feedback"), _flag(c, "feedback"))
                        for t, n, c in _rows(get("feedback"), "feedback", 3)
                    ]
                ),
                sessions_attended=_whole(get("sessions_attended"), "sessions_attended"),
                sessions_missed=_whole(get("sessions_missed"), "sessions_missed"),
                stages=tuple(
                    [
                        (_time(t, "stages"), _choice(s, "stages", _STAGES))
                        for t, s in _rows(get("stages"), "stages", 2)
                    ]
                ),
            )
        except (TypeError, ValueError, OverflowError) as exc:  # a safety net: none expected
            if isinstance(exc, InvalidDocument):
                raise
            raise InvalidDocument(
                "Case facts hold a value of the wrong shape (see CaseFacts.to_dict()).", path="$"
            ) from None

    def stage_before(self, moment: datetime) -> str | None:
        """The stage the case was at just before ``moment`` (None: not yet referred)."""
        for when, to_state in reversed(self.stages):  # the last one before it, in order
            if when < moment:
                return to_state
        return None


_FIELDS = frozenset(a.name for a in attrs.fields(CaseFacts))
_OPTIONAL_TIMES = (
    "first_victim_contact",
    "first_victim_information",
    "conference_at",
    "letter_delivered_at",
    "first_shuttle_at",
    "agreement_made_at",
    "ended_at",
)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _opaque_id(value: object, name: str) -> str:
    """A case's or facilitator's id: never a name (facts are read from a store a tool can
    change)."""
    if not is_id(value):
        raise InvalidDocument(f"Case facts field {name} must be an opaque id.", path=name)
    assert isinstance(value, str)
    return value


_REASONS = frozenset(r.value for r in ClosureReason)
_OUTCOMES = frozenset(o.value for o in AgreementOutcome)
_ACTIVITIES = frozenset(a.value for a in ContactActivity)
_STAGES = frozenset(s.value for s in State)


def _choice(value: object, name: str, allowed: frozenset[str], *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise InvalidDocument(
            f"Case facts field {name} must be one of {', '.join(sorted(allowed))}.", path=name
        )
    return value


def _rows(value: object, name: str, width: int | None = None) -> list[Any]:
    """A list field as :meth:`CaseFacts.to_dict` writes it: a list, and (``width`` given)
    each item a list of that many values."""
    if type(value) is list:
        if width is None:
            return value
        for item in value:
            if type(item) is not list or len(item) != width:
                break
        else:
            return value
    shape = "a list" if width is None else f"a list of lists of {width} values"
    raise InvalidDocument(f"Case facts field {name} must be {shape}.", path=name)


def _whole(value: object, name: str) -> int:
    if type(value) is not int or value < 0:
        raise InvalidDocument(f"Case facts field {name} must be a whole number.", path=name)
    return value


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidDocument(f"Case facts field {name} must be true or false.", path=name)
    return value


def _maybe_time(get: Any, name: str) -> Any:
    value = get(name)
    return None if value is None else _time(value, name)


def _time(value: object, name: str) -> Any:
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            zone = moment.tzinfo
            if zone is UTC:  # what to_dict writes: times in UTC
                return moment
            if zone is not None:
                try:
                    return moment.astimezone(UTC)
                except OverflowError:  # 0001-01-01 with an offset east of UTC
                    pass
    raise InvalidDocument(
        f"Case facts field {name} must hold ISO 8601 times with their offset.", path=name
    )


_FROM_ISO = datetime.fromisoformat


def _utc(value: object) -> datetime:
    """A time exactly as :meth:`CaseFacts.to_dict` writes it (ISO 8601 text in UTC);
    ValueError or TypeError for anything else (the field-by-field reading then decides)."""
    if type(value) is not str:
        raise TypeError
    moment = _FROM_ISO(value)
    if moment.tzinfo is not UTC:
        raise ValueError
    return moment


def _quick_facts(cls: type[CaseFacts], data: Mapping[str, Any]) -> CaseFacts | None:
    """:meth:`CaseFacts.from_dict` of data exactly as :meth:`CaseFacts.to_dict` writes it
    (its keys already checked), in as few steps as a report over 100,000 stored cases needs;
    None, TypeError or ValueError for anything else.  It accepts a part of what the
    field-by-field reading accepts and gives the same facts (tests/test_report_fast_paths.py)."""
    case_id, lead = data["case_id"], data["lead"]
    reason, outcome = data["end_reason"], data["agreement_outcome"]
    attended, missed = data["sessions_attended"], data["sessions_missed"]
    consented, feedback = data["consented"], data["feedback"]
    told, stages = data["conclusion_told"], data["stages"]
    if (
        type(case_id) is not str
        or not is_id(case_id)
        or (lead is not None and (type(lead) is not str or not is_id(lead)))
        or (reason is not None and reason not in _REASONS)
        or (outcome is not None and outcome not in _OUTCOMES)
        or type(attended) is not int
        or type(missed) is not int
        or attended < 0
        or missed < 0
        or type(consented) is not list
        or type(feedback) is not list
        or type(told) is not list
        or type(stages) is not list
    ):
        return None
    when = [None if (v := data[name]) is None else _utc(v) for name in _OPTIONAL_TIMES]
    consents = []
    for item in consented:
        activity, moment = item  # ValueError unless two values
        if type(item) is not list or activity not in _ACTIVITIES:
            return None
        consents.append((activity, _utc(moment)))
    responses = []
    for item in feedback:
        moment, score, changed = item
        if type(item) is not list or type(score) is not int or score < 0:
            return None
        if changed is not True and changed is not False:
            return None
        responses.append((_utc(moment), score, changed))
    changes = []
    for item in stages:
        moment, stage = item
        if type(item) is not list or stage not in _STAGES:
            return None
        changes.append((_utc(moment), stage))
    # Positionally, in the order of the fields (the tests compare every field with the
    # field-by-field reading): keywords would cost a report over 100,000 cases more.
    return cls(
        case_id,
        lead,
        _utc(data["referred_at"]),
        when[0],
        when[1],
        tuple(consents),
        when[2],
        when[3],
        when[4],
        when[5],
        when[6],
        reason,
        outcome,
        tuple([_utc(moment) for moment in told]),
        tuple(responses),
        attended,
        missed,
        tuple(changes),
    )


class _HasHistory(Protocol):
    @property
    def history(self) -> tuple[Event, ...]: ...  # pragma: no cover


class _Reader:
    """The state one pass over a history needs."""

    def __init__(self) -> None:
        self.victims: set[str] = set()
        self.facts: dict[str, Any] = {}
        self.consented: dict[str, datetime] = {}
        self.told: dict[str, datetime] = {}
        self.feedback: list[tuple[datetime, int, bool]] = []
        self.stages: list[tuple[datetime, str]] = []
        self.proposed = False
        self.last_signature: datetime | None = None
        self.actions: list[str] = []
        self.statuses: dict[str, str] = {}
        self.attended = 0
        self.missed = 0

    def first(self, name: str, when: datetime) -> None:
        if self.facts.get(name) is None:
            self.facts[name] = when

    def read(self, event: Event) -> None:
        """Take one event (in history order)."""
        when = event.occurred_at or event.at
        if event.to_state is not None:
            self.stages.append((when, event.to_state))
        action = event.action
        step = _STEPS.get(action)
        if step is not None:
            step(self, event.data, when)
        if action in _CONTACTS:
            self.contact(action, event.data, when)

    # One step per action kind that a count reads (every other action only moves the stage).

    def _open_case(self, data: Mapping[str, Any], when: datetime) -> None:
        self.facts["case_id"] = data.get("case_id")
        self.facts["lead"] = data.get("lead_facilitator")
        self.facts["referred_at"] = when
        for party in data.get("parties") or ():
            if party.get("role") == "victim":
                self.victims.add(str(party.get("id")))

    def _add_party(self, data: Mapping[str, Any], when: datetime) -> None:
        party = data.get("party") or {}
        if party.get("role") == "victim":
            self.victims.add(str(party.get("id")))

    def _assign_lead(self, data: Mapping[str, Any], when: datetime) -> None:
        self.facts["lead"] = data.get("facilitator")

    def _session(self, data: Mapping[str, Any], when: datetime) -> None:
        if data.get("attendance") == "attended":
            self.attended += 1
        else:
            self.missed += 1

    def _conference(self, data: Mapping[str, Any], when: datetime) -> None:
        self.attended += 1  # the conference is its own session
        self.first("conference_at", when)
        self.first("first_victim_contact", when)

    def _propose(self, data: Mapping[str, Any], when: datetime) -> None:
        self.proposed, self.last_signature = True, None
        self.actions = [str(a.get("id")) for a in data.get("actions") or ()]

    def _vary(self, data: Mapping[str, Any], when: datetime) -> None:
        self.actions = [str(a.get("id")) for a in data.get("actions") or ()]

    def _abandon(self, data: Mapping[str, Any], when: datetime) -> None:
        self.proposed, self.actions = False, []

    def _sign(self, data: Mapping[str, Any], when: datetime) -> None:
        self.last_signature = when

    def _start_reviews(self, data: Mapping[str, Any], when: datetime) -> None:
        if self.proposed and self.last_signature is not None:
            self.first("agreement_made_at", self.last_signature)

    def _progress(self, data: Mapping[str, Any], when: datetime) -> None:
        self.statuses[str(data.get("action_id"))] = str(data.get("status"))

    def _waive(self, data: Mapping[str, Any], when: datetime) -> None:
        self.statuses[str(data.get("action_id"))] = ActionStatus.WAIVED.value

    def _complete(self, data: Mapping[str, Any], when: datetime) -> None:
        self._end(ClosureReason.COMPLETED.value, when)

    def _close(self, data: Mapping[str, Any], when: datetime) -> None:
        self._end(data.get("reason"), when)

    def _end(self, reason: object, when: datetime) -> None:
        self.facts["ended_at"] = when
        self.facts["end_reason"] = reason
        self.facts["agreement_outcome"] = self.outcome()

    def _feedback(self, data: Mapping[str, Any], when: datetime) -> None:
        satisfaction = data.get("satisfaction")
        if type(satisfaction) is int:  # what CaseFacts.from_dict reads back (no bool)
            self.feedback.append((when, satisfaction, bool(data.get("things_changed"))))

    def contact(self, action: str, data: Mapping[str, Any], when: datetime) -> None:
        if action in _CONTACT_BY_PARTY:
            victim = data.get("party")
        elif action in _CONTACT_BY_VICTIM:
            victim = data.get("victim")
            if action == "deliver_letter" and victim is None:
                victim = next(iter(self.victims), None)  # the case's only letter
        else:
            return
        if victim not in self.victims:
            return
        self.first("first_victim_contact", when)
        if action == "give_information":
            self.first("first_victim_information", when)
        elif action == "record_consent":
            self.consented.setdefault(str(data.get("activity")), when)
        elif action == "record_shuttle_message":
            self.first("first_shuttle_at", when)
        elif action == "deliver_letter":
            self.first("letter_delivered_at", when)
        elif action == "inform_victim" and data.get("about") == "conclusion":
            self.told.setdefault(str(victim), when)

    def outcome(self) -> str | None:
        if not self.proposed or not self.actions:
            return None
        statuses = [ActionStatus(self.statuses.get(a, "not_started")) for a in self.actions]
        if not all(s.final for s in statuses):
            return None
        return AgreementOutcome.of(tuple(statuses)).value


_Step = Callable[[_Reader, Mapping[str, Any], datetime], None]

#: The step of each action kind a count reads.
_STEPS: dict[str, _Step] = {
    "open_case": _Reader._open_case,
    "add_party": _Reader._add_party,
    "assign_lead_facilitator": _Reader._assign_lead,
    "record_session": _Reader._session,
    "hold_conference": _Reader._conference,
    "propose_agreement": _Reader._propose,
    "vary_agreement": _Reader._vary,
    "abandon_agreement": _Reader._abandon,
    "sign_agreement": _Reader._sign,
    "start_reviews": _Reader._start_reviews,
    "record_progress": _Reader._progress,
    "waive_agreement_action": _Reader._waive,
    "complete": _Reader._complete,
    "close": _Reader._close,
    "record_feedback": _Reader._feedback,
}
_CONTACTS = _CONTACT_BY_PARTY | _CONTACT_BY_VICTIM


def case_facts(case: _HasHistory) -> CaseFacts:
    """The milestones of one case (a :class:`rjflow.Case`, or anything with its ``history``),
    read from its events in one pass; see docs/reporting.md for each rule."""
    reader = _Reader()
    read = reader.read
    for event in case.history:
        read(event)
    facts = reader.facts
    return CaseFacts(
        case_id=str(facts.get("case_id")),
        lead=facts.get("lead"),
        referred_at=facts["referred_at"],
        first_victim_contact=facts.get("first_victim_contact"),
        first_victim_information=facts.get("first_victim_information"),
        consented=tuple(sorted(reader.consented.items())),
        conference_at=facts.get("conference_at"),
        letter_delivered_at=facts.get("letter_delivered_at"),
        first_shuttle_at=facts.get("first_shuttle_at"),
        agreement_made_at=facts.get("agreement_made_at"),
        ended_at=facts.get("ended_at"),
        end_reason=facts.get("end_reason"),
        agreement_outcome=facts.get("agreement_outcome"),
        conclusion_told=tuple(sorted(reader.told.values())),
        feedback=tuple(reader.feedback),
        sessions_attended=reader.attended,
        sessions_missed=reader.missed,
        stages=tuple(reader.stages),
    )


@attrs.frozen
class Distribution:
    """Durations in days: how many, their median and 90th percentile (nearest rank; None
    when there are none), and the values themselves, sorted."""

    count: int
    median: float | None
    p90: float | None
    values: tuple[float, ...] = attrs.field(repr=False, default=())

    @classmethod
    def of(cls, values: Iterable[float]) -> Distribution:
        ordered = tuple(sorted(values))
        if not ordered:
            return cls(0, None, None, ())
        rank = math.ceil(0.9 * len(ordered))
        return cls(len(ordered), statistics.median(ordered), ordered[rank - 1], ordered)


@attrs.frozen
class Satisfaction:
    """Feedback recorded in the period: responses, mean satisfaction (1-5; None without
    responses), responses per score, and how many said things changed for the better."""

    responses: int
    mean: float | None
    by_score: tuple[tuple[int, int], ...]
    things_changed: int


@attrs.frozen
class SessionsUsed:
    """Sessions of the cases that ended in the period: attended (the conference counts as
    one) and missed, in total, and attended per ended case (mean and median)."""

    cases: int
    attended: int
    missed: int
    mean: float | None
    median: float | None


@attrs.frozen
class Report:
    """The numbers of one period (see docs/reporting.md for each definition)."""

    period: Period
    cases: int
    counts: Mapping[str, int]
    closed_by_reason: Mapping[str, int]
    days_to_first_contact: Distribution
    days_to_completion: Distribution
    satisfaction: Satisfaction
    sessions: SessionsUsed
    open_by_stage: Mapping[str, int]
    #: Cases of the caseload that could not be read (a line or stored case that does not
    #: load, or fails its seal) and are in none of the numbers: set by whoever read the
    #: caseload (``rjflow report`` does), so that the report itself says it is incomplete.
    left_out: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON data (times ISO 8601, durations in days)."""

        def dist(d: Distribution) -> dict[str, Any]:
            return {"count": d.count, "median": d.median, "p90": d.p90}

        return {
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "cases": self.cases,
            "cases_left_out": self.left_out,
            "counts": dict(self.counts),
            "closed_by_reason": dict(self.closed_by_reason),
            "days_to_first_contact": dist(self.days_to_first_contact),
            "days_to_completion": dist(self.days_to_completion),
            "satisfaction": {
                "responses": self.satisfaction.responses,
                "mean": self.satisfaction.mean,
                "by_score": {str(k): v for k, v in self.satisfaction.by_score},
                "things_changed": self.satisfaction.things_changed,
            },
            "sessions": attrs.asdict(self.sessions),
            "open_by_stage": dict(self.open_by_stage),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def rows(self) -> list[tuple[str, str, str]]:
        """The report as ``(section, measure, value)`` rows: what :meth:`to_csv` writes."""
        out: list[tuple[str, str, str]] = [
            ("period", "start", self.period.start.isoformat()),
            ("period", "end", self.period.end.isoformat()),
            ("cases", "read", str(self.cases)),
            ("cases", "left_out", str(self.left_out)),
        ]
        out += [("counts", k, str(v)) for k, v in self.counts.items()]
        out += [("closed_by_reason", k, str(v)) for k, v in self.closed_by_reason.items()]
        for name, d in (
            ("days_to_first_contact", self.days_to_first_contact),
            ("days_to_completion", self.days_to_completion),
        ):
            out += [(name, "count", str(d.count)), (name, "median", _num(d.median))]
            out.append((name, "p90", _num(d.p90)))
        s = self.satisfaction
        out += [("satisfaction", "responses", str(s.responses))]
        out += [("satisfaction", "mean", _num(s.mean))]
        out += [("satisfaction", f"score_{k}", str(v)) for k, v in s.by_score]
        out += [("satisfaction", "things_changed", str(s.things_changed))]
        out += [("sessions", k, _num(v)) for k, v in attrs.asdict(self.sessions).items()]
        out += [("open_by_stage", k, str(v)) for k, v in self.open_by_stage.items()]
        return out

    def to_csv(self) -> str:
        """:meth:`rows` as CSV text with a header row (``section,measure,value``)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(("section", "measure", "value"))
        writer.writerows(self.rows())
        return buffer.getvalue()


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(round(value, 2)) if isinstance(value, float) else str(value)


def _days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / _DAY


class _Tally:
    """The running counts of :func:`build_report`."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.start, self.end = period.start, period.end
        self.counts = dict.fromkeys(COUNTS, 0)
        self.reasons = dict.fromkeys((r.value for r in ClosureReason), 0)
        self.stages = dict.fromkeys((s.value for s in OPEN_STATES), 0)
        self.to_contact: list[float] = []
        self.to_completion: list[float] = []
        self.scores = dict.fromkeys(range(1, 6), 0)
        self.changed = 0
        self.sessions: list[int] = []
        self.missed = 0
        self.seen = 0

    def add(self, f: CaseFacts) -> None:  # noqa: PLR0912 - one branch per count
        # Once per case of a report over 100,000: the period test written out, no calls.
        self.seen += 1
        start, end, counts = self.start, self.end, self.counts
        referred = f.referred_at
        if start <= referred < end:
            counts["referred"] += 1
        moment = f.first_victim_contact
        if moment is not None and start <= moment < end:
            counts["victim_contacted"] += 1
            self.to_contact.append(_days(moment, referred))
        moment = f.first_victim_information
        if moment is not None and start <= moment < end:
            counts["information_given"] += 1
        for activity, moment in f.consented:
            if activity in _CONSENT_KEYS and start <= moment < end:
                counts[_CONSENT_KEYS[activity]] += 1
        moment = f.conference_at
        if moment is not None and start <= moment < end:
            counts["direct_rj"] += 1
        letter, shuttle = f.letter_delivered_at, f.first_shuttle_at
        if letter is not None and start <= letter < end:
            counts["letter_delivered"] += 1
        if shuttle is not None and start <= shuttle < end:
            counts["shuttle"] += 1
        indirect = letter  # the earlier of the two (indirect RJ held)
        if shuttle is not None and (letter is None or shuttle < letter):
            indirect = shuttle
        if indirect is not None and start <= indirect < end:
            counts["indirect_rj"] += 1
        moment = f.agreement_made_at
        if moment is not None and start <= moment < end:
            counts["agreement_made"] += 1
        for moment in f.conclusion_told:
            if start <= moment < end:
                counts["victims_informed_of_conclusion"] += 1
        for moment, score, things in f.feedback:
            if start <= moment < end:
                counts["feedback_responses"] += 1
                if score in self.scores:
                    self.scores[score] += 1
                    self.changed += things
        ended = f.ended_at
        if ended is None or ended >= end:
            if referred < end:
                stage = f.stage_before(end)
                if stage in self.stages:
                    self.stages[stage] += 1
        elif ended >= start:
            self.ending(f, ended)

    def ending(self, f: CaseFacts, ended: datetime) -> None:
        reason = str(f.end_reason)
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        if reason == ClosureReason.COMPLETED.value:
            self.counts["completed"] += 1
            self.to_completion.append(_days(ended, f.referred_at))
        else:
            self.counts["closed"] += 1
        if f.agreement_outcome is not None:
            self.counts[f"agreement_{f.agreement_outcome}"] += 1
        self.sessions.append(f.sessions_attended)
        self.missed += f.sessions_missed

    def result(self) -> Report:
        responses = sum(self.scores.values())
        sessions = self.sessions
        return Report(
            period=self.period,
            cases=self.seen,
            counts=self.counts,
            closed_by_reason=self.reasons,
            days_to_first_contact=Distribution.of(self.to_contact),
            days_to_completion=Distribution.of(self.to_completion),
            satisfaction=Satisfaction(
                responses,
                sum(k * v for k, v in self.scores.items()) / responses if responses else None,
                tuple(self.scores.items()),
                self.changed,
            ),
            sessions=SessionsUsed(
                len(sessions),
                sum(sessions),
                self.missed,
                statistics.fmean(sessions) if sessions else None,
                float(statistics.median(sessions)) if sessions else None,
            ),
            open_by_stage=self.stages,
        )


def build_report(facts: Iterable[CaseFacts], period: Period) -> Report:
    """Count the milestones of ``facts`` (from :func:`case_facts`) that fall in ``period``.
    ``facts`` is read once, so it may be a generator over a large caseload.  Raises
    :class:`~rjflow.InvalidInput` when ``period`` is not a :class:`Period`."""
    if not isinstance(period, Period):
        raise InvalidInput(
            "'period' must be a Period, for example Period.days(date(2026, 1, 1), "
            f"date(2026, 12, 31)) (got {type(period).__name__})."
        )
    tally = _Tally(period)
    for f in facts:
        tally.add(f)
    return tally.result()


def report(cases: Iterable[_HasHistory], period: Period) -> Report:
    """The report of ``period`` over ``cases`` (any iterable of cases, read once)."""
    return build_report((case_facts(c) for c in cases), period)
