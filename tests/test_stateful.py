"""The workflow under random use: every step a caseworker could take, valid or not.

After every step the test checks, from the case's own records and not through the guards:
can(X) holds exactly when there are no blockers and exactly when firing succeeds; a refused
or invalid step changes nothing; a conference is never entered unless every conference rule
held at that moment; sessions stay within the programme's limits; completed and closed cases
accept only the evaluation actions; an agreement binds only with every current signatory's
signature and consent in force; a completed case's outcome agrees with its actions' statuses;
no enforcement closure follows from an agreement; the history's chain verifies and replaying
it rebuilds the case.
Issue 14 (D1): no contact action (conference, conference session, shuttle, shuttle message,
letter delivery) is accepted while a contacted party's consent is not in force, supporters
who attend and a young person's appropriate adult included; no one is approached about what
they declined unless they asked since; a request-only victim is not approached first; a
party who needs an interpreter is not informed or asked without one.
Issue 14 fixes: a contact judges the risk of exactly those it brings together (a conference
from shuttle mediation: those who met at it); options() reports what blockers() does; a
supporter's signature lapses on withdrawal or decline; a varied action starts again and a
withdrawn variation restores the signed terms; fulfilled needs an action done; a late entry
that belongs to a stage is not dated before it began; a general decline declines everything.

Settings: the ``ci`` profile (tests/conftest.py) runs 1,000 histories of up to 80 steps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import event, note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rjflow import (
    ActionRefused,
    AgreementAction,
    AgreementOutcome,
    Attendance,
    Blocker,
    BreachOutcome,
    Case,
    ClosureReason,
    ConsentStatus,
    ContactActivity,
    Facilitator,
    InvalidInput,
    Offender,
    Policy,
    PractitionerLevel,
    RiskOutcome,
    RiskScope,
    RJType,
    Staff,
    StaffRole,
    State,
    Supporter,
    Victim,
)
from rjflow.history import verify_chain
from rjflow.record import CaseRecord
from rjflow.serialization import dumps, loads, replay
from rjflow.states import ACTIONS, EVALUATION_ACTIONS

from .builders import SEAL_KEY, SPECIALISMS
from .strategies import POLICIES, inputs, levels, offences

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TERMINAL = (State.COMPLETED, State.CLOSED)
MODES = (
    ("forward",) * 3
    + ("progress",) * 4
    + ("record",) * 4
    + ("any",) * 2
    + ("past",)
    + ("absent",)  # issue 14: an unacceptable absence, a day to 400 days later
    + ("agreement",) * 2  # issue 14: propose, vary, waive, review an outcome agreement
)
ABSENCE_GAPS = (timedelta(days=1), timedelta(days=200), timedelta(days=400))
#: Actions that end or narrow a case; drawn less often so that histories go deep.
RARE = frozenset(
    {
        "close",
        "record_decline",
        "withdraw_consent",
        "add_party",
        "abandon_agreement",
        "vary_agreement",
        "withdraw_variation",
        "decline_all",
        # issue 14: always allowed, so drawn less often to leave room for the programme
        "record_request",
        "accept_supporter",
    }
)
MODES += ("reassess", "new_information", "late_entry")  # issue 14 (D2)
RARE |= {"record_new_information"}  # issue 14: a material change; the new_information mode too


def weighted(names: list[str]) -> list[str]:
    return [n for n in names for _ in range(1 if n in RARE else 4)]


GAPS = (timedelta(0), timedelta(hours=1), timedelta(days=1), timedelta(days=3))

# -- issue 14 (D2) ----------------------------------------------------------------------------
#: Whether forward mode waits for a conference rather than take the letter (mostly yes).
WAIT = st.sampled_from((True, True, True, True, False))
#: Who may try an action in "any" mode: staff in every role, participants, a stranger.
ACTORS = ("F1", "F2", "M1", "A1", "O1", "V1", "S1", "Z9")
#: How long before its recording an entry happened (negative: after it, which is refused).
LATE = (
    timedelta(hours=2),
    timedelta(days=2),
    timedelta(days=40),
    timedelta(days=400),
    -timedelta(hours=1),
)
#: Risk policies layered on each drawn policy: scope and a validity short enough to expire.
RISK_POLICIES: tuple[dict[str, Any], ...] = (
    {},
    {"risk_assessment_valid_for": timedelta(days=10)},
    {"risk_assessment_scope": RiskScope.PARTICIPANT},
    {
        "risk_assessment_scope": RiskScope.PARTICIPANT,
        "risk_assessment_valid_for": timedelta(days=10),
    },
)
#: Actions that bring participants into contact.
CONTACT_ACTIONS = frozenset(
    {
        "vary_agreement",  # issue 14 fixes: risk is judged on a variation too
        "hold_conference",
        "choose_shuttle_mediation",
        "record_shuttle_message",
        "propose_agreement",
        "sign_agreement",
        "deliver_letter",
    }
)


def contacted_by(
    rec: CaseRecord, policy: Policy, action: str, data: dict[str, Any], after: CaseRecord
) -> tuple[str, ...] | None:
    """The participants ``action`` contacts, from the raw records before and after it (None:
    not a contact): a conference judges exactly those who met at it, wherever it was held
    from; a letter's delivery its own victim."""
    offender = rec.offender.id
    victims = tuple(v.id for v in rec.victims)
    if action == "record_session":
        attended = data.get("attendance", "attended") in ("attended", Attendance.ATTENDED)
        if not attended or rec.state not in (State.CONFERENCE, State.SHUTTLE_MEDIATION):
            return None
        action = "sign_agreement"
    if action == "give_information":
        party = rec.party(data["party"])
        sensitive = rec.offence.category in policy.sensitive_categories
        return (data["party"],) if isinstance(party, Victim) and sensitive else None
    if action not in CONTACT_ACTIONS:
        return None
    if action == "record_shuttle_message":
        return (offender, data["victim"])
    if action == "deliver_letter":
        return tuple(
            x.victim
            for x in after.letters
            if x.status.value == "delivered" and rec.letter_to(x.victim) != x
        )
    if action == "hold_conference" and after.conference is not None:
        met = after.conference
        return (offender, *met.victims, *met.supporters)
    if rec.conference is not None and rec.state is State.CONFERENCE:
        return (offender, *rec.conference.victims, *rec.conference.supporters)
    if action == "hold_conference":
        chosen = tuple(data.get("victims", ())) or victims
        return (offender, *chosen)
    if rec.state in (State.PREPARATION, State.SHUTTLE_MEDIATION):  # shuttle: who takes part
        shuttle = ContactActivity.SHUTTLE
        return (
            offender,
            *(v for v in victims if latest_consent(rec, v, shuttle) is ConsentStatus.GIVEN),
        )
    if rec.state is State.REVIEW and rec.agreement is not None:  # the agreement's parties
        return rec.agreement.signatories
    return (offender,)


