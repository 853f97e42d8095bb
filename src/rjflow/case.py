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

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, cast

import attrs

from rjflow._convert import input_value, unstructure
from rjflow._dependence import input_dependence
from rjflow._validate import _check_id, aware_datetime, collection
from rjflow.action_names import ActionName
from rjflow.activities import (
    ActionStatus,
    AgreementAction,
    Attendance,
    BreachOutcome,
    ClosureReason,
    ContactActivity,
    MessageDirection,
    RiskOutcome,
    VictimUpdateAbout,
)
from rjflow.blocker import Blocker
from rjflow.commands import (
    CONFERENCE_LENGTH,
    AcceptSupporter,
    Acting,
    AddParty,
    ApproveRiskAssessment,
    AssessRisk,
    AssignLeadFacilitator,
    Close,
    ConsentInput,
    DeclineAll,
    DraftLetter,
    HoldConference,
    InformVictim,
    Input,
    LetterInput,
    NoInput,
    OpenCase,
    ProposeAgreement,
    RecordAcknowledgement,
    RecordBreachOutcome,
    RecordFeedback,
    RecordFollowUp,
    RecordNewInformation,
    RecordProgress,
    RecordRequest,
    RecordSentence,
    RecordSession,
    RecordShuttleMessage,
    RecordVictimWishes,
    ReviewLetter,
    SignAgreement,
    VaryAgreement,
    WaiveAgreementAction,
)
from rjflow.deadlines import Obligation
from rjflow.deadlines import due as _due
from rjflow.effects import EFFECTS, open_record
from rjflow.errors import ActionRefused, InvalidInput
from rjflow.freetext import commit_free_text
from rjflow.history import GENESIS_HASH, Event
from rjflow.offences import Offence
from rjflow.parties import Facilitator, Offender, Party, Staff, Supporter, Victim
from rjflow.policy import LONDON_CRC, Policy
from rjflow.record import CaseRecord
from rjflow.states import ACTIONS, ActionDef, State
from rjflow.workflow import Workflow

__all__ = ["OPEN_ACTION", "Case", "Option"]

#: The action name of every case's first event.
OPEN_ACTION = "open_case"


@attrs.frozen
class Option:
    """One thing the case could do next, and whether it may: ``blockers`` is empty when it may.

    ``leads_to`` is the stage it moves the case to (None for record-keeping).
    ``depends_on`` names the input fields the action's rules still judge (a session's
    ``duration`` against the policy's maximum, the ``party`` who consents): an option is
    judged without an input, so when ``depends_on`` is not empty a form should check the
    input it is about to send with :meth:`Case.blockers` (``case.blockers(action, **input)``)
    before firing.  An allowed option with an empty ``depends_on`` is taken with any valid
    input.
    """

    action: ActionName
    summary: str
    leads_to: State | None
    blockers: tuple[Blocker, ...]
    depends_on: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        """True when nothing blocks the action."""
        return not self.blockers

    def to_json_dict(self, gettext: Callable[[str], str | None] | None = None) -> dict[str, Any]:
        """The option as JSON data: ``action``, ``summary``, ``leads_to`` (a stage value, or
        null for record-keeping), ``allowed``, ``blockers`` (each as
        :meth:`Blocker.to_json_dict <rjflow.Blocker.to_json_dict>`, their messages translated
        with ``gettext`` when given: see :mod:`rjflow.i18n`) and ``depends_on``."""
        return {
            "action": self.action,
            "summary": self.summary,
            "leads_to": None if self.leads_to is None else self.leads_to.value,
            "allowed": self.allowed,
            "blockers": [b.to_json_dict(gettext) for b in self.blockers],
            "depends_on": list(self.depends_on),
        }


