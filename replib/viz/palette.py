"""Colours, line styles and markers shared by every replib picture.

Colours come from the Okabe-Ito palette, which stays distinguishable for the common forms
of colour blindness.  Colour is never the only cue: each message type also has a line
style (solid for requests and commands, dashed for replies and acknowledgements, dotted
for refusals and heartbeats), and every event kind has its own marker shape.

The same message type always gets the same style, in every diagram and every call, so a
reader who learned "Forward is the vermillion solid arrow" in one chapter can rely on it
in the next.  Well-known names of the course have hand-picked styles that stay distinct
within each protocol; other names get a style derived from a stable hash of the name.
Call ``register_message_style`` to pin a style for a new protocol's messages.
"""

from __future__ import annotations

import zlib

# ---- the Okabe-Ito palette ------------------------------------------------------------
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"

OKABE_ITO = (BLACK, ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, REDDISH_PURPLE)

#: colours dark enough to draw thin lines with on white (yellow is not)
LINE_COLOURS = (BLUE, VERMILLION, BLUISH_GREEN, REDDISH_PURPLE, ORANGE, SKY_BLUE, BLACK)

# neutral greys for structure (lanes, down time, text that is not data)
LANE = "#6E6E6E"
DOWN = "#B8B8B8"
MUTED = "#5A5A5A"
TINTS = (SKY_BLUE, ORANGE, BLUISH_GREEN, REDDISH_PURPLE)   # partition sides, light alpha

# ---- line styles: the second cue for message types --------------------------------------
SOLID = "solid"
DASHED = (0, (5.0, 2.2))
DOTTED = (0, (1.2, 1.8))
DASHDOT = (0, (5.0, 1.8, 1.2, 1.8))
LINE_STYLES = {"solid": SOLID, "dashed": DASHED, "dotted": DOTTED, "dashdot": DASHDOT}

_REPLY_WORDS = ("ack", "ok", "reply", "response", "promise", "accepted", "vote", "result")
_REFUSAL_WORDS = ("nack", "reject", "refuse", "heartbeat", "ping", "abort")

# Hand-picked styles: within each protocol of the course the types differ in colour,
# and requests/replies differ in line style as well.
_KNOWN: dict[str, tuple[str, str]] = {
    # clients
    "Request": (BLUE, "solid"), "Reply": (SKY_BLUE, "dashed"),
    # forwarding, sync/async replication, primary/backup
    "Forward": (VERMILLION, "solid"), "ForwardAck": (ORANGE, "dashed"),
    "Update": (VERMILLION, "solid"), "UpdateAck": (ORANGE, "dashed"),
    "Ack": (ORANGE, "dashed"), "Heartbeat": (BLACK, "dotted"),
    "NewEpoch": (REDDISH_PURPLE, "dashdot"), "EpochAck": (BLUISH_GREEN, "dashed"),
    # two- and three-phase commit
    "Vote": (BLUISH_GREEN, "dashed"), "VoteYes": (BLUISH_GREEN, "dashed"),
    "VoteNo": (BLACK, "dotted"), "Commit": (VERMILLION, "solid"), "Abort": (BLACK, "dashdot"),
    "CanCommit": (REDDISH_PURPLE, "solid"), "PreCommit": (BLACK, "solid"),
    "DoCommit": (VERMILLION, "solid"), "PreCommitAck": (SKY_BLUE, "dashed"),
    "Ask": (BLUE, "dotted"), "Answer": (SKY_BLUE, "dashed"),
    # Paxos
    "Prepare": (REDDISH_PURPLE, "solid"), "Promise": (BLUISH_GREEN, "dashed"),
    "Accept": (VERMILLION, "solid"), "Accepted": (ORANGE, "dashed"),
    "Nack": (BLACK, "dotted"), "Reject": (BLACK, "dotted"), "Decide": (BLACK, "dashdot"),
    "Chosen": (BLACK, "dashdot"),
}
_registered: dict[str, tuple[str, str]] = {}