def risk_rules_hold(
    rec: CaseRecord, policy: Policy, contacted: tuple[str, ...], happened: datetime
) -> list[str]:
    """DOMAIN.md's risk rule restated: no contact while the contacted party's assessment is
    missing, expired, superseded by a material change or unfavourable."""
    broken = []
    per_participant = policy.risk_assessment_scope is RiskScope.PARTICIPANT
    subjects: list[str | None] = list(contacted) if per_participant else [None]
    for subject in subjects:
        mine = [a for a in rec.risk_assessments if a.subject == subject]
        if not mine:
            broken.append(f"{subject}: missing")
            continue
        latest = mine[-1]
        if latest.outcome is not RiskOutcome.FAVOURABLE:
            broken.append(f"{subject}: unfavourable")
        for change in rec.material_changes:
            concerns = change.subject is None or subject is None or change.subject == subject
            if concerns and change.sequence > latest.sequence:
                broken.append(f"{subject}: superseded by {change.kind.value}")
        if happened - latest.at > policy.risk_assessment_valid_for:
            broken.append(f"{subject}: expired")
    for pid in contacted:  # anyone's own unfavourable assessment, in either scope
        own = [a for a in rec.risk_assessments if a.subject == pid]
        if own and own[-1].outcome is not RiskOutcome.FAVOURABLE:
            broken.append(f"{pid}: own assessment unfavourable")
    case_wide = [a for a in rec.risk_assessments if a.subject is None]
    if case_wide and case_wide[-1].outcome is not RiskOutcome.FAVOURABLE:
        broken.append("case-wide assessment unfavourable")
    return broken


def role_held(rec: CaseRecord, actor: str, action: str) -> bool:
    """The actor holds a role the table permits, restated from the raw parties."""
    party = rec.party(actor)
    held: set[StaffRole] = set()
    if isinstance(party, Facilitator):
        held.add(StaffRole.FACILITATOR)
        if rec.lead_facilitator == actor:
            held.add(StaffRole.LEAD_FACILITATOR)
    elif isinstance(party, Staff):
        held.add(party.role)
    return bool(held & ACTIONS[action].roles)


def latest_consent(rec: CaseRecord, party: str, activity: ContactActivity) -> Any:
    decisions = [c for c in rec.consents if c.party == party and c.activity is activity]
    return decisions[-1].status if decisions else None


def conference_rules_hold(rec: CaseRecord, policy: Policy, victims: tuple[str, ...]) -> list[str]:
    """The conference rules, restated from DOMAIN.md against the raw records."""
    broken = []
    off = rec.offence
    if not (
        off.category in policy.conference_categories
        or (off.direct_personal_harm and policy.conference_for_direct_personal_harm)
    ):
        broken.append("offence not eligible")
    if off.ongoing_contact and off.category in policy.excluded_with_ongoing_contact:
        broken.append("excluded offence")
    if rec.acknowledgement is None:
        broken.append("no acknowledgement")
    for vid in victims or [v.id for v in rec.victims]:
        if latest_consent(rec, vid, ContactActivity.FACE_TO_FACE) is not ConsentStatus.GIVEN:
            broken.append(f"{vid} consent")
    offender = next(p.id for p in rec.parties if p.role.value == "offender")
    if latest_consent(rec, offender, ContactActivity.FACE_TO_FACE) is not ConsentStatus.GIVEN:
        broken.append("offender consent")
    # Risk (issue 14): the latest assessment that covers the case, per scope, is favourable;
    # the full risk rules are checked on every contact by ``risk_rules_hold``.
    sensitive = off.category in policy.sensitive_categories
    case_wide = [a for a in rec.risk_assessments if a.subject is None]
    if policy.risk_assessment_scope is RiskScope.CASE:
        if not case_wide or case_wide[-1].outcome is not RiskOutcome.FAVOURABLE:
            broken.append("risk")
        elif sensitive and not (case_wide[-1].enhanced and case_wide[-1].approved_by):
            broken.append("enhanced risk")
    lead = next((p for p in rec.parties if p.id == rec.lead_facilitator), None)
    needed = policy.min_sensitive_lead_level if sensitive else policy.min_lead_level
    if not isinstance(lead, Facilitator) or lead.level < needed:
        broken.append("lead level")
    elif (
        sensitive
        and policy.sensitive_needs_specialism
        and off.category.value not in lead.specialisms
    ):
        broken.append("lead not trained")
    if sum(1 for s in rec.sessions if s.attendance.value == "attended") >= policy.max_sessions:
        broken.append("no session left")
    return broken


