"""Chapter 08: the approaches side by side, measured on one workload.

Every approach serves the same clients (``ReplicationClient``: writes ``("write", v)`` and
reads ``("read",)`` of one register, one at a time, resending to the next server on a
timeout) over the same network (one latency model, one seed).  ``run`` measures one
approach, ``compare`` all of them and returns a ``Table``.

What is measured, and how:

* **messages per write**: messages between the nodes of the service (client requests and
  replies left out, as the classic taxonomy counts them; so are the messages a node sends
  to itself, which are no network traffic: ``self_messages`` lists them) divided by the
  acknowledged writes,
  in a failure-free run of ``ops`` writes per client with failure detection switched off
  (heartbeats cost messages per unit of time, not per write).
* **message delays per write**: on an idle system with every message taking exactly 1 (a
  long think time between writes), a write's latency minus the client's own round trip (2):
  the one-way message delays the service needs before it can answer.
* **latency**: mean and maximum of the write latency in the failure-free run, on the chosen
  latency model, in time units (with ``ops`` = 10 writes the maximum is the slowest of 10,
  not a percentile: ``compare(ops=...)`` measures more).
* **busiest node**: the node that sends plus receives the most messages per write (client
  requests and replies included: it handles them too; messages to itself are not); with a
  fixed cost per message,
  ``throughput = 1 / (message_cost * busiest_per_op)`` writes per unit of time is the most
  that node can sustain.
* **after a crash** (``crash=("leader", at)``): the node crashes at ``at``, and the messages
  it had sent that have not arrived yet are lost with it (it is cut off as it crashes, as in
  ``experiments.lost_after_primary_crash``: an update still in its send queue).  Failure
  detection is on (primary/backup: failover with epochs).  *Availability*: two probe
  clients start ``settle`` after the fault, one writing and one reading, each trying every
  server in turn; "read/write" if the write was acknowledged, "read-only" if only the read
  was answered, "down" if neither was.  When the probes are done, the crashed node
  restarts from its disk (the fault heals); ``settle`` later a client reads at each server.
* **after a partition** (``partition=("leader", at)``): from ``at`` the node is cut off from
  the other nodes of the service (both ways); clients still reach every node.  The same
  probes say what the clients can still do; then the partition heals, and ``settle`` later a
  client reads at each server.
* **what a fault run did to the data** (``FaultRun``): *lost while down* counts the writes a
  client saw acknowledged that no node but the crashed one holds when the probes are done
  (what is gone if its disk is gone too); after the heal, *lost* counts the acknowledged
  writes no node holds, *diverged* the pairs of nodes whose logs disagree (neither is a
  prefix of the other: ``history.diverged``), *stale* the reads that returned a value
  older than a write acknowledged before the read began (``stale_reads``).
* **linearizable**: every history of the run (failure-free, crash, partition; the clients'
  operations and the probes') passes ``history.linearizable``.

"leader", "primary" and "coordinator" all name the approach's distinguished node (the one
that orders writes; a multi-master system's first master); "follower", "backup" and
"participant" name the last of the others.

Backups (``protocols.backups``) and multi-master (``protocols.multimaster``) complete
Barrett's 2009 table (``experiments.classic``): a primary that copies its log to a backup
every ``COPY_PERIOD`` time units and never fails over; masters that each take writes and
ship them to the others, with no rule to reconcile them.  Their probes differ in one way:
a multi-master write probe goes to the last master first (a client near another master),
which is the point of having several.

Two-phase and three-phase commit are atomic commitment protocols, not replication
protocols; here each write is one transaction that writes the value at every participant,
and a client talks to the coordinator (a node of its own, so 2PC with n replicas has n
participants plus the coordinator), which answers reads from its own decisions.  The
transaction's value is kept at the coordinator (``values``, on its disk); a participant
holds a write once it is prepared (or precommitted) or committed.

Multi-Paxos (``protocols.multipaxos``) runs replicas r1..rn and its own clients on key "x"
(``("write", "x", v)``, checked with ``linearizable_kv``); reads go through the log like
writes.  Its first leader is elected before the workload starts (the clients begin at
t=5), and that one-off phase 1 is not counted.  In the failure-free runs only r1 may lead
and there are no heartbeats; in the fault runs every replica may stand.  A replica holds a
write once it accepted, learned or applied it.

Primary/backup failover here staggers the backups' timeouts (``_StaggeredReplica``):
with equal ones they stand in lockstep after the primary crashes and split the vote
forever (chapter 06).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..clients import Client, NextOp, Reply
from ..faults import crash as crash_fault
from ..faults import cut, heal, restart
from ..history import diverged, linearizable, linearizable_kv, lost_writes
from ..network import LATENCY_MODELS, Constant, Network, Uniform
from ..protocols import threepc, twopc
from ..protocols.backups import backups_system
from ..protocols.multimaster import multimaster_system
from ..protocols.replication import FencingReplica, ReplicationClient, replication_system
from ..sim import Simulation
from ..validate import finite_time, names, whole_number
from . import text_grid

__all__ = [
    "APPROACHES",
    "AVAILABILITY",
    "Approach",
    "CrashSweep",
    "FaultRun",
    "Measurement",
    "Table",
    "approach_names",
    "available",
    "compare",
    "crash_sweep",
    "fault_run",
    "in_flight_crash",
    "plot_delays",
    "plot_latency",
    "plot_lost_writes",
    "plot_messages",
    "plot_throughput",
    "approach_style",
    "run",
    "stale_reads",
]

AVAILABILITY = ("read/write", "read-only", "down")
LEADER_WORDS = ("leader", "primary", "coordinator")
FOLLOWER_WORDS = ("follower", "backup", "participant")
DEFAULT_LATENCY = Uniform(0.5, 1.5)
#: how often the backups approach copies the primary's log to its backup (time units)
COPY_PERIOD = 5.0


# ---- 2PC and 3PC as a service that clients write to -----------------------------------------


class _ServedCoordinator:
    """Mixin for a 2PC/3PC coordinator: each client write becomes the next transaction; the
    client is answered "ok" when the coordinator decides commit ("aborted" on an abort).
    Requests that come while a transaction runs wait in a queue (in memory); the
    coordinator begins the next transaction once every participant acknowledged the last
    decision, as the plain coordinator does.  ``values`` (tx -> value) and ``requests``
    ((client, seq) -> tx, so a retried request is not applied twice) are on disk."""

    stable = ("decisions", "started", "values", "requests")

    def __init__(self, id, participants, timeout):
        super().__init__(id, participants, transactions=10 ** 9, timeout=timeout, think=0.0)
        self.values = {}
        self.requests = {}
        self.queue = []          # (client, seq, value) waiting for their transaction
        self.pending = {}        # tx -> (client, seq) to answer at the decision

    def on_start(self):
        pass                     # transactions begin with the clients' writes

    def register(self):
        """The register's value: the value of the last transaction decided commit."""
        done = [tx for tx, d in self.decisions.items() if d == "commit"]
        return self.values[max(done)] if done else None

    def on_request(self, msg, sender):
        if msg.op[0] == "read":
            self.send(sender, Reply(msg.seq, self.register()))
            return
        tx = self.requests.get((msg.client, msg.seq))
        if tx is not None:                         # a retry
            if self.decisions.get(tx) in twopc.OUTCOMES:
                self.send(sender, Reply(msg.seq, "ok" if self.decisions[tx] == "commit"
                                        else "aborted"))
            else:
                self.pending[tx] = (sender, msg.seq)
            return
        if all(q[:2] != (sender, msg.seq) for q in self.queue):
            self.queue.append((sender, msg.seq, msg.op[1]))
        self.next_if_idle()

    def idle(self) -> bool:
        tx = self.started
        return tx == 0 or (self.decisions.get(tx) in twopc.OUTCOMES
                           and self.acked >= set(self.participants))

    def next_if_idle(self):
        if self.queue and self.idle():
            self.begin(self.started + 1)

    def on_next_transaction(self, timer):
        self.next_if_idle()

    def begin(self, tx):
        client, seq, value = self.queue.pop(0)
        self.started = tx
        self.values[tx] = value
        self.requests[(client, seq)] = tx
        self.pending[tx] = (client, seq)
        self.votes, self.acked = {}, set()
        for p in self.participants:
            self.send(p, self.vote_request(tx))
        self.set_timer(twopc.VoteTimeout(tx), self.timeout)

    def decide(self, tx, outcome):
        self.decisions[tx] = outcome               # on disk first
        self.cancel_timer(twopc.VoteTimeout(tx))
        if tx in self.pending:
            client, seq = self.pending.pop(tx)
            self.send(client, Reply(seq, "ok" if outcome == "commit" else "aborted"))
        self.tell(tx, self.participants)

    def on_restart(self):
        if self.started != 0:
            super().on_restart()


