"""Pictures without a subprocess (issue 10, item 7): ``render_svg`` returns one ``<svg>``
element ready to inline in a page, drawn by rjflow itself when Graphviz is absent, readable by
a caseworker, and safe whatever text the caller put in the policy's name or the case's ids.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rjflow import (
    LONDON_CRC,
    Case,
    Facilitator,
    InvalidInput,
    Offence,
    OffenceCategory,
    State,
)
from rjflow._escape import printable
from rjflow._layout import layered
from rjflow.demo import build_demo_case
from rjflow.diagrams import (
    Diagram,
    GraphvizMissing,
    diagram_model,
    render_svg,
    to_dot,
    to_mermaid,
)
from tests.builders import at_stage, new_case
from tests.test_escaping import any_text

SVG = "{http://www.w3.org/2000/svg}"
ENGINES = [
    "builtin",
    pytest.param(
        "graphviz",
        marks=pytest.mark.skipif(  # under CI=true, Graphviz must be there (see .ci/run)
            shutil.which("dot") is None and os.environ.get("CI") != "true",
            reason="Graphviz's dot program is not installed (apt-get install graphviz)",
        ),
    ),
]
BASE = diagram_model(LONDON_CRC)


def parsed(svg: str) -> ET.Element:
    """The SVG is one well-formed element, inline-ready and self-contained."""
    assert svg.startswith("<svg"), svg[:40]
    assert "<?xml" not in svg
    assert "<!DOCTYPE" not in svg
    assert "<!--" not in svg
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    for element in root.iter():
        assert element.tag.removeprefix(SVG) not in ("script", "foreignObject", "a", "image")
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), name  # no event handler
            assert "href" not in name, name
            assert "url(" not in value and "javascript:" not in value.lower(), value
    return root


def texts(root: ET.Element) -> list[str]:
    """Each ``<text>`` element's whole text, its lines joined by spaces."""
    return [" ".join(" ".join(t.itertext()).split()) for t in root.iter(f"{SVG}text")]


def closed_case() -> Case:
    case, clock = at_stage(State.SHUTTLE_MEDIATION)
    case.close(reason="victim_withdrew", at=clock(), actor="F1")
    return case


class TestInlineSvg:
    @pytest.mark.parametrize("engine", ENGINES)
    def test_every_stage_is_drawn_in_well_formed_svg(self, engine: str) -> None:
        """The workflow: XML without prolog, DOCTYPE, comment or script; every stage named."""
        root = parsed(render_svg(BASE, engine=engine))  # type: ignore[arg-type]
        shown = " ".join(texts(root))
        for state in State:
            assert state.label in shown, state

    @pytest.mark.parametrize("engine", ENGINES)
    def test_a_closed_case_shows_its_reason(self, engine: str) -> None:
        """The stage a closed case ended in says why it was closed, in plain words."""
        case = closed_case()
        model = diagram_model(case.policy, case)
        assert model.closure == "victim withdrew"
        shown = " ".join(texts(parsed(render_svg(model, engine=engine))))  # type: ignore[arg-type]
        assert "reason: victim withdrew" in shown

    def test_a_completed_case_has_no_closure_reason(self) -> None:
        case = build_demo_case()
        assert diagram_model(case.policy, case).closure is None

    def test_actions_in_plain_words_and_close_once(self) -> None:
        """Edges say "hold conference", not hold_conference; the seven close edges are one
        note; the summary from the table is each edge's tooltip."""
        root = parsed(render_svg(BASE, engine="builtin"))
        shown = texts(root)
        assert "hold conference" in shown
        assert not any("_" in t for t in shown), [t for t in shown if "_" in t]
        assert shown.count("close — from any open stage") == 1
        assert "close" not in shown  # no edge labelled close on its own
        tips = {"".join(t.itertext()) for t in root.iter(f"{SVG}title")}
        assert "Victim and offender meet with a trained facilitator." in tips

    def test_a_case_path_is_marked_and_the_legend_says_what_the_colours_mean(self) -> None:
        case = build_demo_case()
        model = diagram_model(case.policy, case)
        root = parsed(render_svg(model, engine="builtin"))
        shown = texts(root)
        for entry in ("current stage", "stage reached", "action taken", "end stage"):
            assert entry in shown
        groups = [g.get("class", "") for g in root.iter(f"{SVG}g")]
        assert groups.count("rjflow-edge taken") == sum(e.travelled for e in model.edges)
        assert groups.count("rjflow-stage current end") == 1
        # the workflow alone has no case colours to explain
        assert "current stage" not in texts(parsed(render_svg(BASE, engine="builtin")))

    def test_guards_name_roles_and_rules_in_plain_words(self) -> None:
        shown = " ".join(texts(parsed(render_svg(BASE, guards=True, engine="builtin"))))
        assert "by lead facilitator" in shown
        assert "[victims consent face to face]" in shown


