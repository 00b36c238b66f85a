"""Pictures of quorums: which sets of nodes may act, and whether two of them can miss each other.

    from replib.viz.quorums import draw_quorums
    show(draw_quorums(5, q1=2, q2=3, failed=["n4"]))

The nodes sit on a circle in a fixed order (the first at the top, clockwise), the same in
every panel.  The large panel on the left shows one phase-1 quorum and one phase-2 quorum:
two that share no node if there are any (the danger), else two that share as few as
possible.  The small panels on the right show every quorum of each size (the first
``limit`` of them, and how many more).  Phase-1 quorums are blue with a solid outline,
phase-2 quorums vermillion, hatched, with a dashed outline; a failed node is hollow, grey
and crossed, and a quorum that needs one is drawn grey and titled "unavailable".
"""

from __future__ import annotations

import math

import networkx as nx
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from ..experiments.partitions import _nodes, quorum_report
from ..validate import whole_number
from . import palette as P
from .sequence import DPI
from .topology import _circle, _hull, _tint

MAX_DRAWN = 12          # more nodes than this would not be readable on a circle
COLUMNS = 5             # small panels per row
PHASE = {1: dict(colour=P.BLUE, linestyle="solid", hatch=None, grow=0.27),
         2: dict(colour=P.VERMILLION, linestyle=(0, (4.0, 2.0)), hatch="//", grow=0.20)}


def _blob(points, grow, steps=16):
    """The convex hull of ``points`` grown by ``grow`` all round (a rounded outline that
    encloses the nodes, also for one or two of them)."""
    ring = [(x + grow * math.cos(2 * math.pi * i / steps), y + grow * math.sin(2 * math.pi * i / steps))
            for x, y in points for i in range(steps)]
    return _hull(ring)


def _place(pos, centre, scale):
    """The layout ``pos`` (on a circle of radius 1) scaled and moved to a panel's centre."""
    cx, cy = centre
    return {n: (cx + scale * x, cy + scale * y) for n, (x, y) in pos.items()}


def _draw_quorum(ax, pos, members, phase, scale, available=True):
    style = PHASE[phase]
    colour = style["colour"] if available else P.DOWN
    ax.add_patch(Polygon(_blob([pos[m] for m in members], style["grow"] * scale), closed=True,
                         facecolor=_tint(colour, 0.35), edgecolor=colour, alpha=0.85,
                         linewidth=2.0, linestyle=style["linestyle"], hatch=style["hatch"],
                         zorder=1 + phase / 10, gid=f"replib-quorum-{phase}"))


def _draw_big_nodes(ax, graph, pos, failed, size=34):
    """The large panel's nodes, with their names (networkx draws them)."""
    alive = [n for n in graph if n not in failed]
    down = [n for n in graph if n in failed]
    for nodelist, edge, gid in ((alive, P.BLACK, "replib-nodes"), (down, P.DOWN, "replib-failed")):
        if nodelist:
            coll = nx.draw_networkx_nodes(graph, pos, nodelist=nodelist, ax=ax,
                                          node_size=size ** 2, node_color="white",
                                          edgecolors=edge, linewidths=1.6)
            coll.set_zorder(3)
            coll.set_gid(gid)
    if down:   # a light cross behind the name, so the name stays readable
        xs, ys = zip(*(pos[n] for n in down))
        ax.plot(xs, ys, linestyle="none", marker="x", markersize=size * 0.8, markeredgewidth=3,
                color=P.DOWN, zorder=4, gid="replib-failed-cross")
    for n in graph:
        ax.text(*pos[n], n, ha="center", va="center", fontsize=12, fontweight="bold",
                color=P.MUTED if n in failed else P.BLACK, zorder=5)


def _draw_small_nodes(ax, alive, down, size=8):
    """Every small panel's nodes at once (one collection per kind keeps drawing quick):
    working nodes black, failed ones hollow, grey and crossed."""
    if alive:
        xs, ys = zip(*alive)
        ax.scatter(xs, ys, s=size ** 2, c=P.BLACK, zorder=3, gid="replib-small-nodes")
    if down:
        xs, ys = zip(*down)
        ax.scatter(xs, ys, s=size ** 2, c="white", edgecolors=P.DOWN, linewidths=1.0, zorder=3,
                   gid="replib-small-failed")
        ax.plot(xs, ys, linestyle="none", marker="x", markersize=size * 0.8,
                markeredgewidth=1.5, color=P.MUTED, zorder=4)


