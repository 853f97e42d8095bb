"""Canaries: text a caller passes in never comes back out where it does not belong.

Canary names and addresses are planted in every text field and every id-shaped argument of
every public entry point (opening a case, every action through ``fire`` and the typed
methods, policies, party constructors, loading documents with a canary in every string
position).  They must never reach an exception (``str``, ``repr``, chained causes and
contexts, notes, ``path``), a log record at DEBUG, the ``repr`` of anything returned, the
case's explanation, its blockers, or its diagrams (issue 9, item 7).

A valid opaque id (``"CANARY1"``) given where an id is expected may be echoed: it is a
validated reference, not personal data.  Free text (notes, agreement wording) never is, even
when it happens to look like an id.  A policy's ``name`` is the service's own label, shown by
design in diagrams and in the not-offered blocker; it is not planted.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rjflow import (
    AgreementAction,
    Case,
    ClosureReason,
    Facilitator,
    Offence,
    OffenceCategory,
    Policy,
    PractitionerLevel,
    RJFlowError,
    State,
    Supporter,
    Victim,
)
from rjflow.diagrams import diagram_model, to_dot, to_mermaid
from rjflow.history import text_commitment
from rjflow.serialization import from_dict, to_dict
from rjflow.states import ACTIONS

from .builders import Clock, at_stage, new_case
from .test_time import _rehash

#: Free-text canaries: a name, an address, a name over two lines.
CANARIES = ("Canary Smith", "canary-7f3a@example.org", "Canary\nSmith")
#: What must never be found in any output (the distinctive part of each canary).
MARKERS = ("Canary Smith", "7f3a@example", "Canary\nSmith")
#: An id-shaped canary: allowed back where an id is expected, never from a free-text field.
ID_CANARY = "CANARYNOTE7"


class Capture(logging.Handler):
    """Every log record, from every logger, at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logs() -> Iterator[Capture]:
    """Capture every record of rjflow's and transitions' loggers (and the root) at DEBUG."""
    handler = Capture()
    names = ["", "rjflow", "transitions", "transitions.core"]
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in names]
    for logger, _ in saved:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level in saved:
            logger.setLevel(level)
            logger.removeHandler(handler)


def exception_texts(exc: BaseException) -> list[str]:
    """The text of ``exc`` and of everything chained to it: causes, contexts, notes, groups."""
    texts: list[str] = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        texts += [str(e), repr(e), str(getattr(e, "path", ""))]
        texts += [str(n) for n in getattr(e, "__notes__", ())]
        texts += [str(b) for b in getattr(e, "blockers", ())]
        todo += [e.__cause__, e.__context__]
        if isinstance(e, BaseExceptionGroup):
            todo += list(e.exceptions)
    return texts


def case_texts(case: Case) -> list[str]:
    """Everything a case shows: its repr, record, history, explanation, blockers, diagrams."""
    texts = [repr(case), repr(case.record), repr(case.history), case.explain()]
    texts += [repr(option) for option in case.options()]
    for name in ACTIONS:
        texts += [repr(b) for b in case.blockers(name)]
    model = diagram_model(case.policy, case)
    texts += [to_mermaid(model, guards=True), to_dot(model, guards=True), repr(model)]
    return texts


def run(plant: Callable[[], Any], logs: Capture, markers: tuple[str, ...]) -> str:
    """Run ``plant`` and check nothing it shows holds a marker; return what happened."""
    logs.records.clear()
    texts: list[str] = []
    outcome = "accepted"
    try:
        result = plant()
    except RJFlowError as exc:
        texts += exception_texts(exc)
        outcome = "refused"
        result = None
    texts.append(repr(result))
    if isinstance(result, Case):
        texts += case_texts(result)
    for record in logs.records:
        texts += [record.getMessage(), repr(record.args), str(record.msg)]
    for text in texts:
        for marker in markers:
            assert marker not in text, (marker, text[:300])
    return outcome


# -- where canaries are planted -------------------------------------------------------------------

AGREEMENT_DEADLINE = date(2026, 9, 1)


def _open(**changes: Any) -> Case:
    clock = Clock()
    fields: dict[str, Any] = {
        "case_id": "C1",
        "offence": Offence(OffenceCategory.HOUSEHOLD_BURGLARY),
        "offender": "O1",
        "victims": ["V1"],
        "supporters": [Supporter("S1", "V1")],
        "facilitators": [Facilitator("F1", PractitionerLevel.ADVANCED)],
        "lead_facilitator": "F1",
        "at": clock(),
        "actor": "F1",
    }
    fields.update(changes)
    return Case.open(fields.pop("case_id"), **fields)


