"""Hypothesis strategies shared by the stateful, property and fuzz tests.

Inputs are drawn with the case in view (ids of its parties, its agreement's actions) plus a
few ids that do not exist and a few malformed values, so both the rules and the input checks
are exercised.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

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
from rjflow.record import CaseRecord

#: Policies the workflow is exercised under: the default, and variations a service might set.
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

UNKNOWN = "X9"

#: Half the cases have an offence that may go to conference, so conferences are explored.
offences = st.builds(
    Offence,
    category=st.one_of(
        st.sampled_from([OffenceCategory.VIOLENCE, OffenceCategory.HOUSEHOLD_BURGLARY]),
        st.sampled_from(OffenceCategory),
    ),
    direct_personal_harm=st.booleans(),
    ongoing_contact=st.booleans(),
)

levels = st.sampled_from(PractitionerLevel)

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
    """Keyword inputs for ``action`` on a case whose record is ``rec``."""
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
