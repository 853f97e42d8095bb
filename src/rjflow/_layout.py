"""A small layered (Sugiyama-style) layout, left to right, for diagrams of a few dozen boxes.

rjflow draws its workflow without Graphviz (:func:`rjflow.diagrams.render_svg`), so it lays
the boxes out itself.  The state graph is small (a dozen stages), and the pure-Python layout
libraries on PyPI were not kept up (grandalf's last release is from 2023), so this module
implements the four classic phases of Sugiyama, Tagawa and Toda (1981) in their simplest
well-known forms:

1. cycle removal: edges closing a cycle in a depth-first search are reversed;
2. layering: longest path from the sources, each box on an even layer, each edge's label a
   box of its own on the odd layer after its source (as Graphviz does), long edges chained
   through zero-size "virtual" boxes;
3. crossing reduction: barycentre sweeps down and up, keeping the order with fewest crossings;
4. coordinates: columns as wide as their widest box; in each column boxes pulled towards the
   mean height of their neighbours, in order and never closer than ``gap``.

Pure geometry over opaque string ids: it knows nothing of rjflow, and is deterministic.

>>> lay = layered([("a", 40, 20), ("b", 40, 20)], [("a", "b", 30, 10)])
>>> lay.boxes["a"].x < lay.boxes["b"].x
True
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence

import attrs

__all__ = ["Box", "Layout", "Route", "layered"]


@attrs.frozen
class Box:
    """A box placed: its centre (``x``, ``y``) and size, in the drawing's units."""

    x: float
    y: float
    width: float
    height: float


@attrs.frozen
class Route:
    """An edge placed: the points its line passes through, from its (original) source to its
    destination, and the box its label fills (centre and size)."""

    points: tuple[tuple[float, float], ...]
    label: Box


@attrs.frozen
class Layout:
    """The boxes by id, the routes in the order the edges were given, and the total size."""

    boxes: dict[str, Box]
    routes: tuple[Route, ...]
    width: float
    height: float


