"""The caseload commands and the diagram take the service's policy file (found by a newcomer:
a case judged under another policy was silently re-judged under the default by ``due`` and
``report``, with a raw Python warning on screen; ``diagram`` had no ``--policy``; SVG, which
is text, was refused without ``--output``)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from rjflow import cli
from rjflow.policy import example_policy
from rjflow.serialization import dumps
from rjflow.states import State
from tests.builders import at_stage

YOUTH = Path(__file__).resolve().parents[1] / "src" / "rjflow" / "policies" / "youth.toml"


def _caseload(tmp_path: Path) -> Path:
    youth, _ = at_stage(State.INTRODUCTION, case_id="Y1", policy=example_policy("youth").policy)
    default, _ = at_stage(State.INTRODUCTION, case_id="D1")
    path = tmp_path / "mixed.jsonl"
    path.write_text(dumps(default) + "\n" + dumps(youth) + "\n", encoding="utf-8")
    return path


def test_a_case_judged_under_another_policy_is_named_not_rejudged(tmp_path: Path) -> None:
    path = _caseload(tmp_path)
    out = str(tmp_path / "report")
    period = ["--from", "2026-01-01", "--to", "2026-12-31", "--out", out]
    for args in (["due", str(path), "--at", "2026-12-01"], ["report", str(path), *period]):
        result = CliRunner().invoke(cli.main, args)
        assert result.exit_code == cli.EXIT_INVALID, result.output
        assert f"{path}:2:" in result.stderr  # the youth case's line, named
        assert "Warning" not in result.stderr and "yield" not in result.stderr
        assert "of 1 case(s) read" in result.output or "1 case(s) read" in result.output


def test_with_the_policy_file_the_service_s_cases_load(tmp_path: Path) -> None:
    youth, _ = at_stage(State.INTRODUCTION, case_id="Y1", policy=example_policy("youth").policy)
    path = tmp_path / "youth.jsonl"
    path.write_text(dumps(youth) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli.main, ["due", str(path), "--at", "2026-12-01", "--policy", str(YOUTH)]
    )
    assert result.exit_code == cli.EXIT_OK, result.output + result.stderr
    assert "of 1 case(s) read" in result.output
    single = tmp_path / "youth.json"
    single.write_text(dumps(youth), encoding="utf-8")
    drawn = CliRunner().invoke(
        cli.main, ["diagram", "--case", str(single), "--policy", str(YOUTH), "--format", "svg"]
    )
    assert drawn.exit_code == cli.EXIT_OK, drawn.output + drawn.stderr
    assert drawn.output.startswith("<svg") and "introduction" in drawn.output


def test_svg_is_text_and_goes_to_standard_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.main, ["diagram", "--format", "svg"])
    assert result.exit_code == cli.EXIT_OK, result.output
    assert result.output.startswith("<svg")
    png = CliRunner().invoke(cli.main, ["diagram", "--format", "png"])
    assert png.exit_code == cli.EXIT_USAGE
    assert "png is binary" in png.output + png.stderr
