"""Chapter 09's reads: a deposed leader's stale read, and what each way of reading costs.

Four ways to read on Multi-Paxos: through the log (``Replica``), from the leader's register
at once (``LocalReads``, unsafe), after a read-index round (``ReadIndexReplica``), and under
a lease (``LeaseReplica``).  The same partition run for each, with clocks within or beyond
the lease's drift bound, and the cost of a read in a run without faults.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from ..faults import crash, heal, partition, restart
from ..history import linearizable_kv
from ..network import Constant, Network
from ..protocols.leases import LeaseReplica, ReadIndexReplica
from ..actions import Controls
from ..check import check
from ..protocols.multipaxos import (MULTIPAXOS_INVARIANTS, NOOP, LocalReads, MultiPaxosClient,
                                    Replica, all_answered, multipaxos_system)
from ..sim import Simulation
from ..validate import choice, finite_time, whole_number
from . import TextTable

READS = {"log": Replica, "local": LocalReads, "read index": ReadIndexReplica,
         "lease": LeaseReplica}


@dataclass
class StaleReadRun:
    """``read_after_partition``'s run: the simulation, c1's read, c2's write, the verdict."""

    reads: str
    sim: Simulation
    read: object          # c3's read (an Operation; response None: never answered)
    write: object         # c2's write of "b"
    verdict: object       # linearizable_kv of the whole history

    @property
    def stale(self) -> bool:
        """c3 read "a" after c2's write of "b" had been acknowledged."""
        return (self.read.response is not None and self.read.result == "a"
                and self.write.response is not None and self.write.response < self.read.invoke)


def _system(reads, ops, lease=None, replicas=3, **config):
    """reads: a name in READS, or a Replica subclass."""
    if isinstance(reads, type) and issubclass(reads, Replica):
        return multipaxos_system(replicas, replica=reads, ops=ops, **config)
    choice("reads", reads, tuple(READS))
    cls = READS[reads]
    if reads == "lease" and lease is not None:
        finite_time("lease", lease)
        cls = type("LeaseReplica", (LeaseReplica,), {"lease_length": float(lease)})
    return multipaxos_system(replicas, replica=cls, ops=ops, **config)


def read_after_partition(reads: str = "lease", clock_faults=(), drift: float = 0.0,
                         lease: float = 20.0, read_at: float = 34.0, heal_at: float = 40.0,
                         until: float = 60.0, seed: int = 0) -> StaleReadRun:
    """Three replicas, links of 1.  c1 writes "a" through the leader r1 at t = 2.  At t = 6
    a partition cuts r1, c1 and c3 off from r2, r3 and c2; the majority side elects a new
    leader as soon as it may, and c2 writes "b" through it (c2 starts at 12 and tries the
    replicas in turn).  At ``read_at`` c3 reads from r1, which still believes it leads.
    clock_faults: ``clock(...)`` faults to add (e.g. r1's clock slows down); drift as in
    ``Simulation``; lease: the lease's length (the leader renews it every 1)."""
    finite_time("read_at", read_at)
    finite_time("heal_at", heal_at)
    finite_time("until", until)
    nodes = _system(reads, [[("write", "x", "a")], [("write", "x", "b")], [("read", "x")]],
                    lease, clients=3, heartbeat=1.0, timeout=3.0, client_timeout=4.0,
                    client_start=2.0)
    by_id = {n.id: n for n in nodes}
    by_id["c2"].start, by_id["c3"].start = 12.0, read_at
    faults = [partition(["r1", "c1", "c3"], ["r2", "r3", "c2"], at=6.0), heal(at=heal_at)]
    sim = Simulation(nodes, network=Network(Constant(1.0)), drift=drift, seed=seed,
                     faults=faults + list(clock_faults))
    history = sim.run(until=until).history()
    read = next(op for op in history if op.client == "c3")
    write = next(op for op in history if op.client == "c2")
    return StaleReadRun(reads, sim, read, write, linearizable_kv(history))


