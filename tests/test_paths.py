"""Test paths from the table (issue 12): they run against rjflow as they say, and cover the
default policy's stages, action edges and rule outcomes (the counts are pinned here)."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from rjflow import ActionRefused, Policy, State
from rjflow.cli import EXIT_OK, main
from rjflow.paths import (
    Path,
    Step,
    cover_edges,
    cover_guards,
    cover_stages,
    run_path,
)
from rjflow.policy import EXAMPLES, example_policy
from rjflow.testing import POLICIES
from rjflow.workflow import Workflow

#: Edges no case can take under the default policy, whatever it does: acknowledge
#: responsibility lists preparation as a source, but a case enters preparation only once
#: responsibility is acknowledged, and it is acknowledged once (rules not_yet_acknowledged,
#: responsibility_acknowledged).  A finding for the table, reported rather than hidden.
DEAD_EDGES = ("acknowledge_responsibility@preparation",)

#: Rule outcomes the default policy cannot show: required_sessions is 0, so the total-sessions
#: rule never blocks; in the fixed cast no manager makes an assessment, so the approver is
#: never its assessor.
UNSHOWN = ("approver_not_assessor:blocks", "required_sessions_held:blocks")


def test_the_shortest_path_to_every_stage() -> None:
    paths, coverage = cover_stages()
    assert (coverage.covered, coverage.total) == (9, 9)
    for path in paths:
        stage = State(path.goal.removeprefix("stage "))
        assert run_path(path).state is stage, path.goal


def test_paths_cover_every_edge_that_can_be_taken() -> None:
    """146 of the default policy's 147 action edges; the one left is provably dead."""
    paths, coverage = cover_edges()
    total = sum(len(a.sources) for a in Workflow.for_policy(Policy()).actions.values())
    assert coverage.total == total == 147
    assert coverage.missing == DEAD_EDGES
    assert coverage.covered == total - len(DEAD_EDGES)
    for path in paths:
        name, stage = path.goal.removeprefix("edge ").split("@")
        case = run_path(path)
        assert path.steps[-1].action == name
        if Workflow.for_policy(Policy()).actions[name].dest is None:
            assert case.state is State(stage), path.goal


def test_paths_show_both_outcomes_of_every_rule_they_can() -> None:
    """For every rule, a path where it blocks (the last step is refused, by it among others)
    and one where it passes; run_path checks each."""
    paths, coverage = cover_guards()
    assert coverage.missing == UNSHOWN
    assert (coverage.covered, coverage.total) == (132, 134)
    for path in paths:
        run_path(path)
    blocking = [p for p in paths if p.refused_by is not None]
    assert len(blocking) == coverage.total // 2 - len(UNSHOWN)


def test_a_path_that_does_not_hold_fails_when_run() -> None:
    """run_path fails on a refused step and on a 'blocks' path whose last step passes."""
    refused = Path("edge complete@referred", (Step("complete", {}, "F1"),))
    with pytest.raises(ActionRefused):
        run_path(refused)
    passing = Path(
        "guard x blocks",
        (Step("record_sentence", {"sentenced_on": date(2026, 2, 1)}, "F1"),),
        "offender_sentenced",
    )
    with pytest.raises(AssertionError):
        run_path(passing)


def test_paths_follow_the_policy() -> None:
    """Without letters there is no letter stage to reach and no letter edge to cover."""
    paths, coverage = cover_stages(Policy(letter_enabled=False))
    assert "stage letter_of_apology" not in {p.goal for p in paths}
    assert coverage.covered == coverage.total == 8


def test_rjflow_paths_prints_the_paths_and_the_counts() -> None:
    done = CliRunner().invoke(main, ["paths", "--cover", "edges"])
    assert done.exit_code == EXIT_OK, done.output
    assert "Covered 146/147 edges." in done.output
    assert "  not covered: acknowledge_responsibility@preparation" in done.output
    assert "edge hold_conference@preparation (" in done.output


@pytest.mark.parametrize(
    "policy",
    [*POLICIES[1:], *(example_policy(name).policy for name in EXAMPLES)],
    ids=lambda p: repr(p.name),
)
def test_every_takeable_edge_is_covered_under_other_policies(policy: Policy) -> None:
    """Paths follow a service's policy: the suite's variations and the shipped examples (the
    youth and prison services' two-hour sessions, participant-by-participant risk
    assessment; a service without conferences) leave only the dead edge uncovered."""
    paths, coverage = cover_edges(policy)
    assert coverage.missing == DEAD_EDGES
    for path in paths[::7]:  # a sample runs again here; all ran when they were made
        run_path(path, policy)
