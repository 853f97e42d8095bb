"""The workflow under random use: every step a caseworker could take, valid or not.

After every step the test checks, from the case's own records and not through the guards:
can(X) holds exactly when there are no blockers and exactly when firing succeeds; a refused
or invalid step changes nothing; a conference is never entered unless every conference rule
held at that moment; sessions stay within the programme's limits; completed and closed cases
absorb every action; the history's chain verifies and replaying it rebuilds the case.

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
    Attendance,
    Blocker,
    Case,
    ConsentStatus,
    ContactActivity,
    Facilitator,
    InvalidInput,
    Policy,
    PractitionerLevel,
    RiskOutcome,
    RiskScope,
    Staff,
    StaffRole,
    State,
    Victim,
)
from rjflow.history import verify_chain
from rjflow.record import CaseRecord
from rjflow.serialization import dumps, loads, replay
from rjflow.states import ACTIONS

from .builders import SEAL_KEY, SPECIALISMS
from .strategies import POLICIES, inputs, levels, offences

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TERMINAL = (State.COMPLETED, State.CLOSED)
MODES = ("forward",) * 3 + ("progress",) * 4 + ("record",) * 4 + ("any",) * 2 + ("past",)
MODES += ("reassess", "new_information", "late_entry")  # issue 14 (D2)
#: Actions that end or narrow a case; drawn less often so that histories go deep.
RARE = frozenset({"close", "record_decline", "withdraw_consent", "add_party", "abandon_agreement"})
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
        "hold_conference",
        "choose_shuttle_mediation",
        "record_shuttle_message",
        "propose_agreement",
        "sign_agreement",
        "deliver_letter",
    }
)


def contacted_by(
    rec: CaseRecord, policy: Policy, action: str, data: dict[str, Any]
) -> tuple[str, ...] | None:
    """The participants ``action`` contacts, from the raw record (None: not a contact)."""
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
        return (rec.letter.victim,) if rec.letter is not None else ()
    if rec.conference is not None and rec.state is State.CONFERENCE:
        return (offender, *rec.conference.victims, *rec.conference.supporters)
    if action == "hold_conference":
        chosen = tuple(data.get("victims", ())) or victims
        return (offender, *chosen)
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
        if not any(i.party == party and i.activity is activity for i in rec.information):
            return "give_information", {"party": party, "activity": activity}
        return "record_consent", {"party": party, "activity": activity}
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
        if rec.letter is None:
            return "draft_letter", {"victim": "V1"}
        if rec.letter.status.value == "drafted":
            return "review_letter", {}
        return "hold_letter_on_file", {}
    if code == "agreement_unsigned" and blocker.subject:
        return "sign_agreement", {"party": blocker.subject}
    if code == "agreement_actions_outstanding" and blocker.subject:
        return "record_progress", {"action_id": blocker.subject, "status": "done"}
    return None


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
        risk: dict[str, Any],
    ) -> None:
        self.now = START
        victims = [Victim("V1", requested_rj=victim_requested)]
        if two_victims:
            victims.append(Victim("V2"))
        self.case = Case.open(
            "C1",
            offence=offence,
            offender="O1",
            victims=victims,
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
        # Issue 14: the risk and role invariants, restated from the raw records.
        contacted = contacted_by(before[0], case.policy, action, data)
        if contacted is not None:
            happened = occurred_at or at
            broken = risk_rules_hold(before[0], case.policy, contacted, happened)
            assert not broken, f"{action} accepted although: {broken}"
        assert role_held(before[0], actor, action), f"{action} accepted from {actor}"
        if occurred_at is not None:
            assert ev.occurred_at == occurred_at and ev.at == at
            event("late entry accepted")
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

    def helpful_move(self) -> tuple[str, dict[str, Any]] | None:
        """What a caseworker would do next to clear the first blocker of a way forward."""
        rec = self.case.record
        for option in self.case.options():
            if option.leads_to in (None, State.CLOSED):
                continue
            for blocker in option.blockers:
                move = fix(rec, option.action, blocker)
                if move is not None:
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
    def programme_limits_hold(self) -> None:
        rec = self.case.record
        policy = self.case.policy
        attended = [s for s in rec.sessions if s.attendance.value == "attended"]
        assert len(attended) <= policy.max_sessions
        assert all(s.duration <= policy.max_session_length for s in rec.sessions)

    @invariant()
    def ended_cases_absorb(self) -> None:
        if self.case.state in TERMINAL:
            assert self.case.options() == ()
            assert not any(self.case.can(a) for a in ACTIONS)

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
