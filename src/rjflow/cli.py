"""The ``rjflow`` command (also ``python -m rjflow``).

Exit status: the same code for the same fault in every command.

==== ==========================================================================================
code meaning
==== ==========================================================================================
0    success
1    invalid content: a case file or a stored case that does not load, a ``check`` that finds
     a problem, a save that conflicts with the store
2    usage error (an unknown command or option, a missing argument), or an input file that
     cannot be read (it does not exist, is a folder, or may not be read)
3    an output cannot be written or something rjflow needs is unavailable: an output file or
     folder, the store (SQLite: cannot be created, is not a store, is locked; PostgreSQL:
     cannot be reached), Graphviz's
     ``dot`` program, a terminal that cannot show the output's characters
70   an internal error in rjflow (a bug: please report it)
141  standard output was closed early (``rjflow demo | head -1``): rjflow stops writing and
     exits quietly with the status of a program ended by SIGPIPE (128 + 13), as ``cat`` or
     ``yes`` would, so a pipeline under ``set -o pipefail`` sees the usual code
==== ==========================================================================================

When ``check`` meets several faults, the highest-ranked wins: an unreadable file (2) over an
invalid case (1).  Errors go to stderr as one line starting ``rjflow:``, never with a
traceback.  They name the file paths given on the command line, and otherwise say what was
wrong without repeating the file's content.  Everything written to the terminal passes
through :func:`rjflow._escape.printable`, so no text (a file name, a policy name) can send
control characters or escape sequences to it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sqlite3
import stat
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import attrs
import click

from rjflow._convert import unstructure
from rjflow._escape import printable
from rjflow._report_html import PlotsUnavailable, render_html, svg_plots
from rjflow.case import Case
from rjflow.caseload import iter_jsonl, iter_jsonl_facts
from rjflow.deadlines import DueState, Obligation
from rjflow.demo import format_event, run_demo
from rjflow.diagrams import GraphvizMissing, diagram_model, render, render_svg, to_dot, to_mermaid
from rjflow.errors import (
    InvalidDocument,
    InvalidInput,
    PolicyChanged,
    PolicyMismatch,
    RJFlowError,
    SourceUnavailable,
    StoreUnavailable,
)
from rjflow.integrity import Keyring
from rjflow.parties import PractitionerLevel
from rjflow.paths import COVERS, coverage_table
from rjflow.policy import LONDON_CRC, Policy, PolicyFile, file_values, read_policy_file
from rjflow.policy_check import Severity, check_policy, has_errors
from rjflow.policy_file import PolicyFileError, to_toml
from rjflow.reporting import CaseFacts, Period, build_report, case_facts
from rjflow.serialization import LineProblem, dumps, load_jsonl, loads
from rjflow.store import SQLiteStore, StoreProblem

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERNAL",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "main",
    "run",
]

#: Success.
EXIT_OK = 0
#: Invalid content: a case that does not load, a check that finds a problem, a conflict.
EXIT_INVALID = 1
#: A usage error, or an input file that cannot be read.
EXIT_USAGE = 2
#: An output cannot be written, or the store, Graphviz or the terminal is unavailable.
EXIT_UNAVAILABLE = 3
#: A bug in rjflow.
EXIT_INTERNAL = 70
#: Standard output closed early (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141


class _Failure(click.ClickException):
    """One line on stderr, ``rjflow: ...`` (and one for each of ``more``), and the exit code
    of the table above."""

    def __init__(self, message: str, exit_code: int, *, more: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares one code per class
        self.more = tuple(more)

    def show(self, file: Any = None) -> None:
        for line in (self.message, *self.more):
            _echo(f"rjflow: {line}", err=True)


def _echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Write ``text`` to the terminal with every control character made visible."""
    try:
        click.echo(printable(text, keep="\n"), err=err, nl=nl)
    except UnicodeEncodeError:
        raise _Failure(
            "the terminal cannot show this output's characters; set PYTHONIOENCODING=utf-8 "
            "or write the output to a file.",
            EXIT_UNAVAILABLE,
        ) from None


def _shown(path: Path) -> str:
    return click.format_filename(path)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's buffer)
        pass


def _neutralised(exc: click.ClickException) -> click.ClickException:
    """click's own messages may quote an argument (``Got unexpected extra argument (...)``):
    shown with its control characters made visible, like everything else.  The help shown
    for a bare ``rjflow`` is rjflow's own text and keeps its line breaks."""
    keep = "\n" if isinstance(exc, click.exceptions.NoArgsIsHelpError) else ""
    message = printable(exc.message, keep=keep)
    if isinstance(exc, click.NoSuchOption) and exc.option_name == "--key-file":
        message += " --key-file is rjflow's own option: give it before the command, as in "
        message += "rjflow --key-file FILE store verify STORE."
    exc.message = message  # type: ignore[misc]  # Final in click's types
    return exc


