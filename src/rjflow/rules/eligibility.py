"""Which offences and offenders may go on: conference eligibility, exclusions, acknowledging
responsibility (seed, London CRC).
"""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    Input,
    RecordAcknowledgement,
)
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _guard,
    _words,
)


@_guard
def offence_eligible_for_conference(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A conference only for a violent offence, household burglary, or an offence where direct
    personal harm was caused (seed; ``Policy.conference_categories``)."""
    off = rec.offence
    if off.category in policy.conference_categories:
        return
    if off.direct_personal_harm and policy.conference_for_direct_personal_harm:
        return
    allowed = " or ".join(sorted(c.label for c in policy.conference_categories))
    harm = (
        _words(", or an offence that caused direct personal harm")
        if policy.conference_for_direct_personal_harm
        else ""
    )
    # Translators: {allowed} lists offence categories in English, {harm} is empty or
    # ", or an offence that caused direct personal harm".
    yield _block(
        "offence_not_eligible",
        "A conference is only for {allowed}{harm}; this case's offence ({offence}) is not. "
        "Offer a letter of apology or shuttle mediation instead.",
        allowed=allowed,
        harm=harm,
        offence=off.category.label,
    )


@_guard
def offence_not_excluded(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """This service excludes contact for some offences where offender and victim are likely to
    have ongoing contact (London CRC; ``Policy.excluded_with_ongoing_contact``)."""
    off = rec.offence
    if off.ongoing_contact and off.category in policy.excluded_with_ongoing_contact:
        yield _block(
            "offence_excluded",
            "This service excludes {offence} offences where offender and victim are likely to "
            "have ongoing contact, so no contact can take place. Close the case as unsuitable.",
            offence=off.category.label,
        )


@_guard
def responsibility_acknowledged(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The offender acknowledges the basic facts and takes responsibility before any contact
    with the victim (practice)."""
    if rec.acknowledgement is None:
        yield _block(
            "responsibility_not_acknowledged",
            "The offender has not acknowledged the basic facts and taken responsibility; record "
            "the acknowledgement before any contact with the victim.",
        )


@_guard
def not_yet_acknowledged(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The acknowledgement is recorded once.
    Source: *inferred* (one acknowledgement per case)."""
    if rec.acknowledgement is not None:
        yield _block(
            "already_acknowledged",
            "The offender's acknowledgement of responsibility is already recorded.",
        )


@_guard
def guilty_plea_recorded(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """London CRC also requires a guilty plea (``Policy.require_guilty_plea``)."""
    if (
        policy.require_guilty_plea
        and isinstance(inp, RecordAcknowledgement)
        and not inp.guilty_plea
    ):
        yield _block(
            "guilty_plea_required",
            "This service requires a guilty plea as well as acknowledging responsibility; "
            "without one the case is unsuitable and should be closed as such.",
        )
