"""Chapter 09's lost disk: a replica that rejoins with an empty disk under its old identity
breaks agreement; one that recovers from a majority first does not."""

from __future__ import annotations

from ..faults import backup, crash, cut, drop, restart, restore, wipe
from ..network import Constant, Network
from ..protocols.lost_disk import AlwaysRecovering, RecoveringReplica
from ..protocols.multipaxos import Replica, multipaxos_system, slot_disagreements
from ..sim import Simulation
from ..validate import choice, finite_time


def lost_disk_run(replica: str = "plain", r1_back_at: float = 30.0,
                  until: float = 60.0, disk: str = "wiped") -> Simulation:
    """Three replicas, links of 1.  c1 writes "a" through the leader r1; r1's Accept to r3
    is lost, so "a" is chosen by r1 and r2 alone, and r1 crashes as it learns that (its
    Decided to r3 never leaves).  At t = 6 r2 loses its disk and restarts at once; r3, hearing
    no leader, stands, and c2 writes "b" at t = 12.  r1 comes back at ``r1_back_at``.
    replica: "plain" (``Replica``: r2 rejoins as if new), "recovering"
    (``RecoveringReplica``: after losing its disk r2 first recovers from a majority of the
    others) or "always" (``AlwaysRecovering``: it recovers after every restart).  disk:
    "wiped" (an empty disk) or "stale" (a backup taken at t = 0.5, before r2 accepted "a",
    restored at t = 6)."""
    choice("disk", disk, ("wiped", "stale"))
    finite_time("r1_back_at", r1_back_at)
    finite_time("until", until)
    cls = replica_class(replica)
    nodes = multipaxos_system(3, 2, [[("write", "x", "a")], [("write", "x", "b")]],
                              heartbeat=1.0, timeout=3.0, client_timeout=4.0, replica=cls)
    for n in nodes:
        if n.id == "c2":
            n.start, n.server = 12.0, "r3"
    chosen = lambda sim: len(sim.nodes["r1"].log) >= 1
    faults = [drop("Accept", "r1", "r3", at=0), cut("r1", "r3", when=chosen),
              crash("r1", when=chosen)]
    faults += [wipe("r2", at=6.0)] if disk == "wiped" else [backup("r2", at=0.5),
                                                             restore("r2", at=6.0)]
    faults += [restart("r2", at=6.0), restart("r1", at=r1_back_at)]
    sim = Simulation(nodes, network=Network(Constant(1.0)), faults=faults)
    sim.run(until=until)
    return sim


REPLICAS = {"plain": Replica, "recovering": RecoveringReplica, "always": AlwaysRecovering}
REJOINS = {"plain": "as if new", "recovering": "after recovering",
           "always": "recovers on every restart"}


def replica_class(replica: str) -> type:
    """"plain", "recovering" or "always" as its class."""
    choice("replica", replica, tuple(REPLICAS))
    return REPLICAS[replica]


def lost_disk_table(until: float = 60.0):
    """Both replicas' runs: what each replica has in slot 1, acknowledged writes, and the
    slots where replicas disagree."""
    from . import TextTable
    rows = []
    for replica, disk in (("plain", "wiped"), ("recovering", "wiped"), ("recovering", "stale"),
                          ("always", "stale")):
        sim = lost_disk_run(replica, until=until, disk=disk)
        logs = {r: sim.nodes[r].log for r in ("r1", "r2", "r3")}
        acked = [op.op[2] for op in sim.trace.history() if op.response is not None]
        rows.append({"r2's disk": "empty" if disk == "wiped" else "a stale copy",
                     "r2 rejoins": REJOINS[replica],
                     **{f"{r} slot 1": (log[0][2][2] if log and log[0] != "noop" else
                                        (log[0] if log else "-")) for r, log in logs.items()},
                     "acknowledged writes": ", ".join(acked) or "none",
                     "slots in disagreement": len(slot_disagreements(sim))})
    return TextTable(rows, note=f"at t = {until:g}")


def _with_past(cls, past: dict):
    """``cls`` whose first start writes ``past`` into its fields, so that its initial state
    (what a wiped disk goes back to) stays empty."""
    def on_start(self):
        for name, value in past.items():
            setattr(self, name, value() if callable(value) else value)
        cls.on_start(self)
    return type(cls.__name__, (cls,), {"on_start": on_start})


def lost_disk_scenario(replica: str = "plain") -> list:
    """Three replicas after this past (written at their first start): r1 led ballot 3 and
    "a" (c1's write) was chosen in slot 1, accepted by r1 and r2; r1 applied it, nobody else
    heard; r1 will not lead again.  Now r3 may stand (one ballot) and c2 asks r3 to write
    "b"."""
    from ..protocols.multipaxos import MultiPaxosClient
    cls = replica_class(replica)
    a = ("c1", 0, ("write", "x", "a"))
    voted = {"promised": 3, "seen": 3, "accepted": lambda: {1: (3, a)},
             "votes": lambda: {(1, 3, a)}}
    applied = {**voted, "tries": 1, "log": lambda: [a], "kv": lambda: {"x": "a"},
               "sessions": lambda: {"c1": (0, "ok")}}
    classes = [_with_past(cls, applied), _with_past(cls, voted), cls]
    nodes = multipaxos_system(3, 0, heartbeat=None, leaders=("r3",), max_ballots=1,
                              replica=cls)
    nodes = [klass(*_args(n)) for klass, n in zip(classes, nodes)]
    nodes.append(MultiPaxosClient("c2", ("r1", "r2", "r3"), [("write", "x", "b")],
                                  server="r3"))
    return nodes


def _args(replica) -> tuple:
    """The constructor arguments of a built replica (to build it again as a subclass)."""
    return (replica.id, replica.replicas, replica.index, replica.timeout, replica.heartbeat,
            replica.phase1_every_command, replica.may_lead, replica.first_leader,
            replica.max_ballots)


def stale_copy(replica: str = "plain") -> dict:
    """r2's disk as a backup taken just after its first start holds it: nothing promised
    or accepted, and (for the recovering replicas) ``fresh`` already cleared."""
    return {"fresh": False} if "fresh" in replica_class(replica).stable else {}


def lost_disk_check(replica: str = "plain", disk: str = "wiped", progress: bool = False):
    """Every reachable state from ``lost_disk_scenario``: r2 may crash once and come back
    only with its disk lost (disk="wiped": ``Controls(wipe=True)``) or only from a stale
    copy of it (disk="stale": ``Controls(stale_disks={"r2": stale_copy(replica)})``);
    messages duplicated and reordered, timers firing at any moment.  Invariant: slot
    agreement (no two replicas apply different commands in a slot)."""
    from ..actions import Controls
    from ..check import check
    from ..protocols.multipaxos import slot_agreement
    choice("disk", disk, ("wiped", "stale"))
    controls = Controls(duplicate=True, max_crashes=1, crashable=("r2",), restart=False,
                        wipe=disk == "wiped",
                        stale_disks={"r2": stale_copy(replica)} if disk == "stale" else ())
    return check(lost_disk_scenario(replica), controls,
                 invariants={"slot agreement": slot_agreement}, max_states=300_000,
                 progress=progress)
