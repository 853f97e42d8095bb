"""The names of the workflow's actions as a type: a misspelled action is a type error.

:data:`ActionName` lists every action of the workflow table (:data:`rjflow.states.ACTIONS`), in
the table's order; a test keeps the two equal.  :meth:`rjflow.Case.fire`,
:meth:`~rjflow.Case.blockers` and :meth:`~rjflow.Case.can` take an ``ActionName``, so
``case.fire("record_sesion", ...)`` fails type checking.  A name that arrives as text at run
time (a form's hidden field, a URL) is checked with :func:`action_name`.

>>> from rjflow.action_names import action_name
>>> action_name("record_session")
'record_session'
"""

from __future__ import annotations

from typing import Literal, TypeGuard, get_args

from rjflow.errors import UnknownAction

__all__ = ["ACTION_NAMES", "ActionName", "action_name", "is_action_name"]

#: The name of an action of the workflow table.
ActionName = Literal[
    "start_introduction",
    "start_preparation",
    "hold_conference",
    "choose_letter_of_apology",
    "choose_shuttle_mediation",
    "start_reviews",
    "complete",
    "close",
    "record_sentence",
    "add_party",
    "assign_lead_facilitator",
    "record_session",
    "give_information",
    "record_consent",
    "record_decline",
    "withdraw_consent",
    "acknowledge_responsibility",
    "assess_risk",
    "draft_letter",
    "review_letter",
    "deliver_letter",
    "hold_letter_on_file",
    "record_shuttle_message",
    "propose_agreement",
    "sign_agreement",
    "abandon_agreement",
    "record_progress",
    "record_feedback",
    "approve_risk_assessment",
    "record_new_information",
    "vary_agreement",
    "decline_all",
    "withdraw_variation",
    "waive_agreement_action",
    "record_breach_outcome",
    "record_victim_wishes",
    "inform_victim",
    "record_follow_up",
    "record_request",
    "accept_supporter",
]

#: Every action name, in the table's order.
ACTION_NAMES: tuple[ActionName, ...] = get_args(ActionName)
_NAMES = frozenset(ACTION_NAMES)


def is_action_name(value: object) -> TypeGuard[ActionName]:
    """True when ``value`` names an action of the workflow table."""
    return isinstance(value, str) and value in _NAMES


def action_name(value: object) -> ActionName:
    """``value`` as an :data:`ActionName`, for a name that arrives as text (a form, a URL);
    raises :class:`~rjflow.UnknownAction` (which repeats the text only when it is shaped like
    an action name) when the workflow table has no such action."""
    if is_action_name(value):
        return value
    raise UnknownAction(value if isinstance(value, str) else "", ACTION_NAMES)
