"""The rjflow command, run as a user runs it: a real subprocess, real files, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rjflow import LONDON_CRC, Policy, State
from rjflow.demo import build_demo_case
from rjflow.diagrams import diagram_model, to_dot, to_mermaid
from rjflow.serialization import dumps, to_dict
from rjflow.states import ACTIONS
from rjflow.store import SQLiteStore

from .builders import at_stage


def rjflow(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rjflow", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def case_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cases") / "demo.json"
    path.write_text(dumps(build_demo_case()), encoding="utf-8")
    return path


def test_demo_prints_the_trail_and_saves_to_a_store(tmp_path: Path) -> None:
    """The demo's trail ends completed; --store saves it; --diagram-dir writes the diagram."""
    store = tmp_path / "rj.sqlite3"
    done = rjflow("demo", "--store", str(store), "--diagram-dir", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "open case" in done.stdout
    assert "[review -> completed]" in done.stdout
    assert "victim_consent_missing" in done.stdout
    with SQLiteStore(store) as db:
        assert db.load("RJ-2026-0001").record == build_demo_case().record
    assert (tmp_path / "out" / "demo-case.mmd").read_text().startswith("stateDiagram-v2")


def test_diagram_mermaid_and_dot_to_stdout() -> None:
    """Text formats go to stdout."""
    mermaid = rjflow("diagram")
    assert mermaid.returncode == 0
    assert mermaid.stdout.startswith("stateDiagram-v2")
    dot = rjflow("diagram", "--format", "dot", "--guards")
    assert dot.returncode == 0
    assert dot.stdout.startswith("digraph rjflow {")
    assert "victims_consent_face_to_face" in dot.stdout


def test_diagram_of_a_case_highlights_it(case_file: Path) -> None:
    """--case marks the current stage; --reachable-only keeps what can still happen."""
    done = rjflow("diagram", "--case", str(case_file), "--reachable-only")
    assert done.returncode == 0, done.stderr
    assert "class completed current" in done.stdout
    assert "referred" not in done.stdout.split("direction LR", 1)[1]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_diagram_svg(tmp_path: Path) -> None:
    """With Graphviz, --format svg writes an SVG picture."""
    out = tmp_path / "wf.svg"
    done = rjflow("diagram", "--format", "svg", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert "<svg" in out.read_text()


def test_svg_without_graphviz_says_how_to_install_it(tmp_path: Path) -> None:
    """Without dot on PATH: exit 1 and instructions, no traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "rjflow", "diagram", "--format", "png", "-o", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": str(tmp_path)},
    )
    assert done.returncode == 1
    assert "apt-get install graphviz" in done.stderr
    assert "Traceback" not in done.stderr


def test_explain_lists_what_may_happen_and_why_not(tmp_path: Path) -> None:
    """explain shows the stage and, for each blocked action, every reason."""
    case, _ = at_stage(State.PREPARATION)
    path = tmp_path / "prep.json"
    path.write_text(dumps(case))
    done = rjflow("explain", str(path))
    assert done.returncode == 0, done.stderr
    assert "preparation stage" in done.stdout
    assert "[no ] hold_conference" in done.stdout
    assert "has not consented to a face-to-face meeting" in done.stdout


def test_check_reports_each_bad_line_with_exit_status_1(tmp_path: Path, case_file: Path) -> None:
    """check: FILE:LINE: message for each problem; 0 when all valid, 1 otherwise."""
    good = rjflow("check", str(case_file))
    assert good.returncode == 0
    assert "1 valid, 0 invalid." in good.stdout
    doc = to_dict(build_demo_case())
    doc["events"][2]["actor"] = "F7"
    lines = tmp_path / "many.jsonl"
    lines.write_text("\n".join([dumps(build_demo_case()), json.dumps(doc), "{oops"]) + "\n")
    bad = rjflow("check", str(lines), str(case_file))
    assert bad.returncode == 1
    assert f"{lines}:2: Event 3 was altered" in bad.stderr
    assert f"{lines}:3: The text is not valid JSON" in bad.stderr
    assert "2 valid, 2 invalid." in bad.stdout


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["check"], 2, "Missing argument"),
        (["diagram", "--format", "gif"], 2, "Invalid value"),
        (["diagram", "--format", "svg"], 2, "give --output FILE"),
        (["diagram", "--reachable-only"], 2, "needs --case"),
        (["explain", "missing.json"], 2, "does not exist"),
        (["nonsense"], 2, "No such command"),
    ],
)
def test_usage_errors_exit_2(args: list[str], code: int, fragment: str) -> None:
    """Usage mistakes: exit status 2, a message on stderr, no traceback."""
    done = rjflow(*args)
    assert done.returncode == code
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_case_files_exit_1(tmp_path: Path) -> None:
    """A case file that does not load, or cannot be read: exit 1 with the reason."""
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 9}')
    done = rjflow("explain", str(broken))
    assert done.returncode == 1
    assert "schema_version 9" in done.stderr
    unreadable = tmp_path / "latin1.json"
    unreadable.write_bytes(b"\xff\xfe not utf-8")
    done = rjflow("check", str(unreadable))
    assert done.returncode == 1
    assert "cannot read" in done.stderr


def test_policy_and_help_and_version() -> None:
    """policy prints JSON; --help everywhere; --version."""
    done = rjflow("policy")
    values = json.loads(done.stdout)
    assert values["max_sessions"] == 12
    assert values["min_lead_level"] == "intermediate"
    for command in ("demo", "diagram", "explain", "check", "policy"):
        helped = rjflow(command, "--help")
        assert helped.returncode == 0
        assert "Usage:" in helped.stdout
    assert rjflow("--version").returncode == 0


def test_mermaid_has_one_line_per_state_and_edge() -> None:
    """Checked against the table, not a pasted string."""
    text = to_mermaid(diagram_model(LONDON_CRC))
    for state in State:
        assert text.count(f" as {state.value}\n") == 1
    expected = {
        f"    {s.value} --> {a.dest.value} : {a.name}"
        for a in ACTIONS.values()
        if a.dest is not None
        for s in a.sources
    }
    edges = {line for line in text.splitlines() if " : " in line and "-->" in line}
    assert edges == expected


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_graphviz_accepts_the_dot() -> None:
    """The DOT text, with a case highlighted, is valid for Graphviz."""
    case = build_demo_case()
    source = to_dot(diagram_model(case.policy, case), guards=True)
    done = subprocess.run(
        ["dot", "-Tcanon"], input=source, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert 'color="#2e7d32"' in source


def test_a_policy_without_letters_draws_no_letter_stage() -> None:
    """The policy shows in the diagram."""
    model = diagram_model(Policy(letter_enabled=False))
    assert "letter_of_apology" not in to_mermaid(model)
    assert "letter_of_apology" not in to_dot(model)
