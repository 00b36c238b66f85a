"""Space-time diagrams: one lane per node, time left to right, an arrow per message.

This is the picture every chapter reads a run from, and the trace player redraws it at
every slider position, so it is built for speed: the trace is first turned into a plain
*scene* (arrows, markers, spans, all in data coordinates), then drawn with a handful of
collections instead of one artist per message.  Labels are placed greedily, shortened where
room is short and skipped rather than piled on top of each other (``replib.viz.lint`` finds
any text that overlaps other text or is cut off); the legend, colours and the meaning of
every mark stay the same from one frame to the next.

What a reader should see at a glance is marked on the lanes: each protocol names the state
changes worth a badge (``Node.milestones``: "primary e2", "chosen v1", "commit"), messages it
sends periodically (``periodic`` on the message, e.g. heartbeats) are folded into ticks on
the sender's lane, and a lost message's line stops, dashed, where it was lost, with a cross.
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


def short_label(msg, src: str | None = None, dst: str | None = None, limit: int = 30,
                hide=()) -> str:
    """A message as a compact label, e.g. ``Forward(1, (write,1))``.

    Fields that merely repeat the sender's or receiver's id are left out (the arrow already
    says who talks to whom), and so are the fields named in ``hide`` (e.g. ``("epoch",)`` in
    a chapter that has not introduced epochs yet); the text is cut to ``limit`` characters."""
    name = type(msg).__name__
    if not dataclasses.is_dataclass(msg):
        return _shorten(_compact(msg), limit)
    parts = []
    for f in dataclasses.fields(msg):
        v = getattr(msg, f.name)
        if (isinstance(v, str) and v in (src, dst)) or f.name in hide:
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
    periodic: bool = False      # the protocol sends it periodically (heartbeats)


@dataclass
class Scene:
    """Everything the diagram shows, computed from a trace (no matplotlib here)."""

    nodes: tuple
    roles: dict
    upto: int | None
    now: float                   # time of the last shown event
    end: float                   # time the run covers (it may have stopped after its events)
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
    milestones: list = field(default_factory=list)  # (time, node, text, step)
    last: float = 0.0             # time of the last event of the whole trace
    periodic_only: set = field(default_factory=set)  # types only ever sent periodically
    periodic_sent: dict = field(default_factory=dict)  # how many of each periodic type
    partition_sides: list = field(default_factory=list)  # groups of the whole trace's partitions
    periodic_timers_only: bool = False   # every timer of the trace is a periodic one
    has_milestones: bool = False          # the whole trace has milestones
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


def is_periodic(item) -> bool:
    """Does the protocol send this message (or fire this timer) periodically?  A message
    class says so with ``periodic = True`` (or a property, e.g. an empty AppendEntries)."""
    try:
        return bool(getattr(item, "periodic", False))
    except Exception:   # a property that fails on an odd message: not periodic
        return False


def milestones(trace) -> list:
    """Every milestone of a trace: (time, node, text, step), from each node class's
    ``milestones`` applied to the states the trace recorded (none without states).  Kept
    on the trace, so the trace player's frames do not work it out again."""
    trace = _as_trace(trace)
    events = trace.events
    key = (len(events), id(events[-1]) if events else None)
    cached = getattr(trace, "_milestones", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    classes = getattr(trace, "classes", {}) or {}
    found = []
    if classes:
        current = {n: dict(st) for n, st in trace.initial.items()}
        for e in events:
            if e.state is None or e.node not in current:
                continue
            before, after = current[e.node], e.state
            if before == after:
                continue
            current[e.node] = after
            cls = classes.get(e.node)
            if cls is None or e.kind == "crash":     # a crash has its own mark
                continue
            for text in cls.milestones(e.node, before, after, current) or ():
                found.append((e.time, e.node, str(text), e.step))
    trace._milestones = (key, found)
    return found


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
    lane_of = {n: len(nodes) - 1 - i for i, n in enumerate(nodes)}

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
                  in_flight_ever=bool(sent_at) and (upto is not None or len(fates) < len(sent_at)),
                  last=events[-1].time if events else 0.0)
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
                                          e.time, "delivered", send.step, e.step, copy,
                                          periodic=is_periodic(send.msg)))
            else:
                scene.arrows.append(_dropped(send, e, copy, nominal,
                                             abs(lane_of[send.node] - lane_of[send.peer])))
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
    last_step = shown[-1].step if shown else -1
    scene.milestones = [m for m in milestones(trace) if m[3] <= last_step and m[1] in known]

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
                                  "in flight", send.step, None, copy, frac=frac,
                                  periodic=is_periodic(send.msg)))
    return scene


#: how far (in lanes) before its receiver's lane a message lost in the network stops
LOST_SHORT = 0.3


def _dropped(send, drop, copy, nominal, gap) -> Arrow:
    """Where a lost message's line ends, on its own path: on the receiver's lane if it
    arrived at a node that was down; otherwise just short of the receiver's lane, past every
    lane in between, so the cross can only be read as "lost on the way to the receiver".
    ``gap``: how many lanes apart sender and receiver are."""
    detail = drop.detail or "lost"
    if detail.endswith("is down"):
        frac = 1.0
    elif gap:
        frac = 1.0 - LOST_SHORT / gap
    else:                                  # to itself: half the hump
        frac = 0.5
    t1 = drop.time if drop.time > send.time else send.time + max(frac, 0.5) * nominal
    return Arrow(drop.msg_id, send.node, send.peer, send.msg, send.time, t1, "dropped",
                 send.step, drop.step, copy, detail, frac, periodic=is_periodic(send.msg))


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


