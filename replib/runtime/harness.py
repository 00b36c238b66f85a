"""Jepsen-style tests: real processes, a workload, a fault schedule, and a verdict.

Jepsen's recipe (Kingsbury's tests of real databases): clients hammer the system with
reads and writes for a while, a *nemesis* injects faults on a schedule, every operation's
invocation and completion is recorded, and a checker decides afterwards whether some
single-copy order could explain what the clients saw.  ``run_test`` does the same with a
replib system run by ``Cluster``: the clients are the system's own client nodes, the
nemesis is a list of ``replib.faults`` (kill -9, restart from disk, partitions), the
history is checked with ``history.linearizable_kv``, and the final disks with the
protocol's invariants (those that read stable fields).  ``TestRun.save_jepsen`` writes the
history in Jepsen's EDN format, for Knossos or Porcupine.

``NEMESIS`` is a schedule designed to catch a replica that forgets its promise when it
restarts (``multipaxos_mutants.ForgetsPromise``), in every run, not by luck:

    t=20  isolate the leader r1 from r2 and r3 (clients still reach everyone): r1 keeps
          the commands it proposed but cannot get them chosen; r2 times out, is elected
          with ballot 4 by r2 and r3, and takes the clients' writes
    t=45  kill -9 r3, which promised ballot 4 to r2
    t=46  heal, then isolate r2 instead: r1 and r3 are a majority without the new leader
    t=48  restart r3 from its disk.  The correct replica remembers ballot 4 and rejects r1's
          Accepts of ballot 3, so r1 must stand again and learn r2's slots.  The forgetful
          one has promised nothing: it accepts them, and ballot 3 gets a second command
          chosen in slots where ballot 4 already chose others
    t=100 heal: reads now see two different logs, and the history is not linearizable

A real run keeps the gaps of the schedule, not its clock: a restart takes 10 to 30 time
units (more on a loaded machine), and everything after it moves back by as much, so r1 and
r3 always get 52 time units together (``Cluster.run(keep_gaps=True)``).  And a real run
checks that the schedule met the cluster it expected: if a stalled machine delayed r1's
heartbeats long enough for another replica to stand before t=20, r1 was no longer the
leader to isolate, so the run says so and runs again at twice the time unit (every timer
and every fault twice as long in seconds, the same in time units), up to ``ATTEMPTS`` runs.

The same schedule runs unchanged in the simulator (``run_test(..., simulate=True)``), where
it catches the bug in every seed: the schedule, not the luck of timing, exposes it.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

from ..faults import crash, cut, heal, restart
from ..history import Result, linearizable_kv
from ..jepsen import save_jepsen
from ..validate import whole_number
from .cluster import DEFAULT_TIME_UNIT, Cluster


def split(*groups, at: float) -> list:
    """Cut every link between the groups, both ways, at time ``at``: a partition among
    these nodes only (nodes in no group, such as clients, still reach everyone)."""
    groups = [(g,) if isinstance(g, str) else tuple(g) for g in groups]
    return [cut(a, b, at=at) for g in groups for h in groups if g is not h for a in g for b in h]


def nemesis(first: str, second: str, third: str) -> list:
    """The schedule of the module's docstring, for replicas named ``first`` (the first
    leader), ``second`` (the next) and ``third`` (the one killed)."""
    return (split([first], [second, third], at=20)
            + [crash(third, at=45), heal(at=46)]
            + split([first, third], [second], at=46)
            + [restart(third, at=48), heal(at=100)])


NEMESIS = nemesis("r1", "r2", "r3")
RAFT_NEMESIS = nemesis("s1", "s2", "s3")
UNTIL = 160            # time units a test runs (3.2 s at the default time unit)
ATTEMPTS = 3           # real runs at most, each at twice the time unit of the last


def only_leader_until(first: str, campaign: str, until: float = 20):
    """A check of a run's trace: nobody but ``first`` sent a ``campaign`` message (the
    message that asks for votes) before ``until``, so ``first`` was still the leader when
    the nemesis isolated it.  Returns what went otherwise, in words (empty: as planned)."""
    def check(trace) -> list:
        early = [e for e in trace.events if e.kind == "send" and e.time < until
                 and e.node != first and e.msg_type == campaign]
        return [f"{e.node} stood for election at t={e.time:.1f}, before the partition at "
                f"t={until:g}, so {first} was not the leader the schedule isolates"
                for e in early[:1]]
    return check


@dataclass
class TestRun:
    """What one test saw and concluded."""

    name: str
    seed: int
    history: list
    verdict: Result                    # history.linearizable_kv of the history
    invariants: dict                   # name -> held on the final disks?
    log: list = field(default_factory=list)     # what the nemesis did, with times
    stats: dict = field(default_factory=dict)   # messages forwarded, dropped; seconds
    trace: object = None               # the run's Trace, if asked for
    reruns: list = field(default_factory=list)  # why earlier real runs were not conclusive

    @property
    def linearizable(self) -> bool:
        return bool(self.verdict)

    @property
    def ok(self) -> bool:
        """Linearizable, and every invariant held."""
        return self.linearizable and all(self.invariants.values())

    @property
    def answered(self) -> int:
        return sum(op.response is not None for op in self.history)

    def save_jepsen(self, path) -> None:
        """Write the history in Jepsen's EDN format (``replib.jepsen.save_jepsen``)."""
        save_jepsen(self.history, path)

    def summary(self) -> str:
        broken = [name for name, held in self.invariants.items() if not held]
        verdict = "linearizable" if self.linearizable else "NOT linearizable"
        return (f"{self.name} seed {self.seed}: {len(self.history)} operations "
                f"({self.answered} answered), {verdict}"
                + (f"; invariants broken: {', '.join(broken)}" if broken else "")
                + "".join(f"\n  (ran again: {why})" for why in self.reruns))

    def __repr__(self):
        return f"<TestRun {self.summary()}>"