def _acyclic(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> list[bool]:
    """Which edges to reverse so the graph has no cycle: those closing one in a DFS."""
    out: dict[str, list[int]] = {n: [] for n in nodes}
    for i, (u, _v) in enumerate(edges):
        out[u].append(i)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    reverse = [False] * len(edges)

    def visit(start: str) -> None:
        stack = [(start, iter(out[start]))]
        state[start] = 1
        while stack:
            node, todo = stack[-1]
            for i in todo:
                v = edges[i][1]
                if state.get(v) == 1:
                    reverse[i] = True
                elif v not in state:
                    state[v] = 1
                    stack.append((v, iter(out[v])))
                    break
            else:
                state[node] = 2
                stack.pop()

    for n in nodes:
        if n not in state:
            visit(n)
    return reverse


def _ranks(
    nodes: Sequence[str], edges: list[tuple[str, str]], last: Collection[str]
) -> dict[str, int]:
    """Longest-path ranks of an acyclic graph; the ``last`` boxes (without successors) are
    moved to the last rank, then a source is pulled next to its nearest successor (so a note
    feeding an end stage stands beside it, not at the far left)."""
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    succs: dict[str, list[str]] = {n: [] for n in nodes}
    for u, v in edges:
        if u != v:
            preds[v].append(u)
            succs[u].append(v)
    rank: dict[str, int] = {}
    pending = {n: len(set(preds[n])) for n in nodes}
    ready = [n for n in nodes if not pending[n]]
    while ready:
        n = ready.pop(0)
        rank[n] = max((rank[p] + 1 for p in preds[n]), default=0)
        for s in dict.fromkeys(succs[n]):
            pending[s] -= 1
            if not pending[s]:
                ready.append(s)
    end = max(rank.values(), default=0)
    for n in last:
        if not succs[n]:
            rank[n] = end
    for n in nodes:
        if not preds[n] and succs[n]:
            rank[n] = max(rank[n], min(rank[s] for s in succs[n]) - 1)
    return rank


def _crossings(layers: list[list[str]], links: list[tuple[str, str]]) -> int:
    pos = {v: i for layer in layers for i, v in enumerate(layer)}
    level = {v: k for k, layer in enumerate(layers) for v in layer}
    by_level: dict[int, list[tuple[int, int]]] = {}
    for u, v in links:
        by_level.setdefault(level[u], []).append((pos[u], pos[v]))
    count = 0
    for pairs in by_level.values():
        for i, (a, b) in enumerate(pairs):
            count += sum(1 for c, d in pairs[i + 1 :] if (a - c) * (b - d) < 0)
    return count


def _by_barycentre(layer: list[str], ref: list[str], near: dict[str, list[str]]) -> list[str]:
    """``layer`` sorted by the mean position of each box's neighbours in ``ref`` (a box
    without any keeps its own position as its key)."""
    pos = {v: i for i, v in enumerate(ref)}

    def key(item: tuple[int, str]) -> float:
        i, v = item
        ns = [pos[n] for n in near.get(v, ()) if n in pos]
        return sum(ns) / len(ns) if ns else float(i)

    return [v for _, v in sorted(enumerate(layer), key=key)]


def _order(layers: list[list[str]], links: list[tuple[str, str]]) -> list[list[str]]:
    """Barycentre sweeps; the ordering with the fewest crossings wins (ties: the earliest)."""
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for u, v in links:
        down.setdefault(u, []).append(v)
        up.setdefault(v, []).append(u)
    best, fewest = [list(x) for x in layers], _crossings(layers, links)
    current = [list(x) for x in layers]
    for sweep in range(8):
        forward = sweep % 2 == 0
        indices = range(1, len(current)) if forward else range(len(current) - 2, -1, -1)
        for k in indices:
            ref = current[k - 1] if forward else current[k + 1]
            current[k] = _by_barycentre(current[k], ref, up if forward else down)
        count = _crossings(current, links)
        if count < fewest:
            best, fewest = [list(x) for x in current], count
    return best


def _pack(order: list[str], want: dict[str, float], size: dict[str, float], gap: float) -> None:
    """Move the boxes of one column towards ``want``, in order, ``gap`` apart at least."""
    if not order:
        return
    ys = [want[order[0]]]
    for prev, v in itertools.pairwise(order):
        ys.append(max(want[v], ys[-1] + (size[prev] + size[v]) / 2 + gap))
    # Centre the column's overshoot: as much above the wished heights as below them.
    shift = sum(want[v] - y for v, y in zip(order, ys, strict=True)) / len(order)
    for v, y in zip(order, ys, strict=True):
        want[v] = y + min(shift, 0.0)


def _columns(
    layers: list[list[str]], width: dict[str, float], column_gap: float
) -> tuple[list[float], float]:
    """Each column's centre, as wide as its widest box; and the total width."""
    xs: list[float] = []
    left = 0.0
    for layer in layers:
        w = max((width[n] for n in layer), default=0.0)
        xs.append(left + w / 2)
        left += w + column_gap
    return xs, max(left - column_gap, 0.0)


def _heights(
    layers: list[list[str]], links: list[tuple[str, str]], height: dict[str, float], gap: float
) -> dict[str, float]:
    """Each box's centre height: stacked, then pulled towards its neighbours, each way in turn."""
    y: dict[str, float] = {}
    for layer in layers:
        top = 0.0
        for n in layer:
            y[n] = top + height[n] / 2
            top += height[n] + gap
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for a, b in links:
        down.setdefault(a, []).append(b)
        up.setdefault(b, []).append(a)
    for sweep in range(12):
        near = up if sweep % 2 == 0 else down
        for layer in layers if sweep % 2 == 0 else reversed(layers):
            want = {
                n: sum(y[m] for m in near[n]) / len(near[n]) if near.get(n) else y[n] for n in layer
            }
            _pack(layer, want, height, gap)
            y.update(want)
    top = min((y[n] - height[n] / 2 for n in y), default=0.0)
    return {n: v - top for n, v in y.items()}


def _route(chain: list[str], boxes: dict[str, Box], reverse: bool) -> Route:
    first, last = boxes[chain[0]], boxes[chain[-1]]
    points = [(first.x + first.width / 2, first.y)]
    for vid in chain[1:-1]:
        b = boxes[vid]
        points += [(b.x - b.width / 2, b.y), (b.x + b.width / 2, b.y)]  # through its label
    points.append((last.x - last.width / 2, last.y))
    label = boxes[chain[1]] if len(chain) > 2 else Box(0.0, 0.0, 0.0, 0.0)
    return Route(tuple(reversed(points)) if reverse else tuple(points), label)


def layered(
    nodes: Sequence[tuple[str, float, float]],
    edges: Sequence[tuple[str, str, float, float]],
    *,
    column_gap: float = 28.0,
    gap: float = 18.0,
    last: Collection[str] = (),
    vertical: bool = False,
) -> Layout:
    """Lay out ``nodes`` (id, width, height) and ``edges`` (source, destination, label width,
    label height) left to right.  An edge's route runs from the right side of its source to
    the left side of its destination (the other way round for an edge closing a cycle),
    passing through its label's box (a drawing puts the label on a background there).  The
    ``last`` boxes (end stages) stand in the last column.  ``vertical`` lays out top to
    bottom instead (rows for columns, routes from a box's bottom to the next one's top);
    ``column_gap`` then separates the rows and ``gap`` the boxes in a row.
    Raises :class:`ValueError` for an edge naming an unknown id or leading back to its own
    source (a loop, which rjflow's diagrams never hold)."""
    if vertical:  # the same layout on the transposed drawing
        lay = layered(
            [(n, h, w) for n, w, h in nodes],
            [(u, v, lh, lw) for u, v, lw, lh in edges],
            column_gap=column_gap,
            gap=gap,
            last=last,
        )

        def flip(b: Box) -> Box:
            return Box(b.y, b.x, b.height, b.width)

        return Layout(
            {n: flip(b) for n, b in lay.boxes.items()},
            tuple(Route(tuple((y, x) for x, y in r.points), flip(r.label)) for r in lay.routes),
            lay.height,
            lay.width,
        )
    names = [n for n, _, _ in nodes]
    known = set(names)
    if any(u not in known or v not in known or u == v for u, v, _, _ in edges):
        raise ValueError("an edge names a box that is not in the layout, or loops")
    pairs = [(u, v) for u, v, _, _ in edges]
    reverse = _acyclic(names, pairs)
    directed = [(v, u) if r else (u, v) for (u, v), r in zip(pairs, reverse, strict=True)]
    rank = _ranks(names, directed, last)
    width = {n: float(w) for n, w, _ in nodes}
    height = {n: float(h) for n, _, h in nodes}
    levels: dict[str, int] = {n: 2 * rank[n] for n in names}
    chains: list[list[str]] = []
    for i, ((u, v), (_, _, lw, lh)) in enumerate(zip(directed, edges, strict=True)):
        chain = [u]
        for k in range(levels[u] + 1, levels[v]):
            vid = f"\x00{i}:{k}"  # a virtual box; no caller id holds a NUL
            levels[vid] = k
            first = k == levels[u] + 1
            width[vid], height[vid] = (float(lw), float(lh)) if first else (0.0, 0.0)
            chain.append(vid)
        chains.append([*chain, v])
    links = [pair for chain in chains for pair in itertools.pairwise(chain)]
    layers: list[list[str]] = [[] for _ in range(max(levels.values(), default=0) + 1)]
    for n, k in levels.items():
        layers[k].append(n)
    layers = _order(layers, links)
    xs, total_width = _columns(layers, width, column_gap)
    y = _heights(layers, links, height, gap)
    boxes = {n: Box(xs[levels[n]], y[n], width[n], height[n]) for n in levels}
    routes = tuple(_route(c, boxes, r) for c, r in zip(chains, reverse, strict=True))
    total_height = max((b.y + b.height / 2 for b in boxes.values()), default=0.0)
    return Layout({n: boxes[n] for n in names}, routes, total_width, total_height)
