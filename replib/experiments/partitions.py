"""Chapter 04's experiments: partitions, crashes, which side may act, quorums and epochs.

Everything here runs the primary/backup protocol of chapter 02
(``replib.protocols.replication``: epochs, fencing, majority elections) or counts quorums
with ``replib.quorums``; nothing is a new protocol.  Each function takes the seed it uses
and is short enough to read with ``??``.

    observed(trace, "b1")            what one node saw: its starts, receipts, timers, sends
    crash_or_partition()             the same system, the primary crashed / cut off
    two_sides("majority")            five replicas split 2 | 3: which sides keep writing?
    leadership(trace)                who acted as primary, in which epoch, when
    deposed_primary_read()           the old primary, cut off, answers a read: a stale one
    fenced_messages(trace)           messages dropped because their epoch was old
    quorum_report(5, 2, 3, ["n4"])   every quorum, which pairs share no node, which survive
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..faults import crash, heal, partition
from ..history import diverged, linearizable, lost_writes
from ..network import Constant, Network
from ..protocols.replication import (Replica, ReplicationClient, replica_ids,
                                     replication_system)
from ..quorums import check_sizes, quorums
from ..sim import Simulation, check_nodes
from ..trace import trace_of
from ..validate import finite_time, names, whole_number

# ---- what one node sees ---------------------------------------------------------------------

SEEN = ("start", "restart", "deliver", "timer", "send", "invoke", "response")


def _seen_text(e) -> str:
    """One observation, as its node would put it."""
    k, m = e.kind, e.msg
    if k == "deliver":
        return f"receives {m!r} from {e.peer}"
    if k == "send":
        return f"sends {m!r} to {e.peer}"
    if k == "timer":
        return f"timer {m!r} fires"
    if k == "invoke":
        return f"invokes {m!r}"
    if k == "response":
        return f"gets {e.detail!r} for {m!r}"
    return {"start": "starts", "restart": "restarts"}[k]


def observed(trace, node: str) -> list[tuple]:
    """What ``node`` itself saw of a run, as ``(time, what)`` pairs in order: its start and
    restarts, every message it received, every timer that fired at it, every message it
    sent (and, for a client, its invokes and responses).

    Left out is everything the node cannot see: other nodes' crashes, partitions, and the
    fate of its messages (a message lost on the way looks, to its sender, exactly like one
    that was delivered and ignored).  Two runs a node cannot tell apart give equal lists."""
    trace = trace_of(trace)
    if node not in trace.nodes:
        raise ValueError(f"no node {node!r} in this trace; nodes are {list(trace.nodes)}")
    out = []
    for e in trace.events:
        if e.node != node or e.kind not in SEEN:
            continue
        what = _seen_text(e)
        out.append((round(e.time, 6), what))
    return out


def first_difference(a: list, b: list):
    """The index of the first entry where two lists differ, or None if they are equal
    (a list that is a proper prefix of the other differs where it ends)."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def staggered(nodes, base: float = 4.0, step: float = 2.0) -> list:
    """Give the backups different failover timeouts (b1: base, b2: base + step, ...), so two
    of them never stand for election at the same moment and split the votes (randomised
    timeouts do this in Raft; chapter 06 shows what happens without it).  The primary's
    timeout is base.  Returns the same node objects."""
    nodes = check_nodes(nodes)
    finite_time("base", base)
    finite_time("step", step, zero_ok=True)
    replicas = [n for n in nodes if isinstance(n, Replica)]
    for i, r in enumerate(replicas):
        r.timeout = base + step * max(i - 1, 0)
    return list(nodes)


def _replica(name, value, ids):
    if value not in ids:
        raise ValueError(f"{name} must be one of the replicas {ids}, got {value!r}")
    return value


def crash_or_partition(observer: str = "b1", suspect: str = "primary", at: float = 4.75,
                       until: float = 14.0, backups: int = 2, seed: int = 0) -> dict:
    """Two runs of the same replicas (epochs failover, no clients, every link 0.5, heartbeats
    every 1): in one ``suspect`` crashes at ``at``, in the other a partition cuts it off
    from everybody at ``at``.  Returns ``{"crash": trace, "partition": trace}``.

    At t = 4.75 no message is on its way (a heartbeat leaves at each whole time and arrives
    half a time unit later), so nothing is lost in one run and delivered in the other.
    Compare ``observed(runs["crash"], observer)`` with the partition run's."""
    ids = replica_ids(whole_number("backups", backups, 1, 6))
    _replica("observer", observer, ids)
    _replica("suspect", suspect, ids)
    if observer == suspect:
        raise ValueError(f"the observer and the suspect must be two different replicas, "
                         f"got {observer!r} twice")
    finite_time("at", at, zero_ok=True)
    finite_time("until", until)
    if until <= at:
        raise ValueError(f"until must be later than at={at:g}, got {until!r}")
    runs = {}
    for kind, fault in (("crash", crash(suspect, at=at)),
                        ("partition", partition([suspect], at=at))):
        nodes = staggered(replication_system(backups, "sync", failover="epochs", clients=0))
        sim = Simulation(nodes, network=Network(Constant(0.5)), faults=[fault], seed=seed)
        runs[kind] = sim.run(until=until)
    return runs


