"""Symmetry reduction (replib.symmetry): renaming interchangeable nodes."""

import pytest

from replib import Controls
from replib.check import NodeModel, check
from replib.protocols.paxos import Prepare, Promise, paxos_system
from replib.protocols.twopc import twopc_system
from replib.symmetry import relabel

ACCEPTORS = ("a1", "a2", "a3")


def test_relabel_renames_names_everywhere_and_nothing_else():
    """Every string that names a node is renamed, at any depth: in tuples, sets, dict keys
    and values, and inside frozen dataclasses; other values stay as they are."""
    names = {"a1": "a2", "a2": "a1"}
    value = {"a1": (Promise(2, (1, "v1")), {"a2", "p1"}), "x": ["a2", 3, None]}
    assert relabel(value, names) == {"a2": (Promise(2, (1, "v1")), {"a1", "p1"}),
                                     "x": ["a1", 3, None]}
    assert relabel(Prepare(4), names) == Prepare(4)


def test_symmetric_divides_the_states_of_one_proposer_and_keeps_the_goal_distance():
    """One proposer, two ballots, duplicating network: 2,435 states become 465 when the
    three acceptors are interchangeable; a value is chosen after 6 steps either way."""
    from replib.protocols.paxos import PAXOS_INVARIANTS, value_chosen
    runs = [check(paxos_system(proposers=1, learners=0), Controls(duplicate=True),
                  invariants=PAXOS_INVARIANTS, goals={"chosen": value_chosen}, progress=False,
                  symmetric=sym) for sym in (None, ACCEPTORS)]
    assert [r.states for r in runs] == [2435, 465]
    assert all(r.ok and r.complete for r in runs)
    assert [len(r.goals["chosen"].path) for r in runs] == [6, 6]


def test_a_symmetric_path_is_reported_in_real_names_and_replays():
    """Paths found among renamed states are renamed back step by step: every action of the
    reported path is enabled in the real run, in order."""
    from replib.protocols.paxos import value_chosen
    r = check(paxos_system(proposers=2, learners=0, max_ballots=1), Controls(duplicate=True),
              goals={"chosen": value_chosen}, progress=False, symmetric=ACCEPTORS)
    path = r.goals["chosen"].path
    model = NodeModel(paxos_system(proposers=2, learners=0, max_ballots=1),
                      Controls(duplicate=True))
    sim = model.simulation()
    for action in path.actions:
        assert action in sim.enabled()
        sim.perform(action)
    assert value_chosen(path.states[-1])


@pytest.mark.parametrize("symmetric, message", [
    (("a1", "zz"), "unknown node"),
    (("a1",), "two or more"),
    (("a1", "p1"), "one class"),
])
def test_bad_symmetric_arguments_say_what_is_wrong(symmetric, message):
    """Unknown names, a single node, or nodes of different classes are refused clearly."""
    with pytest.raises(ValueError, match=message):
        NodeModel(paxos_system(learners=0), symmetric=symmetric)


def test_nodes_that_differ_are_not_accepted_as_interchangeable():
    """2PC participants with different votes are not interchangeable: renaming one into the
    other changes its configuration, and the model says so."""
    with pytest.raises(ValueError, match="not interchangeable"):
        NodeModel(twopc_system(2, votes={"p1": "no"}), symmetric=("p1", "p2"))


def test_crashable_must_treat_symmetric_nodes_alike():
    """Only some of the symmetric nodes crashable would break the symmetry: refused."""
    with pytest.raises(ValueError, match="all or none"):
        NodeModel(paxos_system(learners=0), Controls(max_crashes=1, crashable=("a1",)),
                  symmetric=ACCEPTORS)
