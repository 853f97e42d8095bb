"""Workflow diagrams, drawn from the workflow table and never by hand.

The pipeline is extract → model → render: :func:`diagram_model` reads a service's
:class:`~rjflow.Workflow` (and optionally a case's history) into a small :class:`Diagram`;
:func:`to_mermaid` and :func:`to_dot` render it as text; :func:`render_svg` draws it as SVG
ready to inline in a web page, by rjflow itself (no program, no dependency) or by Graphviz
when it is installed; :func:`render` turns DOT into SVG or PNG with Graphviz's ``dot``.

Every renderer speaks to a caseworker: actions in plain words ("hold conference"), the one
action possible from every open stage (``close``) drawn once as a note ("close — from any open
stage") rather than as seven arrows, a closed case's stage showing its closure reason, and
(in SVG and DOT) a legend for the colours of a case's path.

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

import html
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from typing import Literal

import attrs

from rjflow._escape import dot_text, mermaid_text, printable
from rjflow._layout import Box, layered
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
    "render_svg",
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
    #: The action's summary from the workflow table (shown as the SVG edge's tooltip).
    summary: str = ""

    @property
    def words(self) -> str:
        """The action in plain words: ``hold_conference`` is "hold conference"."""
        return _words(self.action)


@attrs.frozen
class Diagram:
    """What a renderer needs: the stages, the edges, and the title; for a closed case,
    ``closure`` is its closure reason in plain words (``"victim declined"``)."""

    title: str
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]
    closure: str | None = None


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
            action.summary,
        )
        for action in wf.actions.values()
        if action.dest is not None
        for source in action.sources
        if source in keep and action.dest in keep
    )
    title = policy.name if case is None else f"{policy.name}: case {case.case_id}"
    closure = None
    if case is not None and case.state is State.CLOSED and case.record.closure is not None:
        closure = _words(case.record.closure.reason.value)
    return Diagram(title, nodes, edges, closure)


def _words(name: str) -> str:
    """A table name (``[a-z_]+``) in plain words."""
    return name.replace("_", " ")


@attrs.frozen
class _Note:
    """One action possible from every open stage, drawn once: its destination and wording."""

    dest: State
    action: str
    roles: tuple[str, ...]

    def lines(self, guards: bool) -> list[str]:
        text = [f"{_words(self.action)} — from any open stage"]
        if guards and self.roles:
            text.append("by " + " or ".join(self.roles))
        return text


def _collapsed(diagram: Diagram) -> tuple[list[DiagramEdge], list[_Note]]:
    """The edges to draw one by one, and the notes standing for an action taken from every
    open stage of the diagram (three or more) to the same stage; a travelled edge of such an
    action is still drawn, to show the case's path."""
    open_nodes = {n.state for n in diagram.nodes if not n.terminal}
    sources: dict[tuple[str, State], set[State]] = {}
    for e in diagram.edges:
        sources.setdefault((e.action, e.dest), set()).add(e.source)
    noted = {k for k, v in sources.items() if len(v) >= 3 and v == open_nodes}
    drawn = [e for e in diagram.edges if e.travelled or (e.action, e.dest) not in noted]
    notes: list[_Note] = []
    for e in diagram.edges:
        if (e.action, e.dest) in noted and not any(
            n.action == e.action and n.dest is e.dest for n in notes
        ):
            notes.append(_Note(e.dest, e.action, e.roles))
    return drawn, notes


def _node_lines(node: DiagramNode, diagram: Diagram) -> list[str]:
    """A stage's text: its label, a closed case's reason, what an end stage still accepts."""
    lines = [node.state.label]
    if node.state is State.CLOSED and diagram.closure is not None:
        lines.append(f"reason: {diagram.closure}")
    if node.accepts:
        lines.append("accepts only " + ", ".join(_words(a) for a in node.accepts))
    return lines


