"""Three-phase commit: each numbered rule of replib.protocols.threepc as a handler test with
exact effects, the message count of a normal run, and the checker's verdicts: safe and
non-blocking when only the coordinator crashes in a synchronous system, unsafe when
messages can be lost (a partition) or timers fire while messages are on their way."""

import random
import re

import pytest
from helpers import attached, plain

from replib import Controls, Deliver, Drop, Fire, Simulation
from replib.check import NodeModel, can_still_reach, check
from replib.faults import crash, restart
from replib.protocols.threepc import (
    AckTimeout,
    CanCommit,
    DoCommit,
    OutcomeTimeout,
    PreCommit,
    PreCommitAck,
    ThreePCCoordinator,
    ThreePCParticipant,
    threepc_system,
)
from replib.protocols.twopc import (
    Abort,
    Ack,
    Coordinator,
    PrepareTimeout,
    Resend,
    Vote,
    VoteTimeout,
    atomicity,
    decisions_never_change,
    everyone_decided,
    final_outcomes,
    participant_states,
)

T1 = ("transaction", 1)


def system(**config):
    """A 3PC system's nodes attached to a fake network, by id, each started."""
    return attached(threepc_system(**config), start=True)


def coordinator(**config):
    return system(**config)["coord"]


def participant(id="p1", **config):
    return system(**config)[id]


def precommitted_coordinator(**config):
    """A coordinator that has every yes vote (phase 2 begun)."""
    c = coordinator(**config)
    for p in c.participants:
        c.handle(Vote(1, True), p)
    return c


def committing(participants=("p1", "p2")):
    """What the coordinator does when it commits (phase 3)."""
    return ([("cancel", AckTimeout(1)), ("cancel", VoteTimeout(1)), ("response", T1, "commit")]
            + [("send", p, DoCommit(1)) for p in participants] + [("set", Resend(1), 5.0)])


# ---- the three phases ------------------------------------------------------------------------

def test_coordinator_asks_can_commit():
    """Rule 1: the coordinator sends CanCommit(1) to every participant and sets VoteTimeout."""
    c = ThreePCCoordinator("coord", ["p1", "p2"])
    c._attach(["coord", "p1", "p2"], random.Random(0))
    assert plain(c.run_hook("on_start")) == [
        ("invoke", T1, None), ("send", "p1", CanCommit(1)), ("send", "p2", CanCommit(1)),
        ("set", VoteTimeout(1), 5.0)]


def test_participant_votes_and_becomes_uncertain():
    """Rule 1: a yes voter writes "voted" (uncertain), sets OutcomeTimeout and votes yes; a
    no voter writes "aborted" and votes no; a repeated CanCommit gets the same vote."""
    p = participant()
    assert plain(p.handle(CanCommit(1), "coord")) == [
        ("cancel", PrepareTimeout(1)), ("set", OutcomeTimeout(1), 5.0),
        ("send", "coord", Vote(1, True))]
    assert p.log == {1: "voted"}
    assert plain(p.handle(CanCommit(1), "coord")) == [("send", "coord", Vote(1, True))]
    q = participant("p2", votes=["yes", "no"])
    assert plain(q.handle(CanCommit(1), "coord")) == [
        ("cancel", PrepareTimeout(1)), ("send", "coord", Vote(1, False))]
    assert q.log == {1: "aborted"}


def test_coordinator_aborts_on_a_no_or_a_vote_timeout():
    """Rule 1: any no, or VoteTimeout without every vote, decides abort (as in 2PC)."""
    abort = [("cancel", VoteTimeout(1)), ("response", T1, "abort"), ("send", "p1", Abort(1)),
             ("send", "p2", Abort(1)), ("set", Resend(1), 5.0)]
    c = coordinator()
    assert plain(c.handle(Vote(1, False), "p1")) == abort
    d = coordinator()
    d.handle(Vote(1, True), "p1")
    assert plain(d.handle(VoteTimeout(1))) == abort