def _set(q):
    return "{" + ", ".join(q) + "}"


def draw_quorums(nodes=5, q1=None, q2=None, failed=(), limit: int = 10, title=None):
    """Draw every quorum of q1 and q2 nodes (None: a majority) and a telling pair of them;
    return the matplotlib Figure, with ``fig.alt_text``.

    nodes: a number (the nodes are n1, n2, ...) or a list of names, at most 12.
    failed: names (or one string "n2, n4"); limit: how many small panels per quorum size
    (the last one says how many more there are; available quorums come first).  Bad input
    is a ValueError from ``replib.experiments.partitions.quorum_report``."""
    report = quorum_report(nodes, q1, q2, failed)
    whole_number("limit", limit, 1, 40)
    if len(report.nodes) > MAX_DRAWN:
        raise ValueError(f"draw_quorums draws at most {MAX_DRAWN} nodes (more would not be "
                         f"readable), got {len(report.nodes)}; quorum_report counts more")
    names, failed = report.nodes, set(report.failed)
    graph = nx.Graph()
    graph.add_nodes_from(names)
    circle = dict(zip(names, _circle(len(names))))

    blocks = [(1, report.phase1, report.available1)]
    if not report.same:
        blocks.append((2, report.phase2, report.available2))
    # available quorums first (each group in the order of the nodes)
    blocks = [(phase, tuple(q for q in qs if q in ok) + tuple(q for q in qs if q not in ok), ok)
              for phase, qs, ok in blocks]
    shown = [min(len(qs), limit) for _, qs, _ in blocks]
    rows = [math.ceil(k / COLUMNS) for k in shown]
    cell_w, cell_h, head = 1.1, 1.45, 0.42
    big, caption_h = 4.2, 0.7
    top, bottom = 0.6, 0.75
    fig_h = max(big + caption_h, sum(head + r * cell_h for r in rows)) + top + bottom
    fig_w = big + 0.5 + COLUMNS * cell_w + 0.2
    fig = Figure(figsize=(fig_w, fig_h), dpi=DPI, facecolor="white")
    # one axes over the whole figure, in inches: much quicker than an axes per panel
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, fig_w)
    ax.set_ylim(0, fig_h)
    ax.set_axis_off()
    unit = 2 * 1.42          # a panel spans the unit circle plus room for the outlines

    # the telling pair, large
    scale = big / unit
    centre = (0.15 + big / 2, fig_h - top - caption_h - big / 2)
    pos = _place(circle, centre, scale)
    first, second = report.pair
    _draw_quorum(ax, pos, first, 1, scale)
    _draw_quorum(ax, pos, second, 2, scale)
    _draw_big_nodes(ax, graph, pos, failed)
    shared = [x for x in first if x in second]
    if report.safe:
        least = report.q1 + report.q2 - len(names)
        caption = (f"every pair shares at least {least} node{'s' if least > 1 else ''};\n"
                   f"these two share {', '.join(shared)}")
    else:
        caption = "these two share no node:\nboth can act, unaware of each other"
    ax.text(centre[0], fig_h - top - 0.1, caption, ha="center", va="top",
            fontsize=P.FONT["label"] + 1, fontweight="bold",
            color=P.BLACK if report.safe else P.VERMILLION)

    # every quorum, small
    small_alive, small_down = [], []
    y = fig_h - top
    x0 = big + 0.5
    scale = (cell_w - 0.12) / unit
    for (phase, qs, available), k, r in zip(blocks, shown, rows):
        label = (f"All {len(qs)} quorums of {report.q1} (both phases): {len(available)} available"
                 if report.same else
                 f"Phase-{phase} quorums of {report.q1 if phase == 1 else report.q2}: "
                 f"{len(qs)}, {len(available)} available")
        ax.text(x0, y - 0.08, label, fontsize=P.FONT["label"] + 1, fontweight="bold",
                va="top", ha="left")
        y -= head
        for i in range(k):
            row, col = divmod(i, COLUMNS)
            centre = (x0 + col * cell_w + (cell_w - 0.12) / 2,
                      y - row * cell_h - 0.3 - (cell_w - 0.12) / 2)
            more = len(qs) - k
            if i == k - 1 and more > 0:
                ax.text(*centre, f"+{more + 1}\nmore", ha="center", va="center",
                        fontsize=P.FONT["label"] + 1, color=P.MUTED)
                continue
            ok = qs[i] in available
            pos = _place(circle, centre, scale)
            _draw_quorum(ax, pos, qs[i], phase, scale, ok)
            small_alive += [pos[x] for x in names if x not in failed]
            small_down += [pos[x] for x in names if x in failed]
            ax.text(centre[0], y - row * cell_h - 0.06, "available" if ok else "unavailable",
                    ha="center", va="top", fontsize=P.FONT["label"],
                    color=P.BLACK if ok else P.MUTED, style="normal" if ok else "italic")
        y -= r * cell_h
    _draw_small_nodes(ax, small_alive, small_down)

    items = [Patch(facecolor=_tint(P.BLUE, 0.35), edgecolor=P.BLUE, linewidth=2,
                   label=f"phase-1 quorum ({report.q1})"),
             Patch(facecolor=_tint(P.VERMILLION, 0.35), edgecolor=P.VERMILLION, hatch="//",
                   linewidth=2, linestyle=(0, (4.0, 2.0)), label=f"phase-2 quorum ({report.q2})"),
             Patch(facecolor=_tint(P.DOWN, 0.35), edgecolor=P.DOWN, label="needs a failed node")]
    if failed:
        items.append(Line2D([], [], linestyle="none", marker="o", markersize=13,
                            markerfacecolor="white", markeredgecolor=P.DOWN,
                            markeredgewidth=2, label="failed node"))
    ax.legend(handles=items, loc="lower left", bbox_to_anchor=(0.15 / fig_w, 0.05 / fig_h),
              ncol=len(items), fontsize=P.FONT["legend"], frameon=False)
    if title is None:
        title = (f"{len(names)} nodes, q1 = {report.q1}, q2 = {report.q2}: "
                 f"{'safe' if report.safe else 'NOT safe'}, "
                 f"{'live' if report.live else 'not live'}")
    ax.text(0.15, fig_h - 0.12, title, fontsize=P.FONT["title"], fontweight="bold",
            va="top", ha="left")
    fig.alt_text = _describe(report, shown)
    return fig


