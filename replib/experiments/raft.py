"""Chapter 10's experiments: how long Raft takes to elect a leader, against the range its
election timeouts are drawn from, and a run that shows log replication repairing logs.

    election_run(seed, spread)      one run of 3 servers from scratch until a leader is elected
    election_stats(spreads, seeds)  the same over many seeds, for each timeout range
    replication_story()             s1 wins term 4 and repairs two followers' logs
    view_text(rows)                 a RaftScope-like table (``raft_table`` rows) as text

Every server draws its election timeout from [timeout, timeout + spread] (``TimeoutRange``).
With spread 0 all of them stand at the same moment, each votes for itself, nobody wins, and
they stand again together: chapter 06's dueling proposers, with no backoff.  A wider range
lets one server time out first and collect the votes before the others stand.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..network import Constant, Network, Uniform
from ..protocols.raft import ElectionTimeout, RaftServer, raft_system
from ..sim import Simulation
from ..validate import finite_time, whole_number

#: the network of the election runs: every message takes between 0.5 and 1.5
LATENCY = Uniform(0.5, 1.5)
#: the shortest election timeout of the runs (time units)
TIMEOUT = 5.0
#: simulated time after which a run with no leader counts as undecided
LIMIT = 200.0
#: the timeout ranges the chapter measures (the spread above TIMEOUT)
SPREADS = (0.0, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)


class TimeoutRange(RaftServer):
    """A Raft server whose election timeout is drawn from [election_timeout,
    election_timeout + spread], so the range can be varied (RaftServer's own is [T, 2T])."""

    spread = TIMEOUT

    def start_election_timer(self):
        if self.may_stand:
            self.set_timer(ElectionTimeout(),
                           self.election_timeout + self.rng.uniform(0.0, self.spread))


def range_server(spread: float) -> type:
    """A TimeoutRange subclass with this spread (a class, as ``raft_system`` takes)."""
    finite_time("spread", spread, zero_ok=True)
    return type(f"TimeoutRange_{spread:g}", (TimeoutRange,), {"spread": float(spread)})


@dataclass(frozen=True)
class Election:
    """One run until a leader: elected or not by the limit, when, after how many
    candidacies (a server standing in a term: Paxos's ballots), and messages sent."""

    seed: int
    spread: float
    elected: bool
    time: float
    candidacies: int
    messages: int


def _leader(sim) -> bool:
    return any(getattr(n, "role", None) == "leader" for n in sim.nodes.values())


def election_run(seed: int = 0, spread: float = TIMEOUT, servers: int = 3,
                 timeout: float = TIMEOUT, latency=None, limit: float = LIMIT) -> Election:
    """Servers from scratch (no clients), all started at t = 0, run until one is leader or
    the time passes ``limit``; no states recorded (it is fast)."""
    whole_number("servers", servers, 1, 9)
    finite_time("timeout", timeout)
    finite_time("limit", limit)
    nodes = raft_system(servers, 0, 0, election_timeout=timeout, server=range_server(spread))
    sim = Simulation(nodes, network=Network(LATENCY if latency is None else latency),
                     seed=seed, record_states=False)
    sim.run(until=lambda s: _leader(s) or s.now >= limit)
    sends = [e for e in sim.trace.events if e.kind == "send"]
    candidacies = {(e.node, e.msg.term) for e in sends if e.msg_type == "RequestVote"}
    return Election(seed, float(spread), _leader(sim), min(sim.now, limit), len(candidacies),
                    len(sends))


@dataclass
class ElectionStats:
    """Election runs over many seeds for each spread: ``runs[spread]`` is a list of
    Election.  ``median``/``worst`` read the elected runs; ``undecided`` counts the others."""

    runs: dict
    limit: float = LIMIT

    def elected(self, spread) -> list:
        return [r for r in self.runs[spread] if r.elected]

    def undecided(self, spread) -> int:
        return len(self.runs[spread]) - len(self.elected(spread))

    def _values(self, spread, what):
        return sorted(getattr(r, what) for r in self.elected(spread))

    def median(self, spread, what: str = "time"):
        """The median of ``what`` ("time", "candidacies", "messages") over all runs, the
        undecided ones counted as larger than any; None when the median is undecided."""
        values, n = self._values(spread, what), len(self.runs[spread])
        rank = (n + 1) // 2
        return values[rank - 1] if rank <= len(values) else None

    def worst(self, spread, what: str = "time"):
        """The largest ``what`` of the elected runs (None if none was elected)."""
        values = self._values(spread, what)
        return values[-1] if values else None


def election_stats(spreads=SPREADS, seeds: int = 200, progress: bool = True,
                   **settings) -> ElectionStats:
    """``election_run`` for seeds 0..seeds-1 and each spread; a progress bar counts runs."""
    whole_number("seeds", seeds, 1, 5000)
    spreads = [finite_time("spread", s, zero_ok=True) for s in spreads]
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(spreads) * seeds, desc="election runs", leave=True)
    runs = {}
    try:
        for spread in spreads:
            runs[spread] = []
            for seed in range(seeds):
                runs[spread].append(election_run(seed, spread, **settings))
                if bar is not None:
                    bar.update()
    finally:
        if bar is not None:
            bar.close()
    return ElectionStats(runs, settings.get("limit", LIMIT))