class ServedTwoPC(_ServedCoordinator, twopc.Coordinator):
    """The 2PC coordinator in front of clients (see _ServedCoordinator)."""


class ServedThreePC(_ServedCoordinator, threepc.ThreePCCoordinator):
    """The 3PC coordinator in front of clients (see _ServedCoordinator)."""


HOLDING = ("prepared", "precommitted", "committed")


class _StaggeredReplica(FencingReplica):
    """A primary/backup replica whose failover timeout grows with its place in the replica
    list (b1: timeout, b2: timeout + STAGGER, ...).  With equal timeouts the backups stand
    for election in lockstep after the primary crashes and split the votes forever
    (chapter 06's livelock); staggering them lets b1 win first, as randomized timeouts do
    in Raft, but deterministically."""

    STAGGER = 3.0

    def __init__(self, id, replicas, *args, **kwargs):
        super().__init__(id, replicas, *args, **kwargs)
        self.timeout = self.timeout + self.STAGGER * max(0, tuple(replicas).index(id) - 1)


# ---- the approaches ------------------------------------------------------------------------


@dataclass(frozen=True)
class Approach:
    """One row of the comparison: how to build it and what the taxonomy says it costs."""

    name: str
    label: str
    taxonomy: int | None          # the classic count: taxonomy * n messages per operation
    family: str                   # "backups", "pb", "mm", "commit" or "paxos"
    short: str = ""               # the label under a bar


APPROACHES = {
    "backups": Approach("backups", "backups", None, "backups", "backups"),
    "async": Approach("async", "async primary/backup", 1, "pb", "async\nP/B"),
    "sync": Approach("sync", "sync primary/backup", 2, "pb", "sync\nP/B"),
    "multi-master": Approach("multi-master", "multi-master", None, "mm", "multi-\nmaster"),
    "2pc": Approach("2pc", "2PC", 4, "commit", "2PC"),
    "3pc": Approach("3pc", "3PC", 6, "commit", "3PC"),
    "multipaxos": Approach("multipaxos", "Multi-Paxos, stable leader", 4, "paxos",
                           "Multi-Paxos\n(stable\nleader)"),
    "paxos-per-op": Approach("paxos-per-op", "Paxos, election per op", 6, "paxos",
                             "Paxos\n(election\nper op)"),
    "raft": Approach("raft", "Raft", None, "raft", "Raft"),
}


def approach_names() -> list:
    return list(APPROACHES)


def _multipaxos_module():
    """The Multi-Paxos module, or None while it is not written yet."""
    try:
        from ..protocols import multipaxos
    except ImportError:
        return None
    return multipaxos if hasattr(multipaxos, "multipaxos_system") else None


def available(name: str) -> bool:
    return APPROACHES[name].family != "paxos" or _multipaxos_module() is not None


@dataclass
class _System:
    nodes: list                  # the service's nodes (no clients)
    servers: tuple               # whom clients talk to, in the order they try them
    group: tuple                 # the nodes of the service (messages between them count)
    leader: str
    follower: str
    holds: object                # function(sim) -> {node: writes it holds} of the up nodes
    logs: object                 # function(sim) -> {node: its writes in order}, every node
    kv: bool = False             # operations on key "x": ("write", "x", v), ("read", "x")
    kv_client: type | None = None  # the client class of a kv service (MultiPaxosClient's shape)
    start: float = 0.0           # when the workload's clients begin (after a first election)
    probe_home: str | None = None  # the server a write probe tries first (default: the first)

    def write(self, value):
        return ("write", "x", value) if self.kv else ("write", value)

    def read(self):
        return ("read", "x") if self.kv else ("read",)

    def check(self, history) -> bool:
        return bool((linearizable_kv if self.kv else linearizable)(history))

    def client(self, name, ops, think, timeout, start=None, home=None):
        """A client of this service; ``start``: when its first operation goes (default:
        the workload's start, then ``think`` later for ReplicationClient); ``home``: the
        server it tries first (default: the first server)."""
        start = self.start if start is None else start
        servers = self.servers
        if home is not None:
            i = servers.index(home)
            servers = servers[i:] + servers[:i]
        if self.kv:
            return self.kv_client(name, servers, ops, think=think, timeout=timeout,
                                  start=start + think, server=servers[0])
        return _Client(name, servers, ops, think=think, timeout=timeout, start=start)


