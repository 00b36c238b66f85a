"""Fault injection: a small set of plain functions that build a fault schedule.

Each function returns a ``Fault``; pass a list of them to ``Simulation(faults=...)``.
A fault happens either at a simulated time (``at=5``) or the first time a condition on the
simulation holds (``when=lambda sim: ...``), e.g. "after the primary's first update":

    crash("primary", when=lambda sim: sim.trace.count("send", node="primary", msg_type="Update"))

Widgets bind the same functions to buttons and apply them at once with ``sim.apply``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .validate import choice, finite_time, function, names, whole_number

KINDS = ("crash", "restart", "partition", "heal", "cut", "drop")


@dataclass(frozen=True)
class Fault:
    kind: str
    nodes: tuple = ()          # crash/restart: (node,); cut: (src, dst); partition: groups
    at: float | None = None
    when: object = field(default=None, compare=False)
    msg_type: str | None = None   # drop: which messages (by class name)
    count: int = 1                # drop: how many

    def __post_init__(self):
        choice("fault kind", self.kind, KINDS)
        if self.at is not None and self.when is not None:
            raise ValueError(f"{self.kind}: give at= or when=, not both")
        if self.at is not None:
            finite_time(f"{self.kind}: at=", self.at, zero_ok=True)
        if self.when is not None:
            function(f"{self.kind}: when=", self.when)
        if self.kind == "partition":
            for number, group in enumerate(self.nodes, 1):
                names(f"partition group {number}", group, at_least=1)
        elif self.kind == "cut" and self.nodes[0] == self.nodes[1]:
            raise ValueError(f"cut: src and dst must be two different nodes, got "
                             f"{self.nodes[0]!r} twice")
        elif self.kind == "drop":
            for end, node in zip(("src", "dst"), self.nodes):
                if node is not None and (not isinstance(node, str) or not node):
                    raise ValueError(f"drop: {end} must be None (any node) or a node id, "
                                     f"got {node!r}")
            if self.msg_type is not None and (not isinstance(self.msg_type, str)
                                              or not self.msg_type):
                raise ValueError(f"drop: msg_type must be a message class or its name "
                                 f"(None: any message), got {self.msg_type!r}")
        whole_number(f"{self.kind}: count", self.count, 1)

    def describe(self) -> str:
        what = {
            "crash": lambda: f"crash {self.nodes[0]}",
            "restart": lambda: f"restart {self.nodes[0]}",
            "partition": lambda: "partition " + " | ".join(",".join(g) for g in self.nodes),
            "heal": lambda: "heal the network",
            "cut": lambda: f"cut {self.nodes[0]}->{self.nodes[1]}",
            "drop": lambda: (f"drop {self.count} {self.msg_type or 'message'}(s)"
                             + (f" {self.nodes[0] or '*'}->{self.nodes[1] or '*'}"
                                if any(self.nodes) else "")),
        }[self.kind]()
        if self.at is not None:
            return f"{what} at t={self.at:g}"
        if self.when is not None:
            return f"{what} when a condition holds"
        return what


def _node(name, node):
    if not isinstance(node, str) or not node:
        raise ValueError(f"{name}: give a node id (a string), got {node!r}")
    return (node,)


def crash(node: str, at: float | None = None, when=None) -> Fault:
    """Crash ``node``: it stops, loses its volatile state and timers, keeps stable storage."""
    return Fault("crash", _node("crash", node), at, when)


def restart(node: str, at: float | None = None, when=None) -> Fault:
    """Restart a crashed ``node`` from its stable storage."""
    return Fault("restart", _node("restart", node), at, when)


def partition(*groups, at: float | None = None, when=None) -> Fault:
    """Split the network into groups, e.g. ``partition(["a", "b"], ["c"], at=3)``.

    Nodes named in no group form one more group together."""
    if not groups:
        raise ValueError("partition needs at least one group, e.g. partition(['a'], ['b', 'c'])")
    norm = [(g,) if isinstance(g, str) else names(f"partition group {n}", g, at_least=1)
            for n, g in enumerate(groups, 1)]
    return Fault("partition", tuple(norm), at, when)


def heal(at: float | None = None, when=None) -> Fault:
    """Remove every partition and cut."""
    return Fault("heal", (), at, when)


def cut(src: str, dst: str, at: float | None = None, when=None) -> Fault:
    """From then on ``dst`` receives nothing from ``src`` (a one-way cut)."""
    return Fault("cut", _node("cut", src) + _node("cut", dst), at, when)


def drop(msg_type: str | None = None, src: str | None = None, dst: str | None = None,
         count: int = 1, at: float | None = None, when=None) -> Fault:
    """Lose the next ``count`` messages of class ``msg_type`` (any, if None) from src to dst."""
    if isinstance(msg_type, type):
        msg_type = msg_type.__name__
    return Fault("drop", (src, dst), at, when, msg_type=msg_type, count=count)