def _at(stage: State) -> Callable[[Callable[[Case, Clock], Any]], Callable[[], Any]]:
    def on(act: Callable[[Case, Clock], Any]) -> Callable[[], Any]:
        def planted() -> Any:
            case, clock = at_stage(stage)
            try:
                act(case, clock)
            except RJFlowError:
                # The case must still show nothing of the canary; then the error is checked.
                for text in case_texts(case):
                    for marker in MARKERS:
                        assert marker not in text
                raise
            return case

        return planted

    return on


def _agreement(c: str, part: str) -> list[AgreementAction]:
    fields = {"id": "A1", "what": "Repair the fence", "responsible": "O1"}
    fields[part] = c
    return [AgreementAction(deadline=AGREEMENT_DEADLINE, **fields)]


R, P, C = State.REFERRED, State.PREPARATION, State.CONFERENCE

#: Every id-shaped argument and text field of every entry point, as ``slot(canary)``.
ID_SLOTS: dict[str, Callable[[str], Callable[[], Any]]] = {
    # opening a case
    "open.case_id": lambda c: lambda: _open(case_id=c),
    "open.offender": lambda c: lambda: _open(offender=c),
    "open.victims": lambda c: lambda: _open(victims=["V1", c]),
    "open.victims_as_text": lambda c: lambda: _open(victims=c),
    "open.victim_object": lambda c: lambda: _open(victims=[Victim(c)]),
    "open.actor": lambda c: lambda: _open(actor=c),
    "open.facilitator": lambda c: lambda: _open(facilitators=[Facilitator(c)]),
    "open.lead_facilitator": lambda c: lambda: _open(lead_facilitator=c),
    "open.supporter": lambda c: lambda: _open(supporters=[Supporter(c, "V1")]),
    "open.supports": lambda c: lambda: _open(supporters=[Supporter("S1", c)]),
    "open.level": lambda c: lambda: _open(facilitators=[Facilitator("F1", c)]),  # type: ignore[arg-type]
    "open.specialisms": lambda c: lambda: _open(facilitators=[Facilitator("F1", 3, [c])]),  # type: ignore[arg-type, list-item]
    "open.specialisms_as_text": lambda c: lambda: Facilitator("F1", 3, c),  # type: ignore[arg-type]
    "open.offence": lambda c: lambda: _open(offence=Offence(c)),  # type: ignore[arg-type]
    "open.sentenced_on": lambda c: lambda: _open(sentenced_on=c),
    "open.at": lambda c: lambda: _open(at=c),
    "open.requested_rj": lambda c: lambda: Victim("V1", requested_rj=c),  # type: ignore[arg-type]
    # policies
    "policy.max_sessions": lambda c: lambda: Policy(max_sessions=c),  # type: ignore[arg-type]
    "policy.max_session_length": lambda c: lambda: Policy(max_session_length=c),  # type: ignore[arg-type]
    "policy.min_lead_level": lambda c: lambda: Policy(min_lead_level=c),  # type: ignore[arg-type]
    "policy.categories": lambda c: lambda: Policy(conference_categories=[c]),  # type: ignore[list-item]
    "policy.categories_as_text": lambda c: lambda: Policy(sensitive_categories=c),  # type: ignore[arg-type]
    "policy.switch": lambda c: lambda: Policy(letter_enabled=c),  # type: ignore[arg-type]
    # actions, by fire and by their typed methods
    "fire.unknown_action": lambda c: _at(R)(lambda k, t: k.fire(c, at=t(), actor="F1")),
    "fire.unknown_key": lambda c: _at(R)(
        lambda k, t: k.fire("record_sentence", at=t(), actor="F1", **{c: 1})
    ),
    "blockers.unknown_action": lambda c: _at(R)(lambda k, t: k.blockers(c)),
    "blockers.unknown_key": lambda c: _at(R)(lambda k, t: k.can("close", **{c: "other"})),
    "fire.actor": lambda c: _at(R)(lambda k, t: k.start_introduction(at=t(), actor=c)),
    "fire.at": lambda c: _at(R)(lambda k, t: k.start_introduction(at=c, actor="F1")),
    "record_sentence": lambda c: _at(R)(
        lambda k, t: k.fire("record_sentence", sentenced_on=c, at=t(), actor="F1")
    ),
    "assign_lead_facilitator": lambda c: _at(R)(
        lambda k, t: k.assign_lead_facilitator(c, at=t(), actor="F1")
    ),
    "add_party.victim": lambda c: _at(R)(lambda k, t: k.add_party(Victim(c), at=t(), actor="F1")),
    "add_party.supports": lambda c: _at(R)(
        lambda k, t: k.add_party(Supporter("S2", c), at=t(), actor="F1")
    ),
    "add_party.specialisms": lambda c: _at(R)(
        lambda k, t: k.add_party(Facilitator("F2", 3, [c]), at=t(), actor="F1")  # type: ignore[list-item]
    ),
    "record_session.duration": lambda c: _at(State.INTRODUCTION)(
        lambda k, t: k.fire("record_session", duration=c, at=t(), actor="F1")
    ),
    "record_session.attendance": lambda c: _at(State.INTRODUCTION)(
        lambda k, t: k.record_session(duration=timedelta(0), attendance=c, at=t(), actor="F1")
    ),
    "acknowledge.guilty_plea": lambda c: _at(State.INTRODUCTION)(
        lambda k, t: k.acknowledge_responsibility(guilty_plea=c, at=t(), actor="F1")  # type: ignore[arg-type]
    ),
    "give_information.party": lambda c: _at(P)(
        lambda k, t: k.give_information(c, "shuttle", at=t(), actor="F1")
    ),
    "give_information.activity": lambda c: _at(P)(
        lambda k, t: k.give_information("V1", c, at=t(), actor="F1")
    ),
    "record_consent.party": lambda c: _at(P)(
        lambda k, t: k.record_consent(c, "shuttle", at=t(), actor="F1")
    ),
    "record_decline.party": lambda c: _at(P)(
        lambda k, t: k.record_decline(c, "shuttle", at=t(), actor="F1")
    ),
    "withdraw_consent.party": lambda c: _at(P)(
        lambda k, t: k.withdraw_consent(c, "shuttle", at=t(), actor="F1")
    ),
    "blockers.party": lambda c: _at(P)(
        lambda k, t: k.blockers("record_consent", party=c, activity="shuttle")
    ),
    "assess_risk.outcome": lambda c: _at(P)(lambda k, t: k.assess_risk(c, at=t(), actor="F1")),
    "assess_risk.approved_by": lambda c: _at(P)(
        lambda k, t: k.assess_risk("favourable", approved_by=c, at=t(), actor="F1")
    ),
    "hold_conference.victims": lambda c: _at(P)(
        lambda k, t: k.hold_conference(victims=[c], at=t(), actor="F1")
    ),
    "hold_conference.supporters": lambda c: _at(P)(
        lambda k, t: k.hold_conference(supporters=[c], at=t(), actor="F1")
    ),
    "draft_letter.victim": lambda c: _at(State.LETTER_OF_APOLOGY)(
        lambda k, t: k.draft_letter(c, at=t(), actor="F1")
    ),
    "shuttle.victim": lambda c: _at(State.SHUTTLE_MEDIATION)(
        lambda k, t: k.record_shuttle_message(c, "to_victim", at=t(), actor="F1")
    ),
    "shuttle.direction": lambda c: _at(State.SHUTTLE_MEDIATION)(
        lambda k, t: k.record_shuttle_message("V1", c, at=t(), actor="F1")
    ),
    "propose_agreement.id": lambda c: _at(C)(
        lambda k, t: k.propose_agreement(_agreement(c, "id"), at=t(), actor="F1")
    ),
    "propose_agreement.responsible": lambda c: _at(C)(
        lambda k, t: k.propose_agreement(_agreement(c, "responsible"), at=t(), actor="F1")
    ),
    "sign_agreement.party": lambda c: _at(C)(lambda k, t: k.sign_agreement(c, at=t(), actor="F1")),
    "record_progress.action_id": lambda c: _at(State.REVIEW)(
        lambda k, t: k.record_progress(c, "done", at=t(), actor="F1")
    ),
    "record_progress.status": lambda c: _at(State.REVIEW)(
        lambda k, t: k.record_progress("A1", c, at=t(), actor="F1")
    ),
    "record_feedback.party": lambda c: _at(State.REVIEW)(
        lambda k, t: k.record_feedback(c, satisfaction=4, things_changed=True, at=t(), actor="F1")
    ),
    "record_feedback.satisfaction": lambda c: _at(State.REVIEW)(
        lambda k, t: k.record_feedback(
            "V1", satisfaction=c, things_changed=True, at=t(), actor="F1"
        )  # type: ignore[arg-type]
    ),
    "close.reason": lambda c: _at(R)(lambda k, t: k.close(reason=c, at=t(), actor="F1")),
}