def _describe(report, shown) -> str:
    n = len(report.nodes)
    first, second = report.pair
    text = (f"Quorums of {n} node{'s' if n != 1 else ''} ({', '.join(report.nodes)}) on a "
            f"circle: phase 1 needs {report.q1}, phase 2 needs {report.q2}. ")
    text += f"Failed: {', '.join(report.failed)}. " if report.failed else "No node failed. "
    if report.safe:
        shared = [x for x in first if x in second]
        text += (f"Large panel: the phase-1 quorum {_set(first)} and the phase-2 quorum "
                 f"{_set(second)} share {_set(shared)}; every such pair shares at least "
                 f"{_nodes(report.q1 + report.q2 - n)}. ")
    else:
        text += (f"Large panel: the phase-1 quorum {_set(first)} and the phase-2 quorum "
                 f"{_set(second)} share no node; {report.disjoint} pairs do not intersect. ")
    blocks = [("quorums (both phases)", report.phase1, report.available1)] if report.same else [
        ("phase-1 quorums", report.phase1, report.available1),
        ("phase-2 quorums", report.phase2, report.available2)]
    for (what, qs, ok), k in zip(blocks, shown):
        drawn = "all drawn" if k == len(qs) else f"{k - 1} drawn, available ones first"
        text += f"Small panels: {len(qs)} {what} ({drawn}), {len(ok)} available. "
    return text + ("Both phases can complete." if report.live
                   else "Some phase has no available quorum, so nothing can be decided now.")