def describe_scene(scene: Scene, periodic: str = "fold") -> str:
    """Plain-English summary of a scene (the figure's alt text)."""
    n = len(scene.nodes)
    head = (f"Space-time diagram of {n} node{'s' if n != 1 else ''} ({_node_list(scene)}), "
            f"time from t=0 to {_t(scene.last)}")
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
        folded = sorted({type(a.msg).__name__ for a in scene.arrows if a.periodic})
        if folded and periodic != "show":
            how = "folded into ticks on the sender's lane" if periodic == "fold" else "drawn faint"
            parts.append(f"periodic {_list(folded)} messages {how}")
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
    if scene.milestones:
        parts.append("marked on the lanes: " + _list(
            [f"{node} '{text}' at t={_t(t)}" for t, node, text, _ in scene.milestones], 12))
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


# ---- text: extents without rendering, outlines, and a fallback for missing glyphs ------------
@lru_cache(maxsize=None)
def _font(bold: bool):
    from matplotlib.font_manager import FontProperties, findfont, get_font
    return get_font(findfont(FontProperties(weight="bold" if bold else "normal")))


@lru_cache(maxsize=None)
def has_glyph(ch: str, bold: bool = False) -> bool:
    """Does the diagrams' font (DejaVu Sans) have this character?  Text with a character it
    lacks (Chinese, say) is drawn as ordinary matplotlib text, so that fallback fonts apply."""
    return ch.isspace() or _font(bold).get_char_index(ord(ch)) != 0


@lru_cache(maxsize=None)
def _advance(ch: str, bold: bool = False) -> float:
    """Advance width of a character in em (DejaVu Sans, matplotlib's default font); a
    character the font lacks counts as wide (1 em) or normal (0.6 em) by its Unicode width."""
    if not has_glyph(ch, bold):
        import unicodedata
        return 1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6
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
    PathCollection look the same and cost a fraction of that.  Text with a character the
    font lacks is drawn as a real matplotlib Text instead (fallback fonts, if installed,
    then apply).  Every piece of text is kept with its box in pixels, for ``lint``."""

    LINE = 1.2          # line height, in em
    MIDDLE = 0.33       # how far above the baseline a line's visual middle sits, in em

    def __init__(self):
        self.items = []     # (vertices px, codes, colour)
        self.boxes = []     # (corners px, facecolour, edgecolour, linewidth)
        self.texts = []     # the strings drawn, for tests and inspection
        self.sizes = []     # and their sizes in points
        self.extents = []   # (text, _Box in pixels) of every string drawn
        self.fallback = []  # (text, size, cx, cy, angle, colour, bold, align): real Text

    @staticmethod
    def box_of(text, size_pt, px_per_pt, cx, cy, angle=0.0, bold=False, align="center"):
        """The box (pixels) that ``add`` would fill with this text."""
        lines = text.split("\n")
        w = max(sum(_advance(c, bold) for c in line) for line in lines) * size_pt * px_per_pt
        h = (len(lines) * _Ink.LINE - 0.2) * size_pt * px_per_pt
        if align != "center":
            a = math.radians(angle)
            shift = (w / 2) * (1 if align == "left" else -1)
            cx, cy = cx + shift * math.cos(a), cy + shift * math.sin(a)
        return _Box(cx, cy, w, h, angle)

    def add(self, text, size_pt, px_per_pt, cx, cy, angle=0.0, colour="#000000", bold=False,
            align="center"):
        """Draw ``text`` centred (or left/right-aligned) at pixel (cx, cy), turned by ``angle``."""
        self.texts.append(text)
        self.sizes.append(size_pt)
        self.extents.append((text, self.box_of(text, size_pt, px_per_pt, cx, cy, angle, bold,
                                               align)))
        if not all(has_glyph(c, bold) for c in text if c != "\n"):
            self.fallback.append((text, size_pt, cx, cy, angle, colour, bold, align))
            return
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
        for text, size, cx, cy, angle, colour, bold, align in self.fallback:
            ax.text((cx - tx) / sx, (cy - ty) / sy, text, fontsize=size, color=colour,
                    rotation=angle, rotation_mode="anchor", ha=align, va="center",
                    fontweight="bold" if bold else "normal", zorder=zorder, clip_on=False,
                    gid=gid + "-fallback")


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

    def shrunk(self, by: float) -> "_Box":
        """The same box, ``by`` pixels smaller on every side (touching is not overlapping)."""
        angle = math.degrees(math.atan2(self.uy, self.ux))
        return _Box(self.cx, self.cy, max(0.0, 2 * (self.hw - by)), max(0.0, 2 * (self.hh - by)),
                    angle)


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


# ---- layout: sizes in inches, decided before the figure exists -------------------------------
def _lane_pitch(n: int) -> float:
    return LANE_PITCH if n <= 3 else max(0.7, LANE_PITCH - 0.06 * (n - 3))


PERIODIC_MODES = ("fold", "faint", "show")
LOST_LINE = (0, (2.6, 2.4))     # the dashes of a lost message's line


def _legend_items(scene: Scene, periodic: str) -> list:
    """Legend entries (label, kind, style): every message type of the whole trace, then the
    marks that occur in it.  Built from the whole trace so the legend stays put while the
    trace player's slider moves."""
    items = []
    for name in scene.msg_types:
        s = P.message_style(name)
        if periodic == "fold" and name in scene.periodic_only:
            sent = scene.periodic_sent.get(name, 0)
            items.append((f"{name}: {sent} sent, a tick each", "tick",
                          dict(color=s["color"], linewidth=2.0)))
            continue
        faint = periodic == "faint" and name in scene.periodic_only
        items.append((name + (" (periodic, faint)" if faint else ""), "line",
                      dict(color=s["color"], linestyle=s["linestyle"], linewidth=2.2,
                           alpha=0.35 if faint else 1.0)))
    kinds = scene.kinds
    if "drop" in kinds:
        items.append(("lost message", "line", dict(color=P.MUTED, linestyle=LOST_LINE,
                                                   linewidth=1.8, marker="x", markersize=9,
                                                   markeredgewidth=2.4,
                                                   markeredgecolor=P.VERMILLION,
                                                   markevery=[1])))
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
    if scene.has_milestones:
        items.append(("state change (badge)", "marker", dict(P.MARKERS["milestone"])))
    if "timer" in kinds and not scene.periodic_timers_only:
        items.append(("timer fires", "marker", dict(P.MARKERS["timer"])))
    if "invoke" in kinds:
        items.append(("client operation", "line", dict(color=P.BLACK, alpha=0.25, linewidth=7,
                                                       solid_capstyle="butt")))
    sides = scene.partition_sides
    for i, group in (sides if len(sides) <= 4 else ()):
        items.append((f"partition side: {', '.join(group)}", "patch",
                      dict(facecolor=P.TINTS[i % len(P.TINTS)], alpha=0.3,
                           edgecolor=P.VERMILLION)))
    if len(sides) > 4:
        items.append(("partition sides (a tint each)", "patch",
                      dict(facecolor=P.TINTS[0], alpha=0.3, edgecolor=P.VERMILLION)))
    if "cut" in kinds:
        items.append(("link cut", "marker", dict(P.MARKERS["cut"])))
    return items


