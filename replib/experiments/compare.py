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
* **latency**: mean and 99th percentile of the write latency in the failure-free run, on the
  chosen latency model.
* **busiest node**: the node that sends plus receives the most messages per write (client
  requests and replies included: it handles them too; messages to itself are not); with a
  fixed cost per message,
  ``throughput = 1 / (message_cost * busiest_per_op)`` writes per unit of time is the most
  that node can sustain.
* **after a crash** (``crash=("leader", at)``): the node crashes at ``at``, and the messages
  it had sent that have not arrived yet are lost with it (it is cut off as it crashes, as in
  ``experiments.lost_after_primary_crash``: an update still in its send queue).  Failure
  detection is on (primary/backup: failover with epochs).  *Lost* counts the writes a client
  saw acknowledged that no surviving node holds at the end.  *Availability*: two probe
  clients start ``settle`` after the fault, one writing and one reading, each trying every
  server in turn; "read/write" if the write was acknowledged, "read-only" if only the read
  was answered, "down" if neither was.
* **after a partition** (``partition=("leader", at)``): from ``at`` the node is cut off from
  the other nodes of the service (both ways); clients still reach every node.  The same
  probes say what the clients can still do.
* **linearizable**: every history of the run (failure-free, crash, partition; the clients'
  operations and the probes') passes ``history.linearizable``.

"leader", "primary" and "coordinator" all name the approach's distinguished node (the one
that orders writes); "follower", "backup" and "participant" name the last of the others.

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
from ..faults import cut
from ..history import linearizable, linearizable_kv, lost_writes
from ..network import LATENCY_MODELS, Constant, Network, Uniform
from ..protocols import threepc, twopc
from ..protocols.replication import FencingReplica, ReplicationClient, replication_system
from ..sim import Simulation
from ..validate import finite_time, names, whole_number

__all__ = [
    "APPROACHES",
    "AVAILABILITY",
    "Approach",
    "Measurement",
    "Table",
    "approach_names",
    "available",
    "compare",
    "plot_delays",
    "plot_latency",
    "plot_lost_writes",
    "plot_messages",
    "plot_throughput",
    "run",
]

AVAILABILITY = ("read/write", "read-only", "down")
LEADER_WORDS = ("leader", "primary", "coordinator")
FOLLOWER_WORDS = ("follower", "backup", "participant")
DEFAULT_LATENCY = Uniform(0.5, 1.5)


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
    taxonomy: int                 # the classic count: taxonomy * n messages per operation
    family: str                   # "pb", "commit" or "paxos"
    short: str = ""               # the label under a bar


