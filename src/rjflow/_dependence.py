"""Which input fields the rules of an action read: what a proposed input can still change.

``Case.options()`` judges every action without an input, so the rules that read one (a
session's length, the party who consents) are not judged there.  This module finds, for each
rule, the fields of the input it reads — from the rule's own code, following the input into
the helpers it is passed to — so that an option can say which fields a form must still have
judged by :meth:`rjflow.Case.blockers`.  It is derived from the rules, never kept by hand: a
rule that starts reading a field makes that field appear in every option it guards.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import attrs

from rjflow.rules import GUARDS
from rjflow.states import ActionDef

__all__ = ["input_dependence", "reads"]

#: The position of the input among a rule's arguments: (record, policy, input, acting).
_INPUT_POSITION = 2


def _parameter(fn: Callable[..., Any], position: int | str) -> str | None:
    params = list(inspect.signature(fn).parameters)
    if isinstance(position, str):
        return position if position in params else None
    return params[position] if position < len(params) else None


@functools.cache
def _reads(fn: Callable[..., Any], name: str) -> frozenset[str]:
    """The attributes ``fn`` reads from its argument ``name``, and those read by the
    functions it passes that argument on to."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):  # pragma: no cover - no source: assume all
        return frozenset({"*"})
    found: set[str] = set()
    space = getattr(fn, "__globals__", {})
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == name
        ):
            found.add(node.attr)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            found |= _passed_on(node, name, space)
    return frozenset(found)


def _passed_on(call: ast.Call, name: str, space: dict[str, Any]) -> set[str]:
    """What the function called by ``call`` reads from ``name`` when it is an argument."""
    func = call.func
    assert isinstance(func, ast.Name)
    if func.id == "getattr":
        args = call.args
        if (
            len(args) >= 2
            and isinstance(args[0], ast.Name)
            and args[0].id == name
            and isinstance(args[1], ast.Constant)
            and isinstance(args[1].value, str)
        ):
            return {args[1].value}
        return set()
    callee = space.get(func.id)
    if not inspect.isfunction(callee):
        return set()  # isinstance, len, a class...: reads no field by itself
    found: set[str] = set()
    positions: list[int | str] = [
        i for i, arg in enumerate(call.args) if isinstance(arg, ast.Name) and arg.id == name
    ]
    positions += [
        k.arg
        for k in call.keywords
        if k.arg is not None and isinstance(k.value, ast.Name) and k.value.id == name
    ]
    for position in positions:
        parameter = _parameter(callee, position)
        if parameter is not None:
            found |= _reads(callee, parameter)
    return found


def reads(rule: str) -> frozenset[str]:
    """The input attributes the rule named ``rule`` reads (``"*"``: it cannot be told)."""
    fn = GUARDS[rule]
    parameter = _parameter(fn, _INPUT_POSITION)
    return _reads(fn, parameter) if parameter is not None else frozenset()


@functools.cache
def input_dependence(action: ActionDef) -> tuple[str, ...]:
    """The fields of ``action``'s input that its rules read, in the input's field order: the
    ones a proposed input must still have judged.  Empty when no rule reads the input, so that
    an action allowed without an input is allowed with any valid one."""
    read: set[str] = set()
    for rule in action.guards:
        read |= reads(rule)
    names = [a.name for a in attrs.fields(action.input) if a.init]
    if "*" in read:  # pragma: no cover - every rule has its source
        return tuple(names)
    return tuple(n for n in names if n in read)
