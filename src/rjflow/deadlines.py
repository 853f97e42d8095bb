"""What is due in a case, and when: dated obligations computed from the record and the policy.

:func:`due` (also :meth:`rjflow.Case.due`) lists every dated obligation of an open case at a
time the caller gives: the next review, agreement actions by their deadlines, reassessment
of risk when an assessment expires or is superseded, first contact with each victim after
the referral, a case left without activity, a referral for breach awaiting the court's
outcome, and a warning's enforcement window.  Each :class:`Obligation` has a stable ``code``,
its due time, its :class:`DueState` at that time, the party or agreement action it concerns
(an opaque id) and a full-sentence message that names parties by id only.

Nothing here reads the clock: the state is judged at ``at``, which the caller passes (a
timezone-aware ``datetime``, converted to UTC).  The functions are pure and cheap (one pass
over the history at most), so a store's read model can keep :func:`next_due` as a column.

>>> from datetime import datetime, timedelta, timezone
>>> from rjflow.demo import build_demo_case, DEMO_START
>>> case = build_demo_case()
>>> due(case, DEMO_START + timedelta(days=400))  # a completed case owes nothing
()
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import NamedTuple, Protocol

import attrs

from rjflow._validate import aware_datetime
from rjflow.activities import (
    Attendance,
    EnforcementStepKind,
    LetterStatus,
    RiskOutcome,
    SessionKind,
)
from rjflow.history import Event
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.states import State

__all__ = [
    "CODES",
    "DueState",
    "Obligation",
    "due",
    "next_due",
    "overdue_by_facilitator",
    "victim_contacted",
]

#: The action of an erasure event: it erases text, it is not work on the case.
_ERASURE = "erase_free_text"

#: The stage progress reviews happen in, as events name it (read once: an enum member's
#: ``value`` is a descriptor lookup, and the trail reads it for every event).
_REVIEW = State.REVIEW.value


class DueState(enum.Enum):
    """Where an obligation stands at the time asked about.

    ``UPCOMING``: due later than ``Policy.due_soon_within`` from now; ``DUE``: due within
    that window (act now); ``OVERDUE``: its due time has passed (``at`` is after it).
    """

    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"


#: Every obligation code, with what it asks for.  Codes are stable across releases.
CODES: Mapping[str, str] = {
    "review_due": "hold the next review of progress (Policy.review_every)",
    "agreement_action_due": "an agreement action reaches its deadline",
    "risk_reassessment_due": "assess risk again: the assessment expires or was superseded",
    "first_contact_due": "contact a victim after the referral (Policy.first_contact_within)",
    "case_idle": "the case has had no activity (Policy.idle_after)",
    "breach_outcome_due": "record the court's outcome of a referral for breach",
    "warning_window_ends": "a warning's enforcement window ends (Policy.enforcement_window)",
}


@attrs.frozen
class Obligation:
    """One dated obligation of a case.

    ``code``: stable (see :data:`CODES`); ``due_at``: the last moment it is on time (UTC; it
    is overdue after it); ``state``: at the time asked about; ``subject``: the party or
    agreement action concerned, when there is one; ``message``: a full sentence for the
    caseworker, naming parties only by id.
    """

    code: str
    due_at: datetime
    state: DueState
    message: str
    subject: str | None = None

    def __str__(self) -> str:
        return self.message


class CaseLike(Protocol):
    """What :func:`due` reads of a case (a :class:`rjflow.Case` is one)."""

    @property
    def record(self) -> CaseRecord: ...  # pragma: no cover

    @property
    def policy(self) -> Policy: ...  # pragma: no cover

    @property
    def history(self) -> tuple[Event, ...]: ...  # pragma: no cover


def _state(due_at: datetime, at: datetime, soon: timedelta) -> DueState:
    if at > due_at:
        return DueState.OVERDUE
    if at >= due_at - soon:
        return DueState.DUE
    return DueState.UPCOMING


def _end_of(day: date) -> datetime:
    """The last moment of ``day`` in UTC: an action due "by" a date is on time all that day."""
    return datetime.combine(day, time.max, tzinfo=UTC)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _was(state: DueState) -> str:
    return "was due" if state is DueState.OVERDUE else "is due"


def victim_contacted(rec: CaseRecord, victim: str) -> bool:
    """True when the service has been in contact with ``victim``: they were given information,
    made a decision about an activity (consent, decline or withdrawal), stated their wishes, were
    told of progress or the conclusion, exchanged a shuttle message, received a letter, met at
    the conference, gave feedback or had follow-up contact (docs/reporting.md, "victim
    contacted").  A request the victim made alone is not contact by the service."""
    return (
        any(i.party == victim for i in rec.information)
        or any(c.party == victim for c in rec.consents)
        or any(w.victim == victim for w in rec.victim_wishes)
        or any(u.victim == victim for u in rec.victim_updates)
        or any(m.victim == victim for m in rec.shuttle_messages)
        or any(x.victim == victim and x.status is LetterStatus.DELIVERED for x in rec.letters)
        or (rec.conference is not None and victim in rec.conference.victims)
        or any(f.party == victim for f in rec.feedback)
        or any(f.party == victim for f in rec.follow_ups)
    )


@attrs.frozen
class _Trail:
    """What the obligations need from the history, found in one backward pass."""

    last_activity: datetime
    review_started: datetime | None
    victims_added: Mapping[str, datetime]


def _trail(events: tuple[Event, ...], rec: CaseRecord) -> _Trail:
    last: datetime | None = None
    review: datetime | None = None
    added: dict[str, datetime] = {}
    for event in reversed(events):
        if last is None and event.action != _ERASURE:
            last = event.at
        if review is None and event.to_state == _REVIEW:
            review = event.occurred_at or event.at
        if event.action == "add_party":
            party = event.data.get("party")
            if isinstance(party, Mapping) and party.get("role") == "victim":
                added[str(party.get("id"))] = event.occurred_at or event.at
    return _Trail(last or rec.updated_at, review, added)


class _Dated(NamedTuple):
    """One obligation before its state is judged: its code, due time, subject, and its
    message for a state (``say``: a text function with its values bound, called only when
    an :class:`Obligation` is made, so that :func:`next_due` builds no text)."""

    code: str
    due_at: datetime
    subject: str | None
    say: Callable[[DueState], str]


@attrs.frozen
class _Ask:
    """One question: the case's record, its policy, the trail, and when it is asked."""

    rec: CaseRecord
    policy: Policy
    trail: _Trail
    at: datetime

    def state(self, due_at: datetime) -> DueState:
        return _state(due_at, self.at, self.policy.due_soon_within)


def _reviews(q: _Ask) -> Iterator[_Dated]:
    """The next review: every ``review_every`` while progress is reviewed, counted from the
    latest attended review session, or from when reviews started."""
    rec, policy = q.rec, q.policy
    if rec.state is not State.REVIEW:
        return
    held = [
        s.held_at
        for s in rec.sessions
        if s.kind is SessionKind.REVIEW and s.attendance is Attendance.ATTENDED
    ]
    due_at = max([*held, q.trail.review_started or rec.updated_at]) + policy.review_every
    yield _Dated("review_due", due_at, None, partial(_review_text, due_at, policy.review_every))


def _review_text(due_at: datetime, every: timedelta, state: DueState) -> str:
    return (
        f"The next review of progress {_was(state)} by {_when(due_at)} (a review "
        f"every {every.days} days); hold and record a review session."
    )


def _agreement_actions(q: _Ask) -> Iterator[_Dated]:
    """Agreement actions without a final status, by their deadlines, while the agreement
    binds."""
    agreement = q.rec.agreement
    if agreement is None or not q.rec.agreement_binding(q.policy):
        return
    for action in agreement.actions:
        if q.rec.action_status(action.id).final:
            continue
        due_at = _end_of(action.deadline)
        say = partial(_action_text, action.id, action.deadline)
        yield _Dated("agreement_action_due", due_at, action.id, say)


def _action_text(action_id: str, deadline: date, state: DueState) -> str:
    return (
        f"Agreement action {action_id} {_was(state)} by {deadline.isoformat()}; record its "
        "progress at a review, or vary or waive it with the parties (an agreement is never "
        "enforced)."
    )


def _reassessments(q: _Ask) -> Iterator[_Dated]:
    """Each favourable assessment in force (one per subject) expires, or was superseded by a
    material change (then it is due from the change)."""
    rec, valid_for = q.rec, q.policy.risk_assessment_valid_for
    for subject in dict.fromkeys(a.subject for a in rec.risk_assessments):
        current = rec.latest_risk_assessment(subject)
        if current is None or current.outcome is not RiskOutcome.FAVOURABLE:
            continue
        who = "the case" if subject is None else f"participant {subject}"
        change = rec.superseding_change(current)
        if change is not None:
            due_at = max(change.at, current.at)
            reason = f"{change.kind.label} after it was made"
        else:
            due_at = current.at + valid_for
            reason = f"it expires {valid_for.days} days after it was made"
        say = partial(_reassessment_text, who, due_at, reason)
        yield _Dated("risk_reassessment_due", due_at, subject, say)


def _reassessment_text(who: str, due_at: datetime, reason: str, state: DueState) -> str:
    return (
        f"A new risk assessment of {who} {_was(state)} by {_when(due_at)} ({reason}); assess "
        "risk again before further contact."
    )


def _first_contacts(q: _Ask) -> Iterator[_Dated]:
    """First contact with each victim not yet contacted, counted from the referral (or from
    when they joined the case); for offences where the service waits for the victim to ask,
    only once they asked, counted from their request."""
    rec, within = q.rec, q.policy.first_contact_within
    request_only = rec.offence.category in q.policy.victim_request_required_for
    for victim in rec.victims:
        if victim_contacted(rec, victim.id):
            continue
        start = q.trail.victims_added.get(victim.id, rec.opened_at)
        if request_only:
            if not rec.asked_for_rj(victim.id):
                continue  # the service does not make the first approach
            start = max([start, *[r.at for r in rec.requests if r.party == victim.id][:1]])
        due_at = start + within
        say = partial(_first_contact_text, victim.id, due_at, within)
        yield _Dated("first_contact_due", due_at, victim.id, say)


def _first_contact_text(victim: str, due_at: datetime, within: timedelta, state: DueState) -> str:
    return (
        f"First contact with victim {victim} {_was(state)} by {_when(due_at)} ({within.days} "
        "days after the referral); contact them and record the information given."
    )


def _idle(q: _Ask) -> Iterator[_Dated]:
    """No activity: the last change recorded (erasures aside) plus ``idle_after``."""
    idle = q.policy.idle_after
    due_at = q.trail.last_activity + idle
    yield _Dated("case_idle", due_at, None, partial(_idle_text, due_at, idle))


def _idle_text(due_at: datetime, idle: timedelta, state: DueState) -> str:
    had = "has had" if state is DueState.OVERDUE else "will have had"
    return (
        f"The case {had} no activity for {idle.days} days by {_when(due_at)}; record the next "
        "step or close the case with a reason."
    )


def _enforcement(q: _Ask) -> Iterator[_Dated]:
    """A referral for breach awaiting the court's outcome; the latest warning's window, while
    it is open."""
    steps = q.rec.enforcement_steps(q.policy)
    referrals = [s for s in steps if s.kind is EnforcementStepKind.BREACH_REFERRAL]
    for step in referrals[len(q.rec.breach_decisions) :]:
        due_at = step.at + q.policy.breach_outcome_within
        say = partial(_breach_text, step.session, due_at)
        yield _Dated("breach_outcome_due", due_at, None, say)
    warnings = [s for s in steps if s.kind is EnforcementStepKind.WARNING]
    if warnings:
        ends = warnings[-1].at + q.policy.enforcement_window
        if q.at <= ends:  # a window that has closed asks for nothing
            say = partial(_warning_text, warnings[-1].session, ends)
            yield _Dated(_WARNING_WINDOW, ends, None, say)


def _breach_text(session: int, due_at: datetime, state: DueState) -> str:
    return (
        f"The court's outcome of the referral for breach (absence from session {session}) "
        f"{_was(state)} by {_when(due_at)}; record it when it is known."
    )


def _warning_text(session: int, ends: datetime, state: DueState) -> str:
    return (
        f"The warning for the absence from session {session} stands until {_when(ends)}: "
        "another unacceptable absence before then is referred for breach."
    )


#: Information, not work: left out of :func:`next_due`.
_WARNING_WINDOW = "warning_window_ends"

_KINDS = (_reviews, _agreement_actions, _reassessments, _first_contacts, _idle, _enforcement)


def _dated(case: CaseLike, at: datetime) -> Iterator[tuple[_Ask, _Dated]]:
    """Every obligation of ``case`` (open) at ``at``, unjudged, in no particular order."""
    rec = case.record
    if not rec.is_open:
        return
    q = _Ask(rec, case.policy, _trail(case.history, rec), at)
    for kind in _KINDS:
        for dated in kind(q):
            yield q, dated


def due(case: CaseLike, at: datetime) -> tuple[Obligation, ...]:
    """Every dated obligation of ``case`` at time ``at``, earliest first (ties by code, then
    subject).

    ``at``: a timezone-aware ``datetime`` (:class:`~rjflow.InvalidInput` otherwise); the
    obligations' states are judged then.  A completed or closed case has none.  The rules
    and their sources are in docs/reporting.md ("Deadlines"); the periods are policy values:
    ``review_every``, ``first_contact_within``, ``idle_after``, ``breach_outcome_within``,
    ``risk_assessment_valid_for``, ``enforcement_window`` and ``due_soon_within``.
    """
    found = []
    for q, (code, due_at, subject, say) in _dated(case, aware_datetime("at", at)):
        state = q.state(due_at)
        found.append(Obligation(code, due_at, state, say(state), subject))
    found.sort(key=lambda o: (o.due_at, o.code, o.subject or ""))
    return tuple(found)


def next_due(case: CaseLike, at: datetime) -> datetime | None:
    """The earliest due time among ``case``'s obligations at ``at`` (None: nothing is due):
    the earliest ``due_at`` of :func:`due` (``at``: timezone-aware, InvalidInput otherwise).
    The warning window is information, not work, so it is left out.  For a read model's
    "next due" column: it builds no messages."""
    at = aware_datetime("at", at)
    times = [d.due_at for _, d in _dated(case, at) if d.code != _WARNING_WINDOW]
    return min(times, default=None)


class _Identified(CaseLike, Protocol):
    @property
    def case_id(self) -> str: ...  # pragma: no cover


def overdue_by_facilitator(
    cases: Iterable[_Identified], at: datetime
) -> dict[str | None, list[tuple[str, Obligation]]]:
    """The overdue obligations of every case in ``cases`` at ``at``, grouped by the case's
    lead facilitator (None: a case without a lead), each group as ``(case_id, obligation)``
    pairs ordered by due time.  ``cases`` may be any iterable (a list, a generator over a
    JSON Lines file or a store): it is read once."""
    at = aware_datetime("at", at)
    groups: dict[str | None, list[tuple[str, Obligation]]] = {}
    for case in cases:
        for obligation in due(case, at):
            if obligation.state is DueState.OVERDUE:
                lead = case.record.lead_facilitator
                groups.setdefault(lead, []).append((case.case_id, obligation))
    for items in groups.values():
        items.sort(key=lambda pair: (pair[1].due_at, pair[0], pair[1].code))
    return groups
