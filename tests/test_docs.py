"""The documentation is executed and kept current by the tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rjflow.reference import BEGIN, END, SVG_PATH, workflow_markdown, workflow_svg

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_examples_run(page: Path) -> None:
    """Every ```python block of a page runs, in order, in one namespace."""
    blocks = FENCE.findall(page.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"{page.name} example {number}", "exec")
        exec(code, namespace)
    assert all(isinstance(b, str) for b in blocks)


def test_readme_and_getting_started_have_examples() -> None:
    """The pages a newcomer reads first do carry runnable examples."""
    for name in ("README.md", "docs/index.md"):
        assert FENCE.findall((ROOT / name).read_text(encoding="utf-8")), name


def test_workflow_page_is_current() -> None:
    """docs/workflow.md embeds exactly what the table generates now."""
    text = (ROOT / "docs" / "workflow.md").read_text(encoding="utf-8")
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert generated == "\n" + workflow_markdown(), (
        "docs/workflow.md is stale: run python -m rjflow.reference docs/workflow.md"
    )
    picture = ROOT / "docs" / SVG_PATH
    assert picture.read_text(encoding="utf-8") == workflow_svg(), (
        f"docs/{SVG_PATH} is stale: run python -m rjflow.reference docs/workflow.md"
    )