APPROACHES = {
    "async": Approach("async", "async primary/backup", 1, "pb", "async\nP/B"),
    "sync": Approach("sync", "sync primary/backup", 2, "pb", "sync\nP/B"),
    "2pc": Approach("2pc", "2PC", 4, "commit", "2PC"),
    "3pc": Approach("3pc", "3PC", 6, "commit", "3PC"),
    "multipaxos": Approach("multipaxos", "Multi-Paxos, stable leader", 4, "paxos",
                           "Multi-Paxos\nstable leader"),
    "paxos-per-op": Approach("paxos-per-op", "Paxos, election per op", 6, "paxos",
                             "Paxos\nelection per op"),
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
    holds: object                # function(sim) -> {node: log of writes} of the up nodes
    kv: bool = False             # operations on key "x": ("write", "x", v), ("read", "x")
    start: float = 0.0           # when the workload's clients begin (after a first election)

    def write(self, value):
        return ("write", "x", value) if self.kv else ("write", value)

    def read(self):
        return ("read", "x") if self.kv else ("read",)

    def check(self, history) -> bool:
        return bool((linearizable_kv if self.kv else linearizable)(history))

    def client(self, name, ops, think, timeout, start=None):
        """A client of this service; ``start``: when its first operation goes (default:
        the workload's start, then ``think`` later for ReplicationClient)."""
        start = self.start if start is None else start
        if self.kv:
            mp = _multipaxos_module()
            return mp.MultiPaxosClient(name, self.servers, ops, think=think, timeout=timeout,
                                       start=start + think, server=self.servers[0])
        return _Client(name, self.servers, ops, think=think, timeout=timeout, start=start)


class _Client(ReplicationClient):
    """A ReplicationClient whose first operation goes at ``start + think``."""

    def __init__(self, *args, start: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.start = start

    def on_start(self):
        if self.ops:
            self.set_timer(NextOp(), self.start + self.think)


def _build(name, replicas, fault_tolerant, timeout):
    a = APPROACHES[name]
    if a.family == "pb":
        nodes = replication_system(replicas - 1, name, failover="epochs" if fault_tolerant
                                   else None, clients=0, timeout=timeout / 2,
                                   replica=_StaggeredReplica)
        ids = tuple(n.id for n in nodes)

        def holds(sim):
            return {r: list(sim.nodes[r].log) for r in ids if r not in sim.crashed}
        return _System(nodes, ids, ids, ids[0], ids[-1], holds)
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
        group = (twopc.COORDINATOR,) + tuple(ids)
        return _System([coord] + parts, (twopc.COORDINATOR,), group, twopc.COORDINATOR,
                       ids[-1], holds)
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
    return _System(nodes, ids, ids, ids[0], ids[-1], holds, kv=True, start=5.0)


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
class Measurement:
    """What ``run`` measured for one approach (see the module's docstring for how).

    available False: the approach is not implemented yet, and every number is None."""

    approach: str
    label: str
    replicas: int
    taxonomy: int
    available: bool = True
    messages_per_op: float | None = None
    messages_by_type: dict = field(default_factory=dict)
    self_messages: dict = field(default_factory=dict)     # per write, to the sender itself
    delays: float | None = None
    latency_mean: float | None = None
    latency_p99: float | None = None
    busiest: str | None = None
    busiest_per_op: float | None = None
    throughput: float | None = None
    lost: int | None = None
    after_crash: str | None = None
    after_partition: str | None = None
    linearizable: bool | None = None
    linearizable_in: dict = field(default_factory=dict)   # run ("no fault", ...) -> bool
    notes: list = field(default_factory=list)

    @property
    def expected(self) -> int:
        """The taxonomy's count for n = ``replicas``: taxonomy * n."""
        return self.taxonomy * self.replicas


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


def _p99(values):
    values = sorted(values)
    return values[max(1, math.ceil(0.99 * len(values))) - 1]


def _fault_run(approach, replicas, ops, clients, seed, latency, think, timeout, kind, fault,
               settle):
    """Run the workload with a crash or a partition; returns (sim, availability, history)."""
    system = _build(approach, replicas, True, timeout)
    who, at = fault
    node = system.leader if who in LEADER_WORDS else system.follower
    others = [n for n in system.group if n != node]
    if kind == "crash":
        faults = [cut(node, o, at=at) for o in others] + [crash_fault(node, at=at)]
    else:
        faults = [cut(a, b, at=at) for o in others for a, b in ((node, o), (o, node))]
    probe_timeout = timeout
    users = _clients(system, clients, think, timeout, ops, reads=True)
    users.append(system.client("probe-w", [system.write("probe")], 0.0, probe_timeout,
                               start=at + settle))
    users.append(system.client("probe-r", [system.read()], 0.0, probe_timeout,
                               start=at + settle))
    sim = Simulation(users + system.nodes, network=Network(latency), faults=faults, seed=seed,
                     record_states=False)
    until = at + settle + probe_timeout * (len(system.servers) + 2)
    trace = sim.run(until=until)
    history = trace.history()
    probes = {op.client: op for op in history if op.client.startswith("probe")}
    if probes.get("probe-w") and probes["probe-w"].result == "ok":
        state = "read/write"
    elif probes.get("probe-r") and probes["probe-r"].response is not None:
        state = "read-only"
    else:
        state = "down"
    return sim, system, state, history


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
    failover times out after half of it).  settle: how long after a fault the probes start.
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
    m.latency_p99 = _p99(lat)
    load = _busiest(trace, system.group)
    m.busiest = max(load, key=lambda k: (load[k], -list(load).index(k)))
    m.busiest_per_op = load[m.busiest] / len(acked)
    m.throughput = 1.0 / (message_cost * m.busiest_per_op)
    m.linearizable_in["no fault"] = system.check(history)

    # 3. and 4. the faults
    if crash is not None:
        sim, sys_, m.after_crash, hist = _fault_run(approach, replicas, ops, clients, seed,
                                                    latency, think, timeout, "crash", crash,
                                                    settle)
        m.lost = len(lost_writes(hist, sys_.holds(sim)))
        m.linearizable_in["crash"] = sys_.check(hist)
    if partition is not None:
        sim, sys_, m.after_partition, hist = _fault_run(approach, replicas, ops, clients, seed,
                                                        latency, think, timeout, "partition",
                                                        partition, settle)
        m.linearizable_in["partition"] = sys_.check(hist)
    m.linearizable = all(m.linearizable_in.values())
    return m


# ---- all of them ---------------------------------------------------------------------------


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
            out.append({
                "approach": r.label, "taxonomy": f"{r.taxonomy}n = {r.expected}",
                "messages/write": r.messages_per_op, "message delays": r.delays,
                "latency mean": r.latency_mean, "latency p99": r.latency_p99,
                "busiest node": r.busiest, "busiest msgs/write": r.busiest_per_op,
                "throughput": r.throughput, "lost acked writes": r.lost,
                "after crash": r.after_crash, "after partition": r.after_partition,
                "linearizable": r.linearizable})
        return out

    def text(self) -> str:
        def num(x, fmt="{:.3g}"):
            return "-" if x is None else fmt.format(x)
        head = ("approach", "taxonomy", "msgs/write", "delays", "lat mean", "lat p99",
                "busiest", "thr", "lost", "after crash", "after partition", "lineariz.")
        lines = []
        for r in self.rows:
            if not r.available:
                lines.append((r.label, f"{r.taxonomy}n={r.expected}", "not available yet") +
                             ("",) * (len(head) - 3))
                continue
            lines.append((r.label, f"{r.taxonomy}n={r.expected}", num(r.messages_per_op, "{:g}"),
                          num(r.delays, "{:g}"), num(r.latency_mean), num(r.latency_p99),
                          f"{r.busiest} {r.busiest_per_op:g}", num(r.throughput, "{:.0f}"),
                          num(r.lost, "{:d}"), r.after_crash or "-", r.after_partition or "-",
                          "-" if r.linearizable is None else ("yes" if r.linearizable else "NO")))
        widths = [max(len(str(x[i])) for x in [head] + lines) for i in range(len(head))]
        fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
        settings = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        return "\n".join([f"n = {self.replicas} replicas; {settings}", fmt(head),
                          fmt(["-" * w for w in widths])] + [fmt(x) for x in lines])

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


# ---- plots ---------------------------------------------------------------------------------

HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "++")


