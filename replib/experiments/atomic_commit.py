"""Chapter 03 measured: two-phase commit with a crash at each point of the protocol, how long
participants stay in doubt, latency and messages per transaction, 2PC next to 3PC.
"""

from __future__ import annotations

from ..faults import crash, cut, heal, partition, restart
from ..network import Constant, LongTail, Network
from ..protocols.paxos_commit import paxos_commit_system
from ..protocols.threepc import threepc_system
from ..protocols.twopc import doubt_intervals, final_outcomes, participant_ids, twopc_system
from ..sim import Simulation
from ..trace import trace_of
from ..validate import MAX_MEASURED, finite_time, whole_number
from . import TextTable, finished

MESSAGE_ORDER = ("Prepare", "CanCommit", "Vote", "PreCommit", "PreCommitAck", "DoCommit",
                 "Commit", "Abort", "Ack")      # the order a transaction sends them in
PROTOCOLS = ("2pc", "3pc", "paxos commit")
ACCEPTORS = 3        # Paxos Commit's acceptors here: 2F + 1 with F = 1
CRASH_POINTS = ("no crash", "before prepare", "after some prepares", "after all votes",
                "after the decision is logged", "after some commits")


def _sent(sim, msg_type, node=None) -> int:
    """How many ``msg_type`` messages ``node`` (anyone, if None) has sent so far."""
    return sim.trace.count("send", node=node, msg_type=msg_type)


def _crash_plan(point, ids, protocol="2pc"):
    """When the coordinator crashes at ``point``, and which participants never get the
    message it was sending then (the links we cut as it crashes).  In 3PC the first message
    is CanCommit, "the decision" is the precommit record and "commits" are its PreCommits;
    in Paxos Commit the first is BeginCommit and "all votes" means every acceptor has
    accepted every participant's vote."""
    n = len(ids)
    first, vote, votes = {"2pc": ("Prepare", "Vote", n), "3pc": ("CanCommit", "Vote", n),
                          "paxos commit": ("BeginCommit", "Phase2b", n * ACCEPTORS)}[protocol]
    decided = lambda sim: 1 in sim.nodes["coord"].decisions      # on disk, messages sent
    plans = {
        "before prepare": (lambda sim: _sent(sim, first, "coord") >= n, ids),
        "after some prepares": (lambda sim: _sent(sim, first, "coord") >= n, ids[1:]),
        "after all votes": (lambda sim: _sent(sim, vote) >= votes, []),
        "after the decision is logged": (decided, ids),
        "after some commits": (decided, ids[1:]),
    }
    return plans[point]


def commit_with_crash(point: str = "after all votes", participants: int = 3,
                      recover_at: float | None = None, termination: bool = False,
                      latency=None, seed: int = 0, until: float = 40.0,
                      protocol: str = "2pc", cut_off: tuple | None = None) -> Simulation:
    """One transaction (timeout 5) whose coordinator crashes at ``point``, one of
    CRASH_POINTS; returns the Simulation, already run until ``until``.

    A crash in the middle of sending is modelled by cutting the links to the participants
    that have not got the message yet, as the coordinator crashes: a program that dies
    between two sends never sends the second.  (The simulator sends all of a handler's
    messages at once, so without the cuts every one of them would leave.)
    recover_at: None (it stays down) or the time it restarts (the cuts heal then too).
    protocol: "2pc", "3pc" or "paxos commit" (with 3 acceptors and a standby leader
    ``coord2`` that takes over at t = 6; termination applies to 2PC only).  cut_off: None, or
    (participant, from, to): a partition that cuts that participant off from everyone."""
    if point not in CRASH_POINTS:
        raise ValueError(f"unknown crash point {point!r}; choose one of: {', '.join(CRASH_POINTS)}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(map(repr, PROTOCOLS))}, "
                         f"got {protocol!r}")
    if recover_at is not None and (isinstance(recover_at, bool) or not isinstance(
            recover_at, (int, float)) or not 0 <= recover_at < float("inf")):
        raise ValueError(f"recover_at must be None (the coordinator stays down) or a finite "
                         f"time >= 0, got {recover_at!r}")
    finite_time("until", until)
    if protocol == "2pc":
        nodes = twopc_system(participants, termination=termination, timeout=5.0)
    elif protocol == "3pc":
        nodes = threepc_system(participants, timeout=5.0)
    else:
        nodes = paxos_commit_system(participants, ACCEPTORS, timeout=6.0)
    if point.startswith("after some") and participants < 2:
        raise ValueError(f"'{point}' needs at least 2 participants: p1 gets the message and "
                         f"another one does not; got participants={participants}")
    ids = participant_ids(participants)
    faults = []
    if point != "no crash":
        when, never = _crash_plan(point, ids, protocol)
        faults = [cut("coord", p, when=when) for p in never] + [crash("coord", when=when)]
        if recover_at is not None:
            faults += [heal(at=recover_at), restart("coord", at=recover_at)]
    faults += _cut_off_faults(cut_off, ids, None if point == "no crash" else recover_at)
    if cut_off is not None and point != "no crash" and never:
        # the partition's heal removes every cut, the crash's too: cut those links again
        # once it has healed, if the coordinator is down by then
        end = cut_off[2]
        down = lambda sim: sim.now >= end and "coord" in sim.crashed
        faults += [cut("coord", p, when=down) for p in never]
    sim = Simulation(nodes, network=Network(latency or Constant(1.0)), faults=faults, seed=seed)
    sim.run(until=until)
    if recover_at is not None and point != "no crash":
        _check_recovery(sim, point, recover_at)
    return sim


