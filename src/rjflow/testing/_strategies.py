"""Hypothesis strategies for rjflow's values, policies, inputs and cases.

Inputs are drawn with the case in view (ids of its parties, its agreement's actions) plus a
few ids that do not exist and a few malformed values, so both the rules and the input checks
are exercised; :func:`valid_inputs` keeps only those the case accepts.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from rjflow import (
    LONDON_CRC,
    ActionStatus,
    AgreementAction,
    Attendance,
    BreachOutcome,
    ClosureReason,
    ContactActivity,
    Facilitator,
    InvalidInput,
    MessageDirection,
    Offence,
    OffenceCategory,
    Policy,
    PractitionerLevel,
    RiskOutcome,
    Supporter,
    Victim,
    VictimUpdateAbout,
)
from rjflow.action_names import action_name
from rjflow.case import Case
from rjflow.paths import Path, cover_stages, run_path
from rjflow.policy import file_settings
from rjflow.policy_check import check_policy, has_errors
from rjflow.policy_file import Kind
from rjflow.record import CaseRecord
from rjflow.states import State
from rjflow.testing._builders import Clock, at_stage
from rjflow.workflow import Workflow

__all__ = [
    "DRIVABLE",
    "POLICIES",
    "SESSION_LENGTHS",
    "UNKNOWN",
    "cases",
    "facilitators",
    "inputs",
    "levels",
    "offences",
    "parties",
    "policies",
    "valid_inputs",
    "victims",
]

#: Policies rjflow's own suite exercises: the default, and variations a service might set.
POLICIES = (
    LONDON_CRC,
    Policy(
        name="short",
        max_sessions=5,
        enforcement_window=timedelta(days=2),
        required_sessions=3,
        require_guilty_plea=False,
    ),
    Policy(
        name="no letters",
        letter_enabled=False,
        excluded_with_ongoing_contact=frozenset(),
        facilitator_signs_agreement=False,
    ),
    Policy(name="indirect only", conference_enabled=False, min_review_sessions=2),
)

#: An id no party of a built case has.
UNKNOWN = "X9"

#: Offences; half of them may go to conference, so conferences are explored.
offences = st.builds(
    Offence,
    category=st.one_of(
        st.sampled_from([OffenceCategory.VIOLENCE, OffenceCategory.HOUSEHOLD_BURGLARY]),
        st.sampled_from(OffenceCategory),
    ),
    direct_personal_harm=st.booleans(),
    ongoing_contact=st.booleans(),
)

#: Any practitioner level.
levels = st.sampled_from(PractitionerLevel)

#: Victims with the ids V1..V3, some under 18, some who asked for RJ themselves.
victims = st.builds(
    Victim,
    st.sampled_from(["V1", "V2", "V3"]),
    requested_rj=st.booleans(),
    under_18=st.booleans(),
)

#: Facilitators with the ids F1..F3, at any level, with or without specialist training.
facilitators = st.builds(
    Facilitator,
    st.sampled_from(["F1", "F2", "F3"]),
    level=levels,
    specialisms=st.frozensets(st.sampled_from([c.value for c in OffenceCategory])),
)

#: Any party a case may add: a victim, a supporter of V1 or O1, or a facilitator.
parties = st.one_of(
    victims,
    st.builds(
        Supporter,
        st.sampled_from(["S1", "S2"]),
        supports=st.sampled_from(["V1", "O1"]),
        appropriate_adult=st.booleans(),
    ),
    facilitators,
)

SESSION_LENGTHS = (
    timedelta(minutes=45),
    timedelta(hours=2),
    timedelta(hours=3),
    timedelta(hours=3, minutes=1),
    timedelta(hours=5),
)


def _ids(rec: CaseRecord) -> st.SearchStrategy[str]:
    return st.sampled_from([p.id for p in rec.parties] + [UNKNOWN])


def _victims(rec: CaseRecord) -> st.SearchStrategy[str]:
    return st.sampled_from([v.id for v in rec.victims] + [UNKNOWN])


def _session() -> st.SearchStrategy[dict[str, Any]]:
    attended = st.fixed_dictionaries({"duration": st.sampled_from(SESSION_LENGTHS)})
    missed = st.fixed_dictionaries(
        {
            "duration": st.just(timedelta(0)),
            "attendance": st.sampled_from(
                [Attendance.MISSED_ACCEPTABLE, Attendance.MISSED_UNACCEPTABLE]
            ),
        }
    )
    malformed = st.fixed_dictionaries(
        {"duration": st.sampled_from([timedelta(minutes=-5), timedelta(0)])}
    )
    return st.one_of(*[attended] * 6, missed, malformed)


def _new_party(rec: CaseRecord) -> st.SearchStrategy[Any]:
    new_id = st.sampled_from(["V2", "V3", "S2", "F2", "F3", rec.parties[0].id])
    return st.one_of(
        st.builds(
            Victim,
            new_id,
            requested_rj=st.booleans(),
            under_18=st.booleans(),
        ),
        st.builds(
            Supporter,
            new_id,
            supports=_ids(rec),
            appropriate_adult=st.booleans(),
        ),
        st.builds(Facilitator, new_id, level=levels),
    )


def _agreement_actions(rec: CaseRecord) -> st.SearchStrategy[list[AgreementAction]]:
    action = st.builds(
        AgreementAction,
        id=st.sampled_from(["A1", "A2", "A3"]),
        what=st.just("Repair the fence"),
        responsible=_ids(rec),
        deadline=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    )
    return st.lists(action, min_size=1, max_size=3, unique_by=lambda a: a.id)


def inputs(action: str, rec: CaseRecord) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword inputs for ``action`` on a case whose record is ``rec`` (``{}`` for an action
    without input): mostly well formed, with a few unknown ids and malformed values."""
    consent = st.fixed_dictionaries(
        {"party": _ids(rec), "activity": st.sampled_from(ContactActivity)}
    )
    letter_victim = st.fixed_dictionaries({}, optional={"victim": _victims(rec)})
    agreement_ids = [a.id for a in rec.agreement.actions] if rec.agreement else []
    table: dict[str, st.SearchStrategy[dict[str, Any]]] = {
        "hold_conference": st.fixed_dictionaries(
            {},
            optional={
                "victims": st.lists(_victims(rec), max_size=2, unique=True).map(tuple),
                "duration": st.sampled_from(SESSION_LENGTHS),
                "supporters": st.lists(
                    st.sampled_from([s.id for s in rec.supporters] + [UNKNOWN]),
                    max_size=2,
                    unique=True,
                ).map(tuple),
            },
        ),
        "close": st.fixed_dictionaries(
            {"reason": st.sampled_from(ClosureReason)},
            optional={"note": st.sampled_from(["", "Moved abroad"])},
        ),
        "record_sentence": st.fixed_dictionaries(
            {"sentenced_on": st.dates(date(2025, 1, 1), date(2026, 12, 31))}
        ),
        "add_party": st.fixed_dictionaries({"party": _new_party(rec)}),
        "assign_lead_facilitator": st.fixed_dictionaries({"facilitator": _ids(rec)}),
        "record_session": _session(),
        "give_information": consent,
        "record_consent": consent,
        "record_decline": consent,
        "withdraw_consent": consent,
        "acknowledge_responsibility": st.fixed_dictionaries(
            {"guilty_plea": st.sampled_from([True, True, True, False])}
        ),
        "assess_risk": st.fixed_dictionaries(
            {
                "outcome": st.sampled_from(
                    [RiskOutcome.FAVOURABLE] * 3 + [RiskOutcome.UNFAVOURABLE]
                ),
                "enhanced": st.booleans(),
                "approved_by": st.sampled_from([None, "M1"]),
            }
        ),
        "draft_letter": st.fixed_dictionaries({"victim": _victims(rec)}),
        "record_shuttle_message": st.fixed_dictionaries(
            {"victim": _victims(rec), "direction": st.sampled_from(MessageDirection)},
            optional={"vetted": st.sampled_from([True, True, False])},
        ),
        # -- change of mind, supporters, letters (issue 14) --
        "record_request": st.fixed_dictionaries(
            {"party": _ids(rec)},
            optional={"activity": st.one_of(st.none(), st.sampled_from(ContactActivity))},
        ),
        "accept_supporter": st.fixed_dictionaries(
            {
                "supporter": st.sampled_from([x.id for x in rec.supporters] + [UNKNOWN]),
                "by": st.sampled_from([rec.offender.id, *(v.id for v in rec.victims)]),
            },
            optional={"accepted": st.sampled_from([True, True, False])},
        ),
        "review_letter": st.fixed_dictionaries(
            {},
            optional={"victim": _victims(rec), "approved": st.sampled_from([True, True, False])},
        ),
        "deliver_letter": letter_victim,
        "hold_letter_on_file": letter_victim,
        "propose_agreement": st.fixed_dictionaries({"actions": _agreement_actions(rec)}),
        "sign_agreement": st.fixed_dictionaries({"party": _ids(rec)}),
        "record_progress": st.fixed_dictionaries(
            {
                "action_id": st.sampled_from([*agreement_ids, "A9"]),
                "status": st.sampled_from(
                    [ActionStatus.DONE] * 3 + [ActionStatus.IN_PROGRESS, ActionStatus.NOT_COMPLIED]
                ),
            }
        ),
        "record_feedback": st.fixed_dictionaries(
            {
                "party": _ids(rec),
                "satisfaction": st.integers(0, 6),
                "things_changed": st.booleans(),
            }
        ),
        # -- issue 14: agreement, enforcement, evaluation --
        "vary_agreement": st.fixed_dictionaries({"actions": _agreement_actions(rec)}),
        "waive_agreement_action": st.fixed_dictionaries(
            {"action_id": st.sampled_from([*agreement_ids, "A9"])}
        ),
        "record_breach_outcome": st.fixed_dictionaries({"outcome": st.sampled_from(BreachOutcome)}),
        "record_victim_wishes": st.fixed_dictionaries(
            {"victim": _victims(rec), "keep_informed": st.booleans()}
        ),
        "inform_victim": st.fixed_dictionaries(
            {"victim": _victims(rec), "about": st.sampled_from(VictimUpdateAbout)}
        ),
        "record_follow_up": st.fixed_dictionaries({"party": _ids(rec)}),
        # -- issue 14 fixes --
        "decline_all": st.fixed_dictionaries(
            {"party": _ids(rec)}, optional={"interpreter_provided": st.booleans()}
        ),
    }
    return table.get(action, st.just({}))


