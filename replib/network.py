"""The network: per-link latency, loss, duplication, partitions and one-way cuts.

Every random draw uses the simulation's seeded ``random.Random``; nothing here reads a
clock.  Reordering needs no switch: two messages on a link with random latency can arrive
in either order (set ``fifo=True`` for links that keep order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .validate import boolean, number, probability


@dataclass(frozen=True)
class Constant:
    """Every message takes exactly ``delay``."""

    delay: float = 1.0

    def __post_init__(self):
        number("Constant latency delay", self.delay, 0)

    def sample(self, rng) -> float:
        return float(self.delay)

    def __str__(self):
        return f"constant {self.delay:g}"


@dataclass(frozen=True)
class Uniform:
    """Latency drawn uniformly between ``low`` and ``high``."""

    low: float = 0.5
    high: float = 1.5

    def __post_init__(self):
        number("Uniform latency low", self.low, 0)
        number("Uniform latency high", self.high, self.low)

    def sample(self, rng) -> float:
        # what rng.uniform(low, high) computes, without its extra call (the simulator's hot path)
        return self.low + (self.high - self.low) * rng.random()

    def __str__(self):
        return f"uniform {self.low:g}..{self.high:g}"


@dataclass(frozen=True)
class LongTail:
    """Log-normal latency: usually near ``median``, now and then many times slower.

    ``spread`` is the log-normal sigma: 0 gives a constant, 1 a heavy tail (the 99th
    percentile is about 10x the median)."""

    median: float = 1.0
    spread: float = 0.8

    def __post_init__(self):
        number("LongTail latency median", self.median, 0)
        number("LongTail latency spread", self.spread, 0, 5)

    def sample(self, rng) -> float:
        return self.median * math.exp(self.spread * rng.gauss(0.0, 1.0))

    def __str__(self):
        return f"long tail (median {self.median:g}, spread {self.spread:g})"


LATENCY_MODELS = (Constant, Uniform, LongTail)


def _check_latency(model, where="latency"):
    if not isinstance(model, LATENCY_MODELS):
        names = ", ".join(m.__name__ for m in LATENCY_MODELS)
        raise ValueError(f"{where} must be one of {names} (from replib.network), got {model!r}")


class Network:
    """How messages travel.  Configure it, then hand it to a Simulation.

    latency: the default latency model for every link; ``links`` overrides it for some
    directed links, e.g. ``{("primary", "backup2"): LongTail(1, 1.2)}``.
    loss, duplicate: probabilities in [0, 1] that a message is lost, or delivered twice.
    fifo: messages on one directed link arrive in the order they were sent.
    """

    def __init__(self, latency=None, loss: float = 0.0, duplicate: float = 0.0,
                 fifo: bool = False, links: dict | None = None):
        self.latency = Constant(1.0) if latency is None else latency
        _check_latency(self.latency)
        self.loss = loss
        self.duplicate = duplicate
        self.fifo = boolean("fifo", fifo)
        self._ids = None    # set when a Simulation attaches the network (set_latency reads it)
        self.links = {}
        if links is not None and not isinstance(links, dict):
            raise ValueError(f"links must be a dict (src, dst) -> latency model, e.g. "
                             f"{{('primary', 'b1'): LongTail(1, 1.2)}}, got {links!r}")
        for link, model in (links or {}).items():
            if not (isinstance(link, tuple) and len(link) == 2):
                raise ValueError(f"links: each key must be a (src, dst) pair of node ids, "
                                 f"got {link!r}")
            self.set_latency(*link, model)
        self.groups = None  # None: no partition; else a dict node -> group number
        self.cuts = set()   # (src, dst): dst hears nothing from src

    # loss and duplicate are validated whenever they change (sliders set them too)
    @property
    def loss(self):
        return self._loss

    @loss.setter
    def loss(self, value):
        self._loss = probability("loss", value)

    @property
    def duplicate(self):
        return self._duplicate

    @duplicate.setter
    def duplicate(self, value):
        self._duplicate = probability("duplicate", value)

    def set_latency(self, src: str, dst: str, model) -> None:
        """Use ``model`` for messages from src to dst."""
        _check_latency(model, f"latency of link {src}->{dst}")
        if self._ids is not None:
            self._check_ids([src, dst], "set_latency")
        self.links[(src, dst)] = model

    def _attach(self, ids) -> None:
        self._ids = tuple(ids)
        for src, dst in self.links:
            self._check_ids([src, dst], "links")

    def _check_ids(self, names, where) -> None:
        if self._ids is None:
            raise ValueError(f"{where}: this network is not part of a Simulation yet, so it does "
                             f"not know the nodes; use sim.partition/sim.apply(...) or faults=[...]")
        unknown = [n for n in names if n not in self._ids]
        if unknown:
            raise ValueError(f"{where} names unknown node(s) {unknown}; nodes are {list(self._ids)}")

    def latency_of(self, src: str, dst: str):
        return self.links.get((src, dst), self.latency)

    # ---- partitions and cuts ------------------------------------------------------------
    def partition(self, groups) -> tuple:
        """Split the nodes into groups that can talk only within themselves.

        Groups must not overlap; nodes named in no group form one more group together.
        Returns the groups as tuples, the leftover group last."""
        groups = [tuple(g) for g in groups]
        if not groups or any(not g for g in groups):
            raise ValueError("a partition needs at least one non-empty group of node ids, "
                             f"got {groups!r}")
        seen = {}
        for index, group in enumerate(groups):
            self._check_ids(group, "partition")
            for node in group:
                if node in seen:
                    raise ValueError(f"partition groups overlap: {node!r} is in group "
                                     f"{seen[node] + 1} and group {index + 1}; each node may "
                                     f"be in one group only")
                seen[node] = index
        rest = tuple(n for n in self._ids if n not in seen)
        if rest:
            groups.append(rest)
            for node in rest:
                seen[node] = len(groups) - 1
        if len(groups) < 2:
            raise ValueError(f"a partition needs at least two groups; {groups[0]} is every node")
        self.groups = seen
        return tuple(groups)

    def cut(self, src: str, dst: str) -> None:
        """From now on ``dst`` receives nothing from ``src`` (a one-way cut)."""
        self._check_ids([src, dst], "cut")
        if src == dst:
            raise ValueError(f"cannot cut a node from itself ({src!r})")
        self.cuts.add((src, dst))

    def heal(self) -> None:
        """Remove every partition and cut."""
        self.groups = None
        self.cuts.clear()

    def connected(self, src: str, dst: str) -> bool:
        """Can a message from src reach dst right now?"""
        if (src, dst) in self.cuts:
            return False
        return self.groups is None or self.groups[src] == self.groups[dst]

    def partition_groups(self) -> tuple:
        """The current groups (empty when the network is whole)."""
        if self.groups is None:
            return ()
        by_group = {}
        for node, group in self.groups.items():
            by_group.setdefault(group, []).append(node)
        return tuple(tuple(by_group[k]) for k in sorted(by_group))

    def __repr__(self):
        parts = [f"latency={self.latency}"]
        if self.loss:
            parts.append(f"loss={self.loss:g}")
        if self.duplicate:
            parts.append(f"duplicate={self.duplicate:g}")
        if self.fifo:
            parts.append("fifo")
        return f"Network({', '.join(parts)})"