ACTIVITY_OF = {
    "hold_conference": ContactActivity.FACE_TO_FACE,
    "choose_shuttle_mediation": ContactActivity.SHUTTLE,
}


def fix(rec: CaseRecord, action: str, blocker: Blocker) -> tuple[str, dict[str, Any]] | None:
    """The action that would clear ``blocker`` on the way to ``action``, if there is one."""
    code = blocker.code
    if code == "offender_not_sentenced":
        return "record_sentence", {"sentenced_on": START.date()}
    if code == "stage_session_missing":
        return "record_session", {"duration": timedelta(hours=2)}
    if code == "no_shuttle_messages":
        return "record_shuttle_message", {"victim": "V1", "direction": "to_victim"}
    if code == "responsibility_not_acknowledged":
        return "acknowledge_responsibility", {"guilty_plea": True}
    if code.endswith("consent_missing") and action in ACTIVITY_OF:
        party = blocker.subject or "V1"
        activity = ACTIVITY_OF[action]
        # An interpreter is arranged for everyone: it is recorded, and needed by some.
        if not any(i.party == party and i.activity is activity for i in rec.information):
            return "give_information", {
                "party": party,
                "activity": activity,
                "interpreter_provided": True,
            }
        return "record_consent", {
            "party": party,
            "activity": activity,
            "interpreter_provided": True,
        }
    # -- issue 14: requests, supporters, appropriate adults --
    if code == "victim_did_not_request" and blocker.subject:
        return "record_request", {"party": blocker.subject}
    if code in ("supporter_not_accepted", "appropriate_adult_absent") and blocker.subject:
        sup = rec.party(blocker.subject)
        if isinstance(sup, Supporter):
            if not rec.consents_to(sup.id, ContactActivity.FACE_TO_FACE):
                return fix(
                    rec,
                    action,
                    Blocker("supporter_consent_missing", "", "", sup.id),
                )
            others = [v.id for v in rec.victims] if sup.supports == "O1" else ["O1"]
            waiting = [b for b in others if not accepted_by(rec, b, sup.id)]
            if waiting:
                return "accept_supporter", {"supporter": sup.id, "by": waiting[0]}
            return None
    if code == "appropriate_adult_missing" and blocker.subject and rec.party("G9") is None:
        guardian = Supporter("G9", supports=blocker.subject, appropriate_adult=True)
        return "add_party", {"party": guardian}
    if code == "enhanced_risk_assessment_needed":
        latest = rec.latest_risk_assessment(blocker.subject)
        if latest is not None and latest.enhanced and latest.approved_by is None:
            data = {} if blocker.subject is None else {"subject": blocker.subject}
            return "approve_risk_assessment", data
    if code.startswith("risk") or code == "enhanced_risk_assessment_needed":
        data = {"outcome": "favourable", "enhanced": True}
        return "assess_risk", data if blocker.subject is None else {
            **data,
            "subject": blocker.subject,
        }
    if code in ("lead_facilitator_level_too_low", "lead_facilitator_not_trained"):
        if rec.party("F9") is None:
            trained = Facilitator("F9", PractitionerLevel.ADVANCED, SPECIALISMS)
            return "add_party", {"party": trained}
        return "assign_lead_facilitator", {"facilitator": "F9"}
    if code == "letter_not_settled":
        if not rec.letters:
            return "draft_letter", {"victim": "V1"}
        for letter in rec.letters:
            victim = {"victim": letter.victim}
            if letter.status.value in ("drafted",):
                return "review_letter", victim
            if letter.status.value == "returned_for_redraft":
                return "draft_letter", victim
            if letter.status.value == "reviewed":
                if rec.consents_to(letter.victim, ContactActivity.RECEIVE_LETTER):
                    return "deliver_letter", victim
                return "hold_letter_on_file", victim
        return None
    if code == "agreement_unsigned" and blocker.subject:
        return "sign_agreement", {"party": blocker.subject}
    if code == "agreement_actions_outstanding" and blocker.subject:
        status = "not_complied" if blocker.subject == "A2" else "done"
        return "record_progress", {"action_id": blocker.subject, "status": status}
    # -- issue 14 --
    if code == "referred_for_enforcement":
        return "record_breach_outcome", {"outcome": "order_continues"}
    if code == "signature_lapsed" and blocker.subject and rec.agreement is not None:
        activity = rec.agreement.activity or ContactActivity.FACE_TO_FACE
        return "record_consent", {"party": blocker.subject, "activity": activity}
    if code == "victim_not_informed" and blocker.subject:
        return "inform_victim", {"victim": blocker.subject, "about": "conclusion"}
    if code == "required_sessions_not_held":
        return "record_session", {"duration": timedelta(hours=1)}
    return None


# -- issue 14: consent in force on every contact, restated from the raw records --------------

F2F = ContactActivity.FACE_TO_FACE
ISSUE_14_ACTIONS = frozenset(
    {"record_request", "accept_supporter", "review_letter", "deliver_letter", "hold_conference"}
)


