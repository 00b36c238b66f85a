"""Chapter 01 measured: sync and async write latency, messages per write, service after a
backup crash, acknowledged writes lost when the primary crashes.  Each function runs the
simulator from the seed it takes and returns plain numbers, short enough to read with ``??``.
"""

from __future__ import annotations

from ..faults import crash, partition
from ..history import lost_writes
from ..network import Constant, LongTail, Network
from ..protocols.replication import replication_system
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


def service_after_backup_crash(mode: str = "sync", backups: int = 2, k: int | None = None,
                               crash_at: float = 5.0, writes: int = 10, until: float = 200.0,
                               seed: int = 0) -> dict:
    """Crash backup b1 at ``crash_at``; how many writes and reads were answered after it?

    The client writes and reads in turn; a request that is never answered blocks it, as a
    real client's would."""
    finite_time("crash_at", crash_at, zero_ok=True)
    finite_time("until", until)
    whole_number("writes", writes, 0, cap=MAX_MEASURED)
    nodes = replication_system(backups, mode, k, writes=writes, reads=writes)
    trace = Simulation(nodes, faults=[crash("b1", at=crash_at)], seed=seed).run(until=until)
    after = [op for op in trace.history() if op.invoke >= crash_at]
    return {
        "writes answered after the crash": sum(1 for op in after
                                               if op.op[0] == "write" and op.response is not None),
        "reads answered after the crash": sum(1 for op in after
                                              if op.op[0] == "read" and op.response is not None),
        "requests never answered": sum(1 for op in after if op.response is None),
    }


def lost_after_primary_crash(mode: str = "async", delay: float = 2.0, backups: int = 2,
                             k: int | None = None, crash_at: float = 10.0, writes: int = 200,
                             seed: int = 0):
    """The primary crashes at ``crash_at`` and a backup takes over (epochs with fencing).

    Client to primary: 0.1 each way, so writes are quick; primary to backups: ``delay``,
    the replication delay: the time an update takes to leave the primary and reach a backup.
    The crash takes with it every update that has not arrived yet (the primary is cut off as
    it crashes).  Returns (acknowledged writes lost, the trace): writes the client was told
    succeeded that no surviving replica holds."""
    finite_time("delay", delay)
    finite_time("crash_at", crash_at, zero_ok=True)
    whole_number("writes", writes, 0, cap=MAX_MEASURED)
    nodes = replication_system(backups, mode, k, failover="epochs", writes=writes, think=0.0,
                               timeout=4.0 + 2 * delay, heartbeat=1.0, client_timeout=3.0 + 2 * delay)
    ids = [n.id for n in nodes]
    replicas = [i for i in ids if i == "primary" or i.startswith("b")]
    fast = Constant(0.1)
    links = {(c, r): fast for c in ids if c not in replicas for r in replicas}
    links.update({(r, c): fast for (c, r) in list(links)})
    # b2 hears the primary a little later than b1, so their timeouts do not fire together
    # (two candidates timing out in lockstep can split the votes forever: chapter 06)
    links.update({("primary", r): Constant(delay * (1 + 0.25 * i))
                  for i, r in enumerate(replicas[1:])})
    links.update({(a, b): fast for a in replicas[1:] for b in replicas[1:] if a != b})
    network = Network(Constant(delay), links=links)
    faults = [partition(["primary"], at=crash_at), crash("primary", at=crash_at)]
    sim = Simulation(nodes, network=network, faults=faults, seed=seed)
    trace = sim.run(until=crash_at + 40 + 10 * delay)
    survivors = {r: sim.nodes[r].log for r in replicas if r not in sim.crashed}
    return len(lost_writes(trace.history(), survivors)), trace
