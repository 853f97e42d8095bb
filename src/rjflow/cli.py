"""The ``rjflow`` command (also ``python -m rjflow``).

Exit status: 0 on success, 1 when the input is invalid (a case file that does not load, a
check that finds problems), 2 on usage errors.  Errors go to stderr, without tracebacks.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import attrs
import click

from rjflow._convert import unstructure
from rjflow.case import Case
from rjflow.demo import format_event, run_demo
from rjflow.diagrams import GraphvizMissing, diagram_model, render, to_dot, to_mermaid
from rjflow.errors import InvalidDocument, RJFlowError
from rjflow.parties import PractitionerLevel
from rjflow.policy import LONDON_CRC
from rjflow.serialization import load_jsonl, loads
from rjflow.store import SQLiteStore

__all__ = ["main"]


def _fail(message: str) -> None:
    click.echo(f"rjflow: {message}", err=True)
    sys.exit(1)


def _load_case(path: Path) -> Case:
    try:
        return loads(path.read_bytes())
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}")
    except InvalidDocument as exc:
        _fail(f"{path}: {exc}")
    raise AssertionError("unreachable")  # pragma: no cover


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rjflow")
def main() -> None:
    """Restorative justice case workflows that explain themselves."""


@main.command()
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the demo case to this SQLite store file.",
)
@click.option(
    "--diagram-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the workflow diagram, with the case's path, to this folder (Mermaid and DOT).",
)
def demo(store: Path | None, diagram_dir: Path | None) -> None:
    """Run the worked example: a household burglary from referral to completion."""
    case = run_demo(click.echo)
    if store is not None:
        with SQLiteStore(store) as db:
            version = db.save(case, expected_version=db.version(case.case_id))
        click.echo(f"Saved case {case.case_id} (version {version}) to {store}.")
    model = diagram_model(case.policy, case)
    mermaid = to_mermaid(model)
    click.echo("")
    click.echo("The workflow, with the case's path (Mermaid; paste into any Markdown viewer):")
    click.echo(mermaid)
    if diagram_dir is not None:
        diagram_dir.mkdir(parents=True, exist_ok=True)
        (diagram_dir / "demo-case.mmd").write_text(mermaid, encoding="utf-8")
        dot = to_dot(model)
        (diagram_dir / "demo-case.dot").write_text(dot, encoding="utf-8")
        written = ["demo-case.mmd", "demo-case.dot"]
        try:
            (diagram_dir / "demo-case.svg").write_bytes(render(dot, "svg"))
            written.append("demo-case.svg")
        except GraphvizMissing:
            pass
        click.echo(f"Wrote {', '.join(written)} to {diagram_dir}/.")


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg", "png"]),
    default="mermaid",
    show_default=True,
    help="Mermaid and DOT are text; SVG and PNG need Graphviz's dot program.",
)
@click.option(
    "--case",
    "case_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved case (JSON): highlight where it stands and the path it travelled.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File.")
@click.option("--guards/--no-guards", default=False, help="Name each edge's guards.")
@click.option("--reachable-only", is_flag=True, help="With --case: only what can still happen.")
def diagram(
    fmt: str, case_file: Path | None, output: Path | None, guards: bool, reachable_only: bool
) -> None:
    """Draw the workflow (for the default policy, or a saved case's)."""
    if reachable_only and case_file is None:
        raise click.UsageError("--reachable-only needs --case.")
    case = _load_case(case_file) if case_file is not None else None
    policy = case.policy if case is not None else LONDON_CRC
    model = diagram_model(policy, case, reachable_only=reachable_only)
    data: bytes
    if fmt == "mermaid":
        data = to_mermaid(model, guards=guards).encode()
    elif fmt == "dot":
        data = to_dot(model, guards=guards).encode()
    else:
        if output is None:
            raise click.UsageError(f"--format {fmt} is binary: give --output FILE.")
        try:
            data = render(to_dot(model, guards=guards), fmt)
        except GraphvizMissing as exc:
            _fail(str(exc))
    if output is None:
        click.echo(data.decode(), nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"Wrote {output}.", err=True)


@main.command()
@click.argument("case_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def explain(case_file: Path) -> None:
    """Where a saved case stands, what can happen next, and every reason what cannot."""
    case = _load_case(case_file)
    click.echo(case.explain())
    click.echo("")
    click.echo("Last changes:")
    for event in case.history[-5:]:
        click.echo("  " + format_event(event))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def check(files: tuple[Path, ...]) -> None:
    """Validate case files: JSON (one case) or JSON Lines (.jsonl, one case a line).

    Prints each problem as FILE:LINE: message.  Exit status 0 when every case is valid, 1
    when any is not.
    """
    bad = 0
    good = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            click.echo(f"{path}: cannot read the file ({exc}).", err=True)
            bad += 1
            continue
        if path.suffix == ".jsonl":
            report = load_jsonl(text.splitlines())
            good += len(report.cases)
            for problem in report.problems:
                click.echo(f"{path}:{problem.line}: {problem.message}", err=True)
            bad += len(report.problems)
        else:
            try:
                loads(text)
                good += 1
            except InvalidDocument as exc:
                click.echo(f"{path}:1: {exc}", err=True)
                bad += 1
    click.echo(f"{good} valid, {bad} invalid.")
    if bad:
        sys.exit(1)


@main.command()
def policy() -> None:
    """Print the effective policy (London CRC's programme) as JSON; durations in seconds."""
    values = unstructure(LONDON_CRC)
    for field in attrs.fields(type(LONDON_CRC)):
        if isinstance(getattr(LONDON_CRC, field.name), PractitionerLevel):
            values[field.name] = getattr(LONDON_CRC, field.name).label
    click.echo(json.dumps(values, indent=2))


def run() -> None:
    """Entry point: ``main`` with rjflow's own errors reported without a traceback."""
    try:
        main(standalone_mode=True)
    except RJFlowError as exc:  # pragma: no cover - commands report their own errors
        click.echo(f"rjflow: {exc}", err=True)
        sys.exit(1)