def test_every_yes_starts_the_pre_commit_phase():
    """Rule 2: with every yes the coordinator writes "precommit" (not yet a decision: no
    result is reported), sends PreCommit to every participant and sets AckTimeout."""
    c = coordinator()
    assert plain(c.handle(Vote(1, True), "p1")) == []
    assert plain(c.handle(Vote(1, True), "p2")) == [
        ("cancel", VoteTimeout(1)), ("send", "p1", PreCommit(1)), ("send", "p2", PreCommit(1)),
        ("set", AckTimeout(1), 5.0)]
    assert c.decisions == {1: "precommit"}
    assert plain(c.handle(VoteTimeout(1))) == []      # a stale vote timer decides nothing


def test_participant_precommits_and_acknowledges():
    """Rule 2: an uncertain participant writes "precommitted", restarts its OutcomeTimeout
    and answers PreCommitAck; again if the PreCommit comes again; a participant that is not
    uncertain (it aborted) ignores PreCommit."""
    p = participant()
    p.handle(CanCommit(1), "coord")
    assert plain(p.handle(PreCommit(1), "coord")) == [
        ("set", OutcomeTimeout(1), 5.0), ("send", "coord", PreCommitAck(1))]
    assert p.log == {1: "precommitted"}
    assert plain(p.handle(PreCommit(1), "coord")) == [("send", "coord", PreCommitAck(1))]
    q = participant()
    q.handle(PrepareTimeout(1))
    assert plain(q.handle(PreCommit(1), "coord")) == [] and q.log == {1: "aborted"}


def test_coordinator_commits_with_every_pre_commit_ack():
    """Rule 3: the last PreCommitAck decides commit: on disk, reported, DoCommit to all."""
    c = precommitted_coordinator()
    assert plain(c.handle(PreCommitAck(1), "p1")) == []
    assert plain(c.handle(PreCommitAck(1), "p2")) == committing()
    assert c.decisions == {1: "commit"} and c.acked == set()


def test_participant_commits_on_do_commit_and_acknowledges():
    """Rule 3: DoCommit commits (timers cleared) and is answered with Ack; the final Acks
    end the transaction at the coordinator."""
    p = participant()
    p.handle(CanCommit(1), "coord")
    p.handle(PreCommit(1), "coord")
    assert plain(p.handle(DoCommit(1), "coord")) == [
        ("cancel", PrepareTimeout(1)), ("cancel", OutcomeTimeout(1)), ("send", "coord", Ack(1))]
    assert p.log == {1: "committed"}
    c = precommitted_coordinator()
    c.handle(PreCommitAck(1), "p1")
    c.handle(PreCommitAck(1), "p2")
    c.handle(Ack(1), "p1")
    assert plain(c.handle(Ack(1), "p2")) == [("cancel", Resend(1))]


def test_participant_applies_abort():
    """An uncertain participant applies Abort and acknowledges; a final entry stays."""
    p = participant()
    p.handle(CanCommit(1), "coord")
    assert plain(p.handle(Abort(1), "coord")) == [
        ("cancel", PrepareTimeout(1)), ("cancel", OutcomeTimeout(1)), ("send", "coord", Ack(1))]
    assert plain(p.handle(DoCommit(1), "coord")) == [("send", "coord", Ack(1))]
    assert p.log == {1: "aborted"}


# ---- the timeout rules -------------------------------------------------------------------

def test_outcome_timeout_aborts_an_uncertain_participant():
    """Rule 4: timing out while "voted" (uncertain) aborts."""
    p = participant()
    p.handle(CanCommit(1), "coord")
    assert plain(p.handle(OutcomeTimeout(1))) == [
        ("cancel", PrepareTimeout(1)), ("cancel", OutcomeTimeout(1))]
    assert p.log == {1: "aborted"}


