"""Topology pictures: who can talk to whom right now.

Nodes are coloured by role; a partition draws each side inside its own tinted outline and
crosses out the links between sides; a crashed node is hollow, grey and crossed.  The
layout is fixed (nodes on a circle, sides of a partition as separate clusters), so the same
system looks the same in every chapter and every run.
"""

from __future__ import annotations

import math

import networkx as nx
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from ..node import Node
from ..trace import Trace
from . import palette as P
from .sequence import DPI, _compact, text_width_pt


def _ids_and_roles(nodes):
    """Accept a list of ids or Nodes, a dict id -> Node, a Trace, or a Simulation."""
    if isinstance(nodes, Trace):
        return list(nodes.nodes), dict(nodes.roles)
    inner = getattr(nodes, "nodes", None)
    if isinstance(inner, dict) and not isinstance(nodes, dict):    # a Simulation
        nodes = inner
    if isinstance(nodes, dict):
        nodes = list(nodes.values()) if all(isinstance(v, Node) for v in nodes.values()) \
            else list(nodes)
    if isinstance(nodes, str):
        raise ValueError(f"nodes must be a list of node ids, got the string {nodes!r}")
    try:
        nodes = list(nodes)
    except TypeError:
        raise ValueError(f"nodes must be a list of node ids, a Trace or a Simulation, "
                         f"got {nodes!r}") from None
    ids, roles = [], {}
    for n in nodes:
        if isinstance(n, Node):
            ids.append(n.id)
            roles[n.id] = type(n).__name__
        elif isinstance(n, str) and n:
            ids.append(n)
        else:
            raise ValueError(f"node ids must be non-empty strings, got {n!r}")
    if not ids:
        raise ValueError("topology needs at least one node")
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"duplicate node id(s) {dup}")
    return ids, roles


def _check_known(ids, names, what):
    unknown = [n for n in names if n not in ids]
    if unknown:
        raise ValueError(f"{what} names unknown node(s) {unknown}; nodes are {list(ids)}")


def _normalise_groups(ids, groups):
    """Groups as tuples; nodes named in no group form one more group (as Network does)."""
    if not groups:
        return ()
    groups = [(g,) if isinstance(g, str) else tuple(g) for g in groups]
    seen = {}
    for number, g in enumerate(groups):
        if not g:
            raise ValueError("partition groups must not be empty")
        _check_known(ids, g, "groups")
        for node in g:
            if node in seen:
                raise ValueError(f"groups overlap: {node!r} is in group {seen[node] + 1} and "
                                 f"group {number + 1}")
            seen[node] = number
    rest = tuple(n for n in ids if n not in seen)
    if rest:
        groups.append(rest)
    return tuple(groups) if len(groups) > 1 else ()


def _circle(k, radius=1.0, centre=(0.0, 0.0), start=90.0):
    """k points on a circle, the first at the top, going clockwise."""
    if k == 1:
        return [centre]
    return [(centre[0] + radius * math.cos(math.radians(start - 360 * i / k)),
             centre[1] + radius * math.sin(math.radians(start - 360 * i / k))) for i in range(k)]


def _layout(ids, groups, graph, seed):
    """Deterministic positions: a circle, or one small circle per side of a partition."""
    if groups:
        g = len(groups)
        centres = [(-1.15, 0.0), (1.15, 0.0)] if g == 2 else _circle(g, 1.4)
        pos = {}
        for centre, group in zip(centres, groups):
            r = 0.0 if len(group) == 1 else min(0.62, 0.3 + 0.08 * len(group))
            for node, p in zip(group, _circle(len(group), r, centre)):
                pos[node] = p
        return pos
    if len(ids) <= 12:
        return dict(zip(ids, _circle(len(ids))))
    return nx.spring_layout(graph, seed=seed)


