"""``rjflow due``: what is overdue across a caseload, grouped by lead facilitator (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from rjflow import cli
from rjflow.deadlines import DueState
from rjflow.serialization import dumps
from rjflow.store import SQLiteStore
from tests.synthetic import synthetic_caseload

AT = datetime(2026, 12, 1, tzinfo=UTC)


def _write(tmp_path: Path, count: int = 60) -> tuple[Path, list]:  # type: ignore[type-arg]
    cases = list(synthetic_caseload(count, seed=7))
    path = tmp_path / "caseload.jsonl"
    path.write_text("".join(dumps(c) + "\n" for c in cases), encoding="utf-8")
    return path, cases


def test_lists_every_overdue_obligation_under_its_lead(tmp_path: Path) -> None:
    """Independent: each case's own ``Case.due`` and its record's lead facilitator."""
    path, cases = _write(tmp_path)
    result = CliRunner().invoke(cli.main, ["due", str(path), "--at", "2026-12-01"])
    assert result.exit_code == 0, result.output
    expected = {
        (c.record.lead_facilitator, c.case_id, o.code, o.message)
        for c in cases
        for o in c.due(AT)
        if o.state is DueState.OVERDUE
    }
    assert expected  # the caseload does have overdue work
    assert _listed(result.output) == expected
    first = result.output.splitlines()[0]
    assert first.startswith(f"Overdue at 2026-12-01 00:00 UTC: {len(expected)} obligation(s)")


def test_a_line_that_does_not_load_is_named_and_the_rest_listed(tmp_path: Path) -> None:
    path, _ = _write(tmp_path, 5)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"not": "a case"}\n')
    result = CliRunner().invoke(cli.main, ["due", str(path), "--at", "2026-12-01"])
    assert result.exit_code == cli.EXIT_INVALID
    assert "of 5 case(s) read" in result.output
    assert f"{path}:6:" in result.stderr


def test_a_time_without_offset_and_a_missing_file_are_usage_errors(tmp_path: Path) -> None:
    path, _ = _write(tmp_path, 1)
    naive = CliRunner().invoke(cli.main, ["due", str(path), "--at", "2026-12-01T09:00"])
    assert naive.exit_code == cli.EXIT_USAGE and "offset" in naive.output
    missing = CliRunner().invoke(
        cli.main, ["due", str(tmp_path / "nope.jsonl"), "--at", "2026-12-01"]
    )
    assert missing.exit_code == cli.EXIT_USAGE and "cannot read" in missing.output


def test_all_lists_upcoming_too_and_one_json_case_is_accepted(tmp_path: Path) -> None:
    _, cases = _write(tmp_path, 30)
    case = next(c for c in cases if c.is_open)
    single = tmp_path / "one.json"
    single.write_text(dumps(case), encoding="utf-8")
    at = case.record.updated_at
    result = CliRunner().invoke(cli.main, ["due", str(single), "--at", at.isoformat(), "--all"])
    assert result.exit_code == 0, result.output
    listed = [line for line in result.output.splitlines() if line.startswith("  ")]
    assert len(listed) == len(case.due(at))


def _stored(tmp_path: Path, cases: list) -> Path:  # type: ignore[type-arg]
    db = tmp_path / "caseload.db"
    with SQLiteStore(db) as store:
        for case in cases:
            store.save(case, expected_version=0)
    return db


def _listed(output: str) -> set[tuple[str | None, str, str, str]]:
    found = set()
    lead = None
    for line in output.splitlines():
        if line.startswith("Lead facilitator "):
            lead = line.split()[2]
        elif line.startswith("  "):
            case_id, code, message = line.split(None, 2)
            found.add((lead, case_id, code.strip("[]"), message))
    return found


def test_a_store_lists_the_same_overdue_work_as_its_cases(tmp_path: Path) -> None:
    """From a store, only the cases its summaries find overdue are loaded; the list is the
    one each case's own ``Case.due`` gives (independent of the summaries)."""
    _path, cases = _write(tmp_path)
    db = _stored(tmp_path, cases)
    result = CliRunner().invoke(cli.main, ["due", str(db), "--at", "2026-12-01"])
    assert result.exit_code == 0, result.output
    expected = {
        (c.record.lead_facilitator, c.case_id, o.code, o.message)
        for c in cases
        for o in c.due(AT)
        if o.state is DueState.OVERDUE
    }
    assert expected and _listed(result.output) == expected
    overdue_cases = {case_id for _lead, case_id, _code, _message in expected}
    assert f"in {len(overdue_cases)} of {len(overdue_cases)} case(s) read" in result.output


def test_a_store_reports_what_its_cases_report(tmp_path: Path) -> None:
    path, cases = _write(tmp_path, 40)
    db = _stored(tmp_path, cases)
    runner = CliRunner()
    outputs = []
    for source, out in ((path, tmp_path / "from-file"), (db, tmp_path / "from-store")):
        result = runner.invoke(
            cli.main,
            [
                "report",
                str(source),
                "--from",
                "2026-01-01",
                "--to",
                "2026-12-31",
                "--out",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        outputs.append((out / "report.json").read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
