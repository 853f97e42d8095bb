"""The documentation site works offline (issue 10, item 8): built in strict mode, it loads no
script, stylesheet, font or picture from the internet, draws no diagram with a remote script,
and its API reference shows cross-references as links, not as Sphinx roles."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("mkdocs", reason="the docs extra is not installed")
pytest.importorskip("mkdocstrings", reason="the docs extra is not installed")

#: A tag that makes the browser fetch something: a script, a stylesheet, a font, a picture.
FETCHING = re.compile(
    r"<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=[\"']?(?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//",
    re.I,
)
CSS_REMOTE = re.compile(r"(?:@import\s+|url\()\s*[\"']?(?:https?:)?//", re.I)
SPHINX_ROLE = re.compile(r":(?:meth|func|class|data|attr|mod|exc):<code>|:(?:meth|func|class):`")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        # not --quiet: it silences the warnings --strict fails on
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_nothing_is_fetched_from_the_internet(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not FETCHING.search(text), (page, FETCHING.search(text))
        assert 'class="mermaid"' not in text, page  # Mermaid would load its script remotely
    for sheet in site.rglob("*.css"):
        assert not CSS_REMOTE.search(sheet.read_text(encoding="utf-8")), sheet


def test_the_workflow_picture_is_in_the_site(site: Path) -> None:
    page = (site / "workflow" / "index.html").read_text(encoding="utf-8")
    assert 'src="../img/workflow.svg"' in page
    svg = (site / "img" / "workflow.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "hold conference" in svg


def test_api_reference_links_instead_of_roles(site: Path) -> None:
    """One page per module; roles became links (or code), never raw text."""
    pages = sorted((site / "api").glob("*/index.html"))
    assert {p.parent.name for p in pages} >= {"case", "states", "record", "diagrams"}
    for page in [*pages, site / "workflow" / "index.html"]:
        text = page.read_text(encoding="utf-8")
        assert not SPHINX_ROLE.search(text), (page, SPHINX_ROLE.search(text))
    case = (site / "api" / "case" / "index.html").read_text(encoding="utf-8")
    assert 'href="#rjflow.case.Case.options"' in case  # :meth:`options` in Case's docstring
    states = (site / "api" / "states" / "index.html").read_text(encoding="utf-8")
    assert "&#39;letter_of_apology&#39;" in states or "'letter_of_apology'" in states  # values