def valid_inputs(
    case: Case, action: str, *, at: Any, actor: str
) -> st.SearchStrategy[dict[str, Any]]:
    """Inputs for ``action`` that ``case`` accepts now (``case.can`` is true), drawn from
    :func:`inputs`.  Hypothesis rejects the example when none of the inputs it tries passes
    (an action whose rules cannot pass at this case: check ``case.blockers`` first)."""
    return inputs(action, case.record).filter(
        lambda data: _accepts(case, action, data, at=at, actor=actor)
    )


def _accepts(case: Case, action: str, data: dict[str, Any], *, at: Any, actor: str) -> bool:
    try:
        return case.can(action_name(action), at=at, actor=actor, **data)
    except InvalidInput:
        return False


#: Whole-number ranges for the policies drawn (a wider range only adds refused policies).
_RANGES = {"max_sessions": (4, 20), "required_sessions": (0, 4)}


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """Valid policies: each setting of the policy file's schema (``file_settings``) either
    left at its default or drawn from its kind, kept only when the static checks find no
    error (so that a workflow can be built and a case can complete)."""
    values: dict[str, Any] = {}
    for key, setting in file_settings().items():
        if not draw(st.booleans(), label=f"set {key}"):
            continue
        values[key] = draw(_setting_values(key, setting.kind, setting.minimum, setting.choices))
    if values.get("required_sessions", 0) > values.get("max_sessions", 12):
        values["required_sessions"] = 0
    policy = Policy(**values)
    assume(not has_errors(check_policy(policy)))
    return policy


