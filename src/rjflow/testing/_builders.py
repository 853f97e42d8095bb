"""Cases built through the public API, stopped at a given stage, for an application's tests.

:func:`new_case` opens a referred case with a fixed cast (offender ``O1``, victim ``V1``,
supporter ``S1`` of ``V1``, lead facilitator ``F1``, manager ``M1``); :func:`at_stage` takes
one by the shortest valid route to any stage; :class:`Clock` hands out increasing times.
Every step goes through the public API, so what they build is what an application could.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count

__all__ = [
    "SPECIALISMS",
    "T0",
    "Clock",
    "at_stage",
    "codes",
    "consent",
    "new_case",
    "ready_supporters",
    "session",
]

from rjflow import (
    LONDON_CRC,
    Case,
    ContactActivity,
    Facilitator,
    Offence,
    OffenceCategory,
    Policy,
    PractitionerLevel,
    RiskOutcome,
    Staff,
    StaffRole,
    State,
    Supporter,
    Victim,
)
from rjflow.commands import CONFERENCE_LENGTH
from rjflow.policy import RiskScope

#: Specialist training in every sensitive area, so that only the rule under test blocks.
SPECIALISMS = frozenset(c.value for c in LONDON_CRC.sensitive_categories)

#: The time a :class:`Clock` starts at by default.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """Hands out increasing times, an hour apart."""

    def __init__(self, start: datetime = T0) -> None:
        """Start at ``start`` (timezone-aware; default :data:`T0`)."""
        self._ticks = count()
        self.start = start

    def __call__(self) -> datetime:
        return self.start + timedelta(hours=next(self._ticks))


def new_case(
    *,
    category: OffenceCategory = OffenceCategory.HOUSEHOLD_BURGLARY,
    direct_personal_harm: bool = False,
    ongoing_contact: bool = False,
    level: PractitionerLevel = PractitionerLevel.ADVANCED,
    sentenced: bool = True,
    victims: tuple[Victim, ...] = (Victim("V1"),),
    policy: Policy = LONDON_CRC,
    clock: Clock | None = None,
    case_id: str = "C1",
) -> tuple[Case, Clock]:
    """A referred case with offender O1, the given victims, supporter S1 of V1, lead
    facilitator F1 (who may take every facilitator action) and manager M1."""
    clock = clock or Clock()
    case = Case.open(
        case_id,
        offence=Offence(category, direct_personal_harm, ongoing_contact),
        offender="O1",
        victims=victims,
        supporters=[Supporter("S1", supports="V1")],
        facilitators=[Facilitator("F1", level, SPECIALISMS)],
        lead_facilitator="F1",
        staff=[Staff("M1", StaffRole.MANAGER)],
        sentenced_on=date(2026, 2, 1) if sentenced else None,
        at=clock(),
        actor="F1",
        policy=policy,
    )
    return case, clock


def consent(case: Case, clock: Clock, party: str, activity: ContactActivity) -> None:
    """Inform ``party`` about ``activity`` and record their consent (as ``F1``)."""
    case.give_information(party, activity, at=clock(), actor="F1")
    case.record_consent(party, activity, at=clock(), actor="F1")


def ready_supporters(case: Case, clock: Clock) -> None:
    """Every supporter of a victim informed, consenting to meet and accepted by O1 (issue 14:
    supporters are participants), so that they attend the conference."""
    victims = {v.id for v in case.record.victims}
    for sup in case.record.supporters:
        if sup.supports in victims:
            consent(case, clock, sup.id, ContactActivity.FACE_TO_FACE)
            case.accept_supporter(sup.id, by="O1", at=clock(), actor="F1")


def session(case: Case, clock: Clock, hours: float = 2) -> None:
    """Record an attended session of the current stage lasting ``hours``, or the policy's
    longest session when that is shorter (as ``F1``)."""
    length = min(timedelta(hours=hours), case.policy.max_session_length)
    case.record_session(duration=length, at=clock(), actor="F1")


def _sessions(case: Case, clock: Clock, needed: int, hours: float = 2) -> None:
    """At least one session, and as many as the policy asks of the stage (``needed``)."""
    for _ in range(max(1, needed)):
        session(case, clock, hours)


def _assess(case: Case, clock: Clock) -> None:
    """A favourable assessment covering every participant: one for the case, or one each
    where the policy assesses participant by participant; enhanced and approved by M1 for a
    sensitive offence."""
    sensitive = case.policy.is_sensitive(case.record.offence.category)
    rec = case.record
    per_participant = case.policy.risk_assessment_scope is RiskScope.PARTICIPANT
    subjects: list[str | None] = (
        [rec.offender.id, *(v.id for v in rec.victims), *(s.id for s in rec.supporters)]
        if per_participant
        else [None]
    )
    for subject in subjects:
        case.assess_risk(
            RiskOutcome.FAVOURABLE, enhanced=sensitive, subject=subject, at=clock(), actor="F1"
        )
        if sensitive:
            case.approve_risk_assessment(subject=subject, at=clock(), actor="M1")


def at_stage(stage: State, **kwargs: object) -> tuple[Case, Clock]:
    """A case taken by the shortest valid route to ``stage`` (conference route for review),
    and its clock; ``kwargs`` go to :func:`new_case`.  Raises ``ValueError`` for an end stage
    and :class:`~rjflow.ActionRefused` when the policy or offence closes the route.  It
    follows the policy's sessions (each stage's minimum, the longest session) and its risk
    assessment scope."""
    if stage in (State.COMPLETED, State.CLOSED) or not isinstance(stage, State):
        raise ValueError(
            "at_stage() takes an open stage, such as State.PREPARATION; for a completed or "
            "closed case use rjflow.testing.cases (which follows a path of rjflow.paths)."
        )
    case, clock = new_case(**kwargs)  # type: ignore[arg-type]
    policy = case.policy
    if stage is State.REFERRED:
        return case, clock
    case.start_introduction(at=clock(), actor="F1")
    if stage is State.INTRODUCTION:
        return case, clock
    _sessions(case, clock, policy.min_introduction_sessions)
    case.acknowledge_responsibility(guilty_plea=True, at=clock(), actor="F1")
    case.start_preparation(at=clock(), actor="F1")
    if stage is State.PREPARATION:
        return case, clock
    _sessions(case, clock, policy.min_preparation_sessions)
    _assess(case, clock)
    if stage is State.LETTER_OF_APOLOGY:
        case.choose_letter_of_apology(at=clock(), actor="F1")
        return case, clock
    if stage is State.SHUTTLE_MEDIATION:
        consent(case, clock, "O1", ContactActivity.SHUTTLE)
        consent(case, clock, "V1", ContactActivity.SHUTTLE)
        case.choose_shuttle_mediation(at=clock(), actor="F1")
        return case, clock
    for party in ("O1", *(v.id for v in case.record.victims)):
        consent(case, clock, party, ContactActivity.FACE_TO_FACE)
    ready_supporters(case, clock)
    length = min(CONFERENCE_LENGTH, policy.max_session_length)
    case.hold_conference(duration=length, at=clock(), actor="F1")
    if stage is State.CONFERENCE:
        return case, clock
    _sessions(case, clock, policy.min_conference_sessions - 1, hours=3)  # with the conference
    case.start_reviews(at=clock(), actor="F1")
    if stage is State.REVIEW:
        return case, clock
    raise ValueError(stage)


def codes(case: Case, action: str, **data: object) -> set[str]:
    """The codes of everything blocking ``action`` now (``data``: its keyword input)."""
    return {b.code for b in case.blockers(action, **data)}  # type: ignore[arg-type]
