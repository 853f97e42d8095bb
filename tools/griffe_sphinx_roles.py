"""A griffe extension for the API reference: Sphinx roles in docstrings become links.

rjflow's docstrings name other objects with Sphinx roles (``:meth:`Case.fire```,
``:class:`~rjflow.Policy```), which mkdocstrings shows as raw text.  Once the package is
loaded, this extension rewrites each role as a mkdocstrings cross-reference to the object's
canonical path (``[`Case.fire`][rjflow.case.Case.fire]``) when that object is drawn on one of
the API pages (``docs/api/*.md``), and as plain code otherwise (a private helper, a module
with no page), so ``mkdocs build --strict`` never meets a reference it cannot resolve.
Doctest examples (paragraphs starting ``>>>``) become ``pycon`` code blocks, so their output
(``['offender_not_sentenced']``) is shown as code, not read as Markdown.

Used by mkdocs.yml (``extensions:`` of the mkdocstrings Python handler); not part of rjflow.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import griffe

ROLE = re.compile(
    r":(?:py:)?(?:func|meth|class|data|attr|mod|exc|obj|const):`(?P<tilde>~?)\.?"
    r"(?:(?P<title>[^`<>]+?)\s*<(?P<titled>[^`<>]+)>|(?P<target>[^`<>]+))`"
)
API_PAGES = Path(__file__).resolve().parent.parent / "docs" / "api"


def documented_modules() -> set[str]:
    """The modules the API pages draw (``::: rjflow.x`` lines)."""
    found = set()
    for page in API_PAGES.glob("*.md"):
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("::: "):
                found.add(line[4:].strip())
    return found


def fence_doctests(text: str) -> str:
    """Each paragraph starting with ``>>>`` (up to the next blank line) in a pycon fence."""
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        if not inside and line.lstrip().startswith(">>>"):
            inside = True
            out.append("```pycon")
        elif inside and not line.strip():
            inside = False
            out.append("```")
        out.append(line)
    if inside:
        out.append("```")
    return "\n".join(out)


def _objects(obj: griffe.Object) -> list[griffe.Object]:
    out = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            out += _objects(member)  # type: ignore[arg-type]
    return out


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring of the ``rjflow`` package."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **_: Any) -> None:
        if pkg.path != "rjflow":
            return
        pages = documented_modules()
        for obj in _objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = fence_doctests(
                    ROLE.sub(
                        lambda m, obj=obj: self._link(m, obj, loader, pages), obj.docstring.value
                    )
                )

    @staticmethod
    def _resolve(target: str, obj: griffe.Object, loader: griffe.GriffeLoader) -> str | None:
        scopes: list[str] = [""]
        parent: griffe.Object | None = obj
        while parent is not None:
            scopes.append(parent.path + ".")
            parent = parent.parent  # type: ignore[assignment]
        for scope in scopes:
            try:
                found = loader.modules_collection[scope + target]
                return str(found.final_target.path if found.is_alias else found.path)
            except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
                continue
        return None

    def _link(
        self, match: re.Match[str], obj: griffe.Object, loader: griffe.GriffeLoader, pages: set[str]
    ) -> str:
        if match["titled"] is not None:  # :meth:`shown text <target>`
            target = match["titled"].strip()
            text = match["title"].strip()
        else:
            target = match["target"].strip()
            text = target.rsplit(".", 1)[-1] if match["tilde"] else target
        path = self._resolve(target, obj, loader)
        public = path is not None and not any(
            p.startswith("_") and not p.startswith("__") for p in path.split(".")
        )
        if (
            path is not None
            and public
            and any(path == m or path.startswith(m + ".") for m in pages)
        ):
            return f"[`{text}`][{path}]"
        return f"`{text}`"
