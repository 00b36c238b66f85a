"""Snapshots and log truncation on the Multi-Paxos log, and bringing a lagging replica up.

A replica that applied slots 1 ... k can write its state machine (the register and the
client sessions) to disk as a *snapshot* at k and delete what the snapshot replaces:

    may be deleted      the log entries of slots <= k (their effect is in the snapshot) and
                        what it accepted in those slots (they are chosen: the replica
                        applied them, and a replica applies only chosen commands);
    may not be deleted  what it accepted in slots > k: a slot it has not applied may not be
                        chosen yet, or be chosen without its knowing, and its vote may be the
                        one a new leader's phase 1 needs to find the chosen command.

And once entries are gone, the replica must answer with the snapshot where it would have
answered with them: a candidate whose first open slot is <= k gets the snapshot in the
Promise (``SnapshotPromise``), and installs it before recovering the later slots; a replica
that asks for missing slots (``Missing``) gets ``InstallSnapshot`` and then the log's tail
(``Entries``).  Without that, a lagging candidate sees no report for a deleted slot, takes
it for a gap and fills it with a no-op: a second command chosen in a chosen slot.

    SnapshotReplica    snapshots every ``every`` applied slots, deletes what it may, and
                       answers with the snapshot.  Safe.
    ClearsAccepted     deletes *every* accepted entry at a snapshot ("the snapshot replaces
                       the log"), also slots above k.  Unsafe.
    SilentSnapshot     deletes only what it may, but its Promise reports the remaining
                       accepted entries and not the snapshot.  Unsafe.

Deleted log entries keep their place as ``IN_SNAPSHOT`` (``len(log)`` stays the number of
slots applied); ``votes`` (every vote ever cast) is a record for the invariants, never read by
the protocol, and is not truncated.

``catch_up_cost`` measures bringing a replica that missed every slot up to date, from the
log alone or from a snapshot and the log's tail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..clients import Reply
from ..validate import whole_number
from .multipaxos import (
    Missing,
    Promise,
    Replica,
    multipaxos_system,
    one_command_per_slot,
    replica_states,
)
from .paxos import promise_ok

IN_SNAPSHOT = "in snapshot"     # a deleted log entry: its effect is in the snapshot


@dataclass(frozen=True)
class SnapshotPromise:
    """Acceptor -> candidate (1b) when the candidate's first slot is in my snapshot: the
    snapshot ((upto, register items, session items)) and what I accepted after it."""

    ballot: object
    snapshot: tuple
    accepted: tuple


@dataclass(frozen=True)
class InstallSnapshot:
    """Replica -> lagging replica: my snapshot; ``applied``: how many slots I applied."""

    snapshot: tuple
    applied: int


@dataclass(frozen=True)
class Entries:
    """Replica -> lagging replica: the commands chosen in slots first, first + 1, ... (at
    most ``batch`` of them); ``applied``: how many slots I applied (ask again if behind)."""

    first: int
    commands: tuple
    applied: int


class SnapshotReplica(Replica):
    """A Multi-Paxos replica that snapshots its state machine every ``every`` applied slots
    (None: never) and deletes the log entries and accepted entries the snapshot covers.
    A lagging replica is sent at most ``batch`` log entries per message (None: all)."""

    stable = Replica.stable + ("state_snapshot",)

    def __init__(self, *args, every: int | None = 1, batch: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.state_snapshot = None    # (upto, register items, session items), on disk
        self.every = every
        self.batch = batch

    @property
    def upto(self) -> int:
        """The last slot the snapshot covers (0: no snapshot)."""
        return 0 if self.state_snapshot is None else self.state_snapshot[0]

    # ---- taking a snapshot -------------------------------------------------------------------
    def apply(self, command):
        super().apply(command)
        if self.every is not None and len(self.log) - self.upto >= self.every:
            self.take_snapshot()

    def take_snapshot(self):
        """Write the state machine at the last applied slot to disk, then truncate."""
        k = len(self.log)
        self.state_snapshot = (k, tuple(self.kv.items()), tuple(self.sessions.items()))
        self.truncate(k)

    def truncate(self, k):
        """Delete what the snapshot at ``k`` replaces: log entries and accepted entries of
        slots <= k, nothing above."""
        self.log[:k] = [IN_SNAPSHOT] * k
        for slot in [s for s in self.accepted if s <= k]:
            del self.accepted[slot]

    def install(self, snapshot):
        """Take over a snapshot further ahead than my log: its state machine, and the slots
        it covers as applied."""
        k, kv, sessions = snapshot
        if k <= len(self.log):
            return
        self.state_snapshot = snapshot
        self.kv, self.sessions = dict(kv), dict(sessions)
        self.log = [IN_SNAPSHOT] * k
        self.truncate(k)
        for slot in [s for s in self.decided if s <= k]:
            del self.decided[slot]
        for client, seq in sorted(self.waiting):          # answered inside the snapshot
            if self.sessions.get(client, (None,))[0] == seq:
                self.waiting.discard((client, seq))
                self.send(client, Reply(seq, self.sessions[client][1]))
        while len(self.log) + 1 in self.decided:
            self.apply(self.decided.pop(len(self.log) + 1))

    # ---- answering with the snapshot where entries are gone ----------------------------------
    def promise(self, msg, sender, report):
        """Rule 1b's answer: with the snapshot if the candidate's first slot is in it."""
        if msg.first <= self.upto:
            self.send(sender, SnapshotPromise(msg.ballot, self.state_snapshot, report))
        else:
            self.send(sender, Promise(msg.ballot, report))

    def on_prepare(self, msg, sender):
        if promise_ok(msg.ballot, self.promised):
            self.promised = msg.ballot
            self.heard_leader(msg.ballot, sender)
            self.promise(msg, sender, tuple((s, acc) for s, acc in sorted(self.accepted.items())
                                            if s >= msg.first))
        else:
            super().on_prepare(msg, sender)             # the Reject

    def on_snapshot_promise(self, msg, sender):
        if self.role != "candidate" or msg.ballot != self.ballot:
            return
        self.install(msg.snapshot)
        self.on_promise(Promise(msg.ballot, msg.accepted), sender)

    def on_missing(self, msg, sender):
        if msg.first <= self.upto:
            self.send(sender, InstallSnapshot(self.state_snapshot, len(self.log)))
        elif msg.first <= len(self.log):
            last = len(self.log) if self.batch is None else min(len(self.log),
                                                                msg.first - 1 + self.batch)
            self.send(sender, Entries(msg.first, tuple(self.log[msg.first - 1:last]),
                                      len(self.log)))

    def on_install_snapshot(self, msg, sender):
        self.install(msg.snapshot)
        self.ask_if_behind(msg.applied, sender)

    def on_entries(self, msg, sender):
        for i, command in enumerate(msg.commands):
            self.learn(msg.first + i, command)
        self.ask_if_behind(msg.applied, sender)

    def ask_if_behind(self, applied, sender):
        if len(self.log) < applied:
            self.send(sender, Missing(len(self.log) + 1))

    def obsolete(self, msg) -> bool:
        if isinstance(msg, SnapshotPromise):
            return super().obsolete(Promise(msg.ballot, msg.accepted))
        return super().obsolete(msg)


class ClearsAccepted(SnapshotReplica):
    """Too eager: a snapshot deletes every accepted entry, also those of slots it has not
    applied (which may be chosen, with this vote one of the majority)."""

    def truncate(self, k):
        self.log[:k] = [IN_SNAPSHOT] * k
        self.accepted = {}


class SilentSnapshot(SnapshotReplica):
    """Deletes only what it may, but answers a Prepare with a plain Promise: a candidate
    behind its snapshot sees no report for the deleted slots and takes them for gaps."""

    def promise(self, msg, sender, report):
        self.send(sender, Promise(msg.ballot, report))


MUTANTS = (ClearsAccepted, SilentSnapshot)


# ---- invariants --------------------------------------------------------------------------------


def log_agreement(s) -> bool:
    """Invariant: no two replicas applied or learned different commands in one slot (a
    deleted entry, ``IN_SNAPSHOT``, agrees with anything)."""
    seen = {}
    for r in replica_states(s):
        for slot, command in list(enumerate(r.log, 1)) + list(r.decided.items()):
            if command != IN_SNAPSHOT and seen.setdefault(slot, command) != command:
                return False
    return True


def same_state_machine(s) -> bool:
    """Invariant: replicas that applied the same number of slots hold the same register."""
    by_length = {}
    for r in replica_states(s):
        if by_length.setdefault(len(r.log), r.kv) != r.kv:
            return False
    return True


SNAPSHOT_INVARIANTS = {"one command per slot": one_command_per_slot,
                       "slot agreement": log_agreement,
                       "same state after the same slots": same_state_machine}


# ---- the checker's scenario --------------------------------------------------------------------

W1 = ("c1", 0, ("write", "x", 1))
W2 = ("c1", 1, ("write", "x", 2))
X = ("c3", 0, ("write", "x", 3))


def truncation_scenario(replica=SnapshotReplica) -> list:
    """Three replicas after this past: r1 led ballot 3 (all promised it); W1 and W2 were
    chosen in slots 1 and 2, accepted by r1 and r2 (their Accepts to r3 were lost); r1
    applied both, r2 only slot 1 (Decided(2) was lost).  Each snapshots after every slot
    applied, by its class's rule.  Now r3, which missed everything, stands for leader with
    a request X of its own."""
    nodes = multipaxos_system(3, 0, 0, heartbeat=None, leaders=("r3",), max_ballots=1,
                              replica=replica)
    r1, r2, r3 = nodes
    for node in nodes:
        node.promised = 3
    r1.seen, r1.tries = 3, 1
    for node in (r1, r2):
        for slot, command in ((1, W1), (2, W2)):
            node.accepted[slot] = (3, command)
            node.votes.add((slot, 3, command))
    for node, slots in ((r1, (1, 2)), (r2, (1,))):
        for slot in slots:
            Replica.learn(node, slot, (W1, W2)[slot - 1])
    r3.queue = [X]
    return nodes


def truncation_check(replica=SnapshotReplica, max_states: int | None = 300_000,
                     progress: bool = False):
    """Check ``SNAPSHOT_INVARIANTS`` over every run from ``truncation_scenario``: messages
    delayed and reordered in every way, none lost, nobody crashes, no timer fires."""
    from ..actions import Controls
    from ..check import check
    return check(truncation_scenario(replica), Controls(timers=False),
                 invariants=SNAPSHOT_INVARIANTS, max_states=max_states, progress=progress)


# ---- catching up -----------------------------------------------------------------------------


def _preloaded(slots, keys, tail, batch):
    """r1 (first leader) and r2 applied ``slots`` writes over ``keys`` keys; r3 has nothing.
    r1's snapshot covers all but the last ``tail`` slots (``tail`` None: no snapshot)."""
    nodes = multipaxos_system(3, 0, 0, heartbeat=HEARTBEAT, timeout=10 * HEARTBEAT,
                              replica=SnapshotReplica)
    for node in nodes:
        node.every, node.batch = None, batch
    writes = [("c1", i, ("write", f"k{i % keys}", i)) for i in range(slots)]
    for node in nodes[:2]:
        for slot, command in enumerate(writes, 1):
            Replica.learn(node, slot, command)
            if tail is not None and slot == slots - tail:
                node.take_snapshot()
    return nodes


