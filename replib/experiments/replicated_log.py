"""Chapter 08's Multi-Paxos section: a leader change, the log's safety checked, reads through
the log against reads from the leader's memory, and decisions piggybacked on the next
Accept.  Everything runs ``protocols.multipaxos``; nothing here is a new protocol.

    leader_change()          r1 crashes with slot 1 open; r2 recovers the log (no-op, slot 2)
    recovery_reports(sim)    what r2's promises reported, slot by slot
    check_log()              every reachable state of a small log with a leader change
    reads_after_partition()  a deposed leader answering reads: through the log, or locally
    messages_per_read()      what a read costs between the replicas, either way
"""

from __future__ import annotations

from dataclasses import dataclass

from ..actions import Controls
from ..check import check
from ..faults import crash, drop, heal, partition
from ..history import linearizable_kv
from ..network import Constant, Network
from ..protocols.multipaxos import (MULTIPAXOS_INVARIANTS, NOOP, LocalReads, Replica,
                                    all_answered, multipaxos_system)
from ..sim import Simulation

__all__ = ["ReadRun", "check_log", "command_text", "leader_change", "messages_per_read",
           "reads_after_partition", "recovery_reports"]

#: the two writes of the leader change: c1's goes to slot 1, c2's to slot 2
LEADER_CHANGE_OPS = [[("write", "x", "a")], [("write", "x", "b")]]


def leader_change(until: float = 15.5) -> Simulation:
    """Three replicas, two clients writing at once (c1 "a", c2 "b"); every message takes 1.
    The leader r1 puts c1's write in slot 1 and c2's in slot 2, but its Accepts for slot 1
    are lost (the fault schedule drops them) and r1 crashes at t = 5.5, before it learns
    anything.  After a silence r2 stands with a higher ballot and recovers the log from
    the promises of a majority (rule 2a slot by slot).  Returns the Simulation, run until
    ``until``."""
    nodes = multipaxos_system(3, clients=2, ops=LEADER_CHANGE_OPS, heartbeat=3.0,
                              timeout=4.0, client_timeout=8.0, client_start=3.0)
    sim = Simulation(nodes, network=Network(Constant(1)), seed=0,
                     faults=[drop("Accept", "r1", "r2", at=3.5),
                             drop("Accept", "r1", "r3", at=3.5), crash("r1", at=5.5)])
    sim.run(until=until)
    return sim


def command_text(command) -> str:
    """A log entry in a few words: "no-op", or "c2 write b"."""
    if command == NOOP:
        return "no-op"
    client, _, op = command
    return f"{client} {' '.join(map(str, (op[0],) + op[2:]))}"


def recovery_reports(sim) -> dict:
    """What the promises that made the new leader reported: slot -> [(ballot, command), ...]
    (read from the trace: the Promise messages delivered to the last replica that became
    leader, for its ballot)."""
    trace = sim.trace
    leader = ballot = None
    for e in trace.events:
        if e.kind == "send" and e.msg_type == "Prepare":
            leader, ballot = e.node, e.msg.ballot
    reports = {}
    for e in trace.events:
        if (e.kind == "deliver" and e.node == leader and e.msg_type == "Promise"
                and e.msg.ballot == ballot):
            for slot, accepted in e.msg.accepted:
                reports.setdefault(slot, []).append(accepted)
    return reports