def test_outcome_timeout_commits_a_precommitted_participant():
    """Rule 5: timing out while "precommitted" commits."""
    p = participant(transactions=2)
    p.handle(CanCommit(1), "coord")
    p.handle(PreCommit(1), "coord")
    assert plain(p.handle(OutcomeTimeout(1))) == [
        ("cancel", PrepareTimeout(1)), ("cancel", OutcomeTimeout(1))]
    assert p.log == {1: "committed"}
    assert plain(p.handle(OutcomeTimeout(1))) == [] and p.log == {1: "committed"}


def test_prepare_timeout_aborts_before_voting():
    """Rule 4: no CanCommit in time: abort; the CanCommit then gets a no."""
    p = participant()
    assert plain(p.handle(PrepareTimeout(1))) == [] and p.log == {1: "aborted"}
    assert plain(p.handle(CanCommit(1), "coord")) == [("send", "coord", Vote(1, False))]


def test_ack_timeout_commits_anyway():
    """Rule 6: with a PreCommitAck missing when AckTimeout fires, the coordinator commits;
    an AckTimeout after the decision does nothing."""
    c = precommitted_coordinator()
    c.handle(PreCommitAck(1), "p1")
    assert plain(c.handle(AckTimeout(1))) == committing()
    assert plain(c.handle(AckTimeout(1))) == []


def test_restarted_coordinator_with_precommit_commits():
    """Rule 7: a coordinator that restarts with "precommit" on disk commits."""
    c = precommitted_coordinator()
    c.crash_reset()
    assert c.decisions == {1: "precommit"}
    assert plain(c.run_hook("on_restart")) == committing()
    assert c.decisions == {1: "commit"}


def test_restarted_coordinator_otherwise_aborts_or_resends():
    """Rule 7: without "precommit" a restarted coordinator aborts (nothing was decided) or,
    with a decision on disk, sends it again."""
    c = coordinator()
    c.handle(Vote(1, True), "p1")
    c.crash_reset()
    assert plain(c.run_hook("on_restart")) == [
        ("cancel", VoteTimeout(1)), ("response", T1, "abort"), ("send", "p1", Abort(1)),
        ("send", "p2", Abort(1)), ("set", Resend(1), 5.0)]
    d = precommitted_coordinator()
    d.handle(AckTimeout(1))
    d.crash_reset()
    assert plain(d.run_hook("on_restart")) == [
        ("send", "p1", DoCommit(1)), ("send", "p2", DoCommit(1)), ("set", Resend(1), 5.0)]


def test_restarted_participant_applies_the_timeout_rules_again():
    """Rule 7: a participant that restarts undecided sets its OutcomeTimeout again (and then
    aborts if "voted", commits if "precommitted"); a decided one sets nothing (a later
    transaction comes with its CanCommit); one that never heard of transaction 1 waits for
    its CanCommit again."""
    p = participant()
    p.handle(CanCommit(1), "coord")
    p.handle(PreCommit(1), "coord")
    p.crash_reset()
    assert plain(p.run_hook("on_restart")) == [("set", OutcomeTimeout(1), 5.0)]
    p.handle(OutcomeTimeout(1))
    assert p.log == {1: "committed"}
    p.crash_reset()
    assert plain(p.run_hook("on_restart")) == []                # transaction 2 does not exist
    q = participant(transactions=2)
    q.handle(PrepareTimeout(1))
    q.crash_reset()
    assert plain(q.run_hook("on_restart")) == []
    fresh = participant()
    fresh.crash_reset()
    assert plain(fresh.run_hook("on_restart")) == [("set", PrepareTimeout(1), 5.0)]


