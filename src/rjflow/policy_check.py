"""Static checks on a policy: mistakes found before a single case runs (issue 12).

:func:`check_policy` reads the workflow table (:mod:`rjflow.states`) under a
:class:`~rjflow.Policy` and reports what no case could ever do or what contradicts itself,
each finding with a stable code (``docs/configuring.md`` lists them all):

==== ======= ================================= ====================================================
code level   slug                              finding
==== ======= ================================= ====================================================
P101 error   ``stage_unreachable``             an offered stage no case can reach from referral
P102 error   ``stage_cannot_complete``         an open stage from which no case can complete
                                               (closing is the only way out)
P103 warning ``action_unreachable``            an offered action no case can ever take
P104 warning ``edge_never_taken``              an action offered from a stage where one of its
                                               rules can never pass (every case there has a
                                               fact the rule refuses): a defect of the table
P201 error   ``conference_never_eligible``     the conference is offered, but no offence category
                                               is eligible and the direct-personal-harm route is off
P202 error   ``sessions_exceed_maximum``       the fewest sessions any route to completion needs
                                               exceed ``max_sessions``
P203 error   ``lead_level_unattainable``       a required lead level above advanced (the file
                                               reader refuses it first, as F006)
P204 error   ``no_route_for_declining_victim`` a victim who declines to meet has no restorative
                                               route: every indirect activity is switched off
P301 warning ``excluded_category_not_sensitive`` a category excluded with ongoing contact, or
                                               taken only at the victim's request, that is not
                                               sensitive (those are sensitive-case safeguards)
P302 warning ``sensitive_lead_below_ordinary`` sensitive cases may be led by a lower level than
                                               ordinary ones
==== ======= ================================= ====================================================

Reachability is derived, not listed: the stages and actions a policy offers come from the
table's ``offered_by`` switches (as :class:`~rjflow.workflow.Workflow` derives them); an
action whose guard can never pass under the policy is a dead edge, and so is an action at a
source stage where one of its rules can never pass (:func:`rjflow.rule_scope.dead_edges`: by
the facts every case at the stage has, derived from the rules on every route into it); and a
route's sessions are
counted from each stage's minimum (``Policy.min_sessions_in``), the sessions an entering
action holds itself (an input with a ``duration``: the conference) and the
``sessions_remaining`` guard's limit.

>>> from rjflow import Policy
>>> check_policy(Policy())
()
>>> [f.code for f in check_policy(Policy(letter_enabled=False, shuttle_enabled=False))]
['P204']
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Callable, Mapping

import attrs

from rjflow.offences import OffenceCategory
from rjflow.parties import PractitionerLevel
from rjflow.policy import Policy
from rjflow.rule_scope import SCOPES, dead_edges
from rjflow.states import ACTIONS, STATES, ActionDef, State

__all__ = [
    "CHECKS",
    "Finding",
    "Severity",
    "check_policy",
    "fewest_sessions_to_complete",
    "has_errors",
    "offered",
]


class Severity(enum.Enum):
    """An error makes the policy unusable as it stands; a warning is probably a mistake."""

    ERROR = "error"
    WARNING = "warning"


#: Every check: code -> (severity, slug, what it finds).  Codes are stable: a check that is
#: retired keeps its code unused.
CHECKS: Mapping[str, tuple[Severity, str, str]] = {
    "P101": (Severity.ERROR, "stage_unreachable", "an offered stage no case can reach"),
    "P102": (
        Severity.ERROR,
        "stage_cannot_complete",
        "an open stage from which no case can complete",
    ),
    "P103": (Severity.WARNING, "action_unreachable", "an offered action no case can take"),
    "P104": (
        Severity.WARNING,
        "edge_never_taken",
        "an action offered from a stage where one of its rules can never pass",
    ),
    "P201": (
        Severity.ERROR,
        "conference_never_eligible",
        "the conference is offered but no offence is eligible for it",
    ),
    "P202": (
        Severity.ERROR,
        "sessions_exceed_maximum",
        "the fewest sessions a route to completion needs exceed the maximum",
    ),
    "P203": (
        Severity.ERROR,
        "lead_level_unattainable",
        "a required lead level above advanced",
    ),
    "P204": (
        Severity.ERROR,
        "no_route_for_declining_victim",
        "a victim who declines to meet has no restorative route",
    ),
    "P301": (
        Severity.WARNING,
        "excluded_category_not_sensitive",
        "a sensitive-case safeguard on a category that is not sensitive",
    ),
    "P302": (
        Severity.WARNING,
        "sensitive_lead_below_ordinary",
        "sensitive cases may be led at a lower level than ordinary ones",
    ),
}


@attrs.frozen
class Finding:
    """One result of :func:`check_policy`: a stable ``code`` (see :data:`CHECKS`), its
    ``severity`` and ``slug``, a ``message`` saying what is wrong and what would fix it, and
    the ``subject`` (a stage, action or setting name) when there is one."""

    code: str
    message: str
    subject: str | None = None

    @property
    def severity(self) -> Severity:
        """Error or warning, by the code."""
        return CHECKS[self.code][0]

    @property
    def slug(self) -> str:
        """The code's name."""
        return CHECKS[self.code][1]

    def __str__(self) -> str:
        return f"{self.code} {self.severity.value} {self.slug}: {self.message}"