# ---- log replication: a leader repairs its followers' logs --------------------------------


def _write(seq: int, value: int) -> tuple:
    return ("c1", seq, ("write", "x", value))


#: the logs the story starts from: s2 holds two entries of term 2 that were never committed
#: (their leader crashed), s3 missed everything after index 1
STORY_LOGS = {
    "s1": (3, [(1, _write(0, 1)), (1, _write(1, 2)), (3, _write(2, 3))]),
    "s2": (2, [(1, _write(0, 1)), (2, _write(1, 20)), (2, _write(2, 30))]),
    "s3": (1, [(1, _write(0, 1))]),
}


def replication_story(seed: int = 0) -> Simulation:
    """Three servers restart from the disks of ``STORY_LOGS`` (each voted in its term);
    only s1 may stand, every message takes 1, no heartbeats, and a new leader appends a
    no-op (``noop=True``).  s1 wins term 4 (its last term, 3, beats s2's 2 and s3's 1),
    appends its no-op and sends AppendEntries from its last entry: both followers refuse,
    and s1 backs up ``next_index`` one entry at a time until their logs match at index 1;
    s2's two entries of term 2 conflict with s1's and are deleted.  Once the no-op is on a
    majority, s1 commits everything up to it ("commit 4").  Returns the finished run, with
    states recorded (for the diagram and the trace player)."""
    nodes = raft_system(3, 1, 0, heartbeat=None, candidates=["s1"], noop=True)
    for n in nodes:
        if n.id in STORY_LOGS:
            n.current_term, log = STORY_LOGS[n.id]
            n.log = list(log)
            n.voted_for = n.id if n.id != "s3" else "s1"
    sim = Simulation(nodes, network=Network(Constant(1.0)), seed=seed)
    sim.run()
    return sim


def refusals(trace) -> list:
    """(follower, prev_log_index) of every AppendEntries a follower refused, in order."""
    return [(e.node, e.msg.index) for e in trace.events
            if e.kind == "send" and e.msg_type == "AppendReply" and not e.msg.success]


def view_text(rows) -> str:
    """``raft_table`` rows as a fixed-width text table: server, term, role, vote, commit
    index and the log, one entry per column as ``term:command``."""
    head = f"{'server':7}{'term':>5}  {'role':10}{'voted for':10}{'commit':>6}  log"
    lines = [head]
    for r in rows:
        log = "  ".join(f"{t}:{c}" for t, c in r["log"]) or "(empty)"
        lines.append(f"{r['server']:7}{r['term']:>5}  {r['role']:10}"
                     f"{str(r['voted for'] or '-'):10}{r['commit']:>6}  {log}")
    return "\n".join(lines)