def _setting_values(
    key: str, kind: Kind, minimum: int, choices: tuple[str, ...]
) -> st.SearchStrategy[Any]:
    categories = st.frozensets(st.sampled_from(OffenceCategory))
    if kind is Kind.TEXT:
        return st.text("abcdefghijklmnopqrstuvwxyz ()", min_size=1, max_size=40).filter(str.strip)
    if kind is Kind.WHOLE:
        low, high = _RANGES.get(key, (minimum, 2))
        return st.integers(low, high)
    if kind is Kind.SWITCH:
        return st.booleans()
    if kind is Kind.DURATION:
        return st.integers(1, 24 * 400).map(lambda hours: timedelta(hours=hours))
    if kind is Kind.CATEGORIES:
        return categories
    if kind is Kind.LEVEL:
        return levels
    return st.sampled_from(choices)


#: The stages :func:`cases` can drive a case to: every stage.
DRIVABLE = tuple(State)

#: The stages :func:`cases` reaches by way of the conference.
_BY_CONFERENCE = (State.CONFERENCE, State.REVIEW)

#: The end stages, reached by the path to them from :mod:`rjflow.paths`.
_ENDS = (State.COMPLETED, State.CLOSED)


@functools.lru_cache(maxsize=16)
def _end_paths(policy: Policy) -> dict[State, Path]:
    paths, _ = cover_stages(policy)
    return {State(p.goal.removeprefix("stage ")): p for p in paths}


