"""The layers of docs/architecture.md hold in the imports: inner never imports outer, and no
module imports itself back through others (no import cycles, TYPE_CHECKING imports included).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "rjflow"

#: Lowest first; a module may import only from its own layer or a lower one.
LAYERS: dict[str, tuple[str, ...]] = {
    "base": (
        "_readonly",
        "errors",
        "blocker",
        "_validate",
        "_escape",
        "_logging",
        "_frozen",
        "_layout",
        "_toml",
    ),
    "values": (
        "parties",
        "offences",
        "activities",
        "commands",
        "states",
        "action_names",
        "record",
        "policy",
        "policy_file",  # issue 12: a policy's TOML file, read below the Policy class
        "rule_scope",  # issue 12: when each rule can block, read by the checks and paths
        "policy_check",  # issue 12: static checks of a policy against the table
        "integrity",
    ),
    "rules": ("rules", "effects"),
    "engine": (
        "history",
        "freetext",
        "_convert",
        "_dependence",
        "workflow",
        "deadlines",
        "case",
        "projection",
    ),
    "adapters": (
        "serialization",
        "store",
        "_sql",
        "_eventstore",
        "_storerows",
        "pgstore",
        "_pgsql",
        "_reader",
        "_upcast",
        "erasure",
        "diagrams",
        "forms",
        "i18n",  # issue 10 item 6: blocker messages translated from gettext catalogues
        "reference",
        "demo",
        "caseload",
        "reporting",
        "_report_html",
        "cli",
        "paths",  # issue 12: test paths computed from the table
        "testing",  # issue 12: rjflow.testing, for the apps that embed rjflow
        "__main__",
        "__init__",
    ),
}
RANK = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}
NAMES = list(LAYERS)


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _top(name: str) -> str:
    """The unit a module belongs to for layering: ``rules.consent`` -> ``rules``."""
    return name.split(".", 1)[0]


def _imports(path: Path, name: str) -> set[str]:
    """Every rjflow module ``path`` imports, wherever the import statement stands."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name[7:] for a in node.names if a.name.startswith("rjflow.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(
                    [*[p for p in base if p], *([node.module] if node.module else [])]
                )
            elif node.module == "rjflow":
                module = ""
            elif node.module and node.module.startswith("rjflow."):
                module = node.module[7:]
            else:
                continue
            if module:
                found.add(module)
            for alias in node.names:  # ``from rjflow(.x) import submodule``
                candidate = f"{module}.{alias.name}" if module else alias.name
                if (SRC / candidate.replace(".", "/")).with_suffix(".py").exists() or (
                    SRC / candidate.replace(".", "/") / "__init__.py"
                ).exists():
                    found.add(candidate)
    return found - {name}


GRAPH = {
    _module_name(p): _imports(p, _module_name(p))
    for p in sorted(SRC.rglob("*.py"))
    if "__pycache__" not in p.parts
}


def test_every_module_has_a_layer() -> None:
    """A new module must be placed in a layer here and in docs/architecture.md."""
    unplaced = sorted(m for m in GRAPH if _top(m) not in RANK)
    assert not unplaced, f"place these modules in a layer: {unplaced}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_crosses_a_layer_upwards(module: str) -> None:
    """Inner layers never import outer ones (values <- rules <- engine <- adapters)."""
    if module == "__init__":  # the package's public face re-exports every layer
        return
    rank = RANK[_top(module)]
    upward = sorted(i for i in GRAPH[module] if RANK.get(_top(i), -1) > rank)
    assert not upward, f"rjflow.{module} ({NAMES[rank]}) imports from outer layers: " + ", ".join(
        f"rjflow.{i} ({NAMES[RANK[_top(i)]]})" for i in upward
    )


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk of ``edges`` closes, as the path around it."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_cycles() -> None:
    """No module reaches itself through its imports (TYPE_CHECKING imports count too)."""
    edges = {m: {i for i in deps if i in GRAPH} for m, deps in GRAPH.items() if m != "__init__"}
    assert find_cycles(edges) == []


def test_the_checks_can_fail() -> None:
    """The cycle finder finds a planted cycle, and the graph holds the imports we know of."""
    planted = {"errors": {"rules"}, "rules": {"record"}, "record": {"errors"}, "case": {"rules"}}
    assert find_cycles(planted) == [["rules", "record", "errors", "rules"]]
    assert RANK["record"] < RANK["rules"] < RANK["case"]
    assert "blocker" in GRAPH["errors"]  # the import that used to be errors -> guards
    assert "rules" in GRAPH["workflow"]
    assert "rules.consent" in GRAPH["rules.letter"]