def read_costs(count: int = 10, replicas: int = 3) -> TextTable:
    """Per read, in a run without faults (one client writes once, then reads ``count``
    times from the stable leader; links of 1): messages between replicas, and latency."""
    whole_number("count", count, 1, cap=1000)
    rows = []
    for reads in READS:
        ops = [("write", "x", 1)] + [("read", "x")] * count
        nodes = _system(reads, ops, heartbeat=None, client_start=5.0, timeout=1000.0)
        sim = Simulation(nodes, network=Network(Constant(1.0)), seed=0, record_states=False)
        sim.run(until=all_answered)
        read_ops = [op for op in sim.trace.history() if op.op[0] == "read"]
        first, last = read_ops[0].invoke, read_ops[-1].response
        sent = sum(1 for e in sim.trace.events if e.kind == "send" and first <= e.time <= last
                   and e.node.startswith("r") and e.peer.startswith("r") and e.node != e.peer
                   and type(e.msg).__name__ not in ("Renew", "RenewAck"))
        rows.append({"reads": reads, "messages per read": sent / count,
                     "latency": statistics.median(op.latency for op in read_ops),
                     "linearizable": "yes" if reads != "local" else "no (after a partition)"})
    return TextTable(rows, {"messages per read": "{:g}", "latency": "{:g}"},
                     note=f"{replicas} replicas, {count} reads from a stable leader, links of 1; "
                          f"lease renewals (every {LeaseReplica.renew_every:g}, not per read) "
                          f"left out")


class PinnedClient(MultiPaxosClient):
    """A client that sends its i-th operation to ``servers[i]`` first (and resends, on a
    timeout, to the next replica as usual): for a read aimed at a leader that may be
    deposed."""

    def __init__(self, id, replicas, ops, servers, **kwargs):
        super().__init__(id, replicas, ops, **kwargs)
        self.servers = tuple(servers)

    def issue(self):
        self.server = self.servers[self.seq]
        super().issue()


def reads_are_fresh(s) -> bool:
    """Invariant: c2 writes "b", then reads x; its read returns "b" or a value written to x
    in a later slot of the log than "b", never an older one."""
    c2 = s.node("c2")
    if len(c2.results) < 2:
        return True
    log = max((n.log for n in s.nodes if hasattr(n, "log")), key=len)
    slot_b = next((i for i, c in enumerate(log) if c != NOOP and c[2] == ("write", "x", "b")),
                  None)
    later = {c[2][2] for c in log[slot_b + 1:] if c != NOOP and c[2][:2] == ("write", "x")} \
        if slot_b is not None else set()
    return c2.results[1] in {"b"} | later


def check_reads(reads: str = "read index", progress: bool = False):
    """Every reachable state: 3 replicas, r1 the first leader and r2 the only other that
    may lead (one ballot each); c1 writes "a" through r1; c2 writes "b" (first to r2) and
    then reads x from r1, which may have been deposed meanwhile; messages may be duplicated
    and reordered; clients resend once.  Invariant: ``reads_are_fresh`` and chapter 08's
    log invariants.  The lease cannot be checked: it reads clocks, and the checker has no
    time (it raises, saying so)."""
    choice("reads", reads, tuple(READS))
    nodes = multipaxos_system(3, 0, heartbeat=None, leaders=("r1", "r2"), max_ballots=1,
                              replica=READS[reads])
    nodes.append(PinnedClient("c2", ("r1", "r2", "r3"), [("write", "x", "b"), ("read", "x")],
                              ("r2", "r1")))
    return check(nodes, Controls(),
                 invariants={"reads are fresh": reads_are_fresh},
                 max_states=400_000, progress=progress)


def failover_gap(lease: float | None, crash_at: float = 10.0, until: float = 80.0,
                 seed: int = 0) -> float:
    """How long no write can be acknowledged after the leader crashes for good: r1 leads,
    a client writes one value after another (resending to the next replica after 2), r1
    crashes at ``crash_at``.  lease: None (``Replica``, heartbeats every 1) or the lease's
    length (``LeaseReplica``: the others wait out their guard before electing anyone).
    Returns the longest time between two acknowledged writes."""
    finite_time("crash_at", crash_at)
    finite_time("until", until)
    reads = "log" if lease is None else "lease"
    nodes = _system(reads, [("write", "x", i) for i in range(400)], lease, heartbeat=1.0,
                    timeout=3.0, client_timeout=2.0)
    sim = Simulation(nodes, network=Network(Constant(1.0)), seed=seed, record_states=False,
                     faults=[crash("r1", at=crash_at)])
    sim.run(until=until)
    done = sorted(op.response for op in sim.trace.history() if op.response is not None)
    return max(b - a for a, b in zip(done, done[1:]))


def renewal_cost(lease: float = 20.0, replicas: int = 3, period: float = 100.0) -> float:
    """Messages per time unit that keep an idle leader's lease (Renew and RenewAck), in a
    run without clients, every link 1."""
    finite_time("period", period)
    nodes = _system("lease", [], lease, replicas=replicas, clients=0, heartbeat=1.0)
    sim = Simulation(nodes, network=Network(Constant(1.0)), record_states=False)
    sim.run(until=period)
    counts = sim.trace.message_counts()
    return (counts.get("Renew", 0) + counts.get("RenewAck", 0)) / period