def lost_messages(trace, sender: str) -> dict:
    """The simulator's view, which no node has: why the messages ``sender`` sent were
    lost, as reason -> count (e.g. {"primary is down": 4} or {"partition": 4})."""
    trace = trace_of(trace)
    out = {}
    for e in trace.events:
        if e.kind == "drop" and e.node == sender:
            out[e.detail] = out.get(e.detail, 0) + 1
    return dict(sorted(out.items()))


# ---- two sides of a partition ------------------------------------------------------------

RULES = {
    "none": "naive failover, async: each side carries on by itself",
    "elections only": "a majority elects the primary (epochs), but writes are async",
    "majority": "a majority elects the primary and must hold a write before it is answered",
}
FIVE_SPLIT = (("primary", "b1"), ("b2", "b3", "b4"))


def _sides(sides) -> tuple:
    if isinstance(sides, str) or not isinstance(sides, (list, tuple)):
        raise ValueError(f"sides must be a list of groups of replicas, e.g. {list(FIVE_SPLIT)}, "
                         f"got {sides!r}")
    groups = tuple((g,) if isinstance(g, str) else tuple(g) for g in sides)
    if len(groups) < 2 or any(not g for g in groups):
        raise ValueError(f"a partition needs at least two non-empty sides, got {sides!r}")
    names = [r for g in groups for r in g]
    if len(names) < 2 or len(names) > 9:
        raise ValueError(f"the sides must hold 2 to 9 replicas in all, got {len(names)}")
    ids = replica_ids(len(names) - 1)
    if sorted(names) != sorted(ids) or len(set(names)) != len(names):
        raise ValueError(f"the sides must name each of the replicas {ids} exactly once "
                         f"(a system of {len(names)} replicas), got {[list(g) for g in groups]}")
    return groups


def majority_system(sides, rule: str = "majority", writes: int = 10) -> list:
    """The replicas of ``sides`` (``"primary"``, ``"b1"``, ...) and one client per side
    (``"c1"`` talks from side 1, ``"c2"`` from side 2, ...), set up for ``rule``:

        none            async, naive failover (a backup that hears nothing takes over)
        elections only  async, epochs: a new primary needs a majority of votes
        majority        epochs, and semi-sync with k = n // 2 backups: with the primary,
                        a majority holds a write before the client is told "ok"

    Clients retry on the next replica after 2 time units; backups have staggered
    timeouts (see ``staggered``)."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose one of: {', '.join(RULES)}")
    groups = _sides(sides)
    n = sum(len(g) for g in groups)
    mode, k = ("semi-sync", n // 2) if rule == "majority" else ("async", None)
    nodes = replication_system(n - 1, mode, k, failover="naive" if rule == "none" else "epochs",
                               clients=len(groups), writes=writes, client_timeout=2.0)
    return staggered(nodes)


@dataclass
class SplitRun:
    """One run of ``two_sides``: the simulation, the sides, and what each side did."""

    rule: str
    sides: tuple
    at: float
    heal_at: float | None
    sim: Simulation
    acknowledged: dict      # side (a tuple of replicas) -> writes acknowledged while split
    diverged: list          # pairs of replicas whose logs differ at the end
    lost: list              # acknowledged writes no replica holds at the end

    @property
    def active(self) -> list:
        """The sides that acknowledged at least one write during the partition."""
        return [side for side, count in self.acknowledged.items() if count]

    @property
    def trace(self):
        return self.sim.trace

    def summary(self) -> str:
        """A few lines: each side's size and writes, then the logs at the end."""
        n = sum(len(s) for s in self.sides)
        lines = [f"rule '{self.rule}' ({RULES[self.rule]}), {n} replicas:"]
        for i, side in enumerate(self.sides):
            size = f"{len(side)} of {n}" + (", a majority" if 2 * len(side) > n else "")
            lines.append(f"  side {i + 1} {{{', '.join(side)}}} ({size}): "
                         f"{self.acknowledged[side]} write(s) acknowledged while split")
        lines.append(f"  at the end: {len(self.diverged)} pair(s) of diverged logs, "
                     f"{len(self.lost)} acknowledged write(s) lost")
        return "\n".join(lines)


