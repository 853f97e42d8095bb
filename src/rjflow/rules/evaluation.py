"""Evaluation and the victim kept informed: feedback and follow-up after the activity, also
after the case ended; the victim told of progress and of the conclusion (practice: Skills for
Justice standards "conclude → evaluate"; Victims' Code; DOMAIN.md "Evaluation and
follow-up").

An ended case accepts only the record-keeping actions of ``states.EVALUATION_ACTIONS``: these,
a participant's withdrawal or decline, and delivering a letter held on file (with the consent
it needs).
"""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.activities import VictimUpdateAbout
from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    InformVictim,
    Input,
    RecordFollowUp,
    RecordVictimWishes,
)
from rjflow.parties import Offender, Supporter, Victim
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.rules._common import (
    _block,
    _guard,
    _known_victims,
)


@_guard
def victim_to_inform_known(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The victim whose wishes or updates are recorded is a victim on this case (practice:
    Victims' Code, the victim is kept informed)."""
    if isinstance(inp, InformVictim | RecordVictimWishes):
        yield from _known_victims(rec, (inp.victim,))


@_guard
def update_fits_stage(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Once the case has ended the victim is told of its conclusion, not of progress
    (practice, *inferred*)."""
    if (
        isinstance(inp, InformVictim)
        and inp.about is VictimUpdateAbout.PROGRESS
        and not rec.is_open
    ):
        yield _block(
            "case_ended",
            "The case is {stage}, so there is no progress to report; record that the victim was "
            "told of the conclusion instead.",
            stage=rec.state.label,
        )


@_guard
def follow_up_party_known(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Follow-up contact is with the offender, a victim or a supporter on the case (practice:
    evaluation and follow-up with the participants)."""
    if isinstance(inp, RecordFollowUp) and not isinstance(
        rec.party(inp.party), Offender | Victim | Supporter
    ):
        yield _block(
            "unknown_participant",
            "Party {party} is not a participant (offender, victim or supporter) on this case.",
            inp.party,
            party=inp.party,
        )


@_guard
def victims_informed_of_conclusion(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """A victim who asked to be kept informed is told of the conclusion before the case
    completes (practice: Victims' Code; DOMAIN.md "the victim is told how the agreement went
    and when the case concludes")."""
    for v in rec.victims:
        if rec.keeps_informed(v.id) and not rec.informed_of(v.id, VictimUpdateAbout.CONCLUSION):
            yield _block(
                "victim_not_informed",
                "Victim {victim} asked to be kept informed and has not been told of the "
                "conclusion yet; tell them how the agreement went and record it (inform victim) "
                "before completing.",
                v.id,
                victim=v.id,
            )
