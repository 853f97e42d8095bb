"""Workflow diagrams, drawn from the workflow table and never by hand.

The pipeline is extract → model → render: :func:`diagram_model` reads a service's
:class:`~rjflow.Workflow` (and optionally a case's history) into a small :class:`Diagram`;
:func:`to_mermaid` and :func:`to_dot` render it as text; :func:`render` turns DOT into SVG or
PNG with Graphviz's ``dot`` program when it is installed.

rjflow renders the table itself rather than through transitions' diagram extension: that
extension needs the ``graphviz`` or ``pygraphviz`` packages, draws one model's machine, and
knows nothing of guards-as-reasons or of a case's travelled path; a renderer of a dozen lines
per format on the table is deterministic, testable and dependency-free.

Every text a renderer writes (the title, which holds the policy's name and the case id, stage
labels, action and guard names) is escaped for the target language by :mod:`rjflow._escape`:
control characters, line breaks, bidirectional overrides and each language's own syntax
(``-->``, ``%%``, ``{``, ``"``...) can never add a node, an edge or a directive, whoever wrote
the text.

>>> from rjflow import LONDON_CRC
>>> print(to_mermaid(diagram_model(LONDON_CRC)).splitlines()[0])
stateDiagram-v2
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable

import attrs

from rjflow._escape import dot_text, mermaid_text
from rjflow._validate import of_type
from rjflow.case import Case
from rjflow.errors import InvalidInput, RJFlowError
from rjflow.parties import StaffRole
from rjflow.policy import Policy
from rjflow.states import STATES, State
from rjflow.workflow import Workflow

__all__ = [
    "Diagram",
    "DiagramEdge",
    "DiagramNode",
    "GraphvizMissing",
    "diagram_model",
    "render",
    "to_dot",
    "to_mermaid",
]


_NODE_ID = re.compile(r"[a-z][a-z_]*")


class GraphvizMissing(RJFlowError, RuntimeError):
    """Graphviz's ``dot`` program is needed for SVG or PNG and is not installed."""


@attrs.frozen
class DiagramNode:
    """A stage in the diagram."""

    state: State
    terminal: bool
    current: bool = False
    travelled: bool = False
    #: The record-keeping actions an end stage still accepts (the evaluation actions).
    accepts: tuple[str, ...] = ()


@attrs.frozen
class DiagramEdge:
    """A stage-changing action from one stage to another."""

    source: State
    dest: State
    action: str
    guards: tuple[str, ...]
    travelled: bool = False
    roles: tuple[str, ...] = ()  # issue 14: who may take it, as caseworkers say the roles


@attrs.frozen
class Diagram:
    """What a renderer needs: the stages, the edges, and the title."""

    title: str
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]


def diagram_model(
    policy: Policy, case: Case | None = None, *, reachable_only: bool = False
) -> Diagram:
    """The diagram of ``policy``'s workflow; with ``case``, its current stage and the path it
    travelled are marked, and ``reachable_only`` keeps only what can still happen from there.

    Raises :class:`~rjflow.InvalidInput` when ``policy`` is not a :class:`~rjflow.Policy` or
    ``case`` neither None nor a :class:`~rjflow.Case`."""
    of_type("policy", policy, Policy, "a rjflow Policy")
    if case is not None:
        of_type("case", case, Case, "a rjflow Case or None")
    wf = Workflow.for_policy(policy)
    travelled_edges: set[tuple[str, str, str]] = set()
    visited: set[str] = set()
    current: State | None = None
    if case is not None:
        current = case.state
        for event in case.history:
            if event.to_state is not None:
                visited.add(event.to_state)
                if event.from_state is not None:
                    travelled_edges.add((event.from_state, event.to_state, event.action))
    keep = set(wf.states)
    if reachable_only and current is not None:
        keep = set(wf.reachable_from(current))
    nodes = tuple(
        DiagramNode(
            s,
            STATES[s].terminal,
            s is current,
            s.value in visited,
            tuple(
                a.name
                for a in wf.actions.values()
                if STATES[s].terminal and a.dest is None and s in a.sources
            ),
        )
        for s in wf.states
        if s in keep
    )
    edges = tuple(
        DiagramEdge(
            source,
            action.dest,
            action.name,
            action.guards,
            (source.value, action.dest.value, action.name) in travelled_edges,
            tuple(r.label for r in StaffRole if r in action.roles),
        )
        for action in wf.actions.values()
        if action.dest is not None
        for source in action.sources
        if source in keep and action.dest in keep
    )
    title = policy.name if case is None else f"{policy.name}: case {case.case_id}"
    return Diagram(title, nodes, edges)


def _edge_label(edge: DiagramEdge, guards: bool, sep: str, escape: Callable[[str], str]) -> str:
    label = escape(edge.action)
    if guards and edge.roles:  # with the rules, who may take the action (issue 14)
        label += sep + "by " + " or ".join(escape(r) for r in edge.roles)
    if guards and edge.guards:
        label += sep + sep.join(f"[{escape(g)}]" for g in edge.guards)
    return label