def _cut_off_faults(cut_off, ids, recover_at=None) -> list:
    """The partition of ``cut_off`` = (participant, from, to), checked.  Only that
    participant is cut off; everyone else (acceptors and leaders too) stays connected."""
    if cut_off is None:
        return []
    if not (isinstance(cut_off, (tuple, list)) and len(cut_off) == 3):
        raise ValueError(f"cut_off must be None or (participant, from, to), such as "
                         f"('p2', 1.5, 20), got {cut_off!r}")
    who, start, end = cut_off
    if who not in ids:
        raise ValueError(f"cut_off: {who!r} is not a participant; choose one of {list(ids)}")
    finite_time("cut_off's start", start, zero_ok=True)
    finite_time("cut_off's end", end)
    if end <= start:
        raise ValueError(f"cut_off: the partition must end after it starts, got from "
                         f"{start:g} to {end:g}")
    if recover_at is not None and start < recover_at < end:
        raise ValueError(f"cut_off: the coordinator's recovery at t = {recover_at:g} heals "
                         f"every link, so it would end the partition ({start:g} to {end:g}) "
                         f"early; let the partition end before the recovery or start after it")
    return [partition([who], at=start), heal(at=end)]


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
                      seed: int = 0) -> TextTable:
    """Every crash point, with and without the coordinator's recovery ("recovers") and the
    cooperative termination protocol ("asks"): is anyone still in doubt at ``until``
    ("blocked"), how did it end, and the longest time a participant spent in doubt.  Prints
    as a table."""
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
                    "crash point": point, "recovers": recovers, "asks": termination,
                    "blocked": "in doubt" in outcomes.values(),
                    "outcome": outcome_text(outcomes),
                    "longest doubt": round(max(doubt_durations(sim, until).values(),
                                               default=0.0), 2)})
    yes_no = lambda v: "yes" if v else "no"
    return TextTable(rows, {"longest doubt": "{:g}", "recovers": yes_no, "asks": yes_no,
                            "blocked": yes_no},
                     note=f"{participants} participants; recovers: the coordinator is back at "
                          f"t = {recover_at:g} (or never); asks: cooperative termination\n"
                          f"blocked: someone is still in doubt when the run ends, at "
                          f"t = {until:g}")


def blocked_points(rows, recovers: bool = False, termination: bool = False) -> list:
    """The crash points of a crash_point_table that leave someone in doubt at the end."""
    return [r["crash point"] for r in rows if r["recovers"] == recovers
            and r["asks"] == termination and r["blocked"]]


def cost_table(sizes=(2, 3, 4, 5), protocol: str = "2pc") -> TextTable:
    """Messages per committed transaction, by type, for each number of participants."""
    rows = []
    for n in sizes:
        per = messages_per_transaction(n, protocol)
        total = sum(per.values())
        in_order = sorted(per, key=lambda t: MESSAGE_ORDER.index(t) if t in MESSAGE_ORDER
                          else len(MESSAGE_ORDER))
        rows.append({"n": n, **{t: per[t] for t in in_order}, "total": total,
                     "total / n": total / n})
    return TextTable(rows, {k: "{:g}" for k in rows[0]} if rows else {},
                     note=f"{protocol.upper()}, measured over 10 transactions each")


