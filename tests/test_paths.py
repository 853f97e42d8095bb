"""Test paths from the table (issue 12): they run against rjflow as they say, and cover the
default policy's stages, action edges and rule outcomes (the counts are pinned here)."""

from __future__ import annotations

import pathlib
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
    coverage_table,
    run_path,
)
from rjflow.policy import EXAMPLES, example_policy
from rjflow.policy_check import fewest_sessions_to_complete
from rjflow.rule_scope import impossible_outcomes
from rjflow.testing import POLICIES
from rjflow.workflow import Workflow

#: Rule outcomes no new case can show under the default policy: required_sessions is 0, so
#: the total-sessions rule never blocks; assessors (facilitators) and approvers (managers)
#: hold roles no one holds together, so the approver is never the assessor.
IMPOSSIBLE = {"approver_not_assessor:blocks", "required_sessions_held:blocks"}


def test_the_shortest_path_to_every_stage() -> None:
    paths, coverage = cover_stages()
    assert (coverage.covered, coverage.total) == (9, 9)
    for path in paths:
        stage = State(path.goal.removeprefix("stage "))
        assert run_path(path).state is stage, path.goal


def test_paths_cover_every_edge() -> None:
    """All 168 of the default policy's action edges (the table has no dead edge left: P104
    finds one)."""
    paths, coverage = cover_edges()
    total = sum(len(a.sources) for a in Workflow.for_policy(Policy()).actions.values())
    assert coverage.total == total == 168
    assert (coverage.missing, dict(coverage.impossible)) == ((), {})
    assert coverage.covered == coverage.possible == total
    for path in paths:
        name, stage = path.goal.removeprefix("edge ").split("@")
        case = run_path(path)
        assert path.steps[-1].action == name
        if Workflow.for_policy(Policy()).actions[name].dest is None:
            assert case.state is State(stage), path.goal


def test_paths_show_both_outcomes_of_every_rule_that_can_show_them() -> None:
    """For every rule, a path where it blocks (the last step is refused, by it among others)
    and one where it passes; run_path checks each.  The two outcomes no new case can show
    under the default policy are counted apart, each with its reason."""
    paths, coverage = cover_guards()
    assert coverage.missing == ()
    assert set(coverage.impossible) == IMPOSSIBLE
    assert "required_sessions = 0" in coverage.impossible["required_sessions_held:blocks"]
    assert (coverage.covered, coverage.possible, coverage.total) == (140, 140, 142)
    assert str(coverage) == "140/140"
    for path in paths:
        run_path(path)
    blocking = [p for p in paths if p.refused_by is not None]
    assert len(blocking) == coverage.total // 2 - len(IMPOSSIBLE)


def test_the_total_sessions_rule_blocks_under_a_policy_that_sets_a_total(
    tmp_path: pathlib.Path,
) -> None:
    """``required_sessions_held`` cannot block under the default policy; given a policy file
    with required_sessions 6, ``rjflow paths --cover guards --policy FILE`` shows it block."""
    file = tmp_path / "six.toml"
    file.write_text('format = 1\nname = "six sessions"\nrequired_sessions = 6\n')
    done = CliRunner().invoke(main, ["paths", "--cover", "guards", "--policy", str(file)])
    assert done.exit_code == EXIT_OK, done.output
    assert "guard required_sessions_held blocks (" in done.output
    assert "Covered 141/141 guards (142 in all; 1 impossible under this policy)." in done.output
    assert "  impossible: approver_not_assessor:blocks: " in done.output


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
    assert "Covered 168/168 edges." in done.output
    assert "not covered" not in done.output
    assert "edge hold_conference@preparation (" in done.output
    guards = CliRunner().invoke(main, ["paths", "--cover", "guards"])
    assert "Covered 140/140 guards (142 in all; 2 impossible under this policy)." in guards.output
    assert "  impossible: required_sessions_held:blocks: blocks only when" in guards.output


@pytest.mark.parametrize(
    "policy",
    [*POLICIES[1:], *(example_policy(name).policy for name in EXAMPLES)],
    ids=lambda p: repr(p.name),
)
def test_every_takeable_edge_is_covered_under_other_policies(policy: Policy) -> None:
    """Paths follow a service's policy: the suite's variations and the shipped examples (the
    youth and prison services' two-hour sessions, participant-by-participant risk
    assessment; a service without conferences) leave no edge uncovered."""
    paths, coverage = cover_edges(policy)
    assert coverage.missing == ()
    for path in paths[::7]:  # a sample runs again here; all ran when they were made
        run_path(path, policy)


def test_the_coverage_table_in_the_docs_is_the_generators() -> None:
    """docs/testing.md shows ``rjflow paths --table`` as it prints now: its counts cannot go
    stale (regenerate the table with that command when this fails)."""
    page = (pathlib.Path(__file__).parent.parent / "docs" / "testing.md").read_text()
    table = coverage_table()
    assert table in page
    done = CliRunner().invoke(main, ["paths", "--table"])
    assert done.output == table + "\n"
    # Every possible target is covered, under the default and every shipped example.
    assert "not covered" not in table
    assert "| default (London CRC) | 9 / 9 | 168 / 168 | 140 / 140 |" in table


@pytest.mark.parametrize(
    "policy",
    [*(example_policy(name).policy for name in EXAMPLES), *POLICIES[1:]],
    ids=lambda p: repr(p.name),
)
def test_every_possible_rule_outcome_is_covered_under_other_policies(policy: Policy) -> None:
    """Under each shipped example and each of the suite's variations (fewer sessions, no
    letters, no conferences), every rule outcome a new case can show has a path; the
    impossible ones are exactly those the rules' declared scope derives for the policy."""
    _, coverage = cover_guards(policy)
    assert coverage.missing == ()
    assert coverage.covered == coverage.possible
    assert dict(coverage.impossible) == {
        target: why
        for target, why in impossible_outcomes(policy, fewest_sessions_to_complete(policy)).items()
        if target.split(":")[0]
        in {g for a in Workflow.for_policy(policy).actions.values() for g in a.guards}
    }
