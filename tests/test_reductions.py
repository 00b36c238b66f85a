"""The checker's shortcuts against the plain search: same answers on every configuration the
tests, exercises and notebooks check that is small enough to run both ways.

Two shortcuts are compared with the plain breadth-first search (``Plain``: the same model,
successors listed one by one, no sleep sets, every property asked in every state):

- sleep sets and the other fast paths of ``NodeModel.expand`` (always on): the same states
  (each one seen by the invariants), transitions, depth, verdict and the very same paths;
- covering (``check(..., reduce=True)``): the same verdict, the same shortest paths (the
  plain search reports them), and the same set of node states seen by the invariants,
  compared up to renaming of symmetric nodes.
"""

import os
import subprocess
import sys
from itertools import permutations

import pytest
from test_paxos import Clearing   # misreading (iii) of rule 1b

from replib import Controls
from replib.check import NodeModel, about_nodes, check, explore
from replib.protocols.forwarding import forwarding_system
from replib.experiments.proposal_numbers import EagerAcceptor, collision_system
from replib.protocols.misreadings import (AcceptsAnything, ForgetsItsNumber, ForgetsPromise,
                                          IgnoresPrepareValue, IgnoresReports,
                                          OverwritesOnEqualPrepare, ValueInPrepare)
from replib.experiments.lost_disk import lost_disk_scenario, stale_copy
from replib.protocols.multipaxos import (MULTIPAXOS_INVARIANTS, all_answered, multipaxos_system,
                                         slot_agreement)
from replib.protocols.paxos import (PAXOS_INVARIANTS, agreement,
                                    paxos_system, value_chosen)
from replib.protocols.replication import replication_system, one_primary_per_epoch
from replib.protocols.raft import RAFT_INVARIANTS, entry_committed, leader_elected, scenario
from replib.protocols.twopc import atomicity, twopc_system
from replib.state import canonical, thaw
from replib.symmetry import relabel

ACCEPTORS = ("a1", "a2", "a3")
TWO = dict(proposers=2, learners=0, max_ballots=1)


class Plain:
    """The same model, searched the plain way: no ``expand`` (so no sleep sets and no loop
    counting) and no ``nodes_of`` (every property asked in every state)."""

    def __init__(self, model):
        self.model = model

    def init_states(self):
        return self.model.init_states()

    def successors(self, state):
        return self.model.successors(state)

    def view(self, state):
        return self.model.view(state)

    def unfold(self, actions):
        return self.model.unfold(actions)

    def trace(self, path):
        return self.model.trace(path)


def recorder(seen, about=False):
    """An invariant that holds everywhere and records what it is shown."""
    def record(s):
        seen.add(s.nodes if about else s)
        return True
    return about_nodes(record) if about else record


