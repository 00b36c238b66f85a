"""Chapter 02's stories, ready to run: split brain after a partition heals, with naive
failover or with epochs."""

from __future__ import annotations

from ..faults import heal, partition
from ..protocols.replication import replication_system
from ..sim import Simulation


def split_brain(failover: str = "naive", replica=None) -> Simulation:
    """Chapter 02's story 2, ready to run: async, two backups, two clients; a partition cuts
    b1 and c2 off from t=3 to t=9 (run it ``until=30``).  ``replica``: a Replica subclass."""
    nodes = replication_system(2, "async", failover=failover, clients=2, writes=6,
                               client_timeout=3, replica=replica)
    return Simulation(nodes, faults=[partition(["primary", "b2", "c1"], ["b1", "c2"], at=3),
                                     heal(at=9)], seed=2)