def two_sides(rule: str = "majority", sides=FIVE_SPLIT, at: float = 4.75,
              heal_at: float | None = 30.0, until: float = 45.0, writes: int = 10,
              seed: int = 0) -> SplitRun:
    """Split the replicas into ``sides`` at ``at`` (client ci stays with side i), heal at
    ``heal_at`` (None: never), run until ``until``; count each side's acknowledged writes
    while split, and look at the replicas' logs at the end."""
    groups = _sides(sides)
    finite_time("at", at, zero_ok=True)
    finite_time("until", until)
    if heal_at is not None and (finite_time("heal_at", heal_at) <= at or heal_at > until):
        raise ValueError(f"heal_at must be None or a time after at={at:g} and no later than "
                         f"until={until:g}, got {heal_at!r}")
    if until <= at:
        raise ValueError(f"until must be later than at={at:g}, got {until!r}")
    nodes = majority_system(groups, rule, writes)
    clients = [f"c{i + 1}" for i in range(len(groups))]
    faults = [partition(*[g + (c,) for g, c in zip(groups, clients)], at=at)]
    if heal_at is not None:
        faults.append(heal(at=heal_at))
    sim = Simulation(nodes, faults=faults, seed=seed)
    trace = sim.run(until=until)
    end = until if heal_at is None else heal_at
    acknowledged = {g: sum(1 for op in trace.history()
                           if op.client == c and op.result == "ok" and at < op.response <= end)
                    for g, c in zip(groups, clients)}
    logs = {r: sim.nodes[r].log for g in groups for r in g}
    order = replica_ids(len(logs) - 1)
    logs = {r: logs[r] for r in order}
    return SplitRun(rule, groups, at, heal_at, sim, acknowledged, diverged(logs),
                    lost_writes(trace.history(), logs))


# ---- two primaries: harmless for writes, not for reads ---------------------------------------

@dataclass
class StaleRead:
    """``deposed_primary_read``'s run: the read, the write it missed, the verdict."""

    sim: Simulation
    read: object            # c3's read (an Operation)
    missed: object          # the acknowledged write the read should have seen
    verdict: object         # history.linearizable of every client's operations

    @property
    def trace(self):
        return self.sim.trace


def deposed_primary_read(read_at: float = 25.0, at: float = 4.75, seed: int = 0) -> StaleRead:
    """The majority rule's five replicas (``majority_system``), split 2 | 3 at ``at`` as in
    ``two_sides``, with three clients of one operation each: c1 (with the old primary)
    writes "a" at t = 0.5; c2 (with the majority) writes "b" at t = 14, trying the
    replicas in turn until b2, primary of epoch 2, takes it; c3 (with the old primary)
    reads at ``read_at`` from the primary it knows, the old one.  No heal: the point is
    what the old primary answers while it still believes it leads."""
    finite_time("read_at", read_at)
    nodes = [n for n in majority_system(FIVE_SPLIT, "majority", writes=0)
             if isinstance(n, Replica)]
    ids = [n.id for n in nodes]
    clients = [ReplicationClient("c1", ids, [("write", "a")], think=0.5, timeout=2.0),
               ReplicationClient("c2", ids, [("write", "b")], think=14.0, timeout=2.0),
               ReplicationClient("c3", ids, [("read",)], think=read_at, timeout=2.0,
                                 read_from="primary")]
    side1, side2 = FIVE_SPLIT
    sim = Simulation(nodes + clients, seed=seed,
                     faults=[partition(side1 + ("c1", "c3"), side2 + ("c2",), at=at)])
    history = sim.run(until=read_at + 5.0).history()
    read = next(op for op in history if op.client == "c3")
    missed = next(op for op in history if op.client == "c2")
    return StaleRead(sim, read, missed, linearizable(history))


# ---- epochs: who led when, and what fencing dropped ----------------------------------------

