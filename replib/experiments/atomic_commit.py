"""Chapter 03 measured: two-phase commit with a crash at each point of the protocol, how long
participants stay in doubt, latency and messages per transaction, 2PC next to 3PC.
"""

from __future__ import annotations

from ..faults import crash, cut, heal, restart
from ..network import Constant, LongTail, Network
from ..protocols.threepc import threepc_system
from ..protocols.twopc import doubt_intervals, final_outcomes, participant_ids, twopc_system
from ..sim import Simulation
from ..trace import trace_of
from ..validate import MAX_MEASURED, finite_time, whole_number
from . import finished

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
        raise ValueError(f"recover_at must be None (the coordinator stays down) or a finite "
                         f"time >= 0, got {recover_at!r}")
    finite_time("until", until)
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
    trace = trace_of(sim_or_trace)
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
    if not isinstance(outcomes, dict):
        raise ValueError(f"outcomes must map participants to outcomes, as final_outcomes() "
                         f"returns, got {outcomes!r}")
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
    finite_time("recover_at", recover_at, zero_ok=True)
    finite_time("until", until)
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
    whole_number("transactions", transactions, 1, cap=MAX_MEASURED)
    nodes = _commit_system(protocol, participants, transactions=transactions, timeout=timeout)
    network = Network(LongTail(1.0, 0.8) if latency is None else latency)
    # no node states in the trace: the logs grow with every transaction, and copying them at
    # every step would make a long run quadratic
    sim = Simulation(nodes, network=network, seed=seed, record_states=False)
    sim.run()
    trace = finished(sim, "transaction_latencies")
    return [op.latency for op in trace.history() if op.response is not None]


def messages_per_transaction(participants: int = 2, protocol: str = "2pc", votes=None,
                             transactions: int = 10, seed: int = 0) -> dict:
    """Messages per decided transaction, by type, from one run without faults."""
    whole_number("transactions", transactions, 1, cap=MAX_MEASURED)
    nodes = _commit_system(protocol, participants, votes, transactions)
    sim = Simulation(nodes, seed=seed, record_states=False)
    sim.run()
    trace = finished(sim, "messages_per_transaction")
    decided = sum(1 for op in trace.history() if op.response is not None)
    counts = trace.message_counts()
    return {t: counts[t] / decided for t in sorted(counts)}