def cases(stage: State, policy: Policy = LONDON_CRC) -> st.SearchStrategy[tuple[Case, Clock]]:
    """A case driven through the public API to ``stage`` under ``policy``, and a clock that
    continues after its last event.  Open stages: :func:`~rjflow.testing.at_stage` with one
    or two victims and an offence the route admits (conference and review by way of the
    conference); the completed and closed stages: the path to them from
    :func:`rjflow.paths.cover_stages`.

    Raises ``ValueError`` at once, saying why, for a ``stage`` that is not a
    :class:`~rjflow.State` and for one this route cannot reach under ``policy`` (a stage it
    switches off, a conference it admits no offence to): a test asking for it could never
    run.  Drawing policies?  Keep those whose workflow offers the stage, for example
    ``policies().filter(lambda p: State.REVIEW in Workflow.for_policy(p).states)``, and
    ask within ``flatmap``."""
    if not isinstance(stage, State):
        raise ValueError(
            f"cases() takes a State, such as State.PREPARATION (got {type(stage).__name__}); "
            f"the stages are {', '.join(f'State.{s.name}' for s in DRIVABLE)}."
        )
    if not isinstance(policy, Policy):
        raise ValueError(
            f"cases() takes a rjflow Policy as 'policy' (got {type(policy).__name__}); for a "
            "shipped example, rjflow.policy.example_policy(name).policy."
        )
    closed = _route_closed(stage, policy)
    if closed is not None:
        raise ValueError(
            f"cases() cannot drive a case to {stage.value} under this policy: {closed}"
        )
    return _cases(stage, policy)


def _route_closed(stage: State, policy: Policy) -> str | None:
    """Why :func:`cases`' route to ``stage`` is closed under ``policy``, or None."""
    offered = Workflow.for_policy(policy).states
    if stage not in offered:
        return (
            "the policy does not offer that stage (a switch turns it off); it offers "
            f"{', '.join(s.value for s in offered)}."
        )
    if stage in _ENDS and _end_paths(policy).get(stage) is None:
        return "no path of rjflow.paths reaches it."
    if stage in _BY_CONFERENCE:
        if State.CONFERENCE not in offered:
            return "the route goes by way of the conference, which the policy does not offer."
        if not policy.conference_categories:
            return (
                "the route goes by way of the conference, and the policy names no offence "
                "category for it (conference_categories is empty), which is where cases() "
                "takes the case's offence from."
            )
    return None


@st.composite
def _cases(draw: st.DrawFn, stage: State, policy: Policy) -> tuple[Case, Clock]:
    if stage in _ENDS:
        path = _end_paths(policy)[stage]
        case = run_path(path, policy)
        return case, Clock(case.history[-1].at + timedelta(hours=1))
    eligible = sorted(policy.conference_categories, key=lambda c: c.value)
    if stage in _BY_CONFERENCE:
        category = draw(st.sampled_from(eligible))
    else:
        category = draw(st.sampled_from([OffenceCategory.HOUSEHOLD_BURGLARY, *eligible]))
    two = draw(st.booleans(), label="two victims")
    cast = (Victim("V1"), Victim("V2")) if two else (Victim("V1"),)
    return at_stage(stage, category=category, victims=cast, policy=policy)
