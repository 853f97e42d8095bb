"""The programme's rules: each a named, pure function that explains itself.

A rule (a *guard*) looks at a case record, the policy, the action's input (None when a
caller only asks whether an action is possible) and who acts when
(:class:`~rjflow.commands.Acting`), and yields nothing when the rule holds, or one
:class:`~rjflow.Blocker` per reason it does not.  A blocker carries a stable ``code`` for
programs and a ``message`` for the caseworker: what is wrong and what would make it right.
Parties appear by id only; names, narratives and notes never do.

The rules live by topic, one module each: :mod:`~rjflow.rules.programme` (stages and
sessions), :mod:`~rjflow.rules.enforcement`, :mod:`~rjflow.rules.eligibility`,
:mod:`~rjflow.rules.safeguarding`, :mod:`~rjflow.rules.consent`,
:mod:`~rjflow.rules.participants`, :mod:`~rjflow.rules.letter`,
:mod:`~rjflow.rules.agreement`, :mod:`~rjflow.rules.closure`,
:mod:`~rjflow.rules.evaluation` and :mod:`~rjflow.rules.roles` (who may take each action).
The workflow table
(:mod:`rjflow.states`) names the rules on each action; :data:`GUARDS` maps those names to the
functions.

>>> from rjflow.rules import GUARDS
>>> GUARDS["offender_sentenced"].__doc__
'The programme starts once the offender is sentenced (seed).'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType, ModuleType

from rjflow.blocker import Blocker
from rjflow.commands import Acting, Input
from rjflow.policy import Policy
from rjflow.record import CaseRecord

# The topic modules register their rules on import, in this order.
from rjflow.rules import (
    agreement,
    closure,
    consent,
    eligibility,
    enforcement,
    evaluation,
    letter,
    participants,
    programme,
    roles,
    safeguarding,
)
from rjflow.rules._common import REGISTRY, Guard

__all__ = ["GUARDS", "TOPICS", "Blocker", "Guard", "evaluate", "resolve", "run_guards"]

#: The topics, in the order a case meets them; each module's docstring introduces its rules.
TOPICS: tuple[ModuleType, ...] = (
    roles,
    programme,
    eligibility,
    safeguarding,
    participants,
    consent,
    letter,
    agreement,
    enforcement,
    closure,
    evaluation,
)

#: Every rule, by the name the workflow table uses, topic by topic.
GUARDS: Mapping[str, Guard] = MappingProxyType(
    {
        name: fn
        for topic in TOPICS
        for name, fn in REGISTRY.items()
        if fn.__module__ == topic.__name__
    }
)


def evaluate(
    names: tuple[str, ...], rec: CaseRecord, policy: Policy, inp: Input | None, act: Acting
) -> list[Blocker]:
    """Every blocker the named rules raise, each stamped with its rule's name."""
    return run_guards(resolve(names), rec, policy, inp, act)


def resolve(names: tuple[str, ...]) -> tuple[tuple[str, Guard], ...]:
    """The named rules, looked up once (a workflow does this when it is built)."""
    return tuple((name, REGISTRY[name]) for name in names)


def run_guards(
    guards: tuple[tuple[str, Guard], ...],
    rec: CaseRecord,
    policy: Policy,
    inp: Input | None,
    act: Acting,
) -> list[Blocker]:
    """Every blocker ``guards`` (from :func:`resolve`) raise, stamped with the rule's name."""
    found: list[Blocker] = []
    for name, guard in guards:
        for b in guard(rec, policy, inp, act):
            found.append(Blocker(b.code, b.message, name, b.subject, b.template, b.params))
    return found