def run_test(nodes, faults=(), until: float = UNTIL, *, seed: int = 0, invariants=None,
             name: str = "test", keep_trace: bool = False, simulate: bool = False,
             scenario=None, attempts: int = ATTEMPTS, **cluster_options) -> TestRun:
    """Run ``nodes`` for real (a ``Cluster``) until ``until`` under ``faults``; check the
    clients' history for linearizability and the final disks against ``invariants``
    ({name: function of a list of nodes}).  ``simulate=True`` runs the same test in the
    simulator instead, to compare.  ``scenario(trace)``: what went otherwise than the
    schedule assumes, in words; a real run where something did is run again at twice the
    time unit, up to ``attempts`` runs in all (the last one counts whatever happened).
    ``cluster_options`` go to ``Cluster`` (time_unit, ...)."""
    whole_number("attempts", attempts, 1)
    reruns = []
    while True:
        run = _run_once(nodes, faults, until, seed, invariants, name, simulate,
                        keep_trace or scenario is not None, cluster_options)
        problems = [] if scenario is None or simulate else scenario(run.trace)
        if not problems or len(reruns) + 1 >= attempts:
            run.reruns = reruns
            if not keep_trace:
                run.trace = None
            return run
        unit = cluster_options.get("time_unit", DEFAULT_TIME_UNIT)
        reruns.append(f"at time unit {unit:g} s, {problems[0]}")
        cluster_options = {**cluster_options, "time_unit": 2 * unit}


def _run_once(nodes, faults, until, seed, invariants, name, simulate, keep_trace,
              cluster_options) -> TestRun:
    invariants = dict(invariants or {})
    started = time.monotonic()
    if simulate:
        from ..network import Network, Uniform
        from ..sim import Simulation
        sim = Simulation(nodes, network=Network(Uniform(0.02, 0.1)), faults=faults, seed=seed,
                         record_states=False)
        trace = sim.run(until=until)
        finals, log = list(sim.nodes.values()), [f.describe() for f in faults]
        stats = {"messages": trace.count("send")}
    else:
        with Cluster(nodes, seed=seed, **cluster_options) as cluster:
            cluster.run(until=until, faults=faults, keep_gaps=True)
            cluster.stop()                 # disks read while nodes run are no snapshot
            trace = cluster.trace()
            finals, log = cluster.disks(), list(cluster.log)
            stats = {**cluster.stats(), "time_unit": cluster.time_unit}
    history = trace.history()
    verdict = linearizable_kv(history)
    stats["seconds"] = round(time.monotonic() - started, 2)
    return TestRun(name, seed, history, verdict,
                   {k: bool(check(finals)) for k, check in invariants.items()},
                   log, stats, trace if keep_trace else None)