class _Client(ReplicationClient):
    """A ReplicationClient whose first operation goes at ``start + think``."""

    def __init__(self, *args, start: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.start = start

    def on_start(self):
        if self.ops:
            self.set_timer(NextOp(), self.start + self.think)


def _logs_of(ids):
    """For the approaches whose nodes keep ``log``, a list of writes: every node's log."""
    def logs(sim):
        return {r: list(sim.nodes[r].log) for r in ids}
    return logs


def _up(logs):
    """holds(sim) from logs(sim): the logs of the nodes that are up."""
    def holds(sim):
        return {r: log for r, log in logs(sim).items() if r not in sim.crashed}
    return holds


def _build(name, replicas, fault_tolerant, timeout):
    a = APPROACHES[name]
    if a.family in ("pb", "backups", "mm"):
        if a.family == "pb":
            nodes = replication_system(replicas - 1, name, failover="epochs" if fault_tolerant
                                       else None, clients=0, timeout=timeout / 2,
                                       replica=_StaggeredReplica)
        elif a.family == "backups":
            nodes = backups_system(replicas - 1, COPY_PERIOD)
        else:
            nodes = multimaster_system(replicas, heartbeat=1.0 if fault_tolerant else None)
        ids = tuple(n.id for n in nodes)
        logs = _logs_of(ids)
        return _System(nodes, ids, ids, ids[0], ids[-1], _up(logs), logs,
                       probe_home=ids[-1] if a.family == "mm" else None)
    if a.family == "commit":
        ids = twopc.participant_ids(replicas)
        if name == "2pc":
            coord = ServedTwoPC(twopc.COORDINATOR, ids, timeout)
            parts = [twopc.Participant(p, twopc.COORDINATOR, ids, "yes", 0, timeout) for p in ids]
        else:
            coord = ServedThreePC(twopc.COORDINATOR, ids, timeout)
            parts = [threepc.ThreePCParticipant(p, twopc.COORDINATOR, ids, "yes", 0, timeout)
                     for p in ids]

        def holds(sim):
            c = sim.nodes[twopc.COORDINATOR]
            out = {p: [("write", c.values[tx]) for tx, st in sorted(sim.nodes[p].log.items())
                       if st in HOLDING and tx in c.values]
                   for p in ids if p not in sim.crashed}
            if twopc.COORDINATOR not in sim.crashed:
                out[twopc.COORDINATOR] = [("write", c.values[tx]) for tx, d in
                                          sorted(c.decisions.items()) if d == "commit"]
            return out

        def logs(sim):                     # what each participant committed, in order
            c = sim.nodes[twopc.COORDINATOR]
            return {p: [("write", c.values[tx]) for tx, st in sorted(sim.nodes[p].log.items())
                        if st == "committed" and tx in c.values] for p in ids}
        group = (twopc.COORDINATOR,) + tuple(ids)
        return _System([coord] + parts, (twopc.COORDINATOR,), group, twopc.COORDINATOR,
                       ids[-1], holds, logs)
    if a.family == "raft":
        return _raft(replicas, fault_tolerant, timeout)
    mp = _multipaxos_module()
    if mp is None:
        raise ValueError(f"{a.label} is not available yet: replib/protocols/multipaxos.py is "
                         f"not written yet")
    nodes = [n for n in mp.multipaxos_system(
        replicas, clients=0, ops=0, timeout=timeout / 2,
        heartbeat=1.0 if fault_tolerant else None,
        phase1_every_command=name == "paxos-per-op",
        # no failure detection: the first leader is the only one that stands
        leaders=None if fault_tolerant else ["r1"]) if not isinstance(n, Client)]
    ids = tuple(n.id for n in nodes)

    def holds(sim):
        out = {}
        for r in ids:
            if r in sim.crashed:
                continue
            node = sim.nodes[r]
            commands = (list(node.log) + list(node.decided.values())
                        + [c for _, c in node.accepted.values()])
            out[r] = [c[2] for c in commands if c != mp.NOOP]
        return out

    def logs(sim):                         # the commands each replica applied, in slot order
        return {r: [c[2] for c in sim.nodes[r].log if c != mp.NOOP] for r in ids}
    return _System(nodes, ids, ids, ids[0], ids[-1], holds, logs, kv=True,
                   kv_client=mp.MultiPaxosClient, start=5.0)


#: Raft's election timeout when only s1 stands (the failure-free runs): it leads before
#: the clients start at RAFT_START
RAFT_QUICK_TIMEOUT, RAFT_START = 2.0, 10.0


def _raft(replicas, fault_tolerant, timeout):
    """Raft (``protocols.raft``) as a service: servers s1..sn, clients on key "x", reads
    through the log.  Failure-free runs: only s1 stands (an election timeout of 2 to 4, so
    it leads before the clients start at t = 10; that election is not counted) and no
    heartbeats.  Fault runs: every server stands (timeouts from timeout/2 to timeout),
    heartbeats every 1.  A server holds a write once it is in its log; it has applied the
    committed prefix of its log."""
    from ..protocols import raft
    nodes = [n for n in raft.raft_system(
        replicas, clients=0, ops=0, heartbeat=1.0 if fault_tolerant else None,
        election_timeout=timeout / 2 if fault_tolerant else RAFT_QUICK_TIMEOUT,
        candidates=None if fault_tolerant else ["s1"]) if not isinstance(n, Client)]
    ids = tuple(n.id for n in nodes)

    def ops_in(entries):
        return [command[2] for _, command in entries if command != raft.NOOP]

    def holds(sim):
        return {s: ops_in(sim.nodes[s].log) for s in ids if s not in sim.crashed}

    def logs(sim):                         # the commands each server applied, in log order
        return {s: ops_in(sim.nodes[s].log[:sim.nodes[s].last_applied]) for s in ids}
    return _System(nodes, ids, ids, ids[0], ids[-1], holds, logs, kv=True,
                   kv_client=raft.RaftClient, start=RAFT_START)


def _clients(system, clients, think, timeout, writes, reads=False):
    """The workload: each client writes its own values c1:1, c1:2, ... (a read after each
    write if ``reads``)."""
    out = []
    for c in range(1, clients + 1):
        ops = []
        for k in range(1, writes + 1):
            ops.append(system.write(f"c{c}:{k}"))
            if reads:
                ops.append(system.read())
        out.append(system.client(f"c{c}", ops, think, timeout))
    return out


# ---- one approach --------------------------------------------------------------------------


@dataclass
class FaultRun:
    """One run with a fault that heals (see the module's docstring for how it is measured).

    kind: "crash" or "partition"; node: who failed, at ``at``; heal_at: when it restarted
    (or the partition healed).  availability: what the probes could do before the heal.
    lost_while_down: acknowledged writes no node but the crashed one held just before it
    restarted (a crash only; None for a partition).  After the heal: lost (acknowledged
    writes no node holds), diverged (pairs of nodes whose logs disagree), stale (reads that
    returned an older value than a write acknowledged before they began), linearizable."""

    kind: str
    node: str
    at: float
    heal_at: float
    availability: str
    lost_while_down: int | None
    lost: int
    diverged: list
    stale: int
    linearizable: bool


@dataclass
class Measurement:
    """What ``run`` measured for one approach (see the module's docstring for how).

    available False: the approach is not implemented yet, and every number is None.
    crash_run, partition_run: the FaultRun of each fault; ``lost``, ``after_crash`` and
    ``after_partition`` repeat their headline figures (lost: acknowledged writes gone if
    the crashed node's disk is gone too)."""

    approach: str
    label: str
    replicas: int
    taxonomy: int | None
    available: bool = True
    messages_per_op: float | None = None
    messages_by_type: dict = field(default_factory=dict)
    self_messages: dict = field(default_factory=dict)     # per write, to the sender itself
    delays: float | None = None
    latency_mean: float | None = None
    latency_max: float | None = None
    busiest: str | None = None
    busiest_per_op: float | None = None
    throughput: float | None = None
    lost: int | None = None
    after_crash: str | None = None
    after_partition: str | None = None
    crash_run: FaultRun | None = None
    partition_run: FaultRun | None = None
    linearizable: bool | None = None
    linearizable_in: dict = field(default_factory=dict)   # run ("no fault", ...) -> bool
    notes: list = field(default_factory=list)

    @property
    def expected(self) -> int | None:
        """The taxonomy's count for n = ``replicas``: taxonomy * n (None: not in it)."""
        return None if self.taxonomy is None else self.taxonomy * self.replicas


def _check_fault(name, fault):
    if fault is None:
        return None
    if not isinstance(fault, (tuple, list)) or len(fault) != 2:
        raise ValueError(f"{name} must be None or (component, time), e.g. ('leader', 10.0); "
                         f"got {fault!r}")
    who, at = fault
    if who not in LEADER_WORDS + FOLLOWER_WORDS:
        raise ValueError(f"{name}: the component must be one of "
                         f"{', '.join(map(repr, LEADER_WORDS + FOLLOWER_WORDS))}; got {who!r}")
    finite_time(f"{name} time", at, zero_ok=True)
    return (who, float(at))


def _check_args(approach, replicas, ops, clients, seed, latency, crash, partition, think,
                message_cost):
    if approach not in APPROACHES:
        raise ValueError(f"unknown approach {approach!r}; choose one of "
                         f"{', '.join(map(repr, APPROACHES))}")
    whole_number("replicas", replicas, 2, 9)
    whole_number("ops", ops, 1, 200)
    whole_number("clients", clients, 1, 3)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if not isinstance(latency, LATENCY_MODELS):
        raise ValueError(f"latency must be a Constant, Uniform or LongTail from replib.network, "
                         f"got {latency!r}")
    finite_time("think", think, zero_ok=True)
    finite_time("message_cost", message_cost)
    return _check_fault("crash", crash), _check_fault("partition", partition)


def _workload_events(trace):
    """The events from the first client operation on (a first leader election before it is
    a one-off cost, not the workload's)."""
    for i, e in enumerate(trace.events):
        if e.kind == "invoke":
            return trace.events[i:]
    return []


def _service_messages(trace, group):
    """Messages sent from a node of the service to another one, by type; and, apart, the
    messages a node sends to itself (Multi-Paxos's leader is an acceptor too, and this code
    sends it its own Accept: no network message, so not counted)."""
    counts, own = {}, {}
    for e in _workload_events(trace):
        if e.kind == "send" and e.node in group and e.peer in group:
            d = own if e.node == e.peer else counts
            d[e.msg_type] = d.get(e.msg_type, 0) + 1
    return counts, own


def _busiest(trace, group):
    """node -> messages it sent or handled (client ones included)."""
    load = dict.fromkeys(group, 0)
    for e in _workload_events(trace):
        if e.kind in ("send", "deliver") and e.node in load and e.node != e.peer:
            load[e.node] += 1
    return load


_MAX_EVENTS = 200_000


def _quiet(trace, label):
    """A failure-free run must end by itself (every message answered, no timer left)."""
    if len(trace.events) >= _MAX_EVENTS:
        raise RuntimeError(f"{label}: the failure-free run did not settle within "
                           f"{_MAX_EVENTS} events")
    return trace


def _acked_writes(history):
    return [op for op in history if op.op[0] == "write" and op.result == "ok"]


def _key_value(op):
    """(key, value) of a write, (key, None) of a read; key None for a plain register."""
    if op[0] == "write":
        return (op[1] if len(op) == 3 else None), op[-1]
    return (op[1] if len(op) == 2 else None), None


def stale_reads(history) -> list:
    """The reads in ``history`` that returned a value older than a write acknowledged
    before they began: a read returning v is stale when some write w was acknowledged
    before the read was invoked, and v's own write (or the initial None) had returned
    before w was invoked, so w came after it in real time.  Every write writes its own
    value (the workload's writes do).  A stale read is enough to make a history not
    linearizable; the converse does not hold."""
    ops = list(history)
    written, acked = {}, {}
    for op in ops:
        if op.op[0] == "write":
            key, value = _key_value(op.op)
            written.setdefault((key, value), op)
            if op.result == "ok":
                acked.setdefault(key, []).append(op)
    out = []
    for op in ops:
        if op.op[0] != "read" or op.response is None:
            continue
        key, _ = _key_value(op.op)
        source = written.get((key, op.result))
        if op.result is not None and source is None:
            continue                               # not a value anybody wrote: not ours to judge
        done = -math.inf if op.result is None else source.response
        if done is None:
            continue                               # its write was never answered
        if any(w is not source and w.response <= op.invoke and done <= w.invoke
               for w in acked.get(key, ())):
            out.append(op)
    return out


def _fault_run(approach, replicas, ops, clients, seed, latency, think, timeout, kind, fault,
               settle):
    """Run the workload with a crash or a partition that heals; returns (FaultRun, sim,
    system): the fault at ``at``, probes ``settle`` later, the heal (a restart from disk, or
    the partition's end) when the probes are done; ``settle`` later, one read at each
    server (clients "after-<server>"), which shows what each one holds."""
    system = _build(approach, replicas, True, timeout)
    who, at = fault
    node = system.leader if who in LEADER_WORDS else system.follower
    others = [n for n in system.group if n != node]
    if kind == "crash":
        faults = [cut(node, o, at=at) for o in others] + [crash_fault(node, at=at)]
    else:
        faults = [cut(a, b, at=at) for o in others for a, b in ((node, o), (o, node))]
    probe_timeout = timeout
    heal_at = at + settle + probe_timeout * (len(system.servers) + 2)
    faults.append(heal(at=heal_at))
    if kind == "crash":
        faults.append(restart(node, at=heal_at))
    users = _clients(system, clients, think, timeout, ops, reads=True)
    users.append(system.client("probe-w", [system.write("probe")], 0.0, probe_timeout,
                               start=at + settle, home=system.probe_home))
    users.append(system.client("probe-r", [system.read()], 0.0, probe_timeout,
                               start=at + settle))
    users += [system.client(f"after-{s}", [system.read()], 0.0, probe_timeout,
                            start=heal_at + settle, home=s) for s in system.servers]
    sim = Simulation(users + system.nodes, network=Network(latency), faults=faults, seed=seed,
                     record_states=False)
    history = sim.run(until=heal_at - 1e-9).history()
    probes = {op.client: op for op in history if op.client.startswith("probe")}
    if probes.get("probe-w") and probes["probe-w"].result == "ok":
        state = "read/write"
    elif probes.get("probe-r") and probes["probe-r"].response is not None:
        state = "read-only"
    else:
        state = "down"
    while_down = len(lost_writes(history, system.holds(sim))) if kind == "crash" else None
    history = sim.run(until=heal_at + settle + probe_timeout * (len(system.servers) + 1)
                      ).history()
    outcome = FaultRun(kind, node, at, heal_at, state, while_down,
                       len(lost_writes(history, system.holds(sim))),
                       diverged(system.logs(sim)), len(stale_reads(history)),
                       system.check(history))
    return outcome, sim, system


def fault_run(approach: str, kind: str = "crash", at: float = 11.0, who: str = "leader",
              replicas: int = 3, ops: int = 10, seed: int = 0, latency=None):
    """One fault run of ``run`` (a crash, or a partition, that heals), for a closer look:
    returns (FaultRun, Simulation); the Simulation's trace has no states recorded."""
    if kind not in ("crash", "partition"):
        raise ValueError(f"kind must be 'crash' or 'partition', got {kind!r}")
    latency = DEFAULT_LATENCY if latency is None else latency
    fault = _check_args(approach, replicas, ops, 1, seed, latency, (who, at), None, 0.5,
                        0.001)[0]
    outcome, sim, _ = _fault_run(approach, replicas, ops, 1, seed, latency, 0.5, 8.0, kind,
                                 fault, 20.0)
    return outcome, sim


def run(approach: str, replicas: int = 3, ops: int = 10, seed: int = 0, latency=None,
        crash=None, partition=None, clients: int = 1, think: float = 0.5,
        message_cost: float = 0.001, timeout: float = 8.0, settle: float = 20.0) -> Measurement:
    """Measure one approach on the workload (see the module's docstring for what and how).

    approach: one of ``approach_names()``.  replicas: n, the nodes that hold the data
    (2PC/3PC: n participants, plus the coordinator).  ops: writes per client in the
    failure-free run (in the fault runs each write is followed by a read).  latency: a
    Constant, Uniform or LongTail (default uniform 0.5..1.5).  crash, partition: None or
    (component, time), component "leader"/"primary"/"coordinator" or
    "follower"/"backup"/"participant".  message_cost: time a node spends per message.
    timeout: the clients' resend timeout and the commit protocols' timeout (primary/backup
    failover times out after half of it).  settle: how long after a fault the probes start,
    and how long the run goes on after the fault heals.
    """
    latency = DEFAULT_LATENCY if latency is None else latency
    crash, partition = _check_args(approach, replicas, ops, clients, seed, latency, crash,
                                   partition, think, message_cost)
    finite_time("timeout", timeout)
    finite_time("settle", settle)
    a = APPROACHES[approach]
    m = Measurement(approach, a.label, replicas, a.taxonomy)
    if not available(approach):
        m.available = False
        m.notes.append("not available yet: replib/protocols/multipaxos.py is being written")
        return m

    # 1. message delays: an idle system, every message takes 1
    system = _build(approach, replicas, False, timeout)
    users = _clients(system, 1, 10.0, None, 3)
    trace = Simulation(users + system.nodes, network=Network(Constant(1.0)), seed=seed,
                       record_states=False).run(max_events=_MAX_EVENTS)
    _quiet(trace, a.label)
    lat = [op.latency for op in _acked_writes(trace.history())]
    m.delays = sum(lat) / len(lat) - 2.0

    # 2. messages, latency, the busiest node: the workload, no faults, no failure detection
    system = _build(approach, replicas, False, timeout)
    users = _clients(system, clients, think, None, ops)
    trace = Simulation(users + system.nodes, network=Network(latency), seed=seed,
                       record_states=False).run(max_events=_MAX_EVENTS)
    _quiet(trace, a.label)
    history = trace.history()
    acked = _acked_writes(history)
    if not acked:
        raise RuntimeError(f"{a.label}: no write was acknowledged in the failure-free run")
    counts, own = _service_messages(trace, system.group)
    m.messages_by_type = {t: counts[t] / len(acked) for t in sorted(counts)}
    m.self_messages = {t: own[t] / len(acked) for t in sorted(own)}
    if own:
        m.notes.append(f"not counted: {sum(own.values()) / len(acked):g} messages per write "
                       f"that a node sends to itself")
    m.messages_per_op = sum(counts.values()) / len(acked)
    lat = [op.latency for op in acked]
    m.latency_mean = sum(lat) / len(lat)
    m.latency_max = max(lat)
    load = _busiest(trace, system.group)
    m.busiest = max(load, key=lambda k: (load[k], -list(load).index(k)))
    m.busiest_per_op = load[m.busiest] / len(acked)
    m.throughput = 1.0 / (message_cost * m.busiest_per_op)
    m.linearizable_in["no fault"] = system.check(history)

    # 3. and 4. the faults, each healed
    if crash is not None:
        m.crash_run = _fault_run(approach, replicas, ops, clients, seed, latency, think,
                                 timeout, "crash", crash, settle)[0]
        m.after_crash, m.lost = m.crash_run.availability, m.crash_run.lost_while_down
        m.linearizable_in["crash"] = m.crash_run.linearizable
    if partition is not None:
        m.partition_run = _fault_run(approach, replicas, ops, clients, seed, latency, think,
                                     timeout, "partition", partition, settle)[0]
        m.after_partition = m.partition_run.availability
        m.linearizable_in["partition"] = m.partition_run.linearizable
    m.linearizable = all(m.linearizable_in.values())
    return m


# ---- all of them ---------------------------------------------------------------------------


def _num(x, fmt="{:.3g}") -> str:
    return "-" if x is None else fmt.format(x)


@dataclass
class Table:
    """The comparison: one Measurement per approach, in the order of APPROACHES."""

    rows: list
    replicas: int
    settings: dict = field(default_factory=dict)

    def row(self, approach: str) -> Measurement:
        for r in self.rows:
            if r.approach == approach:
                return r
        raise ValueError(f"no row for {approach!r}; rows: {[r.approach for r in self.rows]}")

    def as_dicts(self) -> list:
        """The table as plain dicts (for pandas, or a test)."""
        out = []
        for r in self.rows:
            c, p = r.crash_run, r.partition_run
            out.append({
                "approach": r.label,
                "taxonomy": None if r.taxonomy is None else f"{r.taxonomy}n = {r.expected}",
                "messages per write": r.messages_per_op, "message delays": r.delays,
                "mean latency": r.latency_mean, "max latency": r.latency_max,
                "busiest node": r.busiest, "its messages per write": r.busiest_per_op,
                "most writes per second": r.throughput,
                "after the crash": r.after_crash,
                "lost if the crashed disk is gone": r.lost,
                "lost after the restart": c and c.lost,
                "diverged after the restart": c and len(c.diverged),
                "stale reads, crash run": c and c.stale,
                "after the partition": r.after_partition,
                "lost after the heal": p and p.lost,
                "diverged after the heal": p and len(p.diverged),
                "stale reads, partition run": p and p.stale,
                "linearizable": r.linearizable})
        return out

    def text(self, part: str = "both") -> str:
        """The table as text: ``part`` "costs" (messages, delays, latency, throughput),
        "faults" (the crash and the partition, each healed), or "both"."""
        if part not in ("costs", "faults", "both"):
            raise ValueError(f"part must be 'costs', 'faults' or 'both', got {part!r}")
        settings = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        out = [f"n = {self.replicas} replicas; {settings}"]
        if part in ("costs", "both"):
            out += self._costs()
        if part in ("faults", "both"):
            out += ([""] if part == "both" else []) + self._faults()
        return "\n".join(out)

    def _costs(self) -> list:
        cost = self.settings.get("message_cost", 0.001)
        head = ("approach", "taxonomy", "messages", "message", "mean", "max", "busiest",
                "its messages", "most writes")
        units = ("", "(k x n)", "per write", "delays", "latency", "latency", "node",
                 "per write", f"per second")
        lines = []
        for r in self.rows:
            tax = "-" if r.taxonomy is None else f"{r.taxonomy}n = {r.expected}"
            if not r.available:
                lines.append((r.label, tax, "not available yet") + ("",) * (len(head) - 3))
                continue
            lines.append((r.label, tax, _num(r.messages_per_op, "{:g}"), _num(r.delays, "{:g}"),
                          _num(r.latency_mean, "{:.2f}"), _num(r.latency_max, "{:.2f}"),
                          r.busiest, _num(r.busiest_per_op, "{:g}"),
                          _num(r.throughput, "{:.0f}")))
        return text_grid(head, lines, units) + [
            f"latency in time units (one message takes {self.settings.get('latency', '?')}); "
            f"writes per second at {cost * 1000:g} ms of work per message at the busiest node"]

    def _faults(self) -> list:
        head = ("approach", "after the", "lost if", "after restart:", "after the",
                "after heal:", "linearizable")
        units = ("", "crash", "disk gone", "lost/diverged/stale", "partition",
                 "lost/diverged/stale", "in every run")
        lines = []

        def healed(f):
            return "-" if f is None else f"{f.lost} / {len(f.diverged)} / {f.stale}"
        for r in self.rows:
            if not r.available:
                lines.append((r.label, "not available yet") + ("",) * (len(head) - 2))
                continue
            lines.append((r.label, r.after_crash or "-", _num(r.lost, "{:d}"),
                          healed(r.crash_run), r.after_partition or "-",
                          healed(r.partition_run),
                          "-" if r.linearizable is None else ("yes" if r.linearizable else "NO")))
        return text_grid(head, lines, units) + [
            "lost: acknowledged writes no node holds; diverged: pairs of nodes whose logs "
            "disagree; stale: reads older than a write acknowledged before them"]

    def __str__(self):
        return self.text()


def compare(replicas: int = 3, ops: int = 10, seed: int = 0, latency=None,
            crash=("leader", 11.0), partition=("leader", 10.0), approaches=None,
            clients: int = 1, think: float = 0.5, message_cost: float = 0.001) -> Table:
    """``run`` every approach (or those named in ``approaches``) on the same workload."""
    chosen = approach_names() if approaches is None else list(
        names("approaches", approaches, what="approach"))
    if not chosen:
        raise ValueError("approaches must name at least one approach")
    for n in chosen:
        if n not in APPROACHES:
            raise ValueError(f"unknown approach {n!r}; choose from {approach_names()}")
    latency = DEFAULT_LATENCY if latency is None else latency
    rows = [run(n, replicas, ops, seed, latency, crash, partition, clients, think, message_cost)
            for n in chosen]
    return Table(rows, replicas, {"ops": ops, "seed": seed, "latency": str(latency),
                                  "crash": crash, "partition": partition,
                                  "message_cost": message_cost})


# ---- the crash time swept ------------------------------------------------------------------


@dataclass
class CrashSweep:
    """The leader (primary, coordinator, first master) crashed at each of ``times`` in turn:
    ``runs[approach]`` holds one FaultRun per crash time, in order."""

    times: list
    runs: dict
    replicas: int

    def count(self, approach: str, what) -> int:
        """In how many crash times ``what(run)`` held."""
        return sum(1 for f in self.runs[approach] if what(f))

    def worst(self, approach: str, what) -> int:
        """The largest ``what(run)`` over the crash times."""
        return max(what(f) for f in self.runs[approach])

    def summary(self, approach: str) -> str:
        """One line: how often the approach lost, diverged or read stale, of all times."""
        n, runs = len(self.times), self.runs[approach]
        down = self.count(approach, lambda f: f.lost_while_down)
        worst = self.worst(approach, lambda f: f.lost_while_down)
        lost = self.count(approach, lambda f: f.lost)
        div = self.count(approach, lambda f: f.diverged)
        stale = self.count(approach, lambda f: f.stale)
        lin = self.count(approach, lambda f: f.linearizable)
        avail = sorted({f.availability for f in runs}, key=AVAILABILITY.index)
        return (f"{APPROACHES[approach].label}: after the crash {' or '.join(avail)}; lost if "
                f"the disk is gone at {down} of {n} crash times (at most {worst} per crash); "
                f"after the restart: lost at {lost}, diverged at {div}, stale reads at "
                f"{stale}; linearizable at {lin} of {n}")


def crash_sweep(approaches=None, replicas: int = 3, times=range(1, 31), ops: int = 10,
                seed: int = 0, latency=None, progress: bool = True) -> CrashSweep:
    """The crash run of ``run`` for every approach and every crash time in ``times`` (the
    leader crashes, restarts once the probes are done; see ``FaultRun``).  One crash time
    is one draw of luck: an update in flight or not, a write answered or not; the sweep
    shows how often each outcome happens.  A progress bar counts the runs."""
    names = approach_names() if approaches is None else list(approaches)
    for n in names:
        if n not in APPROACHES:
            raise ValueError(f"unknown approach {n!r}; choose from {approach_names()}")
    times = [finite_time("a crash time", t, zero_ok=True) for t in times]
    if not times:
        raise ValueError("times must hold at least one crash time")
    latency = DEFAULT_LATENCY if latency is None else latency
    _check_args(names[0], replicas, ops, 1, seed, latency, None, None, 0.5, 0.001)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(names) * len(times), desc="crash runs", leave=True)
    runs = {}
    try:
        for name in names:
            runs[name] = []
            for t in times:
                runs[name].append(_fault_run(name, replicas, ops, 1, seed, latency, 0.5, 8.0,
                                             "crash", ("leader", float(t)), 20.0)[0])
                if bar is not None:
                    bar.update()
    finally:
        if bar is not None:
            bar.close()
    return CrashSweep(times, runs, replicas)


