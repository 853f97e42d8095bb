"""The outcome agreement and its reviews: proposed, signed by all, progress recorded (seed);
voluntary throughout: varied or waived with the parties, ended fulfilled, partly or not
fulfilled, never enforced (practice: UN Basic Principles on RJ 2002/12 §17).

Whether an agreement binds is decided in one place, :meth:`rjflow.CaseRecord.agreement_binding`:
every current signatory (the participants and, where ``Policy.facilitator_signs_agreement``,
the lead facilitator) has signed its current terms, each participant with their consent to the
agreement's activity in force.
"""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.activities import (
    ActionStatus,
    LetterStatus,
)
from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    Input,
    ProposeAgreement,
    RecordProgress,
    SignAgreement,
    VaryAgreement,
    WaiveAgreementAction,
)
from rjflow.parties import Offender, Supporter, Victim
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _guard,
    _words,
)
from rjflow.states import State


@_guard
def activity_concluded(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The activity has run its course: the letter delivered or held on file; at least one
    shuttle message carried.
    Source: seed (the sessions run in order); *inferred* end of each activity."""
    settled = (LetterStatus.DELIVERED, LetterStatus.HELD_ON_FILE)  # every letter (issue 14)
    if rec.state is State.LETTER_OF_APOLOGY and (
        not rec.letters or any(x.status not in settled for x in rec.letters)
    ):
        yield _block(
            "letter_not_settled",
            "The letter of apology has not been delivered or held on file yet; settle it "
            "before reviews start.",
        )
    if rec.state is State.SHUTTLE_MEDIATION and not rec.shuttle_messages:
        yield _block(
            "no_shuttle_messages",
            "No shuttle message has been carried yet; record at least one before reviews start.",
        )


def _or_withdraw(rec: CaseRecord, policy: Policy) -> str:
    """The way on while varied terms await signatures (nothing otherwise), ending a sentence."""
    if rec.variation_pending(policy):
        return _words(
            ", or, if the parties do not all sign the varied terms, withdraw the variation "
            "(withdraw_variation): the signed terms then stay in force."
        )
    return "."


def _missing_blockers(rec: CaseRecord, policy: Policy, then: str) -> Iterator[Blocker]:
    if rec.variation_pending(policy):
        then = then.rstrip(".") + _or_withdraw(rec, policy)
    missing = rec.agreement_missing(policy)
    assert rec.agreement is not None
    unsigned = [p for p in missing if not rec.agreement.signed_by(p)]
    lapsed = [p for p in missing if rec.agreement.signed_by(p)]
    if unsigned:
        # Translators: {parties} is a comma-separated list of party ids; {then} is rjflow's
        # English sentence saying what to do next.
        yield _block(
            "agreement_unsigned",
            "The outcome agreement is not signed by every signatory yet (unsigned: {parties}); "
            "{then}",
            unsigned[0],
            parties=", ".join(unsigned),
            then=then,
        )
    if lapsed:
        # Translators: {activity} is an activity's label in English ("conference").
        yield _block(
            "signature_lapsed",
            "The signature of {parties} no longer counts because their consent to {activity} is "
            "not in force; {then}",
            lapsed[0],
            parties=", ".join(lapsed),
            activity=rec.agreement_activity().label,
            then=then,
        )


@_guard
def agreement_settled(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """An outcome agreement binds only when signed by all parties (seed), each signature
    counting only while the signer's consent is in force (practice); the lead facilitator
    signs too where ``Policy.facilitator_signs_agreement``.  One that does not bind must be
    signed or set aside before reviews start."""
    if rec.agreement is not None and not rec.agreement_binding(policy):
        yield from _missing_blockers(
            rec,
            policy,
            _words("collect the signatures (with consent in force), or set the agreement aside."),
        )


@_guard
def agreement_not_binding(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A binding agreement is not replaced or set aside; it can be varied with the parties
    (``vary_agreement``).
    Source: seed (signed by all parties)."""
    if rec.agreement is not None and rec.agreement_binding(policy):
        yield _block(
            "agreement_binding",
            "The outcome agreement is signed by everyone and binding; it cannot be replaced or "
            "set aside. Vary it with the parties if its terms should change.",
        )


@_guard
def agreement_proposed(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """There is an outcome agreement to act on.
    Source: seed (the conference leads to an outcome agreement)."""
    if rec.agreement is None:
        yield _block("no_agreement", "No outcome agreement has been proposed yet.")


@_guard
def responsible_parties_known(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Each action is owned by a participant on the case: the offender, a victim or a
    supporter, never a facilitator (practice: SMART actions name the responsible party)."""
    if not isinstance(inp, ProposeAgreement | VaryAgreement):
        return
    for item in inp.actions:
        party = rec.party(item.responsible)
        if party is None:
            yield _block(
                "unknown_party",
                "Agreement action {action} names {party} as responsible, who is not a party to "
                "this case.",
                item.responsible,
                action=item.id,
                party=item.responsible,
            )
        elif not isinstance(party, Offender | Victim | Supporter):
            yield _block(
                "responsible_not_participant",
                "Agreement action {action} names {party}, a {role}, as responsible; an action "
                "is owned by the offender, a victim or a supporter.",
                item.responsible,
                action=item.id,
                party=item.responsible,
                role=party.role.value,
            )


@_guard
def agreement_actions_dated(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Every action's deadline is on or after the day the agreement (or its variation) is
    made (practice: SMART actions; *inferred*: a deadline in the past cannot be met)."""
    if not isinstance(inp, ProposeAgreement | VaryAgreement):
        return
    today = act.at.date()
    for item in inp.actions:
        if item.deadline < today:
            yield _block(
                "deadline_before_agreement",
                "Agreement action {action} has a deadline of {deadline}, before the agreement "
                "is made ({today}); give a deadline on or after that day.",
                item.id,
                action=item.id,
                deadline=item.deadline.isoformat(),
                today=today.isoformat(),
            )


@_guard
def signatory_may_sign(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Every signatory signs the current terms once: the participants, with their consent to
    the agreement's activity in force (a supporter who withdrew or declined does not sign), and
    the lead facilitator where ``Policy.facilitator_signs_agreement`` (seed: "signed by all
    parties"; practice: a signature counts only while the signer's consent is in force)."""
    agreement = rec.agreement
    if agreement is None:
        return
    signatories = rec.agreement_signatories(policy)
    if inp is None and all(agreement.signed_by(p) for p in signatories):
        yield _block("already_signed", "Every signatory has already signed the agreement.")
    if not isinstance(inp, SignAgreement):
        return
    if inp.party not in signatories:
        yield _block(
            "not_a_signatory",
            "Party {party} is not a participant asked to sign this agreement.",
            inp.party,
            party=inp.party,
        )
    elif agreement.signed_by(inp.party):
        yield _block(
            "already_signed",
            "{party} has already signed the agreement.",
            inp.party,
            party=inp.party,
        )
    elif not rec.signer_consent_in_force(inp.party):
        # The offender or a victim without consent, or a supporter who withdrew or declined.
        activity = rec.agreement_activity()
        yield _block(
            "signer_consent_not_in_force",
            "Party {party} has no consent to {activity} in force, so their signature would not "
            "count; record their consent first, or go on without them.",
            inp.party,
            party=inp.party,
            activity=activity.label,
        )


@_guard
def agreement_signed_by_all(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Only a signed agreement is varied; an agreement still collecting signatures is
    proposed again instead (practice: varied with everyone's signature)."""
    agreement = rec.agreement
    if agreement is None:
        return
    unsigned = [p for p in rec.agreement_signatories(policy) if not agreement.signed_by(p)]
    if unsigned:
        instead = (
            _words("withdraw the variation (withdraw_variation) to go on under the signed terms")
            if rec.variation_pending(policy)
            else _words("propose new terms at the conference or shuttle stage")
        )
        # Translators: {instead} is rjflow's English words for the other way on.
        yield _block(
            "agreement_not_signed_yet",
            "The outcome agreement is still being signed (unsigned: {parties}); collect the "
            "signatures, or {instead}.",
            unsigned[0],
            parties=", ".join(unsigned),
            instead=instead,
        )


@_guard
def variation_pending(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A variation is voluntary: when not every signatory signs the varied terms, the variation
    is withdrawn and the signed terms it would have replaced stay in force, so the case goes on
    under them (practice: UN Basic Principles on RJ 2002/12 §7, participation and agreements
    are voluntary; RJC Practitioner Code; *inferred*: the earlier terms were never set aside)."""
    if not rec.variation_pending(policy):
        yield _block(
            "no_variation_pending",
            "No varied terms are awaiting signatures, so there is no variation to withdraw.",
        )


@_guard
def agreement_action_known(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Progress is recorded on, and actions waived from, an agreement that binds now: that is
    the parties' agreement in force (practice)."""
    if rec.agreement is None or not rec.agreement_binding(policy):
        yield _block(
            "no_binding_agreement",
            "There is no outcome agreement in force (signed by every signatory, with their "
            "consent in force) whose actions could be reviewed; collect the signatures "
            "first{way_on}",
            way_on=_or_withdraw(rec, policy),
        )
        return
    if (
        isinstance(inp, RecordProgress | WaiveAgreementAction)
        and rec.agreement.action(inp.action_id) is None
    ):
        yield _block(
            "unknown_agreement_action",
            "The agreement has no action {action}; use one of its action ids.",
            inp.action_id,
            action=inp.action_id,
        )


@_guard
def progress_not_waiver(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """An action is waived only with the parties' agreement (``waive_agreement_action``),
    never by recording progress, and a waived action is settled (practice, *inferred*)."""
    if not isinstance(inp, RecordProgress):
        return
    if inp.status is ActionStatus.WAIVED:
        yield _block(
            "use_waive_agreement_action",
            "An action is waived with the parties' agreement: use waive agreement action, not "
            "record progress.",
            inp.action_id,
        )
    elif rec.action_status(inp.action_id) is ActionStatus.WAIVED:
        yield _block(
            "action_waived",
            "Agreement action {action} was waived with the parties; no further progress is "
            "recorded on it. Vary the agreement to bring it back.",
            inp.action_id,
            action=inp.action_id,
        )


@_guard
def action_waivable(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """An action not yet done (in progress, past its deadline, or not complied with) can be
    waived once, with the parties' agreement: recorded at a review while the agreement binds,
    so every signatory's consent is in force (practice: UN Basic Principles 2002/12 §17)."""
    if not isinstance(inp, WaiveAgreementAction):
        return
    status = rec.action_status(inp.action_id)
    if status in (ActionStatus.DONE, ActionStatus.WAIVED):
        yield _block(
            "action_settled",
            "Agreement action {action} is already {status}; there is nothing to waive.",
            inp.action_id,
            action=inp.action_id,
            status=status.value.replace("_", " "),
        )


@_guard
def agreement_fulfilled(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The programme completes when every agreed action has a final status: done, not
    complied with, or waived (seed: reviews of progress on the agreement).  The case then
    ends with the agreement fulfilled, partly fulfilled or not fulfilled; failing an action
    never leads to enforcement (practice: UN Basic Principles on RJ 2002/12 §17)."""
    if rec.agreement is None:
        return
    outstanding = [a.id for a in rec.agreement.actions if not rec.action_status(a.id).final]
    if outstanding:
        yield _block(
            "agreement_actions_outstanding",
            "Agreement action(s) {actions} have no final status yet; at a review record each as "
            "done or not complied with, or vary the agreement or waive the action with the "
            "parties.",
            outstanding[0],
            actions=", ".join(outstanding),
        )


@_guard
def agreement_in_force(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A case with an outcome agreement completes only while the agreement binds: new terms
    are signed by everyone, and each signer's consent is still in force (practice)."""
    if rec.agreement is not None and not rec.agreement_binding(policy):
        yield from _missing_blockers(
            rec,
            policy,
            _words(
                "collect the signatures with consent in force, or close the case with the "
                "reason that applies."
            ),
        )