#: Guards that can never pass under some policies, and the test that says so (declared in
#: :data:`rjflow.rule_scope.SCOPES`).  Any other guard may pass under any policy.
_NEVER_PASSES: Mapping[str, Callable[[Policy], bool]] = {
    name: scope.never_passes_if
    for name, scope in SCOPES.items()
    if scope.never_passes_if is not None
}

#: The prefix of the guards that wait for a victim's consent, which the victim may refuse.
_VICTIM_CONSENT = "victims_consent_"


def offered(
    policy: Policy, table: Mapping[str, ActionDef] = ACTIONS
) -> tuple[tuple[State, ...], dict[str, ActionDef]]:
    """The stages and actions ``policy`` offers, from the ``offered_by`` switches of the
    workflow ``table`` (each action narrowed to its offered source stages), exactly as
    :class:`~rjflow.workflow.Workflow` derives them, but without refusing an inconsistent
    result."""
    stages = tuple(
        s.state for s in STATES.values() if s.offered_by is None or getattr(policy, s.offered_by)
    )
    actions: dict[str, ActionDef] = {}
    for action in table.values():
        if action.offered_by is not None and not getattr(policy, action.offered_by):
            continue
        sources = tuple(s for s in action.sources if s in stages)
        if sources and (action.dest is None or action.dest in stages):
            actions[action.name] = attrs.evolve(action, sources=sources)
    return stages, actions


def _entry_sessions(action: ActionDef) -> int:
    """Sessions an action entering a stage holds itself (its input has a ``duration``)."""
    fields = attrs.fields_dict(action.input) if attrs.has(action.input) else {}
    return 1 if action.dest is not None and "duration" in fields else 0