def check_log(progress: bool = False):
    """Every reachable state of a small replicated log with a leader change: 3 replicas,
    one client writing then reading (2 slots), r1 the first leader and r2 the only other
    that may lead (one ballot each), the client resending once, r1 crashing at any moment
    (its messages in flight may still arrive; it may restart from disk).  Timers fire only
    when no message is in flight (``timers="synchronous"``): asynchronous timers let every
    timeout interleave with every delivery and the search runs past 400,000 states.
    Invariants: ``MULTIPAXOS_INVARIANTS`` (one command per slot, replicas agree slot by
    slot and apply only chosen commands, acknowledged commands survive, replies match the
    log); goals: every client answered, and r2 taking over after r1's Accept was taken."""
    nodes = multipaxos_system(3, 1, [("write", "x", 1), ("read", "x")], heartbeat=None,
                              leaders=("r1", "r2"), max_ballots=1, max_retries=1)
    controls = Controls(timers="synchronous", max_crashes=1, crashable=("r1",))
    write = ("c1", 0, ("write", "x", 1))

    def r2_takes_over(s):
        return s.node("r2").role == "leader" and any(v[2] == write for v in s.node("r1").votes)

    return check(nodes, controls, invariants=MULTIPAXOS_INVARIANTS,
                 goals={"every client answered": all_answered,
                        "r2 takes over after r1's Accept was taken": r2_takes_over},
                 progress=progress)


@dataclass
class ReadRun:
    """``reads_after_partition``'s run: the simulation, c1's read and the verdict."""

    reads: str
    sim: Simulation
    read: object                 # c1's read: an Operation (response None: never answered)
    verdict: object              # linearizable_kv of the history

def reads_after_partition(reads: str = "log", heal_at: float = 40.0,
                          until: float = 60.0) -> ReadRun:
    """Three replicas; every message takes 1.  c1 writes "a" through the leader r1.  At
    t = 6 a partition cuts r1 and c1 off from r2, r3 and c2; r2 takes over, and c2 writes
    "b" through it.  At t = 30 c1 reads from r1, which still believes it leads.  reads:
    "log" (``Replica``: the read takes a slot, which needs a majority) or "local"
    (``LocalReads``: the leader answers from its own register).  The partition heals at
    ``heal_at``."""
    if reads not in ("log", "local"):
        raise ValueError(f"reads must be 'log' or 'local', got {reads!r}")
    ops = [[("write", "x", "a"), ("read", "x")], [("write", "x", "b")]]
    nodes = multipaxos_system(3, clients=2, ops=ops, heartbeat=1.0, timeout=3.0,
                              client_timeout=4.0, client_start=2.0,
                              replica=LocalReads if reads == "local" else Replica)
    c1 = next(n for n in nodes if n.id == "c1")
    c1.think = 26.0                        # its read goes at t = 30 or so
    c2 = next(n for n in nodes if n.id == "c2")
    c2.start = 12.0                        # its write goes once r2 leads
    faults = [partition(["r1", "c1"], ["r2", "r3", "c2"], at=6.0), heal(at=heal_at)]
    sim = Simulation(nodes, network=Network(Constant(1.0)), faults=faults, seed=0)
    history = sim.run(until=until).history()
    read = next(op for op in history if op.client == "c1" and op.op[0] == "read")
    return ReadRun(reads, sim, read, linearizable_kv(history))


def messages_per_read(reads: str = "log", replicas: int = 3, count: int = 10) -> float:
    """Messages between replicas per read, no faults: one client writes once, then reads
    ``count`` times from the stable leader (no heartbeats; messages a replica sends to
    itself not counted).  reads: "log" or "local", as in ``reads_after_partition``."""
    if reads not in ("log", "local"):
        raise ValueError(f"reads must be 'log' or 'local', got {reads!r}")
    ops = [("write", "x", 1)] + [("read", "x")] * count
    nodes = multipaxos_system(replicas, 1, ops, heartbeat=None, client_start=5.0,
                              timeout=1000.0, replica=LocalReads if reads == "local" else Replica)
    sim = Simulation(nodes, network=Network(Constant(1.0)), seed=0, record_states=False)
    sim.run(until=all_answered)
    first_read = [op for op in sim.trace.history() if op.op[0] == "read"][0].invoke
    sent = sum(1 for e in sim.trace.events if e.kind == "send" and e.time >= first_read
               and e.node.startswith("r") and e.peer.startswith("r") and e.node != e.peer)
    return sent / count