# (name, nodes, controls, invariants, goals, symmetric): what the tests, exercises and
# notebooks check, on duplicating networks and off them
CONFIGS = [
    ("paxos 1x1", paxos_system(proposers=1, learners=0, max_ballots=1),
     Controls(duplicate=True), PAXOS_INVARIANTS, {"chosen": value_chosen}, None),
    ("paxos 1x2", paxos_system(proposers=1, learners=0), Controls(duplicate=True),
     PAXOS_INVARIANTS, {"chosen": value_chosen}, None),
    ("paxos 1x2 symmetric", paxos_system(proposers=1, learners=0), Controls(duplicate=True),
     PAXOS_INVARIANTS, {"chosen": value_chosen}, ACCEPTORS),
    ("paxos 2x1 symmetric", paxos_system(**TWO), Controls(duplicate=True),
     PAXOS_INVARIANTS, {"chosen": value_chosen}, ACCEPTORS),
    ("paxos 2x1 crash symmetric", paxos_system(**TWO),
     Controls(duplicate=True, max_crashes=1, crashable=ACCEPTORS),
     PAXOS_INVARIANTS, {"chosen": value_chosen}, ACCEPTORS),
    ("paxos 2 acceptors q1=1 q2=2", paxos_system(acceptors=2, q1=1, q2=2, proposers=1,
                                                 learners=0, max_ballots=1),
     Controls(duplicate=True), PAXOS_INVARIANTS, {"chosen": value_chosen}, None),
    ("value in prepare, ignored", paxos_system(proposer=ValueInPrepare,
                                               acceptor=IgnoresPrepareValue, **TWO),
     Controls(duplicate=True), PAXOS_INVARIANTS, {"chosen": value_chosen}, ACCEPTORS),
    ("overwrites on equal prepare", paxos_system(proposer=ValueInPrepare,
                                                 acceptor=OverwritesOnEqualPrepare, **TWO),
     Controls(duplicate=True), {"agreement": agreement}, {}, ACCEPTORS),
    ("ignores reports", paxos_system(proposer=IgnoresReports, **TWO), Controls(duplicate=True),
     {"agreement": agreement}, {}, None),
    ("ignores reports symmetric", paxos_system(proposer=IgnoresReports, **TWO),
     Controls(duplicate=True), {"agreement": agreement}, {}, ACCEPTORS),
    ("accepts anything", paxos_system(acceptor=AcceptsAnything, **TWO), Controls(duplicate=True),
     PAXOS_INVARIANTS, {}, ACCEPTORS),
    ("forgets promise, crash", paxos_system(acceptor=ForgetsPromise, **TWO),
     Controls(duplicate=True, max_crashes=1, crashable=ACCEPTORS), PAXOS_INVARIANTS, {},
     ACCEPTORS),
    ("clears on a repeated prepare", paxos_system(acceptor=Clearing, **TWO),
     Controls(duplicate=True, timers=False), {"agreement": agreement}, {}, None),
    ("forgets promise, no duplication", paxos_system(acceptor=ForgetsPromise, **TWO),
     Controls(max_crashes=1, crashable=("a2",), timers=False), PAXOS_INVARIANTS, {}, None),
    ("forgets its number, proposer crash", paxos_system(proposer=ForgetsItsNumber, **TWO),
     Controls(duplicate=True, max_crashes=1, crashable=("p1",), timers=False),
     {"agreement": agreement}, {}, ACCEPTORS),
    ("real proposer, proposer crash", paxos_system(**TWO),
     Controls(duplicate=True, max_crashes=1, crashable=("p1",), timers=False),
     {"agreement": agreement}, {}, ACCEPTORS),
    ("naive numbers, eager acceptors", collision_system("naive", acceptor=EagerAcceptor),
     Controls(timers=False), {"agreement": agreement}, {}, None),
    ("replicated log, leader crash (ch08's check_log)",
     multipaxos_system(3, 1, [("write", "x", 1), ("read", "x")], heartbeat=None,
                       leaders=("r1", "r2"), max_ballots=1, max_retries=1),
     Controls(timers="synchronous", max_crashes=1, crashable=("r1",)), MULTIPAXOS_INVARIANTS,
     {"every client answered": all_answered}, None),
    ("2pc, a crash", twopc_system(2), Controls(duplicate=True, max_crashes=1),
     {"atomicity": atomicity}, {}, None),
    ("2pc, two crashes", twopc_system(2), Controls(duplicate=True, max_crashes=2),
     {"atomicity": atomicity}, {}, None),
    ("2pc termination, coordinator crash", twopc_system(2, termination=True),
     Controls(duplicate=True, max_crashes=1, crashable=("coord",)), {"atomicity": atomicity},
     {}, None),
    ("epochs", replication_system(2, failover="epochs", clients=0, max_epoch=2),
     Controls(duplicate=True, max_crashes=1), {"one primary per epoch": one_primary_per_epoch},
     {}, None),
    # Raft: every server's timers fire at any moment, and a crashed server forgets what
    # it calls obsolete (timers and crashes put deliveries to sleep, see _other_steps)
    ("raft elections, a crash", *scenario("elections")[:2], RAFT_INVARIANTS,
     {"a leader is elected": leader_elected}, scenario("elections")[2]),
    ("raft replication", *scenario("replication")[:2], RAFT_INVARIANTS,
     {"an entry is committed": entry_committed}, None),
    ("forwarding, loss and a crash", forwarding_system(1),
     Controls(drop=True, duplicate=True, max_crashes=1), {}, {}, None),
    # a disk lost or stale: a node down is not covered by the same node up, since it may
    # come back with a different disk
    ("paxos 2x1, an acceptor wiped", paxos_system(**TWO),
     Controls(duplicate=True, max_crashes=1, crashable=ACCEPTORS, wipe=True), PAXOS_INVARIANTS,
     {}, ACCEPTORS),
    ("lost disk, recovering, wiped", lost_disk_scenario("recovering"),
     Controls(duplicate=True, max_crashes=1, crashable=("r2",), wipe=True),
     {"slot agreement": slot_agreement}, {}, None),
    ("lost disk, recovering, stale copy", lost_disk_scenario("recovering"),
     Controls(duplicate=True, max_crashes=1, crashable=("r2",),
              stale_disks={"r2": stale_copy("recovering")}),
     {"slot agreement": slot_agreement}, {}, None),
    ("lost disk, always recovering, stale copy", lost_disk_scenario("always"),
     Controls(duplicate=True, max_crashes=1, crashable=("r2",),
              stale_disks={"r2": stale_copy("always")}),
     {"slot agreement": slot_agreement}, {}, None),
]


def as_values(s):
    """A state as plain values (the two searches may number things differently)."""
    return (tuple(map(canonical, s.nodes)), tuple(sorted(map(canonical, s.in_flight))),
            tuple(sorted(map(canonical, s.timers))), tuple(sorted(s.crashed)), s.crashes)


def names_of(config):
    return config[0]