# ---- normal runs ---------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_a_commit_costs_six_messages_per_participant(n):
    """CanCommit, Vote, PreCommit, PreCommitAck, DoCommit and Ack, n of each (6n); the
    result comes after 4 time units (2 in 2PC), the last Ack at 6."""
    sim = Simulation(threepc_system(n))
    trace = sim.run()
    counts = trace.message_counts()
    assert counts == dict.fromkeys(
        ["CanCommit", "Vote", "PreCommit", "PreCommitAck", "DoCommit", "Ack"], n)
    assert sum(counts.values()) == 6 * n
    assert [(op.result, op.latency) for op in trace.history()] == [("commit", 4.0)]
    assert set(final_outcomes(sim).values()) == {"committed"} and trace.duration == 6.0
    assert decisions_never_change(trace)


def test_coordinator_crash_after_precommit_does_not_block():
    """Rule 5: the coordinator crashes at t=2.5, after sending PreCommit (t=2): the
    participants precommit at t=3 and commit on their own when OutcomeTimeout fires at t=8,
    with the coordinator still down; it commits too when it restarts (rule 7)."""
    sim = Simulation(threepc_system(2), faults=[crash("coord", at=2.5), restart("coord", at=20)])
    sim.run(until=10)
    assert final_outcomes(sim) == {"p1": "committed", "p2": "committed"}
    commits = sim.trace.select("timer", msg_type="OutcomeTimeout")
    assert [(e.node, e.time) for e in commits] == [("p1", 8.0), ("p2", 8.0)]
    sim.run()
    assert sim.node("coord").decisions == {1: "commit"}
    assert decisions_never_change(sim.trace)


# ---- the checker ---------------------------------------------------------------------------

SYNC_COORD_CRASH = Controls(max_crashes=1, crashable=("coord",), timers="synchronous")