# ---- 3PC's advantage: a transaction in flight when the coordinator crashes ------------------


def in_flight_crash(protocol: str = "3pc", participants: int = 3, until: float = 30.0,
                    seed: int = 0) -> Simulation:
    """One transaction, every participant votes yes, and the coordinator crashes at the
    last moment before any participant learns the outcome: 2PC once it logged "commit"
    (its Commit messages die with it), 3PC once every participant is precommitted (its
    DoCommit messages die with it).  Returns the Simulation run until ``until``; read each
    participant's end with ``twopc.final_outcomes(sim)``.

    2PC's participants, all prepared, cannot tell commit from abort and wait for the
    coordinator (blocked).  3PC's participants know that everyone voted yes: each times
    out precommitted and commits on its own (rule 5 of ``protocols.threepc``).  This is
    the one thing 3PC buys with its extra round, and it holds only if messages arrive in
    bounded time (chapter 03)."""
    if protocol not in ("2pc", "3pc"):
        raise ValueError(f"protocol must be '2pc' or '3pc', got {protocol!r}")
    if protocol == "2pc":
        nodes = twopc.twopc_system(participants, timeout=5.0)
        when = lambda sim: 1 in sim.nodes[twopc.COORDINATOR].decisions
    else:
        nodes = threepc.threepc_system(participants, timeout=5.0)
        when = lambda sim: all(sim.nodes[p].log.get(1) == "precommitted"
                               for p in twopc.participant_ids(participants))
    faults = [cut(twopc.COORDINATOR, p, when=when) for p in twopc.participant_ids(participants)]
    faults.append(crash_fault(twopc.COORDINATOR, when=when))
    sim = Simulation(nodes, network=Network(Constant(1.0)), faults=faults, seed=seed)
    sim.run(until=until)
    return sim