# ---- the workload and the two protocols -----------------------------------------------------

def workload(clients: int = 3, ops: int = 1000) -> list:
    """One list of operations per client: client i writes its own key ``k<i>`` (values
    ``c<i>:1``, ``c<i>:2``, ...) and, between writes, reads every key in turn.  Reading keys
    that other clients write is what exposes a replica serving an old log: a single shared
    key would often be overwritten by the reader's own next write first."""
    out = []
    for i in range(1, clients + 1):
        ops_i = []
        for k in range(ops):
            if k % 2 == 0:
                ops_i.append(("write", f"k{i}", f"c{i}:{k // 2 + 1}"))
            else:
                ops_i.append(("read", f"k{(i + k // 2) % clients + 1}"))
        out.append(ops_i)
    return out


def multipaxos_test(seed: int = 0, replica=None, faults=None, **options) -> TestRun:
    """Multi-Paxos, 3 replicas and 3 clients (``workload``, think time 1) under ``NEMESIS``
    (or ``faults``); ``replica``: a class such as the planted bug."""
    from ..protocols.multipaxos import MULTIPAXOS_INVARIANTS, multipaxos_system
    nodes = multipaxos_system(3, clients=3, ops=workload(3), timeout=4.0, heartbeat=1.0,
                              client_timeout=8.0, think=1.0, replica=replica)
    name = "multipaxos" + (f" ({replica.__name__})" if replica is not None else "")
    options.setdefault("scenario", only_leader_until("r1", "Prepare") if faults is None
                       else None)
    return run_test(nodes, NEMESIS if faults is None else faults, seed=seed, name=name,
                    invariants=MULTIPAXOS_INVARIANTS, **options)


def raft_test(seed: int = 0, server=None, faults=None, **options) -> TestRun:
    """Raft, 3 servers and 3 clients, under ``RAFT_NEMESIS`` (or ``faults``).  Raft's first
    leader is whoever times out first (s2 in seed 0), so this schedule has the shape of
    ``NEMESIS`` without aiming at the leader: it shows Raft safe under kills and partitions."""
    from ..protocols.raft import RAFT_INVARIANTS, raft_system
    nodes = raft_system(3, clients=3, ops=workload(3), election_timeout=5.0, heartbeat=1.0,
                        client_timeout=8.0, think=1.0, server=server)
    name = "raft" + (f" ({server.__name__})" if server is not None else "")
    return run_test(nodes, RAFT_NEMESIS if faults is None else faults, seed=seed, name=name,
                    invariants=RAFT_INVARIANTS, **options)


def main(argv=None) -> int:
    """``python -m replib.runtime.harness``: run the tests and say what they found."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per configuration")
    parser.add_argument("--simulate", action="store_true", help="in the simulator instead")
    parser.add_argument("--only", choices=["multipaxos", "forgets-promise", "raft",
                                           "forgets-term-and-vote"], action="append",
                        help="run only these configurations (may be repeated)")
    args = parser.parse_args(argv)
    from ..protocols.multipaxos_mutants import ForgetsPromise
    from ..protocols.raft_mutants import ForgetsTermAndVote
    configs = {"multipaxos": ("multipaxos", multipaxos_test, None),
               "forgets-promise": ("multipaxos", multipaxos_test, ForgetsPromise),
               "raft": ("raft", raft_test, None),
               "forgets-term-and-vote": ("raft", raft_test, ForgetsTermAndVote)}
    for key in args.only or ["multipaxos", "forgets-promise", "raft"]:
        name, test, bug = configs[key]
        runs = []
        for seed in range(args.runs):
            kw = {"replica" if name == "multipaxos" else "server": bug}
            run = test(seed, simulate=args.simulate, **kw)
            print("  " + run.summary(), f"[{run.stats['seconds']} s]", flush=True)
            runs.append(run)
        bad = sum(not r.linearizable for r in runs)
        label = f"{name} with {bug.__name__}" if bug else f"{name}, correct"
        print(f"{label}: {bad} of {len(runs)} runs not linearizable, "
              f"{sum(not r.ok for r in runs)} failing a check", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
