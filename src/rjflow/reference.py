"""Reference tables in Markdown, generated from the workflow table, the guards and the policy.

``docs/workflow.md`` embeds :func:`workflow_markdown` between marker comments; a test fails
when the page is stale, and ``python -m rjflow.reference docs/workflow.md`` rewrites it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import attrs

from rjflow.diagrams import diagram_model, to_mermaid
from rjflow.parties import StaffRole
from rjflow.policy import LONDON_CRC, Policy
from rjflow.rules import GUARDS, TOPICS
from rjflow.states import ACTIONS, STATES

__all__ = ["BEGIN", "END", "update_page", "workflow_markdown"]

BEGIN = "<!-- BEGIN GENERATED: rjflow.reference -->"
END = "<!-- END GENERATED: rjflow.reference -->"


def _one_line(doc: str | None) -> str:
    return " ".join((doc or "").split())


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


def workflow_markdown(policy: Policy = LONDON_CRC) -> str:
    """The stages, actions, rules and policy values as Markdown."""
    out = ["## The workflow diagram", "", "```mermaid", to_mermaid(diagram_model(policy)).rstrip()]
    out += ["```", "", "## Stages", "", "| stage | what happens | sessions held |", "|---|---|---|"]
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
    """Rewrite the generated part of ``path``; True if it changed."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no {BEGIN} ... {END} block to fill in.")
    new = pattern.sub(lambda _m: f"{BEGIN}\n{workflow_markdown()}{END}", text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":  # pragma: no cover
    for arg in sys.argv[1:]:
        print(f"{arg}: {'updated' if update_page(Path(arg)) else 'up to date'}")
