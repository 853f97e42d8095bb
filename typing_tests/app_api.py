"""Type-checked usage of the application API of issue 10: forms, JSON, action names, statuses.

mypy --strict runs over this file (it is not run).  Lines ending in ``# type: ignore[<code>]``
are mistakes the types must catch: mypy's ``warn_unused_ignores`` (part of ``--strict``) fails
the check if one of them stops being an error, so each negative case is checked too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, assert_type

from rjflow import (
    ActionName,
    ActionStatus,
    Blocker,
    Case,
    ContactActivity,
    Event,
    Facilitator,
    Offence,
    OffenceCategory,
    Option,
    Party,
    PractitionerLevel,
    Staff,
    State,
    Victim,
    action_name,
)
from rjflow.commands import ConsentInput, RecordProgress, RecordSession
from rjflow.forms import Form, FormField, form, forms, input_json


def _case() -> tuple[Case, datetime]:
    t = datetime(2026, 3, 2, tzinfo=UTC)
    case = Case.open(
        "RJ-1",
        offence=Offence(OffenceCategory.THEFT),
        offender="O1",
        victims=["V1"],
        facilitators=[Facilitator("F1")],
        lead_facilitator="F1",
        at=t,
        actor="F1",
    )
    return case, t


def action_names_are_checked() -> None:
    """An action name is a Literal of the table's names: a typo is a type error."""
    case, t = _case()
    assert_type(case.fire("record_session", at=t, actor="F1", duration="PT2H"), Event)
    assert_type(case.blockers("record_session", duration="PT3H1M"), tuple[Blocker, ...])
    assert_type(case.can("start_introduction"), bool)
    case.fire("record_sesion", at=t, actor="F1", duration="PT2H")  # type: ignore[arg-type]
    case.blockers("clsoe")  # type: ignore[arg-type]
    case.can("start_intro")  # type: ignore[arg-type]
    posted: str = "record_session"  # a name from a form arrives as text...
    case.can(posted)  # type: ignore[arg-type]
    assert_type(case.can(action_name(posted)), bool)  # ...and is checked at run time
    for option in case.options():
        assert_type(option, Option)
        assert_type(option.action, ActionName)
        assert_type(option.depends_on, tuple[str, ...])
        assert_type(case.can(option.action), bool)  # an option's action fires as it is


def statuses_are_enums() -> None:
    """A progress status is an ActionStatus (or its value or label), never anything."""
    case, t = _case()
    assert_type(case.record_progress("A1", ActionStatus.DONE, at=t, actor="F1"), Event)
    assert_type(case.record_progress("A1", "done", at=t, actor="F1"), Event)
    case.record_progress("A1", 5, at=t, actor="F1")  # type: ignore[arg-type]
    case.record_progress("A1", True, at=t, actor="F1")  # type: ignore[arg-type]


def inputs_are_typed_as_what_they_accept() -> None:
    """An input class's arguments are typed as its converters accept them."""
    assert_type(RecordSession(timedelta(hours=2)).duration, timedelta)
    assert_type(RecordProgress("A1", "done").status, ActionStatus)
    assert_type(ConsentInput("V1", "face_to_face").activity, ContactActivity)
    RecordSession(90)  # type: ignore[arg-type]
    RecordProgress("A1", 3)  # type: ignore[arg-type]
    ConsentInput("V1", ContactActivity.SHUTTLE, "yes")  # type: ignore[arg-type]
    assert_type(Facilitator("F1", "advanced", ["domestic_abuse"]).level, PractitionerLevel)
    Facilitator("F1", level=[3])  # type: ignore[arg-type]
    Staff("M1", 5)  # type: ignore[arg-type]


def party_is_exported() -> None:
    """Party, the union of every kind of party, is public."""
    party: Party = Victim("V2")
    case, _ = _case()
    assert_type(case.record.parties, tuple[Party, ...])
    assert_type(party, Party)


def checking_the_stage_before_and_after_an_action() -> None:
    """The documented pattern: is_at before and after an action type-checks."""
    case, t = _case()
    assert case.is_at(State.REFERRED)
    case.record_sentence(sentenced_on=t.date(), at=t, actor="F1")
    case.start_introduction(at=t, actor="F1")
    assert case.is_at(State.INTRODUCTION)
    case.is_at("introduction")  # type: ignore[arg-type]


def comparing_state_twice_is_flagged() -> None:
    """Why is_at: mypy remembers the first comparison of the ``state`` property and cannot
    know that the action changed it, so the second is flagged (and what follows would be
    unreachable).  This is the pattern the documentation steers away from."""
    case, t = _case()
    assert case.state is State.REFERRED
    case.start_introduction(at=t, actor="F1")
    assert case.state is State.INTRODUCTION  # type: ignore[comparison-overlap]


def forms_and_json() -> None:
    """Forms and the JSON forms are typed."""
    case, _ = _case()
    assert_type(form("record_session"), Form)
    assert_type(forms(case.policy), tuple[Form, ...])
    assert_type(form("record_session").fields[0], FormField)
    assert_type(form("record_session").json_schema(), dict[str, Any])
    assert_type(case.to_json_dict(), dict[str, Any])
    assert_type(case.options()[0].to_json_dict(), dict[str, Any])
    assert_type(case.history[0].to_json_dict(), dict[str, Any])
    assert_type(case.blockers("start_introduction")[0].to_json_dict(), dict[str, Any])
    assert_type(input_json(RecordSession(timedelta(hours=1))), dict[str, Any])