class _Command(click.Group):
    """The group that turns every fault into one line and the exit code of the table."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            raise _neutralised(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _quiet_stdout()
            raise click.exceptions.Exit(EXIT_BROKEN_PIPE) from None
        except click.ClickException as exc:
            raise _neutralised(exc) from None
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (StoreUnavailable, GraphvizMissing) as exc:
            raise _Failure(str(exc), EXIT_UNAVAILABLE) from None
        except RJFlowError as exc:
            raise _Failure(str(exc), EXIT_INVALID) from None
        except (UnicodeEncodeError, ValueError):  # a path's (os.stat: surrogates, NUL bytes)
            raise _Failure(
                "a file name given on the command line cannot be used as a file name.",
                EXIT_USAGE,
            ) from None
        except OSError as exc:
            raise _Failure(_os_message("cannot use", exc), EXIT_UNAVAILABLE) from None
        except Exception as exc:
            raise _Failure(
                f"internal error ({type(exc).__name__}); please report it with the command "
                "you ran. Nothing of your input is shown here.",
                EXIT_INTERNAL,
            ) from None


def _os_message(doing: str, exc: OSError | ValueError, path: Path | None = None) -> str:
    """``cannot read PATH: <the system's reason>.``; a name the system cannot take (a NUL, a
    lone surrogate) raises ValueError, reported the same way."""
    filename = getattr(exc, "filename", None)
    where = _shown(path) if path is not None else str(filename or "a file")
    reason = exc.strerror if isinstance(exc, OSError) else None
    return f"{doing} {where}: {reason or 'the name cannot be used as a file name'}."


def _judged(policy: Policy) -> Policy | None:
    """The ``policy=`` a load is given: None for the default, so that each case is judged
    under the policy it records (a case of another policy is refused, never re-judged)."""
    return None if policy is LONDON_CRC else policy


def _unreadable(path: Path, exc: SourceUnavailable) -> _Failure:
    """An input rjflow's reader could not read: exit 2, with the system's reason."""
    return _Failure(f"cannot read {_shown(path)}: {exc.strerror or 'unreadable'}.", EXIT_USAGE)


def _read_input(path: Path) -> bytes:
    """The bytes of an input file; a file that cannot be read exits 2."""
    try:
        return path.read_bytes()
    except (OSError, ValueError) as exc:
        raise _Failure(_os_message("cannot read", exc, path), EXIT_USAGE) from None


def _write_output(path: Path, data: bytes) -> None:
    """Write an output file; one that cannot be written exits 3."""
    try:
        path.write_bytes(data)
    except (OSError, ValueError) as exc:
        raise _Failure(_os_message("cannot write", exc, path), EXIT_UNAVAILABLE) from None


def _load_case(path: Path, policy: Policy = LONDON_CRC) -> Case:
    """A case file through the one reader (as ``loads``): unreadable exits 2, invalid 1."""
    data = _read_input(path)
    try:
        with _policy_notes(path):
            return loads(data, policy=_judged(policy), keyring=_keyring())
    except PolicyMismatch as exc:
        message = f"{_shown(path)}: {exc} Here: give --policy FILE, the service's policy file."
        raise _Failure(message, EXIT_INVALID) from None
    except InvalidDocument as exc:
        raise _Failure(f"{_shown(path)}: {exc}", EXIT_INVALID) from None


@click.group(cls=_Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rjflow")
@click.option(
    "--key-file",
    type=click.Path(path_type=Path),
    envvar="RJFLOW_KEY_FILE",
    help="The service's key file (rjflow keyring new): cases and stores are read with it, "
    "so every integrity seal is checked and a case without one is refused; stores and "
    "exports seal what they write. Also RJFLOW_KEY_FILE.",
)
def main(key_file: Path | None) -> None:
    """Restorative justice case workflows that explain themselves.

    Exit status: 0 success; 1 invalid content; 2 usage error or unreadable input; 3 an
    output or resource unavailable; 141 output closed early (see docs/cli.md).
    """


def _keyring() -> Keyring | None:
    """The keyring of ``--key-file`` (or RJFLOW_KEY_FILE), read once per command; None
    without one.  A key file that cannot be read exits 2; one that is not a key file 1 (its
    text is never shown: it holds secrets)."""
    context = click.get_current_context(silent=True)
    root = context.find_root() if context is not None else None
    path = root.params.get("key_file") if root is not None else None
    if path is None and os.environ.get("RJFLOW_KEY_FILE") == "":
        # Set, but to nothing: a deployment that meant to give a key must not run without.
        raise _Failure(
            "RJFLOW_KEY_FILE is set but empty: give the key file's path, or unset it to read "
            "without a key.",
            EXIT_USAGE,
        )
    if root is None or path is None:
        return None
    if "rjflow.keyring" not in root.meta:
        root.meta["rjflow.keyring"] = _read_key_file(path)
    keyring: Keyring = root.meta["rjflow.keyring"]
    return keyring


def _read_key_file(path: Path) -> Keyring:
    """A key file: unreadable exits 2; not a key file 1 (its text never shown)."""
    try:
        return Keyring.from_toml(path)
    except SourceUnavailable as exc:
        raise _unreadable(path, exc) from None
    except InvalidInput as exc:
        raise _Failure(f"{_shown(path)}: {exc}", EXIT_INVALID) from None


@main.command()
@click.option(
    "--store",
    type=click.Path(path_type=Path),  # a folder is an unusable store: exit 3, not 2
    help="Also save the demo case to this SQLite store file.",
)
@click.option(
    "--diagram-dir",
    type=click.Path(path_type=Path),  # a file here is an unusable output folder: exit 3
    help="Write the workflow diagram, with the case's path, to this folder (Mermaid, DOT, SVG).",
)
def demo(store: Path | None, diagram_dir: Path | None) -> None:
    """Run the worked example: a household burglary from referral to completion."""
    # Outputs first: a folder or store that cannot be used fails before anything is printed.
    if diagram_dir is not None:
        try:
            diagram_dir.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise _Failure(
                f"cannot use {_shown(diagram_dir)} as the diagram folder: it is a file. Give a "
                "folder (it is created if missing).",
                EXIT_UNAVAILABLE,
            ) from None
        except (OSError, ValueError) as exc:
            raise _Failure(
                _os_message("cannot create the folder", exc, diagram_dir), EXIT_UNAVAILABLE
            ) from None
    db = _open_store(store) if store is not None else None
    try:
        case = run_demo(_echo)
        if db is not None and store is not None:
            version = db.save(case, expected_version=db.version(case.case_id))
            _echo(f"Saved case {case.case_id} (version {version}) to {_shown(store)}.")
    finally:
        if db is not None:
            db.close()
    model = diagram_model(case.policy, case)
    mermaid = to_mermaid(model)
    _echo("")
    _echo("The workflow, with the case's path (Mermaid; paste into any Markdown viewer):")
    _echo(mermaid)
    if diagram_dir is not None:
        _write_output(diagram_dir / "demo-case.mmd", mermaid.encode())
        dot = to_dot(model)
        _write_output(diagram_dir / "demo-case.dot", dot.encode())
        # SVG needs no Graphviz: rjflow draws it when Graphviz is not installed (issue 10).
        _write_output(diagram_dir / "demo-case.svg", render_svg(model).encode())
        written = ["demo-case.mmd", "demo-case.dot", "demo-case.svg"]
        _echo(f"Wrote {', '.join(written)} to {_shown(diagram_dir)}/.")


def _open_store(path: Path, policy: Policy = LONDON_CRC) -> SQLiteStore:
    try:
        return SQLiteStore(path, policy=policy, keyring=_keyring())
    except StoreUnavailable as exc:
        raise _Failure(f"{_shown(path)}: {exc}", EXIT_UNAVAILABLE) from None


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg", "png"]),
    default="mermaid",
    show_default=True,
    help="Mermaid and DOT are text; SVG is drawn by Graphviz if installed, else by rjflow; "
    "PNG needs Graphviz's dot program.",
)
@click.option(
    "--case",
    "case_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A saved case (JSON): highlight where it stands and the path it travelled.",
)
# A folder given as the output file is an output that cannot be written: exit 3, not 2.
@click.option("--output", "-o", type=click.Path(path_type=Path), help="File.")
@click.option("--guards/--no-guards", default=False, help="Name each edge's guards.")
@click.option("--reachable-only", is_flag=True, help="With --case: only what can still happen.")
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="The service's policy file (TOML): draw its workflow, or judge --case under it.",
)
def diagram(  # noqa: PLR0917 - click passes every option by keyword
    fmt: str,
    case_file: Path | None,
    output: Path | None,
    guards: bool,
    reachable_only: bool,
    policy_path: Path | None,
) -> None:
    """Draw the workflow (for the default policy, or a saved case's)."""
    if reachable_only and case_file is None:
        raise click.UsageError("--reachable-only needs --case.")
    if fmt == "png" and output is None:
        raise click.UsageError("--format png is binary: give --output FILE.")
    chosen = _policy_option(policy_path)
    case = _load_case(case_file, chosen) if case_file is not None else None
    policy = case.policy if case is not None else chosen
    model = diagram_model(policy, case, reachable_only=reachable_only)
    data: bytes
    if fmt == "mermaid":
        data = to_mermaid(model, guards=guards).encode()
    elif fmt == "dot":
        data = to_dot(model, guards=guards).encode()
    elif fmt == "svg":
        data = render_svg(model, guards=guards).encode()
    else:
        data = render(to_dot(model, guards=guards), fmt)
    if output is None:
        _echo(data.decode(), nl=False)
    else:
        _write_output(output, data)
        _echo(f"Wrote {_shown(output)}.", err=True)


@main.command()
@click.argument("case_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="Judge the cases under the policy this TOML file describes (default: London CRC's).",
)
def explain(case_file: Path, policy_path: Path | None) -> None:
    """Where a saved case stands, what can happen next, and every reason what cannot."""
    case = _load_case(case_file, _policy_option(policy_path))
    _echo(case.explain())
    _echo("")
    _echo("Last changes:")
    for event in case.history[-5:]:
        _echo("  " + format_event(event))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="Judge the cases under the policy this TOML file describes (default: London CRC's).",
)
def check(files: tuple[Path, ...], policy_path: Path | None) -> None:
    """Validate case files: JSON (one case) or JSON Lines (.jsonl, one case a line).

    Prints each problem as FILE:LINE: message.  Exit status 0 when every case is valid, 1
    when any is not, 2 when a file cannot be read.
    """
    counts = {"good": 0, "bad": 0, "unreadable": 0}
    policy = _policy_option(policy_path)
    for path in files:
        _check_file(path, counts, lambda line: _echo(line, err=True), policy)
    _echo(f"{counts['good']} valid, {counts['bad']} invalid.")
    if counts["unreadable"]:
        sys.exit(EXIT_USAGE)
    if counts["bad"]:
        sys.exit(EXIT_INVALID)


def _check_file(
    path: Path,
    counts: dict[str, int],
    report: Callable[[str], None],
    policy: Policy = LONDON_CRC,
) -> None:
    """Check one file, read by the same reader as ``loads`` and ``load_jsonl``."""
    shown = _shown(path)
    try:
        if path.suffix == ".jsonl":
            with _policy_notes(path):
                result = load_jsonl(path, policy=_judged(policy), keyring=_keyring())
            counts["good"] += len(result.cases)
            counts["bad"] += len(result.problems)
            for problem in result.problems:
                report(f"{shown}:{problem.line}: {problem.message}")
            return
        data = path.read_bytes()
    except (OSError, ValueError) as exc:
        report(f"rjflow: {_os_message('cannot read', exc, path)}")
        counts["unreadable"] += 1
        return
    try:
        with _policy_notes(path):
            loads(data, policy=_judged(policy), keyring=_keyring())
        counts["good"] += 1
    except InvalidDocument as exc:
        report(f"{shown}:1: {exc}")
        counts["bad"] += 1


@main.command()
@click.option(
    "--file",
    "file",
    type=click.Path(path_type=Path),
    help="Show the policy this TOML file describes, with where each value came from.",
)
@click.option(
    "--check",
    "check_path",
    type=click.Path(path_type=Path),
    help="Check this policy file: print each finding's code; exit 1 on an error.",
)
@click.option(
    "--diff",
    nargs=2,
    type=click.Path(path_type=Path),
    help="Show the settings in which two policy files differ.",
)
def policy(file: Path | None, check_path: Path | None, diff: tuple[Path, Path] | None) -> None:
    """Print the effective policy (London CRC's programme) as JSON; durations in seconds.

    With --file, --check or --diff, read service policy files instead (docs/configuring.md).
    """
    if sum(x is not None for x in (file, check_path, diff)) > 1:
        raise click.UsageError("give one of --file, --check and --diff.")
    if file is not None:
        _echo(_policy_with_sources(file), nl=False)
        return
    if check_path is not None:
        _check_policy_file(check_path)
        return
    if diff is not None:
        _echo(_policy_diff(*diff), nl=False)
        return
    values = unstructure(LONDON_CRC)
    for field in attrs.fields(type(LONDON_CRC)):
        if isinstance(getattr(LONDON_CRC, field.name), PractitionerLevel):
            values[field.name] = getattr(LONDON_CRC, field.name).label
    _echo(json.dumps(values, indent=2))


# -- deadlines and the caseload report (issue 13) ---------------------------------------------


def _moment(text: str, option: str, *, end_of_day: bool = False) -> datetime:
    """A command-line time: a date (``2026-12-01``: midnight UTC that day, or the next
    midnight with ``end_of_day``) or an ISO 8601 time with its offset; a usage error
    otherwise (a time without an offset is ambiguous)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            "give a date (2026-12-01) or a time with its offset (2026-12-01T09:00+00:00).",
            param_hint=option,
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter(
            "a time needs its UTC offset (2026-12-01T09:00+00:00), or give a date.",
            param_hint=option,
        )
    return moment.astimezone(UTC)


def _is_sqlite(path: Path) -> bool:
    """True when ``path`` is a SQLite database (its file header says so)."""
    try:
        with path.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except (OSError, ValueError):
        return False


_Item = TypeVar("_Item")


def _caseload(
    target: str,
    problems: list[str],
    *,
    overdue_at: datetime | None = None,
    policy: Policy = LONDON_CRC,
) -> Iterator[Case]:
    """The cases of ``target`` one at a time: a store (a SQLite store file or a PostgreSQL
    connection string), JSON Lines (``.jsonl``, read lazily) or one JSON case.

    From a store, ``overdue_at`` asks its caseload summaries for the cases overdue then (one
    indexed query a page at a time) and loads only those.  A line or stored case that does not
    load is noted in ``problems`` (``FILE:LINE: message`` or ``CASE: message``) and skipped; a
    file that cannot be read exits 2, a store that cannot be used 3."""
    path = Path(target)
    if _is_dsn(target) or _is_sqlite(path):
        yield from _stored_caseload(target, problems, overdue_at, policy)
        return
    if path.suffix != ".jsonl":
        yield _load_case(path, policy)
        return
    read = iter_jsonl(path, policy=_judged(policy), keyring=_keyring())
    yield from _lines(path, read, problems)


def _lines(
    path: Path, items: Iterator[_Item | LineProblem], problems: list[str]
) -> Iterator[_Item]:
    """The good items of a JSON Lines reader over ``path``; each problem line noted in
    ``problems`` as ``FILE:LINE: message``, each policy note on stderr; a file that cannot
    be read exits 2."""
    try:
        with _policy_notes(path):
            for item in items:
                if isinstance(item, LineProblem):
                    problems.append(f"{_shown(path)}:{item.line}: {item.message}")
                else:
                    yield item
    except SourceUnavailable as exc:
        raise _unreadable(path, exc) from None


def _stored_caseload(
    target: str, problems: list[str], overdue_at: datetime | None, policy: Policy
) -> Iterator[Case]:
    db = _store_at(target, must_exist=True, policy=policy)
    try:
        # The summaries are not sealed: with a key file, every case is loaded (and its seal
        # checked) rather than trusting them to say which are overdue.
        if overdue_at is None or _keyring() is not None:
            ids: Iterable[str] = db.case_ids()
        else:
            ids = _overdue_ids(db, overdue_at)
        for case_id in ids:
            try:
                yield db.load(case_id)
            except RJFlowError as exc:  # a damaged case: named, the others still read
                problems.append(f"{case_id}: {exc}")
    finally:
        db.close()


def _overdue_ids(db: Any, at: datetime) -> Iterator[str]:
    """The ids of the stored cases overdue at ``at``, a page of summaries at a time."""
    after: str | None = None
    while True:
        page = db.find(overdue_at=at, after=after, limit=500)
        if not page:
            return
        for summary in page:
            yield summary.case_id
        after = page[-1].case_id


def _caseload_facts(
    target: str, problems: list[str], policy: Policy = LONDON_CRC
) -> Iterator[CaseFacts]:
    """The report facts of ``target``'s cases: a store's kept facts (read a page at a time,
    no case loaded), or each case's :func:`case_facts` as ``_caseload`` loads it.  A stored
    case whose facts cannot be read is noted in ``problems`` and left out.  JSON Lines read
    with a keyring: each sealed case's facts from its verified history, without replaying it
    (:func:`~rjflow.caseload.iter_jsonl_facts`: the same facts and problems, faster)."""
    path = Path(target)
    keyring = _keyring()
    if keyring is not None and path.suffix == ".jsonl" and not _is_sqlite(path):
        facts = iter_jsonl_facts(path, keyring=keyring, policy=_judged(policy))
        yield from _lines(path, facts, problems)
        return
    if keyring is not None or not (_is_dsn(target) or _is_sqlite(path)):
        # A store's kept facts are not sealed: with a key file, each case is loaded and its
        # seal checked, and its facts are read from it.
        yield from (case_facts(case) for case in _caseload(target, problems, policy=policy))
        return
    db = _store_at(target, must_exist=True, policy=policy)
    found: list[StoreProblem] = []
    try:
        yield from db.report_facts(problems=found)
    finally:
        db.close()
        problems += [f"{p.case_id}: {p.message}" for p in found]


def _report_problems(problems: list[str]) -> None:
    for line in problems:
        _echo(line, err=True)
    if problems:
        _echo(f"rjflow: {len(problems)} case(s) did not load and were left out.", err=True)
        sys.exit(EXIT_INVALID)


@main.command()
@click.argument("cases_file", metavar="CASES")
@click.option(
    "--at",
    "at_text",
    required=True,
    help="When to judge: a date (midnight UTC) or an ISO time with its offset.",
)
@click.option("--all", "show_all", is_flag=True, help="List obligations due soon and upcoming too.")
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="The service's policy file (TOML) the cases were judged under (default: London CRC's).",
)
def due(cases_file: str, at_text: str, show_all: bool, policy_path: Path | None) -> None:
    """What is overdue in a caseload, by lead facilitator.

    CASES: a JSON Lines file, one JSON case, a SQLite store file or a PostgreSQL connection
    string (a store is asked for its overdue cases by their summaries; only those are loaded).

    Each line: the case id, the obligation's code and its message.  Exit status 1 when a
    line of the file did not load (it is named on stderr; the others are still listed).
    """
    at = _moment(at_text, "--at")
    problems: list[str] = []
    groups: dict[str | None, list[tuple[str, Obligation]]] = {}
    seen = 0
    overdue_at = None if show_all else at
    chosen = _policy_option(policy_path)
    for case in _caseload(cases_file, problems, overdue_at=overdue_at, policy=chosen):
        seen += 1
        for obligation in case.due(at):
            if show_all or obligation.state is DueState.OVERDUE:
                lead = case.record.lead_facilitator
                groups.setdefault(lead, []).append((case.case_id, obligation))
    total = sum(len(items) for items in groups.values())
    cases = len({case_id for items in groups.values() for case_id, _ in items})
    what = "Due or upcoming" if show_all else "Overdue"
    _echo(
        f"{what} at {at.strftime('%Y-%m-%d %H:%M UTC')}: {total} obligation(s) in {cases} of "
        f"{seen} case(s) read."
    )
    for lead in sorted(groups, key=lambda name: (name is None, name or "")):
        items = sorted(groups[lead], key=lambda pair: (pair[1].due_at, pair[0], pair[1].code))
        _echo("")
        _echo(f"Lead facilitator {lead} ({len(items)}):" if lead else f"No lead ({len(items)}):")
        for case_id, obligation in items:
            state = "" if obligation.state is DueState.OVERDUE else f" ({obligation.state.value})"
            _echo(f"  {case_id}  [{obligation.code}]{state} {obligation.message}")
    _report_problems(problems)


@main.command()
@click.argument("cases_file", metavar="CASES")
@click.option("--from", "first", required=True, help="First day of the period (2026-01-01).")
@click.option("--to", "last", required=True, help="Last day of the period, included.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),  # a file here is an unusable output folder: exit 3
    help="Folder for report.json, report.csv and report.html (created if missing).",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="The service's policy file (TOML) the cases were judged under (default: London CRC's).",
)
def report(cases_file: str, first: str, last: str, out_dir: Path, policy_path: Path | None) -> None:
    """The caseload report of a period: counts, times, satisfaction, sessions, open cases.

    The period runs from midnight UTC of --from up to midnight UTC after --to (both days
    included; docs/reporting.md defines every count).  Writes JSON, CSV and an HTML page
    whose plots need matplotlib (rjflow[reports]).  Exit status 1 when a line of the file did
    not load (it is named on stderr; the report counts the others).

    CASES: a JSON Lines file, one JSON case, a SQLite store file or a PostgreSQL connection
    string (a store's report facts, kept with each case, are counted: no case is loaded).
    """
    start = _moment(first, "--from")
    end = _moment(last, "--to", end_of_day=len(last) == 10)
    if end <= start:
        raise click.BadParameter("the period must end after it starts.", param_hint="--to")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise _Failure(
            f"cannot use {_shown(out_dir)} as the report folder: it is a file. Give a folder "
            "(it is created if missing).",
            EXIT_UNAVAILABLE,
        ) from None
    except (OSError, ValueError) as exc:
        raise _Failure(
            _os_message("cannot create the folder", exc, out_dir), EXIT_UNAVAILABLE
        ) from None
    problems: list[str] = []
    chosen = _policy_option(policy_path)
    numbers = build_report(_caseload_facts(cases_file, problems, chosen), Period(start, end))
    numbers = attrs.evolve(numbers, left_out=len(problems))  # the report says it is partial
    try:
        plots: dict[str, str] | None = svg_plots(numbers)
    except PlotsUnavailable:
        plots = None
        _echo("rjflow: the HTML page has no plots: install rjflow[reports] (matplotlib).", err=True)
    _write_output(out_dir / "report.json", numbers.to_json().encode())
    _write_output(out_dir / "report.csv", numbers.to_csv().encode())
    _write_output(out_dir / "report.html", render_html(numbers, plots).encode())
    c = numbers.counts
    _echo(
        f"{numbers.cases} case(s) read: {c['referred']} referred, {c['completed']} completed, "
        f"{c['closed']} closed in the period."
    )
    _echo(f"Wrote report.json, report.csv and report.html to {_shown(out_dir)}/.")
    _report_problems(problems)


# -- policy files (issue 12) ------------------------------------------------------------------


@contextlib.contextmanager
def _policy_notes(path: Path) -> Iterator[None]:
    """Each PolicyChanged warning of a load, as a note on stderr naming the file."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PolicyChanged)
        try:
            yield
        finally:
            for warning in caught:
                if isinstance(warning.message, PolicyChanged):
                    _echo(f"rjflow: note: {_shown(path)}: {warning.message}", err=True)
                else:  # pragma: no cover - another library's warning, passed on
                    warnings.warn_explicit(
                        warning.message, warning.category, warning.filename, warning.lineno
                    )


def _policy_option(path: Path | None) -> Policy:
    """The policy of ``--policy FILE`` (the default without it): unreadable exits 2, a bad
    file 1."""
    return LONDON_CRC if path is None else _read_policy(path).policy


def _read_policy(path: Path) -> PolicyFile:
    """A policy file: unreadable exits 2; a bad file exits 1 with FILE:LINE: the problem."""
    try:
        return read_policy_file(path)
    except SourceUnavailable as exc:
        raise _unreadable(path, exc) from None
    except (OSError, ValueError) as exc:
        if isinstance(exc, PolicyFileError):
            more = (_file_problem(path, e) for e in exc.also)
            raise _Failure(_file_problem(path, exc), EXIT_INVALID, more=more) from None
        raise _Failure(_os_message("cannot read", exc, path), EXIT_USAGE) from None


def _file_problem(path: Path, exc: PolicyFileError) -> str:
    where = f"{_shown(path)}:{exc.line}" if exc.line is not None else _shown(path)
    key = f" {exc.key}:" if exc.key is not None else ""
    return f"{where}:{key} {exc.code.value} {exc.code.slug}: {exc.problem}"


def _policy_with_sources(path: Path) -> str:
    """The effective policy as TOML, each value followed by where it came from."""
    read = _read_policy(path)
    shown = _shown(path)
    comments = {
        key: f"{shown}:{read.lines[key]}"
        if key in read.lines
        else (shown if key in read.from_file else "default")
        for key in file_values(read.policy)
    }
    header = (
        f"# The effective policy: each value from {shown} or the default (London CRC's "
        "programme).\n"
    )
    return header + to_toml(file_values(read.policy), comments)


def _check_policy_file(path: Path) -> None:
    """Print every finding of the file's policy; exit 1 when the file or any finding is an
    error."""
    shown = _shown(path)
    try:
        read = read_policy_file(path)
    except PolicyFileError as exc:
        for problem in (exc, *exc.also):
            _echo(_file_problem(path, problem))
        count = 1 + len(exc.also)
        _echo(f"{count} error{'s' * (count != 1)}, 0 warnings.")
        sys.exit(EXIT_INVALID)
    except SourceUnavailable as exc:
        raise _unreadable(path, exc) from None
    findings = check_policy(read.policy)
    for finding in findings:
        line = read.lines.get(finding.subject or "")
        where = f"{shown}:{line}" if line is not None else shown
        _echo(f"{where}: {finding}")
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = len(findings) - errors
    _echo(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}.")
    if has_errors(findings):
        sys.exit(EXIT_INVALID)


def _policy_diff(first: Path, second: Path) -> str:
    """Each setting in which two policy files differ, as ``key: A -> B``."""
    a, b = (file_values(_read_policy(p).policy) for p in (first, second))
    lines = [
        f"{key}: {to_toml({key: a[key]}).split(' = ', 1)[1].rstrip()} -> "
        f"{to_toml({key: b[key]}).split(' = ', 1)[1].rstrip()}"
        for key in a
        if a[key] != b[key]
    ]
    if not lines:
        return f"{_shown(first)} and {_shown(second)} describe the same policy.\n"
    head = f"--- {_shown(first)}\n+++ {_shown(second)}\n"
    return head + "\n".join(lines) + "\n"


# -- test paths (issue 12) ----------------------------------------------------------------------


@main.command()
@click.option(
    "--cover",
    type=click.Choice(["edges", "stages", "guards"]),
    default="edges",
    show_default=True,
    help="What the paths cover: every action edge, every stage, or both outcomes of every rule.",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="Compute the paths under the policy this TOML file describes (default: London CRC's).",
)
@click.option(
    "--table",
    is_flag=True,
    help="Print only the coverage of the default and the shipped example policies, as the "
    "Markdown table docs/testing.md shows.",
)
def paths(cover: str, policy_path: Path | None, table: bool) -> None:
    """Print test paths computed from the workflow table, each a list of steps, and what they
    cover (covered/possible, every target impossible under the policy with the reason, and
    every possible target not covered)."""
    if table:
        _echo(coverage_table())
        return
    chosen = _policy_option(policy_path)
    found, coverage = COVERS[cover](chosen)
    for path in found:
        _echo(str(path))
    impossible = f"; {len(coverage.impossible)} impossible under this policy"
    _echo(
        f"Covered {coverage} {cover} ({coverage.total} in all{impossible})."
        if coverage.impossible
        else f"Covered {coverage} {cover}."
    )
    for target, why in sorted(coverage.impossible.items()):
        _echo(f"  impossible: {target}: {why}")
    for target in coverage.missing:
        _echo(f"  not covered: {target}")


# -- store, import, export (issue 11) --------------------------------------------------------

#: A store given on the command line is PostgreSQL when it reads as a libpq connection URI or
#: a ``key=value`` connection string starting with one of these keys; otherwise a SQLite file.
_PG_PREFIXES = ("postgresql://", "postgres://")
_PG_KEYS = ("host=", "hostaddr=", "dbname=", "user=", "port=", "service=")


def _is_dsn(target: str) -> bool:
    return target.startswith(_PG_PREFIXES) or target.startswith(_PG_KEYS)


def _store_at(target: str, *, must_exist: bool, policy: Policy = LONDON_CRC) -> Any:
    """The store named on the command line: a PostgreSQL DSN (never shown back: it may hold a
    password) or a SQLite file (named in messages).  A SQLite file that must exist and does
    not exits 2, like any input that cannot be read; a store that cannot be used exits 3."""
    if _is_dsn(target):
        try:
            from rjflow.pgstore import PostgresStore  # noqa: PLC0415 - psycopg only when asked
        except ImportError:
            raise _Failure(
                "the PostgreSQL store needs psycopg: pip install 'rjflow[postgres]'.",
                EXIT_UNAVAILABLE,
            ) from None
        # psycopg_pool logs each failed connection attempt; the command reports the fault once.
        logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())
        try:
            return PostgresStore(target, policy=policy, timeout=10, keyring=_keyring())
        except StoreUnavailable as exc:
            raise _Failure(f"the PostgreSQL store: {exc}", EXIT_UNAVAILABLE) from None
    path = Path(target)
    if must_exist and not path.is_file():
        raise _Failure(
            f"cannot read {_shown(path)}: no such store file (give an rjflow SQLite store, or "
            "a PostgreSQL connection string such as postgresql://user@host/db).",
            EXIT_USAGE,
        )
    if must_exist and not _is_store(path):
        # Opening would add rjflow's tables to it: a command that reads a store never does.
        raise _Failure(
            f"cannot use {_shown(path)}: it is not an rjflow store (a SQLite file without "
            "rjflow's tables). Give the store's file; only import creates a new store.",
            EXIT_UNAVAILABLE,
        )
    return _open_store(path, policy)


def _is_store(path: Path) -> bool:
    """True when ``path`` is a SQLite database holding rjflow's tables (read only)."""
    if not _is_sqlite(path):
        return False
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rjflow_meta'"
            ).fetchone()
    except (sqlite3.Error, OSError, ValueError):
        return False
    return found is not None