@pytest.mark.parametrize("config", CONFIGS, ids=names_of)
def test_sleep_sets_and_fast_paths_change_nothing(config):
    """Counts, the states the invariants see, the verdict and the paths themselves are those
    of the plain search."""
    name, nodes, controls, invariants, goals, symmetric = config
    runs = []
    for fast in (False, True):
        model = NodeModel(nodes, controls, symmetric=symmetric)
        seen = set()
        props = {**invariants, "(records every state)": recorder(seen)}
        r = explore(model if fast else Plain(model), props, goals, progress=False)
        runs.append((r, {as_values(model.view(s)) for s in seen}))
    (plain, plain_seen), (fast, fast_seen) = runs
    assert (fast.states, fast.transitions, fast.max_depth) == (
        plain.states, plain.transitions, plain.max_depth)
    assert fast_seen == plain_seen
    assert (fast.violation is None) == (plain.violation is None)
    if plain.violation:
        assert fast.violation.name == plain.violation.name
        assert fast.violation.path.actions == plain.violation.path.actions
    for goal in goals:
        assert fast.goals[goal].path.actions == plain.goals[goal].path.actions


def orbit_key(nodes, symmetric):
    """The node states as text, the same for every renaming of the symmetric nodes."""
    states = {n.id: {k: thaw(v) for k, v in n._asdict().items()} for n in nodes}
    if symmetric is None:
        return canonical(states)
    return min(canonical(relabel(states, dict(zip(symmetric, p))))
               for p in permutations(symmetric))


COVERABLE = [c for c in CONFIGS if c[2].duplicate and c[2].timers != "synchronous"
             and all(getattr(p, "about_nodes", False) for p in {**c[3], **c[4]}.values())]


@pytest.mark.parametrize("config", COVERABLE, ids=names_of)
def test_covering_gives_the_plain_answers(config):
    """reduce=True: the same verdict, the same shortest paths, and the invariants are shown
    every combination of node states the plain search meets (up to renaming), no other."""
    name, nodes, controls, invariants, goals, symmetric = config
    seen = {False: set(), True: set()}
    results = {}
    for reduce in (False, True):
        props = {**invariants, "(records node states)": recorder(seen[reduce], about=True)}
        results[reduce] = check(nodes, controls, props, goals, progress=False,
                                symmetric=symmetric, reduce=reduce)
    plain, covered = results[False], results[True]
    assert (covered.violation is None) == (plain.violation is None)
    assert covered.complete == plain.complete
    if plain.violation:
        assert covered.violation.name == plain.violation.name
        assert len(covered.violation.path) == len(plain.violation.path)
        assert covered.violation.path.trace().steps
    else:
        assert {orbit_key(n, symmetric) for n in seen[True]} == \
            {orbit_key(n, symmetric) for n in seen[False]}
        assert covered.states <= plain.states
    for goal in goals:
        assert covered.goals[goal].reached == plain.goals[goal].reached
        if plain.goals[goal].reached:
            assert len(covered.goals[goal].path) == len(plain.goals[goal].path)
            assert covered.goals[goal].path.trace().steps


def test_covering_refuses_what_it_cannot_check():
    """reduce=True says why it cannot be used: no duplication, a property that reads more
    than the nodes, a depth bound."""
    nodes = paxos_system(**TWO)
    with pytest.raises(ValueError, match="duplicate=True"):
        check(nodes, Controls(), PAXOS_INVARIANTS, reduce=True)
    with pytest.raises(ValueError, match="about_nodes"):
        check(nodes, Controls(duplicate=True), {"no message": lambda s: not s.in_flight},
              reduce=True)
    with pytest.raises(ValueError, match="max_depth"):
        check(nodes, Controls(duplicate=True), PAXOS_INVARIANTS, max_depth=3, reduce=True)


def test_a_covered_crash_adds_no_states():
    """A Paxos acceptor keeps everything on disk, so a crash and restart change nothing
    about its node state: with one crash allowed the covering search explores exactly the
    states it explores without crashes (3,625 for 2 proposers x 1 number), where the plain
    search needs 54,006 instead of 10,979."""
    sizes = [check(paxos_system(**TWO), Controls(duplicate=True, max_crashes=crashes,
                                                 crashable=ACCEPTORS),
                   PAXOS_INVARIANTS, progress=False, symmetric=ACCEPTORS, reduce=True).states
             for crashes in (0, 1, 2)]
    assert sizes == [3625, 3625, 3625]


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DETERMINISM = r"""
import sys
sys.path.insert(0, {root!r})      # this checkout's replib, not an installed one
from replib.protocols.paxos import check_paxos
from replib.protocols.misreadings import IgnoresReports
for reduce in (False, True):
    r = check_paxos(2, 1, 1, progress=False, reduce=reduce)
    print(r.summary(), r.goals["a value is chosen"].path.trace().digest())
broken = check_paxos(proposer=IgnoresReports, progress=False, reduce=True)
print(broken.summary(), broken.violation.path.trace().digest())
"""


def test_same_answers_under_any_hash_seed():
    """Set and dict orders follow string hashes, which change with PYTHONHASHSEED: the
    counts, the verdicts and the paths (their traces' digests) must not."""
    outputs = []
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", DETERMINISM.format(root=ROOT)],
                             capture_output=True, text=True, env=env, check=True)
        outputs.append(out.stdout)
    assert outputs[0] == outputs[1]
    assert "54,006 states" in outputs[0] and "reduce=True" in outputs[0]
