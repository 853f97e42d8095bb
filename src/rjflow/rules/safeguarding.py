"""Safeguarding that stays current: suitability and risk assessed per case or per participant,
expiring, superseded by material changes, judged on every contact; enhanced assessments
approved by a manager who is not the assessor; facilitator levels; sensitive offences
(practice: RJC codes).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from rjflow.activities import (
    Attendance,
    MaterialChange,
    RiskAssessment,
    RiskOutcome,
)
from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    ApproveRiskAssessment,
    AssessRisk,
    ConsentInput,
    HoldConference,
    Input,
    LetterInput,
    RecordNewInformation,
    RecordSession,
    RecordShuttleMessage,
)
from rjflow.parties import StaffRole, Supporter, Victim
from rjflow.policy import Policy, RiskScope
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _contact_victims,
    _guard,
    _shuttle_victims,
    _words,
)
from rjflow.states import State


@_guard
def lead_facilitator_assigned(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A trained facilitator leads the programme (seed)."""
    if rec.facilitator(rec.lead_facilitator) is None:
        yield _block(
            "no_lead_facilitator",
            "No lead facilitator is assigned; assign one of the case's trained facilitators.",
        )


@_guard
def risk_assessment_favourable(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Every contact (conference, shuttle message, agreement, letter delivery) needs a
    favourable suitability and risk assessment that is current: made no longer ago than
    ``Policy.risk_assessment_valid_for`` when the action happened, and not superseded by a
    material change (a participant added, the lead facilitator changed, consent withdrawn, new
    information recorded) recorded after it. An unfavourable assessment of anyone contacted
    blocks it. It judges exactly the participants the action brings together: a conference
    those it meets (the victims named for it and the supporters attending, also when held from
    shuttle mediation), a shuttle step the offender and the shuttle's victims, a letter its
    victim, an agreement step its participants. Per case or per participant as
    ``Policy.risk_assessment_scope`` says; sensitive
    offences need an enhanced assessment approved by a manager who did not make it (practice:
    RJC Service Provider and Practitioner Codes; expiry *inferred*)."""
    yield from _risk_blockers(rec, policy, act, _contacted(rec, inp))


@_guard
def session_risk_current(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Every attended conference or shuttle session is contact: the risk rules of
    ``risk_assessment_favourable`` hold for it too, so an unfavourable reassessment after the
    conference stops further sessions (practice: risk is re-checked throughout). Missed
    sessions are recorded whatever the risk."""
    if rec.state not in (State.CONFERENCE, State.SHUTTLE_MEDIATION):
        return
    if isinstance(inp, RecordSession) and inp.attendance is not Attendance.ATTENDED:
        return
    yield from _risk_blockers(rec, policy, act, _contacted(rec, None))


@_guard
def approach_risk_assessed(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """In a sensitive case, even the first approach to a victim (giving them information) waits
    for a current, favourable, enhanced and approved risk assessment covering them (practice:
    sensitive and complex cases, RJC codes; ``Policy.sensitive_categories``)."""
    if not isinstance(inp, ConsentInput) or not policy.is_sensitive(rec.offence.category):
        return
    if isinstance(rec.party(inp.party), Victim):
        yield from _risk_blockers(rec, policy, act, (inp.party,))


# -- how the risk rules judge a contact ----------------------------------------------------------


def _contacted(rec: CaseRecord, inp: Input | None) -> tuple[str, ...]:
    """The participants an action brings into contact (offender, victims, supporters): exactly
    those its input names, wherever it is taken from (a conference held from shuttle mediation
    brings together the victims named for it, not the shuttle's); a question without input
    (``inp`` None) judges everyone the stage's contact could involve."""
    offender = rec.offender.id
    if isinstance(inp, ConsentInput):
        return (inp.party,)
    if isinstance(inp, RecordShuttleMessage):
        return (offender, inp.victim)
    if isinstance(inp, HoldConference):
        return _meeting(rec, inp)
    if isinstance(inp, LetterInput):
        return _letter_victims(rec, inp)
    if rec.state is State.CONFERENCE and rec.conference is not None:
        return (offender, *rec.conference.victims, *rec.conference.supporters)
    if rec.state in (State.PREPARATION, State.SHUTTLE_MEDIATION):
        # Choosing shuttle mediation, a shuttle session: the offender and the victims who
        # consented to it (a conference is judged by its own input above).
        return (offender, *_shuttle_victims(rec, None))
    if rec.state is State.LETTER_OF_APOLOGY:
        return tuple(letter.victim for letter in rec.letters)
    if rec.state is State.REVIEW and rec.agreement is not None:
        return rec.agreement.signatories  # signing or varying: the agreement's participants
    # Anything else: everyone who could meet.
    return _meeting(rec, None)


def _meeting(rec: CaseRecord, inp: HoldConference | None) -> tuple[str, ...]:
    """Who a conference brings together: the offender, the victims named in the input (every
    victim when none is named) and the supporters listed (by default, those of the people
    present)."""
    offender = rec.offender.id
    ids = (inp.victims if inp is not None else ()) or tuple(v.id for v in rec.victims)
    if inp is not None and inp.supporters is not None:
        supporters = inp.supporters
    else:
        supporters = tuple(p.id for p in rec.supporters if p.supports in (*ids, offender))
    return (offender, *ids, *supporters)


def _letter_victims(rec: CaseRecord, inp: LetterInput) -> tuple[str, ...]:
    """The victim a letter is delivered to: the one named, else the only letter's victim (with
    several letters and none named, every letter's victim: the letter rules ask which)."""
    if inp.victim is not None:
        return (inp.victim,)
    return tuple(letter.victim for letter in rec.letters)


def _who(subject: str | None) -> str:
    return f"participant {subject}" if subject is not None else _words("the case")


def _risk_blockers(
    rec: CaseRecord, policy: Policy, act: Acting, participants: tuple[str, ...]
) -> Iterator[Blocker]:
    per_participant = policy.risk_assessment_scope is RiskScope.PARTICIPANT
    case_wide = rec.latest_risk_assessment(None)
    if per_participant:
        if case_wide is not None and case_wide.outcome is not RiskOutcome.FAVOURABLE:
            yield _unfavourable(None)
        for pid in dict.fromkeys(participants):
            yield from _assessment_blockers(rec, policy, act, pid)
        return
    yield from _assessment_blockers(rec, policy, act, None)
    for pid in dict.fromkeys(participants):
        own = rec.latest_risk_assessment(pid)
        if own is not None and own.outcome is not RiskOutcome.FAVOURABLE:
            yield _unfavourable(pid)


def _unfavourable(subject: str | None) -> Blocker:
    return _block(
        "risk_unfavourable",
        "The latest risk assessment of {who} is unfavourable, so contact cannot go ahead. When "
        "circumstances change, a facilitator on the case must assess risk again; otherwise "
        "close the case as unsuitable.",
        subject,
        who=_who(subject),
    )


def _not_assessed(subject: str | None) -> Blocker:
    if subject is None:
        return _block(
            "risk_not_assessed",
            "No suitability and risk assessment is recorded; a facilitator on the case must "
            "assess risk before any contact.",
        )
    return _block(
        "risk_not_assessed",
        "No suitability and risk assessment covering participant {party} is recorded; a "
        "facilitator on the case must assess risk before any contact with them.",
        subject,
        party=subject,
    )


def _assessment_blockers(
    rec: CaseRecord, policy: Policy, act: Acting, subject: str | None
) -> Iterator[Blocker]:
    current = rec.latest_risk_assessment(subject)
    if current is None:
        yield _not_assessed(subject)
        return
    if current.outcome is not RiskOutcome.FAVOURABLE:
        yield _unfavourable(subject)
        return
    change = rec.superseding_change(current)
    if change is not None:
        yield _superseded(subject, change)
        return
    when = act.happened_at
    cover = _covering(rec, subject, when)
    if cover is None:
        yield _block(
            "risk_not_assessed_then",
            "This contact happened on {day}, before any risk assessment of {who} was made; a "
            "contact cannot be recorded as cleared by a later assessment.",
            subject,
            day=when.date().isoformat(),
            who=_who(subject),
        )
        return
    if cover is not current:
        if cover.outcome is not RiskOutcome.FAVOURABLE:
            yield _unfavourable(subject)
            return
        earlier = _changed_between(rec, cover, when)
        if earlier is not None:
            yield _superseded(subject, earlier)
            return
    if when > cover.at + policy.risk_assessment_valid_for:
        days = policy.risk_assessment_valid_for.days
        yield _block(
            "risk_assessment_expired",
            "The risk assessment of {who} was made on {day} and expired after {days} days; a "
            "facilitator on the case must assess risk again before further contact.",
            subject,
            who=_who(subject),
            day=cover.at.date().isoformat(),
            days=days,
        )
    if policy.is_sensitive(rec.offence.category):
        if not cover.enhanced:
            yield _block(
                "enhanced_risk_assessment_needed",
                "A {offence} offence is sensitive: contact needs an enhanced risk assessment of "
                "{who}, approved by a manager; a facilitator on the case must assess risk with an "
                "enhanced assessment.",
                subject,
                offence=rec.offence.category.label,
                who=_who(subject),
            )
        elif cover.approved_by is None:
            yield _block(
                "enhanced_risk_assessment_needed",
                "A {offence} offence is sensitive: the enhanced risk assessment of {who} needs "
                "the approval of a manager on the case who did not make it "
                "(approve_risk_assessment).",
                subject,
                offence=rec.offence.category.label,
                who=_who(subject),
            )


def _superseded(subject: str | None, change: MaterialChange) -> Blocker:
    return _block(
        "risk_reassessment_needed",
        "Since the last risk assessment of {who}, {change} (on {day}): a material change. A "
        "facilitator on the case must assess risk again before further contact.",
        subject,
        who=_who(subject),
        change=change.kind.label,
        day=change.at.date().isoformat(),
    )


def _covering(rec: CaseRecord, subject: str | None, when: datetime) -> RiskAssessment | None:
    """The assessment in force when the action happened: the latest recorded one of
    ``subject`` that was made by then (for an entry made late, it may be an earlier one)."""
    for assessment in reversed(rec.risk_assessments):
        if assessment.subject == subject and assessment.at <= when:
            return assessment
    return None


def _changed_between(
    rec: CaseRecord, assessment: RiskAssessment, when: datetime
) -> MaterialChange | None:
    for change in rec.material_changes:
        concerns = change.subject is None or _subject_matches(change.subject, assessment.subject)
        if concerns and assessment.at < change.at <= when:
            return change
    return None


def _subject_matches(changed: str, assessed: str | None) -> bool:
    """A change about one participant concerns their own and the case-wide assessments."""
    return assessed is None or assessed == changed


# -- assessing, approving, new information --------------------------------------------------------


@_guard
def risk_subject_is_participant(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """An assessment or new information concerns a participant on the case (offender, victim or
    supporter), or the whole case when it names no one.
    Source: RJC Service Provider Code (each participant's risk); scope *inferred*."""
    subject = inp.subject if isinstance(inp, AssessRisk | RecordNewInformation) else None
    if subject is not None and not rec.is_participant(subject):
        yield _block(
            "unknown_participant",
            "Party {party} is not a participant (offender, victim or supporter) on this case; "
            "name a participant, or none for the whole case.",
            subject,
            party=subject,
        )


@_guard
def approval_by_another_manager(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """An approval recorded with the assessment (``approved_by``) names a manager on the case
    who is not the assessor (practice: an enhanced assessment is approved by a manager who is
    not its assessor). Prefer ``approve_risk_assessment``, taken by the manager. Assessments
    saved before roles were recorded (schema 1) keep their ``approved_by`` as it was (their
    events are replayed by the rules of their time); a new one on such a case names a manager
    on record."""
    if not isinstance(inp, AssessRisk) or inp.approved_by is None:
        return
    if StaffRole.MANAGER not in rec.roles_of(inp.approved_by):
        yield _block(
            "approver_not_manager",
            "Party {party} is not a manager on this case; an enhanced assessment is approved by "
            "a manager on the case. Add them as staff (manager) first, or record the approval "
            "with approve_risk_assessment.",
            inp.approved_by,
            party=inp.approved_by,
        )
    elif act.actor is not None and inp.approved_by == act.actor:
        yield _block(
            "approver_is_assessor",
            "The assessor cannot approve their own assessment; a manager on the case who did not "
            "make it must approve it.",
        )


@_guard
def risk_assessment_awaiting_approval(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A manager approves the enhanced assessment in force (the latest of its subject), once; a
    newer assessment needs a new approval (practice)."""
    subject = inp.subject if isinstance(inp, ApproveRiskAssessment) else None
    latest = rec.latest_risk_assessment(subject)
    if latest is None:
        yield _block(
            "risk_not_assessed",
            "No risk assessment of {who} is recorded, so there is nothing to approve; a "
            "facilitator on the case must assess risk first.",
            subject,
            who=_who(subject),
        )
    elif not latest.enhanced:
        yield _block(
            "risk_assessment_not_enhanced",
            "The risk assessment of {who} in force is not an enhanced one; only enhanced "
            "assessments are approved. A facilitator on the case must assess risk with an "
            "enhanced one.",
            subject,
            who=_who(subject),
        )
    elif latest.approved_by is not None:
        yield _block(
            "risk_assessment_already_approved",
            "The risk assessment of {who} in force is already approved.",
            subject,
            who=_who(subject),
        )


@_guard
def approver_not_assessor(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The manager approving an enhanced assessment did not make it (practice: sign-off by a
    manager who is not the assessor)."""
    subject = inp.subject if isinstance(inp, ApproveRiskAssessment) else None
    latest = rec.latest_risk_assessment(subject)
    if latest is not None and act.actor is not None and latest.assessed_by == act.actor:
        yield _block(
            "approver_is_assessor",
            "The assessor cannot approve their own assessment; a manager on the case who did not "
            "make it must approve it.",
        )


@_guard
def lead_facilitator_qualified(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Contact is led by an intermediate or advanced practitioner; sensitive cases need an
    advanced one with specialist training in the area (practice; ``Policy.min_lead_level``,
    ``Policy.min_sensitive_lead_level``, ``Policy.sensitive_needs_specialism``)."""
    lead = rec.facilitator(rec.lead_facilitator)
    if lead is None:
        yield from lead_facilitator_assigned(rec, policy, inp, act)
        return
    sensitive = policy.is_sensitive(rec.offence.category)
    needed = policy.min_sensitive_lead_level if sensitive else policy.min_lead_level
    if lead.level < needed:
        why = f"a {rec.offence.category.label} case" if sensitive else _words("this activity")
        # Translators: {level} and {needed} are practitioner levels ("intermediate"); {why} is
        # "this activity" or "a <offence category> case" in English.
        yield _block(
            "lead_facilitator_level_too_low",
            "Lead facilitator {lead} is a {level} practitioner; {why} must be led by an {needed} "
            "practitioner or above. Assign another lead facilitator.",
            lead.id,
            lead=lead.id,
            level=lead.level.label,
            why=why,
            needed=needed.label,
        )
    category = rec.offence.category
    if sensitive and policy.sensitive_needs_specialism and category.value not in lead.specialisms:
        yield _block(
            "lead_facilitator_not_trained",
            "Lead facilitator {lead} has no specialist training for {offence} cases; assign a "
            "lead facilitator who has it.",
            lead.id,
            lead=lead.id,
            offence=category.label,
        )


@_guard
def sexual_harm_victim_request(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Request-only offences: for sexual harm (and, by policy, domestic abuse) contact happens
    only when the victim asked for restorative justice: before the referral
    (``Victim.requested_rj``) or at any stage since (a victim-initiated request,
    ``record_request``) (practice: RJC guidance, Victims' Code;
    ``Policy.victim_request_required_for``)."""
    if rec.offence.category not in policy.victim_request_required_for:
        return
    for vid in _contact_victims(rec, inp):
        yield from _request_blockers(rec, vid)


@_guard
def victim_asked_first(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Request-only offences: the service does not make the first approach.  A victim (or
    their supporter) is given information or asked for consent only once the victim asked for
    restorative justice (practice: RJC guidance, Victims' Code;
    ``Policy.victim_request_required_for``)."""
    if rec.offence.category not in policy.victim_request_required_for:
        return
    if not isinstance(inp, ConsentInput):
        return
    party = rec.party(inp.party)
    if isinstance(party, Supporter) and isinstance(rec.party(party.supports), Victim):
        yield from _request_blockers(rec, party.supports)
    elif isinstance(party, Victim):
        yield from _request_blockers(rec, party.id)


def _request_blockers(rec: CaseRecord, vid: str) -> Iterator[Blocker]:
    if isinstance(rec.party(vid), Victim) and not rec.asked_for_rj(vid):
        yield _block(
            "victim_did_not_request",
            "This is a {offence} case: restorative justice is considered only when the victim "
            "asks for it, and victim {victim} has not, so the service does not approach them. If "
            "they contact the service and ask, record their request (record_request) first.",
            vid,
            offence=rec.offence.category.label,
            victim=vid,
        )
