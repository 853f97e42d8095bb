"""Reference tables in Markdown, generated from the workflow table, the guards and the policy.

``docs/workflow.md`` embeds :func:`workflow_markdown` between marker comments, and shows the
diagram drawn by :func:`workflow_svg` from ``docs/img/workflow.svg`` (a picture in the site,
so the site needs no script from the internet to show it); a test fails when either is stale,
and ``python -m rjflow.reference docs/workflow.md`` rewrites both.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import attrs

from rjflow.diagrams import diagram_model, render_svg
from rjflow.parties import StaffRole
from rjflow.policy import LONDON_CRC, Policy
from rjflow.rules import GUARDS, TOPICS
from rjflow.states import ACTIONS, STATES

__all__ = ["BEGIN", "END", "SVG_PATH", "update_page", "workflow_markdown", "workflow_svg"]

BEGIN = "<!-- BEGIN GENERATED: rjflow.reference -->"
END = "<!-- END GENERATED: rjflow.reference -->"
#: Where the workflow picture is kept, relative to the page that shows it.
SVG_PATH = "img/workflow.svg"

#: A Sphinx role in a docstring (``:meth:`~rjflow.X.y```): shown as code on a Markdown page.
_ROLE = re.compile(r":(?:py:)?[a-z]+:`(~?)\.?([^`]+)`")


def _one_line(doc: str | None) -> str:
    text = " ".join((doc or "").split())
    return _ROLE.sub(lambda m: f"`{m[2].rsplit('.', 1)[-1] if m[1] else m[2]}`", text)


def _default(policy: Policy, name: str) -> str:
    value = getattr(policy, name)
    if isinstance(value, frozenset):
        return ", ".join(sorted(v.value for v in value)) or "(none)"
    if hasattr(value, "label"):
        return str(value.label)
    return str(value)


def _roles(roles: frozenset[StaffRole]) -> str:
    """The roles that may take an action (issue 14), in the enum's order; a facilitator role
    includes the lead, who is a facilitator too."""
    if roles == frozenset(StaffRole):
        return "any staff"
    return ", ".join(r.label for r in StaffRole if r in roles)


def workflow_svg(policy: Policy = LONDON_CRC) -> str:
    """The workflow diagram as SVG, drawn by rjflow itself (the same on every machine)."""
    return render_svg(diagram_model(policy), engine="builtin")


def workflow_markdown(policy: Policy = LONDON_CRC) -> str:
    """The stages, actions, rules and policy values as Markdown."""
    out = [
        "## The workflow diagram",
        "",
        f"[![The workflow of {policy.name}: its stages and the actions between them]"
        f"({SVG_PATH})]({SVG_PATH})",
        "",
        "Drawn from the table by `rjflow.diagrams.render_svg` (select it to see it full size); "
        "`rjflow diagram` prints it as Mermaid or DOT.",
    ]
    out += ["", "## Stages", "", "| stage | what happens | sessions held |", "|---|---|---|"]
    for s in STATES.values():
        kind = s.session_kind.value.replace("_", " ") if s.session_kind else "—"
        accepts = ", ".join(
            f"`{a.name}`" for a in ACTIONS.values() if s.terminal and s.state in a.sources
        )
        end = f" (end; accepts only {accepts})" if accepts else " (end)" if s.terminal else ""
        out.append(f"| `{s.state.value}`{end} | {s.description} | {kind} |")
    out += [
        "",
        "## Actions",
        "",
        "Roles: who may take the action (the lead facilitator is a facilitator too; the "
        "offender, victims and supporters take none).",
        "",
        "| action | from | to | roles | guards |",
        "|---|---|---|---|---|",
    ]
    for a in ACTIONS.values():
        sources = ", ".join(f"`{s.value}`" for s in a.sources)
        dest = f"`{a.dest.value}`" if a.dest else "(stays)"
        roles = _roles(a.roles)
        guards = ", ".join(f"[`{g}`](#{g})" for g in a.guards) or "—"
        out.append(f"| `{a.name}` — {a.summary} | {sources} | {dest} | {roles} | {guards} |")
    out += [
        "",
        "## Rules (guards)",
        "",
        "Each rule, its source, and the policy value that controls it.",
        "",
    ]
    for topic in TOPICS:
        title = topic.__name__.rsplit(".", 1)[1].capitalize()
        out += [f"### {title}", "", _one_line(topic.__doc__), ""]
        for name, guard in GUARDS.items():
            if guard.__module__ == topic.__name__:
                out += [f"#### {name}", "", _one_line(guard.__doc__), ""]
    out += ["## Policy values", "", "| value | London CRC default | meaning |", "|---|---|---|"]
    for field in attrs.fields(Policy):
        doc = field.metadata.get("doc", "")
        out.append(f"| `{field.name}` | {_default(policy, field.name)} | {doc} |")
    return "\n".join(out) + "\n"


def update_page(path: Path) -> bool:
    """Rewrite the generated part of ``path`` and the picture beside it (:data:`SVG_PATH`);
    True if either changed."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no {BEGIN} ... {END} block to fill in.")
    new = pattern.sub(lambda _m: f"{BEGIN}\n{workflow_markdown()}{END}", text)
    svg_file = path.parent / SVG_PATH
    svg = workflow_svg()
    old_svg = svg_file.read_text(encoding="utf-8") if svg_file.exists() else None
    if new != text:
        path.write_text(new, encoding="utf-8")
    if svg != old_svg:
        svg_file.parent.mkdir(parents=True, exist_ok=True)
        svg_file.write_text(svg, encoding="utf-8")
    return new != text or svg != old_svg


if __name__ == "__main__":  # pragma: no cover
    for arg in sys.argv[1:]:
        print(f"{arg}: {'updated' if update_page(Path(arg)) else 'up to date'}")
