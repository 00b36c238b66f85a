"""A client history on a timeline, and the verdict of the linearizability check on it.

    from replib import history
    show(history.draw(history.linearizable(h)))       # or draw_history(h): checks it first

One row per client, one bar per operation from its invocation to its response, labelled
with what it did ("write 1", "read 2", "cas 1→4", "cas 1→4 failed").  An operation that was
never answered runs on to the right edge, hatched, with "?".  When the check rejects the
history, the drawing shows the shortest prefix that cannot be linearized: the operations
invoked up to the cut (a dashed line at the culprit's answer), the blamed operation in
vermillion with a heavy outline and "blamed" in its label, operations still unanswered at
the cut faded, and the explanation under the timeline.  Labels are measured and stacked so
that none overlaps another or leaves the figure.
"""

from __future__ import annotations

import re
import textwrap

from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from . import palette as P

DPI = 100
WIDTH = 10.0                  # inches
LEFT, RIGHT = 1.0, 0.35       # margins for client names, and on the right
LINE = 0.25                   # inches per line of label text
HALF_BAR = 0.09               # half the height of an operation's bar
COLOURS = {"write": P.BLUE, "read": P.BLUISH_GREEN, "cas": P.ORANGE}


def draw_history(result_or_history, *, initial=None, title=None, limit=40) -> Figure:
    """The history (or the history a ``Result`` was computed from) on a timeline, with the
    blamed operation marked when the check rejects it.

    A history is checked first: with ``linearizable``, or ``linearizable_kv`` when its
    operations name keys (``initial`` goes to the check).  At most ``limit`` operations are
    drawn: of a rejection, those of the failing prefix invoked last (the blamed one always
    among them); of a linearizable history, the first.  Returns a Figure with
    ``fig.alt_text``; show it with ``replib.viz.show``."""
    from .. import history as H

    if isinstance(result_or_history, H.Result):
        result = result_or_history
        if result.history is None:
            raise ValueError("this Result does not carry its history; draw the history itself, "
                             "or a Result from linearizable() / linearizable_kv()")
        ops = result.history
    else:
        ops = H._operations(result_or_history)
        kv = any(H._shape(x.op)[0] == "kv" for x in ops)
        result = (H.linearizable_kv if kv else H.linearizable)(ops, initial)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"limit must be an integer >= 1 (operations drawn), got {limit!r}")
    if not ops:
        raise ValueError("the history is empty: there is nothing to draw")

    culprit = None if result.ok else result.culprit
    cut = culprit.response if culprit is not None else None
    shown = [x for x in ops if cut is None or x.invoke <= cut]
    if len(shown) > limit:
        if cut is None:
            keep = sorted(shown, key=lambda x: x.invoke)[:limit]
        else:
            keep = sorted(shown, key=lambda x: (x is not culprit, -x.invoke))[:limit]
        kept = {id(x) for x in keep}
        shown = [x for x in shown if id(x) in kept]
    hidden = len(ops) - len(shown)

    # time axis: answered operations end at their response, the others at the right edge
    ends = [x.response for x in shown if x.response is not None] + [x.invoke for x in shown]
    start, stop = min(x.invoke for x in shown), max(ends)
    span = (stop - start) or 1.0
    edge = stop + 0.12 * span                 # where unanswered operations run to
    x_lo, x_hi = start - 0.03 * span, edge + 0.02 * span
    px_per_unit = (WIDTH - LEFT - RIGHT) * DPI / (x_hi - x_lo)

    clients = list(dict.fromkeys(x.client for x in shown))
    if all(type(c) is int for c in clients) or all(type(c) is str for c in clients):
        clients.sort(key=_natural)            # c1, c2, ..., c10; Jepsen's 0, 1, 2, ...
    font = FontProperties(size=P.FONT["note"])
    bold = FontProperties(size=P.FONT["note"], weight="bold")
    measure = RendererAgg(10, 10, DPI)

    bars, rows = [], {c: [] for c in clients}
    for x in shown:
        kind = x.op[0]
        end = x.response if x.response is not None else edge
        label = _label(x) + (" · blamed" if x is culprit else "")
        prop = bold if x is culprit else font
        width = measure.get_text_width_height_descent(label, prop, ismath=False)[0] / px_per_unit
        centre = min(max((x.invoke + end) / 2, x_lo + width / 2), x_hi - width / 2)
        bar = dict(op=x, kind=kind, end=end, label=label, prop=prop, left=centre - width / 2,
                   right=centre + width / 2, centre=centre,
                   late=cut is not None and (x.response is None or x.response > cut))
        bars.append(bar)
        rows[x.client].append(bar)

    # labels: the first level free of overlap, alternating above and below the bar
    pad = 6 / px_per_unit
    levels_of = {}
    for c, row in rows.items():
        right_edges: list = []
        for bar in sorted(row, key=lambda b: b["left"]):
            level = next((k for k, r in enumerate(right_edges) if bar["left"] > r + pad),
                         len(right_edges))
            if level == len(right_edges):
                right_edges.append(bar["right"])
            right_edges[level] = bar["right"]
            bar["level"] = level
        levels_of[c] = len(right_edges)
    header = 0.35                             # room for the cut's label
    y, centres = header, {}
    for c in clients:
        above, below = (levels_of[c] + 1) // 2, levels_of[c] // 2
        y += HALF_BAR + 0.05 + above * LINE
        centres[c] = y
        y += HALF_BAR + 0.05 + below * LINE + 0.12
    rows_height = y
    explanation = textwrap.wrap(result.explanation, 105)
    bottom = 0.55 + 0.22 * (len(explanation) + (1 if hidden else 0)) + 0.2
    top = 0.45 if title else 0.1
    height = top + rows_height + bottom
    fig = Figure(figsize=(WIDTH, height), dpi=DPI, facecolor="white")
    ax = fig.add_axes((LEFT / WIDTH, bottom / height, (WIDTH - LEFT - RIGHT) / WIDTH,
                       rows_height / height))
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(rows_height, 0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.grid(True, axis="x", color="#DDDDDD", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="x", labelsize=P.FONT["tick"])
    ax.set_yticks([centres[c] for c in clients], [str(c) for c in clients],
                  fontsize=P.FONT["lane"])
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("time", fontsize=P.FONT["legend"] + 1)

    for bar in bars:
        x, c = bar["op"], bar["op"].client
        blamed = x is culprit
        answered = x.response is not None
        ax.barh(centres[c], bar["end"] - x.invoke, left=x.invoke, height=2 * HALF_BAR,
                color=P.VERMILLION if blamed else COLOURS[bar["kind"]],
                alpha=0.35 if bar["late"] or not answered else 1.0,
                hatch=None if answered else "//", edgecolor=P.BLACK,
                linewidth=2.6 if blamed else 0.8, zorder=3 if blamed else 2)
        k = bar["level"]
        offset = HALF_BAR + 0.03 + (k // 2 + 0.5) * LINE
        ax.text(bar["centre"], centres[c] + (offset if k % 2 else -offset), bar["label"],
                ha="center", va="center", fontproperties=bar["prop"],
                color=P.VERMILLION if blamed else P.BLACK, zorder=4,
                bbox=dict(facecolor="white", edgecolor="none", pad=0.5, alpha=0.9))
    if cut is not None:                       # under the labels, below its own
        ax.plot([cut, cut], [0.75 * header, rows_height], color=P.VERMILLION,
                linestyle=(0, (5.0, 2.2)), linewidth=1.6, zorder=1)
        label = f"cut: t={cut:g}"
        width = measure.get_text_width_height_descent(label, font, ismath=False)[0] / px_per_unit
        ax.text(min(max(cut, x_lo + width / 2), x_hi - width / 2), header / 2, label,
                ha="center", va="center", fontproperties=font, color=P.VERMILLION)
    if title:
        fig.text(LEFT / WIDTH, 1 - 0.25 / height, title, ha="left", va="center",
                 fontsize=P.FONT["title"], fontweight="bold")
    notes = explanation + ([f"({hidden} later operations not drawn)" if cut is not None
                            else f"({hidden} operations not drawn)"] if hidden else [])
    for n, line in enumerate(notes):
        fig.text(LEFT / WIDTH, (0.2 + 0.22 * (len(notes) - 1 - n)) / height, line, ha="left",
                 va="bottom", fontsize=P.FONT["note"],
                 color=P.VERMILLION if culprit is not None and n < len(explanation) else P.BLACK)
    fig.alt_text = _alt_text(result, shown, clients, culprit, cut, hidden)
    return fig


def _natural(name):
    """Sort key that puts c2 before c10."""
    if isinstance(name, int):
        return ((0, name),)
    return tuple((0, int(part)) if part.isdigit() else (1, part)
                 for part in re.split(r"(\d+)", name) if part)


def _label(x) -> str:
    """What the operation did, in a few words: write 1, read 2, cas 1→4 failed, write 3 ?"""
    kind, args = x.op[0], list(x.op[1:])
    key = ""
    if len(args) == {"read": 1, "write": 2, "cas": 3}[kind]:
        key, args = f"{_short(args[0])}: ", args[1:]
    answered = x.response is not None
    if kind == "read":
        what = f"read {_short(x.result)}" if answered and x.result != "fail" else "read"
    elif kind == "write":
        what = f"write {_short(args[0])}"
    else:
        what = f"cas {_short(args[0])}→{_short(args[1])}"
    if not answered:
        return f"{key}{what} ?"
    if x.result == "fail":
        return f"{key}{what} failed"
    if kind != "read" and x.result != "ok":
        return f"{key}{what} ({_short(x.result)})"
    return key + what


def _short(value) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 10 else text[:9] + "…"


def _alt_text(result, shown, clients, culprit, cut, hidden) -> str:
    from ..history import _show

    parts = [f"Timeline of a history of {len(shown)} operations by {len(clients)} clients "
             f"({', '.join(map(str, clients))}), one row per client, each operation a bar "
             f"from its invocation to its response."]
    if hidden:
        parts.append(f"{hidden} {'later ' if cut is not None else ''}operations are not drawn.")
    if culprit is None:
        parts.append(f"The check says: {result.explanation}.")
    else:
        parts.append(f"The check says: {result.explanation}. The blamed operation, "
                     f"{_show(culprit)}, is drawn in vermillion with a heavy outline; a dashed "
                     f"line at t={cut:g} ends the shortest prefix that cannot be linearized.")
    unanswered = [x for x in shown if x.response is None]
    if unanswered:
        parts.append(f"{len(unanswered)} operations were never answered: their bars run to "
                     f"the right edge, hatched.")
    return " ".join(parts)