@main.group()
def store() -> None:
    """Look after a store: STORE is a SQLite file or a PostgreSQL connection string."""


@store.command()
@click.argument("target", metavar="STORE")
def stats(target: str) -> None:
    """How many cases the store holds at each stage (from its summaries, no replay)."""
    db = _store_at(target, must_exist=True)
    try:
        counts = db.count_by_stage()
    finally:
        db.close()
    width = max(len(stage.value) for stage in counts)
    for stage, count in counts.items():
        _echo(f"{stage.value:<{width}}  {count}")
    _echo(f"{'total':<{width}}  {sum(counts.values())}")


@store.command()
@click.argument("target", metavar="STORE")
def verify(target: str) -> None:
    """Check every case's chain, summary and report facts, and with --key-file its integrity
    seal (a case without one is then a problem); exit 1 if any is wrong."""
    db = _store_at(target, must_exist=True)
    try:
        cases = len(db.case_ids())
        problems = db.verify()
    finally:
        db.close()
    for problem in problems:
        _echo(f"{problem.case_id}: {problem.message}", err=True)
    unkeyed = "" if _keyring() is not None else "; seals not checked (no --key-file)"
    _echo(f"{_many(cases, 'case')} checked, {_many(len(problems), 'problem')}{unkeyed}.")
    if problems:
        sys.exit(EXIT_INVALID)


