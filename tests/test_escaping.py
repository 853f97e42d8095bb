"""Caller text emitted into another language (Mermaid, DOT, a terminal) is escaped: it can
never add a line, a node, an edge or a directive, nor control the terminal (issue 9, item 5).

mermaid-cli is not used (it needs Node); the output is checked structurally instead: every
line must match the diagram's grammar, and a diagram differs from the default one only in its
title line.
"""

from __future__ import annotations

import re

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rjflow import LONDON_CRC, InvalidInput, Policy, State
from rjflow._escape import dot_text, mermaid_text, printable
from rjflow.diagrams import Diagram, DiagramEdge, diagram_model, to_dot, to_mermaid

#: The failing input from the issue: a line break, then a Mermaid edge.
INJECTED_EDGE = "X\r\n    referred --> completed : skip"
#: A line break and then ``}{``, which stopped the diagram rendering at all.
BRACES = "X\n}{\n%%{init: {'theme': 'dark'}}%%"

BASE = diagram_model(LONDON_CRC)
BASE_MERMAID = to_mermaid(BASE, guards=True).splitlines()
BASE_DOT = to_dot(BASE, guards=True).splitlines()

# What an escaped text may hold: letters, digits, a few plain marks, entity codes.
M_TEXT = r"(?:#\d+;|[^\W_]|[ _.,:()'/?!+=@])*"
ID = r"[a-z][a-z_]*"
MERMAID_LINE = re.compile(
    "|".join(
        [
            r"stateDiagram-v2",
            rf"    %% {M_TEXT}",
            r"    direction LR",
            rf'    state "{M_TEXT}" as {ID}',
            r"    \[\*\] --> referred",
            rf"    (?P<src>{ID}) --> (?P<dst>{ID}) : (?:✔ )?{M_TEXT}"
            rf"(?:<br/>by {M_TEXT}(?: or {M_TEXT})*)?(?:<br/>\[{M_TEXT}\])*",
            rf"    {ID} --> \[\*\]",
            rf"    note right of {ID} : accepts only {M_TEXT}(?:, {M_TEXT})*",
            rf"    note left of {ID} : {M_TEXT}",
            r"    classDef (?:current|travelled) [a-z0-9#:,\-]+",
            rf"    class {ID} (?:current|travelled)",
        ]
    )
)
D_TEXT = r'(?:[^"\\\n]|\\.)*'
ATTRS = r'(?:, [a-z]+=(?:"#[0-9a-f]{6}"|[a-z0-9]+))*'
DOT_LINE = re.compile(
    "|".join(
        [
            r"digraph rjflow \{",
            rf'    label="{D_TEXT}";',
            rf'    {ID} \[label="{D_TEXT}"(?:, [a-z]+=(?:"#[0-9a-f]{{6}}"|[a-z0-9]+))*\];',
            rf'    (?P<src>{ID}) -> (?P<dst>{ID}) \[label="{D_TEXT}"'
            r'(?:, color="#2e7d32", penwidth=2\.5|, style=dashed)?\];',
            r"    subgraph cluster_legend \{",
            r'        label="Legend";',
            rf'        legend_[a-z]+ \[label="{D_TEXT}"{ATTRS}\];',
            r"    \}",
            r"    start -> referred;",
            r"\}",
        ]
    )
)
FIXED_DOT = set(BASE_DOT[2:7])


def mermaid_edges(text: str) -> list[tuple[str, str]]:
    """Every line matches the grammar; the (source, dest) of each edge line."""
    assert len(text.splitlines()) == text.count("\n"), "a line break other than \\n"
    edges = []
    for line in text.splitlines():
        match = MERMAID_LINE.fullmatch(line)
        assert match is not None, f"not a line of the diagram's grammar: {line!r}"
        if match["src"]:
            edges.append((match["src"], match["dst"]))
    return edges


def dot_edges(text: str) -> list[tuple[str, str]]:
    """Every line matches the grammar (or is a fixed setting); the edges."""
    assert len(text.splitlines()) == text.count("\n")
    edges = []
    for line in text.splitlines():
        if line in FIXED_DOT:
            continue
        match = DOT_LINE.fullmatch(line)
        assert match is not None, f"not a line of the diagram's grammar: {line!r}"
        if match["src"]:
            edges.append((match["src"], match["dst"]))
    return edges


def drawn(edges: tuple[DiagramEdge, ...]) -> list[tuple[str, str]]:
    """The edges Mermaid draws one by one: all but the untravelled edges into ``closed``
    (drawn once, as the note "close — from any open stage")."""
    return sorted(
        (e.source.value, e.dest.value) for e in edges if e.travelled or e.dest is not State.CLOSED
    )


BASE_EDGES = drawn(BASE.edges)
#: DOT draws the note as a box with one dashed arrow into ``closed``.
BASE_DOT_EDGES = sorted([*BASE_EDGES, ("note_closed_a", "closed")])


def test_the_grammar_matches_the_default_diagrams() -> None:
    """The checker itself: the default diagrams parse, with one edge per table edge."""
    assert sorted(mermaid_edges("\n".join(BASE_MERMAID) + "\n")) == BASE_EDGES
    assert sorted(dot_edges("\n".join(BASE_DOT) + "\n")) == BASE_DOT_EDGES
    assert len({e.source for e in BASE.edges if e.dest is State.CLOSED}) == 7
    assert not MERMAID_LINE.fullmatch("    referred --> completed : skip#")


