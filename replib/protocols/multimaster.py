"""Multi-master replication: every master takes writes, and ships them to the others later.

Barrett's "Multi-Master" column (*Transactions Across Datacenters*, Google I/O 2009): a
write is answered where it arrives, so writes are fast and go on on both sides of a
partition; the copies are to be reconciled afterwards.  This module reconciles nothing,
to show what that costs.  Masters ``"m1"`` ... ``"mn"`` keep one register as the log of
the writes they applied, in the order they applied them.

 1. A master applies a client's write at once (appends it to its log, on disk), answers
    "ok", then ships ``Update(origin, index, op)`` to every other master: the index-th
    write it took from its own clients.  A retried request is answered again, not applied
    twice.
 2. A master applies the writes of each other master in that master's order: Update i of
    ``origin`` goes to the end of its log if it holds the writes 1 .. i-1 of ``origin``;
    with a gap it answers ``Behind(have)`` and ``origin`` sends the missing ones again.
 3. A read returns the last write in the master's own log.
 4. With ``heartbeat`` set (failure detection on), each master tells the others every
    ``heartbeat`` time units how many writes it took (``Heartbeat(count)``); one that
    holds fewer answers ``Behind``: writes shipped into a partition arrive after it heals.

Each master applies the others' writes in the order they reach it, after its own.  Two
masters that took writes at the same time, or on the two sides of a partition, end up
holding the same writes in different orders: their registers disagree, and nothing
brings them back together (they have **diverged**).  A merge rule such as "last writer
wins" would make them agree by dropping one of the concurrent writes; chapter 08
measures the plain version.

Messages per write with n masters: n - 1 Updates, as async primary/backup.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clients import Reply
from ..node import Node
from ..validate import finite_time, whole_number
from .replication import register_value

__all__ = ["Behind", "Heartbeat", "Master", "Update", "master_ids", "multimaster_system"]


@dataclass(frozen=True)
class Update:
    """Master -> master: ``op`` is the ``index``-th write (from 1) that ``origin`` took."""

    origin: str
    index: int
    op: object


@dataclass(frozen=True)
class Behind:
    """Master -> master: I hold your first ``have`` writes; send me the rest."""

    have: int


@dataclass(frozen=True)
class Heartbeat:
    """Master -> master: I have taken ``count`` writes from my clients."""

    periodic = True
    count: int


@dataclass(frozen=True)
class HeartbeatTimer:
    """At a master: time to send heartbeats."""

    periodic = True


class Master(Node):
    """Takes writes from its clients, ships them to the other masters, applies theirs."""

    stable = ("log", "mine", "requests", "have")

    def __init__(self, id: str, masters, heartbeat: float | None = None):
        super().__init__(id)
        self.masters = tuple(masters)
        self.heartbeat = heartbeat
        self.log = []            # every write, in the order this master applied it
        self.mine = []           # the writes it took from its own clients, in order
        self.requests = {}       # (client, seq) -> index in mine (a retry is not applied twice)
        self.have = {m: 0 for m in self.masters if m != id}   # writes applied, per origin

    @property
    def others(self) -> tuple:
        return tuple(m for m in self.masters if m != self.id)

    @property
    def value(self):
        return register_value(self.log)

    def on_start(self):
        if self.heartbeat is not None:
            self.set_timer(HeartbeatTimer(), self.heartbeat)

    def on_request(self, msg, sender):
        if msg.op[0] == "read":                              # rule 3
            self.send(sender, Reply(msg.seq, self.value))
            return
        if (msg.client, msg.seq) not in self.requests:       # rule 1: apply, answer, ship
            self.log.append(msg.op)
            self.mine.append(msg.op)
            index = self.requests[(msg.client, msg.seq)] = len(self.mine)
            self.send(sender, Reply(msg.seq, "ok"))
            for m in self.others:
                self.send(m, Update(self.id, index, msg.op))
            return
        self.send(sender, Reply(msg.seq, "ok"))              # a retry of a write it holds

    def on_update(self, msg, sender):
        have = self.have[msg.origin]
        if msg.index == have + 1:                            # rule 2: at the end of my log
            self.log.append(msg.op)
            self.have[msg.origin] = msg.index
        elif msg.index > have + 1:
            self.send(msg.origin, Behind(have))

    def on_behind(self, msg, sender):
        for index in range(msg.have + 1, len(self.mine) + 1):
            self.send(sender, Update(self.id, index, self.mine[index - 1]))

    def on_heartbeat_timer(self, timer):
        for m in self.others:                                # rule 4
            self.send(m, Heartbeat(len(self.mine)))
        self.set_timer(HeartbeatTimer(), self.heartbeat)

    def on_heartbeat(self, msg, sender):
        if self.have[sender] < msg.count:
            self.send(sender, Behind(self.have[sender]))


def master_ids(masters: int) -> list:
    """``["m1", ..., "mn"]``."""
    return [f"m{i}" for i in range(1, masters + 1)]


def multimaster_system(masters: int = 2, heartbeat: float | None = None) -> list:
    """The masters, as a list of nodes (clients are added by the caller: any
    ``ReplicationClient`` whose replicas are the masters).  heartbeat: None (no failure
    detection: an Update lost is never sent again) or the period of rule 4."""
    ids = master_ids(whole_number("masters", masters, 2, 9))
    if heartbeat is not None:
        finite_time("heartbeat", heartbeat)
    return [Master(m, ids, heartbeat) for m in ids]