@store.command()
@click.argument("target", metavar="STORE")
def rebuild(target: str) -> None:
    """Recompute every case's summary and report facts from its events (after an upgrade, or
    to mend them)."""
    db = _store_at(target, must_exist=True)
    try:
        written = db.rebuild()
        cases = len(db.case_ids())
    finally:
        db.close()
    _echo(f"Rebuilt {written} summaries of {cases} cases.")
    if written != cases:
        _echo("Some cases do not load: run 'rjflow store verify' to see which.", err=True)
        sys.exit(EXIT_INVALID)


@main.command(name="import")
@click.argument("target", metavar="STORE")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--skip-invalid", is_flag=True, help="Import the good lines even when some do not load."
)
def import_(target: str, source: Path, skip_invalid: bool) -> None:
    """Add the cases of a JSON Lines file to a store (created if it is a new SQLite file).

    All the cases are added in one transaction, or none: a case the store already holds, or
    (without --skip-invalid) any line that does not load, stops the import.
    """
    _read_input(source)  # an unreadable file exits 2 before the store is touched
    checked = load_jsonl(source, keyring=_keyring())
    for problem in checked.problems:
        _echo(f"{_shown(source)}:{problem.line}: {problem.message}", err=True)
    if checked.problems and not skip_invalid:
        _echo("Nothing was imported; correct those lines, or give --skip-invalid.", err=True)
        sys.exit(EXIT_INVALID)
    db = _store_at(target, must_exist=False)
    try:
        report = db.import_jsonl(source)
    finally:
        db.close()
    _echo(f"Imported {_many(len(report.cases), 'case')}.")
    if report.problems:
        sys.exit(EXIT_INVALID)


