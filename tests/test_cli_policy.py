"""``rjflow policy --file/--check/--diff`` and ``--policy FILE`` on explain and check (issue 12)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rjflow import State
from rjflow.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from rjflow.policy import EXAMPLES, example_policy
from rjflow.serialization import dumps

from .builders import at_stage

#: A file with each kind of mistake, and the code ``--check`` must print for it.
MISTAKES = [
    ("max_sesions = 8", "F002 unknown_key", EXIT_INVALID),
    ('max_sessions = "8"', "F003 wrong_type", EXIT_INVALID),
    ('conference_categories = ["arson"]', "F004 unknown_category", EXIT_INVALID),
    ("min_lead_level = 0", "F005 level_below_foundation", EXIT_INVALID),
    ("min_sensitive_lead_level = 4", "F006 level_above_advanced", EXIT_INVALID),
    ('risk_assessment_scope = "team"', "F007 unknown_choice", EXIT_INVALID),
    ("max_sessions = 4\nrequired_sessions = 5", "F008 invalid_value", EXIT_INVALID),
    ("max_sessions = [", "F001 not_toml", EXIT_INVALID),
    (
        "conference_enabled = false\nletter_enabled = false\nshuttle_enabled = false",
        "P101 error stage_unreachable",
        EXIT_INVALID,
    ),
    ("min_conference_sessions = 11", "P102 error stage_cannot_complete", EXIT_INVALID),
    (
        "conference_categories = []\nconference_for_direct_personal_harm = false",
        "P201 error conference_never_eligible",
        EXIT_INVALID,
    ),
    ("min_introduction_sessions = 12", "P202 error sessions_exceed_maximum", EXIT_INVALID),
    (
        "letter_enabled = false\nshuttle_enabled = false",
        "P204 error no_route_for_declining_victim",
        EXIT_INVALID,
    ),
    (
        'excluded_with_ongoing_contact = ["theft"]',
        "P301 warning excluded_category_not_sensitive",
        EXIT_OK,
    ),
    (
        'min_sensitive_lead_level = "foundation"',
        "P302 warning sensitive_lead_below_ordinary",
        EXIT_OK,
    ),
]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def example(name: str) -> str:
    return str(resources.files("rjflow") / "policies" / f"{name}.toml")


@pytest.mark.parametrize("name", EXAMPLES)
def test_check_passes_every_example(name: str) -> None:
    done = invoke("policy", "--check", example(name))
    assert done.exit_code == EXIT_OK, done.output
    assert done.output.endswith("0 errors, 0 warnings.\n")


@pytest.mark.parametrize(("text", "code", "status"), MISTAKES, ids=[m[1] for m in MISTAKES])
def test_check_prints_each_mistakes_code(tmp_path: Path, text: str, code: str, status: int) -> None:
    """Each kind of mistake: its code on a FILE:LINE line, exit 1 for an error, 0 for a
    warning."""
    path = tmp_path / "service.toml"
    path.write_text(text + "\n", encoding="utf-8")
    done = invoke("policy", "--check", str(path))
    assert done.exit_code == status, done.output
    assert code in done.output
    assert f"{path}:" in done.output


def test_check_prints_every_problem_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "service.toml"
    path.write_text("max_sesions = 8\nletter_enabled = 1\n", encoding="utf-8")
    done = invoke("policy", "--check", str(path))
    assert done.exit_code == EXIT_INVALID, done.output
    lines = done.output.splitlines()
    assert [line.split(": ")[0] for line in lines[:2]] == [f"{path}:1", f"{path}:2"]
    assert lines[2] == "2 errors, 0 warnings."


def test_file_shows_where_each_value_came_from(tmp_path: Path) -> None:
    path = tmp_path / "service.toml"
    path.write_text("# a service\nmax_sessions = 8\n", encoding="utf-8")
    done = invoke("policy", "--file", str(path))
    assert done.exit_code == EXIT_OK, done.output
    assert f"max_sessions = 8  # {path}:2\n" in done.output
    assert "letter_enabled = true  # default\n" in done.output


def test_diff_shows_only_the_settings_that_differ(tmp_path: Path) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text("max_sessions = 8\n", encoding="utf-8")
    second.write_text("max_sessions = 10\nletter_enabled = true\n", encoding="utf-8")
    done = invoke("policy", "--diff", str(first), str(second))
    assert done.exit_code == EXIT_OK, done.output
    assert done.output.splitlines()[2:] == ["max_sessions: 8 -> 10"]
    same = invoke("policy", "--diff", str(first), str(first))
    assert "describe the same policy" in same.output


def test_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    for option in ("--check", "--file"):
        done = CliRunner().invoke(main, ["policy", option, str(tmp_path / "missing.toml")])
        assert done.exit_code == EXIT_USAGE
        assert "cannot read" in done.output


def test_one_option_at_a_time(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["policy", "--file", "a", "--check", "b"])
    assert done.exit_code == EXIT_USAGE


def test_explain_and_check_judge_under_a_policy_file(tmp_path: Path) -> None:
    """A case of the youth service is explained and checked under the youth service's file."""
    case, _ = at_stage(State.PREPARATION, policy=example_policy("youth").policy)
    saved = tmp_path / "case.json"
    saved.write_text(dumps(case), encoding="utf-8")
    explained = invoke("explain", str(saved), "--policy", example("youth"))
    assert explained.exit_code == EXIT_OK, explained.output
    assert "preparation" in explained.output
    checked = invoke("check", str(saved), "--policy", example("youth"))
    assert checked.exit_code == EXIT_OK, checked.output
    assert "1 valid, 0 invalid." in checked.output


def test_a_bad_policy_file_for_explain_is_invalid_content(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("min_lead_level = 0\n", encoding="utf-8")
    done = CliRunner().invoke(main, ["explain", "case.json", "--policy", str(bad)])
    assert done.exit_code == EXIT_INVALID
    assert "F005 level_below_foundation" in done.output


def test_explain_says_which_policy_judges(tmp_path: Path) -> None:
    """A youth case explained without --policy is refused, naming the option; under another
    policy file it is explained with a note that it was re-judged (issue 12)."""
    case, _ = at_stage(State.PREPARATION, policy=example_policy("youth").policy)
    saved = tmp_path / "case.json"
    saved.write_text(dumps(case), encoding="utf-8")
    refused = CliRunner().invoke(main, ["explain", str(saved)])
    assert refused.exit_code == EXIT_INVALID
    assert "another policy" in refused.output and "--policy FILE" in refused.output
    other = tmp_path / "other.toml"
    other.write_text('name = "Youth, revised"\nmax_sessions = 11\n', encoding="utf-8")
    rejudged = CliRunner().invoke(main, ["explain", str(saved), "--policy", str(other)])
    assert rejudged.exit_code == EXIT_OK, rejudged.output
    assert f"rjflow: note: {saved}: This case was judged under another policy" in (rejudged.output)