class _Graph:
    """The policy's stage-changing actions, with what each needs in sessions."""

    def __init__(self, policy: Policy, actions: Mapping[str, ActionDef]) -> None:
        self.policy = policy
        self.dead = {
            name
            for name, action in actions.items()
            if any(g in _NEVER_PASSES and _NEVER_PASSES[g](policy) for g in action.guards)
        }
        self.moves = [a for a in actions.values() if a.dest is not None]

    def _need(self, stage: State, action: ActionDef, entered_with: int) -> int:
        if "stage_session_held" not in action.guards:
            return 0
        return max(0, self.policy.min_sessions_in(stage.value) - entered_with)

    def reach(
        self,
        start: State,
        *,
        sessions: bool = True,
        skip: frozenset[str] = frozenset(),
        held: tuple[int, int] = (0, 0),
    ) -> dict[State, tuple[int, int]]:
        """The stages reachable from ``start``, each with the fewest sessions held on arrival
        and how many of them the entering action held itself (``held``: the same for
        ``start``).  Sessions count only when ``sessions``; the actions in ``skip`` and dead
        ones are never taken."""
        limit = self.policy.max_sessions
        best: dict[State, tuple[int, int]] = {start: held}
        todo = [(held[0], start.value, held[1])]
        while todo:
            cost, value, on_entry = heapq.heappop(todo)
            here = State(value)
            if (cost, on_entry) != best[here]:
                continue
            for action in self.moves:
                if here not in action.sources or action.name in self.dead | skip:
                    continue
                assert action.dest is not None
                before = cost + self._need(here, action, on_entry)
                if sessions and before > limit:
                    continue
                if sessions and "sessions_remaining" in action.guards and before >= limit:
                    continue
                gained = _entry_sessions(action)
                arrive = before + gained
                if action.dest not in best or arrive < best[action.dest][0]:
                    best[action.dest] = (arrive, gained)
                    heapq.heappush(todo, (arrive, action.dest.value, gained))
        return best


def fewest_sessions_to_complete(
    policy: Policy, table: Mapping[str, ActionDef] = ACTIONS
) -> int | None:
    """The fewest attended sessions any route to completion holds under ``policy`` (by each
    stage's minimum, as P202 counts them), or ``None`` when no case can complete."""
    _, actions = offered(policy, table)
    arrival = _Graph(policy, actions).reach(State.REFERRED).get(State.COMPLETED)
    return None if arrival is None else arrival[0]


def check_policy(policy: Policy, table: Mapping[str, ActionDef] = ACTIONS) -> tuple[Finding, ...]:
    """Every finding for ``policy``, by code then subject; ``()`` when it is sound.

    ``table``: the workflow table to check it against (the shipped one by default; a test
    plants a defect in a copy).  Raises nothing for a bad policy: every problem is a
    :class:`Finding` (see the module's table of codes).  Pure: reads the table and the policy
    only.
    """
    stages, actions = offered(policy, table)
    graph = _Graph(policy, actions)
    found: list[Finding] = []
    start = State.REFERRED
    reached = graph.reach(start)
    loose = graph.reach(start, sessions=False)
    for stage in stages:
        if stage not in reached:
            why = (
                "the sessions it needs exceed max_sessions"
                if stage in loose
                else "no offered action whose rules can pass leads to it"
            )
            found.append(
                Finding(
                    "P101",
                    f"No case can reach the {stage.label} stage under this policy: {why}. "
                    "Switch it off, or change the settings that close the way to it.",
                    stage.value,
                )
            )
    for stage in stages:
        if STATES[stage].terminal or stage not in reached:
            continue
        if State.COMPLETED not in graph.reach(stage, held=reached[stage]):
            found.append(
                Finding(
                    "P102",
                    f"A case at the {stage.label} stage can never complete under this policy; "
                    "it could only be closed. Lower the minimum sessions on its route or raise "
                    "max_sessions, or offer the activity that leads on from it.",
                    stage.value,
                )
            )
    for name, action in actions.items():
        if name in graph.dead or not any(s in reached for s in action.sources):
            found.append(
                Finding(
                    "P103",
                    f"No case can take the action {name.replace('_', ' ')} under this policy "
                    "(its stages cannot be reached, or one of its rules can never pass).",
                    name,
                )
            )
    # A table defect: dead in the table as it stands, whatever the policy switches off (an
    # edge dead only because the policy switches something off is the policy's choice).
    for (name, stage), why in dead_edges(policy, table).items():
        if name in graph.dead or name not in actions or stage not in reached:
            continue  # the whole action is dead (P103), or the stage unreachable (P101)
        found.append(
            Finding(
                "P104",
                f"The action {name.replace('_', ' ')} is offered from the {stage.label} stage, "
                f"but no case can take it there: {why}. Take the stage out of the action's "
                "sources in the workflow table.",
                f"{name}@{stage.value}",
            )
        )
    found += _rule_findings(policy, actions, graph, loose)
    return tuple(sorted(found, key=lambda f: (f.code, f.subject or "")))


