"""Chapter 05's runs: a value accepted but not chosen, replaced; and how long after a
partition heals a lone proposer gets a value chosen.

    accepted_not_chosen()     a controlled run: v2 accepted by one acceptor, v1 chosen, v2
                              replaced by v1 at that acceptor
    heal_run(seed)            a majority cut off until a seeded heal time; p1 alone proposes
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..actions import Controls, Deliver, Fire
from ..faults import heal, partition
from ..network import Network, Uniform
from ..protocols.paxos import (Accept, Acceptor, Prepare, Promise, RetryTimeout,
                               _compact_value, chosen, paxos_system)
from ..sim import Simulation
from ..validate import finite_time

__all__ = ["WatchedAcceptor", "accepted_not_chosen", "heal_run", "HealRun"]


class WatchedAcceptor(Acceptor):
    """The real acceptor, with one more badge on the diagram: "accepted (n,v)" each time it
    accepts, so that accepted values show beside the "chosen" ones."""

    @classmethod
    def milestones(cls, node, before, after, system):
        out = []
        if after.get("accepted") != before.get("accepted") and after.get("accepted"):
            out.append(f"accepted {_compact_value(tuple(after['accepted']))}")
        return out + super().milestones(node, before, after, system)


def accepted_not_chosen_schedule() -> list:
    """p2 (number 1) gets promises from a2 and a3, but its Accept(1, v2) reaches a3 only;
    p1 (number 2) gets promises from a1 and a2, which accepted nothing, so it proposes its
    own v1, and a1 and a2 accept it: chosen.  Then p2 times out and tries number 3 with a1
    and a3: a1 reports (2, v1), a3 reports (1, v2); rule 2a takes the higher, so p2 itself
    proposes v1, and a3 replaces its (1, v2)."""
    return [Deliver("p2", "a2", Prepare(1)), Deliver("p2", "a3", Prepare(1)),
            Deliver("a2", "p2", Promise(1, None)), Deliver("a3", "p2", Promise(1, None)),
            Deliver("p2", "a3", Accept(1, "v2")),
            Deliver("p1", "a1", Prepare(2)), Deliver("p1", "a2", Prepare(2)),
            Deliver("a1", "p1", Promise(2, None)), Deliver("a2", "p1", Promise(2, None)),
            Deliver("p1", "a1", Accept(2, "v1")), Deliver("p1", "a2", Accept(2, "v1")),
            Fire("p2", RetryTimeout(1)),
            Deliver("p2", "a1", Prepare(3)), Deliver("p2", "a3", Prepare(3)),
            Deliver("a1", "p2", Promise(3, (2, "v1"))), Deliver("a3", "p2", Promise(3, (1, "v2"))),
            Deliver("p2", "a3", Accept(3, "v1"))]


def accepted_not_chosen() -> Simulation:
    """The schedule above, step by step, in a controlled Simulation of 3 acceptors (badged
    ``WatchedAcceptor``s) and 2 proposers.  Returns it (draw its trace)."""
    sim = Simulation(paxos_system(proposers=2, learners=0, acceptor=WatchedAcceptor),
                     controls=Controls())
    for action in accepted_not_chosen_schedule():
        sim.perform(action)
    return sim


@dataclass(frozen=True)
class HealRun:
    """One run of ``heal_run``: when the partition healed, whether a value was chosen before
    it, how long after it one was, and how many ballots p1 started after it."""

    seed: int
    heal_at: float
    chosen_before_heal: bool
    delay: float | None
    ballots_after_heal: int


def heal_run(seed: int, earliest: float = 5.0, latest: float = 30.0,
             limit: float = 200.0) -> HealRun:
    """Acceptors a1 and a2 are cut off from t = 0 until a heal time drawn from the seed
    (uniform between ``earliest`` and ``latest``); p1 is the only proposer (the leader),
    with unbounded ballots and randomized backoff (cap 8); latency uniform 0.5..1.5.  The
    run stops when a value is chosen, or at ``limit``."""
    finite_time("earliest", earliest, zero_ok=True)
    finite_time("latest", latest)
    heal_at = random.Random(seed).uniform(earliest, latest)
    sim = Simulation(paxos_system(3, 2, 1, max_ballots=None, backoff="random", backoff_cap=8.0,
                                  leader="p1"),
                     network=Network(Uniform(0.5, 1.5)),
                     faults=[partition(["a1", "a2"], at=0), heal(at=heal_at)], seed=seed,
                     record_states=False)
    sim.run(until=heal_at)
    before = bool(chosen(_Nodes(list(sim.nodes.values()))))
    tries = sim.node("p1").tries
    sim.run(until=lambda s: s.node("l1").learned is not None or s.now > limit,
            max_events=50_000)
    learned = sim.node("l1").learned is not None
    return HealRun(seed, heal_at, before, sim.now - heal_at if learned else None,
                   sim.node("p1").tries - tries)


@dataclass
class _Nodes:
    nodes: list
