"""Enforcement of the sentence's attendance requirements as the law has it (Sentencing Act
2020, Sch. 10): a first unacceptable absence gives a warning, another within
``Policy.enforcement_window`` of a warning is referred for breach, and the court's outcome is
recorded.  This concerns attendance at the sentence's sessions only, never the voluntary RJ
parts (consent, the agreement).

Warnings and referrals are derived from the recorded sessions
(:meth:`rjflow.CaseRecord.enforcement_steps`), so sessions recorded before they existed replay
to the same steps.  While a referral awaits its outcome the programme pauses; when the order
continues, it resumes; when the order is revoked, it stays paused until the case is closed
with the reason ``enforcement``.
"""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.activities import ClosureReason, EnforcementStepKind
from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    Close,
    Input,
)
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _guard,
)


@_guard
def not_referred_for_enforcement(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The programme pauses while a referral for breach awaits the court's outcome, and
    stops once the order is revoked (law: Sentencing Act 2020, Sch. 10;
    ``Policy.enforcement_window``).  A warning alone does not pause it."""
    if rec.order_revoked:
        yield _block(
            "order_revoked",
            "The court revoked the order after a referral for breach, so the programme cannot go "
            "on. Close the case with the reason 'enforcement'.",
        )
    elif rec.breach_referrals_pending(policy):
        yield _block(
            "referred_for_enforcement",
            "A second unacceptable absence within the enforcement window of a warning has "
            "referred the case for breach; the programme pauses until the court's outcome is "
            "recorded (record breach outcome).",
        )


@_guard
def breach_referral_pending(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A court's outcome is recorded for a referral for breach that awaits one (law:
    Sentencing Act 2020, Sch. 10)."""
    if not rec.breach_referrals_pending(policy):
        yield _block(
            "no_breach_referral",
            "No referral for breach is awaiting the court's outcome; an outcome is recorded only "
            "after a second unacceptable absence within the enforcement window of a warning.",
        )


@_guard
def enforcement_follows_breach(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A case is closed for enforcement only after a referral for breach of the sentence's
    attendance requirements that has not ended with the order continuing — never because of
    the agreement or consent (practice: UN Basic Principles on RJ 2002/12 §17; law:
    Sentencing Act 2020, Sch. 10)."""
    if not isinstance(inp, Close) or inp.reason is not ClosureReason.ENFORCEMENT:
        return
    if rec.order_revoked or rec.breach_referrals_pending(policy):
        return
    referred = any(
        s.kind is EnforcementStepKind.BREACH_REFERRAL for s in rec.enforcement_steps(policy)
    )
    if referred:
        yield _block(
            "no_enforcement_grounds",
            "The court let the order continue after the referral for breach, so the case is not "
            "closed for enforcement; the programme goes on.",
        )
    else:
        yield _block(
            "no_enforcement_grounds",
            "No referral for breach has been made: enforcement concerns unacceptable absences "
            "from the sentence's sessions only, never the agreement or consent. Choose another "
            "reason.",
        )