LEGEND_HANDLE = 30.0    # points
LEGEND_GAP = 6.0        # between handle and text
LEGEND_COLUMN_GAP = 16.0
LEGEND_ROW = 0.3        # inches
TITLE_LINE = 0.3        # inches per line of title
RIGHT = 0.3             # inches right of the axes
NOTE_ROW = 0.24         # inches per row of header notes


def _legend_layout(items, avail_pt: float):
    """Columns of equal width, as many as fit: (ncol, column width in points, rows)."""
    if not items:
        return 0, 0.0, 0
    col_w = max(text_width_pt(label, P.FONT["legend"]) for label, *_ in items) \
        + LEGEND_HANDLE + LEGEND_GAP
    ncol = int((avail_pt + LEGEND_COLUMN_GAP) // (col_w + LEGEND_COLUMN_GAP))
    ncol = max(1, min(len(items), ncol, 5))
    return ncol, col_w, math.ceil(len(items) / ncol)


def wrap_text(text: str, avail_pt: float, size: float, bold: bool = False) -> list:
    """``text`` broken into lines no wider than ``avail_pt`` (a word wider than that is cut)."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}" if line else word
        if line and text_width_pt(trial, size, bold) > avail_pt:
            lines.append(line)
            line = word
        else:
            line = trial
    if line:
        lines.append(line)
    out = []
    for line in lines or [""]:
        while text_width_pt(line, size, bold) > avail_pt and len(line) > 2:
            line = _shorten(line, len(line) - 2)
        out.append(line)
    return out


def _header_notes(scene: Scene, bands, now) -> list:
    """Notes for the strip above the lanes: (time, text, colour, strong, kind)."""
    notes = []
    for start, _stop, groups, step in scene.partitions:
        notes.append((start, "partition: " + " | ".join(", ".join(g) for g in groups),
                      P.VERMILLION, False, step))
    for t, step in scene.heals:
        notes.append((t, "heal", P.VERMILLION, False, step))
    for t, text, step in scene.rules:
        notes.append((t, _shorten(text, 28), P.MUTED, False, step))
    for label, start, _end in bands:
        notes.append((start, label, P.MUTED, False, None))
    if now is not None:
        notes.append((now, "now", P.BLACK, True, None))
    return notes


def _place_notes(notes, x_of, x_min, x_max, highlight=None, max_rows=4):
    """Put each note in the first row where it fits without touching another, left-aligned
    at its time if it can be (else right-aligned there), shortened if no row has room.
    x_of maps a time to pixels; notes stay between x_min and x_max.  Returns
    [(text, cx, row, colour, strong)] and the number of rows used."""
    size = P.FONT["note"]
    k = DPI / 72.0
    rows: list[list] = []            # per row: [(x0, x1)]
    placed = []
    order = sorted(notes, key=lambda n: (not (n[3] or (highlight is not None
                                                      and n[4] == highlight)), n[0]))
    for t, text, colour, strong, step in order:
        strong = strong or (highlight is not None and step == highlight)
        tx = x_of(t)
        for variant in (text, _shorten(text, 24), _shorten(text, 14)):
            w = text_width_pt(variant, size, strong) * k + 6
            spans = [(tx + 3, tx + 3 + w), (tx - 3 - w, tx - 3)]
            spans = [(a, b) for a, b in spans if a >= x_min and b <= x_max] or [
                (min(max(x_min, tx - w / 2), x_max - w), min(max(x_min, tx - w / 2), x_max - w) + w)]
            spot = None
            for r in range(max_rows):
                used = rows[r] if r < len(rows) else []
                for a, b in spans:
                    if all(b + 4 <= u0 or a - 4 >= u1 for u0, u1 in used):
                        spot = (r, a, b)
                        break
                if spot:
                    break
            if spot:
                r, a, b = spot
                while len(rows) <= r:
                    rows.append([])
                rows[r].append((a, b))
                placed.append((variant, (a + b) / 2, r, colour, strong))
                break
    return placed, len(rows)


def space_time(trace, upto=None, highlight=None, ax=None, title=None, width=None,
               labels=True, legend=True, periodic="fold", time_range=None, bands=None,
               hide_fields=()):
    """Draw a space-time diagram of a trace and return the matplotlib Figure.

    trace: a Trace (or a Simulation, whose trace is drawn).
    upto: draw only steps 0..upto (later deliveries show as messages in flight).
    highlight: a step whose events are drawn emphasised (the trace player's current step).
    ax: draw into these axes instead of a new figure (leave about 0.6 in below them, plus
    0.3 in per legend row, or pass legend=False).  width: figure width in inches.
    labels: False to leave out message labels.  legend: False to leave out the legend.
    periodic: what to do with messages a protocol sends periodically (heartbeats):
    "fold" (a tick per send on the sender's lane, one count label), "faint" (thin, pale,
    unlabelled arrows) or "show" (like any other message).
    time_range: (start, end) of the time axis, to draw runs that are compared on one axis
    (default: from 0 to just after the last event).  bands: [(label, start, end)] spans to
    shade, labelled above the lanes (``phases.space_time_phases`` passes a protocol's phases).
    hide_fields: message fields to leave out of the labels (e.g. ``("epoch",)``).
    The figure carries its alt text in ``fig.alt_text``; show it with ``replib.viz.show``.
    The axes, colours and legend depend on the whole trace, not on ``upto``, so frames of
    a trace player line up.  ``fig.replib_scene`` keeps what was drawn (arrows, marks),
    ``fig.replib_texts`` every piece of text and ``fig.replib_text_boxes`` where it went.
    """
    panel = _Panel(trace, upto, highlight, title, width, labels, legend, periodic, time_range,
                   bands, hide_fields)
    if ax is None:
        fig = Figure(figsize=(panel.fig_w, panel.height), dpi=DPI, facecolor="white")
        panel.draw_into(fig, 0.0)
    else:
        panel.draw_into(ax.figure, None, ax)
        fig = ax.figure
    panel.annotate(fig)
    return fig


def space_time_stack(traces, titles=None, width=None, time_range=None, **kwargs):
    """Two or more runs drawn one above the other on one time axis, for the text to compare
    them: each panel is a ``space_time`` (same options) with the same time range (the
    widest of them, unless given) and the same margins.  Returns one Figure, whose alt
    text describes each panel in turn."""
    traces = [_as_trace(t) for t in traces]
    if len(traces) < 2:
        raise ValueError("space_time_stack needs at least two traces to compare")
    titles = list(titles) if titles is not None else [None] * len(traces)
    if len(titles) != len(traces):
        raise ValueError(f"give one title per trace: {len(traces)} traces, {len(titles)} titles")
    if time_range is None:
        time_range = (0.0, max(max(_time_range(build_scene(t), None)[1] for t in traces), 1.0))
    panels = [_Panel(t, kwargs.get("upto"), kwargs.get("highlight"), ti, width,
                     kwargs.get("labels", True), kwargs.get("legend", True),
                     kwargs.get("periodic", "fold"), time_range, kwargs.get("bands"),
                     kwargs.get("hide_fields", ()))
              for t, ti in zip(traces, titles)]
    left = max(p.left for p in panels)
    fig_w = max(p.fig_w for p in panels)
    for p in panels:
        p.relayout(fig_w, left)
    fig = Figure(figsize=(fig_w, sum(p.height for p in panels)), dpi=DPI, facecolor="white")
    y = 0.0
    for p in reversed(panels):          # from the bottom of the figure up
        p.draw_into(fig, y)
        y += p.height
    fig.alt_text = " ".join(f"Panel {i + 1}: {p.alt_text}" for i, p in enumerate(panels))
    fig.replib_texts = [t for p in panels for t in p.drawer.ink.texts]
    fig.replib_text_sizes = [t for p in panels for t in p.drawer.ink.sizes]
    fig.replib_text_boxes = [t for p in panels for t in p.drawer.ink.extents]
    fig.replib_scenes = [p.scene for p in panels]
    return fig


class _Panel:
    """One diagram's scene and layout (in inches), decided before it is drawn, so that
    several can share one figure with the same margins and time axis."""

    def __init__(self, trace, upto, highlight, title, width, labels, legend, periodic,
                 time_range, bands, hide_fields=()):
        trace = _as_trace(trace)
        scene = build_scene(trace, upto)
        highlight = _check_step(trace, highlight, "highlight")
        if highlight is not None and upto is not None and highlight > upto:
            raise ValueError(f"highlight={highlight} is later than upto={upto}; the "
                             f"highlighted step must be one that is drawn")
        if width is not None and (isinstance(width, bool) or not isinstance(width, (int, float))
                                  or not 3 <= width <= 40):
            raise ValueError(f"width must be a figure width in inches between 3 and 40, got "
                             f"{width!r}")
        if periodic not in PERIODIC_MODES:
            raise ValueError(f"periodic must be one of {', '.join(PERIODIC_MODES)}, got "
                             f"{periodic!r}")
        if title is not None and not isinstance(title, str):
            raise ValueError(f"title must be a string, got {title!r}")
        self.trace, self.scene, self.highlight, self.title = trace, scene, highlight, title
        self.labels, self.periodic = labels, periodic
        if isinstance(hide_fields, str) or not all(isinstance(x, str) for x in hide_fields):
            raise ValueError(f"hide_fields must be a list of message field names, e.g. "
                             f"('epoch',); got {hide_fields!r}")
        self.hide_fields = tuple(hide_fields)
        self.bands = _check_bands(bands)
        x_lo, x_hi = _time_range(scene, time_range)
        _whole_trace_facts(scene, trace)
        self.legend_items = _legend_items(scene, periodic) if legend else []
        if time_range is None:
            x_pad = max(0.5 * scene.nominal, 0.03 * (x_hi - x_lo))
            self.xlim = (x_lo - 0.015 * (x_hi - x_lo + x_pad), x_hi + x_pad)
        else:
            span = x_hi - x_lo
            self.xlim = (x_lo - 0.015 * span, x_hi + 0.03 * span)
        self.now = scene.now if scene.upto is not None else None
        n = len(scene.nodes)
        self.pitch = _lane_pitch(n)
        lane_text = max([text_width_pt(x, P.FONT["lane"], True) for x in scene.nodes] +
                        [text_width_pt(r, P.FONT["role"]) for r in scene.roles.values()] + [30])
        left = min(2.6, 0.3 + lane_text / 72)
        span = x_hi - x_lo
        fig_w = float(width) if width is not None else min(10.5, max(8.0, 6.0 + 0.3 * span))
        self.relayout(fig_w, left)

    def relayout(self, fig_w, left):
        """Sizes for a figure ``fig_w`` inches wide with ``left`` inches for lane labels."""
        self.fig_w, self.left = fig_w, left
        self.axes_w = fig_w - left - RIGHT
        self.legend_layout = _legend_layout(self.legend_items, self.axes_w * 72)
        self.title_lines = wrap_text(self.title, self.axes_w * 72, P.FONT["title"], True) \
            if self.title else []
        notes = _header_notes(self.scene, self.bands, self.now)
        x0, x1 = self.xlim
        x_of = lambda t: (left + (t - x0) / (x1 - x0) * self.axes_w) * DPI  # noqa: E731
        _, rows = _place_notes(notes, x_of, left * DPI, (fig_w - 0.05) * DPI, self.highlight)
        self.header = max(HEADER, 0.2 + NOTE_ROW * rows)
        self.top = 0.2 + TITLE_LINE * (len(self.title_lines) + (self.highlight is not None))
        rows = self.legend_layout[2]
        self.bottom = 0.72 + LEGEND_ROW * rows + (0.12 if rows else 0)
        self.axes_h = max(len(self.scene.nodes), 1) * self.pitch + self.header + 0.1
        self.height = self.top + self.axes_h + self.bottom

    def draw_into(self, fig, y0, ax=None):
        """Draw into ``ax``, or into new axes placed ``y0`` inches above the figure's bottom."""
        if ax is None:
            fig_w, fig_h = fig.get_size_inches()
            ax = fig.add_axes((self.left / fig_w, (y0 + self.bottom) / fig_h,
                               self.axes_w / fig_w, self.axes_h / fig_h))
        else:
            fig_w = fig.get_size_inches()[0]
            pos = ax.get_position()
            self.header = HEADER
            self.legend_layout = _legend_layout(self.legend_items, pos.width * fig_w * 72)
            self.title_lines = wrap_text(self.title, pos.width * fig_w * 72, P.FONT["title"],
                                         True) if self.title else []
        n = len(self.scene.nodes)
        ax.set_xlim(*self.xlim)
        ax.set_ylim(-0.55, max(n - 1, 0) + 0.5 + self.header / self.pitch)
        ax.set_facecolor("white")
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        # the time axis is drawn by _Drawer.time_axis: matplotlib's own ticks cost more
        # (per-tick objects, deep copies) than the rest of the diagram
        ax.xaxis.set_major_locator(NullLocator())
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_locator(NullLocator())
        ax.yaxis.set_minor_locator(NullLocator())
        self.drawer = _Drawer(fig, ax, self.scene, self.trace, self.highlight, self.labels,
                              self.periodic, self.bands, self.hide_fields)
        self.drawer.draw(self.legend_items, self.legend_layout, self.title_lines)
        self.alt_text = describe_scene(self.scene, self.periodic)
        if self.bands:
            self.alt_text += " Shaded bands: " + "; ".join(
                f"{label} from t={_t(a)} to t={_t(b)}" for label, a, b in self.bands) + "."

    def annotate(self, fig):
        """What tests, tools and ``show`` read off a one-panel figure."""
        fig.alt_text = self.alt_text
        fig.replib_scene = self.scene
        fig.replib_texts = self.drawer.ink.texts
        fig.replib_text_sizes = self.drawer.ink.sizes
        fig.replib_text_boxes = self.drawer.ink.extents
        fig.replib_legend = [label for label, *_ in self.legend_items]


def _check_bands(bands) -> list:
    if bands is None:
        return []
    out = []
    for b in bands:
        if not (isinstance(b, (tuple, list)) and len(b) == 3 and isinstance(b[0], str)
                and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                        and math.isfinite(x) for x in b[1:]) and b[1] <= b[2]):
            raise ValueError(f"bands must be (label, start, end) with start <= end, finite "
                             f"times; got {b!r}")
        out.append((b[0], float(b[1]), float(b[2])))
    return out


def _time_range(scene: Scene, time_range):
    """The time axis: the given (start, end), or 0 to the last event of the whole trace."""
    if time_range is None:
        return 0.0, max(scene.last, 1.0)
    if not (isinstance(time_range, (tuple, list)) and len(time_range) == 2 and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
            for x in time_range) and time_range[0] < time_range[1]):
        raise ValueError(f"time_range must be (start, end) with finite start < end, got "
                         f"{time_range!r}")
    return float(time_range[0]), float(time_range[1])


def _whole_trace_facts(scene: Scene, trace: Trace) -> None:
    """What the legend needs to know about the whole trace (so it does not change while a
    slider moves): the message types only ever sent periodically, whether every timer is a
    periodic one, whether there are milestones."""
    periodic, other, sent = set(), set(), {}
    for e in trace.events:
        if e.kind == "send":
            if is_periodic(e.msg):
                periodic.add(e.msg_type)
                sent[e.msg_type] = sent.get(e.msg_type, 0) + 1
            else:
                other.add(e.msg_type)
    scene.periodic_only = periodic - other
    scene.periodic_sent = sent
    sides = []           # (tint index, group) of every partition, as the lanes tint them
    for e in trace.events:
        if e.kind == "partition":
            for i, g in enumerate(e.msg or ()):
                if (i, tuple(g)) not in sides:
                    sides.append((i, tuple(g)))
    scene.partition_sides = sides
    timers = [e.msg for e in trace.events if e.kind == "timer"]
    scene.periodic_timers_only = bool(timers) and all(is_periodic(t) for t in timers)
    scene.has_milestones = bool(milestones(trace))


class _Drawer:
    """Draws a scene into an axes; one method per layer, bottom to top."""

    def __init__(self, fig, ax, scene: Scene, trace: Trace, highlight, labels, periodic="fold",
                 bands=(), hide_fields=()):
        self.fig, self.ax, self.scene, self.trace = fig, ax, scene, trace
        self.highlight = highlight
        self.labels = labels
        self.periodic = periodic
        self.bands = bands
        self.hide_fields = hide_fields
        self.blocked = _Placer()    # everything a label must keep off (one test for most)
        self.marks = _Placer()      # arrowheads, crosses, markers: no text on them
        self.words = _Placer()      # text already placed: nothing on it
        # the lines of messages are only in `blocked`: a filled badge may cover a line
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
        self.fig_w_px = fig.get_size_inches()[0] * fig.dpi
        self.fig_h_px = fig.get_size_inches()[1] * fig.dpi

    def to_px(self, p):
        """Data -> pixels, for a point (x, y)."""
        return (p[0] * self.sx + self.tx, p[1] * self.sy + self.ty)

    def to_data(self, p):
        """Pixels -> data, for a point (x, y)."""
        return ((p[0] - self.tx) / self.sx, (p[1] - self.ty) / self.sy)

    def is_hl(self, *steps) -> bool:
        return self.highlight is not None and self.highlight in steps

    def folded(self, a: Arrow) -> bool:
        """Is this (periodic) message folded into a tick rather than drawn as an arrow?"""
        return (a.periodic and self.periodic == "fold"
                and not self.is_hl(a.send_step, a.end_step))

    def titles(self, title_lines):
        """The title (left, wrapped) and the highlighted step (on the line below), above the
        axes."""
        k = self.px_per_pt
        m = self.ax.transAxes.get_affine().get_matrix()
        left, width = float(m[0, 2]), float(m[0, 0])
        y = float(m[1, 2] + m[1, 1]) + 12 * k
        lines = list(title_lines)
        if self.step_text:
            lines = lines + [None]
        for i, line in enumerate(reversed(lines)):
            yy = y + i * TITLE_LINE * self.fig.dpi
            if line is None:
                room = width / k
                text = self.step_text
                while len(text) > 12 and text_width_pt(text, P.FONT["note"]) > room:
                    text = _shorten(text, len(text) - 4)
                self.ink.add(text, P.FONT["note"], k, left, yy, 0, P.MUTED, align="left")
            else:
                self.ink.add(line, P.FONT["title"], k, left, yy, 0, P.BLACK, bold=True,
                             align="left")

    def draw(self, legend=(), layout=(0, 0.0, 0), title_lines=()):
        self.partitions()
        self.band_spans()
        self.future()
        self.lanes()
        self.ops()
        self.highlight_band()
        self.arrows()
        self.markers()
        self.milestone_marks()
        self.place_labels()
        self.lane_labels()
        self.header()
        self.time_axis()
        self.legend(legend, layout)
        self.titles(title_lines)
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

    def band_spans(self):
        """Shaded spans (a protocol's phases), below everything, one tint and hatch each."""
        tints = (P.SKY_BLUE, P.ORANGE, P.BLUISH_GREEN, P.REDDISH_PURPLE)
        hatches = ("", "//", "..", "\\\\")
        for k, (_label, start, end) in enumerate(self.bands):
            self.ax.add_patch(Rectangle((start, self.ylim[0]), max(end - start, 1e-9),
                                        self.lane_top - self.ylim[0],
                                        color=tints[k % len(tints)], alpha=0.15,
                                        hatch=hatches[k % 4], linewidth=0,
                                        zorder=0, gid="replib-band"))

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
        ticks, tick_c = [], []
        folded: dict[tuple, list] = {}           # (sender, type) -> [first time, count, lost]
        head_len = 9.0 * self.px_per_pt
        head_half = 3.6 * self.px_per_pt
        faded = self.highlight is not None
        to_px, to_data = self.to_px, self.to_data
        for a in s.arrows:
            style = P.message_style(type(a.msg).__name__)
            y0, y1 = s.lane(a.src), s.lane(a.dst)
            if self.folded(a):
                if a.copy is None:               # one tick per send, copies aside
                    ticks.append([(a.t0, y0 - 0.1), (a.t0, y0 + 0.1)])
                    tick_c.append(_rgba(style["color"], 0.55))
                    entry = folded.setdefault((a.src, type(a.msg).__name__), [a.t0, 0, 0])
                    entry[1] += 1
                    entry[2] += a.fate == "dropped"
                continue
            if a.src == a.dst:           # a message to oneself: a small hump above the lane
                mid = (a.t0 + a.t1) / 2
                pts = [(a.t0, y0), (mid, y0 + 0.28 * max(a.frac, 0.4)), (a.t1, y0)]
                if a.fate != "delivered":
                    pts = pts[:2]
            else:
                pts = [(a.t0, y0), (a.t1, y0 + a.frac * (y1 - y0))]
            px = [to_px(p) for p in pts]
            hl = self.is_hl(a.send_step, a.end_step)
            faint = a.periodic and self.periodic == "faint" and not hl
            lw = 3.6 if hl else (0.9 if faint else 1.9)
            alpha = 1.0 if (hl or not faded) else 0.55
            if faint:
                alpha = 0.3
            linestyle = style["linestyle"]
            if a.fate == "delivered":
                # an arrowhead; the shaft stops at its base so dashes do not poke through
                (tx, ty), (qx, qy) = px[-1], px[-2]
                length = math.hypot(tx - qx, ty - qy) or 1.0
                ux, uy = (tx - qx) / length, (ty - qy) / length
                scale = 1.35 if hl else (0.7 if faint else 1.0)
                h_len = min(head_len * scale, 0.6 * length)
                bx, by = tx - ux * h_len, ty - uy * h_len
                nx_, ny_ = -uy * head_half * scale, ux * head_half * scale
                heads.append([to_data((tx, ty)), to_data((bx + nx_, by + ny_)),
                              to_data((bx - nx_, by - ny_))])
                if not faint:
                    self._mark(_Box(tx - ux * h_len / 2, ty - uy * h_len / 2, h_len,
                                    2 * head_half * scale, math.degrees(math.atan2(uy, ux))))
                head_fc.append(_rgba("#FFFFFF", alpha) if a.copy else _rgba(style["color"], alpha))
                head_ec.append(_rgba(style["color"], alpha))
                px[-1] = (bx + ux * 0.5, by + uy * 0.5)
                pts[-1] = to_data(px[-1])
            elif a.fate == "dropped":
                drops.append(pts[-1])
                drop_hl.append(hl)
                linestyle = LOST_LINE
            else:
                flights.append(pts[-1])
                flight_c.append(style["color"])
                self._obstacle_px(px[-1], 9)
            if not faint:
                for (p0, p1), (q0, q1) in zip(px, px[1:]):   # labels must not hide arrows
                    self.blocked.add(_Box((p0 + q0) / 2, (p1 + q1) / 2, math.hypot(q0 - p0, q1 - p1),
                                    lw * self.px_per_pt + 2,
                                    math.degrees(math.atan2(q1 - p1, q0 - p0))))
            shafts.append(pts)
            colours.append(_rgba(style["color"], alpha))
            styles.append(linestyle)
            widths.append(lw)
            if self.labels and not faint:
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
        if ticks:
            ax.add_collection(LineCollection(ticks, colors=tick_c, linewidths=2.0, zorder=1.7,
                                             gid="replib-periodic"))

    def _arrow_label(self, a: Arrow, px, style, hl):
        text = short_label(a.msg, a.src, a.dst, hide=self.hide_fields)
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
                    f"{name} lost", "lost"]
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
        timers = [x for x in s.timers if self.periodic != "fold" or not is_periodic(x[2])
                  or self.is_hl(x[3])]
        if timers:
            xs = [t for t, *_ in timers]
            ys = [s.lane(node) for _, node, *_ in timers]
            ax.plot(xs, ys, linestyle="none", zorder=3, gid="replib-timers", **P.MARKERS["timer"])
            for t, node, timer, step in timers:
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

    def milestone_marks(self):
        """A diamond on the lane at each milestone, and its badge ("primary e2") nearby."""
        s, ax = self.scene, self.ax
        if not s.milestones:
            return
        xs = [t for t, *_ in s.milestones]
        ys = [s.lane(node) for _, node, *_ in s.milestones]
        ax.plot(xs, ys, linestyle="none", zorder=3.45, gid="replib-milestones",
                **P.MARKERS["milestone"])
        grouped: dict[tuple, list] = {}        # one badge per node and moment, a line each
        for t, node, text, step in s.milestones:
            grouped.setdefault((node, t), []).append((text, step))
        for (node, t), items in grouped.items():
            self._obstacle(t, s.lane(node), 10)
            texts = [text for text, _ in items]
            full = "\n".join(texts)
            variants = [full] if len(texts) == 1 else [full, texts[0] + " …"]
            hl = self.is_hl(*[step for _, step in items])
            self.pending_labels.append((0 if hl else 1, t, full,
                                        (t, s.lane(node)), 0.0,
                                        dict(color=P.BLACK, badge=True, bold=True,
                                             variants=variants)))

    def _obstacle(self, x, y, size_pt):
        self._obstacle_px(self.to_px((x, y)), size_pt)

    def _obstacle_px(self, p, size_pt):
        """Keep labels off a mark (arrowhead, cross, marker) of about ``size_pt``."""
        side = size_pt * self.px_per_pt
        self._mark(_Box(float(p[0]), float(p[1]), side, side, 0.0))

    def _mark(self, box):
        self.marks.add(box)
        self.blocked.add(box)

    # -- labels ---------------------------------------------------------------------------
    def place_labels(self):
        size = P.FONT["label"]
        line_px = 1.2 * size * self.px_per_pt
        pad_px = 0.25 * size * self.px_per_pt
        x_lo, y_lo = self.to_px((self.xlim[0], self.ylim[0]))
        x_hi, y_hi = self.to_px((self.xlim[1], self.lane_top + 0.35))
        x_hi = min(x_hi, self.fig_w_px - 4)
        busy = len(self.pending_labels) > 60      # dense: message names only
        misses = 0
        for prio, _when, text, anchor, angle, opts in sorted(
                self.pending_labels, key=lambda p: (p[0], p[1])):
            force = opts.get("hl", False)
            if misses >= 150 and not force:     # the picture is full: stop looking
                continue
            placed = None
            variants = opts.get("variants") or [text]
            if busy and not force and not opts.get("badge"):
                variants = variants[-1:]
            bold = bool(opts.get("bold") or opts.get("hl"))
            badge = bool(opts.get("badge"))
            # a label keeps off text, marks and lines; a filled badge may cover a line, and
            # in the last resort a mark, never text
            tests = [(self.blocked,)]
            if badge:
                tests = [(self.blocked,), (self.words, self.marks), (self.words,)]
            for variant in variants:            # the full text, even over a line, first
                for placers in tests:
                    lines = variant.split("\n")
                    w_px = max(text_width_pt(x, size, bold) for x in lines) * self.px_per_pt \
                        + 2 * pad_px
                    h_px = len(lines) * line_px + 1.5 * pad_px
                    for cx, cy in self._candidates(anchor, opts, w_px, h_px):
                        corners = _Box(cx, cy, w_px, h_px, angle)
                        if corners.x0 < x_lo - 2 or corners.x1 > x_hi or \
                                corners.y0 < y_lo - 2 or corners.y1 > y_hi:
                            continue
                        if all(pl.free(corners) for pl in placers):
                            placed = (variant, cx, cy, corners)
                            break
                    if placed:
                        break
                if placed:
                    break
            if placed is None:
                misses += 1
                continue
            variant, cx, cy, corners = placed
            self.words.add(corners)
            self.blocked.add(corners)
            if opts.get("badge"):
                self.ink.add_box(corners, -1.0, P.BADGE_FILL, P.BLACK, 1.0)
            elif opts.get("box"):
                self.ink.add_box(corners, -1.0, (1, 1, 1, 0.9), opts["box"],
                                 1.8 if opts.get("hl") else 1.0)
            self.ink.add(variant, size, self.px_per_pt, cx, cy, angle,
                         P.BLACK if (opts.get("box") or opts.get("badge")) else opts["color"],
                         bold=bold)

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
            for f in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8):
                px_, py_ = ax_ + f * vx, ay_ + f * vy
                out += [(px_ + ox, py_ + oy), (px_ - ox, py_ - oy)]
            return out
        cx, cy = anchor if opts.get("px") else self.to_px(anchor)
        if opts.get("badge"):       # just above the lane, then below it, sliding sideways
            k = self.px_per_pt
            up, down = cy + 0.5 * h_px + 6 * k, cy - 0.5 * h_px - 6 * k
            half = w_px / 2
            return [(cx + half - 4 * k, up), (cx - half + 4 * k, up), (cx + half - 4 * k, down),
                    (cx - half + 4 * k, down), (cx + half + 14 * k, up),
                    (cx + half + 14 * k, down), (cx - half - 14 * k, up),
                    (cx - half - 14 * k, down), (cx, up + h_px), (cx, down - h_px),
                    (cx + 3 * half, up), (cx + 3 * half, down), (cx - 3 * half, up),
                    (cx - 3 * half, down)]
        if opts.get("near_x"):      # "lost: ..." beside a drop mark
            off = w_px / 2 + 9 * self.px_per_pt
            up = 0.5 * h_px + 8 * self.px_per_pt
            return [(cx + off, cy), (cx - off, cy), (cx, cy - up), (cx, cy + up),
                    (cx + off, cy - up), (cx + off, cy + up), (cx - off, cy - up),
                    (cx - off, cy + up)]
        step = 12 * self.px_per_pt
        if opts.get("from_left"):
            return [(cx + w_px / 2, cy), (cx + w_px / 2 + step, cy), (cx, cy),
                    (cx + w_px / 2, cy - step), (cx + w_px / 2 + 2 * step, cy)]
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
        last_right = -math.inf
        for v in ticks:
            px, _ = self.to_px((v, 0))
            segs.append([self.to_data((px, base)), self.to_data((px, base - 4 * k))])
            text = f"{v:g}" if abs(v) >= 1e-12 else "0"
            w = text_width_pt(text, P.FONT["tick"]) * k
            if px - w / 2 < last_right + 4 * k:        # no room: a tick mark without number
                continue
            self.ink.add(text, P.FONT["tick"], k, px, base - 13 * k, 0, P.BLACK)
            last_right = px + w / 2
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
            elif kind == "tick":    # three short ticks, like folded periodic messages
                lo = self.to_data((hx, hy - 6 * k))
                hi = self.to_data((hx, hy + 6 * k))
                segs = [[(lo[0] + f * (b[0] - a[0]), lo[1]), (lo[0] + f * (b[0] - a[0]), hi[1])]
                        for f in (0.15, 0.5, 0.85)]
                art = LineCollection(segs, colors=style["color"], linewidths=style["linewidth"])
            else:
                lo = self.to_data((hx, hy - 5 * k))
                hi = self.to_data((hx + LEGEND_HANDLE * k, hy + 5 * k))
                art = Rectangle(lo, hi[0] - lo[0], hi[1] - lo[1], **style)
            art.set_clip_on(False)
            if isinstance(art, Rectangle):
                ax.add_artist(art)
            elif isinstance(art, LineCollection):
                ax.add_collection(art, autolim=False)
            else:
                ax.add_line(art)
            self.ink.add(label, P.FONT["legend"], k, hx + (LEGEND_HANDLE + LEGEND_GAP) * k, hy,
                         0, P.BLACK, align="left")
        self.legend_labels = [label for label, *_ in items]

    def header(self):
        """Notes above the top lane, in as many rows as they need: partitions, heals, fault
        rules, shaded bands' labels, and 'now'."""
        notes = _header_notes(self.scene, self.bands, self.now)
        if not notes:
            return
        size = P.FONT["note"]
        k = self.px_per_pt
        x_of = lambda t: self.to_px((t, 0))[0]  # noqa: E731
        m = self.ax.transAxes.get_affine().get_matrix()
        placed, _ = _place_notes(notes, x_of, float(m[0, 2]), self.fig_w_px - 5,
                                 self.highlight)
        top = self.to_px((0, self.ylim[1]))[1]
        row_px = NOTE_ROW * self.fig.dpi
        for text, cx, row, colour, strong in placed:
            cy = top - 0.5 * row_px - row * row_px - 2 * k
            self.ink.add(text, size, k, cx, cy, 0, colour, bold=strong)


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