@dataclass
class SeededRuns:
    """``lease_runs``: how many runs, and the seeds whose runs broke something."""

    runs: int
    disagreements: list      # seeds whose replicas applied different commands in a slot
    not_linearizable: list   # seeds whose client history is not linearizable

    def __str__(self):
        return (f"{self.runs} seeded runs: {len(self.disagreements)} with replicas that "
                f"disagree on a slot, {len(self.not_linearizable)} with a history that is not "
                f"linearizable")


def lease_runs(seeds=range(1000), drift: float = 0.01, progress: bool = False,
               reads: str = "lease") -> SeededRuns:
    """Many seeded runs of the lease: 3 replicas (lease 5, drift bound ``drift``), each clock
    a rate drawn within 1 +- ``drift``; two clients reading and writing x (6 operations
    each); delays uniform in 0.5-1.5, 5 % of messages lost and 5 % duplicated; one replica
    crashes at a random time and comes back 2-10 later, and a random partition of one
    replica lasts 5-15.  Every random choice comes from the run's seed.  reads: "lease", or
    another of READS on the same runs."""
    import random

    from ..network import Uniform
    from ..protocols.multipaxos import slot_disagreements
    seeds = list(seeds)
    choice("reads", reads, tuple(READS))
    cls = type("LeaseReplica", (LeaseReplica,), {"lease_length": 5.0, "drift_bound": drift}) \
        if reads == "lease" else READS[reads]
    bad_slots, bad_history = [], []
    if progress:
        from tqdm.auto import tqdm
        seeds_shown = tqdm(seeds, desc="seeded runs", leave=True)
    else:
        seeds_shown = seeds
    for seed in seeds_shown:
        rng = random.Random(f"lease runs {seed}")
        ops = [[("write", "x", f"{c}{i}") if i % 2 == 0 else ("read", "x") for i in range(6)]
               for c in ("a", "b")]
        nodes = multipaxos_system(3, 2, ops, heartbeat=1.0, timeout=6.0, client_timeout=3.0,
                                  think=rng.uniform(0.0, 2.0), replica=cls)
        down, alone = rng.choice(("r1", "r2", "r3")), rng.choice(("r1", "r2", "r3"))
        crash_at, cut_at = rng.uniform(0, 30), rng.uniform(0, 30)
        faults = [crash(down, at=crash_at), restart(down, at=crash_at + rng.uniform(2, 10)),
                  partition([alone], at=cut_at), heal(at=cut_at + rng.uniform(5, 15))]
        network = Network(Uniform(0.5, 1.5), loss=0.05, duplicate=0.05)
        sim = Simulation(nodes, network=network, faults=faults, seed=seed, drift=drift,
                         record_states=False)
        sim.run(until=lambda sim: sim.now >= 150.0 or all_answered(sim))
        if slot_disagreements(sim):
            bad_slots.append(seed)
        if not linearizable_kv(sim.trace.history()):
            bad_history.append(seed)
    return SeededRuns(len(seeds), bad_slots, bad_history)


def flapping_cost(every: float | None, lease: float | None = None, cut_for: float = 6.0,
                  until: float = 150.0, seed: int = 0) -> dict:
    """A flapping leader: every ``every`` time units (None: never) whoever leads is cut off
    from everyone for ``cut_for``, long enough for the others to elect a new leader, then
    the network heals.  A client writes one value after another (resending after 2).
    Returns the writes acknowledged by ``until``, how many times the leader changed, and
    the phase-1 messages (Prepare, Promise, Reject) sent.  lease: as in ``failover_gap``."""
    finite_time("until", until)
    finite_time("cut_for", cut_for)
    if every is not None:
        finite_time("every", every)
        if every <= cut_for:
            raise ValueError(f"every must be longer than cut_for ({cut_for:g}), got {every:g}")
    reads = "log" if lease is None else "lease"
    nodes = _system(reads, [("write", "x", i) for i in range(1000)], lease, heartbeat=1.0,
                    timeout=3.0, client_timeout=2.0)
    sim = Simulation(nodes, network=Network(Constant(1.0)), seed=seed, record_states=False)
    leaders, t = [], 0.0
    while every is not None and t + every < until:
        t += every
        sim.run(until=t)
        leader = next((r for r in ("r1", "r2", "r3") if sim.nodes[r].role == "leader"), None)
        leaders.append(leader)
        if leader is not None:
            sim.apply(partition([leader]))
        sim.run(until=t + cut_for)
        sim.apply(heal())
    sim.run(until=until)
    counts = sim.trace.message_counts()
    return {"writes": sum(op.response is not None for op in sim.trace.history()),
            "leaders cut off": sum(leader is not None for leader in leaders),
            "phase-1 messages": sum(counts.get(t, 0) for t in ("Prepare", "Promise", "Reject"))}
