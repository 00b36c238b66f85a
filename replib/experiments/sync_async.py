"""Chapter 01 measured: sync and async write latency, messages per write, service after a
backup crash, acknowledged writes lost when the primary crashes.  Each function runs the
simulator from the seed it takes and returns plain numbers, short enough to read with ``??``.
"""

from __future__ import annotations

from ..faults import crash
from ..history import lost_writes
from ..network import Constant, LongTail, Network
from ..protocols.replication import ReplicationClient, replica_ids, replication_system
from ..sim import Simulation
from ..validate import MAX_MEASURED, finite_time, whole_number
from . import finished


def mode_label(mode: str, k: int | None = None) -> str:
    return f"semi-sync k={k}" if mode == "semi-sync" else mode


def write_latencies(mode: str = "sync", backups: int = 2, k: int | None = None,
                    latency=None, writes: int = 200, seed: int = 0) -> list[float]:
    """One client writes ``writes`` times in a row; the latency of each acknowledged write.

    Every link (client to primary, primary to each backup) draws its delay from
    ``latency`` (default: a long tail around 1)."""
    whole_number("writes", writes, 1, cap=MAX_MEASURED)
    nodes = replication_system(backups, mode, k, writes=writes, think=0.0)
    network = Network(LongTail(1.0, 0.8) if latency is None else latency)
    sim = Simulation(nodes, network=network, seed=seed)
    sim.run()
    trace = finished(sim, "write_latencies")
    return [op.latency for op in trace.history() if op.response is not None]


def messages_per_write(mode: str = "sync", backups: int = 2, k: int | None = None,
                       writes: int = 10, seed: int = 0) -> dict:
    """Messages between replicas per acknowledged write, by type, from one run."""
    whole_number("writes", writes, 1, cap=MAX_MEASURED)
    nodes = replication_system(backups, mode, k, writes=writes)
    sim = Simulation(nodes, seed=seed)
    sim.run()
    trace = finished(sim, "messages_per_write")
    acked = sum(1 for op in trace.history() if op.response is not None)
    counts = trace.message_counts()
    return {t: counts[t] / acked for t in sorted(counts) if t not in ("Request", "Reply")}


def service_with_backup_down(mode: str = "sync", backups: int = 2, k: int | None = None,
                             crash_at: float = 5.0, ops: int = 10, until: float = 60.0,
                             seed: int = 0) -> dict:
    """Crash backup b1 at ``crash_at``; what does the service still do?

    Two writer clients (w1, w2) each write ``ops`` values and a reader client (r) reads the
    primary ``ops`` times, each waiting for its answer before the next request, as real
    clients do.  Counted from the crash on: writes answered, writers left waiting on a write
    that is never answered, reads answered."""
    finite_time("crash_at", crash_at, zero_ok=True)
    finite_time("until", until)
    whole_number("ops", ops, 1, cap=MAX_MEASURED)
    ids = replica_ids(backups)
    clients = [ReplicationClient(w, ids, [("write", f"{w}:{i}") for i in range(1, ops + 1)],
                                 think=0.5) for w in ("w1", "w2")]
    clients.append(ReplicationClient("r", ids, [("read",)] * ops, think=0.5))
    nodes = clients + replication_system(backups, mode, k, clients=0)
    trace = Simulation(nodes, faults=[crash("b1", at=crash_at)], seed=seed).run(until=until)
    after = [op for op in trace.history() if op.invoke >= crash_at]
    writes = [op for op in after if op.op[0] == "write"]
    reads = [op for op in after if op.op[0] == "read"]
    return {
        "writes answered": sum(op.response is not None for op in writes),
        "writers blocked": len({op.client for op in writes if op.response is None}),
        "reads answered": sum(op.response is not None for op in reads),
        "reads asked": len(reads),
    }


def _quick_clients(nodes, replicas, delay_to_backups):
    """Client <-> replica links of 0.1 each way (a write takes 0.2), backups 0.1 apart, and
    the primary ``delay_to_backups`` (a latency model or a number) from each backup.  Each
    link keeps its messages in order (as a TCP connection does), so updates never overtake
    one another."""
    ids = [n.id for n in nodes]
    fast = Constant(0.1)
    links = {(c, r): fast for c in ids if c not in replicas for r in replicas}
    links.update({(r, c): fast for (c, r) in list(links)})
    links.update({(a, b): fast for a in replicas[1:] for b in replicas[1:] if a != b})
    model = Constant(delay_to_backups) if isinstance(delay_to_backups, (int, float)) \
        else delay_to_backups
    links.update({(a, b): model for a in replicas for b in replicas
                  if a != b and "primary" in (a, b)})
    return Network(Constant(0.1), links=links, fifo=True)


