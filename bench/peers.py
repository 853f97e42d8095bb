"""The same 9-state RJ workflow with the same two guards, in each peer, for bench/run.py.

The happy path is five guarded triggers: start_introduction (guard: sentenced),
start_preparation (guard: acknowledged), hold_conference (guards: sentenced, acknowledged),
start_reviews, complete; the refused trigger is hold_conference with acknowledged False.
"""

from __future__ import annotations

from typing import Any

from statemachine import State as PState
from statemachine import StateMachine
from transitions import Machine

STATES = [
    "referred",
    "introduction",
    "preparation",
    "conference",
    "letter_of_apology",
    "shuttle_mediation",
    "review",
    "completed",
    "closed",
]
HAPPY = ["start_introduction", "start_preparation", "hold_conference", "start_reviews", "complete"]
TRANSITIONS: list[dict[str, Any]] = [
    {
        "trigger": "start_introduction",
        "source": "referred",
        "dest": "introduction",
        "conditions": ["is_sentenced"],
    },
    {
        "trigger": "start_preparation",
        "source": "introduction",
        "dest": "preparation",
        "conditions": ["is_acknowledged"],
    },
    {
        "trigger": "hold_conference",
        "source": "preparation",
        "dest": "conference",
        "conditions": ["is_sentenced", "is_acknowledged"],
    },
    {"trigger": "choose_letter_of_apology", "source": "preparation", "dest": "letter_of_apology"},
    {"trigger": "choose_shuttle_mediation", "source": "preparation", "dest": "shuttle_mediation"},
    {
        "trigger": "start_reviews",
        "source": ["conference", "letter_of_apology", "shuttle_mediation"],
        "dest": "review",
    },
    {"trigger": "complete", "source": "review", "dest": "completed"},
    {"trigger": "close", "source": STATES[:7], "dest": "closed"},
]


class Model:
    """A peer's case: the two facts the guards read."""

    def __init__(self, acknowledged: bool = True) -> None:
        self.sentenced = True
        self.acknowledged = acknowledged

    def is_sentenced(self) -> bool:
        return self.sentenced

    def is_acknowledged(self) -> bool:
        return self.acknowledged


def shared_machine() -> Machine:
    """transitions bare: one shared Machine; cases join with add_model."""
    return Machine(
        model=None,
        states=STATES,
        transitions=TRANSITIONS,
        initial="referred",
        auto_transitions=False,
    )


def machine_per_case(model: Model) -> Machine:
    """transitions, the naive way: one Machine per case."""
    return Machine(
        model=model,
        states=STATES,
        transitions=TRANSITIONS,
        initial="referred",
        auto_transitions=False,
    )


class RJMachine(StateMachine):  # type: ignore[misc]
    """python-statemachine 3.x: the same workflow."""

    referred = PState(initial=True)
    introduction = PState()
    preparation = PState()
    conference = PState()
    letter_of_apology = PState()
    shuttle_mediation = PState()
    review = PState()
    completed = PState(final=True)
    closed = PState(final=True)

    start_introduction = referred.to(introduction, cond="is_sentenced")
    start_preparation = introduction.to(preparation, cond="is_acknowledged")
    hold_conference = preparation.to(conference, cond=["is_sentenced", "is_acknowledged"])
    choose_letter_of_apology = preparation.to(letter_of_apology)
    choose_shuttle_mediation = preparation.to(shuttle_mediation)
    start_reviews = (
        conference.to(review) | letter_of_apology.to(review) | shuttle_mediation.to(review)
    )
    complete = review.to(completed)
    close = (
        referred.to(closed)
        | introduction.to(closed)
        | preparation.to(closed)
        | conference.to(closed)
        | letter_of_apology.to(closed)
        | shuttle_mediation.to(closed)
        | review.to(closed)
    )


# -- the floor: a hand-written dict FSM -------------------------------------------------------

DICT_TABLE: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
for _t in TRANSITIONS:
    _sources = _t["source"] if isinstance(_t["source"], list) else [_t["source"]]
    for _s in _sources:
        DICT_TABLE[(_s, _t["trigger"])] = (_t["dest"], tuple(_t.get("conditions", ())))
DICT_TRIGGERS: dict[str, list[str]] = {}
for _s, _trig in DICT_TABLE:
    DICT_TRIGGERS.setdefault(_s, []).append(_trig)


class DictCase:
    """The floor: state in a slot, a dict lookup per trigger."""

    __slots__ = ("acknowledged", "sentenced", "state")

    def __init__(self, acknowledged: bool = True) -> None:
        self.state = "referred"
        self.sentenced = True
        self.acknowledged = acknowledged

    def fire(self, trigger: str) -> bool:
        target, guards = DICT_TABLE[(self.state, trigger)]
        for g in guards:
            if not (self.sentenced if g == "is_sentenced" else self.acknowledged):
                return False
        self.state = target
        return True