@main.command()
@click.argument("target", metavar="STORE")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="File (default: stdout).")
def export(target: str, output: Path | None) -> None:
    """Write every case of a store as JSON Lines (one case a line, sorted by id), each loaded
    and verified first; a case that does not load stops the export (exit 1)."""
    db = _store_at(target, must_exist=True)
    try:
        keyring = _keyring()
        lines = [dumps(db.load(case_id), keyring=keyring) + "\n" for case_id in db.case_ids()]
    finally:
        db.close()
    data = "".join(lines)
    if output is None:
        _echo(data, nl=False)
    else:
        _write_output(output, data.encode("utf-8"))
        _echo(f"Wrote {_many(len(lines), 'case')} to {_shown(output)}.", err=True)


# -- the key file ------------------------------------------------------------------------------


@main.group(name="keyring")
def keyring_group() -> None:
    """Make and rotate the service's key file, which seals its cases (docs/integrity.md)."""


_KEY_ID_HELP = "The new key's id: an opaque id such as the month it starts (2026-12)."


@keyring_group.command(name="new")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--key-id", required=True, help=_KEY_ID_HELP)
def keyring_new(file: Path, key_id: str) -> None:
    """Write a new key file holding one random 32-byte key, readable by its owner alone.

    An existing file is never overwritten (exit 3): to add a key, use rotate.
    """
    ring = _new_ring(key_id, None)
    _write_key_file(file, ring, replace=False)
    _echo(
        f"Wrote key {key_id} to {_shown(file)} (readable by you alone). Keep it with the "
        "application's other secrets and give it with --key-file or RJFLOW_KEY_FILE."
    )