def _check_table(table):
    if not isinstance(table, Table):
        raise ValueError(f"expected the Table that compare() returns, got {table!r}")
    return table


def _bar_chart(table, what, values, ylabel, title, fmt="{:.3g}", expected=None, unit=""):
    """One bar per approach (its colour and hatch are the approach's, so each approach looks
    the same in every plot); rows not available yet get a note instead of a bar.
    ``expected``: a second, lighter bar beside each, the taxonomy's count."""
    from matplotlib.patches import Patch

    from ..viz import charts
    from ..viz import palette as P
    fig, ax = charts._figure(9.0, 5.0)
    ax.set_position((0.09, 0.17, 0.89, 0.72))
    width = 0.38 if expected else 0.7
    labels, parts, top = [], [], 0.0
    for i, r in enumerate(table.rows):
        colour = P.LINE_COLOURS[i % len(P.LINE_COLOURS)]
        hatch = HATCHES[i % len(HATCHES)]
        labels.append(APPROACHES[r.approach].short)
        v = values(r) if r.available else None
        if v is None:
            why = "not available yet" if not r.available else "not measured"
            ax.text(i, 0.02, why, rotation=90, ha="center", va="bottom",
                    fontsize=P.FONT["note"], color=P.MUTED, style="italic",
                    transform=ax.get_xaxis_transform())
            parts.append(f"{r.label} {why}")
            continue
        x = i - width / 2 if expected else i
        ax.bar(x, v, width, color=colour, edgecolor="black", hatch=hatch)
        ax.annotate(fmt.format(v), (x, v), ha="center", va="bottom", xytext=(0, 3),
                    textcoords="offset points", fontsize=P.FONT["note"])
        top = max(top, v)
        text = f"{r.label} {fmt.format(v)}{unit}"
        if expected:
            e = expected(r)
            ax.bar(i + width / 2, e, width, color="white", edgecolor=colour, hatch="//",
                   linewidth=1.6)
            ax.annotate(f"{e:g}", (i + width / 2, e), ha="center", va="bottom", xytext=(0, 3),
                        textcoords="offset points", fontsize=P.FONT["note"], color=P.MUTED)
            top = max(top, e)
            text += f" (taxonomy {r.taxonomy}n = {e:g})"
        parts.append(text)
    ax.set_xticks(range(len(labels)), labels, fontsize=P.FONT["tick"])
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.grid(False, axis="x")
    ax.set_ylim(0, top * 1.15 if top > 0 else 1)
    ax.set_ylabel(ylabel, fontsize=P.FONT["legend"] + 1)
    if title:
        ax.set_title(title, fontsize=P.FONT["title"], fontweight="bold", loc="left")
    if expected:
        ax.legend(handles=[Patch(facecolor=P.DOWN, edgecolor="black", label="measured"),
                           Patch(facecolor="white", edgecolor="black", hatch="//",
                                 label="classic taxonomy (k * n)")],
                  loc="upper left", frameon=False, fontsize=P.FONT["legend"])
    fig.alt_text = (f"Bar chart of {what} per approach, n = {table.replicas} replicas: "
                    + "; ".join(parts) + ".")
    return fig


