"""``CaseMachine``: a Hypothesis state machine of one case, for an application to subclass.

The machine opens a case, then takes random steps: usually an action the case says is
allowed, sometimes any action at all, with inputs drawn in view of the case.  After every
step it checks rjflow's own promises:

- ``can(X)`` is true exactly when ``blockers(X)`` is empty, exactly when ``fire(X)``
  succeeds (and a refusal carries the same codes);
- a refused or invalid step changes nothing (record, history, version);
- the history verifies; replaying it rebuilds the same case, and the case saved as JSON loads
  back equal (at the end of each run).

An application subclasses it to add its own rules and invariants, and mirrors each accepted
event into its own model through :meth:`CaseMachine.on_event`::

    class MyApp(CaseMachine):
        def on_opened(self, case):
            self.rows = {case.case_id: case.state.value}

        def on_event(self, event):
            self.rows[self.case.case_id] = self.case.state.value

        @invariant()
        def my_row_agrees(self):
            assert self.rows[self.case.case_id] == self.case.state.value

    TestMyApp = MyApp.TestCase
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rjflow.action_names import action_name
from rjflow.case import Case
from rjflow.errors import ActionRefused, InvalidInput
from rjflow.history import Event, verify_chain
from rjflow.parties import StaffRole, Victim
from rjflow.policy import LONDON_CRC, Policy
from rjflow.serialization import dumps, loads, replay
from rjflow.states import ACTIONS
from rjflow.testing._builders import Clock, new_case
from rjflow.testing._strategies import inputs, offences

__all__ = ["CaseMachine"]

#: Gaps between steps.
_GAPS = (timedelta(0), timedelta(hours=1), timedelta(days=1), timedelta(days=3))


def actor_for(action: str) -> str:
    """Someone in the fixed cast of :func:`~rjflow.testing.new_case` who may take
    ``action``: the lead facilitator ``F1``, or the manager ``M1`` for a manager's action."""
    roles = ACTIONS[action].roles
    staff = {StaffRole.FACILITATOR, StaffRole.LEAD_FACILITATOR}
    return "F1" if roles & staff else "M1"


class CaseMachine(RuleBasedStateMachine):
    """One case under random use, with rjflow's invariants built in.

    Class attributes an application may set: ``policy`` (the service's policy; default
    London CRC's) and ``any_action_share`` (how often, out of 10, a step tries any action at
    all rather than one the case allows; default 2).  Hooks: :meth:`on_opened` and
    :meth:`on_event`.  ``self.case`` is the case, ``self.now`` the time of the last step.
    """

    policy: ClassVar[Policy] = LONDON_CRC
    any_action_share: ClassVar[int] = 2

    case: Case
    now: datetime

    def on_opened(self, case: Case) -> None:
        """Called once the case is opened (override: create the application's record)."""

    def on_event(self, event: Event) -> None:
        """Called after each accepted action with its event (override: mirror it)."""

    @initialize(offence=offences, two_victims=st.booleans())
    def open_case(self, offence: Any, two_victims: bool) -> None:
        """Open a case with the fixed cast of :func:`~rjflow.testing.new_case`."""
        cast = (Victim("V1"), Victim("V2")) if two_victims else (Victim("V1"),)
        self.clock = Clock()
        self.case, _ = new_case(
            category=offence.category,
            direct_personal_harm=offence.direct_personal_harm,
            ongoing_contact=offence.ongoing_contact,
            victims=cast,
            policy=type(self).policy,
            clock=self.clock,
        )
        self.now = self.case.history[-1].at
        self.on_opened(self.case)

    @rule(data=st.data())
    def take_a_step(self, data: st.DataObject) -> None:
        """Try one action: usually one the case allows now, sometimes any at all."""
        allowed = [o.action for o in self.case.options() if o.allowed]
        wild = data.draw(st.integers(0, 9), label="wild") < type(self).any_action_share
        names = sorted(ACTIONS) if wild or not allowed else allowed
        action = data.draw(st.sampled_from(names), label="action")
        kwargs = data.draw(inputs(action, self.case.record), label="input")
        gap = data.draw(st.sampled_from(_GAPS), label="gap")
        self.attempt(action, kwargs, at=self.now + gap)

    def attempt(
        self, action: str, kwargs: dict[str, Any], *, at: datetime, actor: str | None = None
    ) -> Event | None:
        """Try ``action`` with ``kwargs`` and check rjflow's invariants; the event, or None
        when it was refused or its input was invalid."""
        case = self.case
        who = actor if actor is not None else actor_for(action)
        before = (case.record, case.history, case.version)
        try:
            blockers = case.blockers(action_name(action), at=at, actor=who, **kwargs)
            can = case.can(action_name(action), at=at, actor=who, **kwargs)
        except InvalidInput:
            blockers, can = None, None
        try:
            event = case.fire(action_name(action), at=at, actor=who, **kwargs)
        except ActionRefused as refused:
            assert blockers, "fire refused although blockers() reported none"
            assert can is False, "fire refused although can() was true"
            assert refused.codes == tuple(b.code for b in blockers)  # noqa: PT017
            assert (case.record, case.history, case.version) == before, "a refusal changed it"
            return None
        except InvalidInput:
            assert (case.record, case.history, case.version) == before, "bad input changed it"
            return None
        assert blockers == (), "fire succeeded although blockers() reported some"
        assert can is True, "fire succeeded although can() was false"
        assert case.version == before[2] + 1
        assert case.history[-1] == event
        self.now = max(self.now, at)
        self.on_event(event)
        return event

    @invariant()
    def history_holds(self) -> None:
        """The version counts the events and the hash chain verifies."""
        if not hasattr(self, "case"):
            return
        assert self.case.version == len(self.case.history) == self.case.record.version
        verify_chain(self.case.history)

    def teardown(self) -> None:
        """Replaying the history rebuilds the same case, and what was accepted saves and
        loads again."""
        if hasattr(self, "case"):
            assert replay(self.case.history, policy=self.case.policy) == self.case
            assert loads(dumps(self.case), policy=self.case.policy) == self.case
