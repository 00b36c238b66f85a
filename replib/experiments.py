"""Measurements the chapters show: each runs the simulator and returns plain numbers.

Every function takes the seed it uses, so a plot made from them is reproducible, and each
is short enough to read with ``??`` in the notebook that calls it.
"""

from __future__ import annotations

from .faults import crash, cut, heal, partition, restart
from .history import lost_writes
from .network import Constant, LongTail, Network
from .protocols.replication import replication_system
from .protocols.threepc import threepc_system
from .protocols.twopc import doubt_intervals, final_outcomes, participant_ids, twopc_system
from .sim import Simulation


def mode_label(mode: str, k: int | None = None) -> str:
    return f"semi-sync k={k}" if mode == "semi-sync" else mode


def write_latencies(mode: str = "sync", backups: int = 2, k: int | None = None,
                    latency=None, writes: int = 200, seed: int = 0) -> list[float]:
    """One client writes ``writes`` times in a row; the latency of each acknowledged write.

    Every link (client to primary, primary to each backup) draws its delay from
    ``latency`` (default: a long tail around 1)."""
    nodes = replication_system(backups, mode, k, writes=writes, think=0.0)
    network = Network(LongTail(1.0, 0.8) if latency is None else latency)
    trace = Simulation(nodes, network=network, seed=seed).run()
    return [op.latency for op in trace.history() if op.response is not None]


def messages_per_write(mode: str = "sync", backups: int = 2, k: int | None = None,
                       writes: int = 10, seed: int = 0) -> dict:
    """Messages between replicas per acknowledged write, by type, from one run."""
    nodes = replication_system(backups, mode, k, writes=writes)
    trace = Simulation(nodes, seed=seed).run()
    acked = sum(1 for op in trace.history() if op.response is not None)
    counts = trace.message_counts()
    return {t: counts[t] / acked for t in sorted(counts) if t not in ("Request", "Reply")}


def service_after_backup_crash(mode: str = "sync", backups: int = 2, k: int | None = None,
                               crash_at: float = 5.0, writes: int = 10, until: float = 200.0,
                               seed: int = 0) -> dict:
    """Crash backup b1 at ``crash_at``; how many writes and reads were answered after it?

    The client writes and reads in turn; a request that is never answered blocks it, as a
    real client's would."""
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


def split_brain(failover: str = "naive", replica=None) -> Simulation:
    """Chapter 02's story 2, ready to run: async, two backups, two clients; a partition cuts
    b1 and c2 off from t=3 to t=9 (run it ``until=30``).  ``replica``: a Replica subclass."""
    nodes = replication_system(2, "async", failover=failover, clients=2, writes=6,
                               client_timeout=3, replica=replica)
    return Simulation(nodes, faults=[partition(["primary", "b2", "c1"], ["b1", "c2"], at=3),
                                     heal(at=9)], seed=2)


# ---- two-phase commit (chapter on atomic commit) ------------------------------------------

CRASH_POINTS = ("no crash", "before prepare", "after some prepares", "after all votes",
                "after the decision is logged", "after some commits")


def _sent(sim, msg_type, node=None) -> int:
    """How many ``msg_type`` messages ``node`` (anyone, if None) has sent so far."""
    return sim.trace.count("send", node=node, msg_type=msg_type)


def _crash_plan(point, ids):
    """When the coordinator crashes at ``point``, and which participants never get the
    message it was sending then (the links we cut as it crashes)."""
    n = len(ids)
    decided = lambda sim: 1 in sim.nodes["coord"].decisions      # on disk, Commits sent
    plans = {
        "before prepare": (lambda sim: _sent(sim, "Prepare", "coord") >= n, ids),
        "after some prepares": (lambda sim: _sent(sim, "Prepare", "coord") >= n, ids[1:]),
        "after all votes": (lambda sim: _sent(sim, "Vote") >= n, []),
        "after the decision is logged": (decided, ids),
        "after some commits": (decided, ids[1:]),
    }
    return plans[point]


def commit_with_crash(point: str = "after all votes", participants: int = 3,
                      recover_at: float | None = None, termination: bool = False,
                      latency=None, seed: int = 0, until: float = 40.0) -> Simulation:
    """One 2PC transaction (timeout 5) whose coordinator crashes at ``point``, one of
    CRASH_POINTS; returns the Simulation, already run until ``until``.

    A crash in the middle of sending is modelled honestly: the messages the coordinator had
    not sent yet never leave, so its links to those participants are cut as it crashes.
    recover_at: None (it stays down) or the time it restarts (the cuts heal then too)."""
    if point not in CRASH_POINTS:
        raise ValueError(f"unknown crash point {point!r}; choose one of: {', '.join(CRASH_POINTS)}")
    if recover_at is not None and (isinstance(recover_at, bool) or not isinstance(
            recover_at, (int, float)) or not 0 <= recover_at < float("inf")):
        raise ValueError(f"recover_at must be None (the coordinator stays down) or a time "
                         f">= 0, got {recover_at!r}")
    nodes = twopc_system(participants, termination=termination, timeout=5.0)
    if point.startswith("after some") and participants < 2:
        raise ValueError(f"'{point}' needs at least 2 participants: p1 gets the message and "
                         f"another one does not; got participants={participants}")
    faults = []
    if point != "no crash":
        when, never = _crash_plan(point, participant_ids(participants))
        faults = [cut("coord", p, when=when) for p in never] + [crash("coord", when=when)]
        if recover_at is not None:
            faults += [heal(at=recover_at), restart("coord", at=recover_at)]
    sim = Simulation(nodes, network=Network(latency or Constant(1.0)), faults=faults, seed=seed)
    sim.run(until=until)
    if recover_at is not None and point != "no crash":
        _check_recovery(sim, point, recover_at)
    return sim


