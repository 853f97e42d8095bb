"""What every rule module shares: the registry the ``@_guard`` decorator fills, the way a
rule says why it does not hold (``_block``), and the questions several topics ask (which
victims an action concerns)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from rjflow.activities import ContactActivity
from rjflow.blocker import Blocker
from rjflow.commands import Acting, HoldConference, Input, LetterInput, RecordShuttleMessage
from rjflow.parties import Victim
from rjflow.policy import Policy
from rjflow.record import CaseRecord
from rjflow.states import State

#: A guard: (record, policy, input or None, who acts and when) -> the reasons the rule does
#: not hold.
Guard = Callable[[CaseRecord, Policy, Input | None, Acting], Iterator[Blocker]]

#: Every guard, by name, in the order the topic modules define them.
REGISTRY: dict[str, Guard] = {}


def _guard(fn: Guard) -> Guard:
    REGISTRY[fn.__name__] = fn
    return fn


def _block(code: str, template: str, subject: str | None = None, /, **params: str | int) -> Blocker:
    """A rule's reason: ``template`` is a plain string literal (Babel extracts it into
    ``rjflow.pot`` by the keyword ``_block:2``) with ``{name}`` placeholders, ``params`` the
    ids, numbers, enum labels and rjflow's own words that fill them (never caller text).
    The guard's name is filled in by ``evaluate``."""
    return Blocker.of(code, template, "", subject, **params)


def _words(text: str) -> str:
    """Marks rjflow's own words that a rule passes as a parameter (a next step, a way on, a
    phrase naming who may act) so Babel extracts them into the catalogue (keyword
    ``_words``); returned unchanged. ``Blocker.translated`` looks each parameter up in the
    catalogue too, so such words are translated wherever the catalogue has them."""
    return text


def _hours(seconds: float) -> str:
    minutes = round(seconds / 60)
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if m else f"{h} h"


def _conference_victims(rec: CaseRecord, inp: Input | None) -> tuple[str, ...]:
    if isinstance(inp, HoldConference):
        return inp.victims or tuple(v.id for v in rec.victims)
    if rec.conference is not None:
        return rec.conference.victims
    return tuple(v.id for v in rec.victims)


def _shuttle_victims(rec: CaseRecord, inp: Input | None) -> tuple[str, ...]:
    if isinstance(inp, RecordShuttleMessage):
        return (inp.victim,)
    return tuple(v.id for v in rec.victims if rec.consents_to(v.id, ContactActivity.SHUTTLE))


def _contact_victims(rec: CaseRecord, inp: Input | None) -> tuple[str, ...]:
    """The victims the action would bring into contact with the offender: those its input
    names wherever it is taken from (a conference held from shuttle mediation meets the victims
    named for it; a letter goes to its victim, also after the case moved on)."""
    if isinstance(inp, LetterInput):
        if inp.victim is not None:
            return (inp.victim,)  # a letter's delivery (issue 14: one letter per victim)
        return tuple(letter.victim for letter in rec.letters)
    if isinstance(inp, HoldConference):
        return _conference_victims(rec, inp)
    if rec.state in (State.LETTER_OF_APOLOGY, State.REVIEW) and rec.letters:
        return tuple(letter.victim for letter in rec.letters)
    if isinstance(inp, RecordShuttleMessage) or rec.state is State.SHUTTLE_MEDIATION:
        return _shuttle_victims(rec, inp)
    if rec.conference is not None:
        return _conference_victims(rec, inp)
    return tuple(v.id for v in rec.victims)


def _known_victims(rec: CaseRecord, ids: tuple[str, ...]) -> Iterator[Blocker]:
    for vid in ids:
        if not isinstance(rec.party(vid), Victim):
            yield _block(
                "unknown_victim",
                "Party {party} is not a victim on this case; add them as a victim first, or "
                "correct the id.",
                vid,
                party=vid,
            )
