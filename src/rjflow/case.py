"""The case: the object an application holds, asks questions of, and changes.

>>> from datetime import datetime, timedelta, timezone
>>> from rjflow import Case, Facilitator, Offence, OffenceCategory
>>> t = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
>>> case = Case.open(
...     "RJ-0001", offence=Offence(OffenceCategory.HOUSEHOLD_BURGLARY),
...     offender="O1", victims=["V1"], facilitators=[Facilitator("F1")],
...     lead_facilitator="F1", at=t, actor="F1")
>>> case.state
<State.REFERRED: 'referred'>
>>> case.can("start_introduction")
False
>>> [b.code for b in case.blockers("start_introduction")]
['offender_not_sentenced']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from rjflow._convert import unstructure
from rjflow._validate import _check_id, aware_datetime
from rjflow.activities import (
    AgreementAction,
    Attendance,
    ClosureReason,
    ContactActivity,
    MessageDirection,
    RiskOutcome,
)
from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    AddParty,
    ApproveRiskAssessment,
    AssessRisk,
    AssignLeadFacilitator,
    Close,
    ConsentInput,
    DraftLetter,
    HoldConference,
    Input,
    NoInput,
    OpenCase,
    ProposeAgreement,
    RecordAcknowledgement,
    RecordFeedback,
    RecordNewInformation,
    RecordProgress,
    RecordSentence,
    RecordSession,
    RecordShuttleMessage,
    SignAgreement,
)
from rjflow.effects import EFFECTS, open_record
from rjflow.errors import ActionRefused, InvalidInput
from rjflow.history import GENESIS_HASH, Event
from rjflow.offences import Offence
from rjflow.parties import Facilitator, Offender, Party, Staff, Supporter, Victim
from rjflow.policy import LONDON_CRC, Policy
from rjflow.record import CaseRecord
from rjflow.states import ActionDef, State
from rjflow.workflow import Workflow

__all__ = ["OPEN_ACTION", "Case", "Option"]

#: The action name of every case's first event.
OPEN_ACTION = "open_case"


@attrs.frozen
class Option:
    """One thing the case could do next, and whether it may: ``blockers`` is empty when it may.

    ``leads_to`` is the stage it moves the case to (None for record-keeping).
    """

    action: str
    summary: str
    leads_to: State | None
    blockers: tuple[Blocker, ...]

    @property
    def allowed(self) -> bool:
        """True when nothing blocks the action."""
        return not self.blockers


def _input(action: ActionDef, data: dict[str, Any]) -> Input:
    """Build ``action``'s input from keyword arguments, or raise InvalidInput."""
    try:
        built: Input = action.input(**data)
    except TypeError as exc:
        names = [a.name for a in attrs.fields(action.input) if a.init]
        takes = ", ".join(names) if names else "no arguments besides at and actor"
        raise InvalidInput(
            f"{action.name} takes {takes}; the arguments given do not fit ({exc})."
        ) from None
    return built