def leadership(trace) -> list[tuple]:
    """Every stretch of time a replica acted as primary: ``(replica, epoch, start, stop)``
    in order of start, stop None if it still acts at the end.  Read from the states the
    trace records (the Simulation needs record_states=True, the default)."""
    trace = trace_of(trace)
    acting = {n: (s.get("role") == "primary", s.get("epoch"))
              for n, s in trace.initial.items() if "role" in s}
    open_ = {n: (e, 0.0) for n, (on, e) in acting.items() if on}
    spans = []
    for ev in trace.events:
        st = ev.state
        if st is None or "role" not in st:
            continue
        now = (st["role"] == "primary" and ev.kind != "crash", st["epoch"])
        if now == acting.get(ev.node):
            continue
        if ev.node in open_:
            epoch, start = open_.pop(ev.node)
            spans.append((ev.node, epoch, start, ev.time))
        if now[0]:
            open_[ev.node] = (now[1], ev.time)
        acting[ev.node] = now
    spans += [(n, e, start, None) for n, (e, start) in open_.items()]
    return sorted(spans, key=lambda s: (s[2], s[1]))


def fenced_messages(trace) -> list[tuple]:
    """Messages between replicas that arrived carrying an older epoch than their receiver's,
    and were therefore ignored (fencing, rule 10 of the protocol): ``(time, receiver,
    sender, message)`` in order.  Needs the states the trace records."""
    trace = trace_of(trace)
    epoch = {n: s["epoch"] for n, s in trace.initial.items() if "epoch" in s}
    out = []
    for ev in trace.events:
        if (ev.kind == "deliver" and ev.node in epoch and hasattr(ev.msg, "epoch")
                and ev.msg.epoch < epoch[ev.node]):
            out.append((ev.time, ev.node, ev.peer, ev.msg))
        if ev.state is not None and ev.node in epoch:
            epoch[ev.node] = ev.state["epoch"]
    return out


def epochs_never_go_back(trace) -> bool:
    """Every replica's epoch only grows, crashes included (it is on stable storage)."""
    trace = trace_of(trace)
    epoch = {n: s["epoch"] for n, s in trace.initial.items() if "epoch" in s}
    for ev in trace.events:
        if ev.state is not None and ev.node in epoch:
            if ev.state["epoch"] < epoch[ev.node]:
                return False
            epoch[ev.node] = ev.state["epoch"]
    return True


# ---- quorums -------------------------------------------------------------------------------

MAX_NODES = 16


def node_names(nodes) -> tuple:
    """``5`` -> ("n1", ..., "n5"); a list of names is checked (non-empty, no duplicates)."""
    if isinstance(nodes, int) and not isinstance(nodes, bool):
        whole_number("n (the number of nodes)", nodes, 1, MAX_NODES)
        return tuple(f"n{i}" for i in range(1, nodes + 1))
    if isinstance(nodes, str) or not isinstance(nodes, (list, tuple)):
        raise ValueError(f"nodes must be a number of nodes (1 to {MAX_NODES}) or a list of "
                         f"names, got {nodes!r}")
    if not nodes:
        raise ValueError("no nodes: give at least one node")
    if len(nodes) > MAX_NODES:
        raise ValueError(f"at most {MAX_NODES} nodes, got {len(nodes)}")
    return names("nodes", nodes)


def failed_names(failed, nodes) -> tuple:
    """The failed nodes, in the order of ``nodes``: a list of names, or one string such as
    "n2, n4" (commas or spaces between names).  An unknown name is a ValueError."""
    if failed is None:
        return ()
    if isinstance(failed, str):
        failed = failed.replace(",", " ").split()
    failed = names("failed", failed, known=nodes)
    return tuple(x for x in nodes if x in failed)


