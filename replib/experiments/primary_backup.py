"""Chapter 02's stories, ready to run: a write applied twice, split brain after a
partition heals (naive failover, epochs, epochs with a pre-vote), a write that reached some
backups, a stale read from a backup, an old primary that goes on answering on the minority
side, and semi-sync's failover caveat."""

from __future__ import annotations

from ..faults import crash, drop, heal, partition
from ..network import Constant, Network
from ..protocols.replication import replication_system
from ..sim import Simulation


def split_brain(failover: str = "naive", replica=None) -> Simulation:
    """Chapter 02's story 2, ready to run: async, two backups, two clients; a partition cuts
    b1 and c2 off from t=3 to t=9 (run it ``until=30``).  ``replica``: a Replica subclass."""
    nodes = replication_system(2, "async", failover=failover, clients=2, writes=6,
                               client_timeout=3, replica=replica)
    return Simulation(nodes, faults=[partition(["primary", "b2", "c1"], ["b1", "c2"], at=3),
                                     heal(at=9)], seed=2)


def partial_replication() -> Simulation:
    """Chapter 02's story 3, ready to run: async, naive failover, three writes.  Write 1's
    Update to b2 is lost, and the primary crashes once b1 has write 1 (run it ``until=30``)."""
    nodes = replication_system(2, "async", failover="naive", writes=3, heartbeat=3,
                               client_timeout=3)
    return Simulation(nodes, faults=[drop("Update", "primary", "b2", at=0),
                                     crash("primary", when=lambda s: len(s.node("b1").log) == 1)],
                      seed=3)


def stale_read():
    """Chapter 02's stale read: the client writes 1 (async) and then reads from b1, whose
    link from the primary takes 5.  Returns the trace; its history is not linearizable."""
    slow = Network(links={("primary", "b1"): Constant(5.0)})
    return Simulation(replication_system(1, "async", writes=1, reads=1, read_from="backup"),
                      network=slow).run()


def applied_twice() -> Simulation:
    """Chapter 02's story 1, ready to run: sync, one backup, naive failover.  The primary
    ships write 1, b1 applies it, and the primary crashes before b1's Ack reaches it; b1
    takes over, and the client's retry makes it apply write 1 again (run it ``until=20``)."""
    nodes = replication_system(1, "sync", failover="naive", writes=1, client_timeout=3)
    return Simulation(nodes, faults=[crash("primary", when=lambda s: len(s.node("b1").log) == 1)],
                      seed=1)


def disruption(failover: str) -> dict:
    """Story 2 run with ``failover`` ("epochs" or "prevote") until t=30: the epoch every
    replica ends in, who was primary in which epoch, and how many of c1's writes (on the
    healthy primary's side all along) took more than one try."""
    from ..protocols.replication import primaries_by_epoch
    sim = split_brain(failover)
    trace = sim.run(until=30)
    c1 = [op for op in trace.history() if op.client == "c1" and op.response is not None]
    return {"epochs": {r: sim.nodes[r].epoch for r in ("primary", "b1", "b2")},
            "primaries": {e: sorted(p) for e, p in sorted(primaries_by_epoch(trace).items())},
            "c1 writes retried": sum(op.latency > 3 for op in c1),
            "trace": trace}


def minority_primary(staggered_timeouts: bool = False, heal_at: float = 25.0) -> dict:
    """Async, epochs: a partition puts the primary and client c1 on one side, b1, b2 and c2 on
    the other, from t=3 to ``heal_at``.  The old primary keeps answering c1: it cannot know
    it was deposed.  On the majority side b1 and b2 time out together and split the votes,
    epoch after epoch, unless ``staggered_timeouts`` (b2 waits longer, so b1 wins at once).
    Returns what each side acknowledged while split, when the majority first elected a
    primary (time and epoch), the acknowledged writes lost after the heal, and the trace."""
    from ..history import lost_writes
    from .partitions import staggered
    nodes = replication_system(2, "async", failover="epochs", clients=2, writes=40,
                               client_timeout=3, think=0.5)
    if staggered_timeouts:
        staggered(nodes)
    sim = Simulation(nodes, faults=[partition(["primary", "c1"], ["b1", "b2", "c2"], at=3),
                                    heal(at=heal_at)], seed=2)
    trace = sim.run(until=heal_at + 15)
    during = [op for op in trace.history() if op.result == "ok" and 3 <= op.response <= heal_at]
    replicas = ("primary", "b1", "b2")
    lost = lost_writes(trace.history(), {r: sim.nodes[r].log for r in replicas})
    elected = next(((e.time, e.state["epoch"], e.node) for e in trace.events
                    if e.state is not None and e.node in ("b1", "b2")
                    and e.state.get("role") == "primary"), None)
    return {"acknowledged while split": {c: sum(op.client == c for op in during)
                                         for c in ("c1", "c2")},
            "elected": elected, "lost": [op.op for op in lost],
            "epochs tried": max(sim.nodes[r].epoch for r in replicas), "trace": trace}


def semi_sync_failover(failover: str = "naive") -> dict:
    """Semi-sync with k=1 of two backups: b1 is near the primary and acknowledges at once, b2
    is far (its Updates take 3).  The primary crashes right after its client was told "ok";
    b2, whose failover timeout is the shorter, stands first.  Naive failover makes b2 primary
    without the write; epochs need b1's vote, and b1's log, which has it, wins.  Returns the
    acknowledged writes missing from the new primary's log, both logs, the new primary and
    the trace."""
    from ..history import lost_writes
    nodes = replication_system(2, "semi-sync", 1, failover=failover, writes=1,
                               client_timeout=8.0)
    for n in nodes:
        if getattr(n, "id", None) == "b1":
            n.timeout = 6.0                # b1 waits longer: b2 stands first
    far = Constant(3.0)
    network = Network(Constant(0.5), links={("primary", "b2"): far, ("b2", "primary"): far})
    dry = Simulation(replication_system(2, "semi-sync", 1, failover=failover, writes=1),
                     network=network).run(until=20)
    acked = dry.history()[0].response
    sim = Simulation(nodes, network=network, faults=[crash("primary", at=acked + 0.1)])
    trace = sim.run(until=40)
    logs = {r: sim.nodes[r].log for r in ("b1", "b2")}
    new = next(r for r in logs if sim.nodes[r].role == "primary")
    return {"missing from the new primary": [op.op for op in lost_writes(
                trace.history(), {new: logs[new]})],
            "logs": logs, "new primary": new, "trace": trace}