def _batch_run(mode, ship_every, crash_at, writes, seed):
    nodes = replication_system(2, mode, failover="epochs", writes=writes, think=0.0,
                               heartbeat=1.5 * ship_every, timeout=3.0 * ship_every,
                               client_timeout=3.0 * ship_every,
                               ship_every=ship_every if mode == "async" else None)
    replicas = replica_ids(2)
    faults = [] if crash_at is None else [crash("primary", at=crash_at)]
    sim = Simulation(nodes, network=_quick_clients(nodes, replicas, 0.5), faults=faults,
                     seed=seed)
    trace = sim.run(until=(crash_at or 20.0) + 10 * ship_every)
    return sim, trace, replicas


def _shipments(trace, before):
    """When the primary sent writes to the backups (a batch of Updates, or its whole log in
    a Sync), up to ``before``, and which writes left it."""
    times, writes = set(), set()
    for e in trace.select("send", node="primary", msg_type=("Update", "Sync")):
        if e.time <= before:
            times.add(e.time)
            writes.update([e.msg.op] if e.msg_type == "Update" else e.msg.log)
    return sorted(times), writes


def lost_in_batches(ship_every: float = 4.0, crash_after: float = 1.0, near: float = 10.0,
                    mode: str = "async", writes: int = 300, seed: int = 0) -> dict:
    """The async primary ships its log in batches every ``ship_every`` (a write is
    acknowledged every 0.2); it crashes ``crash_after`` after the last shipment before
    ``near``, plainly (what it already sent still arrives), and a backup takes over (epochs).

    Returns the acknowledged writes lost, the acknowledged writes that never left the
    primary (the rule: they are exactly the lost ones), when the last shipment left, the
    crash time, and the trace.  ``mode="sync"`` ships each write at once and answers only
    after every backup acknowledged it."""
    finite_time("ship_every", ship_every)
    finite_time("crash_after", crash_after)
    finite_time("near", near)
    whole_number("writes", writes, 1, cap=MAX_MEASURED)
    _, dry, _ = _batch_run(mode, ship_every, None, writes, seed)
    times, _ = _shipments(dry, near)
    crash_at = (times[-1] if times else 0.0) + crash_after
    sim, trace, replicas = _batch_run(mode, ship_every, crash_at, writes, seed)
    survivors = {r: sim.nodes[r].log for r in replicas if r not in sim.crashed}
    lost = lost_writes(trace.history(), survivors)
    times, shipped = _shipments(trace, crash_at)
    acked = [op for op in trace.history() if op.result == "ok" and op.op[0] == "write"]
    return {"lost": len(lost), "never shipped": sum(op.op not in shipped for op in acked),
            "last shipment": times[-1] if times else None, "crash": crash_at, "trace": trace}


def story(mode: str = "async", seed: int = 0) -> Simulation:
    """The chapter's opening story, ready to run: a client writes 1, 2 and 3, then reads; the
    primary crashes just after the client was told "ok" for write 3, and b1 takes over (b2
    waits longer, so the two do not split the votes); the client's read times out and goes
    to b1.  Async ships its log every 2 time units, so write 3 never left the primary; sync
    answers only once both backups hold a write."""
    from .partitions import staggered

    def nodes():
        ops = [("write", 1), ("write", 2), ("write", 3), ("read",)]
        client = ReplicationClient("client", replica_ids(2), ops, think=0.5, timeout=6.0)
        return staggered([client] + replication_system(
            2, mode, failover="epochs", clients=0, heartbeat=2.5,
            ship_every=2.0 if mode == "async" else None), base=4.0)
    dry = Simulation(nodes(), network=Network(Constant(0.5)), seed=seed).run(until=40)
    last_ack = dry.history()[2].response
    return Simulation(nodes(), network=Network(Constant(0.5)), seed=seed,
                      faults=[crash("primary", at=last_ack + 0.25)])


def slow_backup_run(mode: str = "sync", k: int | None = None):
    """One write; client and primary 1 apart, b1 1 from the primary, b2 3 (each way).
    Returns the trace (its one operation's latency is what the chapter asks to predict)."""
    slow = Constant(3.0)
    network = Network(Constant(1.0), links={("primary", "b2"): slow, ("b2", "primary"): slow})
    return Simulation(replication_system(2, mode, k, writes=1), network=network).run()
