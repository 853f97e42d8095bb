"""The worked example: a household burglary from referral to completion.

Run it with ``rjflow demo`` (or ``python -m rjflow demo``).  :func:`build_demo_case` is also
what the tests, the docs and the benchmarks use as a realistic, complete case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from rjflow.activities import (
    ActionStatus,
    AgreementAction,
    ContactActivity,
    RiskOutcome,
    VictimUpdateAbout,
)
from rjflow.case import Case
from rjflow.errors import ActionRefused
from rjflow.history import Event
from rjflow.offences import Offence, OffenceCategory
from rjflow.parties import Facilitator, PractitionerLevel, Staff, StaffRole, Supporter

__all__ = ["DEMO_START", "build_demo_case", "format_event", "run_demo"]

#: When the demo case is referred.
DEMO_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


#: Input fields that may hold free text (personal data): a trail shows that they are there,
#: never what they say.
_FREE_TEXT = frozenset({"note", "what"})


def _shown(key: str, value: object) -> str | None:
    if value is None or value == [] or key in ("offence", "parties"):
        return None
    if key in _FREE_TEXT:
        return f"{key}=(text)"
    if key == "duration" and isinstance(value, int):
        hours, rest = divmod(value // 60, 60)
        return f"duration={hours} h {rest:02d} min" if rest else f"duration={hours} h"
    if isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value):
        return f"{key}={', '.join(str(v['id']) for v in value)}"
    if isinstance(value, dict | list):
        return None
    return f"{key}={value}"


def format_event(event: Event) -> str:
    """One line of a readable trail: when, who, what, and the stage change if any.  Free text
    (notes, what an agreement action says) is never shown."""
    when = event.at.strftime("%Y-%m-%d %H:%M")
    what = event.action.replace("_", " ")
    details = [d for k, v in sorted(event.data.items()) if (d := _shown(k, v)) is not None]
    move = f"  [{event.from_state or ''} -> {event.to_state}]" if event.to_state else ""
    detail = f" ({', '.join(details)})" if details else ""
    return f"{event.sequence:>3}  {when}  {event.actor:<4} {what}{detail}{move}"


def build_demo_case(
    case_id: str = "RJ-2026-0001",
    start: datetime = DEMO_START,
    on_refused: Callable[[ActionRefused], None] | None = None,
) -> Case:
    """The demo case, complete: referral, preparation, a conference with a signed outcome
    agreement, reviews, completion (agreement fulfilled, direct RJ) and the victim's feedback
    and a follow-up contact after the end.  ``on_refused`` sees the one refusal on the way (an
    attempt to hold the conference before the victim consented)."""
    day = timedelta(days=1)
    t = start
    f1, manager = "F1", "M1"
    case = Case.open(
        case_id,
        offence=Offence(OffenceCategory.HOUSEHOLD_BURGLARY),
        offender="O1",
        victims=["V1"],
        supporters=[Supporter("S1", supports="V1")],
        facilitators=[Facilitator("F1", PractitionerLevel.ADVANCED)],
        lead_facilitator=f1,
        staff=[Staff(manager, StaffRole.MANAGER)],
        at=t,
        actor=manager,
    )
    case.record_sentence(sentenced_on=date(2026, 2, 20), at=(t := t + day), actor=manager)
    case.start_introduction(at=(t := t + day), actor=f1)
    case.record_session(duration=timedelta(hours=2), at=(t := t + 7 * day), actor=f1)
    case.acknowledge_responsibility(guilty_plea=True, at=t, actor=f1)
    case.start_preparation(at=(t := t + day), actor=f1)
    case.record_session(duration=timedelta(hours=2, minutes=30), at=(t := t + 7 * day), actor=f1)
    case.assess_risk(RiskOutcome.FAVOURABLE, at=t, actor=f1)
    for party in ("O1", "V1"):
        case.give_information(party, ContactActivity.FACE_TO_FACE, at=(t := t + day), actor=f1)
    try:
        case.hold_conference(at=t, actor=f1)
    except ActionRefused as refused:
        if on_refused is not None:
            on_refused(refused)
    for party in ("O1", "V1"):
        case.record_consent(party, ContactActivity.FACE_TO_FACE, at=(t := t + day), actor=f1)
    case.record_victim_wishes("V1", keep_informed=True, at=t, actor=f1)
    # The victim's supporter is a participant too: informed, consenting, accepted by O1.
    case.give_information("S1", ContactActivity.FACE_TO_FACE, at=t, actor=f1)
    case.record_consent("S1", ContactActivity.FACE_TO_FACE, at=t, actor=f1)
    case.accept_supporter("S1", by="O1", at=t, actor=f1)
    # The conference is its own session: two and a half hours of the programme's twelve.
    case.hold_conference(at=(t := t + 7 * day), actor=f1, duration=timedelta(hours=2, minutes=30))
    case.propose_agreement(
        [
            AgreementAction(
                "A1", "Write to the victim about the steps taken", "O1", date(2026, 5, 1)
            ),
            AgreementAction("A2", "Complete the victim-awareness course", "O1", date(2026, 6, 1)),
        ],
        at=t,
        actor=f1,
    )
    for party in ("O1", "V1", "S1", f1):  # signed by all parties, the facilitator too
        case.sign_agreement(party, at=t, actor=f1)
    case.start_reviews(at=(t := t + day), actor=f1)
    case.record_session(duration=timedelta(hours=1), at=(t := t + 28 * day), actor=f1)
    case.record_progress("A1", ActionStatus.DONE, at=t, actor=f1)
    case.record_progress("A2", ActionStatus.IN_PROGRESS, at=t, actor=f1)
    case.inform_victim("V1", about=VictimUpdateAbout.PROGRESS, at=t, actor=f1)
    case.record_session(duration=timedelta(hours=1), at=(t := t + 28 * day), actor=f1)
    case.record_progress("A2", ActionStatus.DONE, at=t, actor=f1)
    case.inform_victim("V1", about=VictimUpdateAbout.CONCLUSION, at=t, actor=f1)
    case.complete(at=(t := t + day), actor=f1)
    # Evaluation goes on after the end: feedback and follow-up contact.
    case.record_feedback("V1", satisfaction=5, things_changed=True, at=(t := t + 7 * day), actor=f1)
    case.record_follow_up("V1", at=t, actor=f1)
    return case


def run_demo(echo: Callable[[str], None] = print) -> Case:
    """Build the demo case and print its trail, the refusal on the way, and the outcome."""
    echo("rjflow demo: a household burglary, from referral to completion")
    echo("")

    def show_refusal(refused: ActionRefused) -> None:
        echo("Before consent is recorded, the conference is refused, with every reason:")
        for blocker in refused.blockers:
            echo(f"  - [{blocker.code}] {blocker.message}")
        echo("")

    case = build_demo_case(on_refused=show_refusal)
    echo("The case's history (every accepted change, hash-chained):")
    for event in case.history:
        echo("  " + format_event(event))
    echo("")
    rec = case.record
    closure = rec.closure
    outcome = closure.outcome.value.replace("_", " ") if closure and closure.outcome else "none"
    rj_type = closure.rj_type.value if closure and closure.rj_type else "none"
    echo(
        f"Outcome: {case.state.label}; {rec.sessions_held} of {case.policy.max_sessions} "
        f"sessions held; agreement {outcome}; restorative justice delivered: {rj_type}."
    )
    echo(f"Last event hash: {case.history[-1].hash}")
    return case
