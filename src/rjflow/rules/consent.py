"""Information and consent: informed, voluntary, per party and activity, withdrawable at any time
(practice: RJC codes, Victims' Code).

Decline, withdrawal, consent and the party's own requests form one timeline per party and
activity (:meth:`~rjflow.record.CaseRecord.timeline`).  The service never approaches a party
again about an activity they declined; the party may come back themselves at any time, and
their recorded request (``record_request``) lifts the decline.  Supporters are participants:
informed, consenting and accepted by the other side before they attend.  A party under 18
takes part with an appropriate adult who consents too; a party who needs an interpreter has
one for information and consent.
"""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.activities import (
    ConsentStatus,
    ContactActivity,
)
from rjflow.blocker import Blocker
from rjflow.commands import (
    AcceptSupporter,
    Acting,
    ConsentInput,
    DeclineAll,
    HoldConference,
    Input,
    RecordRequest,
    RecordShuttleMessage,
)
from rjflow.parties import Offender, Party, Supporter, Victim
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _conference_victims,
    _guard,
    _known_victims,
    _shuttle_victims,
    _words,
)
from rjflow.states import State


def _consent_blockers(
    rec: CaseRecord,
    who: str,
    party_id: str,
    activity: ContactActivity,
    otherwise: str = _words("Offer another activity, or close the case."),
    *,
    policy: Policy | None = None,
) -> Iterator[Blocker]:
    status = rec.consent_status(party_id, activity)
    if status is ConsentStatus.GIVEN:
        if policy is not None:
            yield from _appropriate_adult_blockers(rec, policy, who, party_id, activity)
        return
    if status is None:
        # Translators: {who} is "Victim", "Offender" or "Supporter"; {activity} an activity's
        # label in English ("face-to-face meeting").
        yield _block(
            who + "_consent_missing",
            "{who} {party} has not consented to {activity}; give them information about it and "
            "record their written consent first.",
            party_id,
            who=who.capitalize(),
            party=party_id,
            activity=activity.label,
        )
    elif status is ConsentStatus.DECLINED:
        # Translators: {otherwise} is rjflow's English sentence saying what to do instead.
        yield _block(
            who + "_declined",
            "{who} {party} declined {activity}; it cannot go ahead with them, and the service "
            "does not ask them again. {otherwise} If they come back themselves, record their "
            "request, then their consent.",
            party_id,
            who=who.capitalize(),
            party=party_id,
            activity=activity.label,
            otherwise=otherwise,
        )
    else:
        yield _block(
            who + "_consent_withdrawn",
            "{who} {party} withdrew consent to {activity}; it cannot go ahead with them. "
            "{otherwise} A withdrawal is not a wish never to be approached again: they may be "
            "asked again later (if they do not want that, record a decline).",
            party_id,
            who=who.capitalize(),
            party=party_id,
            activity=activity.label,
            otherwise=otherwise,
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
        yield from _consent_blockers(
            rec, "victim", vid, ContactActivity.FACE_TO_FACE, policy=policy
        )
    if isinstance(inp, HoldConference) and inp.supporters is not None:
        for sid in inp.supporters:
            sup = rec.party(sid)
            if not isinstance(sup, Supporter) or sup.supports not in (*ids, rec.offender.id):
                yield _block(
                    "unknown_supporter",
                    "Party {party} is not a supporter of anyone at this conference; list only "
                    "supporters of the victims present or of the offender.",
                    sid,
                    party=sid,
                )


@_guard
def offender_consents_face_to_face(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The offender agrees to meet the victim (practice: participation is voluntary)."""
    yield from _consent_blockers(
        rec, "offender", rec.offender.id, ContactActivity.FACE_TO_FACE, policy=policy
    )


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
            yield from _consent_blockers(
                rec, "victim", inp.victim, ContactActivity.SHUTTLE, policy=policy
            )
        return
    if not ids:
        yield _block(
            "victim_consent_missing",
            "No victim has consented to {activity}; give a victim information about it and "
            "record their written consent first.",
            activity=ContactActivity.SHUTTLE.label,
        )
        return
    # Issue 14: a young victim's consent is in force only with their appropriate adult's.
    waiting = [
        list(_appropriate_adult_blockers(rec, policy, "victim", v, ContactActivity.SHUTTLE))
        for v in ids
    ]
    if all(waiting):
        yield from waiting[0]


@_guard
def offender_consents_shuttle(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The offender agrees to shuttle mediation (practice: participation is voluntary)."""
    yield from _consent_blockers(
        rec, "offender", rec.offender.id, ContactActivity.SHUTTLE, policy=policy
    )


@_guard
def party_can_consent(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Consent is given by the offender, a victim or a supporter: a supporter consents to a
    face-to-face meeting (they attend it; shuttle mediation and letters pass between offender
    and victim only), an appropriate adult to whatever the young person they support takes
    part in; a letter is received by a victim only (seed, practice: RJC Service Provider Code,
    written consent of all participants)."""
    if not isinstance(inp, ConsentInput):
        return
    party = rec.party(inp.party)
    if party is None:
        yield _block(
            "unknown_party",
            "Party {party} is not a party to this case; add them first, or correct the id.",
            inp.party,
            party=inp.party,
        )
    elif not _may_consent_to(rec, party, inp.activity):
        who = {
            ContactActivity.RECEIVE_LETTER: _words(
                "a victim (or a young victim's appropriate adult)"
            ),
            ContactActivity.SHUTTLE: _words(
                "a victim or the offender (or a young party's appropriate adult)"
            ),
            ContactActivity.FACE_TO_FACE: _words("a victim, the offender or a supporter"),
        }[inp.activity]
        # Translators: {role} is a party's role ("supporter"); {who} says in English who may
        # consent ("a victim, the offender or a supporter").
        yield _block(
            "party_cannot_consent",
            "Party {party} is a {role}; consent to {activity} is given by {who}.",
            inp.party,
            party=inp.party,
            role=party.role.value,
            activity=inp.activity.label,
            who=who,
        )


@_guard
def party_not_declined(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A person who declined is not approached again about it by the service; they may come
    back themselves at any time, and their recorded request lifts the decline (practice: HMPPS
    Victim Contact Scheme, "if you change your mind, you can contact us at any time"; Victims'
    Code: restorative justice can be asked for at any stage).  A withdrawal stops what
    depended on the consent but is not a decline: record a decline too when the party does
    not want to be asked again."""
    if not isinstance(inp, ConsentInput):
        return
    if rec.decline_stands(inp.party, inp.activity):
        yield _block(
            "party_declined",
            "Party {party} declined {activity}, so the service does not approach them about it "
            "again. They may come back themselves at any time: when they ask, record their "
            "request (record_request), then give information and record consent.",
            inp.party,
            party=inp.party,
            activity=inp.activity.label,
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
            "Party {party} has not been given information about {activity}; explain the "
            "process, its possible outcomes and how an agreement is monitored, record that, "
            "then record consent.",
            inp.party,
            party=inp.party,
            activity=inp.activity.label,
        )


@_guard
def consent_not_in_force(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Consent is recorded once; it stays in force until withdrawn.
    Source: practice (RJC codes: written, informed consent per activity)."""
    if isinstance(inp, ConsentInput) and rec.consents_to(inp.party, inp.activity):
        yield _block(
            "consent_already_given",
            "Party {party}'s consent to {activity} is already recorded and in force.",
            inp.party,
            party=inp.party,
            activity=inp.activity.label,
        )


@_guard
def consent_in_force(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Only consent that is in force can be withdrawn.
    Source: practice (RJC codes, Victims' Code: consent is withdrawable)."""
    if inp is None and not any(rec.consents_to(c.party, c.activity) for c in rec.consents):
        yield _block(
            "no_consent_to_withdraw",
            "No one's consent is in force, so there is nothing to withdraw.",
        )
    if isinstance(inp, ConsentInput) and not rec.consents_to(inp.party, inp.activity):
        yield _block(
            "no_consent_to_withdraw",
            "Party {party} has no consent to {activity} in force, so there is nothing to "
            "withdraw. To record a refusal, record a decline.",
            inp.party,
            party=inp.party,
            activity=inp.activity.label,
        )


# -- change of mind, supporters, youth and access (issue 14) ---------------------------------


def _may_consent_to(rec: CaseRecord, party: Party, activity: ContactActivity) -> bool:
    """Whether ``party`` is someone whose consent to ``activity`` the programme records."""
    if isinstance(party, Victim):
        return True
    if isinstance(party, Offender):
        return activity is not ContactActivity.RECEIVE_LETTER
    if isinstance(party, Supporter):
        if activity is ContactActivity.FACE_TO_FACE:
            return True
        youth = rec.party(party.supports)
        return (
            party.appropriate_adult
            and isinstance(youth, Offender | Victim)
            and _may_consent_to(rec, youth, activity)
        )
    return False


def _is_youth(rec: CaseRecord, policy: Policy, party_id: str) -> bool:
    party = rec.party(party_id)
    return (
        policy.youth_needs_appropriate_adult
        and isinstance(party, Offender | Victim)
        and party.under_18
    )


def _appropriate_adult_blockers(
    rec: CaseRecord, policy: Policy, who: str, party_id: str, activity: ContactActivity
) -> Iterator[Blocker]:
    """A young person's consent is in force for contact only with their appropriate adult's."""
    if not _is_youth(rec, policy, party_id):
        return
    adults = rec.appropriate_adults(party_id)
    if not adults:
        yield _block(
            "appropriate_adult_missing",
            "{who} {party} is under 18 and takes part with a parent, guardian or appropriate "
            "adult; add one as their supporter (appropriate_adult=True), give them information "
            "and record their consent too.",
            party_id,
            who=who.capitalize(),
            party=party_id,
        )
    elif not any(rec.consents_to(a.id, activity) for a in adults):
        yield _block(
            "appropriate_adult_consent_missing",
            "{who} {party} is under 18: their consent to {activity} is in force only with "
            "their appropriate adult's ({adult}); give the appropriate adult information and "
            "record their consent.",
            adults[0].id,
            who=who.capitalize(),
            party=party_id,
            activity=activity.label,
            adult=adults[0].id,
        )


def _accepting_parties(
    rec: CaseRecord, sup: Supporter, victims: tuple[str, ...]
) -> tuple[str, ...]:
    """Who must accept ``sup``: the side they do not support."""
    if sup.supports == rec.offender.id:
        return victims
    if isinstance(rec.party(sup.supports), Victim):
        return (rec.offender.id,)
    return ()


def supporter_blockers(
    rec: CaseRecord, sup: Supporter, victims: tuple[str, ...]
) -> Iterator[Blocker]:
    """Why ``sup`` may not attend a meeting with ``victims``: their consent to meeting is not
    in force, or the other side has not accepted them."""
    without = _words("To hold the conference without them, list the supporters who attend.")
    for found in _consent_blockers(rec, "supporter", sup.id, ContactActivity.FACE_TO_FACE, without):
        if found.code == "supporter_consent_missing":
            yield _block(
                found.code,
                "{who} {party} has not consented to {activity}; give them information about it "
                "and record their written consent first. To hold the conference without them, "
                "list the supporters who attend.",
                found.subject,
                **found.params,
            )
        else:
            yield found
    for by in _accepting_parties(rec, sup, victims):
        if not rec.accepts_supporter(by, sup.id):
            yield _block(
                "supporter_not_accepted",
                "Supporter {supporter} has not been accepted by {by}, on the side they do not "
                "support; record {by}'s acceptance (accept_supporter), or list the supporters "
                "who attend without them.",
                sup.id,
                supporter=sup.id,
                by=by,
            )


def attending_supporters(
    rec: CaseRecord, victims: tuple[str, ...], chosen: tuple[str, ...] | None
) -> tuple[str, ...]:
    """The supporters at a conference with ``victims``: those ``chosen``, or by default every
    supporter of those present (each must be ready to attend: see ``supporters_may_attend``)."""
    if chosen is not None:
        return chosen
    present = (*victims, rec.offender.id)
    return tuple(s.id for s in rec.supporters if s.supports in present)


@_guard
def supporters_may_attend(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A supporter attends only when given information, consenting to the meeting and
    accepted by the side they do not support; by default every supporter of those present
    attends, so one who is not ready blocks the conference until they are, or until the
    supporters who attend are listed without them.  A party under 18 meets the other side only
    with their appropriate adult there (practice: RJC Service Provider Code, written consent
    of all participants; ``Policy.youth_needs_appropriate_adult``)."""
    if inp is not None and not isinstance(inp, HoldConference):
        return
    ids = _conference_victims(rec, inp)
    chosen = inp.supporters if inp is not None else None
    attending = attending_supporters(rec, ids, chosen)
    for sid in attending:
        sup = rec.party(sid)
        if isinstance(sup, Supporter) and sup.supports in (*ids, rec.offender.id):
            yield from supporter_blockers(rec, sup, ids)
    for pid in (*ids, rec.offender.id):
        adults = rec.appropriate_adults(pid)
        if _is_youth(rec, policy, pid) and adults and not any(a.id in attending for a in adults):
            yield _block(
                "appropriate_adult_absent",
                "Party {party} is under 18 and meets the other side only with their appropriate "
                "adult ({adult}) there; the appropriate adult must consent, be accepted by the "
                "other side and attend.",
                adults[0].id,
                party=pid,
                adult=adults[0].id,
            )


@_guard
def interpreter_present(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A party who needs an interpreter is informed, and consents, with one (Victims' Code,
    right 1: to understand and be understood; UN Basic Principles on RJ 2002/12, §13; no
    policy switch: it is a right)."""
    if not isinstance(inp, ConsentInput) or inp.interpreter_provided:
        return
    party = rec.party(inp.party)
    if isinstance(party, Offender | Victim | Supporter) and party.needs_interpreter:
        yield _block(
            "interpreter_needed",
            "Party {party} needs an interpreter: information and consent are recorded only with "
            "one present. Arrange an interpreter and record that one was provided "
            "(interpreter_provided=True).",
            inp.party,
            party=inp.party,
        )


@_guard
def party_may_request(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A request comes from a participant (the offender, a victim or a supporter) who asks
    for restorative justice in general or for an activity they can take part in; a victim may
    ask at any stage (Victims' Code; HMPPS Victim Contact Scheme)."""
    if not isinstance(inp, RecordRequest):
        return
    party = rec.party(inp.party)
    if not isinstance(party, Offender | Victim | Supporter):
        yield _block(
            "unknown_participant",
            "Party {party} is not a participant (offender, victim or supporter) on this case; "
            "only a participant's own request is recorded.",
            inp.party,
            party=inp.party,
        )
    elif inp.activity is not None and not _may_consent_to(rec, party, inp.activity):
        yield _block(
            "party_cannot_consent",
            "Party {party} is a {role} and does not take part in {activity}; record a request "
            "for restorative justice in general instead.",
            inp.party,
            party=inp.party,
            role=party.role.value,
            activity=inp.activity.label,
        )


@_guard
def supporter_acceptance_valid(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A supporter is accepted by the side they do not support: a victim's supporter by the
    offender, the offender's supporter by a victim (practice: RJC Service Provider Code,
    written consent of all participants)."""
    if not isinstance(inp, AcceptSupporter):
        return
    sup = rec.party(inp.supporter)
    if not isinstance(sup, Supporter):
        yield _block(
            "unknown_supporter",
            "Party {party} is not a supporter on this case; add them as a supporter first, or "
            "correct the id.",
            inp.supporter,
            party=inp.supporter,
        )
        return
    by = rec.party(inp.by)
    victims = tuple(v.id for v in rec.victims)
    if by is None or inp.by not in _accepting_parties(rec, sup, victims):
        yield _block(
            "not_the_other_side",
            "Party {party} is not on the side supporter {supporter} does not support; a "
            "victim's supporter is accepted by the offender, the offender's supporter by a "
            "victim.",
            inp.by,
            party=inp.by,
            supporter=sup.id,
        )


# -- a general decline (issue 14 fixes) ---------------------------------------------------------


def activities_of(rec: CaseRecord, party_id: str) -> tuple[ContactActivity, ...]:
    """The activities ``party_id`` could consent to (and so decline), in the enum's order."""
    party = rec.party(party_id)
    if party is None:
        return ()
    return tuple(a for a in ContactActivity if _may_consent_to(rec, party, a))


@_guard
def participant_may_decline(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A participant (the offender, a victim or a supporter) may decline restorative justice
    altogether at any time, also after the case ended; the service then does not approach them
    about any activity unless they come back themselves (practice: participation is voluntary,
    RJC codes; Victims' Code; HMPPS Victim Contact Scheme).  Unlike a withdrawal, which stops
    what depended on the consent but lets the service ask again later, a decline records the
    wish not to be approached again."""
    if isinstance(inp, DeclineAll) and not isinstance(
        rec.party(inp.party), Offender | Victim | Supporter
    ):
        yield _block(
            "unknown_participant",
            "Party {party} is not a participant (offender, victim or supporter) on this case; "
            "only a participant declines restorative justice.",
            inp.party,
            party=inp.party,
        )
