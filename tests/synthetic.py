"""A synthetic caseload: thousands of cases taken through the programme's routes at random,
deterministically (one seeded ``random.Random`` per case), through the public API only.

Built on the test builders (``new_case``, ``SPECIALISMS``): each case is referred, and then may
stop (left open at its stage), be closed with a reason, or go on by the conference, shuttle
mediation or letter route to reviews and completion, with missed sessions, declines,
agreements fulfilled or not, victims informed and feedback.  An action the rules refuse ends
the walk: the case is then closed as unsuitable when it may be, or left open.  Used by the
reporting tests and by ``bench/reporting.py``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from rjflow import (
    ActionRefused,
    ActionStatus,
    AgreementAction,
    Attendance,
    Case,
    ClosureReason,
    ContactActivity,
    Facilitator,
    MessageDirection,
    OffenceCategory,
    PractitionerLevel,
    RiskOutcome,
    Victim,
    VictimUpdateAbout,
)
from tests.builders import SPECIALISMS, Clock, new_case

#: Referrals arrive between these times.
START = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)
SPREAD_DAYS = 420
LEADS = tuple(f"F{n}" for n in range(2, 10))
_CATEGORIES = (
    [OffenceCategory.HOUSEHOLD_BURGLARY] * 4
    + [OffenceCategory.VIOLENCE] * 3
    + [OffenceCategory.THEFT, OffenceCategory.CRIMINAL_DAMAGE, OffenceCategory.ROBBERY]
)
_EARLY_REASONS = (
    ClosureReason.VICTIM_NOT_CONTACTABLE,
    ClosureReason.VICTIM_DECLINED,
    ClosureReason.OFFENDER_DECLINED,
    ClosureReason.UNSUITABLE,
    ClosureReason.VICTIM_WITHDREW,
    ClosureReason.OFFENDER_WITHDREW,
)


#: The refusals met on the way (for checking the generator itself; see the reporting tests).
REFUSALS: list[ActionRefused] = []


class _Stop(Exception):
    """The walk ends here (the case stays as it is)."""


class _Walk:
    def __init__(self, case: Case, rng: random.Random, start: datetime, lead: str) -> None:
        self.case = case
        self.rng = rng
        self.t = start
        self.lead = lead

    def tick(self, most_days: int = 10) -> datetime:
        self.t += timedelta(hours=self.rng.randint(1, 24 * most_days))
        return self.t

    def maybe_stop(self, p_open: float, p_close: float) -> None:
        """Leave the case open here (``p_open``) or close it with an early reason."""
        roll = self.rng.random()
        if roll < p_open:
            raise _Stop
        if roll < p_open + p_close:
            reason = self.rng.choice(_EARLY_REASONS)
            self.case.close(reason=reason, at=self.tick(), actor=self.lead)
            raise _Stop

    def session(self, hours: float = 2, *, may_miss: bool = False) -> None:
        if may_miss and self.rng.random() < 0.12:
            attendance = self.rng.choice(
                [Attendance.MISSED_ACCEPTABLE, Attendance.MISSED_UNACCEPTABLE]
            )
            self.case.record_session(
                duration=timedelta(0), attendance=attendance, at=self.tick(), actor=self.lead
            )
        self.case.record_session(duration=timedelta(hours=hours), at=self.tick(), actor=self.lead)

    def consent(self, party: str, activity: ContactActivity) -> None:
        self.case.give_information(party, activity, at=self.tick(3), actor=self.lead)
        self.case.record_consent(party, activity, at=self.tick(3), actor=self.lead)

    def victims(self) -> list[str]:
        return [v.id for v in self.case.record.victims]


def _agreement(w: _Walk) -> list[AgreementAction]:
    n = w.rng.randint(1, 3)
    return [
        AgreementAction(
            f"A{k}", "Repair the harm", "O1", (w.t + timedelta(days=w.rng.randint(20, 90))).date()
        )
        for k in range(1, n + 1)
    ]


def _sign_and_review(w: _Walk, signers: list[str]) -> None:
    """An agreement (most of the time), reviews, outcomes, the victim told, completion."""
    case = w.case
    if w.rng.random() < 0.8:
        case.propose_agreement(_agreement(w), at=w.tick(1), actor=w.lead)
        for party in (*signers, w.lead):
            case.sign_agreement(party, at=w.tick(1), actor=w.lead)
    w.maybe_stop(0.08, 0.03)
    case.start_reviews(at=w.tick(), actor=w.lead)
    for victim in w.victims():
        case.record_victim_wishes(victim, keep_informed=True, at=w.tick(1), actor=w.lead)
    w.session(1, may_miss=True)
    w.maybe_stop(0.12, 0.03)
    agreement = case.record.agreement
    if agreement is not None:
        for action in agreement.actions:
            status = w.rng.choices(
                [ActionStatus.DONE, ActionStatus.NOT_COMPLIED, ActionStatus.IN_PROGRESS],
                [8, 2, 1],
            )[0]
            case.record_progress(action.id, status, at=w.tick(5), actor=w.lead)
            if status is ActionStatus.IN_PROGRESS:
                w.session(1)
                case.record_progress(action.id, ActionStatus.DONE, at=w.tick(5), actor=w.lead)
    w.session(1)
    for victim in w.victims():
        if w.rng.random() < 0.95:
            case.inform_victim(
                victim, about=VictimUpdateAbout.CONCLUSION, at=w.tick(1), actor=w.lead
            )
    case.complete(at=w.tick(2), actor=w.lead)
    for victim in w.victims():
        if w.rng.random() < 0.6:
            case.record_feedback(
                victim,
                satisfaction=w.rng.choices([1, 2, 3, 4, 5], [1, 1, 2, 4, 5])[0],
                things_changed=w.rng.random() < 0.7,
                at=w.tick(14),
                actor=w.lead,
            )


def _conference(w: _Walk) -> None:
    case = w.case
    for party in ("O1", *w.victims()):
        w.consent(party, ContactActivity.FACE_TO_FACE)
    w.consent("S1", ContactActivity.FACE_TO_FACE)
    case.accept_supporter("S1", by="O1", at=w.tick(1), actor=w.lead)
    case.hold_conference(
        at=w.tick(), actor=w.lead, duration=timedelta(hours=w.rng.choice([2, 2.5, 3]))
    )
    _sign_and_review(w, ["O1", *w.victims(), "S1"])


def _shuttle(w: _Walk) -> None:
    case = w.case
    for party in ("O1", *w.victims()):
        w.consent(party, ContactActivity.SHUTTLE)
    case.choose_shuttle_mediation(at=w.tick(), actor=w.lead)
    w.session(2, may_miss=True)
    for number in range(w.rng.randint(1, 4)):
        for victim in w.victims():
            direction = (
                MessageDirection.TO_VICTIM if number % 2 == 0 else (MessageDirection.TO_OFFENDER)
            )
            case.record_shuttle_message(victim, direction, at=w.tick(4), actor=w.lead)
    w.maybe_stop(0.05, 0.03)
    _sign_and_review(w, ["O1", *w.victims()])


def _letter(w: _Walk) -> None:
    case = w.case
    case.choose_letter_of_apology(at=w.tick(), actor=w.lead)
    w.session(2, may_miss=True)
    victim = w.victims()[0]
    case.draft_letter(victim, at=w.tick(), actor=w.lead)
    case.review_letter(victim=victim, at=w.tick(2), actor=w.lead)
    if w.rng.random() < 0.7:
        w.consent(victim, ContactActivity.RECEIVE_LETTER)
        case.deliver_letter(victim=victim, at=w.tick(), actor=w.lead)
    else:
        case.hold_letter_on_file(victim=victim, at=w.tick(), actor=w.lead)
    w.maybe_stop(0.05, 0.03)
    case.start_reviews(at=w.tick(), actor=w.lead)
    w.session(1)
    for victim_id in w.victims():
        if w.rng.random() < 0.9:
            case.inform_victim(
                victim_id, about=VictimUpdateAbout.CONCLUSION, at=w.tick(1), actor=w.lead
            )
    case.complete(at=w.tick(2), actor=w.lead)


def _walk(w: _Walk) -> None:
    case, rng = w.case, w.rng
    w.maybe_stop(0.04, 0.03)
    case.start_introduction(at=w.tick(), actor=w.lead)
    w.session(2, may_miss=True)
    case.acknowledge_responsibility(guilty_plea=True, at=w.tick(1), actor=w.lead)
    w.maybe_stop(0.04, 0.05)
    case.start_preparation(at=w.tick(), actor=w.lead)
    w.session(2, may_miss=True)
    if rng.random() < 0.06:
        case.assess_risk(RiskOutcome.UNFAVOURABLE, at=w.tick(), actor=w.lead)
        case.close(reason=ClosureReason.UNSUITABLE, at=w.tick(), actor=w.lead)
        return
    case.assess_risk(RiskOutcome.FAVOURABLE, at=w.tick(), actor=w.lead)
    w.maybe_stop(0.05, 0.04)
    eligible = case.record.offence.category in case.policy.conference_categories or (
        case.record.offence.direct_personal_harm
    )
    route = rng.random()
    if eligible and route < 0.55:
        _conference(w)
    elif route < 0.8:
        if rng.random() < 0.1:
            victim = w.victims()[0]
            case.give_information(victim, ContactActivity.SHUTTLE, at=w.tick(), actor=w.lead)
            case.record_decline(victim, ContactActivity.SHUTTLE, at=w.tick(), actor=w.lead)
            case.close(reason=ClosureReason.VICTIM_DECLINED, at=w.tick(), actor=w.lead)
            return
        _shuttle(w)
    else:
        _letter(w)


def synthetic_case(index: int, seed: int = 2026) -> Case:
    """Case ``SYN-<index>``: the same case for the same index and seed, in every process."""
    rng = random.Random(f"{seed}:{index}")
    start = START + timedelta(minutes=rng.randint(0, SPREAD_DAYS * 24 * 60))
    victims = (Victim("V1"), Victim("V2")) if rng.random() < 0.15 else (Victim("V1"),)
    case, _ = new_case(
        category=rng.choice(_CATEGORIES),
        direct_personal_harm=rng.random() < 0.3,
        victims=victims,
        clock=Clock(start),
        case_id=f"SYN-{index:06d}",
    )
    lead = rng.choice(LEADS)
    w = _Walk(case, rng, start, lead)
    case.add_party(
        Facilitator(lead, PractitionerLevel.ADVANCED, SPECIALISMS), at=w.tick(1), actor="M1"
    )
    case.assign_lead_facilitator(lead, at=w.tick(1), actor="M1")
    try:
        _walk(w)
    except _Stop:
        pass
    except ActionRefused as refused:
        REFUSALS.append(refused)
        for reason in (ClosureReason.UNSUITABLE, ClosureReason.ENFORCEMENT):
            if case.is_open and case.can("close", reason=reason, at=w.t, actor=lead):
                case.close(reason=reason, at=w.tick(1), actor=lead)
    return case


def synthetic_caseload(count: int, seed: int = 2026) -> Iterator[Case]:
    """``count`` synthetic cases, ``SYN-000000`` onwards."""
    for index in range(count):
        yield synthetic_case(index, seed)