def declined_unasked(rec: CaseRecord, party: str, activity: ContactActivity) -> bool:
    """The party's last word on ``activity`` is a decline, with no request of theirs since."""
    last_decline = max(
        (i for i, c in enumerate(rec.consents) if c.party == party and c.activity is activity),
        default=None,
    )
    if last_decline is None or rec.consents[last_decline].status is not ConsentStatus.DECLINED:
        return False
    return not any(
        r.party == party and r.activity in (None, activity) and r.position > last_decline
        for r in rec.requests
    )


def in_force(rec: CaseRecord, policy: Policy, party: str, activity: ContactActivity) -> list[str]:
    """Why ``party``'s consent to ``activity`` is not in force for contact (a young person's
    needs their appropriate adult's too)."""
    broken = []
    if latest_consent(rec, party, activity) is not ConsentStatus.GIVEN:
        broken.append(f"{party} {activity.value} consent")
    p = rec.party(party)
    if policy.youth_needs_appropriate_adult and getattr(p, "under_18", False):
        adults = [s.id for s in rec.supporters if s.supports == party and s.appropriate_adult]
        if not any(latest_consent(rec, a, activity) is ConsentStatus.GIVEN for a in adults):
            broken.append(f"{party}'s appropriate adult {activity.value} consent")
    return broken


def accepted_by(rec: CaseRecord, by: str, supporter: str) -> bool:
    answers = [a for a in rec.supporter_acceptances if a.by == by and a.supporter == supporter]
    return bool(answers) and answers[-1].accepted


def contact_consent_broken(
    before: CaseRecord, after: CaseRecord, policy: Policy, action: str, data: dict[str, Any]
) -> list[str]:
    """No contact goes ahead without the contacted parties' consent in force (supporters who
    attend and a young person's appropriate adult included), no one who declined is approached
    unasked, and request-only victims are not approached first."""
    broken: list[str] = []
    offender = before.offender.id
    if action == "hold_conference" and after.conference is not None:
        conf = after.conference
        for party in (*conf.victims, offender, *conf.supporters):
            broken += in_force(before, policy, party, F2F)
        for sid in conf.supporters:
            sup = before.party(sid)
            assert isinstance(sup, Supporter)
            others = conf.victims if sup.supports == offender else (offender,)
            broken += [
                f"{sid} not accepted by {b}" for b in others if not accepted_by(before, b, sid)
            ]
        for party in (*conf.victims, offender):
            p = before.party(party)
            adults = [
                s.id for s in before.supporters if s.supports == party and s.appropriate_adult
            ]
            young = policy.youth_needs_appropriate_adult and getattr(p, "under_18", False)
            if young and not set(adults) & set(conf.supporters):
                broken.append(f"{party}'s appropriate adult absent")
    elif action == "record_session" and before.state is State.CONFERENCE:
        assert before.conference is not None
        for party in (*before.conference.victims, offender):
            broken += in_force(before, policy, party, F2F)
    elif action == "choose_shuttle_mediation":
        broken += in_force(before, policy, offender, ContactActivity.SHUTTLE)
        if not any(
            not in_force(before, policy, v.id, ContactActivity.SHUTTLE) for v in before.victims
        ):
            broken.append("no victim's shuttle consent in force")
    elif action == "record_shuttle_message":
        broken += in_force(before, policy, offender, ContactActivity.SHUTTLE)
        broken += in_force(before, policy, data["victim"], ContactActivity.SHUTTLE)
        if data.get("vetted") is False:
            broken.append("message not vetted")
    elif action == "deliver_letter":
        (delivered,) = [
            x.victim
            for x in after.letters
            if x.status.value == "delivered"
            and before.letter_to(x.victim) is not None
            and before.letter_to(x.victim) != x
        ]
        broken += in_force(before, policy, delivered, ContactActivity.RECEIVE_LETTER)
    elif action in ("give_information", "record_consent"):
        party, activity = data["party"], ContactActivity(data["activity"])
        if declined_unasked(before, party, activity):
            broken.append(f"{party} approached after declining")
        p = before.party(party)
        victim = p.supports if isinstance(p, Supporter) else party
        v = before.party(victim)
        if (
            before.offence.category in policy.victim_request_required_for
            and isinstance(v, Victim)
            and not v.requested_rj
            and not any(r.party == victim for r in before.requests)
        ):
            broken.append(f"{victim} approached before asking")
        if getattr(p, "needs_interpreter", False) and not data.get("interpreter_provided"):
            broken.append(f"{party} without an interpreter")
    return broken