# ---- plots ---------------------------------------------------------------------------------

HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "++")


def _check_table(table):
    if not isinstance(table, Table):
        raise ValueError(f"expected the Table that compare() returns, got {table!r}")
    return table


def approach_style(name: str) -> tuple:
    """(colour, hatch) of an approach: the same in every plot, whatever rows it shows."""
    from ..viz import palette as P
    i = list(APPROACHES).index(name)
    k = len(P.LINE_COLOURS)
    return P.LINE_COLOURS[i % k], HATCHES[(i + i // k) % len(HATCHES)]


def _bar_chart(rows, replicas, what, values, ylabel, title, fmt="{:.3g}", expected=None,
               unit="", whole=False):
    """One bar per approach (``rows``: Measurements or anything with ``approach``, ``label``
    and ``available``), coloured and hatched as the approach always is; rows not
    available yet get a note instead of a bar.  ``expected``: a second, lighter bar beside
    each, the taxonomy's count (None: not in the taxonomy).  whole: a count, so the y axis
    has whole-number ticks."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    from ..viz import charts
    from ..viz import palette as P
    fig, ax = charts._figure(10.0, 5.0)
    ax.set_position((0.08, 0.19, 0.9, 0.7))
    width = 0.38 if expected else 0.7
    labels, parts, top = [], [], 0.0
    for i, r in enumerate(rows):
        colour, hatch = approach_style(r.approach)
        labels.append(APPROACHES[r.approach].short)
        v = values(r) if r.available else None
        if v is None:
            why = "not available yet" if not r.available else "not measured"
            ax.text(i, 0.02, why, rotation=90, ha="center", va="bottom",
                    fontsize=P.FONT["note"], color=P.MUTED, style="italic",
                    transform=ax.get_xaxis_transform())
            parts.append(f"{r.label} {why}")
            continue
        e = expected(r) if expected else None
        x = i - width / 2 if expected else i
        ax.bar(x, v, width, color=colour, edgecolor="black", hatch=hatch)
        ax.annotate(fmt.format(v), (x, v), ha="center", va="bottom", xytext=(0, 3),
                    textcoords="offset points", fontsize=P.FONT["note"])
        top = max(top, v)
        text = f"{r.label} {fmt.format(v)}{unit}"
        if e is not None:
            ax.bar(i + width / 2, e, width, color="white", edgecolor=colour, hatch="//",
                   linewidth=1.6)
            ax.annotate(f"{e:g}", (i + width / 2, e), ha="center", va="bottom", xytext=(0, 3),
                        textcoords="offset points", fontsize=P.FONT["note"], color=P.MUTED)
            top = max(top, e)
            text += f" (taxonomy {r.taxonomy}n = {e:g})"
        elif expected:
            text += " (not in the taxonomy)"
        parts.append(text)
    ax.set_xticks(range(len(labels)), labels, fontsize=P.FONT["tick"])
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.grid(False, axis="x")
    ax.set_ylim(0, top * 1.15 if top > 0 else 1)
    if whole:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel, fontsize=P.FONT["legend"] + 1)
    if title:
        ax.set_title(title, fontsize=P.FONT["title"], fontweight="bold", loc="left")
    if expected:
        ax.legend(handles=[Patch(facecolor=P.DOWN, edgecolor="black", label="measured"),
                           Patch(facecolor="white", edgecolor="black", hatch="//",
                                 label="classic taxonomy (k * n)")],
                  loc="upper left", frameon=False, fontsize=P.FONT["legend"])
    fig.alt_text = (f"Bar chart of {what} per approach, n = {replicas} replicas: "
                    + "; ".join(parts) + ".")
    return fig


def plot_messages(table: Table, title=None):
    """Messages between the nodes of the service per write, measured, beside the taxonomy's
    k * n (1n async, 2n sync, 4n 2PC and Multi-Paxos, 6n 3PC and Paxos with an election
    per operation)."""
    _check_table(table)
    return _bar_chart(table.rows, table.replicas, "messages per write",
                      lambda r: r.messages_per_op, "messages per write",
                      title or f"Messages per write, n = {table.replicas}", fmt="{:.3g}",
                      expected=lambda r: r.expected, whole=True)


def plot_delays(table: Table, title=None):
    """Message delays a write needs beyond the client's round trip (every message takes 1)."""
    _check_table(table)
    return _bar_chart(table.rows, table.replicas, "message delays per write",
                      lambda r: r.delays, "one-way message delays",
                      title or "Message delays per write", fmt="{:g}", whole=True)


def plot_latency(table: Table, title=None):
    """Mean write latency on the table's latency model, in time units."""
    _check_table(table)
    return _bar_chart(table.rows, table.replicas, "mean write latency in time units",
                      lambda r: r.latency_mean, "mean write latency (time units)",
                      title or "Write latency (mean)")


def plot_throughput(table: Table, title=None):
    """The most writes per second the busiest node sustains at the table's message cost."""
    _check_table(table)
    cost = table.settings.get("message_cost", 0.001)
    return _bar_chart(table.rows, table.replicas,
                      f"throughput at {cost * 1000:g} ms per message at the busiest node",
                      lambda r: r.throughput, "writes per second",
                      title or f"Throughput, {cost * 1000:g} ms per message at the busiest node",
                      fmt="{:.0f}", unit=" writes/s")


@dataclass
class _SweepRow:
    approach: str
    label: str
    available: bool = True


def plot_lost_writes(table_or_sweep, title=None):
    """Acknowledged writes lost when the leader (primary, coordinator) crashed, counting its
    disk as gone: from a Table, the one crash run of each approach; from a CrashSweep, the
    crash times (of all) at which at least one acknowledged write was lost."""
    if isinstance(table_or_sweep, CrashSweep):
        sweep = table_or_sweep
        n = len(sweep.times)
        counts = {a: sweep.count(a, lambda f: f.lost_while_down) for a in sweep.runs}
        rows = [_SweepRow(a, APPROACHES[a].label) for a in sweep.runs]
        span = f"t = {sweep.times[0]:g} to {sweep.times[-1]:g}"
        return _bar_chart(rows, sweep.replicas,
                          f"crash times, of {n} ({span}), at which a crash of the leader lost "
                          f"an acknowledged write", lambda r: counts[r.approach],
                          f"crash times (of {n}) that lost a write",
                          title or f"A leader crash at each of {n} times: how often an "
                                   f"acknowledged write was lost", fmt="{:g}", whole=True)
    table = _check_table(table_or_sweep)
    crash = table.settings.get("crash")
    what = (f"acknowledged writes lost after a crash of the {crash[0]} at t={crash[1]:g}"
            if crash else "acknowledged writes lost (no crash was run)")
    return _bar_chart(table.rows, table.replicas, what, lambda r: r.lost,
                      "acknowledged writes lost", title or "Acknowledged writes lost in the crash",
                      fmt="{:g}", whole=True)
