"""Who is on the case: parties, facilitators, participants named in an input."""

from __future__ import annotations

from collections.abc import Iterator

from rjflow.blocker import Blocker
from rjflow.commands import (
    Acting,
    AddParty,
    AssignLeadFacilitator,
    DraftLetter,
    Input,
    RecordFeedback,
    RecordShuttleMessage,
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
def victim_known(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The victim named in the input is a victim on this case.
    Source: record integrity, *inferred*."""
    if isinstance(inp, DraftLetter | RecordShuttleMessage):
        yield from _known_victims(rec, (inp.victim,))


@_guard
def party_id_free(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Each party has its own id; a supporter supports someone on the case.
    Source: record integrity, *inferred*."""
    if not isinstance(inp, AddParty):
        return
    if rec.party(inp.party.id) is not None:
        yield _block(
            "party_id_taken",
            "Id {party} is already used by a party to this case; give the new party its own id.",
            inp.party.id,
            party=inp.party.id,
        )
    if isinstance(inp.party, Supporter) and rec.party(inp.party.supports) is None:
        yield _block(
            "unknown_party",
            "Supporter {party} supports {supported}, who is not a party to this case; add that "
            "party first, or correct the id.",
            inp.party.id,
            party=inp.party.id,
            supported=inp.party.supports,
        )


@_guard
def party_is_facilitator(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """The lead facilitator is one of the case's facilitators.
    Source: seed (a trained facilitator leads); record integrity."""
    if isinstance(inp, AssignLeadFacilitator) and rec.facilitator(inp.facilitator) is None:
        yield _block(
            "not_a_facilitator",
            "Party {party} is not a facilitator on this case; add them as a facilitator first.",
            inp.facilitator,
            party=inp.facilitator,
        )


@_guard
def participant_known(
    rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> Iterator[Blocker]:
    """Feedback comes from the offender, a victim or a supporter on the case.
    Source: practice (RJC codes: participants evaluate the activity)."""
    if isinstance(inp, RecordFeedback) and not isinstance(
        rec.party(inp.party), Offender | Victim | Supporter
    ):
        yield _block(
            "unknown_participant",
            "Party {party} is not a participant (offender, victim or supporter) on this case.",
            inp.party,
            party=inp.party,
        )
