"""The letter of apology: drafted, reviewed by the facilitator, delivered only with the victim's
consent (seed, practice).
"""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.activities import (
    ContactActivity,
    LetterStatus,
)
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
from rjflow.rules.consent import _consent_blockers


def _letter_blocker(rec: CaseRecord, wanted: LetterStatus, next_step: str) -> Iterator[Blocker]:
    letter = rec.letter
    status = letter.status if letter is not None else None
    if status is not wanted:
        now = "not drafted yet" if status is None else status.value.replace("_", " ")
        yield _block(
            "letter_not_ready",
            f"The letter of apology is {now}; {next_step}",
        )


@_guard
def letter_not_started(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """One letter of apology per case."""
    if rec.letter is not None:
        yield _block("letter_already_drafted", "The letter of apology is already drafted.")


@_guard
def letter_drafted(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The facilitator reviews a drafted letter (practice)."""
    yield from _letter_blocker(rec, LetterStatus.DRAFTED, "it must be drafted before review.")


@_guard
def letter_reviewed(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A letter is delivered or held on file only after the facilitator reviewed it
    (practice)."""
    yield from _letter_blocker(
        rec,
        LetterStatus.REVIEWED,
        "the facilitator must review it before it is delivered or held on file.",
    )


@_guard
def victim_consents_to_letter(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A letter is delivered only with the victim's prior informed agreement; otherwise it is
    held on file (practice)."""
    if rec.letter is not None:
        yield from _consent_blockers(
            rec,
            "victim",
            rec.letter.victim,
            ContactActivity.RECEIVE_LETTER,
            "Hold the letter on file instead.",
        )
