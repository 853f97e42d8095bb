"""Type-checked usage of rjflow.testing, policy files and paths, as an application writes it
(mypy --strict runs over this file; it is not run).  Issue 12."""

from __future__ import annotations

from pathlib import Path
from typing import assert_type

from hypothesis import strategies as st
from hypothesis.stateful import invariant

from rjflow import Case, Event, Policy, PolicyFileError, State
from rjflow.paths import Coverage, Step, cover_edges, run_path
from rjflow.paths import Path as TestPath
from rjflow.policy import PolicyFile, read_policy_file
from rjflow.policy_check import Finding, Severity, check_policy
from rjflow.testing import CaseMachine, Clock, at_stage, cases, policies


def load(path: Path) -> Policy:
    try:
        return Policy.from_toml(path)
    except PolicyFileError as error:
        assert_type(error.line, int | None)
        assert_type(error.key, str | None)
        raise


def sources(path: Path) -> frozenset[str]:
    read = read_policy_file(path)
    assert_type(read, PolicyFile)
    return read.from_file


def errors(policy: Policy) -> list[str]:
    findings = check_policy(policy)
    assert_type(findings, tuple[Finding, ...])
    return [f.code for f in findings if f.severity is Severity.ERROR]


def every_edge() -> list[TestPath]:
    paths, coverage = cover_edges(Policy())
    assert_type(coverage, Coverage)
    for path in paths:
        steps: tuple[Step, ...] = path.steps
        assert_type(run_path(path), Case)
        assert steps
    return paths


def built() -> Case:
    case, clock = at_stage(State.REVIEW)
    assert_type(clock, Clock)
    return case


policy_strategy: st.SearchStrategy[Policy] = policies()
case_strategy: st.SearchStrategy[tuple[Case, Clock]] = cases(State.CONFERENCE)


class MyApp(CaseMachine):
    def on_event(self, event: Event) -> None:
        self.last = event.sequence

    @invariant()
    def agrees(self) -> None:
        assert self.case.version >= 1
