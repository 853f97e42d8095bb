"""The rjflow command, run as a user runs it: a real subprocess, real files, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rjflow import LONDON_CRC, Policy, State, cli
from rjflow.cli import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    main,
)
from rjflow.demo import build_demo_case
from rjflow.diagrams import diagram_model, to_dot, to_mermaid
from rjflow.serialization import dumps, to_dict
from rjflow.states import ACTIONS
from rjflow.store import SQLiteStore

from .builders import at_stage

NASTY_TEXT = ["\x1b[2J", "\x1b]0;owned\x07", "\u202e", "\r", "\x85", "\u2028", "\x9b1m"]

#: Graphviz draws SVG and PNG. Without it these tests skip on a developer's machine, saying why;
#: under CI=true they run and fail, since CI installs it (.ci/run).
NEEDS_GRAPHVIZ = pytest.mark.skipif(
    shutil.which("dot") is None and os.environ.get("CI") != "true",
    reason="Graphviz's dot program is not installed (apt-get install graphviz)",
)


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
    assert "[victims consent face to face]" in dot.stdout  # rules in plain words (issue 10)


def test_diagram_of_a_case_highlights_it(case_file: Path) -> None:
    """--case marks the current stage; --reachable-only keeps what can still happen."""
    done = rjflow("diagram", "--case", str(case_file), "--reachable-only")
    assert done.returncode == 0, done.stderr
    assert "class completed current" in done.stdout
    assert "referred" not in done.stdout.split("direction LR", 1)[1]


@NEEDS_GRAPHVIZ
def test_diagram_svg(tmp_path: Path) -> None:
    """With Graphviz, --format svg writes an SVG picture."""
    out = tmp_path / "wf.svg"
    done = rjflow("diagram", "--format", "svg", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert "<svg" in out.read_text()


def test_svg_without_graphviz_says_how_to_install_it(tmp_path: Path) -> None:
    """Without dot on PATH: exit 3 (a program rjflow needs is missing) and instructions, no
    traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "rjflow", "diagram", "--format", "png", "-o", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": str(tmp_path)},
    )
    assert done.returncode == 3
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
        (["diagram", "--format", "png"], 2, "give --output FILE"),
        (["diagram", "--reachable-only"], 2, "needs --case"),
        (["explain", "missing.json"], 2, "cannot read missing.json"),
        (["nonsense"], 2, "No such command"),
        (["policy", "extra"], 2, "unexpected extra argument"),
        (["explain", "/"], 2, "is a directory"),
    ],
)
def test_usage_errors_exit_2(args: list[str], code: int, fragment: str) -> None:
    """Usage mistakes: exit status 2, a message on stderr, no traceback."""
    done = rjflow(*args)
    assert done.returncode == code
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_case_files_exit_1(tmp_path: Path) -> None:
    """A case file that does not load, or is not UTF-8: exit 1 with the reason."""
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 9}')
    done = rjflow("explain", str(broken))
    assert done.returncode == 1
    assert "schema_version 9" in done.stderr
    unreadable = tmp_path / "latin1.json"
    unreadable.write_bytes(b"\xff\xfe not utf-8")
    done = rjflow("check", str(unreadable))
    assert done.returncode == 1
    assert "is not valid UTF-8 (at byte 0)" in done.stderr


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
    """Checked against the table, not a pasted string: actions in plain words, and the
    action possible from every open stage (close) drawn once, as a note (issue 10)."""
    text = to_mermaid(diagram_model(LONDON_CRC))
    for state in State:
        assert text.count(f" as {state.value}\n") == 1
    expected = {
        f"    {s.value} --> {a.dest.value} : {a.name.replace('_', ' ')}"
        for a in ACTIONS.values()
        if a.dest is not None and a.name != "close"
        for s in a.sources
    }
    assert "    note left of closed : close #8212; from any open stage" in text.splitlines()
    edges = {line for line in text.splitlines() if " : " in line and "-->" in line}
    assert edges == expected


@NEEDS_GRAPHVIZ
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


# -- boundaries: one line, an honest exit code, no traceback (issue 9, item 9) -------------

runner = CliRunner()


def invoke(*args: str) -> Result:
    """The command in-process, as click runs it for a user (standalone mode)."""
    return runner.invoke(main, list(args), catch_exceptions=False)