class CaseWorkflow(RuleBasedStateMachine):
    """A caseworker's random day, over and over."""

    case: Case

    @initialize(
        offence=offences,
        two_victims=st.booleans(),
        lead_level=levels,
        trained=st.booleans(),
        sentenced=st.booleans(),
        policy=st.sampled_from(POLICIES),
        victim_requested=st.booleans(),
        youth=st.sampled_from([None, None, "V1", "O1"]),
        interpreter=st.booleans(),
        supporter=st.sampled_from([None, "plain", "appropriate_adult"]),
        risk=st.sampled_from(RISK_POLICIES),
    )
    def open_case(
        self,
        offence: Any,
        two_victims: bool,
        lead_level: PractitionerLevel,
        trained: bool,
        sentenced: bool,
        policy: Policy,
        victim_requested: bool,
        youth: str | None,
        interpreter: bool,
        supporter: str | None,
        risk: dict[str, Any],
    ) -> None:
        self.now = START
        victims = [
            Victim(
                "V1",
                requested_rj=victim_requested,
                under_18=youth == "V1",
                needs_interpreter=interpreter,
            )
        ]
        if two_victims:
            victims.append(Victim("V2"))
        supporters = []
        if supporter is not None:
            supported = youth or "V1"
            supporters.append(
                Supporter("S1", supports=supported, appropriate_adult=supporter != "plain")
            )
        self.case = Case.open(
            "C1",
            offence=offence,
            offender=Offender("O1", under_18=youth == "O1"),
            victims=victims,
            supporters=supporters,
            facilitators=[
                Facilitator("F1", lead_level, SPECIALISMS if trained else ()),
                Facilitator("F2", PractitionerLevel.FOUNDATION),  # a co-facilitator
            ],
            lead_facilitator="F1",
            staff=[Staff("M1", StaffRole.MANAGER), Staff("A1", StaffRole.ADMINISTRATOR)],
            sentenced_on=START.date() if sentenced else None,
            at=self.now,
            actor="A1",
            policy=attrs.evolve(policy, **risk),
        )
        self.reached = {State.REFERRED}
        self.steps = 0

    def attempt(
        self,
        action: str,
        data: dict[str, Any],
        at: datetime,
        actor: str | None = None,
        occurred_at: datetime | None = None,
    ) -> None:
        case = self.case
        actor = actor if actor is not None else self.permitted_actor(action)
        before = (case.record, case.history, case.version)
        when = {"actor": actor, "occurred_at": occurred_at}
        try:
            blockers = case.blockers(action, at=at, **when, **data)
            can = case.can(action, at=at, **when, **data)
        except InvalidInput:
            blockers, can = None, None
        note(f"{action}({data}) by {actor} at {at.isoformat()} ({occurred_at}): {blockers}")
        try:
            ev = case.fire(action, at=at, **when, **data)
        except ActionRefused as refused:
            assert blockers, "fire refused although no blocker was reported"
            assert can is False
            assert refused.codes == tuple(b.code for b in blockers)
            assert (case.record, case.history, case.version) == before
            event(f"refused {action}")
            return
        except InvalidInput:
            assert (case.record, case.history, case.version) == before
            event("invalid input")
            return
        assert blockers == () and can is True, "fire succeeded although blocked"
        assert case.version == before[2] + 1
        assert case.history[-1] == ev
        if ev.to_state == State.CONFERENCE.value:
            broken = conference_rules_hold(before[0], case.policy, tuple(data.get("victims", ())))
            assert not broken, f"conference entered although: {broken}"
        if action == "sign_agreement" and isinstance(
            before[0].party(data["party"]), Offender | Victim | Supporter
        ):
            agreement = before[0].agreement
            assert agreement is not None
            activity = agreement.activity or ContactActivity.FACE_TO_FACE
            allowed: tuple[ConsentStatus | None, ...] = (ConsentStatus.GIVEN,)
            if isinstance(before[0].party(data["party"]), Supporter):
                allowed += (None,)  # schema 1: supporters did not consent
            assert latest_consent(before[0], data["party"], activity) in allowed
        if action == "vary_agreement":  # a changed (or returning) action starts again
            old_terms = before[0].agreement.actions if before[0].agreement else ()
            for item in case.record.agreement.actions if case.record.agreement else ():
                if item not in old_terms:
                    assert case.record.action_status(item.id).value == "not_started"
        if action == "decline_all":  # every activity the party could take part in declined
            party = data["party"]
            for activity in ContactActivity:
                if latest_consent(before[0], party, activity) is not None:
                    assert latest_consent(case.record, party, activity) is ConsentStatus.DECLINED
        if action == "withdraw_variation":  # the signed terms, as they were, are back
            assert before[0].variation_of is not None
            assert case.record.agreement == before[0].variation_of
            kept = before[0].progress[: before[0].variation_progress]
            for item in case.record.agreement.actions:
                was = [u.status for u in kept if u.action_id == item.id]
                assert case.record.action_status(item.id).value == (
                    was[-1].value if was else "not_started"
                )
        if action in (
            "vary_agreement",
            "withdraw_variation",
            "waive_agreement_action",
            "record_breach_outcome",
        ):
            event(f"accepted {action}")
        if action == "record_session" and data.get("attendance") == "missed_unacceptable":
            event("unacceptable absence")
        if not before[0].is_open:
            event(f"evaluation after the end: {action}")
        if ev.to_state == State.COMPLETED.value and case.record.closure is not None:
            outcome = case.record.closure.outcome
            event(f"completed: {outcome.value if outcome else 'no agreement'}")
        broken = contact_consent_broken(before[0], case.record, case.policy, action, data)
        assert not broken, f"{action} accepted although: {broken}"
        if action in ISSUE_14_ACTIONS:
            event(f"accepted {action}")
        # Issue 14: the risk and role invariants, restated from the raw records.
        contacted = contacted_by(before[0], case.policy, action, data, case.record)
        if contacted is not None:
            happened = occurred_at or at
            broken = risk_rules_hold(before[0], case.policy, contacted, happened)
            assert not broken, f"{action} accepted although: {broken}"
        assert role_held(before[0], actor, action), f"{action} accepted from {actor}"
        if occurred_at is not None:
            assert ev.occurred_at == occurred_at and ev.at == at
            event("late entry accepted")
            # Issue 14 fixes: what belongs to a stage happened during it (restated from the
            # history: the stage began when the last stage change happened).
            if ev.to_state is not None or "happened_in_stage" in ACTIONS[action].guards:
                changes = [e for e in before[1] if e.to_state is not None]
                began = before[1][0].at
                if changes:
                    began = changes[-1].occurred_at or changes[-1].at
                assert occurred_at >= began, f"{action} dated before its stage began"
        self.reached.add(case.state)
        self.now = max(self.now, at)

    @rule(data=st.data())
    def take_a_step(self, data: st.DataObject) -> None:
        """Try an action: usually one the case says is allowed, sometimes any at all."""
        mode = data.draw(st.sampled_from(MODES), label="mode")
        options = self.case.options()
        if mode == "past":
            self.act_in_the_past()
            return
        if mode == "agreement":
            self.work_on_the_agreement(data)
            return
        if mode == "absent":
            gap = data.draw(st.sampled_from(ABSENCE_GAPS), label="absence gap")
            self.miss_a_session(gap)
        if mode in ISSUE_14_MODES and self.case.state not in TERMINAL:
            self.steps += 1
            ISSUE_14_MODES[mode](self, data)
            return
        if mode == "progress":
            move = self.helpful_move()
            if move is not None:
                gap = data.draw(st.sampled_from(GAPS), label="gap")
                self.steps += 1
                self.attempt(*move, self.now + gap)
                return
        if mode == "forward":
            names = [
                o.action for o in options if o.allowed and o.leads_to not in (None, State.CLOSED)
            ]
            # The letter needs no consent, so it is open long before a conference or shuttle
            # mediation is; often wait for those, so that histories reach them (issue 14).
            if "choose_letter_of_apology" in names and data.draw(WAIT, label="wait"):
                names.remove("choose_letter_of_apology")
                move = None if names else self.helpful_move()
                if move is not None:  # work towards the conference instead
                    self.steps += 1
                    self.attempt(*move, self.now + data.draw(st.sampled_from(GAPS), label="gap"))
                    return
        elif mode == "record":
            names = [o.action for o in options if o.allowed and o.leads_to is None]
        else:
            names = []
        action = data.draw(st.sampled_from(weighted(names or list(ACTIONS))), label="action")
        kwargs = data.draw(inputs(action, self.case.record), label="input")
        for _ in range(3 if mode != "any" else 0):
            if self.allows(action, kwargs):
                break
            kwargs = data.draw(inputs(action, self.case.record), label="another input")
        gap = data.draw(st.sampled_from(GAPS), label="gap")
        actor = None
        if mode == "any":  # sometimes someone without the role, or a participant, tries it
            actor = data.draw(st.sampled_from(ACTORS), label="actor")
        self.steps += 1
        self.attempt(action, kwargs, self.now + gap, actor)

    def permitted_actor(self, action: str) -> str:
        """Someone on the case in a role the table permits for ``action`` (else the lead)."""
        rec = self.case.record
        roles = ACTIONS[action].roles
        for actor in ("F1", "F9", "F2", "M1", "A1"):
            if rec.roles_of(actor) & roles:
                return actor
        return rec.lead_facilitator or "F1"

    # -- issue 14 (D2): reassessments, approvals, new information, late entries ---------------

    def reassess(self, data: st.DataObject) -> None:
        """A facilitator reassesses risk (of the case or of one participant); a manager may
        approve an enhanced assessment."""
        outcome = data.draw(
            st.sampled_from([RiskOutcome.FAVOURABLE] * 3 + [RiskOutcome.UNFAVOURABLE])
        )
        enhanced = data.draw(st.booleans(), label="enhanced")
        subject = data.draw(st.sampled_from([None, None, "O1", "V1", "V2", "S1"]), label="subject")
        gap = data.draw(st.sampled_from(GAPS), label="gap")
        kwargs: dict[str, Any] = {"outcome": outcome, "enhanced": enhanced}
        if subject is not None:
            kwargs["subject"] = subject
        self.attempt("assess_risk", kwargs, self.now + gap)
        if data.draw(st.booleans(), label="approve"):
            self.attempt("approve_risk_assessment", {"subject": subject}, self.now)
        self.try_contact(data)

    def try_contact(self, data: st.DataObject) -> None:
        """Right after risk changed, try the contact the stage holds (a session or a message):
        the invariants check it is accepted only while risk is current and favourable."""
        gap = data.draw(st.sampled_from(GAPS), label="gap")
        if self.case.state in (State.CONFERENCE, State.SHUTTLE_MEDIATION):
            self.attempt("record_session", {"duration": timedelta(hours=1)}, self.now + gap)
        if self.case.state is State.SHUTTLE_MEDIATION:
            message = {"victim": "V1", "direction": "to_offender"}
            self.attempt("record_shuttle_message", message, self.now + gap)

    def new_information(self, data: st.DataObject) -> None:
        """New information bearing on risk is recorded: a material change."""
        subject = data.draw(st.sampled_from([None, "O1", "V1", "S1", "F1"]), label="subject")
        gap = data.draw(st.sampled_from(GAPS), label="gap")
        self.attempt("record_new_information", {"subject": subject}, self.now + gap)
        self.try_contact(data)

    def late_entry(self, data: st.DataObject) -> None:
        """An action recorded days after it happened: ``occurred_at`` between the opening and
        the recording; out of those bounds it is refused and changes nothing."""
        case = self.case
        options = [o.action for o in case.options() if o.allowed]
        if not options:
            return
        action = data.draw(st.sampled_from(sorted(options)), label="late action")
        kwargs = data.draw(inputs(action, case.record), label="late input")
        at = self.now + data.draw(st.sampled_from(GAPS), label="gap")
        back = data.draw(st.sampled_from(LATE), label="late by")
        occurred = at - back
        if occurred < case.record.opened_at or back < timedelta(0):
            before = (case.record, case.history)
            actor = self.permitted_actor(action)
            try:
                case.fire(action, at=at, actor=actor, occurred_at=occurred, **kwargs)
            except InvalidInput:
                assert (case.record, case.history) == before
                event("late entry out of bounds refused")
                return
            raise AssertionError("an occurred_at out of bounds was accepted")
        self.attempt(action, kwargs, at, occurred_at=occurred)

    # -- issue 14: agreements, variations, waivers and absences, drawn on purpose ----------

    def _terms(self, data: st.DataObject, label: str) -> list[AgreementAction]:
        """One to three actions owned by the offender, due 30 to 120 days after now."""
        count = data.draw(st.integers(1, 3), label=f"{label} count")
        return [
            AgreementAction(
                f"A{i}",
                "Repair the fence",
                "O1",
                self.now.date() + timedelta(days=data.draw(st.sampled_from((30, 60, 120)))),
            )
            for i in range(1, count + 1)
        ]

    def work_on_the_agreement(self, data: st.DataObject) -> None:
        """What a facilitator does with an outcome agreement at this point: propose one at a
        conference or in shuttle mediation; at a review, waive an action or record it done or
        not complied with; now and then, vary a signed one."""
        rec, policy = self.case.record, self.case.policy
        agreement = rec.agreement
        if not rec.is_open:
            self.deliver_a_held_letter()
            return
        if rec.state is State.PREPARATION:
            # Head for an activity that may end in an agreement (a conference or shuttle).
            target = data.draw(
                st.sampled_from(["hold_conference"] * 3 + ["choose_shuttle_mediation"]),
                label="aim",
            )
            if target not in self.case.workflow.actions:
                return
            for _ in range(8):  # a prepared caseworker's day: clear what can be cleared, go
                if self.case.state is not State.PREPARATION:
                    return
                blockers = self.case.blockers(target)
                rec = self.case.record
                move = next((m for b in blockers if (m := fix(rec, target, b)) is not None), None)
                if move is None and not blockers:
                    move = (target, {})
                if move is None:
                    return
                self.steps += 1
                self.attempt(*move, self.now + timedelta(hours=1))
            return
        if agreement is None:
            if rec.state in (State.CONFERENCE, State.SHUTTLE_MEDIATION):
                terms = self._terms(data, "terms")
                self.steps += 1
                self.attempt("propose_agreement", {"actions": terms}, self.now + timedelta(hours=1))
            return
        if rec.variation_pending(policy) and data.draw(st.booleans(), label="withdraw?"):
            self.steps += 1  # not everyone signs the new terms: the signed ones stay
            self.attempt("withdraw_variation", {}, self.now + timedelta(hours=1))
            return
        unsigned = [p for p in rec.agreement_signatories(policy) if not agreement.signed_by(p)]
        if unsigned:
            self.steps += 1
            self.attempt("sign_agreement", {"party": unsigned[0]}, self.now + timedelta(hours=1))
            return
        if data.draw(st.integers(0, 4), label="vary?") == 0:
            terms = self._terms(data, "new terms")
            self.steps += 1
            self.attempt("vary_agreement", {"actions": terms}, self.now + timedelta(days=1))
            return
        if rec.state is State.REVIEW and rec.agreement_binding(policy):
            ids = [a.id for a in agreement.actions]
            action_id = data.draw(st.sampled_from(ids), label="action id")
            choice = data.draw(st.sampled_from(["waive", "done", "not_complied"]), label="review")
            self.steps += 1
            at = self.now + timedelta(days=7)
            if choice == "waive":
                self.attempt("waive_agreement_action", {"action_id": action_id}, at)
            else:
                self.attempt("record_progress", {"action_id": action_id, "status": choice}, at)

    def deliver_a_held_letter(self) -> None:
        """Issue 14 fixes: after the end, a victim asks for the letter held on file for them:
        information, consent, then delivery (each judged as any contact)."""
        rec = self.case.record
        waiting = [x for x in rec.letters if x.status.value in ("reviewed", "held_on_file")]
        if not waiting:
            return
        victim, letter = waiting[0].victim, ContactActivity.RECEIVE_LETTER
        data: dict[str, Any] = {"party": victim, "activity": letter, "interpreter_provided": True}
        if not any(i.party == victim and i.activity is letter for i in rec.information):
            move = ("give_information", data)
        elif not rec.consents_to(victim, letter):
            move = ("record_consent", data)
        else:
            move = ("deliver_letter", {"victim": victim})
        self.steps += 1
        self.attempt(*move, self.now + timedelta(days=30))

    def miss_a_session(self, gap: timedelta) -> None:
        """The offender misses a session without an acceptable reason (drives warnings,
        referrals for breach and the court's outcomes)."""
        self.steps += 1
        data = {"duration": timedelta(0), "attendance": "missed_unacceptable"}
        self.attempt("record_session", data, self.now + gap)

    def helpful_move(self) -> tuple[str, dict[str, Any]] | None:
        """What a caseworker would do next to clear the first blocker of a way forward."""
        rec = self.case.record
        for option in self.case.options():
            if option.leads_to in (None, State.CLOSED):
                continue
            for blocker in option.blockers:
                move = fix(rec, option.action, blocker)
                if move is not None and self.allows(*move):  # not a move the case refuses
                    return move
        return None

    def allows(self, action: str, kwargs: dict[str, Any]) -> bool:
        try:
            return self.case.can(action, **kwargs)
        except InvalidInput:
            return False

    def act_in_the_past(self) -> None:
        """A change dated before the last one is refused and changes nothing."""
        if self.case.version == 1:
            return
        before = self.case.history
        try:
            self.case.fire(
                "close",
                at=self.case.record.updated_at - timedelta(seconds=1),
                actor="F1",
                reason="unsuitable",
            )
        except InvalidInput:
            pass
        else:
            raise AssertionError("a change dated in the past was accepted")
        assert self.case.history == before

    @invariant()
    def options_agree_with_questions(self) -> None:
        """Issue 14 fixes: what options() reports for an action is what blockers() (and so
        can() and fire() without input) reports for it."""
        case = self.case
        for option in case.options():
            assert option.blockers == case.blockers(option.action), option.action

    @invariant()
    def programme_limits_hold(self) -> None:
        rec = self.case.record
        policy = self.case.policy
        attended = [s for s in rec.sessions if s.attendance.value == "attended"]
        assert len(attended) <= policy.max_sessions
        assert all(s.duration <= policy.max_session_length for s in rec.sessions)

    @invariant()
    def ended_cases_accept_only_evaluation(self) -> None:
        if self.case.state in TERMINAL:
            assert {o.action for o in self.case.options()} <= EVALUATION_ACTIONS
            assert not any(self.case.can(a) for a in ACTIONS if a not in EVALUATION_ACTIONS)

    @invariant()
    def agreement_binds_only_with_signatures_and_consent(self) -> None:
        """Restated from the raw records: every current signatory signed the current terms,
        and each participant's latest decision about the agreement's activity is consent."""
        rec, policy = self.case.record, self.case.policy
        agreement = rec.agreement
        if agreement is None:
            assert not rec.agreement_binding(policy)
            return
        required = list(agreement.signatories)
        if policy.facilitator_signs_agreement and agreement.facilitator is not None:
            required.append(agreement.facilitator)
        signed = {sig.party for sig in agreement.signatures}
        activity = agreement.activity or ContactActivity.FACE_TO_FACE
        expected = (
            all(p in signed for p in required)
            and all(
                latest_consent(rec, p, activity) is ConsentStatus.GIVEN
                for p in required
                if isinstance(rec.party(p), Offender | Victim)
            )
            and all(  # a supporter's signature lapses once they withdraw or decline
                latest_consent(rec, p, activity) in (None, ConsentStatus.GIVEN)
                for p in required
                if isinstance(rec.party(p), Supporter)
            )
        )
        assert rec.agreement_binding(policy) == expected

    @invariant()
    def completion_outcome_agrees_with_the_actions(self) -> None:
        rec = self.case.record
        closure = rec.closure
        if rec.state is not State.COMPLETED or closure is None:
            return
        if rec.agreement is None:
            assert closure.outcome is None
        else:
            latest: dict[str, str] = {}
            for update in rec.progress:
                latest[update.action_id] = update.status.value
            final = [latest.get(a.id, "not_started") for a in rec.agreement.actions]
            assert all(f in ("done", "not_complied", "waived") for f in final), final
            if "done" in final and all(f in ("done", "waived") for f in final):
                assert closure.outcome is AgreementOutcome.FULFILLED
            elif "done" in final:
                assert closure.outcome is AgreementOutcome.PARTLY_FULFILLED
            else:
                assert closure.outcome is AgreementOutcome.NOT_FULFILLED
        contact = (
            rec.conference is not None
            or bool(rec.shuttle_messages)
            # any victim's letter, also one delivered after the end (issue 14 fixes)
            or any(x.status.value == "delivered" for x in rec.letters)
        )
        assert (closure.rj_type is RJType.NONE) == (not contact)

    @invariant()
    def no_enforcement_closure_follows_from_an_agreement(self) -> None:
        """A case closed for enforcement had two unacceptable absences (a referral for
        breach) and no court outcome letting the order continue after the last referral."""
        rec = self.case.record
        if rec.closure is None or rec.closure.reason is not ClosureReason.ENFORCEMENT:
            return
        missed = [s for s in rec.sessions if s.attendance.value == "missed_unacceptable"]
        assert len(missed) >= 2
        decisions = [d.outcome for d in rec.breach_decisions]
        assert (
            not decisions
            or decisions[-1] is BreachOutcome.ORDER_REVOKED
            or (rec.breach_referrals_pending(self.case.policy) > 0)
        )

    @invariant()
    def history_is_the_truth(self) -> None:
        case = self.case
        assert case.version == len(case.history) == case.record.version
        verify_chain(case.history)

    def teardown(self) -> None:
        if not hasattr(self, "case"):
            return
        rebuilt = replay(self.case.history, policy=self.case.policy)
        assert rebuilt == self.case
        # A sealed snapshot of any reachable case loads back identical without a replay.
        sealed = dumps(self.case, seal_key=SEAL_KEY)
        assert loads(sealed, policy=self.case.policy, seal_key=SEAL_KEY) == self.case
        for state in self.reached:
            event(f"reached {state.value}")
        event(f"steps: {'50+' if self.steps >= 50 else '10-49' if self.steps >= 10 else '<10'}")


#: Issue 14 (D2): the take_a_step modes that reassess, record new information, enter late.
ISSUE_14_MODES = {
    "reassess": CaseWorkflow.reassess,
    "new_information": CaseWorkflow.new_information,
    "late_entry": CaseWorkflow.late_entry,
}

TestCaseWorkflow = CaseWorkflow.TestCase