CATCH_UP_MESSAGES = ("Missing", "Entries", "InstallSnapshot")
HEARTBEAT = 1000.0      # one heartbeat starts the catch-up; r3 then asks after each answer


def catch_up_cost(slots: int, method: str = "log", keys: int = 10, tail: int = 5,
                  batch: int = 10, seed: int = 0) -> dict:
    """Bring r3, which missed all ``slots`` slots (writes over ``keys`` keys), up to date
    from the leader r1, with no faults and latency uniform in [0.5, 1.5] (seeded).

    method "log": r1 has every entry and sends them, at most ``batch`` per message; "snapshot":
    r1's snapshot covers all but the last ``tail`` slots, so it sends the snapshot (the
    register: at most ``keys`` items) and then the tail.  The leader's first heartbeat tells
    r3 it is behind; r3 asks (``Missing``) again after each answer until level.

    Returns {"messages": Missing + Entries + InstallSnapshot, "round_trips", "entries": log
    entries sent, "snapshot_items": register items sent, "replayed": commands r3 applied,
    "time": from r3's first Missing to r3 level with r1}."""
    from ..network import Network, Uniform
    from ..sim import Simulation
    whole_number("slots", slots, 1, 100_000)
    if method not in ("log", "snapshot"):
        raise ValueError(f"method must be 'log' or 'snapshot', got {method!r}")
    nodes = _preloaded(slots, keys, min(tail, slots) if method == "snapshot" else None, batch)
    sim = Simulation(nodes, network=Network(Uniform(0.5, 1.5)), seed=seed, record_states=False)
    sim.run(until=lambda sim: len(sim.node("r3").log) >= slots,
            max_events=100 + 10 * slots)
    sent = [e for e in sim.trace.events if e.kind == "send" and e.msg_type in CATCH_UP_MESSAGES]
    started = min(e.time for e in sent)
    entries = sum(len(e.msg.commands) for e in sent if e.msg_type == "Entries")
    items = sum(len(e.msg.snapshot[1]) for e in sent if e.msg_type == "InstallSnapshot")
    r3 = sim.node("r3")
    return {"messages": len(sent), "round_trips": sum(e.msg_type == "Missing" for e in sent),
            "entries": entries, "snapshot_items": items,
            "replayed": sum(c != IN_SNAPSHOT for c in r3.log), "time": round(sim.now - started, 3)}


def catch_up_table(lengths=(10, 100, 1000), **kwargs) -> list:
    """``catch_up_cost`` for each log length and both methods: rows of (slots, method, cost)."""
    return [(n, method, catch_up_cost(n, method, **kwargs))
            for n in lengths for method in ("log", "snapshot")]


def round_trips_needed(slots: int, batch: int) -> int:
    """Round trips to ship ``slots`` entries ``batch`` at a time: ceil(slots / batch)."""
    return math.ceil(slots / batch)
