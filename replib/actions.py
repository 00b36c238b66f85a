"""The choices a controlled run (or the checker) can make at each step.

In controlled mode nobody rolls dice: the caller lists the enabled actions and picks one.
The simulator's "you are the network" mode and the exhaustive checker share these classes
and ``Controls.enabled``, so a path the checker finds replays in the simulator verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass

from .validate import boolean, names, whole_number


@dataclass(frozen=True)
class Deliver:
    """Deliver an in-flight message from src to dst."""

    src: str
    dst: str
    msg: object

    def __str__(self):
        return f"deliver {type(self.msg).__name__} {self.src}->{self.dst}: {self.msg!r}"


@dataclass(frozen=True)
class Drop:
    """Lose an in-flight message."""

    src: str
    dst: str
    msg: object

    def __str__(self):
        return f"drop {type(self.msg).__name__} {self.src}->{self.dst}: {self.msg!r}"


@dataclass(frozen=True)
class Fire:
    """Fire a node's pending timer."""

    node: str
    timer: object

    def __str__(self):
        return f"fire {self.timer!r} at {self.node}"


@dataclass(frozen=True)
class Crash:
    """Crash a node: it loses its volatile state and its timers."""

    node: str

    def __str__(self):
        return f"crash {self.node}"


@dataclass(frozen=True)
class Restart:
    """Restart a crashed node from its stable storage; or (``wiped``) with its disk lost:
    every field back to its initial value, under its old identity; or (``stale``) from an
    old copy of its disk (``Controls(stale_disks=...)``), which it cannot tell from its own."""

    node: str
    wiped: bool = False
    stale: bool = False

    def __str__(self):
        return f"restart {self.node}" + (" with an empty disk" if self.wiped else
                                         " from a stale copy of its disk" if self.stale else "")


TIMER_MODES = (True, False, "synchronous")


@dataclass(frozen=True)
class Controls:
    """What a controlled run may do besides delivering messages.

    drop: messages may be lost.  duplicate: the network holds a *set* of messages: a
    delivered message stays in flight, so it can be delivered again (any number of times)
    until it is dropped, and sending one identical to a message in flight adds nothing;
    without it, delivering consumes the message.  Reordering is always possible: any
    in-flight message may go next.
    max_crashes: how many crashes in all; crashable: which nodes may crash (None: any).
    restart: crashed nodes may restart.  wipe: a crashed node may also restart with its
    disk lost (a replaced disk: ``Restart(node, wiped=True)``).  stale_disks: {node:
    {field: value}}, an old copy of a node's disk (its stable fields as a backup taken
    earlier holds them; fields left out are as at the very start): the node may also
    restart from it (``Restart(node, stale=True)``).  The checker keeps no history of
    disks, so the old copy is given here rather than taken during the run.
    timers: True: a pending timer may fire at any moment (an asynchronous system, where a
    timeout says nothing about whether a message is on its way); False: never;
    "synchronous": only when no message to a live node is in flight, the synchronous model
    in which every message arrives before any timeout expires (with drop, a lost message
    no longer holds timers back: that is how a partition looks to this model).
    """

    drop: bool = False
    duplicate: bool = False
    max_crashes: int = 0
    crashable: tuple | None = None
    restart: bool = True
    timers: bool | str = True
    wipe: bool = False
    stale_disks: object = ()

    def __post_init__(self):
        for name in ("drop", "duplicate", "restart", "wipe"):
            boolean(name, getattr(self, name))
        whole_number("max_crashes", self.max_crashes, 0)
        if self.crashable is not None:
            object.__setattr__(self, "crashable", names("crashable", self.crashable))
        object.__setattr__(self, "stale_disks", _stale_disks(self.stale_disks))
        if not (isinstance(self.timers, bool) or self.timers == "synchronous"):   # not 1, not 0
            raise ValueError(f"timers must be True, False or 'synchronous', got {self.timers!r}")
        if self.timers == "synchronous" and self.duplicate:
            raise ValueError("timers='synchronous' cannot go with duplicate=True: a duplicating "
                             "network keeps every message in flight, so no timer could ever fire")

    def validate(self, ids) -> None:
        if self.crashable is not None:
            names("crashable", self.crashable, known=ids)
        if self.stale_disks:
            names("stale_disks", [n for n, _ in self.stale_disks], known=ids)

    def validate_nodes(self, nodes) -> None:
        """Each stale disk names only stable fields of its node."""
        by_id = {n.id: n for n in nodes}
        for node_id, fields in self.stale_disks:
            stable = tuple(type(by_id[node_id]).stable)
            wrong = [name for name, _ in fields if name not in stable]
            if wrong:
                raise ValueError(f"stale_disks[{node_id!r}] names {wrong}, which "
                                 f"{'is' if len(wrong) == 1 else 'are'} not on "
                                 f"{type(by_id[node_id]).__name__}'s disk; its stable fields "
                                 f"are {list(stable)}")

    def stale_disk(self, node_id) -> dict:
        """The old copy of ``node_id``'s disk, as fresh (thawed) field values."""
        from .state import thaw
        return {name: thaw(value) for name, value in dict(self.stale_disks)[node_id]}

    def timers_may_fire(self, deliverable) -> bool:
        """May timers fire now?  ``deliverable``: the receivers of the messages in flight
        that can still be delivered (their receiver is up)."""
        if self.timers == "synchronous":
            return next(iter(deliverable), None) is None
        return bool(self.timers)

    def enabled(self, ids, in_flight, timers, crashed, crashes) -> list:
        """Every action allowed now.

        in_flight: distinct (src, dst, msg) in send order; timers: (node, timer) pairs;
        crashed: ids of crashed nodes; crashes: how many crashes happened so far."""
        actions = []
        for src, dst, msg in in_flight:
            if dst not in crashed:
                actions.append(Deliver(src, dst, msg))
            if self.drop:
                actions.append(Drop(src, dst, msg))
        if self.timers_may_fire(dst for _, dst, _ in in_flight if dst not in crashed):
            actions.extend(Fire(node, timer) for node, timer in timers if node not in crashed)
        if crashes < self.max_crashes:
            pool = ids if self.crashable is None else self.crashable
            actions.extend(Crash(n) for n in pool if n not in crashed)
        if self.restart:
            actions.extend(Restart(n) for n in ids if n in crashed)
        if self.wipe:
            actions.extend(Restart(n, wiped=True) for n in ids if n in crashed)
        if self.stale_disks:
            old = {n for n, _ in self.stale_disks}
            actions.extend(Restart(n, stale=True) for n in ids if n in crashed and n in old)
        return actions


def _stale_disks(value) -> tuple:
    """{node: {field: value}} as a hashable, sorted tuple of (node, ((field, frozen), ...))."""
    from .state import freeze
    if isinstance(value, tuple) and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        value = {n: dict(f) for n, f in value}          # already in this form
    if not isinstance(value, dict) or not all(
            isinstance(n, str) and isinstance(f, dict) and all(isinstance(k, str) for k in f)
            for n, f in value.items()):
        raise ValueError(f"stale_disks must map node ids to {{field: value}} dicts, e.g. "
                         f"{{'r2': {{'promised': None}}}}; got {value!r}")
    return tuple(sorted((n, tuple(sorted((k, freeze(v)) for k, v in f.items())))
                        for n, f in value.items()))
