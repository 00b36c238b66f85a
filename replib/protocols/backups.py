"""Backups: one server does all the work, and copies its data to a backup now and then.

Barrett's "Backups" column (*Transactions Across Datacenters*, Google I/O 2009): the
simplest way to keep a second copy.  The system: ``"primary"`` and backups ``"b1"`` ...

 1. The primary answers every read and write from its own log (on disk); nothing waits
    for a backup.
 2. Every ``period`` time units while its log grows, the primary sends each backup
    ``Copy(log)``, the whole log; a backup keeps the longest copy it got.  (An idle primary
    sets no timer: the first write after a quiet spell starts the clock again.)
 3. A backup answers no client: it is a copy to restore from by hand, not a server.
    There is no failover: while the primary is down, nothing is answered.

So a write acknowledged after the last copy lives only on the primary's disk until the
next one: lose that disk and it is gone.  A crash that keeps the disk loses nothing once
the primary restarts.  Messages per write: a share of the periodic copies (one copy per
backup per period, however many writes it carries).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clients import Reply
from ..node import Node
from ..validate import finite_time, whole_number
from .replication import register_value, replica_ids

__all__ = ["Copy", "CopyTimer", "Keeper", "backups_system"]


@dataclass(frozen=True)
class Copy:
    """Primary -> backup: my whole log, as it is now."""

    log: tuple


@dataclass(frozen=True)
class CopyTimer:
    """At the primary: time for the next copy."""

    periodic = True


class Keeper(Node):
    """The primary (answers clients, copies its log every ``period``) or a backup (keeps
    the copies)."""

    stable = ("log", "seen", "copied")

    def __init__(self, id: str, replicas, period: float = 5.0):
        super().__init__(id)
        self.replicas = tuple(replicas)
        self.period = period
        self.log = []            # the writes, in order
        self.seen = set()        # primary: (client, seq) of every write applied
        self.copied = 0          # primary: the log's length at the last copy
        self.clock = False       # primary: is a CopyTimer set?

    @property
    def primary(self) -> bool:
        return self.id == self.replicas[0]

    @property
    def value(self):
        return register_value(self.log)

    def on_restart(self):
        self.start_clock()

    def start_clock(self):
        if self.primary and not self.clock and len(self.log) > self.copied:
            self.clock = True
            self.set_timer(CopyTimer(), self.period)

    def on_request(self, msg, sender):
        if not self.primary:
            return                                           # rule 3
        if msg.op[0] == "read":                              # rule 1
            self.send(sender, Reply(msg.seq, self.value))
            return
        if (msg.client, msg.seq) not in self.seen:
            self.log.append(msg.op)
            self.seen.add((msg.client, msg.seq))
            self.start_clock()
        self.send(sender, Reply(msg.seq, "ok"))

    def on_copy_timer(self, timer):
        self.clock = False
        if len(self.log) > self.copied:                      # rule 2
            for b in self.replicas[1:]:
                self.send(b, Copy(tuple(self.log)))
            self.copied = len(self.log)
            self.clock = True
            self.set_timer(CopyTimer(), self.period)

    def on_copy(self, msg, sender):
        if len(msg.log) > len(self.log):
            self.log = list(msg.log)


def backups_system(backups: int = 1, period: float = 5.0) -> list:
    """The primary and ``backups`` backups (``"primary"``, ``"b1"``, ...), as a list of
    nodes; clients are added by the caller (a ``ReplicationClient`` of these replicas)."""
    ids = replica_ids(whole_number("backups", backups, 1, 8))
    finite_time("period", period)
    return [Keeper(r, ids, period) for r in ids]