def _node_id(state: State) -> str:
    """A stage's id in the diagram: its value, which the table keeps to ``[a-z_]+``."""
    if not _NODE_ID.fullmatch(state.value):  # pragma: no cover - the table is checked in tests
        raise InvalidInput(f"Stage {state.name} has a value that cannot name a diagram node.")
    return state.value


def to_mermaid(diagram: Diagram, *, guards: bool = False) -> str:
    """Mermaid ``stateDiagram-v2`` text: one line per stage and one per edge.

    Renders natively on GitHub, GitLab and in MkDocs.  The current stage is filled amber,
    travelled stages green, and travelled edges are marked with a tick.  Every label and the
    title are escaped (Mermaid entity codes), so no text can add a line, a node or an edge.
    """
    lines = ["stateDiagram-v2", f"    %% {mermaid_text(diagram.title)}", "    direction LR"]
    lines += [
        f'    state "{mermaid_text(n.state.label)}" as {_node_id(n.state)}' for n in diagram.nodes
    ]
    if any(n.state is State.REFERRED for n in diagram.nodes):
        lines.append("    [*] --> referred")
    for edge in diagram.edges:
        tick = "✔ " if edge.travelled else ""
        label = _edge_label(edge, guards, "<br/>", mermaid_text)
        lines.append(f"    {_node_id(edge.source)} --> {_node_id(edge.dest)} : {tick}{label}")
    lines += [f"    {_node_id(n.state)} --> [*]" for n in diagram.nodes if n.terminal]
    lines += [
        f"    note right of {_node_id(n.state)} : accepts only "
        + ", ".join(mermaid_text(a) for a in n.accepts)
        for n in diagram.nodes
        if n.accepts
    ]
    current = [_node_id(n.state) for n in diagram.nodes if n.current]
    travelled = [_node_id(n.state) for n in diagram.nodes if n.travelled and not n.current]
    if current or travelled:
        lines.append("    classDef current fill:#ffd54f,stroke:#e65100,stroke-width:3px")
        lines.append("    classDef travelled fill:#c8e6c9,stroke:#2e7d32")
    lines += [f"    class {s} current" for s in current]
    lines += [f"    class {s} travelled" for s in travelled]
    return "\n".join(lines) + "\n"


def to_dot(diagram: Diagram, *, guards: bool = False) -> str:
    """Graphviz DOT text.  End stages are double circles; the current stage is filled amber;
    the travelled path is drawn bold and green.  Every label and the title are escaped inside
    DOT quoted strings."""
    lines = [
        "digraph rjflow {",
        f'    label="{dot_text(diagram.title)}";',
        "    labelloc=t;",
        "    rankdir=LR;",
        '    node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        '    start [shape=point, width=0.15, label=""];',
    ]
    for n in diagram.nodes:
        label = dot_text(n.state.label)
        if n.accepts:  # DOT's own line break between two escaped texts
            label += "\\n" + dot_text("(accepts only " + ", ".join(n.accepts) + ")")
        attrs_ = [f'label="{label}"']
        if n.terminal:
            attrs_.append("shape=doublecircle")
        if n.current:
            attrs_ += ['fillcolor="#ffd54f"', "penwidth=3"]
        elif n.travelled:
            attrs_.append('fillcolor="#c8e6c9"')
        lines.append(f"    {_node_id(n.state)} [{', '.join(attrs_)}];")
    if any(n.state is State.REFERRED for n in diagram.nodes):
        lines.append("    start -> referred;")
    for edge in diagram.edges:
        label = _edge_label(edge, guards, "\\n", dot_text)
        style = ', color="#2e7d32", penwidth=2.5' if edge.travelled else ""
        lines.append(
            f'    {_node_id(edge.source)} -> {_node_id(edge.dest)} [label="{label}"{style}];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_source: str, fmt: str, *, dot_program: str = "dot") -> bytes:
    """Render DOT text to ``fmt`` (``"svg"`` or ``"png"``) with Graphviz's ``dot`` program.

    Raises :class:`GraphvizMissing`, saying how to install it, when ``dot`` is not found.
    """
    if fmt not in ("svg", "png"):
        raise InvalidInput("render() draws 'svg' or 'png'; pass one of them as fmt.")
    exe = shutil.which(dot_program)
    if exe is None:
        raise GraphvizMissing(
            "Drawing SVG or PNG needs Graphviz's 'dot' program, which is not installed. "
            "Install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
            "graphviz), or use --format mermaid or --format dot, which need nothing."
        )
    done = subprocess.run(
        [exe, f"-T{fmt}"], input=dot_source.encode(), capture_output=True, check=False
    )
    if done.returncode != 0:
        # dot's own message may quote the diagram's text, so it is not repeated.
        raise RJFlowError(
            f"Graphviz's dot program could not draw the diagram (exit status {done.returncode}); "
            "check that Graphviz is installed correctly, or use --format mermaid or dot."
        )
    return done.stdout