def test_checker_3pc_is_atomic_when_only_the_coordinator_crashes_in_a_synchronous_system():
    """Two participants, one crash of the coordinator (it may restart), timers firing only
    when no message to a live node is in flight: atomicity holds in all 381 states (960
    transitions, depth 17).  No participant can time out while a PreCommit is on its way
    to it, so when one times out uncertain, nobody can be precommitted."""
    r = check(threepc_system(2), SYNC_COORD_CRASH, invariants={"atomicity": atomicity},
              progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (381, 960, 17)


def test_checker_3pc_never_blocks_for_good():
    """... and it does not block: from every one of those 381 states every participant can
    still learn the outcome, even with the coordinator down."""
    r = can_still_reach(NodeModel(threepc_system(2), SYNC_COORD_CRASH),
                        {"everyone decided": everyone_decided}, progress=False)
    assert r.ok and (r.states, r.matching, r.stuck) == (381, 381, [])
    assert r.summary() == (
        "381 states, 960 transitions: explored every reachable state\n"
        "381 states where any state; from every one of them 'everyone decided' can still "
        "be reached")


def test_checker_3pc_breaks_atomicity_when_messages_are_lost():
    """A lost message is how a partition looks to the synchronous model: both PreCommits
    are lost (after every yes vote), so nothing holds the timers back: p1 times out
    uncertain and aborts (rule 4), the coordinator times out without PreCommitAcks and
    commits (rule 6).  8 steps; losing one PreCommit is not enough, as the other, in flight,
    holds the timers back until it is delivered and acknowledged (9 steps)."""
    r = check(threepc_system(2), Controls(drop=True, timers="synchronous"),
              invariants={"atomicity": atomicity}, progress=False)
    assert r.violation.path.actions == [
        Deliver("coord", "p1", CanCommit(1)), Deliver("coord", "p2", CanCommit(1)),
        Deliver("p1", "coord", Vote(1, True)), Deliver("p2", "coord", Vote(1, True)),
        Drop("coord", "p1", PreCommit(1)), Drop("coord", "p2", PreCommit(1)),
        Fire("p1", OutcomeTimeout(1)), Fire("coord", AckTimeout(1))]
    last = r.violation.path.states[-1]
    assert [p.log for p in participant_states(last)] == [{1: "aborted"}, {1: "voted"}]
    assert last.node("coord").decisions == {1: "commit"}


def test_checker_3pc_breaks_atomicity_with_asynchronous_timers():
    """With timers that may fire at any moment (an asynchronous system), a coordinator crash
    allowed but not even needed: 6 steps, p1 times out uncertain while its PreCommit is
    still on the way, and the coordinator times out waiting for the acks and commits."""
    r = check(threepc_system(2), Controls(max_crashes=1, crashable=("coord",)),
              invariants={"atomicity": atomicity}, progress=False)
    assert r.violation.path.actions == [
        Deliver("coord", "p1", CanCommit(1)), Deliver("coord", "p2", CanCommit(1)),
        Deliver("p1", "coord", Vote(1, True)), Deliver("p2", "coord", Vote(1, True)),
        Fire("p1", OutcomeTimeout(1)), Fire("coord", AckTimeout(1))]
    assert ("coord", "p1", PreCommit(1)) in r.violation.path.states[-1].in_flight


# ---- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("config, message", [
    (dict(participants=0), "participants must be a whole number >= 1, got 0"),
    (dict(participants=1.5), "participants must be a whole number >= 1, got 1.5"),
    (dict(transactions=-1), "transactions must be a whole number >= 0, got -1"),
    (dict(timeout=0), "timeout must be a finite number > 0, got 0"),
    (dict(timeout=-2), "timeout must be a finite number > 0, got -2"),
    (dict(timeout=float("nan")), "timeout must be a finite number > 0, got nan"),
    (dict(think=float("inf")), "think must be a finite number >= 0, got inf"),
    (dict(votes={"p3": "no"}),
     "votes name unknown participant(s) ['p3']; participants are ['p1', 'p2']"),
    (dict(votes=["yes", "abstain"]), "a vote is 'yes' or 'no'; got {'p2': 'abstain'}"),
    (dict(votes=["yes", "no", "no"]),
     "votes: give one vote per participant (2), got ['yes', 'no', 'no']"),
    (dict(coordinator=Coordinator),
     ("coordinator must be ThreePCCoordinator or a subclass of it, got <class "
      "'replib.protocols.twopc.Coordinator'>")),
    (dict(participant=ThreePCCoordinator),
     ("participant must be ThreePCParticipant or a subclass of it, got <class "
      "'replib.protocols.threepc.ThreePCCoordinator'>")),
])
def test_bad_configuration_says_what_is_allowed(config, message):
    """The builder refuses bad arguments with a ValueError that says what is allowed."""
    with pytest.raises(ValueError, match=re.escape(message)):
        threepc_system(**config)


def test_subclasses_are_accepted():
    """A subclass of each role is used as given."""
    class Mine(ThreePCParticipant):
        pass

    nodes = threepc_system(2, participant=Mine)
    assert [type(n).__name__ for n in nodes] == ["ThreePCCoordinator", "Mine", "Mine"]


def test_pre_commit_one_at_a_time_breaks_atomicity_with_one_coordinator_crash():
    """OneAtATime: the coordinator crashes after p1's PreCommit; p1 times out and commits,
    p2, still uncertain, aborts: 8 steps, even with synchronous timers."""
    from replib.protocols.threepc import OneAtATime
    controls = Controls(max_crashes=1, crashable=("coord",), restart=False,
                        timers="synchronous")
    bad = check(threepc_system(2, coordinator=OneAtATime), controls,
                invariants={"atomicity": atomicity}, progress=False)
    assert (bad.states, len(bad.violation.path)) == (37, 8)
    assert [str(a) for a in bad.violation.path.actions][4:] == [
        "deliver PreCommit coord->p1: PreCommit(tx=1)", "crash coord",
        "fire OutcomeTimeout(tx=1) at p1", "fire OutcomeTimeout(tx=1) at p2"]
    good = check(threepc_system(2), controls, invariants={"atomicity": atomicity},
                 progress=False)
    assert good.complete and good.violation is None