def plot_messages(table: Table, title=None):
    """Messages between the nodes of the service per write, measured, beside the taxonomy's
    k * n (1n async, 2n sync, 4n 2PC and Multi-Paxos, 6n 3PC and Paxos with an election
    per operation)."""
    _check_table(table)
    return _bar_chart(table, "messages per write", lambda r: r.messages_per_op,
                      "messages per write", title or f"Messages per write, n = {table.replicas}",
                      fmt="{:.3g}", expected=lambda r: r.expected)


def plot_delays(table: Table, title=None):
    """Message delays a write needs beyond the client's round trip (every message takes 1)."""
    _check_table(table)
    return _bar_chart(table, "message delays per write", lambda r: r.delays,
                      "one-way message delays", title or "Message delays per write",
                      fmt="{:g}")


def plot_latency(table: Table, title=None):
    """Mean write latency on the table's latency model."""
    _check_table(table)
    return _bar_chart(table, "mean write latency", lambda r: r.latency_mean,
                      "mean write latency (time units)", title or "Write latency (mean)")


def plot_throughput(table: Table, title=None):
    """The most writes per second the busiest node sustains at the table's message cost."""
    _check_table(table)
    cost = table.settings.get("message_cost", 0.001)
    return _bar_chart(table, f"throughput at {cost * 1000:g} ms per message at the busiest "
                             f"node", lambda r: r.throughput, "writes per second",
                      title or f"Throughput, {cost * 1000:g} ms per message at the busiest node",
                      fmt="{:.0f}", unit=" writes/s")


def plot_lost_writes(table: Table, title=None):
    """Acknowledged writes lost when the leader (primary, coordinator) crashed."""
    _check_table(table)
    crash = table.settings.get("crash")
    what = (f"acknowledged writes lost after a crash of the {crash[0]} at t={crash[1]:g}"
            if crash else "acknowledged writes lost (no crash was run)")
    return _bar_chart(table, what, lambda r: r.lost, "acknowledged writes lost",
                      title or "Acknowledged writes lost in the crash", fmt="{:g}")
