"""Chapter 09's lost disk: a replica that rejoins with an empty disk under its old identity
breaks agreement; one that recovers from a majority first does not."""

from __future__ import annotations

from ..faults import crash, cut, drop, restart, wipe
from ..network import Constant, Network
from ..protocols.lost_disk import RecoveringReplica
from ..protocols.multipaxos import Replica, multipaxos_system, slot_disagreements
from ..sim import Simulation
from ..validate import choice, finite_time


def lost_disk_run(replica: str = "plain", r1_back_at: float = 30.0,
                  until: float = 60.0) -> Simulation:
    """Three replicas, links of 1.  c1 writes "a" through the leader r1; r1's Accept to r3
    is lost, so "a" is chosen by r1 and r2 alone, and r1 crashes as it learns that (its
    Decided to r3 never leaves).  At t = 6 r2 loses its disk and restarts at once; r3, hearing
    no leader, stands, and c2 writes "b" at t = 12.  r1 comes back at ``r1_back_at``.
    replica: "plain" (``Replica``: r2 rejoins as if new) or "recovering"
    (``RecoveringReplica``: r2 first recovers from a majority of the others)."""
    choice("replica", replica, ("plain", "recovering"))
    finite_time("r1_back_at", r1_back_at)
    finite_time("until", until)
    cls = Replica if replica == "plain" else RecoveringReplica
    nodes = multipaxos_system(3, 2, [[("write", "x", "a")], [("write", "x", "b")]],
                              heartbeat=1.0, timeout=3.0, client_timeout=4.0, replica=cls)
    for n in nodes:
        if n.id == "c2":
            n.start, n.server = 12.0, "r3"
    chosen = lambda sim: len(sim.nodes["r1"].log) >= 1
    faults = [drop("Accept", "r1", "r3", at=0), cut("r1", "r3", when=chosen),
              crash("r1", when=chosen), wipe("r2", at=6.0), restart("r2", at=6.0),
              restart("r1", at=r1_back_at)]
    sim = Simulation(nodes, network=Network(Constant(1.0)), faults=faults)
    sim.run(until=until)
    return sim


def lost_disk_table(until: float = 60.0):
    """Both replicas' runs: what each replica has in slot 1, acknowledged writes, and the
    slots where replicas disagree."""
    from . import TextTable
    rows = []
    for replica in ("plain", "recovering"):
        sim = lost_disk_run(replica, until=until)
        logs = {r: sim.nodes[r].log for r in ("r1", "r2", "r3")}
        acked = [op.op[2] for op in sim.trace.history() if op.response is not None]
        rows.append({"r2 rejoins": "as if new" if replica == "plain" else "after recovering",
                     **{f"{r} slot 1": (log[0][2][2] if log and log[0] != "noop" else
                                        (log[0] if log else "-")) for r, log in logs.items()},
                     "acknowledged writes": ", ".join(acked) or "none",
                     "slots in disagreement": len(slot_disagreements(sim))})
    return TextTable(rows, note=f"at t = {until:g}")