#: Free-text fields: these take any text, so canaries are accepted and must stay hidden.
TEXT_SLOTS: dict[str, Callable[[str], Callable[[], Any]]] = {
    "close.note": lambda c: _at(R)(
        lambda k, t: k.close(reason=ClosureReason.OTHER, note=c, at=t(), actor="F1")
    ),
    "fire.close.note": lambda c: _at(R)(
        lambda k, t: k.fire("close", reason="other", note=c, at=t(), actor="F1")
    ),
    "propose_agreement.what": lambda c: _at(C)(
        lambda k, t: k.propose_agreement(_agreement(c, "what"), at=t(), actor="F1")
    ),
    "propose_agreement.what.refused": lambda c: _at(R)(
        lambda k, t: k.propose_agreement(_agreement(c, "what"), at=t(), actor="F1")
    ),
}


@pytest.mark.parametrize("canary", CANARIES)
@pytest.mark.parametrize("slot", sorted(ID_SLOTS))
def test_canary_in_every_id_slot(slot: str, canary: str, logs: Capture) -> None:
    """A canary where an id (or a code, a number, a date) is expected is refused, and never
    echoed: 58 slots x 3 canaries."""
    outcome = run(ID_SLOTS[slot](canary), logs, MARKERS)
    assert outcome == "refused"


