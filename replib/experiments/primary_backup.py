"""Chapter 02's stories, ready to run: split brain after a partition heals, with naive
failover or with epochs."""

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
