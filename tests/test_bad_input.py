"""Bad input, as a new user types it, across every public entry point: each case must be
refused at once with a ValueError or TypeError whose message names the parameter and says
what is allowed.  None may hang (each runs under a time limit), crash deep inside (another
exception, or a message that names nothing), or be accepted silently.

``python tests/test_bad_input.py`` prints the tally of outcomes instead of asserting, which
is how the numbers in issue 18's closing note were measured (before and after the fix).
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

if __name__ == "__main__":                    # run as a script: import replib from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from replib.actions import Controls
from replib.check import check
from replib.experiments import atomic_commit, compare, livelock, partitions, primary_backup
from replib.experiments import proposal_numbers, sync_async
from replib.exercises.core import TimeUp, time_limit
from replib.faults import crash, cut, drop, heal, partition, restart
from replib.history import (diverged, is_prefix, linearizable, linearizable_kv, lost_writes,
                            random_history, with_stale_read)
from replib.jepsen import parse_jepsen, read_edn, save_jepsen, to_jepsen, write_edn
from replib.network import Constant, LongTail, Network, Uniform
from replib.node import Node
from replib.protocols.forwarding import forwarding_system
from replib.protocols.multipaxos import multipaxos_system
from replib.protocols.paxos import check_paxos, paxos_system
from replib.protocols.raft import check_raft, raft_system
from replib.protocols.replication import replication_system
from replib.protocols.threepc import threepc_system
from replib.protocols.twopc import twopc_system
from replib.quorums import always_intersect, check_sizes, disjoint_pair, majority, quorums
from replib.sim import Simulation
from replib.trace import Operation
from replib.widgets import (BackoffExplorer, CommitExplorer, ComparisonExplorer, DuelExplorer,
                            FaultPanel, LongRun, QuorumExplorer, TracePlayer, YouAreTheNetwork)
from replib.widgets.practice import PracticeExplorer
from replib.widgets.replication import ReplicationExplorer

INF, NAN = math.inf, math.nan
SECONDS = 10          # far more than any refusal needs; a case that takes longer hangs
#: a message that says what is allowed uses one of these words
ALLOWED = re.compile(r"must|allowed|one of|choose|give|needs?|only|expects?|valid|at most|"
                     r"at least|takes|between|use |\bare\b|actions:|e\.g\.|such as|"
                     r"is \S+ or \S+|neither", re.I)


@dataclass(frozen=True)
class Case:
    what: str               # the call, as a reader would write it
    call: Callable
    names: str              # a regex: the message must name the parameter

    def __str__(self):
        return self.what


def case(what, call, names):
    return pytest.param(Case(what, call, names), id=what)


# ---- things the cases need ---------------------------------------------------------------

def sim():
    return Simulation(forwarding_system(2), seed=1)


def trace():
    return sim().run()


def ran(until):
    return sim().run(until=until)


class NoSuper(Node):
    """A node whose __init__ forgets super().__init__(id)."""

    def __init__(self, name):
        self.name = name


def timer_at(delay):
    """A node that sets a timer ``delay`` from now when it starts."""
    from dataclasses import dataclass as dc

    @dc(frozen=True)
    class Wake:
        pass

    class Sleeper(Node):
        def on_start(self):
            self.set_timer(Wake(), delay)

        def on_wake(self, timer):
            pass

    return Simulation([Sleeper("s")]).run()


OP = Operation("c1", ("write", 1), 0.0, 1.0, "ok")
HISTORY = [OP, Operation("c2", ("read",), 2.0, 3.0, 1)]
LINE = '{:type :invoke, :f :write, :value 1, :process 0, :time 1}'


# ---- the table ---------------------------------------------------------------------------

BUILDERS = [
    # replication
    case("replication_system(backups=10**9)", lambda: replication_system(backups=10**9), "backups"),
    case("replication_system(backups=0)", lambda: replication_system(backups=0), "backups"),
    case("replication_system(backups='2')", lambda: replication_system(backups="2"), "backups"),
    case("replication_system(backups=2.5)", lambda: replication_system(backups=2.5), "backups"),
    case("replication_system(mode='Sync')", lambda: replication_system(mode="Sync"), "mode"),
    case("replication_system(mode='semi-sync', k=5)",
         lambda: replication_system(mode="semi-sync", k=5), "k"),
    case("replication_system(failover='raft')", lambda: replication_system(failover="raft"),
         "failover"),
    case("replication_system(clients=10**9)", lambda: replication_system(clients=10**9), "clients"),
    case("replication_system(writes=10**9)", lambda: replication_system(writes=10**9), "writes"),
    case("replication_system(writes=-1)", lambda: replication_system(writes=-1), "writes"),
    case("replication_system(reads=10**9)", lambda: replication_system(reads=10**9), "reads"),
    case("replication_system(read_from='b1')", lambda: replication_system(read_from="b1"),
         "read_from"),
    case("replication_system(heartbeat=inf)", lambda: replication_system(heartbeat=INF),
         "heartbeat"),
    case("replication_system(heartbeat=nan)", lambda: replication_system(heartbeat=NAN),
         "heartbeat"),
    case("replication_system(timeout=inf)", lambda: replication_system(timeout=INF), "timeout"),
    case("replication_system(client_timeout=inf)",
         lambda: replication_system(client_timeout=INF), "client_timeout"),
    case("replication_system(think=nan)", lambda: replication_system(think=NAN), "think"),
    case("replication_system(think=inf)", lambda: replication_system(think=INF), "think"),
    case("replication_system(think='0.5')", lambda: replication_system(think="0.5"), "think"),
    case("replication_system(max_epoch=0)", lambda: replication_system(max_epoch=0), "max_epoch"),
    case("replication_system(replica=int)", lambda: replication_system(replica=int), "replica"),
    # two- and three-phase commit
    case("twopc_system(participants=10**8)", lambda: twopc_system(participants=10**8),
         "participants"),
    case("twopc_system(participants=0)", lambda: twopc_system(participants=0), "participants"),
    case("twopc_system(participants='3')", lambda: twopc_system(participants="3"), "participants"),
    case("twopc_system(votes='yes')", lambda: twopc_system(votes="yes"), "vote"),
    case("twopc_system(votes=['yes'])", lambda: twopc_system(votes=["yes"]), "vote"),
    case("twopc_system(votes=['y', 'n'])", lambda: twopc_system(votes=["y", "n"]), "vote"),
    case("twopc_system(votes=[True, False])", lambda: twopc_system(votes=[True, False]), "vote"),
    case("twopc_system(votes={'p9': 'yes'})", lambda: twopc_system(votes={"p9": "yes"}), "vote"),
    case("twopc_system(transactions=10**9)", lambda: twopc_system(transactions=10**9),
         "transactions"),
    case("twopc_system(timeout=inf)", lambda: twopc_system(timeout=INF), "timeout"),
    case("twopc_system(think=nan)", lambda: twopc_system(think=NAN), "think"),
    case("twopc_system(termination='yes')", lambda: twopc_system(termination="yes"), "termination"),
    case("twopc_system(coordinator=object)", lambda: twopc_system(coordinator=object),
         "coordinator"),
    case("threepc_system(participants=10**8)", lambda: threepc_system(participants=10**8),
         "participants"),
    case("threepc_system(transactions=10**9)", lambda: threepc_system(transactions=10**9),
         "transactions"),
    case("threepc_system(timeout=nan)", lambda: threepc_system(timeout=NAN), "timeout"),
    case("threepc_system(votes='no')", lambda: threepc_system(votes="no"), "vote"),
    # Paxos
    case("paxos_system(acceptors=10**9)", lambda: paxos_system(acceptors=10**9), "acceptors"),
    case("paxos_system(acceptors=0)", lambda: paxos_system(acceptors=0), "acceptors"),
    case("paxos_system(proposers=10**6)", lambda: paxos_system(proposers=10**6), "proposers"),
    case("paxos_system(learners=10**7)", lambda: paxos_system(learners=10**7), "learners"),
    case("paxos_system(learners=-1)", lambda: paxos_system(learners=-1), "learners"),
    case("paxos_system(values='ab')", lambda: paxos_system(values="ab"), "values"),
    case("paxos_system(values=['x'])", lambda: paxos_system(values=["x"]), "values"),
    case("paxos_system(max_ballots=0)", lambda: paxos_system(max_ballots=0), "max_ballots"),
    case("paxos_system(max_ballots=2.5)", lambda: paxos_system(max_ballots=2.5), "max_ballots"),
    case("paxos_system(ballots='mod_n')", lambda: paxos_system(ballots="mod_n"), "ballot"),
    case("paxos_system(q1=4)", lambda: paxos_system(q1=4), "q1"),
    case("paxos_system(timeout=inf)", lambda: paxos_system(timeout=INF), "timeout"),
    case("paxos_system(backoff='random ')", lambda: paxos_system(backoff="random "), "backoff"),
    case("paxos_system(backoff_cap=nan)", lambda: paxos_system(backoff_cap=NAN), "backoff_cap"),
    case("paxos_system(leader='p3')", lambda: paxos_system(leader="p3"), "leader"),
    case("paxos_system(start_after='ab')", lambda: paxos_system(start_after="ab"), "start_after"),
    case("paxos_system(start_after=[inf, None])", lambda: paxos_system(start_after=[INF, None]),
         "start_after"),
    case("paxos_system(acceptor='Acceptor')", lambda: paxos_system(acceptor="Acceptor"),
         "acceptor"),
    case("check_paxos(ballots=0)", lambda: check_paxos(ballots=0, progress=False), "ballots"),
    case("check_paxos(crashes='1')", lambda: check_paxos(crashes="1", progress=False), "crashes"),
    case("check_paxos(acceptors=10**6)", lambda: check_paxos(acceptors=10**6, progress=False),
         "acceptors"),
    # Multi-Paxos, Raft, forwarding
    case("multipaxos_system(replicas=10**9)", lambda: multipaxos_system(replicas=10**9),
         "replicas"),
    case("multipaxos_system(clients=10**9)", lambda: multipaxos_system(clients=10**9), "clients"),
    case("multipaxos_system(ops=10**9)", lambda: multipaxos_system(ops=10**9), "ops"),
    case("multipaxos_system(ops='abc')", lambda: multipaxos_system(ops="abc"), "ops"),
    case("multipaxos_system(heartbeat=inf)", lambda: multipaxos_system(heartbeat=INF), "heartbeat"),
    case("multipaxos_system(phase1_every_command='no')",
         lambda: multipaxos_system(phase1_every_command="no"), "phase1_every_command"),
    case("multipaxos_system(leaders='r1')", lambda: multipaxos_system(leaders="r1"), "leaders"),
    case("multipaxos_system(leaders=['r1', 'r1'])", lambda: multipaxos_system(leaders=["r1", "r1"]),
         "leaders"),
    case("raft_system(servers=10)", lambda: raft_system(servers=10), "servers"),
    case("raft_system(election_timeout=inf)", lambda: raft_system(election_timeout=INF),
         "election_timeout"),
    case("raft_system(noop='yes')", lambda: raft_system(noop="yes"), "noop"),
    case("raft_system(candidates='s1')", lambda: raft_system(candidates="s1"), "candidates"),
    case("raft_system(candidates=['s1', 's1'])", lambda: raft_system(candidates=["s1", "s1"]),
         "candidates"),
    case("raft_system(max_term=0)", lambda: raft_system(max_term=0), "max_term"),
    case("check_raft('Figure 8')", lambda: check_raft("Figure 8", progress=False), "scenario"),
    case("forwarding_system(writes=10**9)", lambda: forwarding_system(writes=10**9), "writes"),
    case("forwarding_system(clients=0)", lambda: forwarding_system(clients=0), "clients"),
    case("forwarding_system(think=inf)", lambda: forwarding_system(think=INF), "think"),
    case("forwarding_system(think=nan)", lambda: forwarding_system(think=NAN), "think"),
    case("forwarding_system(timeout=0)", lambda: forwarding_system(timeout=0), "timeout"),
    case("forwarding_system(wait_for_replica='no')",
         lambda: forwarding_system(wait_for_replica="no"), "wait_for_replica"),
]

QUORUMS = [
    case("majority(0)", lambda: majority(0), r"\bn\b"),
    case("majority('3')", lambda: majority("3"), r"\bn\b"),
    case("check_sizes(3, 4)", lambda: check_sizes(3, 4), "q1"),
    case("always_intersect(3, 0, 2)", lambda: always_intersect(3, 0, 2), "q1"),
    case("quorums(['a', 'a', 'b'], 2)", lambda: quorums(["a", "a", "b"], 2), "nodes"),
    case("quorums('abc', 2)", lambda: quorums("abc", 2), "nodes"),
    case("quorums(['n1', 'n2'], 1, failed='n1')", lambda: quorums(["n1", "n2"], 1, failed="n1"),
         "failed"),
    case("quorums(['a', 'b'], 1, failed=['a', 'a'])",
         lambda: quorums(["a", "b"], 1, failed=["a", "a"]), "failed"),
    case("quorums(['a', 'b'], 3)", lambda: quorums(["a", "b"], 3), "size"),
    case("quorums([], 1)", lambda: quorums([], 1), "nodes"),
    case("quorums(['a', 'b'], 1, failed=['c'])", lambda: quorums(["a", "b"], 1, failed=["c"]),
         "failed"),
    case("quorums([f'n{i}' for i in range(200)], 100)",
         lambda: quorums([f"n{i}" for i in range(200)], 100), "nodes|size|quorums"),
    case("quorums(5, 2)", lambda: quorums(5, 2), "nodes"),
    case("disjoint_pair(['a', 'a'], 1, 1)", lambda: disjoint_pair(["a", "a"], 1, 1), "nodes"),
    case("disjoint_pair('abc', 1, 1)", lambda: disjoint_pair("abc", 1, 1), "nodes"),
]

FAULTS = [
    case("crash('a1', at=inf)", lambda: crash("a1", at=INF), "at"),
    case("crash('a1', at=nan)", lambda: crash("a1", at=NAN), "at"),
    case("crash('a1', at=-1)", lambda: crash("a1", at=-1), "at"),
    case("crash('a1', at='5')", lambda: crash("a1", at="5"), "at"),
    case("crash(['a1'])", lambda: crash(["a1"]), "node"),
    case("crash('a1', when=5)", lambda: crash("a1", when=5), "when"),
    case("crash('a1', at=1, when=...)", lambda: crash("a1", at=1, when=lambda s: True), "when"),
    case("restart('', at=1)", lambda: restart("", at=1), "node"),
    case("restart(None)", lambda: restart(None), "node"),
    case("partition()", lambda: partition(), "group"),
    case("partition(['a'], [], at=1)", lambda: partition(["a"], [], at=1), "group"),
    case("partition(['a', 1], at=1)", lambda: partition(["a", 1], at=1), "group|node"),
    case("partition(['a', 'b'], at=inf)", lambda: partition(["a", "b"], at=INF), "at"),
    case("partition(5, at=1)", lambda: partition(5, at=1), "group"),
    case("cut('a', 5)", lambda: cut("a", 5), "node|dst"),
    case("heal(at=inf)", lambda: heal(at=INF), "at"),
    case("heal(at=True)", lambda: heal(at=True), "at"),
    case("drop(count=True)", lambda: drop(count=True), "count"),
    case("drop(count=0)", lambda: drop(count=0), "count"),
    case("drop(count=2.0)", lambda: drop(count=2.0), "count"),
    case("drop(msg_type=5)", lambda: drop(msg_type=5), "msg_type"),
    case("drop('Prepare', src=5)", lambda: drop("Prepare", src=5), "src"),
    case("drop('Prepare', at=inf)", lambda: drop("Prepare", at=INF), "at"),
    case("drop('')", lambda: drop(""), "msg_type"),
    case("Simulation(paxos, faults=[drop('Prepar', at=0)])",
         lambda: Simulation(paxos_system(), faults=[drop("Prepar", at=0)]), "Prepar"),
    case("Simulation(paxos, faults=[drop('RetryTimeout', at=0)])",
         lambda: Simulation(paxos_system(), faults=[drop("RetryTimeout", at=0)]), "RetryTimeout"),
    case("sim.apply(drop('prepare'))",
         lambda: Simulation(paxos_system()).apply(drop("prepare")), "prepare"),
    case("Simulation(nodes, faults=[partition(['a1'], ['a1'], at=1)])",
         lambda: Simulation(paxos_system(), faults=[partition(["a1"], ["a1"], at=1)]), "group"),
    case("Simulation(nodes, faults=[crash('zz', at=1)])",
         lambda: Simulation(paxos_system(), faults=[crash("zz", at=1)]), "unknown node"),
    case("Simulation(nodes, faults=[cut('a1', 'a1', at=1)])",
         lambda: Simulation(paxos_system(), faults=[cut("a1", "a1", at=1)]), "cut"),
]

NETWORK = [
    case("Network(fifo='no')", lambda: Network(fifo="no"), "fifo"),
    case("Network(fifo=1)", lambda: Network(fifo=1), "fifo"),
    case("Network(loss=1.5)", lambda: Network(loss=1.5), "loss"),
    case("Network(loss=nan)", lambda: Network(loss=NAN), "loss"),
    case("Network(loss='0.1')", lambda: Network(loss="0.1"), "loss"),
    case("Network(duplicate=-0.1)", lambda: Network(duplicate=-0.1), "duplicate"),
    case("Network(latency=5)", lambda: Network(latency=5), "latency"),
    case("Network(latency='uniform')", lambda: Network(latency="uniform"), "latency"),
    case("Network(latency=Constant)", lambda: Network(latency=Constant), "latency"),
    case("Network(links=[('a', 'b')])", lambda: Network(links=[("a", "b")]), "links"),
    case("Network(links={('a', 'b'): 3})", lambda: Network(links={("a", "b"): 3}), "latency|links"),
    case("Network(links={'ab': Constant(1)})", lambda: Network(links={"ab": Constant(1)}), "links"),
    case("Constant(inf)", lambda: Constant(INF), "delay"),
    case("Constant(nan)", lambda: Constant(NAN), "delay"),
    case("Constant(-1)", lambda: Constant(-1), "delay"),
    case("Constant('1')", lambda: Constant("1"), "delay"),
    case("Uniform(0, inf)", lambda: Uniform(0, INF), "high"),
    case("Uniform(2, 1)", lambda: Uniform(2, 1), "high"),
    case("Uniform(nan, 1)", lambda: Uniform(NAN, 1), "low"),
    case("LongTail(inf, 1)", lambda: LongTail(INF, 1), "median"),
    case("LongTail(1, inf)", lambda: LongTail(1, INF), "spread"),
    case("LongTail(1, -1)", lambda: LongTail(1, -1), "spread"),
    case("Simulation(nodes, network=Network(links={('x', 'y'): ...}))",
         lambda: Simulation(forwarding_system(), network=Network(links={("x", "y"): Constant(1)})),
         "links"),
    case("sim.network.set_latency('server', 'zz', Constant(1))",
         lambda: sim().network.set_latency("server", "zz", Constant(1)), "set_latency"),
    case("sim.network.loss = 2", lambda: setattr(sim().network, "loss", 2), "loss"),
]

SIMULATION = [
    case("Simulation([])", lambda: Simulation([]), "node"),
    case("Simulation('abc')", lambda: Simulation("abc"), "node"),
    case("Simulation(paxos_system)", lambda: Simulation(paxos_system), "node"),
    case("Simulation([NoSuper('x')])", lambda: Simulation([NoSuper("x")]), "super"),
    case("Simulation(nodes, seed='1')", lambda: Simulation(forwarding_system(), seed="1"), "seed"),
    case("Simulation(nodes, seed=1.5)", lambda: Simulation(forwarding_system(), seed=1.5), "seed"),
    case("Simulation(nodes, network='fast')",
         lambda: Simulation(forwarding_system(), network="fast"), "network"),
    case("Simulation(nodes, faults=[5])", lambda: Simulation(forwarding_system(), faults=[5]),
         "fault"),
    case("Simulation(nodes, faults='crash')",
         lambda: Simulation(forwarding_system(), faults="crash"), "fault"),
    case("Simulation(nodes, faults=crash('zz', at=1))",
         lambda: Simulation(forwarding_system(), faults=crash("zz", at=1)), "unknown node"),
    case("Simulation(nodes, controls='dup')",
         lambda: Simulation(forwarding_system(), controls="dup"), "controls"),
    case("Simulation(nodes, record_states='no')",
         lambda: Simulation(forwarding_system(), record_states="no"), "record_states"),
    case("sim.run(until=nan)", lambda: ran(NAN), "until"),
    case("sim.run(until=inf)", lambda: ran(INF), "until"),
    case("sim.run(until=-1)", lambda: ran(-1), "until"),
    case("sim.run(until='10')", lambda: ran("10"), "until"),
    case("sim.run(max_events=0)", lambda: sim().run(max_events=0), "max_events"),
    case("sim.run(max_events=2.5)", lambda: sim().run(max_events=2.5), "max_events"),
    case("sim.rewind(-1)", lambda: sim().rewind(-1), "rewind"),
    case("sim.node('zz')", lambda: sim().node("zz"), "node"),
    case("sim.apply('crash')", lambda: sim().apply("crash"), "apply"),
    case("sim.crash('zz')", lambda: sim().crash("zz"), "unknown node"),
    case("sim.partition('server', 'server')", lambda: sim().partition("server", "server"),
         "group"),
    case("sim.step() in controlled mode",
         lambda: Simulation(forwarding_system(), controls=Controls()).step(), "controlled"),
    case("sim.perform('deliver')",
         lambda: Simulation(forwarding_system(), controls=Controls()).perform("deliver"),
         "enabled"),
    case("a timer set to inf", lambda: timer_at(INF), "delay"),
    case("a timer set to nan", lambda: timer_at(NAN), "delay"),
    case("a timer set to '1'", lambda: timer_at("1"), "delay"),
    case("trace.states_at(10**6)", lambda: trace().states_at(10**6), "step"),
    case("trace.states_at(-2)", lambda: trace().states_at(-2), "step"),
    case("trace.states_at('1')", lambda: trace().states_at("1"), "step"),
    case("trace.step_events(10**6)", lambda: trace().step_events(10**6), "step"),
    case("trace.to_text(limit=-1)", lambda: trace().to_text(limit=-1), "limit"),
    case("Node('')", lambda: Node(""), "id"),
    case("Node(5)", lambda: Node(5), "id"),
]

CHECKER = [
    case("Controls(drop='yes')", lambda: Controls(drop="yes"), "drop"),
    case("Controls(duplicate=1)", lambda: Controls(duplicate=1), "duplicate"),
    case("Controls(restart='no')", lambda: Controls(restart="no"), "restart"),
    case("Controls(max_crashes=-1)", lambda: Controls(max_crashes=-1), "max_crashes"),
    case("Controls(max_crashes=1.5)", lambda: Controls(max_crashes=1.5), "max_crashes"),
    case("Controls(max_crashes=True)", lambda: Controls(max_crashes=True), "max_crashes"),
    case("Controls(crashable='a1')", lambda: Controls(crashable="a1"), "crashable"),
    case("Controls(crashable=['a1', 'a1'])", lambda: Controls(crashable=["a1", "a1"]),
         "crashable"),
    case("Controls(crashable=5)", lambda: Controls(crashable=5), "crashable"),
    case("Controls(timers='sync')", lambda: Controls(timers="sync"), "timers"),
    case("Controls(timers=1)", lambda: Controls(timers=1), "timers"),
    case("check(nodes, controls='x')", lambda: check(forwarding_system(1), "x", progress=False),
         "controls"),
    case("check(nodes, Controls(crashable=['zz']))",
         lambda: check(forwarding_system(1), Controls(crashable=["zz"]), progress=False),
         "crashable"),
    case("check(nodes, invariants=[f])",
         lambda: check(forwarding_system(1), invariants=[lambda s: True], progress=False),
         "invariants"),
    case("check(nodes, max_states=0)",
         lambda: check(forwarding_system(1), max_states=0, progress=False), "max_states"),
]

HISTORIES = [
    case("linearizable('abc')", lambda: linearizable("abc"), "history"),
    case("linearizable([1, 2, 3])", lambda: linearizable([1, 2, 3]), "history"),
    case("linearizable([... invoke='a' ...])",
         lambda: linearizable([("c", ("write", 1), "a", 1, "ok")]), "invoke"),
    case("linearizable([... invoke=nan ...])",
         lambda: linearizable([("c", ("write", 1), NAN, 1, "ok")]), "invoke"),
    case("linearizable([... response < invoke ...])",
         lambda: linearizable([("c", ("write", 1), 2, 1, "ok")]), "response"),
    case("linearizable([... ('put', 1) ...])",
         lambda: linearizable([("c", ("put", 1), 0, 1, "ok")]), "operation"),
    case("linearizable(h, memoise='no')", lambda: linearizable(HISTORY, memoise="no"), "memoise"),
    case("linearizable_kv(h, initial=[1])", lambda: linearizable_kv(HISTORY, initial=[1]),
         "initial"),
    case("lost_writes(h, 'log')", lambda: lost_writes(HISTORY, "log"), "log"),
    case("lost_writes(h, {'b': 'abc'})", lambda: lost_writes(HISTORY, {"b": "abc"}), "log"),
    case("lost_writes('abc', {})", lambda: lost_writes("abc", {}), "history"),
    case("diverged('abc')", lambda: diverged("abc"), "log"),
    case("diverged({'a': 5})", lambda: diverged({"a": 5}), "log"),
    case("is_prefix(1, 2)", lambda: is_prefix(1, 2), "log|prefix"),
    case("random_history(ops=10**9)", lambda: random_history(ops=10**9), "ops"),
    case("random_history(ops=-1)", lambda: random_history(ops=-1), "ops"),
    case("random_history(clients=0)", lambda: random_history(clients=0), "clients"),
    case("random_history(clients=10**9)", lambda: random_history(clients=10**9), "clients"),
    case("random_history(read_fraction=2)", lambda: random_history(read_fraction=2),
         "read_fraction"),
    case("random_history(read_fraction='a')", lambda: random_history(read_fraction="a"),
         "read_fraction"),
    case("random_history(unanswered=nan)", lambda: random_history(unanswered=NAN), "unanswered"),
    case("random_history(duration=inf)", lambda: random_history(duration=INF), "duration"),
    case("random_history(duration=nan)", lambda: random_history(duration=NAN), "duration"),
    case("random_history(think=-1)", lambda: random_history(think=-1), "think"),
    case("random_history(values=0)", lambda: random_history(values=0), "values"),
    case("random_history(keys=2.5)", lambda: random_history(keys=2.5), "keys"),
    case("random_history(seed=[1])", lambda: random_history(seed=[1]), "seed"),
    case("with_stale_read('abc')", lambda: with_stale_read("abc"), "history"),
    case("parse_jepsen(5)", lambda: parse_jepsen(5), "text|str"),
    case("parse_jepsen('garbage')", lambda: parse_jepsen("garbage"), "line"),
    case("parse_jepsen(text, times='wall')", lambda: parse_jepsen(LINE, times="wall"), "times"),
    case("parse_jepsen(text, kv='yes')", lambda: parse_jepsen(LINE, kv="yes"), "kv"),
    case("to_jepsen('abc')", lambda: to_jepsen("abc"), "history"),
    case("save_jepsen(h, 5)", lambda: save_jepsen(HISTORY, 5), "path"),
    case("read_edn('{:a')", lambda: read_edn("{:a"), "EDN|edn"),
    case("read_edn(5)", lambda: read_edn(5), "text|str"),
    case("write_edn(object())", lambda: write_edn(object()), "EDN|edn"),
]

EXPERIMENTS = [
    case("commit_with_crash(point='before')", lambda: atomic_commit.commit_with_crash("before"),
         "point"),
    case("commit_with_crash(participants=0)",
         lambda: atomic_commit.commit_with_crash(participants=0), "participants"),
    case("commit_with_crash(recover_at=inf)",
         lambda: atomic_commit.commit_with_crash(recover_at=INF), "recover_at"),
    case("commit_with_crash(until=nan)", lambda: atomic_commit.commit_with_crash(until=NAN),
         "until"),
    case("commit_with_crash(seed='x')", lambda: atomic_commit.commit_with_crash(seed="x"), "seed"),
    case("commit_with_crash(latency=5)", lambda: atomic_commit.commit_with_crash(latency=5),
         "latency"),
    case("crash_point_table(until=inf)", lambda: atomic_commit.crash_point_table(until=INF),
         "until"),
    case("doubt_durations('trace')", lambda: atomic_commit.doubt_durations("trace"), "trace"),
    case("transaction_latencies(transactions=10**9)",
         lambda: atomic_commit.transaction_latencies(transactions=10**9), "transactions"),
    case("transaction_latencies(protocol='4pc')",
         lambda: atomic_commit.transaction_latencies(protocol="4pc"), "protocol"),
    case("messages_per_transaction(protocol='x')",
         lambda: atomic_commit.messages_per_transaction(protocol="x"), "protocol"),
    case("messages_per_transaction(transactions=10**9)",
         lambda: atomic_commit.messages_per_transaction(transactions=10**9), "transactions"),
    case("write_latencies(writes=10**9)", lambda: sync_async.write_latencies(writes=10**9),
         "writes"),
    case("write_latencies(mode='x')", lambda: sync_async.write_latencies(mode="x"), "mode"),
    case("messages_per_write(writes=-1)", lambda: sync_async.messages_per_write(writes=-1),
         "writes"),
    case("service_with_backup_down(crash_at=inf)",
         lambda: sync_async.service_with_backup_down(crash_at=INF), "crash_at"),
    case("service_with_backup_down(until=nan)",
         lambda: sync_async.service_with_backup_down(until=NAN), "until"),
    case("lost_in_batches(ship_every=nan)",
         lambda: sync_async.lost_in_batches(ship_every=NAN), "ship_every"),
    case("lost_in_batches(writes=10**9)",
         lambda: sync_async.lost_in_batches(writes=10**9), "writes"),
    case("split_brain(failover='x')", lambda: primary_backup.split_brain(failover="x"),
         "failover"),
    case("crash_or_partition(observer='zz')",
         lambda: partitions.crash_or_partition(observer="zz"), "observer|unknown node"),
    case("crash_or_partition(at=inf)", lambda: partitions.crash_or_partition(at=INF), "at"),
    case("crash_or_partition(until=inf)", lambda: partitions.crash_or_partition(until=INF),
         "until"),
    case("two_sides(rule='x')", lambda: partitions.two_sides(rule="x"), "rule"),
    case("two_sides(until=inf)", lambda: partitions.two_sides(until=INF), "until"),
    case("two_sides(heal_at=nan)", lambda: partitions.two_sides(heal_at=NAN), "heal_at"),
    case("two_sides(writes=10**9)", lambda: partitions.two_sides(writes=10**9), "writes"),
    case("staggered('abc')", lambda: partitions.staggered("abc"), "nodes"),
    case("staggered(nodes, base=inf)",
         lambda: partitions.staggered(replication_system(), base=INF), "base"),
    case("quorum_report(5, q1=9)", lambda: partitions.quorum_report(5, q1=9), "q1"),
    case("quorum_report(5, failed=['n9'])", lambda: partitions.quorum_report(5, failed=["n9"]),
         "failed"),
    case("quorum_report(['a', 'a'])", lambda: partitions.quorum_report(["a", "a"]), "nodes|dupl"),
    case("side_table(1)", lambda: partitions.side_table(1), r"\bn\b"),
    case("no_majority_left(5, 'n9')", lambda: partitions.no_majority_left(5, "n9"), "failed"),
    case("compare.run('nope')", lambda: compare.run("nope"), "approach"),
    case("compare.run('async', ops=10**9)", lambda: compare.run("async", ops=10**9), "ops"),
    case("compare.run('async', replicas=10**6)", lambda: compare.run("async", replicas=10**6),
         "replicas"),
    case("compare.compare(replicas=10**6)", lambda: compare.compare(replicas=10**6), "replicas"),
    case("compare.compare(approaches='async')", lambda: compare.compare(approaches="async"),
         "approaches"),
    case("compare.run('async', think=inf)", lambda: compare.run("async", think=INF), "think"),
    case("dueling_run(timeout=inf)", lambda: livelock.dueling_run(timeout=INF), "timeout"),
    case("dueling_run(seed='x')", lambda: livelock.dueling_run(seed="x"), "seed"),
    case("run_to_decision(timeout=0)", lambda: livelock.run_to_decision(timeout=0), "timeout"),
    case("run_to_decision(acceptors=10**9)", lambda: livelock.run_to_decision(acceptors=10**9),
         "acceptors"),
    case("decision_stats(seeds=0)", lambda: livelock.decision_stats(seeds=0), "seeds"),
    case("decision_stats(seeds=10**9)", lambda: livelock.decision_stats(seeds=10**9), "seeds"),
    case("decision_stats(seeds='a')", lambda: livelock.decision_stats(seeds="a"), "seeds"),
    case("compare_policies(policies=['none'])",
         lambda: livelock.compare_policies(policies=["none"]), "policies"),
    case("livelock_search(0)", lambda: livelock.livelock_search(0), "ballots"),
    case("livelock_search(4, max_states=0)", lambda: livelock.livelock_search(4, max_states=0),
         "max_states"),
    case("replay_schedule(5)", lambda: livelock.replay_schedule(5), "steps"),
    case("livelock_verdict([], ballots=0) (no raise: a verdict)",
         lambda: _raise_if_ok(livelock.livelock_verdict([], ballots=0)), "ballots"),
    case("simulate_duel(ballots='x')", lambda: proposal_numbers.simulate_duel(ballots="x"),
         "ballot"),
    case("simulate_duel(proposers=10**6)",
         lambda: proposal_numbers.simulate_duel(proposers=10**6), "proposers"),
    case("simulate_duel(down=['a1', 'a1'])",
         lambda: proposal_numbers.simulate_duel(down=["a1", "a1"]), "down"),
    case("simulate_duel(until=inf)", lambda: proposal_numbers.simulate_duel(until=INF), "until"),
    case("duel_numbers('naive', attempts=10**9)",
         lambda: proposal_numbers.duel_numbers("naive", attempts=10**9), "attempts"),
    case("duel_numbers('naive', ids=(0, 0))",
         lambda: proposal_numbers.duel_numbers("naive", ids=(0, 0)), "ids"),
    case("usable_numbers(3, 0, 10**12)", lambda: proposal_numbers.usable_numbers(3, 0, 10**12),
         "upto"),
    case("usable_numbers(0, 0, 10)", lambda: proposal_numbers.usable_numbers(0, 0, 10), r"\bn\b"),
    case("shared_numbers({...}, upto=10**12)",
         lambda: proposal_numbers.shared_numbers({0: 3, 1: 3}, upto=10**12), "upto"),
    case("round_id_shared([0, 1], rounds=10**9)",
         lambda: proposal_numbers.round_id_shared([0, 1], rounds=10**9), "rounds"),
    case("same_next({...}, seen_values=range(10**9))",
         lambda: proposal_numbers.same_next({0: 3, 1: 3}, seen_values=range(10**9)),
         "seen_values"),
    case("duel_chart('x')", lambda: proposal_numbers.duel_chart("x"), "duel"),
    case("growth_chart({'a': 'naive'}, attempts=10**9)",
         lambda: proposal_numbers.growth_chart({"a": "naive"}, attempts=10**9), "attempts"),
    case("schedule_of(5)", lambda: livelock.schedule_of(5), "path"),
    case("duel_diagram('x')", lambda: livelock.duel_diagram("x"), "trace"),
    case("decision_histograms('x')", lambda: livelock.decision_histograms("x"), "stats"),
    case("outcome_text('x')", lambda: atomic_commit.outcome_text("x"), "outcomes"),
    case("lost_messages('x', 'a')", lambda: partitions.lost_messages("x", "a"), "trace"),
    case("majority_system('x')", lambda: partitions.majority_system("x"), "sides"),
    case("collision_system(acceptors=10**9)",
         lambda: proposal_numbers.collision_system(acceptors=10**9), "acceptors"),
]

WIDGETS = [
    case("BackoffExplorer(seeds=10**6)", lambda: BackoffExplorer(seeds=10**6), "seeds"),
    case("BackoffExplorer(timeout='x')", lambda: BackoffExplorer(timeout="x"), "timeout"),
    case("BackoffExplorer(limit=inf)", lambda: BackoffExplorer(limit=INF), "limit"),
    case("ReplicationExplorer(backups=10**6)", lambda: ReplicationExplorer(backups=10**6),
         "backups"),
    case("ReplicationExplorer(writes=10**9)", lambda: ReplicationExplorer(writes=10**9), "writes"),
    case("ReplicationExplorer(mode='fast')", lambda: ReplicationExplorer(mode="fast"), "mode"),
    case("QuorumExplorer(n=100)", lambda: QuorumExplorer(n=100), r"\bn\b"),
    case("QuorumExplorer(failed=['n9'])", lambda: QuorumExplorer(failed=["n9"]), "failed"),
    case("QuorumExplorer(limit=0)", lambda: QuorumExplorer(limit=0), "limit"),
    case("FaultPanel(5)", lambda: FaultPanel(5), "build"),
    case("FaultPanel(build, until=inf)",
         lambda: FaultPanel(lambda: forwarding_system(2), until=INF), "until"),
    case("FaultPanel(build, faults=crash('zz', at=1))",
         lambda: FaultPanel(lambda: forwarding_system(2), faults=[crash("zz", at=1)]),
         "unknown node"),
    case("FaultPanel(build, loss=2)", lambda: FaultPanel(lambda: forwarding_system(2), loss=2),
         "loss"),
    case("TracePlayer('trace')", lambda: TracePlayer("trace"), "trace"),
    case("TracePlayer(trace, step=10**6)", lambda: TracePlayer(trace(), step=10**6), "step"),
    case("DuelExplorer(scheme='x')", lambda: DuelExplorer(scheme="x"), "scheme"),
    case("DuelExplorer(until=inf)", lambda: DuelExplorer(until=INF), "until"),
    case("DuelExplorer(a3_down='yes')", lambda: DuelExplorer(a3_down="yes"), "a3_down"),
    case("CommitExplorer(participants=10**6)", lambda: CommitExplorer(participants=10**6),
         "participants"),
    case("CommitExplorer(recover_at=inf)", lambda: CommitExplorer(recover_at=INF), "recover_at"),
    case("CommitExplorer(protocol='4pc')", lambda: CommitExplorer(protocol="4pc"), "protocol"),
    case("CommitExplorer(cut_off='p2')", lambda: CommitExplorer(cut_off="p2"), "cut_off"),
    case("CommitExplorer(cut_off=('p2', nan, 20))",
         lambda: CommitExplorer(cut_off=("p2", NAN, 20)), "partition"),
    case("ComparisonExplorer(replicas=100)", lambda: ComparisonExplorer(replicas=100), "replicas"),
    case("ComparisonExplorer(ops=10**9)", lambda: ComparisonExplorer(ops=10**9), "ops"),
    case("YouAreTheNetwork(acceptors=10**6)", lambda: YouAreTheNetwork(acceptors=10**6),
         "acceptors"),
    case("YouAreTheNetwork(values='ab')", lambda: YouAreTheNetwork(values="ab"), "values"),
    case("LongRun('x', 5)", lambda: LongRun("x", 5), "fn|function"),
    case("PracticeExplorer(scenario='x')", lambda: PracticeExplorer(scenario="x"), "scenario"),
    case("PracticeExplorer(lease=-1)", lambda: PracticeExplorer(lease=-1), "lease"),
    case("PracticeExplorer(r1_clock_rate=0)", lambda: PracticeExplorer(r1_clock_rate=0),
         "r1_clock_rate"),
    case("PracticeExplorer(read_at=inf)", lambda: PracticeExplorer(read_at=INF), "read_at"),
    case("PracticeExplorer(alpha=10)", lambda: PracticeExplorer(alpha=10), "alpha"),
]


def _raise_if_ok(verdict):
    ok, why = verdict
    if ok:
        return verdict
    raise ValueError(why)


ALL = BUILDERS + QUORUMS + FAULTS + NETWORK + SIMULATION + CHECKER + HISTORIES + EXPERIMENTS \
    + WIDGETS


# ---- running one case --------------------------------------------------------------------

def outcome(c: Case, seconds=SECONDS) -> tuple[str, str]:
    """(outcome, detail): "clear" (a ValueError/TypeError naming the parameter and what is
    allowed), "unclear" (one that does not), "crash" (another exception), "hang" (time or
    memory ran out) or "accepted"."""
    try:
        with time_limit(seconds):
            c.call()
    except (TimeUp, MemoryError) as exc:
        return "hang", f"{type(exc).__name__}: {exc}"
    except (ValueError, TypeError) as exc:
        text = str(exc)
        if re.search(c.names, text) and ALLOWED.search(text):
            return "clear", text
        return "unclear", f"{type(exc).__name__}: {text}"
    except Exception as exc:
        return "crash", f"{type(exc).__name__}: {exc}"
    return "accepted", ""


@pytest.mark.parametrize("c", ALL)
def test_bad_input_is_refused_at_once_saying_what_is_allowed(c):
    result, detail = outcome(c)
    assert result == "clear", f"{c}: {result}: {detail}"


def test_the_table_is_large_and_names_each_input_once():
    whats = [p.values[0].what for p in ALL]
    assert len(whats) >= 150
    assert len(set(whats)) == len(whats)


if __name__ == "__main__":
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))   # runaway builders
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3
    tally = Counter()
    for p in ALL:
        c = p.values[0]
        result, detail = outcome(c, seconds)
        tally[result] += 1
        if result != "clear":
            print(f"{result:9} {c}: {detail[:150]}")
    print(f"{sum(tally.values())} bad inputs: " + ", ".join(f"{k} {v}" for k, v in
                                                           tally.most_common()))
