"""rjflow.testing: what an application that embeds rjflow needs to test its own code.

- **Builders** (plain functions over the public API): :func:`new_case`, :func:`at_stage`,
  :class:`Clock`, :func:`consent`, :func:`session`, :func:`ready_supporters`, :func:`codes`.
- **Hypothesis strategies**: :data:`offences`, :data:`levels`, :data:`victims`,
  :data:`facilitators`, :data:`parties`, :func:`policies` (valid policies, drawn from the
  policy file's settings), :func:`inputs` and :func:`valid_inputs` (inputs for any action at a
  given case), :func:`cases` (cases driven to a given stage).
- :class:`CaseMachine`: a ``hypothesis.stateful.RuleBasedStateMachine`` of one case with
  rjflow's invariants built in, for an application to subclass with its own rules.
- **Paths** from the workflow table (:mod:`rjflow.paths`, re-exported here): the shortest
  path to every stage, paths covering every action edge, and for every rule a path where it
  blocks and one where it passes, each a list of steps an application's test can run.

Install with the ``testing`` extra (``pip install 'rjflow[testing]'``), which brings
Hypothesis.  See ``docs/testing.md``.
"""

from __future__ import annotations

try:
    import hypothesis as _hypothesis
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "rjflow.testing needs Hypothesis: install rjflow with the testing extra, "
        "pip install 'rjflow[testing]'."
    ) from exc

from rjflow.paths import Path, Step, cover_edges, cover_guards, cover_stages, run_path
from rjflow.testing._builders import (
    SPECIALISMS,
    T0,
    Clock,
    at_stage,
    codes,
    consent,
    new_case,
    ready_supporters,
    session,
)
from rjflow.testing._machine import CaseMachine, actor_for
from rjflow.testing._strategies import (
    DRIVABLE,
    POLICIES,
    SESSION_LENGTHS,
    UNKNOWN,
    cases,
    facilitators,
    inputs,
    levels,
    offences,
    parties,
    policies,
    valid_inputs,
    victims,
)

del _hypothesis

__all__ = [
    "DRIVABLE",
    "POLICIES",
    "SESSION_LENGTHS",
    "SPECIALISMS",
    "T0",
    "UNKNOWN",
    "CaseMachine",
    "Clock",
    "Path",
    "Step",
    "actor_for",
    "at_stage",
    "cases",
    "codes",
    "consent",
    "cover_edges",
    "cover_guards",
    "cover_stages",
    "facilitators",
    "inputs",
    "levels",
    "new_case",
    "offences",
    "parties",
    "policies",
    "ready_supporters",
    "run_path",
    "session",
    "valid_inputs",
    "victims",
]
