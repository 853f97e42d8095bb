"""Safeguarding: risk and suitability assessments, facilitator levels, sensitive offences
(practice: RJC codes).
"""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.activities import (
    RiskOutcome,
)
from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    ConsentInput,
    Input,
)
from rjflow.parties import Supporter, Victim
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _contact_victims,
    _guard,
)


@_guard
def lead_facilitator_assigned(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A trained facilitator leads the programme (seed)."""
    if rec.facilitator(rec.lead_facilitator) is None:
        yield _block(
            "no_lead_facilitator",
            "No lead facilitator is assigned; assign one of the case's trained facilitators.",
        )


@_guard
def risk_assessment_favourable(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A favourable suitability and risk assessment is in force before contact; sensitive
    offences need an enhanced one signed off by a manager (practice)."""
    latest = rec.risk_assessment
    if latest is None:
        yield _block(
            "risk_not_assessed",
            "No suitability and risk assessment is recorded; a facilitator must assess risk "
            "before any contact.",
        )
        return
    if latest.outcome is not RiskOutcome.FAVOURABLE:
        yield _block(
            "risk_unfavourable",
            "The latest risk assessment is unfavourable, so contact cannot go ahead. Reassess "
            "when circumstances change, or close the case as unsuitable.",
        )
    if policy.is_sensitive(rec.offence.category) and (
        not latest.enhanced or latest.approved_by is None
    ):
        yield _block(
            "enhanced_risk_assessment_needed",
            f"A {rec.offence.category.label} offence is sensitive: contact needs an enhanced "
            "risk assessment signed off by a manager. Record one.",
        )


@_guard
def lead_facilitator_qualified(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Contact is led by an intermediate or advanced practitioner; sensitive cases need an
    advanced one with specialist training in the area (practice; ``Policy.min_lead_level``,
    ``Policy.min_sensitive_lead_level``, ``Policy.sensitive_needs_specialism``)."""
    lead = rec.facilitator(rec.lead_facilitator)
    if lead is None:
        yield from lead_facilitator_assigned(rec, policy, inp, act)
        return
    sensitive = policy.is_sensitive(rec.offence.category)
    needed = policy.min_sensitive_lead_level if sensitive else policy.min_lead_level
    if lead.level < needed:
        why = f"a {rec.offence.category.label} case" if sensitive else "this activity"
        yield _block(
            "lead_facilitator_level_too_low",
            f"Lead facilitator {lead.id} is a {lead.level.label} practitioner; {why} must be "
            f"led by an {needed.label} practitioner or above. Assign another lead facilitator.",
            lead.id,
        )
    category = rec.offence.category
    if sensitive and policy.sensitive_needs_specialism and category.value not in lead.specialisms:
        yield _block(
            "lead_facilitator_not_trained",
            f"Lead facilitator {lead.id} has no specialist training for {category.label} cases; "
            "assign a lead facilitator who has it.",
            lead.id,
        )


@_guard
def sexual_harm_victim_request(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Request-only offences: for sexual harm (and, by policy, domestic abuse) contact happens
    only when the victim asked for restorative justice: before the referral
    (``Victim.requested_rj``) or at any stage since (a victim-initiated request,
    ``record_request``) (practice: RJC guidance, Victims' Code;
    ``Policy.victim_request_required_for``)."""
    if rec.offence.category not in policy.victim_request_required_for:
        return
    for vid in _contact_victims(rec, inp):
        yield from _request_blockers(rec, vid)


@_guard
def victim_asked_first(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Request-only offences: the service does not make the first approach.  A victim (or
    their supporter) is given information or asked for consent only once the victim asked for
    restorative justice (practice: RJC guidance, Victims' Code;
    ``Policy.victim_request_required_for``)."""
    if rec.offence.category not in policy.victim_request_required_for:
        return
    if not isinstance(inp, ConsentInput):
        return
    party = rec.party(inp.party)
    if isinstance(party, Supporter) and isinstance(rec.party(party.supports), Victim):
        yield from _request_blockers(rec, party.supports)
    elif isinstance(party, Victim):
        yield from _request_blockers(rec, party.id)


def _request_blockers(rec: CaseRecord, vid: str) -> Iterator[Blocker]:
    if isinstance(rec.party(vid), Victim) and not rec.asked_for_rj(vid):
        yield _block(
            "victim_did_not_request",
            f"This is a {rec.offence.category.label} case: restorative justice is considered "
            f"only when the victim asks for it, and victim {vid} has not, so the service does "
            "not approach them. If they contact the service and ask, record their request "
            "(record_request) first.",
            vid,
        )
