"""The outcome agreement and its reviews: proposed, signed by all, progress recorded (seed,
practice).
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
)
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _guard,
)
from rjflow.states import State


@_guard
def activity_concluded(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The activity has run its course: the letter delivered or held on file; at least one
    shuttle message carried."""
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


@_guard
def agreement_settled(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """An outcome agreement binds only when signed by all parties (seed); one that is not
    fully signed must be completed or set aside."""
    if rec.agreement is not None and not rec.agreement.binding:
        unsigned = ", ".join(rec.agreement.unsigned)
        yield _block(
            "agreement_unsigned",
            f"The outcome agreement is not signed by every participant yet (unsigned: "
            f"{unsigned}); collect the signatures, or set the agreement aside.",
            rec.agreement.unsigned[0],
        )


@_guard
def agreement_not_binding(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A signed agreement is final."""
    if rec.agreement is not None and rec.agreement.binding:
        yield _block(
            "agreement_binding",
            "The outcome agreement is signed by everyone and binding; it cannot be replaced or "
            "set aside.",
        )


@_guard
def agreement_proposed(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """There is an outcome agreement to act on."""
    if rec.agreement is None:
        yield _block("no_agreement", "No outcome agreement has been proposed yet.")


@_guard
def responsible_parties_known(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Each action names a party on the case as responsible for it."""
    if not isinstance(inp, ProposeAgreement):
        return
    for item in inp.actions:
        if rec.party(item.responsible) is None:
            yield _block(
                "unknown_party",
                f"Agreement action {item.id} names {item.responsible} as responsible, who is not a "
                "party to this case.",
            )


@_guard
def signatory_may_sign(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Every participant signs, once."""
    if rec.agreement is None:
        return
    if inp is None and rec.agreement.binding:
        yield _block("already_signed", "Every participant has already signed the agreement.")
    if not isinstance(inp, SignAgreement):
        return
    if inp.party not in rec.agreement.signatories:
        yield _block(
            "not_a_signatory",
            f"Party {inp.party} is not a participant asked to sign this agreement.",
        )
    elif inp.party not in rec.agreement.unsigned:
        yield _block("already_signed", f"{inp.party} has already signed the agreement.")


@_guard
def agreement_action_known(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Progress is recorded on the actions of a binding agreement."""
    if rec.agreement is None or not rec.agreement.binding:
        yield _block(
            "no_binding_agreement",
            "There is no signed outcome agreement whose progress could be reviewed.",
        )
        return
    if isinstance(inp, RecordProgress) and rec.agreement.action(inp.action_id) is None:
        yield _block(
            "unknown_agreement_action",
            f"The agreement has no action {inp.action_id}; use one of its action ids.",
        )


@_guard
def agreement_fulfilled(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The programme completes when every agreed action is done (seed: reviews of progress on
    the agreement)."""
    if rec.agreement is None:
        return
    outstanding = [
        a.id for a in rec.agreement.actions if rec.action_status(a.id) is not ActionStatus.DONE
    ]
    if outstanding:
        yield _block(
            "agreement_actions_outstanding",
            f"Agreement action(s) {', '.join(outstanding)} are not done yet; record progress at a "
            "review, or close the case (enforcement) if they were not complied with.",
            outstanding[0],
        )