@keyring_group.command(name="rotate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key-id", required=True, help=_KEY_ID_HELP)
def keyring_rotate(file: Path, key_id: str) -> None:
    """Add a new random key to the key file and make it the current one.

    Cases saved from now on are sealed with it; every older key still verifies what it
    sealed.  Re-save every case (rjflow export, then import into a new store), then remove
    the old keys from the file (docs/integrity.md, "Rotating keys").
    """
    ring = _new_ring(key_id, _read_key_file(file))
    _write_key_file(file, ring, replace=True)
    _echo(f"Added key {key_id} to {_shown(file)}; it is now the current key.")


def _new_ring(key_id: str, old: Keyring | None) -> Keyring:
    """``old`` (or nothing) with a new random key ``key_id``, current; what the keyring
    refuses (an id that is no id, never repeated; one the ring has) is a usage error."""
    secret = secrets.token_bytes(32)
    try:
        return (
            Keyring({key_id: secret}, current=key_id)
            if old is None
            else old.rotated(key_id, secret)
        )
    except InvalidInput as exc:
        raise click.BadParameter(str(exc), param_hint="--key-id") from None


def _write_key_file(file: Path, ring: Keyring, *, replace: bool) -> None:
    """Write ``ring``'s key file: a new one readable and writable by its owner alone; with
    ``replace``, the file a link names, through a new file beside it renamed over it (never
    half written) with the old file's permissions.  A file that cannot be written (or,
    without ``replace``, exists) exits 3."""
    mode = 0o600
    target = file
    if replace:
        try:
            file = Path(os.path.realpath(file))  # a link's own file, not the link, is rotated
            mode = stat.S_IMODE(file.stat().st_mode)
        except (OSError, ValueError) as exc:
            raise _Failure(_os_message("cannot write", exc, file), EXIT_UNAVAILABLE) from None
        target = file.with_name(f".{file.name}.{secrets.token_hex(4)}")
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _Failure(
            f"cannot write {_shown(file)}: it exists, and a key file is never overwritten "
            "(its keys would be lost). Choose another name, or add a key with rjflow keyring "
            "rotate.",
            EXIT_UNAVAILABLE,
        ) from None
    except (OSError, ValueError) as exc:
        folder = " (rotate writes the new file beside it: its folder must be writable)"
        message = _os_message("cannot write", exc, file)
        raise _Failure(message + (folder if replace else ""), EXIT_UNAVAILABLE) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(ring.to_toml())
        if replace:
            os.chmod(target, mode)
            os.replace(target, file)
    except OSError as exc:
        with contextlib.suppress(OSError):
            target.unlink()
        raise _Failure(_os_message("cannot write", exc, file), EXIT_UNAVAILABLE) from None


def _many(count: int, thing: str) -> str:
    """``1 case``, ``2 cases``."""
    return f"{count} {thing}{'s' * (count != 1)}"


def run() -> NoReturn:
    """Entry point of the ``rjflow`` script: :data:`main`, with the exit codes above."""
    main(prog_name="rjflow")
    raise AssertionError("unreachable")  # pragma: no cover - main always exits