@pytest.mark.parametrize("canary", [*CANARIES, ID_CANARY])
@pytest.mark.parametrize("slot", sorted(TEXT_SLOTS))
def test_canary_in_every_free_text_slot(slot: str, canary: str, logs: Capture) -> None:
    """A canary in a note or an agreement's wording is kept (or the action refused by the
    rules) but never shown, even an id-shaped one: 4 slots x 4 canaries."""
    run(TEXT_SLOTS[slot](canary), logs, (*MARKERS, ID_CANARY))


def test_accepted_free_text_is_redacted_in_reprs(logs: Capture) -> None:
    """``log.debug("%r", record)`` does not write a note or agreement text."""
    case, clock = at_stage(C)
    case.propose_agreement(_agreement(ID_CANARY, "what"), at=clock(), actor="F1")
    event = case.close(reason="other", note="Canary Smith", at=clock(), actor="F1")
    log = logging.getLogger("app")
    log.debug("%r %r %r", case.record, event, case.history)
    shown = [r.getMessage() for r in logs.records if r.name == "app"]
    assert shown
    assert "<redacted 12 chars>" in shown[0]
    for text in shown:
        assert "Canary Smith" not in text
        assert ID_CANARY not in text


def test_lead_facilitator_name_echoed_in_error(logs: Capture) -> None:
    """Issue 9's input: ``Case.open(..., lead_facilitator="<a person's name>")`` said "Lead
    facilitator <name> is not one of ..."."""
    with pytest.raises(RJFlowError, match="'lead_facilitator' must be an opaque id") as err:
        _open(lead_facilitator="Canary Smith")
    assert all("Canary" not in text for text in exception_texts(err.value))


def test_unknown_action_and_data_key_not_quoted(logs: Capture) -> None:
    """An unknown action name is quoted only when shaped like one (``[a-z_]{1,40}``); an
    unknown argument's name is never quoted (it was the TypeError's text before)."""
    case, clock = new_case()
    with pytest.raises(RJFlowError, match=r"^The action name given is not an action"):
        case.fire("Jane Doe", at=clock(), actor="F1")
    with pytest.raises(RJFlowError, match=r"^'hold_meeting' is not an action"):
        case.fire("hold_meeting", at=clock(), actor="F1")
    with pytest.raises(RJFlowError, match="1 argument it does not take") as err:
        case.fire("record_sentence", at=clock(), actor="F1", **{"Jane Doe": 1})
    assert all("Jane" not in text for text in exception_texts(err.value))