def _stable_hash(name: str) -> int:
    """A hash that is the same in every process (Python's hash() of str is salted)."""
    return zlib.crc32(name.encode("utf-8"))


def _style_word(name: str) -> str:
    low = name.lower()
    if any(w in low for w in _REFUSAL_WORDS):
        return "dotted"
    if any(low.endswith(w) for w in _REPLY_WORDS):
        return "dashed"
    return "solid"


def message_style(msg_type: str) -> dict:
    """Colour and line style for a message type name: ``{"color": ..., "linestyle": ...}``.

    The answer depends on the name only, so it is the same in every diagram."""
    if not isinstance(msg_type, str) or not msg_type:
        raise ValueError(f"message_style takes a message type name, got {msg_type!r}")
    colour, word = _registered.get(msg_type) or _KNOWN.get(msg_type) or (
        LINE_COLOURS[_stable_hash(msg_type) % len(LINE_COLOURS)], _style_word(msg_type))
    return {"color": colour, "linestyle": LINE_STYLES[word], "style_name": word}


def register_message_style(msg_type: str, color: str, linestyle: str = "solid") -> None:
    """Pin the style of a message type (e.g. for a new protocol's messages)."""
    if linestyle not in LINE_STYLES:
        raise ValueError(f"linestyle must be one of {sorted(LINE_STYLES)}, got {linestyle!r}")
    if not isinstance(msg_type, str) or not msg_type:
        raise ValueError(f"msg_type must be a message class name, got {msg_type!r}")
    _registered[msg_type] = (color, linestyle)


# ---- roles (node colours in topology pictures and lane labels) ---------------------------
_ROLES: dict[str, str] = {
    "Client": SKY_BLUE, "Server": BLUE, "Primary": BLUE, "Leader": BLUE,
    "Replica": ORANGE, "Backup": ORANGE, "Follower": ORANGE,
    "Coordinator": REDDISH_PURPLE, "Participant": BLUISH_GREEN, "Cohort": BLUISH_GREEN,
    "Proposer": VERMILLION, "Acceptor": BLUISH_GREEN, "Learner": YELLOW,
}
_ROLE_FALLBACK = (BLUE, ORANGE, BLUISH_GREEN, REDDISH_PURPLE, VERMILLION, SKY_BLUE, YELLOW)


def role_color(role: str | None) -> str:
    """The fill colour of a role (a node class name); stable across calls."""
    if not role:
        return DOWN
    if role in _ROLES:
        return _ROLES[role]
    return _ROLE_FALLBACK[_stable_hash(role) % len(_ROLE_FALLBACK)]


def text_color_on(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (a #RRGGBB colour)."""
    r, g, b = (int(fill[i:i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return BLACK if luminance > 0.45 else "#FFFFFF"


# ---- markers: a shape per event kind -------------------------------------------------------
MARKERS = {
    "crash": dict(marker="X", markersize=15, color=BLACK, markeredgecolor="white",
                  markeredgewidth=1.0),
    "restart": dict(marker="o", markersize=10, color=BLACK, markeredgecolor="white",
                    markeredgewidth=1.0),
    "drop": dict(marker="x", markersize=11, markeredgewidth=2.8, color=VERMILLION),
    "timer": dict(marker="o", markersize=6.5, markerfacecolor="white", markeredgewidth=1.6,
                  color=MUTED),
    "cut": dict(marker="|", markersize=18, markeredgewidth=3.0, color=VERMILLION),
    "in flight": dict(marker="o", markersize=6, markerfacecolor="white", markeredgewidth=1.6),
    "milestone": dict(marker="D", markersize=8, color=BLACK, markerfacecolor=YELLOW,
                      markeredgecolor=BLACK, markeredgewidth=1.2),
}

#: the fill of a milestone's badge ("primary e2"): a pale yellow, black text on it
BADGE_FILL = (1.0, 0.96, 0.72, 0.95)

#: font sizes, in points (projector-readable: nothing below 11)
FONT = {"label": 11, "lane": 13, "role": 11, "title": 14, "legend": 11, "tick": 11, "note": 11}
