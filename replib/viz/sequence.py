"""Space-time diagrams: one lane per node, time left to right, an arrow per message.

This is the picture every chapter reads a run from, and the trace player redraws it at
every slider position, so it is built for speed: the trace is first turned into a plain
*scene* (arrows, markers, spans, all in data coordinates), then drawn with a handful of
collections instead of one artist per message.  Labels are placed greedily and skipped
where they would pile on top of each other; the legend, colours and the meaning of every
mark stay the same from one frame to the next.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator, NullLocator
from matplotlib.transforms import blended_transform_factory

from ..state import FrozenDict, FrozenList, FrozenSet
from ..trace import Trace
from . import palette as P

DPI = 100           # figures are drawn at a fixed dpi so their PNG bytes do not depend on rc
LANE_PITCH = 1.1    # inches between lanes (a bit less when there are many)
HEADER = 0.55       # inches above the top lane for partition / heal / "now" notes


# ---- short text for labels ----------------------------------------------------------------
def _compact(value, depth: int = 0) -> str:
    """A value as short text: strings unquoted, containers without spaces."""
    if depth > 3:
        return "…"
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, FrozenDict) or isinstance(value, dict):
        items = value if isinstance(value, FrozenDict) else value.items()
        return "{" + ",".join(f"{_compact(k, depth + 1)}:{_compact(v, depth + 1)}"
                              for k, v in items) + "}"
    if isinstance(value, (FrozenSet, set, frozenset)):
        return "{" + ",".join(sorted(_compact(v, depth + 1) for v in value)) + "}"
    if isinstance(value, (FrozenList, list)):
        return "[" + ",".join(_compact(v, depth + 1) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ",".join(_compact(v, depth + 1) for v in value) + ")"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = ",".join(_compact(getattr(value, f.name), depth + 1)
                         for f in dataclasses.fields(value))
        return f"{type(value).__name__}({inner})"
    return repr(value)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def short_label(msg, src: str | None = None, dst: str | None = None, limit: int = 30) -> str:
    """A message as a compact label, e.g. ``Forward(1, (write,1))``.

    Fields that merely repeat the sender's or receiver's id are left out (the arrow already
    says who talks to whom); the text is cut to ``limit`` characters."""
    name = type(msg).__name__
    if not dataclasses.is_dataclass(msg):
        return _shorten(_compact(msg), limit)
    parts = []
    for f in dataclasses.fields(msg):
        v = getattr(msg, f.name)
        if isinstance(v, str) and v in (src, dst):
            continue
        parts.append(_compact(v))
    text = f"{name}({', '.join(parts)})" if parts else name
    return _shorten(text, limit)


def _op_text(op) -> str:
    """A client operation as a word or two: ('write', 1) -> 'write 1'."""
    if isinstance(op, tuple) and op and isinstance(op[0], str):
        return " ".join(_compact(x) for x in op)
    return _compact(op)


# ---- the scene: what to draw, in data coordinates -------------------------------------------
@dataclass
class Arrow:
    """One message copy's path: delivered, dropped or still in flight."""

    msg_id: int
    src: str
    dst: str
    msg: object
    t0: float
    t1: float             # where the drawn line ends (time)
    fate: str             # "delivered", "dropped", "in flight"
    send_step: int
    end_step: int | None = None
    copy: str | None = None     # None, "duplicate" (network copy) or "again" (redelivery)
    detail: str | None = None   # why it was dropped
    frac: float = 1.0           # how far toward the receiver's lane the line gets (0..1)


@dataclass
class Scene:
    """Everything the diagram shows, computed from a trace (no matplotlib here)."""

    nodes: tuple
    roles: dict
    upto: int | None
    now: float                   # time of the last shown event
    end: float                   # time of the last event of the whole trace
    nominal: float               # typical latency, for drawing lost and in-flight messages
    arrows: list = field(default_factory=list)
    down: list = field(default_factory=list)        # (node, start, stop or None, crash step)
    crashes: list = field(default_factory=list)     # (time, node, step)
    restarts: list = field(default_factory=list)    # (time, node, step)
    timers: list = field(default_factory=list)      # (time, node, timer, step)
    ops: list = field(default_factory=list)         # [node, op, t0, t1|None, result, steps]
    partitions: list = field(default_factory=list)  # (start, stop or None, groups, step)
    heals: list = field(default_factory=list)       # (time, step)
    cuts: list = field(default_factory=list)        # (time, src, dst, step)
    rules: list = field(default_factory=list)       # (time, text, step)
    msg_types: list = field(default_factory=list)   # types in the whole trace, first seen first
    kinds: set = field(default_factory=set)         # event kinds in the whole trace
    copies: bool = False          # does the whole trace deliver any message copy twice?
    in_flight_ever: bool = False  # can this picture show a message in flight?

    def lane(self, node) -> int:
        return len(self.nodes) - 1 - self.nodes.index(node)


def _as_trace(trace) -> Trace:
    if isinstance(trace, Trace):
        return trace
    inner = getattr(trace, "trace", None)
    if isinstance(inner, Trace):       # a Simulation
        return inner
    raise ValueError(f"expected a replib Trace (or a Simulation), got {trace!r}")