@dataclass(frozen=True)
class QuorumReport:
    """Every quorum of two sizes over some nodes, and what they mean for safety and liveness.

    phase1, phase2: every quorum of q1 (q2) nodes, failed ones included (a failed node may
    only be cut off, and come back); available1, available2: those without a failed node.
    disjoint: how many (phase-1, phase-2) pairs share no node.  pair: an example pair,
    sharing no node if there is such a pair, else sharing as few as possible, picked with
    working nodes first."""

    nodes: tuple
    q1: int
    q2: int
    failed: tuple
    phase1: tuple
    phase2: tuple
    available1: tuple
    available2: tuple
    disjoint: int
    pair: tuple

    @property
    def safe(self) -> bool:
        """Every phase-1 quorum shares a node with every phase-2 quorum (q1 + q2 > n)."""
        return self.disjoint == 0

    @property
    def live(self) -> bool:
        """Both phases can still gather a quorum of working nodes."""
        return bool(self.available1) and bool(self.available2)

    @property
    def same(self) -> bool:
        return self.q1 == self.q2

    def summary(self) -> str:
        n, q1, q2 = len(self.nodes), self.q1, self.q2
        a, b = ("{" + ", ".join(q) + "}" for q in self.pair)
        sizes = (f"quorums of {q1} (both phases)" if self.same
                 else f"phase-1 quorums of {q1}, phase-2 quorums of {q2}")
        lines = [f"{n} nodes, {sizes}: {len(self.phase1)} phase-1 and {len(self.phase2)} "
                 f"phase-2 quorums."]
        pairs = len(self.phase1) * len(self.phase2)
        if self.safe:
            lines.append(f"Safe: {q1} + {q2} = {q1 + q2} > {n}, so every phase-1 quorum "
                         f"shares at least {_nodes(q1 + q2 - n)} with every phase-2 quorum "
                         f"(e.g. {a} and {b}); what one phase decided, the next one hears of.")
        else:
            lines.append(f"UNSAFE: {q1} + {q2} = {q1 + q2} <= {n}, so {self.disjoint} of the "
                         f"{pairs} pairs share no node, e.g. {a} and {b}: two leaders, or the "
                         f"two sides of a partition, can each complete a phase and never hear "
                         f"of each other.")
        down = f"with {', '.join(self.failed)} failed" if self.failed else "with no node failed"
        counts = (f"{len(self.available1)} of {len(self.phase1)} phase-1 and "
                  f"{len(self.available2)} of {len(self.phase2)} phase-2 quorums are available")
        if self.live:
            lines.append(f"Live {down}: {counts}; both phases can complete.")
        else:
            missing = " and ".join(p for p, left in (("phase 1", self.available1),
                                                     ("phase 2", self.available2)) if not left)
            lines.append(f"Not live {down}: {counts}; {missing} cannot complete until "
                         f"a failed node comes back. (Waiting is safe: nothing wrong is "
                         f"decided, nothing is decided at all.)")
        return "\n".join(lines)


def _nodes(k: int) -> str:
    return f"{k} node{'s' if k != 1 else ''}"


def quorum_report(nodes, q1: int | None = None, q2: int | None = None,
                  failed=()) -> QuorumReport:
    """Every quorum of ``q1`` and of ``q2`` nodes (None: a majority) over ``nodes`` (a
    number, or a list of names), with ``failed`` nodes (names, or a string "n2, n4").

    Bad input is a ValueError that says what is allowed: no nodes, a quorum larger than
    the number of nodes, an unknown failed node."""
    nodes = node_names(nodes)
    n = len(nodes)
    q1, q2 = check_sizes(n, q1, q2)
    failed = failed_names(failed, nodes)
    phase1, phase2 = quorums(nodes, q1), quorums(nodes, q2)
    available1, available2 = quorums(nodes, q1, failed), quorums(nodes, q2, failed)
    order = [x for x in nodes if x not in failed] + list(failed)
    first = tuple(sorted(order[:q1], key=nodes.index))
    second = order[q1:q1 + q2] if q1 + q2 <= n else order[n - q2:]
    second = tuple(sorted(second, key=nodes.index))
    disjoint = math.comb(n, q1) * math.comb(n - q1, q2) if q1 + q2 <= n else 0
    return QuorumReport(nodes, q1, q2, failed, tuple(phase1), tuple(phase2),
                        tuple(available1), tuple(available2), disjoint, (first, second))


def side_table(n: int) -> list[dict]:
    """Every way to split n nodes in two sides (k | n - k, k <= n - k): which sides hold a
    majority, so may go on acting under the majority rule."""
    whole_number("n (the number of nodes)", n, 2, MAX_NODES)
    need = n // 2 + 1
    rows = []
    for k in range(1, n // 2 + 1):
        small, big = k, n - k
        active = [s for s in (small, big) if s >= need]
        rows.append({"split": f"{small} | {big}", "majority": need,
                     "sides that may act": len(active),
                     "acting side": f"the {active[0]}" if active else "none"})
    return rows


def no_majority_left(n: int, failed) -> bool:
    """True if, with ``failed`` down among n nodes (n1...), no majority of working nodes is
    left."""
    nodes = node_names(n)
    failed = failed_names(failed, nodes)
    return not quorums(nodes, n // 2 + 1, failed)


__all__ = [
    "FIVE_SPLIT", "RULES", "QuorumReport", "SplitRun", "StaleRead", "crash_or_partition",
    "deposed_primary_read",
    "epochs_never_go_back", "failed_names", "fenced_messages", "first_difference",
    "leadership", "lost_messages", "majority_system", "no_majority_left", "node_names",
    "observed", "quorum_report", "side_table", "staggered", "two_sides",
]