def only_the_title_differs(title: str) -> None:
    model = attrs.evolve(BASE, title=title)
    mermaid = to_mermaid(model, guards=True)
    dot = to_dot(model, guards=True)
    assert sorted(mermaid_edges(mermaid)) == BASE_EDGES
    assert sorted(dot_edges(dot)) == BASE_DOT_EDGES
    lines, dot_lines = mermaid.splitlines(), dot.splitlines()
    assert lines[:1] + lines[2:] == BASE_MERMAID[:1] + BASE_MERMAID[2:]
    assert dot_lines[:1] + dot_lines[2:] == BASE_DOT[:1] + BASE_DOT[2:]


class TestRegressions:
    def test_policy_name_with_a_line_break_adds_no_mermaid_edge(self) -> None:
        """Regression: a policy named "X\\r\\n    referred --> completed : skip" added the
        edge referred --> completed to the Mermaid diagram."""
        only_the_title_differs(INJECTED_EDGE)
        mermaid = to_mermaid(attrs.evolve(BASE, title=INJECTED_EDGE))
        assert "referred --> completed" not in mermaid

    def test_braces_after_a_line_break_stay_in_the_title(self) -> None:
        """Regression: "}{" (and a %%{init}%% directive) after a line break stopped the
        diagram rendering; now they are entity codes inside the title comment."""
        only_the_title_differs(BRACES)
        title_line = to_mermaid(attrs.evolve(BASE, title=BRACES)).splitlines()[1]
        assert not set("{}%") & set(title_line[len("    %% ") :])

    def test_through_a_real_policy_and_case_id(self) -> None:
        """The same name given to Policy: refused, or drawn without any extra edge."""
        try:
            policy = Policy(name=INJECTED_EDGE)
        except InvalidInput:
            return
        model = diagram_model(policy)
        assert sorted(mermaid_edges(to_mermaid(model))) == BASE_EDGES
        assert sorted(dot_edges(to_dot(model))) == BASE_DOT_EDGES


# -- properties ---------------------------------------------------------------------------

# Unicode text, weighted towards what breaks diagrams and terminals.
NASTY = [
    "\r",
    "\n",
    "\r\n",
    "\x85",
    "\u2028",
    "\u2029",
    "\x0b",
    "\x0c",
    "\x1c",
    "}{",
    '"',
    "'",
    "-->",
    "->",
    "%%",
    "%%{",
    "}%%",
    "\\",
    "\\n",
    "#",
    "#quot;",
    ";",
    "<br/>",
    "<script>",
    "&lt;",
    "[*]",
    "\x00",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "\x9b2J",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\ud800",
    "\U0001f600",
    " referred --> completed : skip",
    "state ",
    "class referred current",
]
nasty_text = st.lists(st.sampled_from(NASTY) | st.text(max_size=8), max_size=8).map("".join)
any_text = st.text() | nasty_text


@settings(max_examples=1000, deadline=None)
@given(title=any_text)
def test_any_title_changes_only_the_title_line(title: str) -> None:
    """Any unicode title (1,000 examples, half built from the characters and sequences that
    break Mermaid, DOT and terminals): every line still matches the grammar, the edges are
    the table's, and no other line changes."""
    only_the_title_differs(title)


@settings(max_examples=300, deadline=None)
@given(names=st.lists(any_text, min_size=1, max_size=3))
def test_any_action_or_guard_name_stays_one_label(names: list[str]) -> None:
    """Random action and guard names on the edges (300 examples): one line per edge, every
    line in the grammar, the same (source, dest) pairs."""
    edges = tuple(
        attrs.evolve(e, action=names[0], guards=tuple(names[1:]), travelled=i % 2 == 0)
        for i, e in enumerate(BASE.edges)
    )
    model = Diagram(BASE.title, BASE.nodes, edges)
    assert sorted(mermaid_edges(to_mermaid(model, guards=True))) == drawn(edges)
    assert sorted(dot_edges(to_dot(model, guards=True))) == sorted(
        [*drawn(edges), ("note_closed_a", "closed")]
    )


@settings(max_examples=60, deadline=None)
@given(name=any_text)
def test_any_policy_name_through_the_whole_pipeline(name: str) -> None:
    """A policy given a random name (60 examples: each builds a workflow): refused as
    InvalidInput, or drawn with exactly the table's edges."""
    try:
        policy = Policy(name=name)
    except InvalidInput:
        assume(False)
        return
    model = diagram_model(policy)
    assert sorted(mermaid_edges(to_mermaid(model))) == BASE_EDGES
    assert sorted(dot_edges(to_dot(model))) == BASE_DOT_EDGES


@settings(max_examples=1000, deadline=None)
@given(text=any_text)
def test_printable_leaves_nothing_a_terminal_would_act_on(text: str) -> None:
    """printable() (1,000 examples): every character left is printable (no ESC, no C1, no
    bidi control, no line break, no surrogate), the result encodes as UTF-8, and printable
    text is left exactly as it was."""
    shown = printable(text)
    assert all(ch.isprintable() for ch in shown)
    shown.encode("utf-8")
    assert (shown == text) == text.isprintable()
    kept = printable(text, keep="\n")
    assert kept.count("\n") == text.count("\n")
    assert all(ch.isprintable() or ch == "\n" for ch in kept)


@pytest.mark.parametrize("text", NASTY)
def test_language_escapes_keep_no_syntax(text: str) -> None:
    """Each nasty piece alone: the Mermaid form holds no syntax character, the DOT form no
    unescaped quote or raw line break."""
    assert re.fullmatch(M_TEXT, mermaid_text(text))
    assert re.fullmatch(D_TEXT, dot_text(text))


def test_stage_values_are_valid_node_ids() -> None:
    """The renderers rely on stage values being plain ids."""
    assert all(re.fullmatch(ID, s.value) for s in State)