def _check_step(trace: Trace, value, name: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a step number (an int), got {value!r}")
    n = len(trace.steps)
    if not 0 <= value < n:
        raise ValueError(f"{name}={value} is out of range: this trace has {n} steps "
                         f"(0..{n - 1})" if n else f"{name}={value}: this trace has no steps")
    return int(value)


def build_scene(trace, upto=None) -> Scene:
    """Turn a trace (or its first steps, up to and including ``upto``) into a scene."""
    trace = _as_trace(trace)
    upto = _check_step(trace, upto, "upto")
    events = trace.events
    stop = len(events)
    if upto is not None and upto + 1 < len(trace.steps):
        stop = trace.steps[upto + 1]
    shown = events[:stop]
    nodes = tuple(trace.nodes)
    known = set(nodes)

    # whole-trace facts, so that colours, legend and axes stay put while a slider moves
    sent_at, latencies, msg_types, kinds = {}, [], {}, set()
    fates: dict[int, int] = {}
    for e in events:
        kinds.add(e.kind)
        if e.kind in ("send", "duplicate"):
            sent_at[e.msg_id] = e.time
            msg_types.setdefault(e.msg_type, None)
        elif e.kind in ("deliver", "drop") and e.msg_id in sent_at:
            fates[e.msg_id] = fates.get(e.msg_id, 0) + 1
            if e.kind == "deliver":
                latencies.append(e.time - sent_at[e.msg_id])
    end = trace.duration
    positive = sorted(x for x in latencies if x > 0)
    nominal = positive[len(positive) // 2] if positive else max(end / 20, 1.0)
    now = shown[-1].time if shown else 0.0

    scene = Scene(nodes, dict(trace.roles), upto, now, end, nominal,
                  msg_types=list(msg_types), kinds=kinds,
                  copies="duplicate" in kinds or any(n > 1 for n in fates.values()),
                  in_flight_ever=bool(sent_at) and (upto is not None or len(fates) < len(sent_at)))
    pending: dict[int, list] = {}    # msg_id -> [event, copy kind, fates seen]
    down_since: dict[str, tuple] = {}
    open_ops: dict[tuple, list] = {}
    part = None
    for e in shown:
        k = e.kind
        if k in ("send", "duplicate"):
            if e.node in known and e.peer in known:
                pending[e.msg_id] = [e, "duplicate" if k == "duplicate" else None, 0]
        elif k in ("deliver", "drop"):
            entry = pending.get(e.msg_id)
            if entry is None:
                continue
            send, copy, seen = entry
            entry[2] += 1
            if seen and copy is None:
                copy = "again"
            if k == "deliver":
                scene.arrows.append(Arrow(e.msg_id, send.node, send.peer, send.msg, send.time,
                                          e.time, "delivered", send.step, e.step, copy))
            else:
                scene.arrows.append(_dropped(send, e, copy, nominal))
        elif k == "crash" and e.detail is None and e.node in known:
            scene.crashes.append((e.time, e.node, e.step))
            down_since[e.node] = (e.time, e.step)
        elif k == "restart" and e.detail is None and e.node in known:
            scene.restarts.append((e.time, e.node, e.step))
            if e.node in down_since:
                start, step = down_since.pop(e.node)
                scene.down.append((e.node, start, e.time, step))
        elif k == "timer" and e.node in known:
            scene.timers.append((e.time, e.node, e.msg, e.step))
        elif k == "invoke" and e.node in known:
            op = [e.node, e.msg, e.time, None, None, [e.step]]
            open_ops[(e.node, e.msg)] = op
            scene.ops.append(op)
        elif k == "response":
            op = open_ops.pop((e.node, e.msg), None)
            if op is not None:
                op[3], op[4] = e.time, e.detail
                op[5].append(e.step)
        elif k == "partition":
            if part is not None:
                scene.partitions.append((part[0], e.time, part[1], part[2]))
            part = (e.time, tuple(tuple(g) for g in (e.msg or ())), e.step)
        elif k == "heal":
            if part is not None:
                scene.partitions.append((part[0], e.time, part[1], part[2]))
                part = None
            scene.heals.append((e.time, e.step))
        elif k == "cut" and e.node in known and e.peer in known:
            scene.cuts.append((e.time, e.node, e.peer, e.step))
        elif k == "drop-rule":
            text = re.sub(r" (at t=\S+|when a condition holds)$", "", e.detail or "drop rule")
            scene.rules.append((e.time, text, e.step))
    if part is not None:
        scene.partitions.append((part[0], None, part[1], part[2]))
    for node, (start, step) in down_since.items():
        scene.down.append((node, start, None, step))

    # messages with no fate yet: in flight at `now` (their real fate may lie in the future)
    future = {}
    for e in events[stop:]:
        if e.kind in ("deliver", "drop") and e.msg_id not in future:
            future[e.msg_id] = e.time
    for msg_id, (send, copy, seen) in pending.items():
        if seen:
            continue
        if msg_id in future:      # on its real path, cut at `now`
            span = max(future[msg_id] - send.time, 1e-9)
            frac = min(max((now - send.time) / span, 0.15), 0.9)
            t1 = send.time + frac * span
        else:                     # fate unknown: reach the `now` line, short of the lane
            t1 = max(now, send.time + 0.15 * nominal)
            frac = min(max((t1 - send.time) / nominal, 0.15), 0.9)
        scene.arrows.append(Arrow(msg_id, send.node, send.peer, send.msg, send.time, t1,
                                  "in flight", send.step, None, copy, frac=frac))
    return scene


def _dropped(send, drop, copy, nominal) -> Arrow:
    """Where a lost message's line ends: on the receiver's lane if it arrived at a node that
    was down, mid-way if it was lost in the network."""
    detail = drop.detail or "lost"
    if drop.time > send.time:
        frac = 1.0 if detail.endswith("is down") else (0.5 if detail == "dropped" else 0.85)
        t1 = drop.time
    else:   # lost as it was sent: draw a stub into the network
        frac, t1 = 0.45, send.time + 0.45 * nominal
    return Arrow(drop.msg_id, send.node, send.peer, send.msg, send.time, t1, "dropped",
                 send.step, drop.step, copy, detail, frac)


# ---- describing a trace in words (alt text) -------------------------------------------------
def _t(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def _list(items: list, limit: int = 5) -> str:
    if len(items) > limit:
        items = items[:limit] + [f"{len(items) - limit} more"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _node_list(scene: Scene) -> str:
    names = []
    for n in scene.nodes:
        role = scene.roles.get(n)
        names.append(n if not role or role.lower() == n.lower() else f"{n} ({role})")
    return _list(names, 8)


def _groups_text(groups) -> str:
    return " and ".join("{" + ", ".join(g) + "}" for g in groups)


def describe_scene(scene: Scene) -> str:
    """Plain-English summary of a scene (the figure's alt text)."""
    n = len(scene.nodes)
    head = (f"Space-time diagram of {n} node{'s' if n != 1 else ''} ({_node_list(scene)}), "
            f"time from t=0 to {_t(scene.end)}")
    if scene.upto is not None:
        head += f", showing steps 0 to {scene.upto} (up to t={_t(scene.now)})"
    parts = []
    delivered = [a for a in scene.arrows if a.fate == "delivered"]
    dropped = [a for a in scene.arrows if a.fate == "dropped"]
    flying = [a for a in scene.arrows if a.fate == "in flight"]
    if not scene.arrows:
        parts.append("no messages")
    else:
        counts: dict[str, int] = {}
        for a in delivered:
            name = type(a.msg).__name__
            counts[name] = counts.get(name, 0) + 1
        msg = f"{len(delivered)} message{'s' if len(delivered) != 1 else ''} delivered"
        if counts:
            msg += " (" + ", ".join(f"{c} {name}" for name, c in counts.items()) + ")"
        if dropped:
            reasons: dict[str, int] = {}
            for a in dropped:
                reasons[a.detail] = reasons.get(a.detail, 0) + 1
            msg += f", {len(dropped)} lost (" + ", ".join(
                f"{c} {r}" for r, c in reasons.items()) + ")"
        if flying:
            msg += f", {len(flying)} still in flight"
        parts.append(msg)
    events = []
    for t, node, _ in scene.crashes:
        events.append((t, f"{node} crashed at t={_t(t)}"))
    for t, node, _ in scene.restarts:
        events.append((t, f"{node} restarted at t={_t(t)}"))
    for start, stop, groups, _ in scene.partitions:
        text = f"the network was partitioned at t={_t(start)} into {_groups_text(groups)}"
        events.append((start, text + (f" until t={_t(stop)}" if stop is not None else "")))
    for t, src, dst, _ in scene.cuts:
        events.append((t, f"{dst} stopped hearing from {src} at t={_t(t)}"))
    for t, text, _ in scene.rules:
        events.append((t, f"fault rule at t={_t(t)}: {text}"))
    if events:
        events.sort(key=lambda x: x[0])
        parts.append(_list([text for _, text in events], 6))
    if scene.ops:
        by_client: dict[str, list] = {}
        for node, _op, t0, t1, _res, _ in scene.ops:
            by_client.setdefault(node, []).append(None if t1 is None else t1 - t0)
        for client, lats in by_client.items():
            done = [x for x in lats if x is not None]
            text = f"{client} completed {len(done)} of {len(lats)} operations"
            if done:
                lo, hi = min(done), max(done)
                text += f" (latency {_t(lo)})" if lo == hi else f" (latency {_t(lo)} to {_t(hi)})"
            parts.append(text)
    if scene.timers:
        parts.append(f"{len(scene.timers)} timer{'s' if len(scene.timers) != 1 else ''} fired")
    text = head + ": " + "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def describe(trace, upto=None) -> str:
    """A plain-English summary of a trace's space-time diagram, for alt text and screen readers."""
    return describe_scene(build_scene(trace, upto))


# ---- text extents without rendering (label collision avoidance) ------------------------------
@lru_cache(maxsize=None)
def _font(bold: bool):
    from matplotlib.font_manager import FontProperties, findfont, get_font
    return get_font(findfont(FontProperties(weight="bold" if bold else "normal")))


@lru_cache(maxsize=None)
def _advance(ch: str, bold: bool = False) -> float:
    """Advance width of a character in em (DejaVu Sans, matplotlib's default font)."""
    from matplotlib.ft2font import LoadFlags
    font = _font(bold)
    font.set_size(100, 72)
    try:
        glyph = font.load_char(ord(ch), flags=LoadFlags.NO_HINTING)
    except (RuntimeError, ValueError):
        return 0.6
    return glyph.linearHoriAdvance / 65536 / 100


def text_width_pt(text: str, size: float, bold: bool = False) -> float:
    """Rendered width of one line of text, in points (kerning aside)."""
    return sum(_advance(c, bold) for c in text) * size


@lru_cache(maxsize=None)
def _glyph(ch: str, bold: bool):
    """The outline of one character at 1 pt, as (vertices, codes)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    if ch.isspace():
        return None
    try:
        tp = TextPath((0, 0), ch, size=100, prop=FontProperties(
            weight="bold" if bold else "normal"))
    except (AttributeError, ValueError, RuntimeError):   # a character with no outline
        return None
    if len(tp.vertices) == 0:
        return None
    codes = tp.codes if tp.codes is not None else np.full(len(tp.vertices), 2, np.uint8)
    return tp.vertices / 100.0, codes


class _Ink:
    """Text drawn as glyph outlines, all in one collection.

    Matplotlib lays out and rasterises every Text object glyph by glyph, which made text
    the slowest part of a diagram; outlines cached per character and drawn as a single
    PathCollection look the same and cost a fraction of that."""

    LINE = 1.2          # line height, in em
    MIDDLE = 0.33       # how far above the baseline a line's visual middle sits, in em

    def __init__(self):
        self.items = []     # (vertices px, codes, colour)
        self.boxes = []     # (corners px, facecolour, edgecolour, linewidth)
        self.texts = []     # the strings drawn, for tests and inspection
        self.sizes = []     # and their sizes in points

    def add(self, text, size_pt, px_per_pt, cx, cy, angle=0.0, colour="#000000", bold=False,
            align="center"):
        """Draw ``text`` centred (or right-aligned) at pixel (cx, cy), turned by ``angle``."""
        lines = text.split("\n")
        n = len(lines)
        verts, codes = [], []
        for k, line in enumerate(lines):
            width = sum(_advance(c, bold) for c in line)
            x = {"right": -width, "left": 0.0}.get(align, -width / 2)
            base = (n - 1) / 2 * self.LINE - k * self.LINE - self.MIDDLE
            for ch in line:
                g = _glyph(ch, bold)
                if g is not None:
                    verts.append(g[0] + (x, base))
                    codes.append(g[1])
                x += _advance(ch, bold)
        self.texts.append(text)
        self.sizes.append(size_pt)
        if not verts:
            return
        v = np.concatenate(verts) * (size_pt * px_per_pt)
        a = math.radians(angle)
        c, s_ = math.cos(a), math.sin(a)
        v = v @ np.array([[c, s_], [-s_, c]]) + (cx, cy)
        self.items.append((v, np.concatenate(codes), colour))

    def add_box(self, box: "_Box", pad, face, edge, linewidth):
        hw, hh = box.hw + pad, box.hh + pad
        ux, uy = box.ux, box.uy
        vx, vy = -uy, ux
        corners = [(box.cx + sx * hw * ux + sy * hh * vx, box.cy + sx * hw * uy + sy * hh * vy)
                   for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        self.boxes.append((corners, face, edge, linewidth))

    def draw(self, ax, to_data, zorder, gid):
        """Add the boxes and the text to ``ax`` (vertices converted to data coordinates)."""
        from matplotlib.path import Path
        sx, tx, sy, ty = to_data
        if self.boxes:
            polys = [[((x - tx) / sx, (y - ty) / sy) for x, y in c] for c, *_ in self.boxes]
            coll = PolyCollection(polys, facecolors=[b[1] for b in self.boxes],
                                  edgecolors=[b[2] for b in self.boxes],
                                  linewidths=[b[3] for b in self.boxes], zorder=zorder - 0.01,
                                  gid=gid + "-boxes")
            coll.set_clip_on(False)
            ax.add_collection(coll, autolim=False)
        if self.items:
            paths = [Path((v - (tx, ty)) / (sx, sy), c) for v, c, _ in self.items]
            coll = PathCollection(paths, facecolors=[i[2] for i in self.items],
                                  edgecolors="none", linewidths=0, zorder=zorder, gid=gid)
            coll.set_transform(ax.transData)
            coll.set_clip_on(False)
            ax.add_collection(coll, autolim=False)


class _Box:
    """A rotated rectangle in pixels: centre, unit axis along its width, half sizes, and
    its axis-aligned bounds (x0, y0, x1, y1)."""

    __slots__ = ("cx", "cy", "ux", "uy", "hw", "hh", "x0", "y0", "x1", "y1")

    def __init__(self, cx, cy, w, h, angle_deg):
        a = math.radians(angle_deg)
        self.cx, self.cy = float(cx), float(cy)
        self.ux, self.uy = math.cos(a), math.sin(a)
        self.hw, self.hh = w / 2, h / 2
        ex = abs(self.ux) * self.hw + abs(self.uy) * self.hh
        ey = abs(self.uy) * self.hw + abs(self.ux) * self.hh
        self.x0, self.x1, self.y0, self.y1 = self.cx - ex, self.cx + ex, self.cy - ey, self.cy + ey

    def overlaps(self, o: "_Box") -> bool:
        """Separating-axis test for two rotated rectangles."""
        if self.x1 <= o.x0 or o.x1 <= self.x0 or self.y1 <= o.y0 or o.y1 <= self.y0:
            return False
        dx, dy = o.cx - self.cx, o.cy - self.cy
        for ax, ay in ((self.ux, self.uy), (-self.uy, self.ux), (o.ux, o.uy), (-o.uy, o.ux)):
            ra = (self.hw * abs(self.ux * ax + self.uy * ay)
                  + self.hh * abs(-self.uy * ax + self.ux * ay))
            rb = o.hw * abs(o.ux * ax + o.uy * ay) + o.hh * abs(-o.uy * ax + o.ux * ay)
            if abs(dx * ax + dy * ay) >= ra + rb:
                return False
        return True


class _Placer:
    """Greedy placement of (possibly rotated) label boxes that must not overlap.

    Boxes are filed in a coarse grid so that a test only looks at its neighbours."""

    CELL = 48.0

    def __init__(self):
        self.grid: dict[tuple, list] = {}
        self.count = 0

    def _cells(self, b: _Box):
        c = self.CELL
        for i in range(int(b.x0 // c), int(b.x1 // c) + 1):
            for j in range(int(b.y0 // c), int(b.y1 // c) + 1):
                yield i, j

    def free(self, b: _Box) -> bool:
        grid = self.grid
        for cell in self._cells(b):
            for other in grid.get(cell, ()):
                if b.overlaps(other):
                    return False
        return True

    def add(self, b: _Box) -> None:
        self.count += 1
        for cell in self._cells(b):
            self.grid.setdefault(cell, []).append(b)


# ---- drawing --------------------------------------------------------------------------------
def _lane_pitch(n: int) -> float:
    return LANE_PITCH if n <= 3 else max(0.7, LANE_PITCH - 0.06 * (n - 3))


def _legend_items(scene: Scene) -> list:
    """Legend entries (label, kind, style): every message type of the whole trace, then the
    marks that occur in it.  Built from the whole trace so the legend stays put while the
    trace player's slider moves."""
    items = []
    for name in scene.msg_types:
        s = P.message_style(name)
        items.append((name, "line", dict(color=s["color"], linestyle=s["linestyle"],
                                         linewidth=2.2)))
    kinds = scene.kinds
    if "drop" in kinds:
        items.append(("lost message", "marker", dict(P.MARKERS["drop"])))
    if scene.copies:
        items.append(("duplicate delivery", "line", dict(color=P.MUTED, linewidth=1.6,
                                                         marker=">", markersize=8,
                                                         markerfacecolor="white",
                                                         markevery=[1])))
    if scene.in_flight_ever:
        items.append(("in flight", "line", dict(color=P.MUTED, linewidth=1.6, marker="o",
                                                markersize=6, markerfacecolor="white",
                                                markeredgewidth=1.6, markevery=[2])))
    if "crash" in kinds:
        items.append(("crash", "marker", dict(P.MARKERS["crash"])))
    if "restart" in kinds:
        items.append(("restart", "marker", dict(P.MARKERS["restart"])))
    if "crash" in kinds:
        items.append(("node down", "line", dict(color=P.DOWN, linestyle=P.DOTTED, linewidth=2.5)))
    if "timer" in kinds:
        items.append(("timer fires", "marker", dict(P.MARKERS["timer"])))
    if "invoke" in kinds:
        items.append(("client operation", "line", dict(color=P.BLACK, alpha=0.25, linewidth=7,
                                                       solid_capstyle="butt")))
    if "partition" in kinds:
        items.append(("partition side", "patch", dict(facecolor=P.TINTS[0], alpha=0.3,
                                                      edgecolor=P.VERMILLION)))
    if "cut" in kinds:
        items.append(("link cut", "marker", dict(P.MARKERS["cut"])))
    return items


LEGEND_HANDLE = 30.0    # points
LEGEND_GAP = 6.0        # between handle and text
LEGEND_COLUMN_GAP = 16.0
LEGEND_ROW = 0.3        # inches


def _legend_layout(items, avail_pt: float):
    """Columns of equal width, as many as fit: (ncol, column width in points, rows)."""
    if not items:
        return 0, 0.0, 0
    col_w = max(text_width_pt(label, P.FONT["legend"]) for label, *_ in items) \
        + LEGEND_HANDLE + LEGEND_GAP
    ncol = int((avail_pt + LEGEND_COLUMN_GAP) // (col_w + LEGEND_COLUMN_GAP))
    ncol = max(1, min(len(items), ncol, 5))
    return ncol, col_w, math.ceil(len(items) / ncol)


def space_time(trace, upto=None, highlight=None, ax=None, title=None, width=None,
               labels=True, legend=True):
    """Draw a space-time diagram of a trace and return the matplotlib Figure.

    trace: a Trace (or a Simulation, whose trace is drawn).
    upto: draw only steps 0..upto (later deliveries show as messages in flight).
    highlight: a step whose events are drawn emphasised (the trace player's current step).
    ax: draw into these axes instead of a new figure (leave about 0.6 in below them, plus
    0.3 in per legend row, or pass legend=False).  width: figure width in inches.
    labels: False to leave out message labels.  legend: False to leave out the legend.
    The figure carries its alt text in ``fig.alt_text``; show it with ``replib.viz.show``.
    The axes, colours and legend depend on the whole trace, not on ``upto``, so frames of
    a trace player line up.  ``fig.replib_scene`` keeps what was drawn (arrows, marks) and
    ``fig.replib_texts`` every piece of text, for tests and tools.
    """
    trace = _as_trace(trace)
    scene = build_scene(trace, upto)
    highlight = _check_step(trace, highlight, "highlight")
    if highlight is not None and upto is not None and highlight > upto:
        raise ValueError(f"highlight={highlight} is later than upto={upto}; the highlighted "
                         f"step must be one that is drawn")
    if width is not None and (isinstance(width, bool) or not isinstance(width, (int, float))
                              or not 3 <= width <= 40):
        raise ValueError(f"width must be a figure width in inches between 3 and 40, got {width!r}")

    n = len(scene.nodes)
    pitch = _lane_pitch(n)
    legend = _legend_items(scene) if legend else []
    x_max = max(scene.end, 1e-9)
    x_pad = max(0.5 * scene.nominal, 0.03 * x_max)
    xlim = (0.0 - 0.015 * (x_max + x_pad), x_max + x_pad)
    header = HEADER / pitch                       # in lane units
    ylim = (-0.55, max(n - 1, 0) + 0.5 + header)

    if ax is None:
        lane_text = max([text_width_pt(x, P.FONT["lane"], True) for x in scene.nodes] +
                        [text_width_pt(r, P.FONT["role"]) for r in scene.roles.values()] + [30])
        left = min(2.6, 0.3 + lane_text / 72)
        fig_w = float(width) if width is not None else min(10.5, max(8.0, 6.0 + 0.3 * x_max))
        layout = _legend_layout(legend, (fig_w - left - 0.3) * 72)
        top = 0.55 if (title or highlight is not None) else 0.2
        bottom = 0.72 + LEGEND_ROW * layout[2] + (0.12 if layout[2] else 0)
        axes_h = max(n, 1) * pitch + HEADER + 0.1
        fig_h = top + axes_h + bottom
        fig = Figure(figsize=(fig_w, fig_h), dpi=DPI, facecolor="white")
        ax = fig.add_axes((left / fig_w, bottom / fig_h, 1 - (left + 0.3) / fig_w, axes_h / fig_h))
    else:
        fig = ax.figure
        pos = ax.get_position()
        layout = _legend_layout(legend, pos.width * fig.get_size_inches()[0] * 72)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_facecolor("white")
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    # the time axis is drawn by _Drawer.time_axis: matplotlib's own ticks cost more
    # (per-tick objects, deep copies) than the rest of the diagram
    ax.xaxis.set_major_locator(NullLocator())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_locator(NullLocator())
    ax.yaxis.set_minor_locator(NullLocator())

    d = _Drawer(fig, ax, scene, trace, highlight, labels)
    d.draw(legend, layout, title)
    fig.alt_text = describe_scene(scene)
    fig.replib_scene = scene
    fig.replib_texts = d.ink.texts
    fig.replib_text_sizes = d.ink.sizes
    fig.replib_legend = [label for label, *_ in legend]
    return fig


class _Drawer:
    """Draws a scene into an axes; one method per layer, bottom to top."""

    def __init__(self, fig, ax, scene: Scene, trace: Trace, highlight, labels):
        self.fig, self.ax, self.scene, self.trace = fig, ax, scene, trace
        self.highlight = highlight
        self.labels = labels
        self.placer = _Placer()
        self.px_per_pt = fig.dpi / 72.0
        # data -> pixels is x*sx + tx, y*sy + ty for these linear axes; plain floats are
        # far cheaper than calling matplotlib's transform for every point
        m = ax.transData.get_affine().get_matrix()
        self.sx, self.tx, self.sy, self.ty = (float(m[0, 0]), float(m[0, 2]),
                                              float(m[1, 1]), float(m[1, 2]))
        self.xlim = ax.get_xlim()
        self.ylim = ax.get_ylim()
        self.lane_top = max(len(scene.nodes) - 1, 0) + 0.5
        self.now = scene.now if scene.upto is not None else None
        self.right = self.xlim[1] if self.now is None else self.now
        self.pending_labels = []   # (priority, order, text, anchor data, angle, style)
        self.ink = _Ink()
        self.step_text = None

    def to_px(self, p):
        """Data -> pixels, for a point (x, y)."""
        return (p[0] * self.sx + self.tx, p[1] * self.sy + self.ty)

    def to_data(self, p):
        """Pixels -> data, for a point (x, y)."""
        return ((p[0] - self.tx) / self.sx, (p[1] - self.ty) / self.sy)

    def is_hl(self, *steps) -> bool:
        return self.highlight is not None and self.highlight in steps

    def titles(self, title):
        """The title (left) and the highlighted step (right), just above the axes."""
        k = self.px_per_pt
        m = self.ax.transAxes.get_affine().get_matrix()
        left, width = float(m[0, 2]), float(m[0, 0])
        y = float(m[1, 2] + m[1, 1]) + 12 * k
        used = 0.0
        if title:
            self.ink.add(title, P.FONT["title"], k, left, y, 0, P.BLACK, bold=True, align="left")
            used = text_width_pt(title, P.FONT["title"], True) * k + 24 * k
        text = self.step_text
        if text:
            room = width - used
            while len(text) > 12 and text_width_pt(text, P.FONT["note"]) * k > room:
                text = _shorten(text, len(text) - 4)
            self.ink.add(text, P.FONT["note"], k, left + width, y, 0, P.MUTED, align="right")

    def draw(self, legend=(), layout=(0, 0.0, 0), title=None):
        self.partitions()
        self.future()
        self.lanes()
        self.ops()
        self.highlight_band()
        self.arrows()
        self.markers()
        self.place_labels()
        self.lane_labels()
        self.header()
        self.time_axis()
        self.legend(legend, layout)
        self.titles(title)
        self.ink.draw(self.ax, (self.sx, self.tx, self.sy, self.ty), 4, "replib-text")

    # -- background ---------------------------------------------------------------------
    def partitions(self):
        ax, s = self.ax, self.scene
        for start, stop, groups, _step in s.partitions:
            stop = self.right if stop is None else stop
            side = {}
            for i, g in enumerate(groups):
                for node in g:
                    side[node] = i
            for node, i in side.items():
                if node not in s.nodes:
                    continue
                y = s.lane(node)
                ax.add_patch(Rectangle((start, y - 0.5), stop - start, 1.0, facecolor=P.TINTS[
                    i % len(P.TINTS)], alpha=0.22, edgecolor="none", zorder=0,
                    gid="replib-partition"))
            # a zig-zag "wall" between neighbouring lanes on different sides
            width_px = abs(self.to_px((stop, 0))[0] - self.to_px((start, 0))[0])
            teeth = max(2, int(width_px / 9))
            xs = np.linspace(start, stop, teeth * 2 + 1)
            for a, b in zip(s.nodes, s.nodes[1:]):
                if a in side and b in side and side[a] != side[b]:
                    y = (s.lane(a) + s.lane(b)) / 2
                    ys = y + 0.07 * np.where(np.arange(len(xs)) % 2 == 0, 1, -1)
                    ax.plot(xs, ys, color=P.VERMILLION, linewidth=1.6, zorder=1.2,
                            gid="replib-partition-wall")
            for x in (start,) + ((stop,) if stop != self.right or self.now is None else ()):
                ax.plot([x, x], [self.ylim[0], self.lane_top], color=P.VERMILLION,
                        linewidth=1.0, linestyle=P.DASHED, zorder=0.5)

    def future(self):
        if self.now is not None and self.now < self.xlim[1]:
            self.ax.add_patch(Rectangle((self.now, self.ylim[0]), self.xlim[1] - self.now,
                                        self.ylim[1] - self.ylim[0], facecolor="#EDEDED",
                                        edgecolor="none", zorder=0.2, gid="replib-future"))
            self.ax.plot([self.now, self.now], [self.ylim[0], self.lane_top], color=P.BLACK,
                         linewidth=1.2, zorder=0.6)

    def lanes(self):
        ax, s = self.ax, self.scene
        x0 = self.xlim[0]
        up_segments, down_segments = [], []
        downs: dict[str, list] = {}
        for node, start, stop, _ in s.down:
            downs.setdefault(node, []).append((start, self.right if stop is None else stop))
        for node in s.nodes:
            y = s.lane(node)
            t = x0
            for start, stop in sorted(downs.get(node, ())):
                up_segments.append([(t, y), (start, y)])
                down_segments.append([(start, y), (stop, y)])
                ax.add_patch(Rectangle((start, y - 0.13), stop - start, 0.26, facecolor=P.DOWN,
                                       alpha=0.35, edgecolor="none", zorder=0.8))
                t = stop
            up_segments.append([(t, y), (self.right, y)])
            if self.right < self.xlim[1]:
                down_segments_future = [(self.right, y), (self.xlim[1], y)]
                ax.plot(*zip(*down_segments_future), color=P.LANE, alpha=0.35, linewidth=1.2,
                        zorder=0.9)
        ax.add_collection(LineCollection(up_segments, colors=P.LANE, linewidths=1.8, zorder=1,
                                         gid="replib-lanes"))
        if down_segments:
            ax.add_collection(LineCollection(down_segments, colors=P.DOWN, linewidths=2.5,
                                             linestyles=[P.DOTTED], zorder=1,
                                             gid="replib-lanes-down"))

    def ops(self):
        ax, s = self.ax, self.scene
        segs, caps, hl = [], [], []
        for node, op, t0, t1, result, steps in s.ops:
            y = s.lane(node)
            end = self.right if t1 is None else t1
            segs.append([(t0, y), (end, y)])
            hl.append(self.is_hl(*steps))
            caps.append((t0, y))
            if t1 is not None:
                caps.append((t1, y))
            text = _op_text(op) + (f" → {_compact(result)}" if t1 is not None else " …")
            self.pending_labels.append((0 if self.is_hl(*steps) else 2, t0, text,
                                        (t0, y + 0.27), 0.0,
                                        dict(color=P.BLACK, box=None, from_left=True)))
        if segs:
            ax.add_collection(LineCollection(segs, colors=P.BLACK, alpha=0.22,
                                             linewidths=[11 if h else 8 for h in hl],
                                             capstyle="butt", zorder=1.5, gid="replib-ops"))
            xs, ys = zip(*caps)
            ax.plot(xs, ys, linestyle="none", marker="|", markersize=16, markeredgewidth=2.2,
                    color=P.BLACK, zorder=1.6, gid="replib-op-ends")

    def highlight_band(self):
        if self.highlight is None:
            return
        e = self.trace.events[self.trace.steps[self.highlight]]
        self.ax.plot([e.time, e.time], [self.ylim[0], self.lane_top], color=P.YELLOW,
                     linewidth=9, alpha=0.6, solid_capstyle="butt", zorder=0.7,
                     gid="replib-highlight")
        if e.node in self.scene.nodes:
            self.ax.plot([e.time], [self.scene.lane(e.node)], linestyle="none", marker="o",
                         markersize=17, markerfacecolor="none", markeredgecolor=P.BLACK,
                         markeredgewidth=2.0, zorder=3.5)
        self.step_text = f"step {self.highlight}: {_event_text(e)}"

    # -- messages -----------------------------------------------------------------------
    def arrows(self):
        s, ax = self.scene, self.ax
        shafts, colours, styles, widths = [], [], [], []
        heads, head_fc, head_ec = [], [], []
        drops, drop_hl, flights, flight_c = [], [], [], []
        head_len = 9.0 * self.px_per_pt
        head_half = 3.6 * self.px_per_pt
        faded = self.highlight is not None
        to_px, to_data, placer = self.to_px, self.to_data, self.placer
        for a in s.arrows:
            style = P.message_style(type(a.msg).__name__)
            y0, y1 = s.lane(a.src), s.lane(a.dst)
            if a.src == a.dst:           # a message to oneself: a small hump above the lane
                mid = (a.t0 + a.t1) / 2
                pts = [(a.t0, y0), (mid, y0 + 0.28 * max(a.frac, 0.4)), (a.t1, y0)]
                if a.fate != "delivered":
                    pts = pts[:2]
            else:
                pts = [(a.t0, y0), (a.t1, y0 + a.frac * (y1 - y0))]
            px = [to_px(p) for p in pts]
            hl = self.is_hl(a.send_step, a.end_step)
            lw = 3.6 if hl else 1.9
            alpha = 1.0 if (hl or not faded) else 0.55
            if a.fate == "delivered":
                # an arrowhead; the shaft stops at its base so dashes do not poke through
                (tx, ty), (qx, qy) = px[-1], px[-2]
                length = math.hypot(tx - qx, ty - qy) or 1.0
                ux, uy = (tx - qx) / length, (ty - qy) / length
                scale = 1.35 if hl else 1.0
                h_len = min(head_len * scale, 0.6 * length)
                bx, by = tx - ux * h_len, ty - uy * h_len
                nx_, ny_ = -uy * head_half * scale, ux * head_half * scale
                heads.append([to_data((tx, ty)), to_data((bx + nx_, by + ny_)),
                              to_data((bx - nx_, by - ny_))])
                placer.add(_Box(tx - ux * h_len / 2, ty - uy * h_len / 2, h_len,
                                2 * head_half * scale, math.degrees(math.atan2(uy, ux))))
                head_fc.append(_rgba("#FFFFFF", alpha) if a.copy else _rgba(style["color"], alpha))
                head_ec.append(_rgba(style["color"], alpha))
                px[-1] = (bx + ux * 0.5, by + uy * 0.5)
                pts[-1] = to_data(px[-1])
            elif a.fate == "dropped":
                drops.append(pts[-1])
                drop_hl.append(hl)
            else:
                flights.append(pts[-1])
                flight_c.append(style["color"])
                self._obstacle_px(px[-1], 9)
            for (p0, p1), (q0, q1) in zip(px, px[1:]):   # labels must not hide other arrows
                placer.add(_Box((p0 + q0) / 2, (p1 + q1) / 2, math.hypot(q0 - p0, q1 - p1),
                                lw * self.px_per_pt + 2,
                                math.degrees(math.atan2(q1 - p1, q0 - p0))))
            shafts.append(pts)
            colours.append(_rgba(style["color"], alpha))
            styles.append(style["linestyle"])
            widths.append(lw)
            if self.labels:
                self._arrow_label(a, px, style, hl)
        if shafts:
            ax.add_collection(LineCollection(shafts, colors=colours, linestyles=styles,
                                             linewidths=widths, capstyle="butt", zorder=2,
                                             gid="replib-messages"))
        if heads:
            ax.add_collection(PolyCollection(heads, facecolors=head_fc, edgecolors=head_ec,
                                             linewidths=1.2, zorder=2.2,
                                             gid="replib-arrowheads"))
        if drops:
            xs, ys = zip(*drops)
            sizes = [14 if h else 11 for h in drop_hl]
            ax.scatter(xs, ys, s=[x * x for x in sizes], marker="x", c=P.VERMILLION,
                       linewidths=2.8, zorder=3.2, gid="replib-drops")
            for (x, y) in drops:
                self._obstacle(x, y, 14)
        if flights:
            xs, ys = zip(*flights)
            ax.scatter(xs, ys, s=40, marker="o", facecolors="white", edgecolors=flight_c,
                       linewidths=1.6, zorder=3.1, gid="replib-in-flight")

    def _arrow_label(self, a: Arrow, px, style, hl):
        text = short_label(a.msg, a.src, a.dst)
        name = type(a.msg).__name__
        suffix = {"duplicate": " (dup)", "again": " (again)"}.get(a.copy, "")
        variants = [text + suffix]
        if text != name:                      # long: try name and fields on two lines
            variants.append(name + suffix + "\n" + text[len(name):])
        variants.append(name + suffix)
        vx, vy = px[-1][0] - px[0][0], px[-1][1] - px[0][1]
        angle = math.degrees(math.atan2(vy, vx)) if math.hypot(vx, vy) > 1 else 0.0
        if angle > 90:
            angle -= 180
        elif angle <= -90:
            angle += 180
        if len(px) == 3:   # self-message hump: label on the top
            angle = 0.0
        prio = 0 if hl else (1 if a.fate == "dropped" else 3)
        when = -a.t0 if self.now is not None else a.t0   # player: newest first
        if a.fate == "dropped":     # one label beside the cross: what was lost, and why
            lost = [f"{text}{suffix} lost: {a.detail}", f"{name}{suffix} lost: {a.detail}",
                    f"lost: {a.detail}"]
            self.pending_labels.append((prio, when, lost[0], self.to_data(px[-1]),
                                        0.0, dict(color=P.VERMILLION, box=None, near_x=True,
                                                  variants=lost, hl=hl)))
            return
        self.pending_labels.append((prio, when, variants[0], px, angle,
                                    dict(color=style["color"], box=style["color"],
                                         variants=variants, path=True, hl=hl)))

    # -- markers --------------------------------------------------------------------------
    def markers(self):
        s, ax = self.scene, self.ax
        if s.timers:
            xs = [t for t, *_ in s.timers]
            ys = [s.lane(node) for _, node, *_ in s.timers]
            ax.plot(xs, ys, linestyle="none", zorder=3, gid="replib-timers", **P.MARKERS["timer"])
            for t, node, timer, step in s.timers:
                self._obstacle(t, s.lane(node), 7)
                if self.is_hl(step):
                    self.pending_labels.append((0, t, f"timer {short_label(timer)}",
                                                (t, s.lane(node) - 0.27), 0.0,
                                                dict(color=P.MUTED, box=None)))
        for kind, items in (("crash", s.crashes), ("restart", s.restarts)):
            if not items:
                continue
            xs = [t for t, *_ in items]
            ys = [s.lane(node) for _, node, _ in items]
            ax.plot(xs, ys, linestyle="none", zorder=3.4, gid=f"replib-{kind}",
                    **P.MARKERS[kind])
            for t, node, step in items:
                self._obstacle(t, s.lane(node), 16)
                self.pending_labels.append((0 if self.is_hl(step) else 1, t, kind,
                                            (t, s.lane(node) - 0.3), 0.0,
                                            dict(color=P.BLACK, box=None, bold=True)))
        if s.cuts:
            xs = [t for t, *_ in s.cuts]
            ys = [s.lane(dst) for _, _, dst, _ in s.cuts]
            ax.plot(xs, ys, linestyle="none", zorder=3.3, gid="replib-cuts", **P.MARKERS["cut"])
            for t, src, dst, step in s.cuts:
                self.pending_labels.append((0 if self.is_hl(step) else 1, t,
                                            f"cut {src}→{dst}", (t, s.lane(dst) - 0.3), 0.0,
                                            dict(color=P.VERMILLION, box=None)))

    def _obstacle(self, x, y, size_pt):
        self._obstacle_px(self.to_px((x, y)), size_pt)

    def _obstacle_px(self, p, size_pt):
        """Keep labels off a mark (arrowhead, cross, marker) of about ``size_pt``."""
        side = size_pt * self.px_per_pt
        self.placer.add(_Box(float(p[0]), float(p[1]), side, side, 0.0))

    # -- labels ---------------------------------------------------------------------------
    def place_labels(self):
        size = P.FONT["label"]
        line_px = 1.2 * size * self.px_per_pt
        pad_px = 0.25 * size * self.px_per_pt
        x_lo, y_lo = self.to_px((self.xlim[0], self.ylim[0]))
        x_hi, y_hi = self.to_px((self.xlim[1], self.lane_top + 0.35))
        busy = len(self.pending_labels) > 60      # dense: message names only
        misses = 0
        only_labels = _Placer()                   # for emphasised labels with no free spot
        for prio, _when, text, anchor, angle, opts in sorted(
                self.pending_labels, key=lambda p: (p[0], p[1])):
            force = opts.get("hl", False) or prio == 0
            if misses >= 150 and not force:     # the picture is full: stop looking
                continue
            placed = None
            variants = opts.get("variants") or [text]
            if busy and not force:
                variants = variants[-1:]
            for variant in variants:
                lines = variant.split("\n")
                bold = bool(opts.get("bold") or opts.get("hl"))
                w_px = max(text_width_pt(x, size, bold) for x in lines) * self.px_per_pt \
                    + 2 * pad_px
                h_px = len(lines) * line_px + 1.5 * pad_px
                for cx, cy in self._candidates(anchor, opts, w_px, h_px):
                    corners = _Box(cx, cy, w_px, h_px, angle)
                    if corners.x0 < x_lo - 2 or corners.x1 > x_hi + 2 or \
                            corners.y0 < y_lo - 2 or corners.y1 > y_hi:
                        continue
                    if self.placer.free(corners):
                        placed = (variant, cx, cy, corners)
                        break
                if placed:
                    break
            if placed is None and force:
                # an emphasised label may cover arrows and marks, but not another label
                variant = variants[-1]
                w_px = text_width_pt(variant, size, True) * self.px_per_pt + 2 * pad_px
                h_px = line_px + 1.5 * pad_px
                spots = self._candidates(anchor, opts, w_px, h_px)
                for cx, cy in spots:
                    corners = _Box(cx, cy, w_px, h_px, angle)
                    if only_labels.free(corners):
                        placed = (variant, cx, cy, corners)
                        break
                else:
                    cx, cy = spots[0]
                    placed = (variant, cx, cy, _Box(cx, cy, w_px, h_px, angle))
            if placed is None:
                misses += 1
                continue
            variant, cx, cy, corners = placed
            self.placer.add(corners)
            only_labels.add(corners)
            if opts.get("box"):
                self.ink.add_box(corners, -1.0, (1, 1, 1, 0.9), opts["box"],
                                 1.8 if opts.get("hl") else 1.0)
            self.ink.add(variant, size, self.px_per_pt, cx, cy, angle,
                         P.BLACK if opts.get("box") else opts["color"],
                         bold=bool(opts.get("bold") or opts.get("hl")))

    def _candidates(self, anchor, opts, w_px, h_px=0.0):
        """Pixel positions to try for a label, best first."""
        if opts.get("path"):
            px = anchor
            if len(px) == 3:       # a message to oneself: above the hump
                top = px[1]
                return [(top[0], top[1] + 0.5 * h_px + 5 * self.px_per_pt)]
            (ax_, ay_), (bx_, by_) = px[0], px[-1]
            vx, vy = bx_ - ax_, by_ - ay_
            length = math.hypot(vx, vy) or 1.0
            nx_, ny_ = -vy / length, vx / length
            if ny_ < 0:                # try the side above the arrow first
                nx_, ny_ = -nx_, -ny_
            d = 0.5 * h_px + 4.5 * self.px_per_pt
            ox, oy = nx_ * d, ny_ * d
            out = []
            for f in (0.5, 0.4, 0.6, 0.3, 0.7):
                px_, py_ = ax_ + f * vx, ay_ + f * vy
                out += [(px_ + ox, py_ + oy), (px_ - ox, py_ - oy)]
            return out
        cx, cy = anchor if opts.get("px") else self.to_px(anchor)
        if opts.get("near_x"):      # "lost: ..." beside a drop mark
            off = w_px / 2 + 9 * self.px_per_pt
            up = 0.5 * h_px + 8 * self.px_per_pt
            return [(cx + off, cy), (cx - off, cy), (cx, cy - up), (cx, cy + up),
                    (cx + off, cy - up), (cx + off, cy + up), (cx - off, cy - up),
                    (cx - off, cy + up)]
        step = 12 * self.px_per_pt
        if opts.get("from_left"):
            return [(cx + w_px / 2, cy), (cx + w_px / 2 + step, cy), (cx, cy)]
        return [(cx, cy), (cx + w_px / 2, cy), (cx - w_px / 2, cy), (cx, cy - step),
                (cx + w_px / 2, cy - step)]

    # -- lane labels and the header strip -----------------------------------------------------
    def lane_labels(self):
        """Each lane's node id (bold) and role, right-aligned left of the axes, with a
        square in the role's colour (the same colour as in topology pictures)."""
        ax, s = self.ax, self.scene
        trans = blended_transform_factory(ax.transAxes, ax.transData)
        m = ax.transAxes.get_affine().get_matrix()
        x_px = float(m[0, 2]) - 0.012 * float(m[0, 0])
        xs, ys, colours = [], [], []
        for node in s.nodes:
            y = s.lane(node)
            role = s.roles.get(node)
            show_role = bool(role) and role.lower() != node.lower()
            _, y_px = self.to_px((0, y))
            up = 7 * self.px_per_pt if show_role else 0
            self.ink.add(node, P.FONT["lane"], self.px_per_pt, x_px, y_px + up, 0, P.BLACK,
                         bold=True, align="right")
            if show_role:
                self.ink.add(role, P.FONT["role"], self.px_per_pt, x_px, y_px - 8 * self.px_per_pt,
                             0, P.MUTED, align="right")
            xs.append(-0.004)
            ys.append(y)
            colours.append(P.role_color(role))
        if s.nodes:
            ax.scatter(xs, ys, transform=trans, marker="s", s=64, c=colours, clip_on=False,
                       edgecolors=P.BLACK, linewidths=0.6, zorder=3)

    def time_axis(self):
        """Tick marks and numbers along the bottom spine, and the word 'time'."""
        x0, x1 = self.xlim
        k = self.px_per_pt
        ticks = [v for v in MaxNLocator(nbins=10, steps=[1, 2, 2.5, 5, 10]).tick_values(x0, x1)
                 if x0 <= v <= x1]
        _, base = self.to_px((0, self.ylim[0]))
        segs = []
        for v in ticks:
            px, _ = self.to_px((v, 0))
            segs.append([self.to_data((px, base)), self.to_data((px, base - 4 * k))])
            text = f"{v:g}" if abs(v) >= 1e-12 else "0"
            self.ink.add(text, P.FONT["tick"], k, px, base - 13 * k, 0, P.BLACK)
        if segs:
            coll = LineCollection(segs, colors=P.BLACK, linewidths=0.9, gid="replib-ticks")
            coll.set_clip_on(False)
            self.ax.add_collection(coll, autolim=False)
        mid, _ = self.to_px(((x0 + x1) / 2, 0))
        self.ink.add("time", P.FONT["tick"], k, mid, base - 28 * k, 0, P.BLACK)
        self.ticks = ticks

    def legend(self, items, layout):
        """A legend below the axes, drawn like the rest (matplotlib's own Legend costs more
        than the whole diagram)."""
        ncol, col_w, rows = layout
        if not items:
            return
        ax, k = self.ax, self.px_per_pt
        m = ax.transAxes.get_affine().get_matrix()
        left, width, bottom = float(m[0, 2]), float(m[0, 0]), float(m[1, 2])
        gap = LEGEND_COLUMN_GAP * k
        block = ncol * col_w * k + (ncol - 1) * gap
        x0 = left + (width - block) / 2
        y0 = bottom - 0.62 * self.fig.dpi - 0.5 * LEGEND_ROW * self.fig.dpi
        for i, (label, kind, style) in enumerate(items):
            row, col = divmod(i, ncol)
            hx = x0 + col * (col_w * k + gap)
            hy = y0 - row * LEGEND_ROW * self.fig.dpi
            a = self.to_data((hx, hy))
            b = self.to_data((hx + LEGEND_HANDLE * k, hy))
            if kind == "line":      # three points, so a marker (markevery=[1]) sits mid-way
                art = Line2D([a[0], (a[0] + b[0]) / 2, b[0]], [a[1], a[1], b[1]], **style)
            elif kind == "marker":
                art = Line2D([(a[0] + b[0]) / 2], [a[1]], linestyle="none", **style)
            else:
                lo = self.to_data((hx, hy - 5 * k))
                hi = self.to_data((hx + LEGEND_HANDLE * k, hy + 5 * k))
                art = Rectangle(lo, hi[0] - lo[0], hi[1] - lo[1], **style)
            art.set_clip_on(False)
            if isinstance(art, Rectangle):
                ax.add_artist(art)
            else:
                ax.add_line(art)
            self.ink.add(label, P.FONT["legend"], k, hx + (LEGEND_HANDLE + LEGEND_GAP) * k, hy,
                         0, P.BLACK, align="left")
        self.legend_labels = [label for label, *_ in items]

    def header(self):
        """Notes above the top lane: partitions, heals, fault rules, and 'now'."""
        s = self.scene
        notes = []
        for start, _stop, groups, step in s.partitions:
            notes.append((start, "partition: " + " | ".join(", ".join(g) for g in groups),
                          P.VERMILLION, self.is_hl(step)))
        for t, step in s.heals:
            notes.append((t, "heal", P.VERMILLION, self.is_hl(step)))
        for t, text, step in s.rules:
            notes.append((t, _shorten(text, 28), P.MUTED, self.is_hl(step)))
        if self.now is not None:
            notes.append((self.now, "now", P.BLACK, True))
        size = P.FONT["note"]
        h = 1.25 * size * self.px_per_pt
        top = self.to_px((0, self.ylim[1]))[1]
        rows = (top - 0.5 * h - 2, top - 1.5 * h - 5)
        x_hi = self.to_px((self.xlim[1], 0))[0]
        header_boxes = _Placer()
        for t, text, colour, strong in sorted(notes, key=lambda n: (not n[3], n[0])):
            tx = self.to_px((t, 0))[0]
            text = _shorten(text, 44)
            w = text_width_pt(text, size, strong) * self.px_per_pt + 6
            for cx, cy in [(tx + w / 2 + 3, r) for r in rows] + [(tx - w / 2 - 3, r) for r in rows]:
                corners = _Box(cx, cy, w, h, 0)
                if corners.x1 <= x_hi + 40 and header_boxes.free(corners):
                    header_boxes.add(corners)
                    self.ink.add(text, size, self.px_per_pt, cx, cy, 0, colour, bold=strong)
                    break


def _event_text(e) -> str:
    """A primary event in a few words, with messages and timers in their short form."""
    if e.kind == "deliver":
        return f"{e.node} receives {short_label(e.msg, e.peer, e.node)} from {e.peer}"
    if e.kind == "timer":
        return f"{e.node}: timer {short_label(e.msg)} fires"
    if e.kind == "drop":
        return f"{short_label(e.msg, e.node, e.peer)} {e.node}→{e.peer} is lost ({e.detail})"
    return e.describe()


def _rgba(colour: str, alpha: float):
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return (r, g, b, alpha)