def _hull(points):
    """Convex hull (monotone chain), counter-clockwise."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _tint(colour, amount=0.22):
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return (1 - amount + amount * r, 1 - amount + amount * g, 1 - amount + amount * b)


def _state_text(value, limit=26) -> str:
    if isinstance(value, dict):
        lines = [f"{k}={_compact(v)}" for k, v in value.items()]
    else:
        lines = str(value).splitlines() or [""]
    return "\n".join(ln if len(ln) <= limit else ln[: limit - 1] + "…" for ln in lines[:4])


def topology(nodes, roles=None, states=None, groups=None, crashed=(), edges=None, seed=0,
             ax=None, title=None, cuts=()):
    """Draw who can talk to whom, and return the matplotlib Figure (with ``fig.alt_text``).

    nodes: node ids, a Trace, a Simulation (ids and roles are read from it).
    roles: id -> role name (default: the node classes); nodes are coloured by role.
    states: id -> short text (or a dict of fields) shown under the node.
    groups: a partition, e.g. (("client",), ("server", "replica")); nodes named in no group
    form one more group.  Links between groups are drawn crossed out.
    crashed: ids of crashed nodes (drawn hollow and crossed).  edges: the links to draw
    (default: every pair).  cuts: one-way cuts (src, dst), crossed out near dst.
    seed: used only by the spring layout of very large systems.
    """
    ids, found_roles = _ids_and_roles(nodes)
    roles = dict(found_roles if roles is None else roles)
    _check_known(ids, roles, "roles")
    states = {} if states is None else dict(states)
    _check_known(ids, states, "states")
    if isinstance(crashed, str):
        crashed = (crashed,)
    crashed = set(crashed or ())
    _check_known(ids, crashed, "crashed")
    groups = _normalise_groups(ids, groups)
    cuts = [tuple(c) for c in (cuts or ())]
    for c in cuts:
        if len(c) != 2:
            raise ValueError(f"a cut is a pair (src, dst), got {c!r}")
        _check_known(ids, c, "cuts")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")

    graph = nx.Graph()
    graph.add_nodes_from(ids)
    if edges is None:
        graph.add_edges_from((a, b) for i, a in enumerate(ids) for b in ids[i + 1:])
    else:
        for e in edges:
            if len(tuple(e)) != 2:
                raise ValueError(f"an edge is a pair of node ids, got {e!r}")
            _check_known(ids, e, "edges")
            graph.add_edge(*e)
    pos = _layout(ids, groups, graph, seed)
    side = {n: i for i, g in enumerate(groups) for n in g}

    # sizes: every node is a circle wide enough for the longest id
    id_size = 12
    diameter = max(44.0, max(text_width_pt(i, id_size) for i in ids) * 1.12 + 16)
    state_lines = max([_state_text(v).count("\n") + 1 for v in states.values()] + [0])
    xs, ys = zip(*pos.values())
    unit = 72 * 1.9                          # points per layout unit (about 1.9 in/unit)
    radius = diameter / 2 / unit
    outline = (diameter + 32 + 8 * state_lines) / 2 / unit if groups else 0.0
    below = [pos[n][1] - max(radius + 0.05 + (0.14 if n in crashed else 0)
                             + (0.15 * (_state_text(states[n]).count("\n") + 1) + 0.04
                                if n in states else 0), outline) for n in ids]
    pad = 0.08
    reach = max(radius, outline)
    xlim = (min(xs) - reach - pad - 0.05, max(xs) + reach + pad + 0.05)
    ylim = (min(below) - pad, max(ys) + reach + pad + (0.12 if groups else 0))
    if ax is None:
        # size the figure to the drawing, so there is no empty band above or below it
        data_w, data_h = xlim[1] - xlim[0], ylim[1] - ylim[0]
        axes_w = min(7.2, max(5.2, 1.9 * data_w))       # about 1.9 inches per unit
        axes_h = min(5.5, max(2.4, axes_w * data_h / data_w))
        fig_w = axes_w + 0.3
        top, bottom = (0.55 if title else 0.2), 0.55
        fig_h = axes_h + top + bottom
        fig = Figure(figsize=(fig_w, fig_h), dpi=DPI, facecolor="white")
        ax = fig.add_axes((0.15 / fig_w, bottom / fig_h, axes_w / fig_w, axes_h / fig_h))
    else:
        fig = ax.figure
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.apply_aspect()            # settle the box now: outlines are sized in points below
    ax.set_axis_off()

    # sides of a partition: a tinted outline around each group
    to_px = ax.transData.transform
    px_per_unit = abs(to_px((1, 0))[0] - to_px((0, 0))[0])
    pt_per_unit = px_per_unit * 72 / fig.dpi
    outline_pt = diameter + 2 * 16 + 8 * state_lines   # stroke width that wraps the nodes
    for i, group in enumerate(groups):
        colour = P.TINTS[i % len(P.TINTS)]
        tint = _tint(colour)
        hull = _hull([pos[n] for n in group])
        if len(hull) == 1:
            ax.plot(*zip(*hull), marker="o", markersize=outline_pt, color=tint,
                    markeredgecolor=colour, markeredgewidth=1.5, zorder=0, gid="replib-side")
        elif len(hull) == 2:
            ax.plot(*zip(*hull), linewidth=outline_pt, color=tint, solid_capstyle="round",
                    zorder=0, gid="replib-side")
        else:
            ax.add_patch(Polygon(hull, closed=True, facecolor=tint, edgecolor=tint,
                                 linewidth=outline_pt, joinstyle="round", zorder=0,
                                 gid="replib-side"))
        top = max(pos[n][1] for n in group)
        cx = sum(pos[n][0] for n in group) / len(group)
        ax.text(cx, top + (outline_pt / 2) / pt_per_unit - 0.02, f"side {i + 1}",
                ha="center", va="top", fontsize=P.FONT["note"], color=P.MUTED, zorder=0.5)

    # links: normal, crossed out (partition or cut), or faded (to a crashed node)
    normal, broken, faded = [], [], []
    for a, b in graph.edges():
        if side and side[a] != side[b]:
            broken.append((a, b))
        elif a in crashed or b in crashed:
            faded.append((a, b))
        else:
            normal.append((a, b))
    cut_set = set(cuts)
    normal = [e for e in normal if e not in cut_set and e[::-1] not in cut_set]
    nx.draw_networkx_edges(graph, pos, edgelist=normal, ax=ax, edge_color=P.LANE, width=2.0,
                           node_size=diameter ** 2)
    if faded:
        nx.draw_networkx_edges(graph, pos, edgelist=faded, ax=ax, edge_color=P.DOWN, width=1.6,
                               style=":", node_size=diameter ** 2)
    crosses = []
    if broken:
        nx.draw_networkx_edges(graph, pos, edgelist=broken, ax=ax, edge_color=P.DOWN,
                               width=1.6, style="--", node_size=diameter ** 2)
        crosses += [((pos[a][0] + pos[b][0]) / 2, (pos[a][1] + pos[b][1]) / 2) for a, b in broken]
    for src, dst in cuts:
        if side and side[src] != side[dst]:
            continue
        ax.plot(*zip(pos[src], pos[dst]), color=P.DOWN, linewidth=1.6, linestyle="--", zorder=1)
        f = 0.7   # the cross sits near the receiver: dst hears nothing from src
        crosses.append((pos[src][0] + f * (pos[dst][0] - pos[src][0]),
                        pos[src][1] + f * (pos[dst][1] - pos[src][1])))
    if crosses:
        cx, cy = zip(*crosses)
        ax.plot(cx, cy, linestyle="none", zorder=2, gid="replib-cut-links", **P.MARKERS["drop"])

    # nodes
    fills = [("white" if n in crashed else P.role_color(roles.get(n))) for n in ids]
    edges_c = [(P.DOWN if n in crashed else P.BLACK) for n in ids]
    coll = nx.draw_networkx_nodes(graph, pos, nodelist=ids, ax=ax, node_size=diameter ** 2,
                                  node_color=fills, edgecolors=edges_c, linewidths=2.0)
    coll.set_gid("replib-nodes")
    coll.set_zorder(3)
    for n in ids:
        x, y = pos[n]
        down = n in crashed
        colour = P.MUTED if down else P.text_color_on(P.role_color(roles.get(n)))
        ax.text(x, y, n, ha="center", va="center", fontsize=id_size, fontweight="bold",
                color=colour, zorder=4.5)
        if down:     # a light cross behind the id, so the id stays readable
            ax.plot([x], [y], marker="x", markersize=diameter * 0.7, markeredgewidth=3,
                    color=P.DOWN, zorder=4, gid="replib-crashed")
        below = y - (diameter / 2 + 4) / pt_per_unit
        if down:
            ax.text(x, below, "crashed", ha="center", va="top", fontsize=P.FONT["note"],
                    color=P.MUTED, style="italic", zorder=4)
            below -= 0.17
        if n in states:
            ax.text(x, below, _state_text(states[n]), ha="center", va="top",
                    fontsize=P.FONT["note"], zorder=4, linespacing=1.15,
                    bbox=dict(boxstyle="round,pad=0.25", facecolor="white", alpha=0.9,
                              edgecolor=P.DOWN))

    # legend: roles present, then the marks used
    items = []
    for role in dict.fromkeys(roles.get(n) for n in ids):
        if role:
            items.append(Patch(facecolor=P.role_color(role), edgecolor=P.BLACK, label=role))
    if crashed:
        items.append(Line2D([], [], linestyle="none", marker="o", markersize=13,
                            markerfacecolor="white", markeredgecolor=P.DOWN,
                            markeredgewidth=2, label="crashed"))
    if crosses:
        items.append(Line2D([], [], color=P.DOWN, linestyle="--", marker="x", markersize=10,
                            markeredgecolor=P.VERMILLION, markeredgewidth=2.5,
                            label="link cut"))
    if items:
        fig_h = fig.get_size_inches()[1]
        below = 0.08 / (ax.get_position().height * fig_h)
        ax.legend(handles=items, loc="upper center", bbox_to_anchor=(0.5, -below),
                  ncol=min(len(items), 5), fontsize=P.FONT["legend"], frameon=False,
                  handlelength=1.6, columnspacing=1.2)
    if title:
        ax.set_title(title, loc="left", fontsize=P.FONT["title"], fontweight="bold")
    fig.alt_text = _describe(ids, roles, states, groups, crashed, cuts, graph, edges is None)
    return fig


def _describe(ids, roles, states, groups, crashed, cuts, graph, complete) -> str:
    def name(n):
        role = roles.get(n)
        return n if not role or role.lower() == n.lower() else f"{n} ({role})"

    text = f"Topology of {len(ids)} node{'s' if len(ids) != 1 else ''}: " + \
        ", ".join(name(n) for n in ids) + "."
    if not complete:
        text += f" {graph.number_of_edges()} links are drawn."
    if groups:
        text += (" The network is partitioned into " +
                 " and ".join("{" + ", ".join(g) + "}" for g in groups) +
                 "; links between the groups are cut.")
    elif complete and len(ids) > 1:
        text += " Every node can reach every other."
    if crashed:
        down = [n for n in ids if n in crashed]
        text += f" Crashed: {', '.join(down)}."
    if cuts:
        text += " One-way cuts: " + ", ".join(f"{d} hears nothing from {s}" for s, d in cuts) + "."
    if states:
        text += " States: " + "; ".join(
            f"{n}: {_state_text(states[n], 60).replace(chr(10), ', ')}" for n in ids
            if n in states) + "."
    return text


def topology_of(sim, **kwargs):
    """The topology of a running Simulation right now: roles from the node classes, crashed
    nodes, the current partition and one-way cuts."""
    nodes = getattr(sim, "nodes", None)
    network = getattr(sim, "network", None)
    if not isinstance(nodes, dict) or network is None:
        raise ValueError(f"topology_of takes a Simulation, got {sim!r}")
    order = list(nodes)
    kwargs.setdefault("crashed", [n for n in order if n in sim.crashed])
    kwargs.setdefault("groups", network.partition_groups())
    kwargs.setdefault("cuts", sorted(network.cuts, key=lambda c: (order.index(c[0]),
                                                                    order.index(c[1]))))
    return topology(sim, **kwargs)