def _check_recovery(sim, point, recover_at):
    """A restart is a recovery only if it comes after the crash, and after the messages
    on the cut links were lost (healing the links would let a late one through)."""
    events = sim.trace.events
    crashed = [e.index for e in events if e.kind == "crash" and e.node == "coord"]
    if any(e.kind == "restart" and e.detail for e in events):     # "was not down"
        when = f"at t={round(events[crashed[0]].time, 2):g}" if crashed else "later than that"
        raise ValueError(f"recover_at={recover_at:g} is too early: with '{point}' the "
                         f"coordinator crashes {when}; choose a later time")
    if not crashed:
        return                                   # the run ended before the crash
    links = {(e.node, e.peer) for e in events if e.kind == "cut"}
    unsent = {e.msg_id for e in events[:crashed[0]]
              if e.kind == "send" and (e.node, e.peer) in links}
    if any(e.kind == "deliver" and e.msg_id in unsent for e in events[crashed[0]:]):
        raise ValueError(f"recover_at={recover_at:g} is too early: a message the coordinator "
                         f"never sent would still arrive once the links heal; choose a later "
                         f"time")


def doubt_durations(sim_or_trace, until: float | None = None) -> dict:
    """Participant -> how long it was in doubt about transaction 1 (0 if never); an
    interval still open counts up to ``until`` (default: the end of the trace)."""
    trace = getattr(sim_or_trace, "trace", sim_or_trace)
    end = trace.duration if until is None else until
    spans = doubt_intervals(trace)
    return {p: (spans[p][1] if spans[p][1] is not None else end) - spans[p][0]
            if p in spans else 0.0
            for p, st in trace.initial.items() if "log" in st and "decisions" not in st}


def _ranges(ids) -> str:
    """["p1", "p2", "p3", "p5"] -> "p1-p3,p5" (participants are numbered p1...)."""
    nums, parts = sorted(int(p[1:]) for p in ids), []
    for k in nums:
        if parts and parts[-1][1] == k - 1:
            parts[-1][1] = k
        else:
            parts.append([k, k])
    return ",".join(f"p{a}" if a == b else f"p{a}-p{b}" for a, b in parts)


def outcome_text(outcomes: dict) -> str:
    """final_outcomes as a short stable string: "commit", or "p1 commit, p2-p3 in doubt"."""
    word = {"committed": "commit", "aborted": "abort"}
    groups = {}
    for p, o in outcomes.items():
        groups.setdefault(word.get(o, o), []).append(p)
    if len(groups) == 1:
        return next(iter(groups))
    return ", ".join(f"{_ranges(ps)} {o}" for o, ps in
                     sorted(groups.items(), key=lambda g: min(int(p[1:]) for p in g[1])))


def crash_point_table(participants: int = 3, recover_at: float = 20.0, until: float = 40.0,
                      seed: int = 0) -> list[dict]:
    """Every crash point, with and without the coordinator's recovery and the cooperative
    termination protocol: is anyone still in doubt at ``until``, how did it end, and the
    longest time a participant spent in doubt."""
    rows = []
    for point in CRASH_POINTS:
        for recovers in (False, True):
            for termination in (False, True):
                sim = commit_with_crash(point, participants, recover_at if recovers else None,
                                        termination, seed=seed, until=until)
                outcomes = final_outcomes(sim)
                rows.append({
                    "crash point": point, "coordinator recovers": recovers,
                    "cooperative termination": termination,
                    "blocked at the end": "in doubt" in outcomes.values(),
                    "outcome": outcome_text(outcomes),
                    "longest doubt": round(max(doubt_durations(sim, until).values(),
                                               default=0.0), 2)})
    return rows


def _commit_system(protocol, participants, votes=None, transactions=1, timeout=5.0):
    if protocol == "2pc":
        return twopc_system(participants, votes, transactions, timeout)
    if protocol == "3pc":
        return threepc_system(participants, votes, transactions, timeout)
    raise ValueError(f"protocol must be '2pc' or '3pc', got {protocol!r}")


def transaction_latencies(participants: int = 2, latency=None, transactions: int = 200,
                          seed: int = 0, protocol: str = "2pc",
                          timeout: float = 50.0) -> list[float]:
    """The coordinator runs ``transactions`` in a row; how long each took to decide (from
    its start to the decision, at the coordinator).  Every link draws its delay from
    ``latency`` (default: a long tail around 1).

    The timeout is long (50) so that this measures the protocol, not its timeouts: with
    timeout 5 on these links, a vote slower than that aborts its transaction, whose
    "latency" is then the timeout itself."""
    nodes = _commit_system(protocol, participants, transactions=transactions, timeout=timeout)
    network = Network(LongTail(1.0, 0.8) if latency is None else latency)
    # no node states in the trace: the logs grow with every transaction, and copying them at
    # every step would make a long run quadratic
    trace = Simulation(nodes, network=network, seed=seed, record_states=False).run()
    return [op.latency for op in trace.history() if op.response is not None]


def messages_per_transaction(participants: int = 2, protocol: str = "2pc", votes=None,
                             transactions: int = 10, seed: int = 0) -> dict:
    """Messages per decided transaction, by type, from one run without faults."""
    nodes = _commit_system(protocol, participants, votes, transactions)
    trace = Simulation(nodes, seed=seed, record_states=False).run()
    decided = sum(1 for op in trace.history() if op.response is not None)
    counts = trace.message_counts()
    return {t: counts[t] / decided for t in sorted(counts)}