@functools.cache
def _arguments(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names of an input class's arguments, and those of its required ones."""
    fields = [a for a in attrs.fields(cls) if a.init]
    return (
        tuple(a.name for a in fields),
        tuple(a.name for a in fields if a.default is attrs.NOTHING),
    )


def _input(action: ActionDef, data: dict[str, Any]) -> Input:
    """Build ``action``'s input from keyword arguments, typed or JSON-shaped, or raise
    InvalidInput.

    The message names the arguments the action takes and counts the ones it does not: an
    argument's name is caller text (``fire("record_session", **{"Jane Doe": 1})``) and is
    never repeated."""
    names, required = _arguments(action.input)
    unknown = sum(1 for key in data if key not in names)
    missing = [name for name in required if name not in data]
    if not unknown and not missing:
        # JSON-shaped values (from a form or a JSON API) are read by the converter that reads
        # the history; typed values go to the input class as they are.
        values = {key: input_value(action.input, key, value) for key, value in data.items()}
        built: Input = action.input(**values)
        return built
    takes = ", ".join(names) if names else "no arguments besides at and actor"
    problems = []
    if unknown:
        problems.append(f"{unknown} argument{'s' if unknown != 1 else ''} it does not take")
    if missing:
        problems.append(f"no {', '.join(missing)}")
    raise InvalidInput(f"{action.name} takes {takes}; it was given {' and '.join(problems)}.")


_P = ParamSpec("_P")


def _stage_first(
    method: Callable[Concatenate[Case, _P], Event],
) -> Callable[Concatenate[Case, _P], Event]:
    """A typed action method (named as its action) that judges the case's stage before it
    looks at its arguments: at a stage where the action cannot happen it raises
    :class:`~rjflow.ActionRefused` saying so, never an error about the input (issue 10)."""
    name = method.__name__
    if name not in ACTIONS:  # pragma: no cover - caught when the module is imported
        raise TypeError(f"{name} is not an action of the workflow table")

    @functools.wraps(method)
    def stage_first(self: Case, /, *args: _P.args, **kwargs: _P.kwargs) -> Event:
        at, actor, occurred_at = kwargs.get("at"), kwargs.get("actor"), kwargs.get("occurred_at")
        definition = self._workflow.action(name)
        act = self._refuse_if_unavailable(definition, at, actor, occurred_at)  # type: ignore[arg-type]
        # Who acts when and the stage are now checked: the method's own _do takes them as
        # checked when it is called for this action with these very arguments (once).
        self._checked = (definition, at, actor, occurred_at, act)
        try:
            return method(self, *args, **kwargs)
        finally:
            self._checked = None

    return stage_first


def _rebuild(
    cls: type[Case],
    record: CaseRecord,
    events: tuple[Event, ...],
    policy: Policy,
    migrated_from: dict[str, Any] | None = None,
) -> Case:
    """A case from its parts: how a pickled case is unpickled (a pickle made before the
    provenance was kept has four parts)."""
    case = cls(record, list(events), Workflow.for_policy(policy))
    case._migrated_from = dict(migrated_from) if migrated_from is not None else None
    return case


class Case:
    """A restorative justice case.

    Open one with :meth:`open`; load one with :func:`rjflow.serialization.loads`.  Ask it what may
    happen next (:meth:`options`, :meth:`can`, :meth:`blockers`) and change it only through its
    actions (:meth:`fire` or the typed methods such as :meth:`record_session`), each of which
    is checked against the programme's rules and appends one :class:`~rjflow.Event` to the
    history.  A refused or invalid action raises and leaves the case exactly as it was.

    A case can be copied (``copy.copy``, ``copy.deepcopy``) and pickled: the copy is an equal,
    independent case that keeps working.  A pickle holds the record, the history, the policy
    and the schema-migration provenance (:func:`rjflow.serialization.migrated_from`); the
    shared workflow is found again (or rebuilt) from the policy when unpickled.

    Two cases are equal when their records, histories, policies and migration provenance are:
    the provenance says which leading events were judged by an older release's rules, so two
    cases that differ in it judge their history differently and are not the same case.
    """

    __slots__ = ("__weakref__", "_checked", "_events", "_migrated_from", "_record", "_workflow")

    def __init__(self, record: CaseRecord, events: list[Event], workflow: Workflow) -> None:
        # Internal: use Case.open or rjflow.serialization (loads, from_dict, replay).
        self._record = record
        self._events = events
        self._workflow = workflow
        # Where a case loaded from an older schema came from (see rjflow.serialization).
        self._migrated_from: dict[str, Any] | None = None
        # Set by a typed action method while it runs: (action, at, actor, occurred_at, the
        # checked Acting), so that its _do does not check the same things twice.
        self._checked: tuple[ActionDef, object, object, object, Acting] | None = None

    # -- opening and rebuilding ----------------------------------------------------------------

    @classmethod
    def open(
        cls,
        case_id: str,
        *,
        offence: Offence,
        offender: str | Offender,
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

        Parties are given by opaque ids (``"V1"``), never names; an offender or victim who is
        under 18 or needs an interpreter is given as an ``Offender``/``Victim`` value.  ``at``
        is when the referral was received and must be timezone-aware; ``actor`` is who
        recorded it.  ``actor`` may be anyone with an id
        (the referral often arrives before any staff is on the case, e.g. at intake), but never
        a participant of the case being opened (:class:`~rjflow.InvalidInput`).  ``staff``: the
        case's managers and administrators (:class:`~rjflow.Staff`); facilitators are given in
        ``facilitators`` and the lead in ``lead_facilitator``.  Every later action is checked
        against the roles these give (see the workflow table's ``roles``).
        """
        if isinstance(victims, str | bytes | Mapping) or not isinstance(victims, Iterable):
            raise InvalidInput(
                "'victims' must be a list of ids, for example victims=['V1'] (got "
                f"{type(victims).__name__})."
            )
        parties: list[Party] = [offender if isinstance(offender, Offender) else Offender(offender)]
        parties += [v if isinstance(v, Victim) else Victim(v) for v in victims]
        parties += collection("supporters", supporters, "Supporter values")
        parties += collection("facilitators", facilitators, "Facilitator values")
        staff_members = collection("staff", staff, "Staff values")
        inp = OpenCase(
            offence, tuple(parties), sentenced_on, lead_facilitator, tuple(staff_members)
        )
        return cls._opened(case_id, inp, at, actor, policy)

    @classmethod
    def _opened(
        cls,
        case_id: str,
        inp: OpenCase,
        at: datetime,
        actor: str,
        policy: Policy,
        *,
        recorded: Event | None = None,
    ) -> Case:
        """The case opened by ``inp``.  ``recorded``: the stored opening event being replayed;
        its time is kept as written (the same instant, maybe another offset) so its hash
        still checks out, and its free text keeps its stored salts."""
        at = aware_datetime("at", at)
        _check_id("case_id", case_id)  # here: Case.open and every replayed history
        _check_id("actor", actor)
        if not isinstance(policy, Policy):
            raise InvalidInput(
                f"'policy' must be a Policy, for example Policy(max_sessions=8) "
                f"(got {type(policy).__name__})."
            )
        if inp.staff is not None and any(
            p.id == actor and not isinstance(p, Facilitator) for p in inp.parties
        ):
            raise InvalidInput(
                "The referral is recorded by a member of staff, never by a participant of the "
                "case (the offender, a victim or a supporter); give the id of the person who "
                "recorded it as actor."
            )
        data, texts = commit_free_text(inp, unstructure(inp, OpenCase), recorded)
        event = Event.create(
            sequence=1,
            at=recorded.at
            if recorded is not None and aware_datetime("at", recorded.at) == at
            else at,
            actor=actor,
            action=OPEN_ACTION,
            data={"case_id": case_id, **data},
            from_state=None,
            to_state=State.REFERRED.value,
            previous_hash=GENESIS_HASH,
            texts=texts,
        )
        return cls(open_record(case_id, inp, at), [event], Workflow.for_policy(policy))

    # -- what the case is ----------------------------------------------------------------------

    @property
    def case_id(self) -> str:
        """The case's opaque id."""
        return self._record.case_id

    @property
    def state(self) -> State:
        """The stage the case is at.  To check it before and after an action, use
        :meth:`is_at` (a type checker would remember the first comparison)."""
        return self._record.state

    def is_at(self, *stages: State) -> bool:
        """True when the case is at one of ``stages``.

        Prefer it to comparing :attr:`state` when you check the stage both before and after
        an action: a type checker remembers what ``case.state is State.REFERRED`` told it and
        cannot know that an action changed the stage, so a later ``case.state is
        State.INTRODUCTION`` is reported as a comparison that can never be true (mypy's
        "non-overlapping identity check").  A method's answer is never remembered:

        >>> from datetime import datetime, timezone
        >>> from rjflow import Case, Offence, OffenceCategory, State
        >>> case = Case.open("RJ-1", offence=Offence(OffenceCategory.THEFT), offender="O1",
        ...     victims=["V1"], at=datetime(2026, 3, 2, tzinfo=timezone.utc), actor="F1")
        >>> case.is_at(State.REFERRED), case.is_at(State.COMPLETED, State.CLOSED)
        (True, False)
        """
        for stage in stages:
            if not isinstance(stage, State):
                raise InvalidInput(
                    f"'stages' must be State values, for example State.REFERRED (got "
                    f"{type(stage).__name__})."
                )
        return self._record.state in stages

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
        """False once the case is completed or closed; it then accepts only the record-keeping
        of :data:`~rjflow.states.EVALUATION_ACTIONS` (feedback, follow-up, informing the victim
        of the conclusion, a participant's withdrawal or decline, and delivering a letter held
        on file with the victim's consent)."""
        return self._record.is_open

    def to_json_dict(self) -> dict[str, Any]:
        """A summary of the case as JSON data, for a list or a case page: ``case_id``,
        ``state`` (the stage's value) and ``stage`` (as a caseworker says it), ``version``,
        ``is_open``, ``opened_at`` and ``updated_at`` (ISO 8601 text), ``policy`` (its name)
        and ``closure_reason`` (the reason's value once closed, else null).  The whole case is
        :func:`rjflow.serialization.to_dict`; what may happen next is :meth:`options`."""
        rec = self._record
        return {
            "case_id": rec.case_id,
            "state": rec.state.value,
            "stage": rec.state.label,
            "version": self.version,
            "is_open": rec.is_open,
            "opened_at": rec.opened_at.isoformat(),
            "updated_at": rec.updated_at.isoformat(),
            "policy": self.policy.name,
            "closure_reason": None if rec.closure is None else rec.closure.reason.value,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Case):
            return NotImplemented
        return (
            self._record == other._record
            and self._events == other._events
            and self.policy == other.policy
            and self._migrated_from == other._migrated_from
        )

    __hash__ = None  # type: ignore[assignment]  # a case changes, so it is not hashable

    # -- copying and pickling --------------------------------------------------------------------
    # A case's record and events are immutable values and its workflow is shared per policy,
    # so a copy needs only its own list of events to be independent of the original.  A
    # pickle holds the record, the events and the policy; the workflow (and its transitions
    # machine) is rebuilt from the policy when unpickled.

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (type(self), self._record, tuple(self._events), self.policy, self._migrated_from),
        )

    def __copy__(self) -> Case:
        copied = type(self)(self._record, list(self._events), self._workflow)
        if self._migrated_from is not None:
            copied._migrated_from = dict(self._migrated_from)
        return copied

    def __deepcopy__(self, _memo: dict[int, Any]) -> Case:
        return self.__copy__()

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
        (none when it is allowed).  Once the case is completed or closed, only the evaluation
        actions (record feedback, record follow up, inform victim) are offered.

        ``at``: when the actions would be taken (default: the time of the case's last change;
        rules that depend on time, such as an assessment's expiry, are judged then).
        ``actor``: who would take them (default: not judged).
        """
        rec = self._record
        wf = self._workflow
        act = self._acting(at, actor)
        return tuple(
            Option(
                cast(ActionName, a.name),  # the table's names are ActionName's (a test checks)
                a.summary,
                a.dest,
                tuple(wf.blockers(rec, a, None, act)),
                input_dependence(a),
            )
            for a in wf.actions.values()
            if rec.state in a.sources
        )

    def blockers(
        self,
        action: ActionName,
        *,
        at: datetime | None = None,
        actor: str | None = None,
        occurred_at: datetime | None = None,
        **data: Any,
    ) -> tuple[Blocker, ...]:
        """Every reason ``action`` (with the input ``data``) is not allowed now; empty if it is.

        This is how a form checks a proposed input without changing anything: pass the input
        you would fire with — typed, or as the JSON a form sends (see :mod:`rjflow.forms`) —
        and show the blockers beside the form.  Without ``data`` the rules that depend on the
        input (a session's length, say; :attr:`Option.depends_on` names them) are not judged,
        except for an action whose input has a default for every field (such as
        ``hold_conference``): it is judged with those defaults, as :meth:`fire` would take it.
        ``at`` and ``actor`` as for :meth:`options`; ``occurred_at`` as for :meth:`fire`.

        The stage is judged first: at a stage where the action cannot happen the answer is
        that one blocker, whatever ``data`` holds.  Raises :class:`~rjflow.UnknownAction` for
        an action the workflow does not have and :class:`~rjflow.InvalidInput` for malformed
        ``data``.
        """
        definition = self._workflow.action(action)
        act = self._acting(at, actor, occurred_at)
        unavailable = self._workflow._unavailable(self._record, definition)
        if unavailable is not None:  # the stage before the shape of the input
            return (unavailable,)
        inp = _input(definition, data) if data else None
        return tuple(self._workflow.blockers(self._record, definition, inp, act))

    def can(
        self,
        action: ActionName,
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
        elif not self.is_open:
            lines.append("It has ended; it accepts only these evaluation actions:")
        for opt in options:
            mark = "yes" if opt.allowed else "no "
            lines.append(f"  [{mark}] {opt.action}: {opt.summary}")
            lines += [f"          - {b.message}" for b in opt.blockers]
        return "\n".join(lines)

    # -- acting --------------------------------------------------------------------------------

    def fire(
        self,
        action: ActionName,
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

        ``action`` is an :data:`~rjflow.ActionName` (a misspelled name fails type checking;
        check text from a form with :func:`rjflow.action_name`).  The input is given typed
        (``duration=timedelta(hours=2)``) or as the JSON a form sends
        (``duration="PT2H"``; see :mod:`rjflow.forms`); the typed methods such as
        :meth:`record_session` type every argument.

        Returns the new event.  Raises :class:`~rjflow.ActionRefused` listing every blocker
        when the rules do not allow it — at a stage where the action cannot happen, that one
        blocker, before the input is looked at — or :class:`~rjflow.InvalidInput` when
        ``at``, ``actor``, ``occurred_at`` or the input is malformed (the message names the
        field, never its value); either way the case is unchanged.
        """
        definition = self._workflow.action(action)
        # Who and when, then the stage, then the shape of the input.
        self._refuse_if_unavailable(definition, at, actor, occurred_at)
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
        judged: bool = True,
        occurred_at: datetime | None = None,
        checked: Acting | None = None,
    ) -> Event:
        """Check, apply and record one action.  ``recorded``: the stored event being replayed,
        whose hash was already verified; it is reused when it says what this action does.
        ``judged=False``: an event carried over from an older schema, applied as recorded
        (see :meth:`rjflow.workflow.Workflow.dispatch`).  ``checked``: who acts when, already
        checked together with the action's stage by :meth:`_refuse_if_unavailable`."""
        act = self._when(at, actor, occurred_at) if checked is None else checked
        at, occurred_at = act.at, act.occurred_at
        rec = self._record
        state, blockers = self._workflow.dispatch(
            rec, action, inp, act, judged=judged, available=checked is not None
        )
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
            # Free text is committed to, not hashed; a replayed event keeps its stored salts.
            data, texts = commit_free_text(inp, unstructure(inp, action.input), recorded)
            event = Event.create(
                sequence=version,
                at=at,
                actor=actor,
                action=action.name,
                data=data,
                from_state=from_state,
                to_state=to_state,
                previous_hash=previous_hash,
                texts=texts,
                occurred_at=occurred_at,
            )
        # Nothing below can fail: the case changes whole or not at all.
        self._record = new
        self._events.append(event)
        return event

    def _append_erasure(self, event: Event) -> None:
        """Append an already checked ``erase_free_text`` event (see :mod:`rjflow.erasure`): it
        changes no stage and no fact, only the version and the time of the last change."""
        rec = self._record
        self._record = rec.updated(version=rec.version + 1, updated_at=event.at)
        self._events.append(event)

    def _do(
        self,
        name: str,
        inp: Input,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        checked, self._checked = self._checked, None
        if (
            checked is not None
            and checked[0].name == name
            and checked[1] is at
            and checked[2] is actor
            and checked[3] is occurred_at
        ):
            # A typed method's own action, with the arguments its stage check already judged.
            return self._perform(
                checked[0], inp, at, actor, occurred_at=occurred_at, checked=checked[4]
            )
        return self._perform(self._workflow.action(name), inp, at, actor, occurred_at=occurred_at)

    def _when(self, at: datetime, actor: str, occurred_at: datetime | None) -> Acting:
        """Who acts when, checked: ``at`` timezone-aware and not before the case's last
        change, ``actor`` an id, ``occurred_at`` as :meth:`_occurred` checks it."""
        at = aware_datetime("at", at)
        _check_id("actor", actor)
        rec = self._record
        if at < rec.updated_at:
            raise InvalidInput(
                f"'at' ({at.isoformat()}) is earlier than the case's last change "
                f"({rec.updated_at.isoformat()}); record changes in the order they happened. "
                "To record something that happened earlier, give occurred_at."
            )
        return Acting(at, actor, self._occurred(at, occurred_at))

    def _refuse_if_unavailable(
        self, definition: ActionDef, at: datetime, actor: str, occurred_at: datetime | None
    ) -> Acting:
        """Raise ActionRefused when ``definition`` cannot happen at the case's stage (or the
        service does not offer it), before its input is looked at (issue 10: a closed case
        says it is closed, whatever the arguments).  Who acts when is checked first, as
        :meth:`blockers` checks it; returns it."""
        act = self._when(at, actor, occurred_at)
        unavailable = self._workflow._unavailable(self._record, definition)
        if unavailable is not None:
            raise ActionRefused(
                case_id=self.case_id,
                state=self.state.value,
                action=definition.name,
                blockers=(unavailable,),
            )
        return act

    # -- the triggers (they move the case to another stage) ------------------------------------

    @_stage_first
    def start_introduction(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Begin the programme: the offender is sentenced and a lead facilitator assigned."""
        return self._do("start_introduction", NoInput(), at, actor, occurred_at)

    @_stage_first
    def start_preparation(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Move on to preparing offender and victim for a restorative activity."""
        return self._do("start_preparation", NoInput(), at, actor, occurred_at)

    @_stage_first
    def hold_conference(
        self,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
        victims: Sequence[str] = (),
        supporters: Sequence[str] | None = None,
        duration: timedelta = CONFERENCE_LENGTH,
    ) -> Event:
        """The conference takes place.  ``victims``: who meets the offender (default: every
        victim); ``supporters``: who accompanies them (default: every supporter of those
        present); ``duration``: how long it lasted (default three hours).  The conference is
        recorded as its own conference session: it counts towards the programme's sessions
        and may last at most ``Policy.max_session_length``."""
        inp = HoldConference(victims, supporters, duration)  # its converters refuse a str
        return self._do("hold_conference", inp, at, actor, occurred_at)

    @_stage_first
    def choose_letter_of_apology(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """The victim does not wish to meet: the offender writes a letter of apology."""
        return self._do("choose_letter_of_apology", NoInput(), at, actor, occurred_at)

    @_stage_first
    def choose_shuttle_mediation(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """The victim does not wish to meet: the facilitator carries messages between them."""
        return self._do("choose_shuttle_mediation", NoInput(), at, actor, occurred_at)

    @_stage_first
    def start_reviews(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Move on to reviewing progress on what was agreed."""
        return self._do("start_reviews", NoInput(), at, actor, occurred_at)

    @_stage_first
    def complete(self, *, at: datetime, actor: str, occurred_at: datetime | None = None) -> Event:
        """The programme is complete: reviews held and every agreed action has a final status
        (done, not complied with, or waived).  The closure records the agreement's outcome
        (fulfilled, partly or not fulfilled) and the kind of RJ delivered; failing an action
        never leads to enforcement."""
        return self._do("complete", NoInput(), at, actor, occurred_at)

    @_stage_first
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

    @_stage_first
    def record_sentence(
        self, *, sentenced_on: date, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Record the date the offender was sentenced."""
        return self._do("record_sentence", RecordSentence(sentenced_on), at, actor, occurred_at)

    @_stage_first
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

    @_stage_first
    def assign_lead_facilitator(
        self, facilitator: str, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Make one of the case's facilitators its lead."""
        return self._do(
            "assign_lead_facilitator", AssignLeadFacilitator(facilitator), at, actor, occurred_at
        )

    @_stage_first
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

    @_stage_first
    def give_information(
        self,
        party: str,
        activity: ContactActivity | str,
        *,
        at: datetime,
        actor: str,
        interpreter_provided: bool = False,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record that ``party`` was told about ``activity``, its outcomes and monitoring.
        ``interpreter_provided``: an interpreter was there (required for a party who needs
        one)."""
        inp = ConsentInput(party, activity, interpreter_provided)
        return self._do("give_information", inp, at, actor, occurred_at)

    @_stage_first
    def record_consent(
        self,
        party: str,
        activity: ContactActivity | str,
        *,
        at: datetime,
        actor: str,
        interpreter_provided: bool = False,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record ``party``'s written, informed consent to ``activity``.
        ``interpreter_provided``: an interpreter was there (required for a party who needs
        one)."""
        inp = ConsentInput(party, activity, interpreter_provided)
        return self._do("record_consent", inp, at, actor, occurred_at)

    @_stage_first
    def record_decline(
        self,
        party: str,
        activity: ContactActivity | str,
        *,
        at: datetime,
        actor: str,
        interpreter_provided: bool = False,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record that ``party`` declined ``activity``; the service does not ask them about it
        again.  They may come back themselves later: see :meth:`record_request`."""
        inp = ConsentInput(party, activity, interpreter_provided)
        return self._do("record_decline", inp, at, actor, occurred_at)

    @_stage_first
    def withdraw_consent(
        self,
        party: str,
        activity: ContactActivity | str,
        *,
        at: datetime,
        actor: str,
        interpreter_provided: bool = False,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record that ``party`` withdrew consent to ``activity``; it is blocked at once."""
        inp = ConsentInput(party, activity, interpreter_provided)
        return self._do("withdraw_consent", inp, at, actor, occurred_at)

    @_stage_first
    def acknowledge_responsibility(
        self, *, guilty_plea: bool, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """The offender acknowledges the basic facts and takes responsibility."""
        inp = RecordAcknowledgement(guilty_plea)
        return self._do("acknowledge_responsibility", inp, at, actor, occurred_at)

    @_stage_first
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

    @_stage_first
    def draft_letter(
        self, victim: str, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """The offender has drafted a letter of apology to ``victim``."""
        return self._do("draft_letter", DraftLetter(victim), at, actor, occurred_at)

    @_stage_first
    def review_letter(
        self,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
        victim: str | None = None,
        approved: bool = True,
    ) -> Event:
        """The facilitator (``actor``) reviewed the letter to ``victim`` (None: the case's only
        letter): approved it, or (``approved=False``) returned it for a redraft."""
        return self._do("review_letter", ReviewLetter(victim, approved), at, actor, occurred_at)

    @_stage_first
    def deliver_letter(
        self,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
        victim: str | None = None,
    ) -> Event:
        """Deliver the approved letter to ``victim`` (None: the case's only letter), who agreed
        to receive it; a letter held on file can be delivered later, also at the review
        stage."""
        return self._do("deliver_letter", LetterInput(victim), at, actor, occurred_at)

    @_stage_first
    def hold_letter_on_file(
        self,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
        victim: str | None = None,
    ) -> Event:
        """Keep the approved letter to ``victim`` (None: the case's only letter) on file
        without delivering it; it can be delivered later if the victim asks."""
        return self._do("hold_letter_on_file", LetterInput(victim), at, actor, occurred_at)

    @_stage_first
    def record_shuttle_message(
        self,
        victim: str,
        direction: MessageDirection | str,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
        vetted: bool = True,
    ) -> Event:
        """The facilitator (``actor``) carried a message between the offender and ``victim``,
        having checked it first (``vetted``; a message not checked is refused)."""
        inp = RecordShuttleMessage(victim, direction, vetted)
        return self._do("record_shuttle_message", inp, at, actor, occurred_at)

    @_stage_first
    def propose_agreement(
        self,
        actions: Sequence[AgreementAction],
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Put an outcome agreement of SMART actions to the participants for signature."""
        return self._do("propose_agreement", ProposeAgreement(actions), at, actor, occurred_at)

    @_stage_first
    def sign_agreement(
        self, party: str, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """``party`` signs the outcome agreement."""
        return self._do("sign_agreement", SignAgreement(party), at, actor, occurred_at)

    @_stage_first
    def abandon_agreement(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Set aside an agreement that not everyone signed."""
        return self._do("abandon_agreement", NoInput(), at, actor, occurred_at)

    @_stage_first
    def record_progress(
        self,
        action_id: str,
        status: ActionStatus | str,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record progress on agreement action ``action_id`` at a review."""
        inp = RecordProgress(action_id, status)
        return self._do("record_progress", inp, at, actor, occurred_at)

    @_stage_first
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

    # -- agreement, enforcement and evaluation (issue 14) --------------------------------------

    @_stage_first
    def vary_agreement(
        self,
        actions: Sequence[AgreementAction],
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Vary a signed outcome agreement with the parties: ``actions`` are its new terms
        (progress already recorded on an action id that stays is kept).  The signatures are
        cleared; the agreement binds again once every signatory signed the new terms."""
        return self._do("vary_agreement", VaryAgreement(tuple(actions)), at, actor, occurred_at)

    @_stage_first
    def waive_agreement_action(
        self, action_id: str, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Set aside agreement action ``action_id``, agreed with the parties at a review while
        the agreement binds; a waived action counts as settled, never as a failure."""
        return self._do(
            "waive_agreement_action", WaiveAgreementAction(action_id), at, actor, occurred_at
        )

    @_stage_first
    def record_breach_outcome(
        self,
        outcome: BreachOutcome | str,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record the court's outcome of a referral for breach: ``order_continues`` (the
        programme resumes) or ``order_revoked`` (close the case with the reason
        ``enforcement``)."""
        return self._do(
            "record_breach_outcome", RecordBreachOutcome(outcome), at, actor, occurred_at
        )

    @_stage_first
    def record_victim_wishes(
        self,
        victim: str,
        *,
        keep_informed: bool,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record whether ``victim`` wishes to be kept informed; when they do, they must be
        told of the conclusion before the case completes."""
        inp = RecordVictimWishes(victim, keep_informed)
        return self._do("record_victim_wishes", inp, at, actor, occurred_at)

    @_stage_first
    def inform_victim(
        self,
        victim: str,
        *,
        about: VictimUpdateAbout | str,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Record that ``victim`` was told about ``progress`` or about the ``conclusion``
        (the conclusion also after the case ended)."""
        return self._do("inform_victim", InformVictim(victim, about), at, actor, occurred_at)

    @_stage_first
    def record_follow_up(
        self, party: str, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Record follow-up contact with ``party`` after the activity (also after the end)."""
        return self._do("record_follow_up", RecordFollowUp(party), at, actor, occurred_at)

    # -- change of mind and supporters (issue 14) ----------------------------------------------

    @_stage_first
    def record_request(
        self,
        party: str,
        activity: ContactActivity | str | None = None,
        *,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Event:
        """``party`` came back themselves and asked for ``activity`` (None: for restorative
        justice in general).  The request lifts their earlier decline of that activity (of
        every activity, when general); a victim's request is a victim-initiated request, which
        the request-only offences wait for.  Any open stage."""
        return self._do("record_request", RecordRequest(party, activity), at, actor, occurred_at)

    @_stage_first
    def accept_supporter(
        self,
        supporter: str,
        *,
        by: str,
        at: datetime,
        actor: str,
        occurred_at: datetime | None = None,
        accepted: bool = True,
    ) -> Event:
        """Party ``by`` (on the side ``supporter`` does not support) accepts the supporter at
        the meeting, or with ``accepted=False`` no longer does; the latest answer is in
        force."""
        inp = AcceptSupporter(supporter, by, accepted)
        return self._do("accept_supporter", inp, at, actor, occurred_at)

    # -- safeguarding (issue 14, D2) ---------------------------------------------------------

    @_stage_first
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

    @_stage_first
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

    # -- deadlines (issue 13) --------------------------------------------------------------------

    def due(self, at: datetime) -> tuple[Obligation, ...]:
        """Every dated obligation of the case at ``at`` (timezone-aware), earliest first: the
        next review, agreement actions, reassessment of risk, first contact with each victim,
        no activity, the enforcement window.  Empty once the case has ended.  See
        :func:`rjflow.deadlines.due`; the rules are in docs/reporting.md."""
        return _due(self, at)

    # -- issue 14 fixes (rules) --

    @_stage_first
    def withdraw_variation(
        self, *, at: datetime, actor: str, occurred_at: datetime | None = None
    ) -> Event:
        """Not every signatory signs the varied terms: set the variation aside.  The signed
        terms it would have replaced stay in force (their actions keep the status they had),
        so the case goes on under them.  Refused when no varied terms await a signature."""
        return self._do("withdraw_variation", NoInput(), at, actor, occurred_at)

    @_stage_first
    def decline_all(
        self,
        party: str,
        *,
        at: datetime,
        actor: str,
        interpreter_provided: bool = False,
        occurred_at: datetime | None = None,
    ) -> Event:
        """``party`` declines restorative justice altogether and does not want to be approached
        again: every activity they could take part in is declined (any consent in force is
        withdrawn with it).  Recorded also after the case ended.  They may still come back
        themselves: their request (:meth:`record_request`) lifts it.  A withdrawal
        (:meth:`withdraw_consent`) is not this: the service may ask again later."""
        inp = DeclineAll(party, interpreter_provided)
        return self._do("decline_all", inp, at, actor, occurred_at)