class TestEngines:
    def test_auto_draws_without_graphviz(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """No Graphviz: "auto" draws with rjflow's own layout, no program run."""
        monkeypatch.setattr(shutil, "which", lambda _name: None)
        assert render_svg(BASE) == render_svg(BASE, engine="builtin")
        with pytest.raises(GraphvizMissing):
            render_svg(BASE, engine="graphviz")

    def test_builtin_is_deterministic(self) -> None:
        case = build_demo_case()
        model = diagram_model(case.policy, case)
        assert render_svg(model, engine="builtin") == render_svg(model, engine="builtin")

    @pytest.mark.parametrize("engine", ENGINES)
    def test_top_to_bottom_fits_a_page_column_and_left_to_right_is_wide(self, engine: str) -> None:
        """TB (the default) is taller than wide; LR, as DOT and Mermaid draw it, wider."""

        def size(svg: str) -> tuple[float, float]:
            box = parsed(svg).get("viewBox", "")
            _, _, width, height = (float(v) for v in box.split())
            return width, height

        tall = size(render_svg(BASE, engine=engine))  # type: ignore[arg-type]
        wide = size(render_svg(BASE, engine=engine, direction="LR"))  # type: ignore[arg-type]
        assert tall[0] < tall[1]
        assert wide[0] > wide[1]
        with pytest.raises(InvalidInput, match="direction"):
            render_svg(BASE, direction="BT")  # type: ignore[arg-type]

    def test_unknown_engine_and_non_diagram_are_refused(self) -> None:
        with pytest.raises(InvalidInput, match="engine"):
            render_svg(BASE, engine="cairo")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="Diagram"):
            render_svg("digraph {}")  # type: ignore[arg-type]

    def test_reachable_only_draws_what_is_left(self) -> None:
        case, _ = at_stage(State.REVIEW)
        model = diagram_model(case.policy, case, reachable_only=True)
        shown = " ".join(texts(parsed(render_svg(model, engine="builtin"))))
        assert "review" in shown and "referred" not in shown


class TestReadabilityInTextFormats:
    def test_mermaid_and_dot_note_the_closure_reason(self) -> None:
        case = closed_case()
        model = diagram_model(case.policy, case)
        assert 'state "closed #8212; reason: victim withdrew" as closed' in to_mermaid(model)
        assert "reason: victim withdrew" in to_dot(model)

    def test_dot_has_a_legend_only_for_a_case(self) -> None:
        case = build_demo_case()
        assert "cluster_legend" in to_dot(diagram_model(case.policy, case))
        assert "cluster_legend" not in to_dot(BASE)


# -- hostile text --------------------------------------------------------------------------

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,20}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(title=any_text, closure=any_text, action=any_text, guard=any_text)
def test_hostile_text_adds_no_element(title: str, closure: str, action: str, guard: str) -> None:
    """Any title, closure text, action and guard names (300 examples, half built from what
    breaks Mermaid, DOT, terminals and XML): the SVG parses, has exactly the shapes of the
    plain diagram (only its lines of text may be more or fewer), and shows the title as
    printable text, character for character."""
    edges = tuple(attrs.evolve(e, action=action, guards=(guard,)) for e in BASE.edges)
    plain = Diagram(
        "t", BASE.nodes, tuple(attrs.evolve(e, action="a", guards=("g",)) for e in BASE.edges), "c"
    )
    model = Diagram(title, BASE.nodes, edges, closure)
    root = parsed(render_svg(model, guards=True, engine="builtin"))
    reference = parsed(render_svg(plain, guards=True, engine="builtin"))

    # Text may wrap onto more lines (tspans); every other element is the plain diagram's.
    def shapes(svg: ET.Element) -> list[str]:
        return [e.tag for e in svg.iter() if e.tag not in (f"{SVG}text", f"{SVG}tspan")]

    assert shapes(root) == shapes(reference)
    assert all(len(t) == 0 for t in root.iter(f"{SVG}tspan"))  # text only inside a line
    title_element = root.find(f"{SVG}title")
    assert title_element is not None
    assert title_element.text == printable(title) or (not title and title_element.text is None)