def _rule_findings(
    policy: Policy,
    actions: Mapping[str, ActionDef],
    graph: _Graph,
    loose: Mapping[State, tuple[int, int]],
) -> list[Finding]:
    found: list[Finding] = []
    if policy.conference_enabled and _NEVER_PASSES["offence_eligible_for_conference"](policy):
        found.append(
            Finding(
                "P201",
                "The conference is offered, but conference_categories is empty and "
                "conference_for_direct_personal_harm is off, so no offence can go to "
                "conference. List the eligible categories (the seed: violence, "
                "household_burglary), switch the direct-personal-harm route on, or switch "
                "conference_enabled off.",
                "conference_categories",
            )
        )
    if State.COMPLETED in loose and State.COMPLETED not in graph.reach(State.REFERRED):
        found.append(
            Finding(
                "P202",
                f"No route to completion fits in max_sessions ({policy.max_sessions}): the "
                "minimum sessions of its stages (introduction, preparation, the activity, "
                "reviews) add up to more. Lower the minimums or raise max_sessions.",
                "max_sessions",
            )
        )
    for setting in ("min_lead_level", "min_sensitive_lead_level"):
        if int(getattr(policy, setting)) > max(PractitionerLevel):
            found.append(
                Finding(
                    "P203",
                    f"{setting} is above advanced, the highest level: no facilitator could "
                    "ever lead. Use foundation, intermediate or advanced.",
                    setting,
                )
            )
    refusable = frozenset(
        name
        for name, action in actions.items()
        if any(g.startswith(_VICTIM_CONSENT) for g in action.guards)
        and action.dest is not None
        and STATES[action.dest].offered_by == "conference_enabled"
    )
    if (
        refusable
        and State.COMPLETED in graph.reach(State.REFERRED)
        and State.COMPLETED not in graph.reach(State.REFERRED, skip=refusable)
    ):
        found.append(
            Finding(
                "P204",
                "The conference needs the victim's consent to meet, and every indirect "
                "activity (letter_enabled, shuttle_enabled) is switched off: a victim who "
                "declines to meet would have no restorative route (seed: other restorative "
                "activities take place). Switch on the letter of apology or shuttle mediation.",
                "letter_enabled",
            )
        )
    safeguards = (
        ("excluded_with_ongoing_contact", policy.excluded_with_ongoing_contact),
        ("victim_request_required_for", policy.victim_request_required_for),
    )
    for setting, categories in safeguards:
        for category in sorted(categories - policy.sensitive_categories, key=_by_value):
            found.append(
                Finding(
                    "P301",
                    f"{setting} lists {category.value}, which is not in sensitive_categories: "
                    "it would go without the sensitive-case safeguards (an advanced lead, an "
                    "enhanced risk assessment signed off by a manager). Add it to "
                    f"sensitive_categories, or take it out of {setting}.",
                    setting,
                )
            )
    if policy.min_sensitive_lead_level < policy.min_lead_level:
        found.append(
            Finding(
                "P302",
                f"min_sensitive_lead_level ({policy.min_sensitive_lead_level.label}) is below "
                f"min_lead_level ({policy.min_lead_level.label}): sensitive and complex cases "
                "need at least the level ordinary ones do (practice: an advanced "
                "practitioner). Raise min_sensitive_lead_level.",
                "min_sensitive_lead_level",
            )
        )
    return found


def _by_value(category: OffenceCategory) -> str:
    return category.value


def has_errors(findings: tuple[Finding, ...]) -> bool:
    """True when any finding is an error (``rjflow policy --check`` then exits 1)."""
    return any(f.severity is Severity.ERROR for f in findings)