def shows_one_line(result: Result) -> str:
    """The error is one line on stderr, starting "rjflow:", without a traceback."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rjflow: ")
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["diagram", "-o", "/no/such/dir/x.mmd"], 3, "cannot write /no/such/dir/x.mmd"),
        (["demo", "--diagram-dir", "/proc/nope"], 3, "cannot create the folder /proc/nope"),
        (["demo", "--store", "/no/such/x.db"], 3, "/no/such/x.db: The store's database"),
    ],
)
def test_unwritable_outputs_exit_3_with_one_line(args: list[str], code: int, fragment: str) -> None:
    """Regression (tracebacks): an output that cannot be written is one line and exit 3,
    and nothing is printed before it (the demo checks its outputs first)."""
    result = invoke(*args)
    assert result.exit_code == code
    assert fragment in shows_one_line(result)
    assert result.stdout == ""


def test_a_store_file_that_is_not_a_store_exits_3(tmp_path: Path) -> None:
    """Regression: `rjflow demo --store junk.json` (not SQLite) printed a traceback; now one
    line, exit 3, and the file is left exactly as it was."""
    junk = tmp_path / "junk.json"
    junk.write_text('{"not": "a database"}')
    result = invoke("demo", "--store", str(junk))
    assert result.exit_code == 3
    assert "is not a database" in shows_one_line(result)
    assert junk.read_text() == '{"not": "a database"}'


def test_a_closed_pipe_stops_the_output_quietly() -> None:
    """Regression: `rjflow demo | head -1` exited 1; now a real pipe closed after one line
    ends rjflow with 141 (128 + SIGPIPE) and nothing on stderr."""
    with subprocess.Popen(
        [sys.executable, "-m", "rjflow", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.wait(timeout=120)
    assert first.startswith(b"rjflow demo:")
    assert proc.returncode == 141
    assert stderr == b""


def test_a_missing_file_is_2_in_every_command(tmp_path: Path) -> None:
    """Regression: a missing file was 2 in explain and 1 in check; now 2 everywhere, with
    the same message."""
    missing = str(tmp_path / "missing.json")
    for args in (["explain", missing], ["check", missing], ["diagram", "--case", missing]):
        result = invoke(*args)
        assert result.exit_code == 2, args
        assert f"cannot read {missing}: No such file or directory." in result.stderr


def test_an_invalid_case_is_1_in_every_command(tmp_path: Path) -> None:
    """The same invalid file: exit 1 in explain, check and diagram --case."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 9}')
    for args in (["explain", str(bad)], ["check", str(bad)], ["diagram", "--case", str(bad)]):
        result = invoke(*args)
        assert result.exit_code == 1, args
        assert "schema_version" in result.stderr


def test_check_ranks_unreadable_over_invalid(tmp_path: Path, case_file: Path) -> None:
    """check goes on after a bad file; an unreadable one (2) outranks an invalid one (1)."""
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = invoke("check", str(case_file), str(bad), str(tmp_path / "gone.json"))
    assert result.exit_code == 2
    assert "1 valid, 1 invalid." in result.stdout
    assert invoke("check", str(case_file), str(bad)).exit_code == 1


def test_a_conflicting_store_exits_1(tmp_path: Path) -> None:
    """The store holds another case under the demo's id: a conflict is invalid content (1)."""
    path = tmp_path / "rj.sqlite3"
    other, _ = at_stage(State.PREPARATION, case_id="RJ-2026-0001")
    with SQLiteStore(path) as store:
        store.save(other, expected_version=0)
    result = invoke("demo", "--store", str(path))
    assert result.exit_code == 1
    assert "was changed by someone else" in result.stderr


def test_the_exit_code_table_is_documented() -> None:
    """docs/cli.md and the cli module state the same codes as the constants."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    for code in (EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_INTERNAL):
        assert f"| {code} |" in page
        assert f"\n{code} " in (cli.__doc__ or "")
    assert f"| {EXIT_BROKEN_PIPE} |" in page


# -- terminal output holds no control characters -------------------------------------------

NASTY_NAME = st.text(
    st.characters(blacklist_characters="/\x00", blacklist_categories=()), min_size=1, max_size=20
) | st.sampled_from(["\x1b[2J\x1b[31mred", "a\u202eb", "x\ry", "\x9b31m", "\u2028"])


def printable_output(result: Result) -> None:
    for text in (result.stdout, result.stderr):
        assert all(ch.isprintable() or ch == "\n" for ch in text), repr(text)


@settings(max_examples=200, deadline=None)
@given(name=NASTY_NAME)
def test_file_names_never_put_control_characters_on_the_terminal(name: str) -> None:
    """A missing file of any name (200 examples: ESC sequences, bidi overrides, CR, C1): the
    one-line message shows it with its control characters made visible; exit 2."""
    assume(name not in (".", ".."))
    for args in (["explain", name], ["check", name]):
        result = invoke(*args)
        assert result.exit_code == 2
        printable_output(result)


document_text = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.sampled_from(NASTY_TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    field=st.sampled_from(["schema_version", "case_id", "state", "version", "events"])
    | st.sampled_from(NASTY_TEXT)
    | st.text(max_size=8),
    value=document_text,
)
def test_documents_never_put_control_characters_on_the_terminal(field: str, value: Any) -> None:
    """A saved case with a field (or a new key, random text) set to random JSON holding
    terminal escapes (200 examples): explain and check agree on the exit code, and neither
    prints a control character."""
    doc = to_dict(build_demo_case())
    doc[field] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        explained = invoke("explain", str(path))
        checked = invoke("check", str(path))
    assert explained.exit_code == checked.exit_code
    assert explained.exit_code in (0, 1)
    printable_output(explained)
    printable_output(checked)


@settings(max_examples=200, deadline=None)
@given(
    args=st.lists(
        st.sampled_from(["check", "explain", "diagram", "demo", "policy", "--format", "-o"])
        | st.sampled_from(NASTY_TEXT)
        | st.text(max_size=6),
        min_size=1,
        max_size=4,
    )
)
def test_any_arguments_get_an_exit_code_of_the_table_and_printable_output(
    args: list[str],
) -> None:
    """Random command lines (200 examples; unknown commands and options, nasty text as
    arguments): the exit code is one of the table's, there is no traceback, and click's own
    messages ("No such command", "Got unexpected extra argument") show no control character.
    """
    assume("demo" not in args)  # the demo prints a full case (tested on its own above)
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # "-o FILE" writes its file here, not in the repository
        try:
            result = runner.invoke(main, args, catch_exceptions=False)
        finally:
            os.chdir(here)
    assert result.exit_code in (EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_UNAVAILABLE)
    assert "Traceback" not in result.output
    printable_output(result)
