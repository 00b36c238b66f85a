"""Paxos Commit: each rule of replib.protocols.paxos_commit as a handler test with exact
effects, a normal run's messages, a run whose coordinator crashes, and the checker's verdict
next to 2PC's on the same schedule (the coordinator crashes and never returns)."""

import pytest
from helpers import attached, plain

from replib import Controls, Simulation
from replib.experiments import atomic_commit
from replib.check import NodeModel, can_still_reach, check
from replib.protocols import twopc
from replib.protocols.paxos_commit import (
    BeginCommit,
    Phase2a,
    Phase2b,
    Prepare1a,
    Promise1b,
    TakeOver,
    atomicity,
    everyone_decided,
    paxos_commit_system,
)
from replib.protocols.twopc import Abort, Commit, final_outcomes

ACCEPTORS = ("a1", "a2", "a3")
CRASH_FOR_GOOD = Controls(max_crashes=1, crashable=("coord",), restart=False,
                          timers="synchronous")


def nodes(**config):
    return attached(paxos_commit_system(**config), start=True)


def test_coordinator_begins_and_standby_waits():
    """Step 1: coord sends BeginCommit(1) to every participant; coord2 only sets TakeOver."""
    n = attached(paxos_commit_system(2))
    assert plain(n["coord"].run_hook("on_start")) == [
        ("send", "p1", BeginCommit(1)), ("send", "p2", BeginCommit(1))]
    assert plain(n["coord2"].run_hook("on_start")) == [("set", TakeOver(), 6.0)]


def test_participant_logs_then_sends_its_vote_with_ballot_0():
    """Step 2: the vote is on disk before Phase2a(ballot 0) goes to every acceptor; a
    repeated BeginCommit changes nothing; a no voter proposes "aborted"."""
    n = nodes(votes={"p2": "no"})
    p1, p2 = n["p1"], n["p2"]
    assert plain(p1.handle(BeginCommit(1), "coord")) == [
        ("send", a, Phase2a(1, "p1", 0, "prepared")) for a in ACCEPTORS]
    assert p1.log == {1: "prepared"}
    assert plain(p1.handle(BeginCommit(1), "coord")) == []
    assert plain(p2.handle(BeginCommit(1), "coord")) == [
        ("send", a, Phase2a(1, "p2", 0, "aborted")) for a in ACCEPTORS]


def test_acceptor_follows_rule_2b_per_instance():
    """Step 3: an acceptor accepts a ballot at least its promise for that instance, and tells
    both leaders; after promising ballot 1 it refuses ballot 0 in that instance only."""
    a = nodes()["a1"]
    told = lambda v, b, inst="p1": [("send", l, Phase2b(1, inst, b, v)) for l in ("coord", "coord2")]
    assert plain(a.handle(Phase2a(1, "p1", 0, "prepared"), "p1")) == told("prepared", 0)
    assert plain(a.handle(Prepare1a(1, "p2", 1), "coord2")) == [
        ("send", "coord2", Promise1b(1, "p2", 1, None))]
    assert plain(a.handle(Phase2a(1, "p2", 0, "prepared"), "p2")) == []
    assert plain(a.handle(Prepare1a(1, "p1", 1), "coord2")) == [
        ("send", "coord2", Promise1b(1, "p1", 1, (0, "prepared")))]
    assert a.accepted == {"p1": (0, "prepared")}


def test_leader_decides_once_every_vote_is_learned_from_a_majority():
    """Step 4: one acceptor's Phase2b teaches nothing; a majority does; with both votes
    learned the leader logs commit and tells the participants, once."""
    c = nodes()["coord"]
    assert plain(c.handle(Phase2b(1, "p1", 0, "prepared"), "a1")) == []
    assert plain(c.handle(Phase2b(1, "p1", 0, "prepared"), "a2")) == []
    assert c.learned == {"p1": "prepared"}
    c.handle(Phase2b(1, "p2", 0, "prepared"), "a1")
    assert plain(c.handle(Phase2b(1, "p2", 0, "prepared"), "a3")) == [
        ("send", "p1", Commit(1)), ("send", "p2", Commit(1))]
    assert c.decisions == {1: "commit"}
    assert plain(c.handle(Phase2b(1, "p2", 0, "prepared"), "a2")) == []


