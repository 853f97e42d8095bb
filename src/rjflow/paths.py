"""Test paths computed from the workflow table (model-based testing, as @xstate/graph does).

Each :class:`Path` is a list of :class:`Step` s (an action, its keyword input, the actor) from
a freshly opened case (:data:`OPENING`), which an application's test runs against its own UI
or API; :func:`run_path` runs one against rjflow itself.

- :func:`cover_stages`: the shortest path to every stage the policy offers;
- :func:`cover_edges`: for every action edge of the table (an action at one of its source
  stages), a path that takes it;
- :func:`cover_guards`: for every rule (guard), a path ending in an action it **blocks** (the
  last step is refused, by that rule among others) and one in which it **passes** (the last
  step is an accepted action that runs it).

The stage routes come from the table (breadth-first over the stage-changing actions of
:class:`~rjflow.workflow.Workflow`); the steps that satisfy each rule on the way are found by
asking the case for its blockers and taking, for each, the step a caseworker would take
(record the sentence, an attended session, information and consent, a favourable risk
assessment, ...).  A path is kept only after it has run against rjflow; :class:`Coverage`
counts what was covered out of what is possible under the policy, lists the targets no new
case can show with the reason (derived from the rules' declared scope,
:mod:`rjflow.rule_scope`, never listed here), and names every possible target left
uncovered, so a gap is visible, never hidden.

>>> from rjflow import Policy
>>> paths, coverage = cover_stages(Policy())
>>> [p.goal for p in paths][:3]
['stage referred', 'stage introduction', 'stage preparation']
>>> coverage.covered == coverage.total
True
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any

import attrs

from rjflow.action_names import action_name
from rjflow.activities import (
    ActionStatus,
    AgreementAction,
    ClosureReason,
    ContactActivity,
    MessageDirection,
    RiskOutcome,
    VictimUpdateAbout,
)
from rjflow.blocker import Blocker
from rjflow.case import Case
from rjflow.errors import ActionRefused, InvalidInput
from rjflow.offences import Offence, OffenceCategory
from rjflow.parties import Facilitator, PractitionerLevel, Staff, StaffRole, Supporter, Victim
from rjflow.policy import EXAMPLES, LONDON_CRC, Policy, RiskScope, example_policy
from rjflow.policy_check import fewest_sessions_to_complete
from rjflow.rule_scope import dead_edges, impossible_outcomes
from rjflow.rules import GUARDS
from rjflow.rules.roles import ROLE_RULE
from rjflow.states import ActionDef, State
from rjflow.workflow import Workflow

__all__ = [
    "COVERS",
    "OPENING",
    "Coverage",
    "Path",
    "Step",
    "cover_edges",
    "cover_guards",
    "cover_stages",
    "open_case",
    "run_path",
]

#: When a path's case is opened; step ``i`` happens ``i`` hours later.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

_SPECIALISMS = frozenset(c.value for c in OffenceCategory)

#: The case every path starts from (keyword arguments of :meth:`rjflow.Case.open`, without
#: ``at`` and ``policy``): a household burglary with one victim, a supporter, an advanced lead
#: facilitator trained in every area, a foundation co-facilitator and a manager.
OPENING: Mapping[str, Any] = MappingProxyType(
    {
        "case_id": "P1",
        "offence": Offence(OffenceCategory.HOUSEHOLD_BURGLARY),
        "offender": "O1",
        "victims": (Victim("V1"),),
        "supporters": (Supporter("S1", supports="V1"),),
        "facilitators": (
            Facilitator("F1", PractitionerLevel.ADVANCED, _SPECIALISMS),
            Facilitator("F2", PractitionerLevel.FOUNDATION),
        ),
        "lead_facilitator": "F1",
        "staff": (Staff("M1", StaffRole.MANAGER),),
        "sentenced_on": None,
        "actor": "F1",
    }
)


@attrs.frozen
class Step:
    """One step of a path: ``action`` taken by ``actor`` with keyword ``input`` (as
    :meth:`rjflow.Case.fire` takes it)."""

    action: str
    input: Mapping[str, Any]
    actor: str

    def __str__(self) -> str:
        args = ", ".join(f"{k}={_shown(v)}" for k, v in self.input.items())
        return f"{self.action}({args}) by {self.actor}"


def _shown(value: object) -> str:
    if isinstance(value, Offence):
        return f"Offence({value.category.value!r}, ongoing_contact={value.ongoing_contact})"
    if isinstance(value, Victim | Supporter | Facilitator):
        return f"{type(value).__name__}({value.id!r})"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, AgreementAction):
        return f"AgreementAction({value.id!r})"
    if hasattr(value, "value") and not isinstance(value, timedelta | date):
        return repr(value.value)
    return repr(value) if not isinstance(value, timedelta) else f"{value.total_seconds():g}s"


@attrs.frozen
class Path:
    """A path: its ``goal`` (``"stage review"``, ``"edge hold_conference@preparation"``,
    ``"guard X blocks"``/``"guard X passes"``) and its ``steps`` from :data:`OPENING`.  When
    ``refused_by`` is set, the last step is expected to be refused, that rule among the
    reasons; every other step is accepted."""

    goal: str
    steps: tuple[Step, ...]
    refused_by: str | None = None
    #: What the case's opening changes from :data:`OPENING` (a sensitive offence, say).
    opening: Mapping[str, Any] = attrs.field(factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.goal} ({len(self.steps)} steps):"]
        if self.opening:
            changed = ", ".join(f"{k}={_shown(v)}" for k, v in self.opening.items())
            lines.append(f"  0. open_case with {changed}")
        for number, step in enumerate(self.steps, 1):
            last = number == len(self.steps) and self.refused_by is not None
            lines.append(
                f"  {number}. {step}" + (f"  -> refused by {self.refused_by}" if last else "")
            )
        return "\n".join(lines)


@attrs.frozen
class Coverage:
    """What a set of paths covers, of ``total`` targets (stages, ``action@stage`` edges or
    ``guard:blocks``/``guard:passes``): ``covered`` of them; the ``impossible`` ones, which no
    new case can show under the policy, each with the reason (derived by
    :mod:`rjflow.rule_scope`, never listed by hand); and the ``missing`` ones, possible but
    not covered (a gap of the generator, shown rather than hidden).  Coverage is stated as
    covered of ``possible``."""

    covered: int
    total: int
    missing: tuple[str, ...] = ()
    impossible: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def possible(self) -> int:
        """The targets some new case can show under the policy."""
        return self.total - len(self.impossible)

    def __str__(self) -> str:
        return f"{self.covered}/{self.possible}"


def open_case(policy: Policy = LONDON_CRC, opening: Mapping[str, Any] | None = None) -> Case:
    """The case every path starts from (:data:`OPENING`, changed by ``opening``), under
    ``policy``."""
    return Case.open(at=START, policy=policy, **{**OPENING, **(opening or {})})


def run_path(path: Path, policy: Policy = LONDON_CRC) -> Case:
    """Run ``path`` against rjflow: each step fired in order, an hour apart.  Returns the case;
    raises :class:`~rjflow.ActionRefused` when a step is refused that should not be, and
    ``AssertionError`` when the last step of a blocking path is accepted or refused for
    other reasons only."""
    case = open_case(policy, path.opening)
    for number, step in enumerate(path.steps, 1):
        at = START + timedelta(hours=number)
        last = number == len(path.steps)
        if last and path.refused_by is not None:
            blockers = case.blockers(
                action_name(step.action), at=at, actor=step.actor, **step.input
            )
            assert any(b.guard == path.refused_by for b in blockers), (path.goal, blockers)
            return case
        case.fire(action_name(step.action), at=at, actor=step.actor, **step.input)
    return case


# -- driving a case, the way a caseworker would ----------------------------------------------

_ACTIVITY_OF = {
    "hold_conference": ContactActivity.FACE_TO_FACE,
    "choose_shuttle_mediation": ContactActivity.SHUTTLE,
    "record_shuttle_message": ContactActivity.SHUTTLE,
    "deliver_letter": ContactActivity.RECEIVE_LETTER,
    "record_session": ContactActivity.FACE_TO_FACE,
    "sign_agreement": ContactActivity.FACE_TO_FACE,
}
_DEADLINE = date(2026, 12, 1)


def _default_input(action: str, case: Case) -> dict[str, Any]:
    """The input a caseworker would give ``action`` on ``case`` (``{}`` for none)."""
    rec = case.record
    agreement_ids = [a.id for a in rec.agreement.actions] if rec.agreement else ["A1"]
    consent = {"party": "V1", "activity": ContactActivity.RECEIVE_LETTER}
    # A consent in force to withdraw: to receive the letter, else to meet.
    withdrawn = consent
    if not rec.consents_to("V1", ContactActivity.RECEIVE_LETTER) and rec.consents_to(
        "V1", ContactActivity.FACE_TO_FACE
    ):
        withdrawn = {"party": "V1", "activity": ContactActivity.FACE_TO_FACE}
    about = VictimUpdateAbout.PROGRESS if case.is_open else VictimUpdateAbout.CONCLUSION
    length = min(timedelta(hours=2), case.policy.max_session_length)
    table: dict[str, dict[str, Any]] = {
        # The input is given in full: a rule on an input with a default (the conference's
        # length) is judged only when the input is given.
        "hold_conference": {"duration": length},
        "close": {"reason": ClosureReason.OFFENDER_WITHDREW},
        "record_sentence": {"sentenced_on": date(2026, 2, 1)},
        "add_party": {"party": Victim("V2")},
        "assign_lead_facilitator": {"facilitator": "F1"},
        "record_session": {"duration": length},
        "give_information": consent,
        "record_consent": consent,
        "record_decline": consent,
        "withdraw_consent": withdrawn,
        "acknowledge_responsibility": {"guilty_plea": True},
        "assess_risk": {"outcome": RiskOutcome.FAVOURABLE, "enhanced": True},
        "draft_letter": {"victim": "V1"},
        "review_letter": {"victim": "V1"},
        "deliver_letter": {"victim": "V1"},
        "hold_letter_on_file": {"victim": "V1"},
        "record_shuttle_message": {"victim": "V1", "direction": MessageDirection.TO_VICTIM},
        "propose_agreement": {
            "actions": [AgreementAction("A1", "Repair the fence", "O1", _DEADLINE)]
        },
        "vary_agreement": {"actions": [AgreementAction("A1", "Paint the fence", "O1", _DEADLINE)]},
        "sign_agreement": {"party": "O1"},
        "record_progress": {"action_id": agreement_ids[0], "status": ActionStatus.DONE},
        "waive_agreement_action": {"action_id": agreement_ids[0]},
        "record_feedback": {"party": "V1", "satisfaction": 4, "things_changed": True},
        "record_breach_outcome": {"outcome": "order_continues"},
        "record_victim_wishes": {"victim": "V1", "keep_informed": True},
        "inform_victim": {"victim": "V1", "about": about},
        "record_follow_up": {"party": "V1"},
        "record_request": {"party": "V1"},
        "accept_supporter": {"supporter": "S1", "by": "O1"},
        "record_new_information": {},
        "approve_risk_assessment": {},
        "decline_all": {"party": "V1"},
    }
    return dict(table.get(action, {}))


def _actor(action: ActionDef) -> str:
    staff = {StaffRole.FACILITATOR, StaffRole.LEAD_FACILITATOR}
    return "F1" if action.roles & staff else "M1"


def _fix(  # noqa: PLR0912 - one answer per blocker code, read as a list
    case: Case, action: str, data: Mapping[str, Any], blocker: Blocker
) -> tuple[str, dict[str, Any]] | None:
    """The step a caseworker takes to clear ``blocker`` on the way to ``action`` with input
    ``data``, if any."""
    rec = case.record
    code, subject = blocker.code, blocker.subject
    asked = {k: data[k] for k in ("party", "activity") if k in data}
    if code == "information_not_given" and len(asked) == 2:
        return "give_information", asked
    if code == "no_consent_to_withdraw" and len(asked) == 2:
        return "record_consent", asked
    if code == "no_agreement":
        return "propose_agreement", _default_input("propose_agreement", case)
    if code == "agreement_not_signed_yet":
        now = case.history[-1].at
        for party in ("O1", "V1", "S1", "F1"):
            try:
                if case.can("sign_agreement", at=now, actor="F1", party=party):
                    return "sign_agreement", {"party": party}
            except InvalidInput:
                continue
        return None
    if code in ("already_signed", "no_variation_pending"):
        return "vary_agreement", _default_input("vary_agreement", case)
    if code == "no_breach_referral":
        return "record_session", {
            "duration": timedelta(0),
            "attendance": "missed_unacceptable",
        }
    length = min(timedelta(hours=1), case.policy.max_session_length)
    simple: dict[str, tuple[str, dict[str, Any]]] = {
        "offender_not_sentenced": ("record_sentence", {"sentenced_on": date(2026, 2, 1)}),
        "stage_session_missing": ("record_session", {"duration": length}),
        "required_sessions_not_held": ("record_session", {"duration": length}),
        "responsibility_not_acknowledged": ("acknowledge_responsibility", {"guilty_plea": True}),
        "no_shuttle_messages": (
            "record_shuttle_message",
            {"victim": "V1", "direction": MessageDirection.TO_VICTIM},
        ),
        "referred_for_enforcement": ("record_breach_outcome", {"outcome": "order_continues"}),
    }
    if code in simple:
        return simple[code][0], dict(simple[code][1])
    if code.endswith("consent_missing") or code in ("signature_lapsed",):
        party = subject or "V1"
        activity = _ACTIVITY_OF.get(action, ContactActivity.FACE_TO_FACE)
        if rec.agreement is not None and rec.agreement.activity is not None:
            activity = rec.agreement.activity if code == "signature_lapsed" else activity
        if not any(i.party == party and i.activity is activity for i in rec.information):
            return "give_information", {"party": party, "activity": activity}
        return "record_consent", {"party": party, "activity": activity}
    if code in ("supporter_not_accepted",) and subject:
        return "accept_supporter", {"supporter": subject, "by": "O1"}
    if code == "enhanced_risk_assessment_needed":
        latest = rec.latest_risk_assessment(subject)
        if latest is not None and latest.enhanced and latest.approved_by is None:
            return "approve_risk_assessment", {} if subject is None else {"subject": subject}
    if code.startswith("risk") or code == "enhanced_risk_assessment_needed":
        risk: dict[str, Any] = {"outcome": RiskOutcome.FAVOURABLE, "enhanced": True}
        return "assess_risk", risk if subject is None else {**risk, "subject": subject}
    if code == "letter_not_settled" or code.startswith("letter_not"):
        letter = rec.letter
        if letter is None:
            return "draft_letter", {"victim": "V1"}
        status = letter.status.value
        if status == "drafted":
            return "review_letter", {"victim": letter.victim}
        if status == "returned_for_redraft":
            return "draft_letter", {"victim": letter.victim}
        if status == "reviewed":
            return "hold_letter_on_file", {"victim": letter.victim}
        return None
    if code == "agreement_unsigned" and subject:
        return "sign_agreement", {"party": subject}
    if code == "agreement_actions_outstanding" and subject:
        return "record_progress", {"action_id": subject, "status": ActionStatus.DONE}
    if code == "victim_not_informed" and subject:
        return "inform_victim", {"victim": subject, "about": VictimUpdateAbout.CONCLUSION}
    if code in ("information_not_given", "information_missing") and subject:
        activity = _ACTIVITY_OF.get(action, ContactActivity.FACE_TO_FACE)
        return "give_information", {"party": subject, "activity": activity}
    return None


class _Driver:
    """A case being driven along a path, with the steps taken so far."""

    def __init__(self, policy: Policy, opening: Mapping[str, Any] | None = None) -> None:
        self.opening = dict(opening or {})
        self.case = open_case(policy, opening)
        self.steps: list[Step] = []
        self.workflow = Workflow.for_policy(policy)
        #: Every guard seen blocking, with the path that shows it (the first found).
        self.blocked: dict[str, Path] = {}
        #: Every guard seen passing on an accepted action, with its path.
        self.passed: dict[str, Path] = {}

    def fork(self) -> _Driver:
        twin = copy.copy(self)
        twin.case = copy.copy(self.case)
        twin.steps = list(self.steps)
        return twin

    def at(self) -> datetime:
        return START + timedelta(hours=len(self.steps) + 1)

    def attempt(self, action: str, data: dict[str, Any], actor: str | None = None) -> bool:
        """Try ``action`` once: recorded (and its guards' passes noted) when accepted; the
        guards that block it noted when refused."""
        definition = self.workflow.actions.get(action)
        if definition is None:
            return False
        who = actor or _actor(definition)
        step = Step(action, MappingProxyType(dict(data)), who)
        try:
            blockers = self.case.blockers(action_name(action), at=self.at(), actor=who, **data)
        except InvalidInput:
            return False
        if blockers:
            for b in blockers:
                if b.guard and b.guard not in self.blocked:
                    self.blocked[b.guard] = Path(
                        f"guard {b.guard} blocks", (*self.steps, step), b.guard, self.opening
                    )
            return False
        try:
            self.case.fire(action_name(action), at=self.at(), actor=who, **data)
        except (ActionRefused, InvalidInput):
            return False
        self.steps.append(step)
        for guard in (ROLE_RULE, *definition.guards):
            if guard not in self.passed:
                self.passed[guard] = Path(
                    f"guard {guard} passes", tuple(self.steps), opening=self.opening
                )
        return True

    def achieve(self, action: str, data: dict[str, Any] | None = None, depth: int = 0) -> bool:
        """Take ``action``, first taking the steps that clear what blocks it (and what blocks
        those, three deep)."""
        data = _default_input(action, self.case) if data is None else data
        if depth > 3:
            return False
        for _ in range(40):
            if self.attempt(action, data):
                return True
            definition = self.workflow.actions.get(action)
            if definition is None:
                return False
            try:
                blockers = self.case.blockers(
                    action_name(action), at=self.at(), actor=_actor(definition), **data
                )
            except InvalidInput:
                return False
            if not any(
                (fix := _fix(self.case, action, data, b)) is not None
                and self.achieve(*fix, depth=depth + 1)
                for b in blockers
            ):
                return False
        return False


def _routes(workflow: Workflow) -> dict[State, tuple[str, ...]]:
    """The shortest sequence of stage-changing actions to each stage (breadth-first), going
    through the conference, else shuttle mediation, where there is a choice (the richest
    routes: they can end in an agreement)."""
    routes: dict[State, tuple[str, ...]] = {State.REFERRED: ()}
    todo = deque([State.REFERRED])
    rich = (State.CONFERENCE, State.SHUTTLE_MEDIATION)  # the activities with an agreement
    moves = sorted(
        (a for a in workflow.actions.values() if a.dest is not None),
        key=lambda a: (rich.index(a.dest) if a.dest in rich else len(rich), a.name),
    )
    while todo:
        here = todo.popleft()
        for action in moves:
            if here in action.sources and action.dest not in routes and action.dest is not None:
                routes[action.dest] = (*routes[here], action.name)
                todo.append(action.dest)
    return routes


def _drive(
    policy: Policy, opening: Mapping[str, Any] | None = None
) -> tuple[dict[State, _Driver], _Driver]:
    """A driver stopped at each reachable stage (the conference route with an agreement
    proposed and signed), and the driver that observed every block and pass on the way."""
    workflow = Workflow.for_policy(policy)
    routes = _routes(workflow)
    at: dict[State, _Driver] = {}
    for stage, route in sorted(routes.items(), key=lambda kv: len(kv[1])):
        driver = _Driver(policy, opening)
        ok = True
        for action in route:
            if action == "start_reviews" and driver.case.state in (
                State.CONFERENCE,
                State.SHUTTLE_MEDIATION,
            ):
                _agree(driver)
            if not driver.achieve(action):
                ok = False
                break
        if ok:
            at[stage] = driver
    observer = _Driver(policy, opening)
    for driver in at.values():
        for guard, path in driver.blocked.items():
            observer.blocked.setdefault(guard, path)
        for guard, path in driver.passed.items():
            observer.passed.setdefault(guard, path)
    return at, observer


def _agree(driver: _Driver) -> None:
    """At the conference or in shuttle mediation: propose an agreement and have everyone
    sign it."""
    if driver.achieve("propose_agreement"):
        for party in ("O1", "V1", "F1"):
            driver.achieve("sign_agreement", {"party": party})


def cover_stages(policy: Policy = LONDON_CRC) -> tuple[list[Path], Coverage]:
    """The shortest path to every stage ``policy`` offers, and the coverage (stages reached
    of stages offered)."""
    at, _ = _drive(policy)
    workflow = Workflow.for_policy(policy)
    paths = [Path(f"stage {s.value}", tuple(at[s].steps)) for s in workflow.states if s in at]
    missing = tuple(s.value for s in workflow.states if s not in at)
    return paths, Coverage(len(paths), len(workflow.states), missing)


def _edges(workflow: Workflow) -> list[tuple[str, State]]:
    return [(a.name, s) for a in workflow.actions.values() for s in a.sources]


def cover_edges(policy: Policy = LONDON_CRC) -> tuple[list[Path], Coverage]:
    """For every action edge (an action at one of its source stages) of ``policy``'s
    workflow, a path that ends by taking it; and the coverage (edges taken of edges)."""
    paths, _, coverage = _cover_edges(policy)
    return paths, coverage


def _cover_edges(policy: Policy) -> tuple[list[Path], _Driver, Coverage]:
    at, observer = _drive(policy)
    workflow = Workflow.for_policy(policy)
    paths: list[Path] = []
    missing: list[str] = []
    dead = dead_edges(policy, workflow.actions)
    impossible: dict[str, str] = {}
    for name, stage in _edges(workflow):
        goal = f"edge {name}@{stage.value}"
        driver = _reach(at, stage, policy, name)
        if driver is not None and driver.achieve(name) and _took(driver, name, stage):
            paths.append(Path(goal, tuple(driver.steps)))
        elif (name, stage) in dead:
            impossible[f"{name}@{stage.value}"] = dead[(name, stage)]
        else:
            missing.append(f"{name}@{stage.value}")
        if driver is not None:
            for guard, path in driver.blocked.items():
                observer.blocked.setdefault(guard, path)
            for guard, path in driver.passed.items():
                observer.passed.setdefault(guard, path)
    total = len(_edges(workflow))
    return paths, observer, Coverage(len(paths), total, tuple(missing), impossible)


#: Actions whose edge at the review stage needs the letter's route to review.
_LETTER_ACTIONS = frozenset({"deliver_letter"})
#: Actions an ended case accepts only for a letter held on file (rule
#: ended_only_for_a_held_letter): their edges at an end stage need the letter's route.
_HELD_LETTER_ACTIONS = frozenset(
    {"deliver_letter", "give_information", "record_consent", "withdraw_consent"}
)


def _reach(
    at: Mapping[State, _Driver], stage: State, policy: Policy, action: str = ""
) -> _Driver | None:
    """A fresh driver at ``stage``: from the stage's route; the review stage by way of the
    letter for a letter's action; an end stage by way of a letter held on file for what an
    ended case accepts only for one (else, closed, after the activity); the closed stage by
    closing the review route."""
    if stage is State.REVIEW and action in _LETTER_ACTIONS and State.LETTER_OF_APOLOGY in at:
        driver = at[State.LETTER_OF_APOLOGY].fork()
        return driver if driver.achieve("start_reviews") else None
    ending = {State.COMPLETED: "complete", State.CLOSED: "close"}
    if stage in ending and action in _HELD_LETTER_ACTIONS and State.LETTER_OF_APOLOGY in at:
        driver = at[State.LETTER_OF_APOLOGY].fork()
        held = driver.achieve("hold_letter_on_file", {"victim": "V1"})
        if not (held and driver.achieve("start_reviews") and driver.achieve("assess_risk")):
            return None
        # Risk is assessed during the programme (a letter delivered after the end needs it):
        # the case's, and the victim's own where the policy assesses each participant.
        if driver.case.policy.risk_assessment_scope is not RiskScope.CASE:
            risk = _default_input("assess_risk", driver.case)
            driver.achieve("assess_risk", {**risk, "subject": "V1"})
        return driver if driver.achieve(ending[stage]) else None
    if stage is State.CLOSED and action in _HELD_LETTER_ACTIONS and State.REVIEW in at:
        driver = at[State.REVIEW].fork()  # closed after the activity: consents to withdraw
        return driver if driver.achieve("close") else None
    if stage in at:
        return at[stage].fork()
    if stage is State.CLOSED and State.REVIEW in at:
        driver = at[State.REVIEW].fork()
        return driver if driver.achieve("close") else None
    return None


def _took(driver: _Driver, name: str, stage: State) -> bool:
    """The last step was ``name`` taken at ``stage`` (record-keeping keeps the stage)."""
    if not driver.steps or driver.steps[-1].action != name:
        return False
    definition = driver.workflow.actions[name]
    return definition.dest is not None or driver.case.state is stage


#: Inputs and actors that break a rule which the usual route always satisfies: for each
#: action, variants tried at every stage it is offered from.
def _spoilers(action: str, case: Case) -> list[tuple[dict[str, Any], str | None]]:
    base = _default_input(action, case)
    variants: list[tuple[dict[str, Any], str | None]] = [(base, "V1"), (base, "F2")]
    for key, value in base.items():
        if isinstance(value, str) and value[:1] in "VOFSA":
            variants.append(({**base, key: "X9"}, None))
            variants.append(({**base, key: "S1"}, None))
            variants.append(({**base, key: "O1"}, None))
            variants.append(({**base, key: "F1"}, None))
    if "duration" in base or action == "hold_conference":
        variants.append(({**base, "duration": timedelta(hours=5)}, None))
    if action == "close":
        variants.append(({"reason": ClosureReason.OTHER}, None))
        variants.append(({"reason": ClosureReason.COMPLETED}, None))
        variants.append(({"reason": ClosureReason.ENFORCEMENT}, None))
    if action == "add_party":
        variants.append(({"party": Victim("V1")}, None))
    if action == "record_shuttle_message":
        variants.append(({**base, "vetted": False}, None))
    if action == "acknowledge_responsibility":
        variants.append(({"guilty_plea": False}, None))
    if action == "inform_victim":
        variants.append(({**base, "about": VictimUpdateAbout.CONCLUSION}, None))
    if action == "record_progress":
        variants.append(({**base, "status": ActionStatus.WAIVED}, None))
    if action == "assess_risk":
        variants.append(({**base, "approved_by": "F1"}, None))
        variants.append(({**base, "subject": "X9"}, None))
    if action == "propose_agreement":
        bad = AgreementAction("A1", "Repair the fence", "X9", _DEADLINE)
        variants.append(({"actions": [bad]}, None))
    return variants


def cover_guards(policy: Policy = LONDON_CRC) -> tuple[list[Path], Coverage]:
    """For every rule (guard) the workflow runs, a path where it blocks and one where it
    passes; and the coverage (outcomes shown of twice the rules)."""
    _, observer, _ = _cover_edges(policy)
    at, _ = _drive(policy)
    workflow = Workflow.for_policy(policy)
    guards = sorted({ROLE_RULE, *(g for a in workflow.actions.values() for g in a.guards)})
    stages = [*at, State.CLOSED]
    for stage in stages:
        base = _reach(at, stage, policy)
        if base is None:
            continue
        for name, definition in workflow.actions.items():
            if stage not in definition.sources:
                continue
            if all(g in observer.blocked for g in (ROLE_RULE, *definition.guards)):
                continue
            for data, actor in _spoilers(name, base.case):
                trial = base.fork()
                trial.blocked = {}
                trial.attempt(name, data, actor)
                for guard, path in trial.blocked.items():
                    observer.blocked.setdefault(guard, path)
    _play_scenarios(policy, observer)
    paths: list[Path] = []
    missing: list[str] = []
    cannot = impossible_outcomes(policy, fewest_sessions_to_complete(policy))
    impossible: dict[str, str] = {}
    for guard in guards:
        for outcome, found in (("blocks", observer.blocked), ("passes", observer.passed)):
            target = f"{guard}:{outcome}"
            if guard in found:
                paths.append(found[guard])
            elif target in cannot:
                impossible[target] = cannot[target]
            else:
                missing.append(target)
    assert set(guards) <= set(GUARDS)
    return paths, Coverage(len(paths), 2 * len(guards), tuple(missing), impossible)


_F2F = {"party": "V1", "activity": ContactActivity.FACE_TO_FACE}
_SHUTTLE = {"party": "V1", "activity": ContactActivity.SHUTTLE}
_MISSED = {"duration": timedelta(0), "attendance": "missed_unacceptable"}
_SEXUAL = {"offence": Offence(OffenceCategory.SEXUAL_OFFENCE)}
#: A late entry dated after the opening but before any stage after referral began.
_BEFORE_STAGES = START + timedelta(minutes=30)

#: Situations that make a rule block which the usual routes always satisfy: the opening
#: changed, the stage, the steps taken there, then the action attempted (input, actor).
_SCENARIOS: tuple[
    tuple[
        Mapping[str, Any],
        State,
        tuple[tuple[str, dict[str, Any]], ...],
        tuple[str, dict[str, Any] | None, str | None],
    ],
    ...,
] = (
    ({}, State.REVIEW, (("record_progress", {}),), ("waive_agreement_action", None, None)),
    (
        {},
        State.CONFERENCE,
        (),
        (
            "propose_agreement",
            {"actions": [AgreementAction("A1", "Repair the fence", "O1", date(2026, 1, 1))]},
            None,
        ),
    ),
    ({}, State.REVIEW, (("withdraw_consent", _F2F),), ("complete", None, None)),
    ({}, State.REVIEW, (), ("record_consent", _F2F, None)),
    (
        {},
        State.CONFERENCE,
        (
            ("propose_agreement", {}),
            *(("sign_agreement", {"party": p}) for p in ("O1", "V1", "S1", "F1")),
        ),
        ("propose_agreement", None, None),
    ),
    (
        {"offence": Offence(OffenceCategory.DOMESTIC_ABUSE)},
        State.INTRODUCTION,
        (),
        ("give_information", _F2F, None),
    ),
    (
        {"offence": Offence(OffenceCategory.DOMESTIC_ABUSE, ongoing_contact=True)},
        State.PREPARATION,
        (),
        ("hold_conference", {}, None),
    ),
    (
        {"offence": Offence(OffenceCategory.THEFT)},
        State.PREPARATION,
        (),
        ("hold_conference", {}, None),
    ),
    (_SEXUAL, State.INTRODUCTION, (), ("give_information", _F2F, None)),
    (_SEXUAL, State.PREPARATION, (), ("hold_conference", {}, None)),
    ({}, State.CONFERENCE, (("withdraw_consent", _F2F),), ("record_session", None, None)),
    ({}, State.CONFERENCE, (("record_new_information", {}),), ("record_session", None, None)),
    (
        {},
        State.INTRODUCTION,
        (("add_party", {"party": Victim("V3", needs_interpreter=True)}),),
        ("give_information", {"party": "V3", "activity": ContactActivity.FACE_TO_FACE}, None),
    ),
    (
        {},
        State.PREPARATION,
        (("assign_lead_facilitator", {"facilitator": "F2"}),),
        ("hold_conference", {}, None),
    ),
    ({}, State.LETTER_OF_APOLOGY, (("draft_letter", {}),), ("draft_letter", None, None)),
    (
        {},
        State.INTRODUCTION,
        (("record_session", _MISSED), ("record_session", _MISSED)),
        ("record_session", None, None),
    ),
    ({}, State.INTRODUCTION, (("record_decline", _F2F),), ("give_information", _F2F, None)),
    (
        {},
        State.REVIEW,
        tuple(("record_session", {"duration": timedelta(hours=1)}) for _ in range(12)),
        ("record_session", None, None),
    ),
    (
        {},
        State.REVIEW,
        (("record_victim_wishes", {"victim": "V1", "keep_informed": True}),),
        ("complete", None, None),
    ),
    ({}, State.COMPLETED, (), ("inform_victim", {"victim": "V1", "about": "progress"}, None)),
    # In shuttle mediation (a service without conferences): consent given again, withdrawn
    # before completing, and reviews started before the agreement is settled.
    ({}, State.SHUTTLE_MEDIATION, (), ("record_consent", _SHUTTLE, None)),
    ({}, State.REVIEW, (("withdraw_consent", _SHUTTLE),), ("complete", None, None)),
    ({}, State.SHUTTLE_MEDIATION, (("propose_agreement", {}),), ("start_reviews", None, None)),
    ({"lead_facilitator": None}, State.REFERRED, (), ("start_introduction", None, None)),
    (
        {},
        State.INTRODUCTION,
        (("acknowledge_responsibility", {"guilty_plea": True}),),
        ("acknowledge_responsibility", None, None),
    ),
    (
        {},
        State.INTRODUCTION,
        (),
        ("record_session", {"duration": timedelta(hours=1), "occurred_at": _BEFORE_STAGES}, None),
    ),
)


#: Without conferences: the stage and action a scenario plays instead.
_INSTEAD = {State.CONFERENCE: State.SHUTTLE_MEDIATION}
_INSTEAD_OF_ACTION = {"hold_conference": "choose_shuttle_mediation"}


def _play_scenarios(policy: Policy, observer: _Driver) -> None:
    """Play every scenario, noting the rules seen blocking (the first path found for each)."""
    routes: dict[tuple[tuple[str, Any], ...], dict[State, _Driver]] = {}
    for opening, place, preparation, (wanted, given, actor) in _SCENARIOS:
        stage, action, data = place, wanted, given
        key = tuple(sorted(opening.items(), key=lambda kv: kv[0]))
        if key not in routes:
            try:
                routes[key] = _drive(policy, opening)[0]
            except (InvalidInput, ActionRefused):
                routes[key] = {}
        start = routes[key].get(stage)
        if start is None and place in _INSTEAD and not policy.conference_enabled:
            # Without conferences, the same situation in shuttle mediation, its other
            # activity with an agreement.
            stage = _INSTEAD[place]
            start = routes[key].get(stage)
        if start is None:
            continue
        if wanted not in start.workflow.actions and wanted in _INSTEAD_OF_ACTION:
            action, data = _INSTEAD_OF_ACTION[wanted], None
        trial = start.fork()
        for step, step_data in preparation:
            trial.achieve(step, dict(step_data) or None)
        trial.blocked = {}
        chosen = _default_input(action, trial.case) if data is None else dict(data)
        trial.attempt(action, chosen, actor)
        for guard, path in trial.blocked.items():
            observer.blocked.setdefault(guard, path)


def coverage_table() -> str:
    """The coverage of the default policy and of each shipped example policy
    (:data:`rjflow.policy.EXAMPLES`), as a Markdown table: covered of possible stages, action
    edges and rule outcomes, and the impossible targets with their reasons.  ``rjflow paths
    --table`` prints it; ``docs/testing.md`` shows it, and a test keeps the two the same."""
    policies = [("default (London CRC)", LONDON_CRC)]
    policies += [(f"example `{name}`", example_policy(name).policy) for name in EXAMPLES]
    rows = [
        "| policy | stages | action edges | rule outcomes | impossible under the policy |",
        "|---|---|---|---|---|",
    ]
    reasons: dict[str, str] = {}
    for label, policy in policies:
        counts = []
        impossible: dict[str, str] = {}
        for cover in (cover_stages, cover_edges, cover_guards):
            _, coverage = cover(policy)
            counts.append(f"{coverage.covered} / {coverage.possible}")
            impossible.update(coverage.impossible)
            if coverage.missing:
                counts[-1] += " (not covered: " + ", ".join(coverage.missing) + ")"
        for target, why in impossible.items():
            reasons.setdefault(target, why)
        listed = ", ".join(f"`{t}`" for t in sorted(impossible)) or "—"
        rows.append(f"| {label} | {' | '.join(counts)} | {listed} |")
    rows.append("")
    rows += [f"- `{target}` {why}." for target, why in sorted(reasons.items())]
    return "\n".join(rows)


#: The covering functions by the name ``rjflow paths --cover`` takes.
COVERS: Mapping[str, Callable[[Policy], tuple[list[Path], Coverage]]] = MappingProxyType(
    {"stages": cover_stages, "edges": cover_edges, "guards": cover_guards}
)