def test_valid_id_shaped_canary_may_be_echoed(logs: Capture) -> None:
    """A valid opaque id is a reference, not personal data: it may appear in a message."""
    case, clock = new_case()
    with pytest.raises(RJFlowError, match="CANARY1"):
        case.assign_lead_facilitator("CANARY1", at=clock(), actor="F1")


# -- documents: a canary in every string position -----------------------------------------------


def _document() -> dict[str, Any]:
    """A saved case with every kind of string: parties, an agreement, feedback, a closure."""
    case, clock = at_stage(State.REVIEW)
    case.record_feedback("V1", satisfaction=4, things_changed=True, at=clock(), actor="F1")
    case.close(reason="other", note="Moved abroad", at=clock(), actor="F1")
    return to_dict(case)


DOC = _document()


def _positions(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every string position in a document: ("value", path) for string values and
    ("key", path) for object keys."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), "key"
            yield from _positions(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _positions(item, (*path, index))
    elif isinstance(value, str):
        yield path, "value"
    if not path:
        yield ("unknown top-level key",), "new"


POSITIONS = list(_positions(DOC))


def _planted(doc: dict[str, Any], path: tuple[Any, ...], how: str, canary: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    if how == "new":
        doc[canary] = 1
        return doc
    *parents, last = path
    holder: Any = doc
    for step in parents:
        holder = holder[step]
    if how == "key":
        holder[canary] = holder.pop(last)
    else:
        holder[last] = canary
    return doc


@pytest.mark.parametrize("canary", CANARIES[:2])
def test_canary_in_every_document_position(canary: str, logs: Capture) -> None:
    """Every string value and every key of a saved case replaced by a canary, one at a time
    (331 positions x 2 canaries): the load fails with InvalidDocument and nothing
    echoes the canary."""
    assert len(POSITIONS) > 300
    refused = 0
    for path, how in POSITIONS:
        doc = _planted(DOC, path, how, canary)
        if run(lambda d=doc: from_dict(d), logs, MARKERS) == "refused":
            refused += 1
    assert refused == len(POSITIONS)


@pytest.mark.parametrize("key", ["Canary Smith\ud800", "Canary Smith\x00"])
def test_canary_in_an_invalid_data_key_not_in_the_path(key: str, logs: Capture) -> None:
    """An event data key that is not valid text is not repeated in the error's path."""
    doc = copy.deepcopy(DOC)
    doc["events"][1]["data"][key] = {"x": 1}
    doc["events"][2]["data"]["y"] = {key: 1}
    assert run(lambda: from_dict(doc), logs, MARKERS) == "refused"


def test_canary_note_in_a_loaded_document_stays_hidden(logs: Capture) -> None:
    """A document whose closure note is a canary (its chain recomputed, so it loads): the
    loaded case shows the note nowhere."""
    doc = copy.deepcopy(DOC)
    closing = doc["events"][-1]
    kept = closing["texts"]["/note"]
    kept["text"] = "Canary Smith"
    closing["data"]["note"]["$text"] = text_commitment(bytes.fromhex(kept["salt"]), kept["text"])
    assert run(lambda: from_dict(_rehash(doc)), logs, MARKERS) == "accepted"


@given(
    st.lists(st.integers(0, len(POSITIONS) - 1), min_size=1, max_size=4),
    st.sampled_from(CANARIES),
)
def test_canaries_in_random_document_positions(indexes: list[int], canary: str) -> None:
    """Canaries in several random positions of a saved case at once (100 examples in the dev
    profile, 1,300 in ci): InvalidDocument, with no canary in it."""
    doc = DOC
    for index in indexes:
        path, how = POSITIONS[index]
        try:
            doc = _planted(doc, path, how, canary)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier plant replaced this position's parent
    try:
        from_dict(doc)
    except RJFlowError as exc:
        for text in exception_texts(exc):
            for marker in MARKERS:
                assert marker not in text


@given(st.sampled_from(sorted(ID_SLOTS)), st.sampled_from(CANARIES))
def test_canaries_in_random_slots(slot: str, canary: str) -> None:
    """Hypothesis picks the slot and the canary (100 examples in the dev profile, 1,300 in
    ci); every run is refused with no canary in any text."""
    handler = Capture()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        assert run(ID_SLOTS[slot](canary), handler, MARKERS) == "refused"
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