def _edge_label(edge: DiagramEdge, guards: bool, sep: str, escape: Callable[[str], str]) -> str:
    label = escape(edge.words)
    if guards and edge.roles:  # with the rules, who may take the action (issue 14)
        label += sep + "by " + " or ".join(escape(r) for r in edge.roles)
    if guards and edge.guards:
        label += sep + sep.join(f"[{escape(_words(g))}]" for g in edge.guards)
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
    drawn, notes = _collapsed(diagram)
    lines = ["stateDiagram-v2", f"    %% {mermaid_text(diagram.title)}", "    direction LR"]
    lines += [
        f'    state "{mermaid_text(" — ".join(_node_lines(n, diagram)[:2]))}" as '
        f"{_node_id(n.state)}"
        if n.state is State.CLOSED and diagram.closure is not None
        else f'    state "{mermaid_text(n.state.label)}" as {_node_id(n.state)}'
        for n in diagram.nodes
    ]
    if any(n.state is State.REFERRED for n in diagram.nodes):
        lines.append("    [*] --> referred")
    for edge in drawn:
        tick = "✔ " if edge.travelled else ""
        label = _edge_label(edge, guards, "<br/>", mermaid_text)
        lines.append(f"    {_node_id(edge.source)} --> {_node_id(edge.dest)} : {tick}{label}")
    lines += [f"    {_node_id(n.state)} --> [*]" for n in diagram.nodes if n.terminal]
    lines += [
        f"    note right of {_node_id(n.state)} : accepts only "
        + ", ".join(mermaid_text(_words(a)) for a in n.accepts)
        for n in diagram.nodes
        if n.accepts
    ]
    lines += [
        f"    note left of {_node_id(note.dest)} : {mermaid_text(', '.join(note.lines(guards)))}"
        for note in notes
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
    """Graphviz DOT text.  End stages have a double border; the current stage is filled amber;
    the travelled path is drawn bold and green, with a legend saying so; an action possible
    from every open stage is one dashed note.  Every label and the title are escaped inside
    DOT quoted strings."""
    drawn, notes = _collapsed(diagram)
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
        # DOT's own line break between escaped texts
        first, *more = _node_lines(n, diagram)
        label = "\\n".join(dot_text(x) for x in [first, *(w for m in more for w in _wrap(m, 28))])
        attrs_ = [f'label="{label}"']
        if n.terminal:
            attrs_.append("peripheries=2")
        if n.current:
            attrs_ += ['fillcolor="#ffd54f"', "penwidth=3"]
        elif n.travelled:
            attrs_.append('fillcolor="#c8e6c9"')
        lines.append(f"    {_node_id(n.state)} [{', '.join(attrs_)}];")
    if any(n.state is State.REFERRED for n in diagram.nodes):
        lines.append("    start -> referred;")
    for edge in drawn:
        label = _edge_label(edge, guards, "\\n", dot_text)
        style = ', color="#2e7d32", penwidth=2.5' if edge.travelled else ""
        lines.append(
            f'    {_node_id(edge.source)} -> {_node_id(edge.dest)} [label="{label}"{style}];'
        )
    for i, note in enumerate(notes):
        label = "\\n".join(dot_text(line) for line in note.lines(guards))
        key = f"note_{_node_id(note.dest)}_{chr(ord('a') + i % 26) * (1 + i // 26)}"
        lines.append(f'    {key} [label="{label}", shape=note, style=dashed];')
        lines.append(f'    {key} -> {_node_id(note.dest)} [label="", style=dashed];')
    if any(n.current or n.travelled for n in diagram.nodes):
        lines += [
            "    subgraph cluster_legend {",
            '        label="Legend";',
            '        legend_current [label="current stage", fillcolor="#ffd54f", penwidth=3];',
            '        legend_travelled [label="stage reached; green arrow: action taken", '
            'fillcolor="#c8e6c9"];',
            "    }",
        ]
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


# -- SVG, drawn by rjflow itself or by Graphviz ------------------------------------------------

#: Colours, shared with the Mermaid and DOT renderers.
_AMBER, _AMBER_EDGE = "#ffd54f", "#e65100"
_GREEN, _GREEN_EDGE = "#c8e6c9", "#2e7d32"
_INK, _GREY = "#263238", "#546e7a"
_FONT = "Helvetica, Arial, sans-serif"
_NODE_FONT, _LABEL_FONT, _TITLE_FONT = 14.0, 12.0, 16.0


def _xml(text: str) -> str:
    """``text`` for SVG character data or an attribute: :func:`printable` first (XML 1.0 cannot
    hold most control characters nor lone surrogates), then ``& < > " '`` as references."""
    return html.escape(printable(text), quote=True)


def _text_width(text: str, size: float) -> float:
    """An estimate of ``text``'s width in a sans-serif font of ``size`` (no font is measured:
    wide East Asian characters count one em, narrow marks a third, the rest 0.58 em)."""
    total = 0.0
    for ch in printable(text):
        if unicodedata.east_asian_width(ch) in "WF":
            total += 1.0
        elif ch in "iljtf.,:;'!|() ":
            total += 0.33
        elif ch in "mwMW—":
            total += 0.9
        else:
            total += 0.58
    return total * size


def _wrap(text: str, width: int = 30) -> list[str]:
    """``text`` in lines of about ``width`` characters, broken at spaces."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text_block(lines: list[str], cx: float, top: float, size: float, extra: str = "") -> str:
    """Centred lines of text starting at ``top``."""
    step = size * 1.25
    spans = "".join(
        f'<tspan x="{_num(cx)}" y="{_num(top + size + i * step)}">{_xml(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text text-anchor="middle" font-size="{_num(size)}"{extra}>{spans}</text>'


def _curve(points: tuple[tuple[float, float], ...], vertical: bool) -> str:
    """An SVG path through ``points``: straight along a label, else a curve whose ends point
    the way the layout runs (right, or down when ``vertical``)."""
    (x0, y0), rest = points[0], points[1:]
    out = [f"M{_num(x0)},{_num(y0)}"]
    for x1, y1 in rest:
        if abs((x1 - x0) if vertical else (y1 - y0)) < 0.5:
            out.append(f"L{_num(x1)},{_num(y1)}")
        elif vertical:
            mid = (y1 - y0) / 2
            out.append(
                f"C{_num(x0)},{_num(y0 + mid)} {_num(x1)},{_num(y1 - mid)} {_num(x1)},{_num(y1)}"
            )
        else:
            mid = (x1 - x0) / 2
            out.append(
                f"C{_num(x0 + mid)},{_num(y0)} {_num(x1 - mid)},{_num(y1)} {_num(x1)},{_num(y1)}"
            )
        x0, y0 = x1, y1
    return " ".join(out)


def _arrowhead(points: tuple[tuple[float, float], ...], colour: str, vertical: bool) -> str:
    """A triangle at the route's end, pointing the way the route arrives."""
    (xa, ya), (xb, yb) = points[-2], points[-1]
    if vertical:
        d = 9.0 if yb >= ya else -9.0
        corners = f"{_num(xb - 4.5)},{_num(yb - d)} {_num(xb + 4.5)},{_num(yb - d)}"
    else:
        d = 9.0 if xb >= xa else -9.0
        corners = f"{_num(xb - d)},{_num(yb - 4.5)} {_num(xb - d)},{_num(yb + 4.5)}"
    return f'<polygon points="{_num(xb)},{_num(yb)} {corners}" fill="{colour}"/>'


@attrs.frozen
class _Item:
    """One thing the builtin SVG lays out and draws: a stage, a note or the start dot (a box),
    or an edge (a link, whose label is its box)."""

    key: str
    lines: tuple[str, ...]
    width: float
    height: float


def _box(key: str, lines: list[str], size: float, pad: float) -> _Item:
    width = max(_text_width(line, size) for line in lines) + pad
    return _Item(key, tuple(lines), width, pad / 2 + size * 1.25 * len(lines))


_START = "(start)"  # layout ids of the pseudo-boxes cannot clash with a stage's [a-z_]+


def _svg_items(
    diagram: Diagram, guards: bool
) -> tuple[list[_Item], list[tuple[str, str, _Item, DiagramEdge | None]]]:
    """The boxes (stages, notes, the start dot) and the links (source, destination, label,
    the edge drawn, None for the start's and the notes' arrows) of the builtin SVG."""
    drawn, notes = _collapsed(diagram)
    boxes: list[_Item] = []
    links: list[tuple[str, str, _Item, DiagramEdge | None]] = []
    empty = _Item("", (), 0.0, 0.0)
    if any(n.state is State.REFERRED for n in diagram.nodes):
        boxes.append(_Item(_START, (), 14.0, 14.0))
        links.append((_START, "referred", empty, None))
    for n in diagram.nodes:
        first, *more = _node_lines(n, diagram)
        lines = [first, *(w for line in more for w in _wrap(line, 24))]
        box = _box(_node_id(n.state), lines, _NODE_FONT, 28.0)
        boxes.append(attrs.evolve(box, width=max(box.width, _text_width(first, _NODE_FONT) + 28)))
    for e in drawn:
        label = _wrap(("✔ " if e.travelled else "") + e.words, 18)
        if guards and e.roles:
            label.append("by " + " or ".join(e.roles))
        if guards:
            label += [f"[{_words(g)}]" for g in e.guards]
        links.append((_node_id(e.source), _node_id(e.dest), _box("", label, _LABEL_FONT, 10), e))
    for i, note in enumerate(notes):
        key = f"(note {i})"
        lines = [w for line in note.lines(guards) for w in _wrap(line, 30)]
        boxes.append(_box(key, lines, _LABEL_FONT, 24.0))
        links.append((key, _node_id(note.dest), empty, None))
    return boxes, links


def _svg_edge(
    points: tuple[tuple[float, float], ...],
    label: Box,
    text: _Item,
    edge: DiagramEdge | None,
    *,
    dashed: bool,
    vertical: bool,
) -> str:
    taken = edge is not None and edge.travelled
    colour = _GREEN_EDGE if taken else _GREY
    out = [f'<g class="rjflow-edge{" taken" if taken else ""}">']
    if edge is not None and edge.summary:
        out.append(f"<title>{_xml(edge.summary)}</title>")
    out.append(
        f'<path d="{_curve(points, vertical)}" fill="none" stroke="{colour}" '
        f'stroke-width="{2.5 if taken else 1.3}"'
        + (' stroke-dasharray="5,4"/>' if dashed else "/>")
    )
    out.append(_arrowhead(points, colour, vertical))
    if text.lines:  # the label sits on the line, on a background of its own
        out.append(
            f'<rect x="{_num(label.x - label.width / 2)}" y="{_num(label.y - label.height / 2)}" '
            f'width="{_num(label.width)}" height="{_num(label.height)}" rx="3" fill="white"/>'
        )
        out.append(
            _text_block(
                list(text.lines),
                label.x,
                label.y - len(text.lines) * _LABEL_FONT * 1.25 / 2 - 2,
                _LABEL_FONT,
                f' fill="{_INK}"',
            )
        )
    out.append("</g>")
    return "\n".join(out)


def _svg_stage(n: DiagramNode, box: Box, lines: tuple[str, ...]) -> str:
    x, y, w, h = box.x - box.width / 2, box.y - box.height / 2, box.width, box.height
    fill, edge, pen, cls = "white", _GREY, 1.3, "rjflow-stage"
    if n.current:
        fill, edge, pen, cls = _AMBER, _AMBER_EDGE, 3.0, cls + " current"
    elif n.travelled:
        fill, edge, pen, cls = _GREEN, _GREEN_EDGE, 1.5, cls + " travelled"
    out = [
        f'<g class="{cls}{" end" if n.terminal else ""}">',
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" rx="8" '
        f'fill="{fill}" stroke="{edge}" stroke-width="{_num(pen)}"/>',
    ]
    if n.terminal:  # an end stage: a double border
        out.append(
            f'<rect x="{_num(x + 4)}" y="{_num(y + 4)}" width="{_num(w - 8)}" '
            f'height="{_num(h - 8)}" rx="5" fill="none" stroke="{edge}"/>'
        )
    out.append(_text_block(list(lines[:1]), box.x, y + 7, _NODE_FONT, f' fill="{_INK}"'))
    out.append(
        _text_block(
            list(lines[1:]), box.x, y + 7 + _NODE_FONT * 1.25, _LABEL_FONT, f' fill="{_GREY}"'
        )
    )
    out.append("</g>")
    return "\n".join(out)


def _svg_note(box: Box, lines: tuple[str, ...]) -> str:
    x, y, w, h = box.x - box.width / 2, box.y - box.height / 2, box.width, box.height
    return (
        '<g class="rjflow-note">'
        f'<path d="M{_num(x)},{_num(y)} h{_num(w - 10)} l10,10 v{_num(h - 10)} '
        f'h{_num(-w)} z" fill="#fffde7" stroke="{_GREY}" stroke-dasharray="5,4"/>'
        + _text_block(list(lines), box.x, y + 5, _LABEL_FONT, f' fill="{_INK}"')
        + "</g>"
    )


#: The legend's swatches: (fill, stroke, stroke width, inner border, dashed).
_SWATCH = {
    "current stage": (_AMBER, _AMBER_EDGE, 2, False, False),
    "stage reached": (_GREEN, _GREEN_EDGE, 1, False, False),
    "end stage": ("white", _GREY, 1, True, False),
    "note: an action from any open stage": ("#fffde7", _GREY, 1, False, True),
}


def _legend_entries(diagram: Diagram, notes: bool) -> list[str]:
    entries = ["end stage"]
    if notes:
        entries.append("note: an action from any open stage")
    if any(n.current or n.travelled for n in diagram.nodes):
        entries = ["current stage", "stage reached", "action taken", *entries]
    return entries


def _svg_legend(entries: list[str], x: float, y: float) -> str:
    out = ['<g class="rjflow-legend">']
    for text in entries:
        if text == "action taken":
            out.append(
                f'<path d="M{_num(x)},{_num(y + 7)} h26" stroke="{_GREEN_EDGE}" '
                'stroke-width="2.5"/>'
            )
        else:
            fill, edge, pen, inner, dashed = _SWATCH[text]
            out.append(
                f'<rect x="{_num(x)}" y="{_num(y)}" width="26" height="14" rx="4" '
                f'fill="{fill}" stroke="{edge}" stroke-width="{pen}"'
                + (' stroke-dasharray="5,4"/>' if dashed else "/>")
            )
            if inner:
                out.append(
                    f'<rect x="{_num(x + 3)}" y="{_num(y + 3)}" width="20" height="8" rx="2" '
                    f'fill="none" stroke="{edge}"/>'
                )
        out.append(
            f'<text x="{_num(x + 32)}" y="{_num(y + 11)}" font-size="{_num(_LABEL_FONT)}" '
            f'fill="{_INK}">{_xml(text)}</text>'
        )
        x += _text_width(text, _LABEL_FONT) + 44
    out.append("</g>")
    return "\n".join(out)


def _svg_builtin(diagram: Diagram, guards: bool, vertical: bool) -> str:
    boxes, links = _svg_items(diagram, guards)
    lay = layered(
        [(b.key, b.width, b.height) for b in boxes],
        [(u, v, label.width, label.height) for u, v, label, _ in links],
        column_gap=20.0 if vertical else 22.0,
        gap=24.0 if vertical else 18.0,
        last=[_node_id(n.state) for n in diagram.nodes if n.terminal],
        vertical=vertical,
    )
    margin, title_h = 16.0, _TITLE_FONT * 2
    legend = _legend_entries(diagram, any(b.key.startswith("(note ") for b in boxes))
    legend_w = sum(_text_width(t, _LABEL_FONT) + 44 for t in legend)
    width = max(lay.width, _text_width(diagram.title, _TITLE_FONT), legend_w) + 2 * margin
    height = lay.height + title_h + 40 + 2 * margin
    ox, oy = (width - lay.width) / 2, margin + title_h  # the drawing centred

    def moved(box: Box) -> Box:
        return attrs.evolve(box, x=box.x + ox, y=box.y + oy)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" '
        f'height="{_num(height)}" viewBox="0 0 {_num(width)} {_num(height)}" role="img" '
        f'font-family="{_FONT}" class="rjflow-diagram">',
        f"<title>{_xml(diagram.title)}</title>",
        f'<rect width="{_num(width)}" height="{_num(height)}" fill="white"/>',
        _text_block(
            [diagram.title],
            width / 2,
            margin - 4,
            _TITLE_FONT,
            f' fill="{_INK}" font-weight="bold"',
        ),
    ]
    # edges first, so that boxes sit on their ends
    for route, (u, _, text, edge) in zip(lay.routes, links, strict=True):
        points = tuple((ox + x, oy + y) for x, y in route.points)
        note = u.startswith("(note ")
        out.append(
            _svg_edge(points, moved(route.label), text, edge, dashed=note, vertical=vertical)
        )
    by_key = {b.key: b for b in boxes}
    if _START in lay.boxes:
        dot = moved(lay.boxes[_START])
        out.append(f'<circle cx="{_num(dot.x)}" cy="{_num(dot.y)}" r="6" fill="{_INK}"/>')
    for n in diagram.nodes:
        key = _node_id(n.state)
        out.append(_svg_stage(n, moved(lay.boxes[key]), by_key[key].lines))
    for item in boxes:
        if item.key.startswith("(note "):
            out.append(_svg_note(moved(lay.boxes[item.key]), item.lines))
    out.append(_svg_legend(legend, margin, height - margin - 14))
    out.append("</svg>")
    return "\n".join(out) + "\n"


