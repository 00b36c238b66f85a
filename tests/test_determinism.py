"""Determinism: the same configuration and seed give the same trace, in any process.

The runs here use everything that draws dice or could depend on hashing: random loss,
duplication, Uniform and LongTail latency, a crash and restart with client retries, node
random sources, and state holding sets and dicts of strings (whose iteration order changes
with PYTHONHASHSEED from one Python process to the next).
"""

import os
import subprocess
import sys
from dataclasses import dataclass

from replib import LongTail, Network, Node, Simulation, Uniform
from replib.faults import crash, restart
from replib.protocols.forwarding import forwarding_system

SEEDS = range(200)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


@dataclass(frozen=True)
class Gossip:
    rumours: frozenset


@dataclass(frozen=True)
class Chatter:
    """Timer: gossip again after a random pause."""


class Gossiper(Node):
    """Keeps a set of rumours (strings) and a dict of who told it what; gossips at random times
    (node.rng) to the other gossipers, in a fixed order."""

    stable = ("rumours",)

    def __init__(self, id, peers):
        super().__init__(id)
        self.peers = list(peers)
        self.rumours = {f"{id}-says-{i}" for i in range(3)}
        self.told_by = {}
        self.tags = frozenset({"alpha", "beta", "gamma", id})

    def on_start(self):
        self.set_timer(Chatter(), self.rng.uniform(0.1, 2))

    def on_chatter(self, timer):
        for p in self.peers:
            self.send(p, Gossip(frozenset(self.rumours)))
        self.set_timer(Chatter(), self.rng.uniform(0.5, 3))

    def on_gossip(self, msg, sender):
        new = msg.rumours - self.rumours
        self.rumours |= new
        self.told_by.setdefault(sender, set()).update(new)


def workload(seed):
    """A sync forwarding system with retrying clients plus three gossipers, over a lossy,
    duplicating network with long-tail latency (Uniform on two links), with a server crash
    and restart and a gossiper crash and restart."""
    gossip_ids = ["g1", "g2", "g3"]
    nodes = forwarding_system(writes=3, timeout=2.5, clients=2) + [
        Gossiper(g, [p for p in gossip_ids if p != g]) for g in gossip_ids]
    net = Network(LongTail(1, 0.8), loss=0.1, duplicate=0.1,
                  links={("server", "replica"): Uniform(0.5, 2), ("g1", "g2"): Uniform(0.1, 3)})
    faults = [crash("server", at=4), restart("server", at=6), crash("g2", at=3),
              restart("g2", at=5)]
    return Simulation(nodes, network=net, faults=faults, seed=seed)


def workload_digest(seed):
    return workload(seed).run(until=25).digest()


def test_same_seed_same_digest_and_every_seed_differs():
    """Over 200 seeds, running the same configuration twice gives the same digest, and the 200
    seeds give 200 different digests."""
    first = [workload_digest(s) for s in SEEDS]
    second = [workload_digest(s) for s in SEEDS]
    assert first == second
    assert len(set(first)) == len(first)


def test_the_workload_exercises_every_source_of_randomness():
    """The runs above do lose, duplicate, crash and restart (else they would prove little)."""
    kinds, reasons = {}, set()
    for s in range(20):
        t = workload(s).run(until=25)
        for kind in ("duplicate", "crash", "restart", "deliver", "response"):
            kinds[kind] = kinds.get(kind, 0) + t.count(kind)
        reasons |= {e.detail for e in t.select("drop")}
    assert all(kinds[k] > 0 for k in kinds), kinds
    assert {"random loss", "server is down", "g2 is down"} <= reasons


def test_same_trace_object_by_object():
    """Two runs with one seed agree event by event, not only in their digest."""
    a = workload(7).run(until=25)
    b = workload(7).run(until=25)
    assert [e.key() for e in a] == [e.key() for e in b]
    assert [(e.time, e.kind, e.node, e.peer, e.msg) for e in a] == \
        [(e.time, e.kind, e.node, e.peer, e.msg) for e in b]


SCRIPT = """
import sys
sys.path[:0] = [{root!r}, {here!r}]
from test_determinism import workload_digest
print(" ".join(workload_digest(s) for s in (0, 1, 2, 3)))
"""


def test_digest_is_the_same_in_other_processes_whatever_the_hash_seed():
    """String hashing (and so set iteration order) changes with PYTHONHASHSEED; digests must
    not.  Two fresh Python processes with different hash seeds agree with this one."""
    here = " ".join(workload_digest(s) for s in (0, 1, 2, 3))
    for hash_seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run([sys.executable, "-c", SCRIPT.format(root=ROOT, here=HERE)],
                             env=env, capture_output=True, text=True, timeout=60, check=True)
        assert out.stdout.strip() == here