class Case:
    """A restorative justice case.

    Open one with :meth:`Case.open`; load one with :func:`rjflow.load`.  Ask it what may
    happen next (:meth:`options`, :meth:`can`, :meth:`blockers`) and change it only through its
    actions (:meth:`fire` or the typed methods such as :meth:`record_session`), each of which
    is checked against the programme's rules and appends one :class:`~rjflow.Event` to the
    history.  A refused or invalid action raises and leaves the case exactly as it was.
    """

    __slots__ = ("__weakref__", "_events", "_record", "_workflow")

    def __init__(self, record: CaseRecord, events: list[Event], workflow: Workflow) -> None:
        # Internal: use Case.open, Case.replay or rjflow.load.
        self._record = record
        self._events = events
        self._workflow = workflow

    # -- opening and rebuilding ----------------------------------------------------------------

    @classmethod
    def open(
        cls,
        case_id: str,
        *,
        offence: Offence,
        offender: str,
        victims: Iterable[str | Victim],
        at: datetime,
        actor: str,
        facilitators: Iterable[Facilitator] = (),
        supporters: Iterable[Supporter] = (),
        lead_facilitator: str | None = None,
        sentenced_on: date | None = None,
        policy: Policy = LONDON_CRC,
        staff: Iterable[Staff] = (),
    ) -> Case:
        """Open a newly referred case.

        Parties are given by opaque ids (``"V1"``), never names.  ``at`` is when the referral
        was received and must be timezone-aware; ``actor`` is who recorded it: anyone with an id
        (the referral often arrives before any staff is on the case, e.g. at intake), but never
        a participant of the case being opened (:class:`~rjflow.InvalidInput`).  ``staff``: the
        case's managers and administrators (:class:`~rjflow.Staff`); facilitators are given in
        ``facilitators`` and the lead in ``lead_facilitator``.  Every later action is checked
        against the roles these give (see the workflow table's ``roles``).
        """
        _check_id("case_id", case_id)
        if isinstance(victims, str):
            raise InvalidInput("'victims' must be a list of ids, for example victims=['V1'].")
        parties: list[Party] = [Offender(offender)]
        parties += [v if isinstance(v, Victim) else Victim(v) for v in victims]
        parties += list(supporters)
        parties += list(facilitators)
        if isinstance(staff, Staff):
            raise InvalidInput(
                "'staff' must be a list, for example staff=[Staff('M1', 'manager')]."
            )
        inp = OpenCase(offence, tuple(parties), sentenced_on, lead_facilitator, tuple(staff))
        return cls._opened(case_id, inp, at, actor, policy)

    @classmethod
    def _opened(cls, case_id: str, inp: OpenCase, at: datetime, actor: str, policy: Policy) -> Case:
        at = aware_datetime("at", at)
        _check_id("actor", actor)
        if inp.staff is not None and any(
            p.id == actor and not isinstance(p, Facilitator) for p in inp.parties
        ):
            raise InvalidInput(
                "The referral is recorded by a member of staff, never by a participant of the "
                "case (the offender, a victim or a supporter); give the id of the person who "
                "recorded it as actor."
            )
        data = {"case_id": case_id, **unstructure(inp, OpenCase)}
        event = Event.create(
            sequence=1,
            at=at,
            actor=actor,
            action=OPEN_ACTION,
            data=data,
            from_state=None,
            to_state=State.REFERRED.value,
            previous_hash=GENESIS_HASH,
        )
        return cls(open_record(case_id, inp, at), [event], Workflow.for_policy(policy))

    # -- what the case is ----------------------------------------------------------------------

    @property
    def case_id(self) -> str:
        """The case's opaque id."""
        return self._record.case_id

    @property
    def state(self) -> State:
        """The stage the case is at."""
        return self._record.state

    @property
    def record(self) -> CaseRecord:
        """Everything known about the case, as an immutable snapshot."""
        return self._record

    @property
    def history(self) -> tuple[Event, ...]:
        """Every accepted change, oldest first."""
        return tuple(self._events)

    @property
    def version(self) -> int:
        """The number of events in the history; what optimistic concurrency compares."""
        return len(self._events)

    @property
    def policy(self) -> Policy:
        """The policy whose rules this case follows."""
        return self._workflow.policy

    @property
    def workflow(self) -> Workflow:
        """The service's workflow (shared by every case with the same policy)."""
        return self._workflow

    @property
    def is_open(self) -> bool:
        """False once the case is completed or closed."""
        return self._record.is_open

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Case):
            return NotImplemented
        return (
            self._record == other._record
            and self._events == other._events
            and self.policy == other.policy
        )

    __hash__ = None  # type: ignore[assignment]  # a case changes, so it is not hashable

    def __repr__(self) -> str:
        return f"<Case {self.case_id} at {self.state.value}, version {self.version}>"

    # -- questions -----------------------------------------------------------------------------

    def _acting(
        self, at: datetime | None, actor: str | None, occurred_at: datetime | None = None
    ) -> Acting:
        """Who would act when, for a question: ``at`` defaults to the case's last change."""
        when = self._record.updated_at if at is None else aware_datetime("at", at)
        if actor is not None:
            _check_id("actor", actor)
        return Acting(when, actor, self._occurred(when, occurred_at))

    def _occurred(self, at: datetime, occurred_at: datetime | None) -> datetime | None:
        """``occurred_at`` checked: timezone-aware, not before the case opened, not after ``at``
        (issue 14: late entry)."""
        if occurred_at is None:
            return None
        occurred_at = aware_datetime("occurred_at", occurred_at)
        if occurred_at < self._record.opened_at:
            raise InvalidInput(
                f"'occurred_at' ({occurred_at.isoformat()}) is before the case was opened "
                f"({self._record.opened_at.isoformat()}); a case records only what happened "
                "since its referral."
            )
        if occurred_at > at:
            raise InvalidInput(
                f"'occurred_at' ({occurred_at.isoformat()}) is after the time it is recorded "
                f"({at.isoformat()}); an action is recorded when or after it happened."
            )
        return occurred_at

    def options(
        self, *, at: datetime | None = None, actor: str | None = None
    ) -> tuple[Option, ...]:
        """Every action possible at the current stage, each with the reasons it is blocked
        (none when it is allowed).  Empty once the case is completed or closed.

        ``at``: when the actions would be taken (default: the time of the case's last change;
        rules that depend on time, such as an assessment's expiry, are judged then).
        ``actor``: who would take them (default: not judged).
        """
        rec = self._record
        wf = self._workflow
        act = self._acting(at, actor)
        return tuple(
            Option(a.name, a.summary, a.dest, tuple(wf.blockers(rec, a, None, act)))
            for a in wf.actions.values()
            if rec.state in a.sources
        )

    def blockers(
        self,
        action: str,
        *,
        at: datetime | None = None,
        actor: str | None = None,
        occurred_at: datetime | None = None,
        **data: Any,
    ) -> tuple[Blocker, ...]:
        """Every reason ``action`` (with the input ``data``) is not allowed now; empty if it is.

        Without ``data`` the rules that depend on the input (a session's length, say) are
        not judged; pass the input you would fire with for the full answer.  ``at`` and
        ``actor`` as for :meth:`options`; ``occurred_at`` as for :meth:`fire`.
        """
        definition = self._workflow.action(action)
        inp = _input(definition, data) if data else None
        act = self._acting(at, actor, occurred_at)
        return tuple(self._workflow.blockers(self._record, definition, inp, act))

    def can(
        self,
        action: str,
        *,
        at: datetime | None = None,
        actor: str | None = None,
        occurred_at: datetime | None = None,
        **data: Any,
    ) -> bool:
        """True exactly when :meth:`blockers` is empty, i.e. when :meth:`fire` would succeed."""
        return not self.blockers(action, at=at, actor=actor, occurred_at=occurred_at, **data)

    def explain(self) -> str:
        """Where the case stands and, for each possible action, why it is or is not allowed:
        plain text for a caseworker's screen."""
        lines = [
            f"Case {self.case_id} is at the {self.state.label} stage (version {self.version})."
        ]
        options = self.options()
        if not options:
            lines.append("It accepts no further actions.")
        for opt in options:
            mark = "yes" if opt.allowed else "no "
            lines.append(f"  [{mark}] {opt.action}: {opt.summary}")
            lines += [f"          - {b.message}" for b in opt.blockers]
        return "\n".join(lines)

    # -- acting --------------------------------------------------------------------------------

    def fire(
        self,
        action: str,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
        **data: Any,
    ) -> Event:
        """Take ``action`` at time ``at`` on behalf of ``actor``, with its input as keywords.

        ``at`` is when the action is recorded: it never goes back before the case's last
        change, and the rules judge the case in that recorded order.  ``occurred_at`` is when
        it happened, for an entry made late (a session recorded days after it was held): not
        before the case opened, not after ``at``.  Record entries (a session's ``held_at``,
        an assessment's date...) take it, the event keeps both, and time rules about the
        happening (a risk assessment's expiry) judge it.

        Returns the new event.  Raises :class:`~rjflow.ActionRefused` listing every blocker
        when the rules do not allow it, or :class:`~rjflow.InvalidInput` when the input is
        malformed; either way the case is unchanged.
        """
        definition = self._workflow.action(action)
        return self._perform(
            definition, _input(definition, data), at, actor, occurred_at=occurred_at
        )

    def _perform(
        self,
        action: ActionDef,
        inp: Input,
        at: datetime,
        actor: str,
        recorded: Event | None = None,
        *,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Check, apply and record one action.  ``recorded``: the stored event being replayed,
        whose hash was already verified; it is reused when it says what this action does."""
        at = aware_datetime("at", at)
        _check_id("actor", actor)
        rec = self._record
        if at < rec.updated_at:
            raise InvalidInput(
                f"'at' ({at.isoformat()}) is earlier than the case's last change "
                f"({rec.updated_at.isoformat()}); record changes in the order they happened. "
                "To record something that happened earlier, give occurred_at."
            )
        occurred_at = self._occurred(at, occurred_at)
        act = Acting(at, actor, occurred_at)
        state, blockers = self._workflow.dispatch(rec, action, inp, act)
        if blockers:
            raise ActionRefused(
                case_id=rec.case_id, state=rec.state.value, action=action.name, blockers=blockers
            )
        changes = EFFECTS[action.name](rec, inp, act.happened_at, actor)
        version = rec.version + 1
        new = rec.updated(state=state, version=version, updated_at=at, **changes)
        from_state = rec.state.value
        to_state = state.value if state is not rec.state else None
        previous_hash = self._events[-1].hash
        if recorded is not None and (
            recorded.sequence,
            recorded.action,
            recorded.from_state,
            recorded.to_state,
            recorded.previous_hash,
            recorded.occurred_at,
        ) == (version, action.name, from_state, to_state, previous_hash, occurred_at):
            event = recorded
        else:
            event = Event.create(
                sequence=version,
                at=at,
                actor=actor,
                action=action.name,
                data=unstructure(inp, action.input),
                from_state=from_state,
                to_state=to_state,
                previous_hash=previous_hash,
                occurred_at=occurred_at,
            )
        # Nothing below can fail: the case changes whole or not at all.
        self._record = new
        self._events.append(event)
        return event

    def _do(
        self, name: str, inp: Input, at: datetime, actor: str, occurred_at: datetime | None
    ) -> Event:
        return self._perform(self._workflow.action(name), inp, at, actor, occurred_at=occurred_at)

    # -- the triggers (they move the case to another stage) ------------------------------------

    def start_introduction(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Begin the programme: the offender is sentenced and a lead facilitator assigned."""
        return self._do("start_introduction", NoInput(), at, actor, occurred_at)

    def start_preparation(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Move on to preparing offender and victim for a restorative activity."""
        return self._do("start_preparation", NoInput(), at, actor, occurred_at)

    def hold_conference(
        self,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
        victims: Sequence[str] = (),
        supporters: Sequence[str] | None = None,
    ) -> Event:
        """The conference takes place.  ``victims``: who meets the offender (default: every
        victim); ``supporters``: who accompanies them (default: every supporter of those
        present)."""
        inp = HoldConference(tuple(victims), tuple(supporters) if supporters is not None else None)
        return self._do("hold_conference", inp, at, actor, occurred_at)

    def choose_letter_of_apology(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """The victim does not wish to meet: the offender writes a letter of apology."""
        return self._do("choose_letter_of_apology", NoInput(), at, actor, occurred_at)

    def choose_shuttle_mediation(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """The victim does not wish to meet: the facilitator carries messages between them."""
        return self._do("choose_shuttle_mediation", NoInput(), at, actor, occurred_at)

    def start_reviews(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Move on to reviewing progress on what was agreed."""
        return self._do("start_reviews", NoInput(), at, actor, occurred_at)

    def complete(self, *, at: datetime, actor: str, occurred_at: datetime | None = None) -> Event:
        """The programme is complete: reviews held and every agreed action done."""
        return self._do("complete", NoInput(), at, actor, occurred_at)

    def close(
        self,
        *,
        reason: ClosureReason | str,
        at: datetime,
        actor: str,
        note: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Close the case early with a reason; ``note`` is required for ``OTHER``."""
        return self._do("close", Close(reason, note), at, actor, occurred_at)

    # -- record-keeping (the case stays at its stage) ------------------------------------------

    def record_sentence(
        self, *, sentenced_on: date, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Record the date the offender was sentenced."""
        return self._do("record_sentence", RecordSentence(sentenced_on), at, actor, occurred_at)

    def add_party(
        self,
        party: Victim | Supporter | Facilitator | Staff,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Add a victim, supporter, facilitator or member of staff who joins the case later.
        A participant joining is a material change: risk must be assessed again."""
        return self._do("add_party", AddParty(party), at, actor, occurred_at)

    def assign_lead_facilitator(
        self, facilitator: str, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Make one of the case's facilitators its lead."""
        return self._do(
            "assign_lead_facilitator", AssignLeadFacilitator(facilitator), at, actor, occurred_at
        )

    def record_session(
        self,
        *,
        duration: timedelta,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
        attendance: Attendance | str = Attendance.ATTENDED,
    ) -> Event:
        """Record a session of the current stage, held at ``at``.  A missed session has a
        duration of ``timedelta(0)``."""
        return self._do(
            "record_session", RecordSession(duration, attendance), at, actor, occurred_at
        )

    def give_information(
        self,
        party: str,
        activity: ContactActivity | str,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record that ``party`` was told about ``activity``, its outcomes and monitoring."""
        return self._do("give_information", ConsentInput(party, activity), at, actor, occurred_at)

    def record_consent(
        self,
        party: str,
        activity: ContactActivity | str,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record ``party``'s written, informed consent to ``activity``."""
        return self._do("record_consent", ConsentInput(party, activity), at, actor, occurred_at)

    def record_decline(
        self,
        party: str,
        activity: ContactActivity | str,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record that ``party`` declined ``activity``; they are not asked about it again."""
        return self._do("record_decline", ConsentInput(party, activity), at, actor, occurred_at)

    def withdraw_consent(
        self,
        party: str,
        activity: ContactActivity | str,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record that ``party`` withdrew consent to ``activity``; it is blocked at once."""
        return self._do("withdraw_consent", ConsentInput(party, activity), at, actor, occurred_at)

    def acknowledge_responsibility(
        self, *, guilty_plea: bool, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """The offender acknowledges the basic facts and takes responsibility."""
        inp = RecordAcknowledgement(guilty_plea)
        return self._do("acknowledge_responsibility", inp, at, actor, occurred_at)

    def assess_risk(
        self,
        outcome: RiskOutcome | str,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
        enhanced: bool = False,
        approved_by: str | None = None,
        subject: str | None = None,
    ) -> Event:
        """Record a suitability and risk assessment by ``actor`` (a facilitator); the latest is
        in force.  ``subject``: the participant assessed (None: the whole case; see
        ``Policy.risk_assessment_scope``).  ``approved_by`` is kept for saved cases: it must
        name a manager on the case other than ``actor``; prefer
        :meth:`approve_risk_assessment`, taken by the manager."""
        inp = AssessRisk(outcome, enhanced, approved_by, subject)
        return self._do("assess_risk", inp, at, actor, occurred_at)

    def draft_letter(
        self, victim: str, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """The offender has drafted a letter of apology to ``victim``."""
        return self._do("draft_letter", DraftLetter(victim), at, actor, occurred_at)

    def review_letter(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """The facilitator (``actor``) has reviewed the letter."""
        return self._do("review_letter", NoInput(), at, actor, occurred_at)

    def deliver_letter(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Deliver the reviewed letter to the victim, who agreed to receive it."""
        return self._do("deliver_letter", NoInput(), at, actor, occurred_at)

    def hold_letter_on_file(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Keep the reviewed letter on file without delivering it."""
        return self._do("hold_letter_on_file", NoInput(), at, actor, occurred_at)

    def record_shuttle_message(
        self,
        victim: str,
        direction: MessageDirection | str,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """The facilitator (``actor``) carried a message between the offender and ``victim``."""
        inp = RecordShuttleMessage(victim, direction)
        return self._do("record_shuttle_message", inp, at, actor, occurred_at)

    def propose_agreement(
        self,
        actions: Sequence[AgreementAction],
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Put an outcome agreement of SMART actions to the participants for signature."""
        return self._do(
            "propose_agreement", ProposeAgreement(tuple(actions)), at, actor, occurred_at
        )

    def sign_agreement(
        self, party: str, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """``party`` signs the outcome agreement."""
        return self._do("sign_agreement", SignAgreement(party), at, actor, occurred_at)

    def abandon_agreement(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Set aside an agreement that not everyone signed."""
        return self._do("abandon_agreement", NoInput(), at, actor, occurred_at)

    def record_progress(
        self,
        action_id: str,
        status: Any,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record progress on agreement action ``action_id`` at a review."""
        inp = RecordProgress(action_id, status)
        return self._do("record_progress", inp, at, actor, occurred_at)

    def record_feedback(
        self,
        party: str,
        *,
        satisfaction: int,
        things_changed: bool,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record ``party``'s evaluation: satisfaction 1-5 and whether things changed."""
        inp = RecordFeedback(party, satisfaction, things_changed)
        return self._do("record_feedback", inp, at, actor, occurred_at)

    # -- safeguarding (issue 14, D2) ---------------------------------------------------------

    def approve_risk_assessment(
        self,
        *,
        at: datetime,
        actor: str,
        subject: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Event:
        """``actor``, a manager on the case who did not make it, approves the enhanced risk
        assessment in force for ``subject`` (None: the case-wide one)."""
        inp = ApproveRiskAssessment(subject)
        return self._do("approve_risk_assessment", inp, at, actor, occurred_at)

    def record_new_information(
        self,
        *,
        at: datetime,
        actor: str,
        subject: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record that new information bearing on risk was received about ``subject`` (None:
        the whole case): a material change, so risk must be assessed again before further
        contact.  The information itself stays in the embedding application."""
        inp = RecordNewInformation(subject)
        return self._do("record_new_information", inp, at, actor, occurred_at)