def participant_crash(before_vote: bool = True, participants: int = 3,
                      until: float = 40.0) -> Simulation:
    """2PC (timeout 5) in which participant p2 crashes, before it votes or just after, and
    comes back at t = 20.  Before its vote the coordinator cannot hear from it and aborts
    on its timeout: nobody is blocked.  After a yes vote the others commit, and p2, on
    its disk still prepared, learns the commit from a resend when it is back."""
    finite_time("until", until)
    nodes = twopc_system(participants, timeout=5.0)
    when = (lambda sim: _sent(sim, "Prepare") >= 1) if before_vote else \
        (lambda sim: _sent(sim, "Vote", "p2") >= 1)
    faults = [crash("p2", when=when), restart("p2", at=20.0)]
    sim = Simulation(nodes, network=Network(Constant(1.0)), faults=faults)
    sim.run(until=until)
    return sim


def coordinator_and_participant_crash(participants: int = 3, until: float = 40.0) -> Simulation:
    """2PC with cooperative termination: the coordinator crashes after its Commit reached p1
    only, and p1 crashes right after committing.  Neither comes back.  The others are in
    doubt and ask; nobody who answers knows the decision, and a participant that voted yes
    cannot tell a commit that p1 applied from an abort: 2PC cannot survive the coordinator
    and a participant failing together."""
    finite_time("until", until)
    whole_number("participants", participants, 2, cap=9)
    ids = participant_ids(participants)
    when, never = _crash_plan("after some commits", ids)
    p1_committed = lambda sim: sim.nodes["p1"].log.get(1) == "committed"
    faults = ([cut("coord", p, when=when) for p in never] + [crash("coord", when=when)]
              + [crash("p1", when=p1_committed)])
    sim = Simulation(twopc_system(participants, termination=True, timeout=5.0),
                     network=Network(Constant(1.0)), faults=faults)
    sim.run(until=until)
    return sim


def protocols_table(participants: int = 3, until: float = 40.0) -> TextTable:
    """The coordinator crashes at each point and never comes back: how 2PC and Paxos
    Commit end (3 acceptors; the standby leader takes over at t = 6)."""
    rows = []
    for point in CRASH_POINTS[1:]:
        row = {"crash point": point}
        for protocol, label in (("2pc", "2PC"), ("paxos commit", "Paxos Commit")):
            sim = commit_with_crash(point, participants, protocol=protocol, until=until)
            row[label] = outcome_text(final_outcomes(sim))
        rows.append(row)
    return TextTable(rows, note=f"{participants} participants; the coordinator stays down; "
                                f"outcomes at t = {until:g}")


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


def where_2pc_stands(majority_coordinator, stuck, checked, partitioned, latencies,
                     compared) -> TextTable:
    """Chapter 03's closing table: each weakness of 2PC with the run that measured it.
    majority_coordinator: a Coordinator class that commits on a majority (checked here, three
    participants, one votes no); stuck: the checker's
    shortest path to everyone in doubt; checked: that check's result; partitioned: the run
    with p2 cut off; latencies: name -> commit latencies; compared: protocols_table rows."""
    from ..check import Controls, check
    from ..protocols.twopc import atomicity
    from ..viz.charts import percentile
    majority = check(twopc_system(3, votes=["yes", "yes", "no"],
                                  coordinator=majority_coordinator),
                     Controls(), invariants={"atomicity": atomicity}, max_states=50_000,
                     progress=False)
    doubt = doubt_intervals(partitioned.trace)
    longest = max(doubt, key=lambda p: doubt[p][1] - doubt[p][0])
    names = list(latencies)
    never_blocked = sum("in doubt" not in r["Paxos Commit"] for r in compared)
    blocked_2pc = sum("in doubt" in r["2PC"] for r in compared)
    rows = [
        ("unanimous vote", f"committing on a majority breaks atomicity in "
                           f"{len(majority.violation.path)} steps" if majority.violation else
                           "committing on a majority: no violation found (is it a majority?)"),
        ("static coordinator", f"everyone in doubt with the coordinator down, reached in "
                               f"{len(stuck)} steps ({checked.states:,} states checked)"),
        ("blocks", f"{blocked_2pc} of {len(compared)} coordinator crash points leave someone in "
                   f"doubt for good; Paxos Commit: {len(compared) - never_blocked}"),
        ("not partition tolerant", f"{longest} cut off: abort, {longest} in doubt for "
                                   f"{doubt[longest][1] - doubt[longest][0]:g}"),
        ("tail-latency sensitive", f"99th percentile {percentile(latencies[names[0]], 99):.2f} "
                                   f"with {names[0]}, {percentile(latencies[names[-1]], 99):.2f} "
                                   f"with {names[-1]}"),
        ("cost", f"{sum(messages_per_transaction(3).values()):g} messages per committed "
                 f"transaction with 3 participants (4n)"),
    ]
    return TextTable([{"2PC": k, "measured in this notebook": v} for k, v in rows])