@settings(max_examples=40, deadline=None)
@given(case_id=ids, offender=ids, victim=ids)
def test_hostile_ids_through_a_real_case(case_id: str, offender: str, victim: str) -> None:
    """Any ids the validator allows (40 examples, each a real case): the case's SVG parses and
    names the case."""
    if len({offender, victim, "F1"}) < 3:
        return
    case = Case.open(
        case_id,
        offence=Offence(OffenceCategory.HOUSEHOLD_BURGLARY),
        offender=offender,
        victims=[victim],
        facilitators=[Facilitator("F1")],
        lead_facilitator="F1",
        at=new_case()[1](),
        actor="F1",
    )
    root = parsed(render_svg(diagram_model(case.policy, case), engine="builtin"))
    assert any(case_id in t for t in texts(root))


# -- the layout itself ---------------------------------------------------------------------


def test_layout_refuses_a_loop_and_an_unknown_box() -> None:
    with pytest.raises(ValueError, match="loops"):
        layered([("a", 1, 1)], [("a", "a", 0, 0)])
    with pytest.raises(ValueError, match="not in the layout"):
        layered([("a", 1, 1)], [("a", "b", 0, 0)])


graphs = st.integers(2, 7).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
            max_size=12,
        ),
    )
)


@settings(max_examples=200, deadline=None)
@given(graph=graphs, sizes=st.lists(st.integers(1, 60), min_size=7, max_size=7))
def test_layout_boxes_never_overlap(
    graph: tuple[int, list[tuple[int, int]]], sizes: list[int]
) -> None:
    """Random graphs with cycles (200 examples): no two boxes overlap, every edge goes from
    its source's side to its destination's side."""
    n, pairs = graph
    nodes = [(str(i), float(sizes[i]), float(sizes[-1 - i])) for i in range(n)]
    lay = layered(nodes, [(str(u), str(v), 10.0, 5.0) for u, v in pairs])
    boxes = list(lay.boxes.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart_x = abs(a.x - b.x) * 2 >= a.width + b.width
            apart_y = abs(a.y - b.y) * 2 >= a.height + b.height - 1e-6
            assert apart_x or apart_y, (a, b)
    for (u, v), route in zip(pairs, lay.routes, strict=True):
        src, dst = lay.boxes[str(u)], lay.boxes[str(v)]
        assert abs(abs(route.points[0][0] - src.x) - src.width / 2) < 1e-6
        assert abs(abs(route.points[-1][0] - dst.x) - dst.width / 2) < 1e-6


# -- the command line draws SVG without Graphviz -------------------------------------------


def _rjflow_without_graphviz(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with nothing on PATH: no ``dot`` to be found."""
    return subprocess.run(
        [sys.executable, "-m", "rjflow", *args],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": str(tmp_path)},
    )


def test_cli_svg_without_graphviz(tmp_path: Path) -> None:
    """Regression: `rjflow diagram --format svg` needed Graphviz; now rjflow draws it."""
    out = tmp_path / "wf.svg"
    done = _rjflow_without_graphviz(tmp_path, "diagram", "--format", "svg", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == render_svg(BASE, engine="builtin")


def test_demo_writes_svg_without_graphviz(tmp_path: Path) -> None:
    """Regression: the demo wrote its SVG only when Graphviz was installed."""
    done = _rjflow_without_graphviz(tmp_path, "demo", "--diagram-dir", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    svg = (tmp_path / "out" / "demo-case.svg").read_text(encoding="utf-8")
    assert "rjflow-stage current end" in svg  # the completed demo case, drawn by rjflow
    parsed(svg)