_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def render_svg(
    diagram: Diagram,
    *,
    guards: bool = False,
    engine: Literal["auto", "graphviz", "builtin"] = "auto",
    direction: Literal["TB", "LR"] = "TB",
) -> str:
    """The diagram as SVG text ready to inline in an HTML page: one ``<svg>`` element, with
    no XML declaration, DOCTYPE, comment, script or link to anything outside it.

    ``engine``: ``"builtin"`` lays the diagram out and draws it in rjflow itself (no program,
    no dependency; deterministic, so its output can be committed and compared);
    ``"graphviz"`` draws :func:`to_dot` with Graphviz's ``dot`` program (better looking, needs
    Graphviz; raises :class:`GraphvizMissing` without it); ``"auto"`` uses Graphviz when it is
    installed and rjflow's own drawing otherwise.  ``guards`` names on each edge who may take
    the action and its rules.  ``direction``: ``"TB"`` (top to bottom: narrow, fits a page's
    column) or ``"LR"`` (left to right, as :func:`to_dot` and :func:`to_mermaid` draw it).
    Every text is escaped (XML character references after
    :func:`~rjflow._escape.printable`), so no caller text can add an element or an attribute.

    Raises :class:`~rjflow.InvalidInput` for an unknown ``engine`` or a ``diagram`` that is
    not a :class:`Diagram`.

    >>> from rjflow import LONDON_CRC
    >>> svg = render_svg(diagram_model(LONDON_CRC), engine="builtin")
    >>> svg.startswith("<svg ") and "close — from any open stage" in svg
    True
    """
    of_type("diagram", diagram, Diagram, "a rjflow Diagram (from diagram_model)")
    if engine not in ("auto", "graphviz", "builtin"):
        raise InvalidInput("render_svg() draws with engine 'auto', 'graphviz' or 'builtin'.")
    if direction not in ("TB", "LR"):
        raise InvalidInput("render_svg() draws in direction 'TB' (top to bottom) or 'LR'.")
    if engine == "builtin" or (engine == "auto" and shutil.which("dot") is None):
        return _svg_builtin(diagram, guards, vertical=direction == "TB")
    dot = to_dot(diagram, guards=guards)
    # The fixed line after the title (which holds no raw line break) sets the direction.
    dot = dot.replace("\n    rankdir=LR;\n", f"\n    rankdir={direction};\n", 1)
    text = render(dot, "svg").decode("utf-8")
    return _COMMENT.sub("", _PROLOG.sub("", text, count=1)).strip() + "\n"
