"""Information and consent: informed, voluntary, per party and activity, withdrawable at any time
(practice: RJC codes, Victims' Code).
"""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.activities import (
    ConsentStatus,
    ContactActivity,
)
from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    ConsentInput,
    HoldConference,
    Input,
    RecordShuttleMessage,
)
from rjflow.parties import Offender, Supporter, Victim
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _conference_victims,
    _guard,
    _known_victims,
    _shuttle_victims,
)
from rjflow.states import State


def _consent_blockers(
    rec: CaseRecord,
    who: str,
    party_id: str,
    activity: ContactActivity,
    otherwise: str = "Offer another activity, or close the case.",
) -> Iterator[Blocker]:
    status = rec.consent_status(party_id, activity)
    if status is ConsentStatus.GIVEN:
        return
    if status is None:
        yield _block(
            f"{who}_consent_missing",
            f"{who.capitalize()} {party_id} has not consented to {activity.label}; give them "
            "information about it and record their written consent first.",
            party_id,
        )
    elif status is ConsentStatus.DECLINED:
        yield _block(
            f"{who}_declined",
            f"{who.capitalize()} {party_id} declined {activity.label}; it cannot go ahead with "
            f"them. {otherwise}",
            party_id,
        )
    else:
        yield _block(
            f"{who}_consent_withdrawn",
            f"{who.capitalize()} {party_id} withdrew consent to {activity.label}; it cannot go "
            f"ahead with them. {otherwise}",
            party_id,
        )


@_guard
def victims_consent_face_to_face(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Every victim who is to meet the offender has given informed consent to a face-to-face
    meeting, and it is in force (seed, practice)."""
    ids = _conference_victims(rec, inp)
    unknown = list(_known_victims(rec, ids))
    yield from unknown
    if unknown:
        return
    for vid in ids:
        yield from _consent_blockers(rec, "victim", vid, ContactActivity.FACE_TO_FACE)
    if isinstance(inp, HoldConference) and inp.supporters is not None:
        for sid in inp.supporters:
            sup = rec.party(sid)
            if not isinstance(sup, Supporter) or sup.supports not in (*ids, rec.offender.id):
                yield _block(
                    "unknown_supporter",
                    f"Party {sid} is not a supporter of anyone at this conference; list only "
                    "supporters of the victims present or of the offender.",
                    sid,
                )


@_guard
def offender_consents_face_to_face(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The offender agrees to meet the victim (practice: participation is voluntary)."""
    yield from _consent_blockers(rec, "offender", rec.offender.id, ContactActivity.FACE_TO_FACE)


@_guard
def conference_consent_in_force(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A conference session takes place only while everyone's consent is in force: a
    withdrawal blocks it at once (practice)."""
    if rec.state is not State.CONFERENCE:
        return
    yield from victims_consent_face_to_face(rec, policy, None, act)
    yield from offender_consents_face_to_face(rec, policy, None, act)


@_guard
def victims_consent_shuttle(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Shuttle mediation only with a victim's informed consent to indirect contact, in force
    (seed, practice)."""
    ids = _shuttle_victims(rec, inp)
    if isinstance(inp, RecordShuttleMessage):
        if isinstance(rec.party(inp.victim), Victim):
            yield from _consent_blockers(rec, "victim", inp.victim, ContactActivity.SHUTTLE)
        return
    if not ids:
        yield _block(
            "victim_consent_missing",
            f"No victim has consented to {ContactActivity.SHUTTLE.label}; give a victim "
            "information about it and record their written consent first.",
        )


@_guard
def offender_consents_shuttle(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The offender agrees to shuttle mediation (practice: participation is voluntary)."""
    yield from _consent_blockers(rec, "offender", rec.offender.id, ContactActivity.SHUTTLE)


@_guard
def party_can_consent(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Consent is given by the offender or a victim; a letter is received by a victim only."""
    if not isinstance(inp, ConsentInput):
        return
    party = rec.party(inp.party)
    if party is None:
        yield _block(
            "unknown_party",
            f"Party {inp.party} is not a party to this case; add them first, or correct the id.",
            inp.party,
        )
    elif not isinstance(party, Offender | Victim) or (
        inp.activity is ContactActivity.RECEIVE_LETTER and not isinstance(party, Victim)
    ):
        who = (
            "a victim"
            if inp.activity is ContactActivity.RECEIVE_LETTER
            else "a victim or the offender"
        )
        yield _block(
            "party_cannot_consent",
            f"Party {inp.party} is a {party.role.value}; consent to {inp.activity.label} is given "
            "by "
            f"{who}.",
        )


@_guard
def party_not_declined(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A person who declined is not contacted again about it (practice)."""
    if not isinstance(inp, ConsentInput):
        return
    if rec.consent_status(inp.party, inp.activity) is ConsentStatus.DECLINED:
        yield _block(
            "party_declined",
            f"Party {inp.party} declined {inp.activity.label} and must not be contacted again "
            "about it.",
        )


@_guard
def information_given(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Information about the process, its outcomes and monitoring comes before consent
    (practice; ``Policy.information_before_consent``)."""
    if not policy.information_before_consent or not isinstance(inp, ConsentInput):
        return
    if not rec.informed_about(inp.party, inp.activity):
        yield _block(
            "information_not_given",
            f"Party {inp.party} has not been given information about {inp.activity.label}; explain "
            "the process, its possible outcomes and how an agreement is monitored, record that, "
            "then record consent.",
        )


@_guard
def consent_not_in_force(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Consent is recorded once; it stays in force until withdrawn."""
    if isinstance(inp, ConsentInput) and rec.consents_to(inp.party, inp.activity):
        yield _block(
            "consent_already_given",
            f"Party {inp.party}'s consent to {inp.activity.label} is already recorded and in "
            "force.",
        )


@_guard
def consent_in_force(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Only consent that is in force can be withdrawn."""
    if inp is None and not any(rec.consents_to(c.party, c.activity) for c in rec.consents):
        yield _block(
            "no_consent_to_withdraw",
            "No one's consent is in force, so there is nothing to withdraw.",
        )
    if isinstance(inp, ConsentInput) and not rec.consents_to(inp.party, inp.activity):
        yield _block(
            "no_consent_to_withdraw",
            f"Party {inp.party} has no consent to {inp.activity.label} in force, so there is "
            "nothing "
            "to withdraw. To record a refusal, record a decline.",
        )
