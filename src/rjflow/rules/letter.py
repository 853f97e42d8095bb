"""The letter of apology and shuttle messages: drafted, vetted by the facilitator, delivered only
with the victim's consent (seed, practice).

One letter per victim.  The facilitator reviews each draft and approves it or returns it for a
redraft; an approved letter is delivered only with that victim's prior informed agreement,
otherwise held on file, and a held letter can be delivered later, when and if the victim
chooses, also once the case has moved on to reviews.  A shuttle message is carried only once
the facilitator vetted it.
"""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.activities import (
    ContactActivity,
    Letter,
    LetterStatus,
)
from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    ConsentInput,
    DraftLetter,
    Input,
    LetterInput,
    RecordShuttleMessage,
    ReviewLetter,
)
from rjflow.parties import Supporter
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _guard,
    _words,
)
from rjflow.rules.consent import _consent_blockers


def _target(rec: CaseRecord, inp: Input | None) -> tuple[Letter | None, list[Blocker]]:
    """The letter an action names (by victim; None: the only letter), or why none is named."""
    victim = inp.victim if isinstance(inp, LetterInput | ReviewLetter) else None
    if victim is not None:
        letter = rec.letter_to(victim)
        if letter is None:
            return None, [
                _block(
                    "letter_not_ready",
                    "No letter of apology to victim {victim} has been drafted; draft it first, "
                    "or name another victim.",
                    victim,
                    victim=victim,
                )
            ]
        return letter, []
    if len(rec.letters) > 1:
        return None, [
            _block(
                "letter_victim_needed",
                "This case has letters of apology to {count} victims; say which victim's "
                "letter this is (victim=...).",
                count=len(rec.letters),
            )
        ]
    return (rec.letters[0] if rec.letters else None), []


def _letter_blocker(
    rec: CaseRecord, inp: Input | None, wanted: tuple[LetterStatus, ...], next_step: str
) -> Iterator[Blocker]:
    letter, problems = _target(rec, inp)
    if problems:
        yield from problems
        return
    status = letter.status if letter is not None else None
    if status is LetterStatus.DELIVERED and letter is not None:
        yield _block(
            "letter_already_delivered",
            "The letter of apology to victim {victim} has already been delivered.",
            letter.victim,
            victim=letter.victim,
        )
    elif status not in wanted:
        now = _words("not drafted yet") if status is None else status.value.replace("_", " ")
        # Translators: {status} is a letter's status in English ("approved", "not drafted
        # yet"); {next_step} is rjflow's English sentence saying what to do next.
        yield _block(
            "letter_not_ready",
            "The letter of apology is {status}; {next_step}",
            letter.victim if letter is not None else None,
            status=now,
            next_step=next_step,
        )


@_guard
def letter_not_started(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """One letter of apology per victim; a letter returned for a redraft is drafted again
    (practice)."""
    if isinstance(inp, DraftLetter):
        letter = rec.letter_to(inp.victim)
        if letter is not None and letter.status is not LetterStatus.RETURNED:
            yield _block(
                "letter_already_drafted",
                "The letter of apology to victim {victim} is already drafted ({status}); a "
                "victim has one letter, drafted again only when the facilitator returns it for "
                "a redraft.",
                inp.victim,
                victim=inp.victim,
                status=letter.status.value.replace("_", " "),
            )
    elif (
        inp is None
        and rec.victims
        and all(
            (x := rec.letter_to(v.id)) is not None and x.status is not LetterStatus.RETURNED
            for v in rec.victims
        )
    ):
        yield _block(
            "letter_already_drafted",
            "Every victim's letter of apology is already drafted.",
        )


@_guard
def letter_drafted(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The facilitator reviews a drafted letter: approves it or returns it for a redraft
    (practice)."""
    yield from _letter_blocker(
        rec, inp, (LetterStatus.DRAFTED,), _words("it must be drafted before review.")
    )


@_guard
def letter_reviewed(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A letter is held on file only after the facilitator approved it (practice)."""
    yield from _letter_blocker(
        rec,
        inp,
        (LetterStatus.REVIEWED,),
        _words("the facilitator must approve it before it is delivered or held on file."),
    )


@_guard
def letter_deliverable(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A letter is delivered once the facilitator approved it, straight away or later from
    the file, "if and when" the victim chooses (practice)."""
    yield from _letter_blocker(
        rec,
        inp,
        (LetterStatus.REVIEWED, LetterStatus.HELD_ON_FILE),
        _words("the facilitator must approve it before it is delivered or held on file."),
    )


@_guard
def victim_consents_to_letter(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A letter is delivered only with that victim's prior informed agreement (and a young
    victim's appropriate adult's); otherwise it is held on file (practice)."""
    letter, _ = _target(rec, inp)
    if letter is not None:
        yield from _consent_blockers(
            rec,
            "victim",
            letter.victim,
            ContactActivity.RECEIVE_LETTER,
            "Hold the letter on file instead.",
            policy=policy,
        )


@_guard
def message_vetted(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A shuttle message is carried only after the facilitator checked it, as a letter is
    reviewed (practice: RJC Practitioner Code)."""
    if isinstance(inp, RecordShuttleMessage) and not inp.vetted:
        yield _block(
            "message_not_vetted",
            "The facilitator has not checked this message; check it (and return it to its "
            "author for rewording if needed) before it is carried, then record it as vetted.",
        )


# -- after the end (issue 14 fixes) -------------------------------------------------------------


@_guard
def ended_only_for_a_held_letter(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Once the case has ended, information and consent are recorded only for a victim to
    receive their letter of apology still held on file (and for a young victim's appropriate
    adult, who consents too), so that it can be delivered "if and when" they choose (practice:
    RJC Practitioner Code; DOMAIN.md "Letters").  Anything else
    would need the programme, which has ended."""
    if rec.is_open:
        return
    letter = None
    if isinstance(inp, ConsentInput):
        # The victim's own letter, or, for a young victim's appropriate adult, the victim's.
        party = rec.party(inp.party)
        young = party.supports if isinstance(party, Supporter) and party.appropriate_adult else None
        letter = rec.letter_to(inp.party) or (rec.letter_to(young) if young else None)
    waiting = (LetterStatus.REVIEWED, LetterStatus.HELD_ON_FILE)
    if not (
        isinstance(inp, ConsentInput)
        and inp.activity is ContactActivity.RECEIVE_LETTER
        and letter is not None
        and letter.status in waiting
    ):
        yield _block(
            "case_ended",
            "The case is {stage}: information and consent are recorded after the end only for "
            "a victim to receive a letter of apology held on file for them. For anything else, "
            "refer the case again.",
            stage=rec.state.label,
        )
