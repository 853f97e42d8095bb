"""Enforcement of the sentence's attendance requirements (practice; never the voluntary RJ
parts)."""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
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
    """After ``Policy.max_unacceptable_absences`` unacceptable absences the case is referred
    for enforcement and the programme pauses (practice, inferred)."""
    if rec.unacceptable_absences >= policy.max_unacceptable_absences:
        yield _block(
            "referred_for_enforcement",
            f"The offender has missed {rec.unacceptable_absences} sessions without an acceptable "
            "reason, so the case is referred for enforcement. Close the case with the reason "
            "'enforcement'.",
        )