def test_standby_takes_over_and_settles_an_unseen_vote_as_aborted():
    """Step 5: on TakeOver coord2 runs ballot 1 for every instance it has not learned; with
    a majority reporting nothing accepted it proposes "aborted"; a reported vote is kept."""
    c2 = nodes()["coord2"]
    c2.handle(Phase2b(1, "p1", 0, "prepared"), "a1")
    c2.handle(Phase2b(1, "p1", 0, "prepared"), "a2")
    assert plain(c2.handle(TakeOver())) == [("send", a, Prepare1a(1, "p2", 1)) for a in ACCEPTORS]
    assert plain(c2.handle(Promise1b(1, "p2", 1, None), "a1")) == []
    assert plain(c2.handle(Promise1b(1, "p2", 1, None), "a2")) == [
        ("send", a, Phase2a(1, "p2", 1, "aborted")) for a in ACCEPTORS]
    assert plain(c2.handle(Promise1b(1, "p2", 1, None), "a3")) == []
    other = nodes()["coord2"]
    other.handle(TakeOver())
    other.handle(Promise1b(1, "p1", 1, None), "a1")
    assert plain(other.handle(Promise1b(1, "p1", 1, (0, "prepared")), "a2")) == [
        ("send", a, Phase2a(1, "p1", 1, "prepared")) for a in ACCEPTORS]


def test_coordinator_does_not_take_over():
    """Only the standby has a ballot to take over with."""
    c = nodes()["coord"]
    assert plain(c.handle(TakeOver())) == []


def test_a_normal_run_commits_with_these_messages():
    """2 participants, 3 acceptors: 2 BeginCommit, 6 Phase2a, 12 Phase2b (to both leaders),
    2 Commit from each leader that decides."""
    sim = Simulation(paxos_commit_system(2))
    sim.run()
    assert final_outcomes(sim) == {"p1": "committed", "p2": "committed"}
    assert sim.trace.message_counts() == {"BeginCommit": 2, "Phase2a": 6, "Phase2b": 12, "Commit": 4}


def test_a_no_vote_aborts():
    sim = Simulation(paxos_commit_system(2, votes={"p1": "no"}))
    sim.run()
    assert final_outcomes(sim) == {"p1": "aborted", "p2": "aborted"}


def test_coordinator_crash_after_one_begin_commit_ends_in_abort_by_the_standby():
    """coord crashes after its BeginCommit to p1 only: p1's vote is accepted, p2 never
    votes; coord2 takes over at t = 6, settles p2's instance as "aborted" and aborts."""
    sim = atomic_commit.commit_with_crash("after some prepares", 2, protocol="paxos commit")
    assert final_outcomes(sim) == {"p1": "aborted", "p2": "aborted"}
    assert sim.nodes["coord2"].decisions == {1: "abort"}
    assert sim.nodes["coord2"].learned == {"p1": "prepared", "p2": "aborted"}


def test_checker_one_coordinator_crash_never_blocks_paxos_commit_but_blocks_2pc():
    """Same schedule (the coordinator crashes once and never returns, synchronous timers):
    atomicity holds and every participant can still decide from every reachable state of
    Paxos Commit; 2PC gets stuck."""
    model = NodeModel(paxos_commit_system(2), CRASH_FOR_GOOD, 0, ACCEPTORS)
    reach = can_still_reach(model, {"everyone decided": everyone_decided}, progress=False)
    assert reach.states == 61_547
    assert reach.stuck == []
    safe = check(paxos_commit_system(2), CRASH_FOR_GOOD, invariants={"atomicity": atomicity},
                 symmetric=ACCEPTORS, progress=False)
    assert safe.complete and safe.violation is None and safe.states == 61_547
    twopc_reach = can_still_reach(NodeModel(twopc.twopc_system(2), CRASH_FOR_GOOD),
                                  {"everyone decided": twopc.everyone_decided}, progress=False)
    assert (twopc_reach.states, len(twopc_reach.stuck)) == (34, 8)


@pytest.mark.parametrize("bad, message", [
    (dict(participants=0), "participants"),
    (dict(votes={"p9": "yes"}), "votes"),
    (dict(votes={"p1": "maybe"}), "votes"),
    (dict(timeout=-1), "timeout"),
])
def test_bad_configurations_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        paxos_commit_system(**bad)
