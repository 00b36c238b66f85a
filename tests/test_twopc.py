"""Two-phase commit: each numbered rule of replib.protocols.twopc as a handler test with
exact effects, message counts and scripted failure stories in the simulator, the trace
analyses, randomized runs with loss, crashes and partitions, the checker's results on small
configurations (and on two wrong variants), and the builder's checks of its arguments."""

import copy
import random
import re

import pytest
from helpers import attached, plain

from replib import Constant, Controls, Crash, Deliver, Fire, Network, Simulation, Uniform
from replib.check import NodeModel, can_still_reach, check
from replib.faults import crash, heal, partition, restart
from replib.protocols.twopc import (
    Abort,
    Ack,
    Answer,
    Ask,
    Commit,
    Coordinator,
    DecisionTimeout,
    NextTransaction,
    Participant,
    Prepare,
    PrepareTimeout,
    Resend,
    Vote,
    VoteTimeout,
    all_in_doubt,
    atomicity,
    blocked,
    decisions_never_change,
    doubt_intervals,
    everyone_decided,
    final_outcomes,
    participant_states,
    twopc_system,
)

T1 = ("transaction", 1)


def system(**config):
    """A 2PC system's nodes attached to a fake network, by id (nothing started)."""
    return attached(twopc_system(**config))


def coordinator(start=True, **config):
    c = system(**config)["coord"]
    if start:
        c.run_hook("on_start")
    return c


def participant(id="p1", start=True, **config):
    p = system(**config)[id]
    if start:
        p.run_hook("on_start")
    return p


def decided(outcome, participants=("p1", "p2"), tx=1, timeout=5.0):
    """What deciding looks like (rule 3): the vote timer goes, the decision is recorded as
    the transaction's result, and the decision goes to every participant, with Resend set."""
    msg = Commit(tx) if outcome == "commit" else Abort(tx)
    return ([("cancel", VoteTimeout(tx)), ("response", ("transaction", tx), outcome)]
            + [("send", p, msg) for p in participants] + [("set", Resend(tx), timeout)])


# ---- phase 1: voting ---------------------------------------------------------------------

def test_coordinator_starts_by_sending_prepare_to_every_participant():
    """Rule 1: the coordinator records transaction 1 as begun (on disk), sends Prepare(1) to
    every participant in order and sets its VoteTimeout; with no transactions it does nothing."""
    c = coordinator(start=False, participants=3)
    assert plain(c.run_hook("on_start")) == [
        ("invoke", T1, None), ("send", "p1", Prepare(1)), ("send", "p2", Prepare(1)),
        ("send", "p3", Prepare(1)), ("set", VoteTimeout(1), 5.0)]
    assert (c.started, c.decisions, c.votes) == (1, {}, {})
    assert plain(coordinator(start=False, transactions=0).run_hook("on_start")) == []


def test_participant_waits_for_prepare_with_a_timer():
    """Rule 5: a participant starts by setting PrepareTimeout for transaction 1."""
    assert plain(participant(start=False).run_hook("on_start")) == [
        ("set", PrepareTimeout(1), 5.0)]
    assert plain(participant(start=False, transactions=0).run_hook("on_start")) == []


class WatchedParticipant(Participant):
    """Records its disk (log) at the moment each message leaves."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._disk_at_send = []

    def send(self, to, msg):
        self._disk_at_send.append((msg, dict(self.log)))
        super().send(to, msg)


def test_participant_writes_prepared_before_voting_yes():
    """Rule 2: a yes voter cancels its PrepareTimeout, writes "prepared" and votes yes; the
    log already says "prepared" when the vote is sent (it is in doubt from then on)."""
    p = system(participant=WatchedParticipant)["p1"]
    p.run_hook("on_start")
    assert plain(p.handle(Prepare(1), "coord")) == [
        ("cancel", PrepareTimeout(1)), ("send", "coord", Vote(1, True))]
    assert p.log == {1: "prepared"} and p.in_doubt(1)
    assert p._disk_at_send == [(Vote(1, True), {1: "prepared"})]


def test_with_termination_a_yes_voter_also_sets_its_decision_timeout():
    """Rule 7: with cooperative termination the yes voter sets DecisionTimeout as it votes."""
    p = participant(termination=True)
    assert plain(p.handle(Prepare(1), "coord")) == [
        ("cancel", PrepareTimeout(1)), ("set", DecisionTimeout(1), 5.0),
        ("send", "coord", Vote(1, True))]


def test_no_voter_logs_aborted_and_votes_no():
    """Rule 2: a participant that cannot commit writes "aborted" and votes no."""
    p = system(votes=["yes", "no"], participant=WatchedParticipant)["p2"]
    p.run_hook("on_start")
    assert plain(p.handle(Prepare(1), "coord")) == [
        ("cancel", PrepareTimeout(1)), ("send", "coord", Vote(1, False))]
    assert p.log == {1: "aborted"} and not p.in_doubt(1)
    assert p._disk_at_send == [(Vote(1, False), {1: "aborted"})]


def test_a_repeated_prepare_gets_the_same_vote():
    """A Prepare that comes again (a duplicate, or a resend) is answered with the vote on
    disk, and nothing else changes: yes while prepared or committed, no once aborted."""
    p = participant()
    p.handle(Prepare(1), "coord")
    assert plain(p.handle(Prepare(1), "coord")) == [("send", "coord", Vote(1, True))]
    p.handle(Commit(1), "coord")
    assert plain(p.handle(Prepare(1), "coord")) == [("send", "coord", Vote(1, True))]
    assert p.log == {1: "committed"}
    q = participant("p2", votes={"p2": "no"})
    q.handle(Prepare(1), "coord")
    assert plain(q.handle(Prepare(1), "coord")) == [("send", "coord", Vote(1, False))]


# ---- phase 2: the decision ---------------------------------------------------------------

def test_coordinator_commits_only_with_every_yes():
    """Rule 3: one yes of two decides nothing, nor does the same yes again; the second
    participant's yes decides commit."""
    c = coordinator()
    assert plain(c.handle(Vote(1, True), "p1")) == []
    assert plain(c.handle(Vote(1, True), "p1")) == []
    assert c.decisions == {}
    assert plain(c.handle(Vote(1, True), "p2")) == decided("commit")
    assert c.decisions == {1: "commit"}


def test_coordinator_aborts_on_the_first_no():
    """Rule 3: the first no decides abort at once, without waiting for the other votes; a
    yes arriving afterwards is late and changes nothing."""
    c = coordinator(participants=3)
    assert plain(c.handle(Vote(1, False), "p2")) == decided("abort", ("p1", "p2", "p3"))
    assert plain(c.handle(Vote(1, True), "p1")) == []
    assert c.decisions == {1: "abort"}


def test_coordinator_aborts_when_the_votes_do_not_come_in_time():
    """Rule 3: VoteTimeout without every vote decides abort; a VoteTimeout after the
    decision (or for another transaction) does nothing."""
    c = coordinator()
    c.handle(Vote(1, True), "p1")
    assert plain(c.handle(VoteTimeout(1))) == decided("abort")
    assert plain(c.handle(VoteTimeout(1))) == [] and c.decisions == {1: "abort"}
    d = coordinator()
    assert plain(d.handle(VoteTimeout(7))) == [] and d.decisions == {}


class WatchedCoordinator(Coordinator):
    """Records its disk (decisions) at the moment each message leaves."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._disk_at_send = []

    def send(self, to, msg):
        self._disk_at_send.append((msg, dict(self.decisions)))
        super().send(to, msg)


def test_coordinator_logs_the_decision_before_sending_it():
    """Rule 3: the decision is on the coordinator's disk before any Commit leaves."""
    c = system(coordinator=WatchedCoordinator)["coord"]
    c.run_hook("on_start")
    c.handle(Vote(1, True), "p1")
    c.handle(Vote(1, True), "p2")
    assert c._disk_at_send == [(Prepare(1), {}), (Prepare(1), {}),
                               (Commit(1), {1: "commit"}), (Commit(1), {1: "commit"})]


def test_participant_applies_the_decision_and_acknowledges():
    """Rule 4: a participant in doubt applies Commit (or Abort), writes it, clears its timers
    and answers Ack.  It sets no PrepareTimeout for transaction 2: it hears of a later
    transaction with its Prepare (rule 5), so there is nothing to give up on before."""
    p = participant(transactions=2)
    p.handle(Prepare(1), "coord")
    assert plain(p.handle(Commit(1), "coord")) == [
        ("cancel", PrepareTimeout(1)), ("cancel", DecisionTimeout(1)), ("send", "coord", Ack(1))]
    assert p.log == {1: "committed"}
    q = participant()
    q.handle(Prepare(1), "coord")
    assert plain(q.handle(Abort(1), "coord")) == [
        ("cancel", PrepareTimeout(1)), ("cancel", DecisionTimeout(1)), ("send", "coord", Ack(1))]
    assert q.log == {1: "aborted"}


def test_resend_goes_only_to_participants_that_have_not_acknowledged():
    """Rule 4: Resend repeats the decision to the participants whose Ack is missing, and sets
    itself again; once every Ack is in, the Resend timer is cancelled and a late Resend
    does nothing."""
    c = coordinator(participants=3)
    for p in ("p1", "p2", "p3"):
        c.handle(Vote(1, True), p)
    assert plain(c.handle(Ack(1), "p2")) == []
    assert plain(c.handle(Resend(1))) == [
        ("send", "p1", Commit(1)), ("send", "p3", Commit(1)), ("set", Resend(1), 5.0)]
    c.handle(Ack(1), "p1")
    assert plain(c.handle(Ack(1), "p3")) == [("cancel", Resend(1))]
    assert plain(c.handle(Resend(1))) == []


def test_after_every_ack_the_coordinator_begins_the_next_transaction():
    """Rule 4: with every Ack the coordinator forgets the transaction and, after ``think``,
    begins the next one with a new number; after the last one it stops."""
    c = coordinator(transactions=2, think=1.5)
    c.handle(Vote(1, True), "p1")
    c.handle(Vote(1, True), "p2")
    c.handle(Ack(1), "p1")
    assert plain(c.handle(Ack(1), "p2")) == [("cancel", Resend(1)), ("set", NextTransaction(), 1.5)]
    assert plain(c.handle(NextTransaction())) == [
        ("invoke", ("transaction", 2), None), ("send", "p1", Prepare(2)),
        ("send", "p2", Prepare(2)), ("set", VoteTimeout(2), 5.0)]
    assert (c.started, c.votes, c.acked) == (2, {}, set())
    c.handle(Vote(2, False), "p1")
    c.handle(Ack(2), "p1")
    assert plain(c.handle(Ack(2), "p2")) == [("cancel", Resend(2))]      # the last: no next


def test_stale_acks_are_ignored():
    """An Ack for a transaction that is not the current one, or before any decision, is ignored."""
    c = coordinator()
    assert plain(c.handle(Ack(1), "p1")) == [] and c.acked == set()
    c.handle(Vote(1, False), "p1")
    assert plain(c.handle(Ack(0), "p1")) == [] and c.acked == set()


# ---- timeouts and crashes ----------------------------------------------------------------

def test_prepare_timeout_aborts_a_participant_that_has_not_voted():
    """Rule 5: with no Prepare in time a participant aborts on its own (silently); when the
    Prepare comes it votes no."""
    p = participant()
    assert plain(p.handle(PrepareTimeout(1))) == []
    assert p.log == {1: "aborted"}
    assert plain(p.handle(Prepare(1), "coord")) == [("send", "coord", Vote(1, False))]


def test_prepare_timeout_does_not_touch_a_participant_in_doubt():
    """Rule 5: after voting yes it must wait: a (stale) PrepareTimeout leaves it in doubt."""
    p = participant()
    p.handle(Prepare(1), "coord")
    assert plain(p.handle(PrepareTimeout(1))) == []
    assert p.log == {1: "prepared"}


def test_a_decision_never_changes():
    """Rules 4-5: a final entry stays: Commit after "aborted" keeps "aborted", Abort after
    "committed" keeps "committed" (each still acknowledged, so the coordinator stops
    resending), and a Commit for a transaction never voted on is ignored."""
    p = participant()
    p.handle(PrepareTimeout(1))
    assert plain(p.handle(Commit(1), "coord")) == [("send", "coord", Ack(1))]
    assert p.log == {1: "aborted"}
    q = participant()
    q.handle(Prepare(1), "coord")
    q.handle(Commit(1), "coord")
    assert plain(q.handle(Abort(1), "coord")) == [("send", "coord", Ack(1))]
    assert plain(q.handle(Answer(1, "abort"), "p2")) == []
    assert q.log == {1: "committed"}
    r = participant()
    assert plain(r.handle(Commit(1), "coord")) == [] and r.log == {}


def test_a_participant_that_never_voted_may_learn_an_abort():
    """An Abort for a transaction without an entry (its Prepare was lost) is applied."""
    p = participant()
    assert plain(p.handle(Abort(1), "coord")) == [
        ("cancel", PrepareTimeout(1)), ("cancel", DecisionTimeout(1)), ("send", "coord", Ack(1))]
    assert p.log == {1: "aborted"}


def test_crash_keeps_the_disks_and_forgets_the_rest():
    """Rule 6: the coordinator's decisions and started, a participant's log survive a crash;
    the votes and acks heard do not."""
    c = coordinator()
    c.handle(Vote(1, True), "p1")
    c.handle(Vote(1, True), "p2")
    c.handle(Ack(1), "p1")
    c.crash_reset()
    assert (c.decisions, c.started, c.votes, c.acked) == ({1: "commit"}, 1, {}, set())
    p = participant()
    p.handle(Prepare(1), "coord")
    p.crash_reset()
    assert p.log == {1: "prepared"}


def test_restarted_coordinator_sends_its_logged_decision_again():
    """Rule 6: a coordinator that restarts with a logged decision tells every participant
    again (it forgot who acknowledged) and keeps resending."""
    c = coordinator()
    c.handle(Vote(1, True), "p1")
    c.handle(Vote(1, True), "p2")
    c.handle(Ack(1), "p1")
    c.crash_reset()
    assert plain(c.run_hook("on_restart")) == [
        ("send", "p1", Commit(1)), ("send", "p2", Commit(1)), ("set", Resend(1), 5.0)]
    assert c.decisions == {1: "commit"}


def test_restarted_coordinator_without_a_decision_presumes_abort():
    """Rule 6: no decision on disk means nobody can have committed: abort, logged first."""
    c = coordinator()
    c.handle(Vote(1, True), "p1")
    c.crash_reset()
    assert plain(c.run_hook("on_restart")) == decided("abort")
    assert c.decisions == {1: "abort"}


def test_restarted_coordinator_never_reuses_a_transaction_number():
    """Rule 6: "started" is on disk: a coordinator that crashes during transaction 2 aborts
    transaction 2 on restart rather than beginning it (or 1) again."""
    c = coordinator(transactions=3)
    c.handle(Vote(1, True), "p1")
    c.handle(Vote(1, True), "p2")
    c.handle(Ack(1), "p1")
    c.handle(Ack(1), "p2")
    c.handle(NextTransaction())
    c.crash_reset()
    assert plain(c.run_hook("on_restart")) == decided("abort", tx=2)
    assert (c.started, c.decisions) == (2, {1: "commit", 2: "abort"})


def test_restarted_participant_in_doubt_stays_in_doubt():
    """Rule 6: a participant restarting in doubt stays in doubt and waits (with termination
    it asks again after the timeout); one with nothing in doubt waits for the next Prepare."""
    p = participant()
    p.handle(Prepare(1), "coord")
    p.crash_reset()
    assert plain(p.run_hook("on_restart")) == [] and p.log == {1: "prepared"}
    q = participant(termination=True)
    q.handle(Prepare(1), "coord")
    q.crash_reset()
    assert plain(q.run_hook("on_restart")) == [("set", DecisionTimeout(1), 5.0)]
    r = participant(transactions=2)
    r.handle(Prepare(1), "coord")
    r.handle(Commit(1), "coord")
    r.crash_reset()
    assert plain(r.run_hook("on_restart")) == []     # transaction 2 comes with its Prepare
    fresh = participant()
    fresh.crash_reset()
    assert plain(fresh.run_hook("on_restart")) == [("set", PrepareTimeout(1), 5.0)]


# ---- cooperative termination ---------------------------------------------------------------

def test_participant_in_doubt_asks_everyone_else_and_asks_again():
    """Rule 7: DecisionTimeout at a participant in doubt sends Ask to the coordinator and to
    every other participant, and sets the timer again; once decided, or without
    termination, it does nothing."""
    p = participant(participants=3, termination=True)
    p.handle(Prepare(1), "coord")
    assert plain(p.handle(DecisionTimeout(1))) == [
        ("send", "coord", Ask(1)), ("send", "p2", Ask(1)), ("send", "p3", Ask(1)),
        ("set", DecisionTimeout(1), 5.0)]
    p.handle(Commit(1), "coord")
    assert plain(p.handle(DecisionTimeout(1))) == []
    q = participant()
    q.handle(Prepare(1), "coord")
    assert plain(q.handle(DecisionTimeout(1))) == []


def test_ask_to_a_participant_that_has_not_voted_makes_it_abort():
    """Rule 7: a participant that has not voted aborts (nobody can have committed without its
    yes), answers "abort", and later votes no."""
    p = participant("p2", termination=True)
    assert plain(p.handle(Ask(1), "p1")) == [
        ("cancel", PrepareTimeout(1)), ("send", "p1", Answer(1, "abort"))]
    assert p.log == {1: "aborted"}
    assert plain(p.handle(Prepare(1), "coord")) == [("send", "coord", Vote(1, False))]


def test_ask_answers_what_the_participant_knows():
    """Rule 7: in doubt itself it answers "uncertain"; decided, it answers the decision."""
    p = participant("p2", termination=True)
    p.handle(Prepare(1), "coord")
    assert plain(p.handle(Ask(1), "p1")) == [("send", "p1", Answer(1, "uncertain"))]
    p.handle(Commit(1), "coord")
    assert plain(p.handle(Ask(1), "p1")) == [("send", "p1", Answer(1, "commit"))]
    q = participant("p2", votes={"p2": "no"}, termination=True)
    q.handle(Prepare(1), "coord")
    assert plain(q.handle(Ask(1), "p1")) == [("send", "p1", Answer(1, "abort"))]


def test_coordinator_answers_ask_once_it_has_decided():
    """Rule 7: the coordinator answers with its logged decision, and says nothing before."""
    c = coordinator(termination=True)
    assert plain(c.handle(Ask(1), "p1")) == []
    c.handle(Vote(1, False), "p2")
    assert plain(c.handle(Ask(1), "p1")) == [("send", "p1", Answer(1, "abort"))]
    assert plain(c.handle(Answer(1, "commit"), "p2")) == []       # a stray Answer: ignored


def test_an_answer_with_the_decision_settles_a_participant_in_doubt():
    """Rule 7: the first Answer "commit" or "abort" is applied (its timers cleared); an
    "uncertain" one changes nothing."""
    p = participant(termination=True)
    p.handle(Prepare(1), "coord")
    assert plain(p.handle(Answer(1, "uncertain"), "p2")) == [] and p.in_doubt(1)
    assert plain(p.handle(Answer(1, "commit"), "p2")) == [
        ("cancel", PrepareTimeout(1)), ("cancel", DecisionTimeout(1))]
    assert p.log == {1: "committed"}
    q = participant(termination=True)
    q.handle(Prepare(1), "coord")
    q.handle(Answer(1, "abort"), "coord")
    assert q.log == {1: "aborted"}


# ---- message counts and scripted runs ------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_a_commit_costs_four_messages_per_participant(n):
    """Nothing going wrong, n participants: Prepare, Vote, Commit and Ack, n of each (4n);
    with latency 1 the decision comes at t=2 and the last Ack at t=4."""
    sim = Simulation(twopc_system(n))
    trace = sim.run()
    assert trace.message_counts() == {"Prepare": n, "Vote": n, "Commit": n, "Ack": n}
    assert sum(trace.message_counts().values()) == 4 * n
    assert [(op.op, op.result, op.latency) for op in trace.history()] == [(T1, "commit", 2.0)]
    assert set(final_outcomes(sim).values()) == {"committed"} and trace.duration == 4.0


def test_an_abort_with_one_no_costs_the_same():
    """One participant of three votes no: the votes were all sent already, so an abort also
    takes n of each of Prepare, Vote, Abort and Ack, and every participant ends aborted."""
    sim = Simulation(twopc_system(3, votes={"p2": "no"}))
    trace = sim.run()
    assert trace.message_counts() == {"Prepare": 3, "Vote": 3, "Abort": 3, "Ack": 3}
    assert [(op.op, op.result) for op in trace.history()] == [(T1, "abort")]
    assert final_outcomes(sim) == {"p1": "aborted", "p2": "aborted", "p3": "aborted"}


def test_transactions_run_one_after_another():
    """Three transactions: 4n messages each, one after the other (each begins with the last
    Ack of the one before), each in doubt from t+1 to t+3 at every participant."""
    sim = Simulation(twopc_system(2, transactions=3))
    trace = sim.run()
    assert trace.message_counts() == {"Prepare": 6, "Vote": 6, "Commit": 6, "Ack": 6}
    assert [(op.op[1], op.invoke, op.result) for op in trace.history()] == [
        (1, 0.0, "commit"), (2, 4.0, "commit"), (3, 8.0, "commit")]
    assert doubt_intervals(trace, 2) == {"p1": (5.0, 7.0), "p2": (5.0, 7.0)}
    assert sim.node("p1").log == {1: "committed", 2: "committed", 3: "committed"}
    assert decisions_never_change(trace)


def test_coordinator_crash_after_the_votes_blocks_until_it_returns():
    """Rules 6 and 8: the coordinator crashes at t=1.5, after the participants voted yes (t=1)
    and before the votes arrive (t=2).  Both participants stay in doubt, even with
    cooperative termination (they ask each other at t=6 and both answer "uncertain"),
    until the coordinator restarts at t=10 and presumes abort: Abort arrives at t=11."""
    for termination in (False, True):
        sim = Simulation(twopc_system(2, termination=termination),
                         faults=[crash("coord", at=1.5), restart("coord", at=10)])
        trace = sim.run()
        assert doubt_intervals(trace) == {"p1": (1.0, 11.0), "p2": (1.0, 11.0)}
        assert [(op.result, op.latency) for op in trace.history()] == [("abort", 10.0)]
        assert final_outcomes(sim) == {"p1": "aborted", "p2": "aborted"}
        answers = {e.msg.outcome for e in trace.select("send", msg_type="Answer")
                   if e.time < 10}
        assert answers == ({"uncertain"} if termination else set())


def test_without_the_coordinator_everyone_in_doubt_stays_in_doubt():
    """Rule 8: the coordinator crashes for good after both voted yes: at t=60 both are
    still in doubt, asking in vain every 5 time units."""
    sim = Simulation(twopc_system(2, termination=True), faults=[crash("coord", at=1.5)])
    trace = sim.run(until=60)
    assert final_outcomes(sim) == {"p1": "in doubt", "p2": "in doubt"}
    assert doubt_intervals(trace) == {"p1": (1.0, None), "p2": (1.0, None)}
    assert trace.count("send", node="p1", msg_type="Ask") == 2 * 11    # t=6, 11, ..., 56


def test_termination_settles_a_participant_when_another_has_not_voted():
    """Rules 5 and 7: p2's Prepare is slow (20), the coordinator crashes at t=1.5 for good.
    p2 aborts on its own at t=5 (PrepareTimeout).  Plain 2PC leaves p1 in doubt; with
    termination p1 asks at t=6, p2 answers "abort" and p1 aborts at t=8."""
    def run(termination):
        net = Network(links={("coord", "p2"): Constant(20)})
        sim = Simulation(twopc_system(2, termination=termination), network=net,
                         faults=[crash("coord", at=1.5)])
        return sim, sim.run(until=40)

    sim, trace = run(False)
    assert final_outcomes(sim) == {"p1": "in doubt", "p2": "aborted"}
    sim, trace = run(True)
    assert final_outcomes(sim) == {"p1": "aborted", "p2": "aborted"}
    assert doubt_intervals(trace) == {"p1": (1.0, 8.0)}


def test_final_outcomes_names_missing_entries():
    """A participant that crashed before its Prepare arrived (and stayed down) has no entry;
    the coordinator aborts at its VoteTimeout (t=5)."""
    sim = Simulation(twopc_system(2), faults=[crash("p2", at=0.5)])
    sim.run(until=30)
    assert final_outcomes(sim) == {"p1": "aborted", "p2": "no entry"}
    assert sim.node("coord").decisions == {1: "abort"}


class Forgetful(Participant):
    """A wrong participant: its log is not on disk."""

    stable = ()


class Fickle(Participant):
    """A wrong participant: it applies any Abort, even over a final entry."""

    def on_abort(self, msg, sender):
        self.log[msg.tx] = "aborted"
        self.send(sender, Ack(msg.tx))


class ForgetfulCoordinator(Coordinator):
    """A wrong coordinator: its decisions are not on disk."""

    stable = ("started",)


def participants_only(trace):
    """The trace without the coordinator's events."""
    part = copy.copy(trace)
    part.events = [e for e in trace.events if e.node != "coord"]
    return part


def test_decisions_never_change_catches_a_lost_or_changed_decision():
    """The trace analysis fails when a final entry disappears or changes.  A participant
    whose log is not on disk loses "committed" when it crashes at t=3.5 (the Commit came at
    t=3) and later aborts on its own.  A coordinator whose decisions are not on disk,
    crashing at t=3.5, loses "commit" and presumes abort when it restarts at t=4.5; a
    participant that applies any Abort then turns "committed" into "aborted", which the
    analysis sees in the participants' events alone.  Correct participants keep "committed"."""
    sim = Simulation(twopc_system(2, participant=Forgetful),
                     faults=[crash("p1", at=3.5), restart("p1", at=4)])
    trace = sim.run()
    assert sim.node("p1").log == {1: "aborted"} and not decisions_never_change(trace)
    faults = [crash("coord", at=3.5), restart("coord", at=4.5)]
    sim = Simulation(twopc_system(2, coordinator=ForgetfulCoordinator, participant=Fickle),
                     faults=faults)
    trace = sim.run()
    assert sim.node("coord").decisions == {1: "abort"} and sim.node("p1").log == {1: "aborted"}
    assert not decisions_never_change(trace)
    assert not decisions_never_change(participants_only(trace))
    sim = Simulation(twopc_system(2, coordinator=ForgetfulCoordinator), faults=faults)
    trace = sim.run()
    assert final_outcomes(sim) == {"p1": "committed", "p2": "committed"}
    assert not decisions_never_change(trace) and decisions_never_change(participants_only(trace))


# ---- randomized runs -------------------------------------------------------------------------

NODES = ("coord", "p1", "p2", "p3")


def random_faults(rng):
    """Two crashes (each with its restart) of random nodes and a partition that heals, all
    within the first 20 time units."""
    faults = []
    for _ in range(2):
        who, at = rng.choice(NODES), rng.uniform(0, 20)
        faults += [crash(who, at=at), restart(who, at=at + rng.uniform(1, 10))]
    at = rng.uniform(0, 20)
    faults += [partition([rng.choice(NODES)], at=at), heal(at=at + rng.uniform(1, 10))]
    return faults


def random_run(seed, termination):
    rng = random.Random(seed)
    votes = [rng.choice(["yes"] * 9 + ["no"]) for _ in range(3)]
    sim = Simulation(twopc_system(3, votes=votes, transactions=3, timeout=4,
                                  termination=termination),
                     network=Network(Uniform(0.5, 1.5), loss=0.05),
                     faults=random_faults(rng), seed=seed)
    sim.run(until=120)
    return sim


@pytest.mark.parametrize("termination, commits", [(False, 576), (True, 607)])
def test_random_runs_keep_atomicity(termination, commits):
    """500 seeds, 5% loss, random latency, votes mostly yes, two crashes with restarts of any
    nodes and a partition: in every run no decision ever changes, and each of the three
    transactions ended the same way everywhere (every node is back and the network whole,
    so the coordinator's resends reach everyone by t=120), as the coordinator decided and
    reported.  About two in five commit: a participant votes no in about a quarter of the
    runs (its vote holds for all three transactions), and a lost Prepare or vote, or a
    crash or partition during the vote, ends in an abort.  Cooperative termination commits
    a few more: a participant that restarts in doubt can learn a commit from the others."""
    total = 0
    for seed in range(500):
        sim = random_run(seed, termination)
        coord = sim.node("coord")
        assert decisions_never_change(sim.trace), f"seed {seed}"
        assert coord.started == 3 and not sim.crashed, f"seed {seed}"
        results = {op.op[1]: op.result for op in sim.trace.history()}
        for tx in (1, 2, 3):
            decision = coord.decisions[tx]
            outcomes = set(final_outcomes(sim, tx).values())
            assert outcomes == {"committed" if decision == "commit" else "aborted"}, (
                f"seed {seed}, transaction {tx}: {decision} but {final_outcomes(sim, tx)}")
            assert results[tx] == decision, f"seed {seed}"
            total += decision == "commit"
    assert total == commits                # of 1,500 transactions


def test_same_seed_same_trace():
    """Randomized runs are reproducible: same seed, same digest."""
    assert random_run(11, True).trace.digest() == random_run(11, True).trace.digest()


# ---- the checker ---------------------------------------------------------------------------

def test_checker_2pc_keeps_atomicity_and_can_block_in_two_steps():
    """Two participants, a duplicating network (so drops add nothing: a message may stay
    undelivered forever), one crash of any node: atomicity holds in all 1,689 reachable
    states (13,803 transitions, depth 12).  It holds because only the coordinator decides,
    it logs before telling, and a yes voter never decides on its own.  The counts are too
    large to derive by hand; they are pinned so any change to the protocol shows.  The
    blocked state is 2 steps away: p1 votes yes, the coordinator crashes."""
    r = check(twopc_system(2), Controls(duplicate=True, max_crashes=1),
              invariants={"atomicity": atomicity}, goals={"blocked": blocked}, progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (1689, 13803, 12)
    assert r.goals["blocked"].path.actions == [Deliver("coord", "p1", Prepare(1)), Crash("coord")]


def test_checker_2pc_two_crashes():
    """Two crashes (any nodes, restarts allowed): still atomic, 3,564 states (29,391
    transitions, depth 14); the second crash more than doubles the state space."""
    r = check(twopc_system(2), Controls(duplicate=True, max_crashes=2),
              invariants={"atomicity": atomicity}, progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (3564, 29391, 14)


def test_checker_2pc_with_termination_keeps_atomicity():
    """Cooperative termination adds the Ask and Answer messages and the DecisionTimeout
    timers: 44,519 states (622,645 transitions, depth 20; about 3 s), atomic in all of them:
    a participant that has not voted may abort when asked because its missing yes means
    the coordinator cannot commit."""
    r = check(twopc_system(2, termination=True), Controls(duplicate=True, max_crashes=1),
              invariants={"atomicity": atomicity}, progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (44519, 622645, 20)


def coordinator_dies(termination):
    """The coordinator may crash once and never comes back."""
    return NodeModel(twopc_system(2, termination=termination),
                     Controls(duplicate=True, max_crashes=1, crashable=("coord",), restart=False))


def logs(s):
    return [p.log for p in participant_states(s)]


def test_plain_2pc_blocked_for_good():
    """The coordinator dies for good.  Of the 483 reachable states, 7 are blocked; from 4 of
    them everyone still learns the outcome (the decision was sent before the crash and is
    still in flight), from 3 never: one participant prepared and the other prepared too or
    not yet voted.  In the last case the other one is not even in doubt, yet plain 2PC
    cannot use it: nobody asks.  Shortest path: p1 votes yes, the coordinator crashes."""
    r = can_still_reach(coordinator_dies(False), {"everyone decided": everyone_decided},
                        where=blocked, progress=False)
    assert (r.states, r.transitions, r.matching, len(r.stuck)) == (483, 3957, 7, 3)
    assert r.complete and not r.ok
    assert r.path.actions == [Deliver("coord", "p1", Prepare(1)), Crash("coord")]
    assert sorted(map(str, map(logs, r.stuck))) == [
        "[{1: 'prepared'}, {1: 'prepared'}]", "[{1: 'prepared'}, {}]", "[{}, {1: 'prepared'}]"]
    assert any(not all_in_doubt(s) for s in r.stuck)
    assert r.summary() == (
        "483 states, 3,957 transitions: explored every reachable state\n"
        "7 states where 'blocked' holds; from 3 of them 'everyone decided' can never be "
        "reached (shortest path to one: 2 steps)")


def test_termination_blocks_only_when_everyone_is_in_doubt():
    """With cooperative termination, 12,269 states, 69 of them blocked, 9 stuck for good:
    each has both participants in doubt (rule 8); the 9 differ only in which Asks and
    "uncertain" Answers are in flight.  A participant that has not voted gets asked and
    aborts, so it no longer blocks the other.  Shortest path: both vote yes, the
    coordinator crashes."""
    r = can_still_reach(coordinator_dies(True), {"everyone decided": everyone_decided},
                        where=blocked, progress=False)
    assert (r.states, r.transitions, r.matching, len(r.stuck)) == (12269, 182937, 69, 9)
    assert all(all_in_doubt(s) for s in r.stuck)
    assert r.path.actions == [Deliver("coord", "p1", Prepare(1)),
                              Deliver("coord", "p2", Prepare(1)), Crash("coord")]


class Hasty(Participant):
    """A wrong participant: in doubt too long, it aborts instead of asking."""

    def on_decision_timeout(self, timer):
        if self.in_doubt(timer.tx):
            self.learn(timer.tx, "aborted")


class MajorityCoordinator(Coordinator):
    """A wrong coordinator: it commits on a majority of yes votes."""

    def on_vote(self, msg, sender):
        tx = msg.tx
        if tx != self.started or tx in self.decisions:
            return
        self.votes[sender] = msg.yes
        if 2 * sum(self.votes.values()) > len(self.participants):
            self.decide(tx, "commit")
        elif len(self.votes) == len(self.participants):
            self.decide(tx, "abort")


def test_checker_finds_a_participant_that_gives_up_on_doubt():
    """Rule 2 matters: a participant that aborts on its own after voting yes breaks
    atomicity in 5 steps, with no crash or loss at all: both vote yes, the coordinator
    commits, p1's DecisionTimeout fires first."""
    r = check(twopc_system(2, termination=True, participant=Hasty), Controls(),
              invariants={"atomicity": atomicity}, progress=False)
    assert r.violation.path.actions == [
        Deliver("coord", "p1", Prepare(1)), Deliver("coord", "p2", Prepare(1)),
        Deliver("p1", "coord", Vote(1, True)), Deliver("p2", "coord", Vote(1, True)),
        Fire("p1", DecisionTimeout(1))]
    last = r.violation.path.states[-1]
    assert logs(last) == [{1: "aborted"}, {1: "prepared"}]
    assert last.node("coord").decisions == {1: "commit"}


def committed_and_aborted(s):
    states = {p.log.get(1) for p in participant_states(s)}
    return not {"committed", "aborted"} <= states


def test_checker_finds_a_coordinator_that_commits_on_a_majority():
    """Rule 3 matters: committing on 2 yes votes of 3 (p3 votes no) violates atomicity in 4
    steps (commit decided while p3 has not voted) and puts one participant in "committed"
    and another in "aborted" in 6 (p3's no arrives too late to matter)."""
    nodes = twopc_system(3, votes=["yes", "yes", "no"], coordinator=MajorityCoordinator)
    r = check(nodes, Controls(), invariants={"atomicity": atomicity}, progress=False)
    assert len(r.violation.path) == 4
    assert r.violation.path.states[-1].node("coord").decisions == {1: "commit"}
    r = check(nodes, Controls(), progress=False,
              invariants={"never committed and aborted": committed_and_aborted})
    assert r.violation.path.actions == [
        Deliver("coord", "p1", Prepare(1)), Deliver("coord", "p2", Prepare(1)),
        Deliver("coord", "p3", Prepare(1)), Deliver("p1", "coord", Vote(1, True)),
        Deliver("p2", "coord", Vote(1, True)), Deliver("coord", "p1", Commit(1))]
    assert logs(r.violation.path.states[-1]) == [{1: "committed"}, {1: "prepared"},
                                                  {1: "aborted"}]


# ---- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("config, message", [
    (dict(participants=0), "participants must be a whole number >= 1, got 0"),
    (dict(participants=2.0), "participants must be a whole number >= 1, got 2.0"),
    (dict(participants="2"), "participants must be a whole number >= 1, got '2'"),
    (dict(participants=True), "participants must be a whole number >= 1, got True"),
    (dict(transactions=-1), "transactions must be a whole number >= 0, got -1"),
    (dict(timeout=0), "timeout must be a finite number > 0, got 0"),
    (dict(timeout=-1.5), "timeout must be a finite number > 0, got -1.5"),
    (dict(timeout=float("nan")), "timeout must be a finite number > 0, got nan"),
    (dict(timeout=float("inf")), "timeout must be a finite number > 0, got inf"),
    (dict(timeout="5"), "timeout must be a finite number > 0, got '5'"),
    (dict(think=-1), "think must be a finite number >= 0, got -1"),
    (dict(termination="yes"), "termination must be True or False, got 'yes'"),
    (dict(votes={"p9": "no"}),
     "votes name unknown participant(s) ['p9']; participants are ['p1', 'p2']"),
    (dict(votes=["yes", "maybe"]), "a vote is 'yes' or 'no'; got {'p2': 'maybe'}"),
    (dict(votes={"p1": True}), "a vote is 'yes' or 'no'; got {'p1': True}"),
    (dict(votes=["yes"]), "votes: give one vote per participant (2), got ['yes']"),
    (dict(votes="yes"), "votes must be None, a list or a dict of 'yes'/'no', got 'yes'"),
    (dict(coordinator=Participant),
     ("coordinator must be Coordinator or a subclass of it, got <class "
      "'replib.protocols.twopc.Participant'>")),
    (dict(participant=object),
     "participant must be Participant or a subclass of it, got <class 'object'>"),
])
def test_bad_configuration_says_what_is_allowed(config, message):
    """The builder refuses bad arguments with a ValueError that says what is allowed."""
    with pytest.raises(ValueError, match=re.escape(message)):
        twopc_system(**config)


def test_votes_as_a_dict_default_to_yes():
    """votes={"p2": "no"}: the participants not named vote yes."""
    assert [n.vote for n in twopc_system(3, votes={"p2": "no"})[1:]] == ["yes", "no", "yes"]


def test_a_coordinator_that_tells_before_it_logs_breaks_atomicity():
    """Rule 3 broken (TellsBeforeLogging): the checker crashes it after its Commit reached
    p1 but before the log write (a step of its own); restarted with nothing on disk it
    aborts, and p2 hears Abort.  The correct coordinator is safe on the same controls."""
    from replib.protocols.twopc import TellsBeforeLogging
    controls = Controls(duplicate=True, max_crashes=1, crashable=("coord",))
    bad = check(twopc_system(2, coordinator=TellsBeforeLogging), controls,
                invariants={"atomicity": atomicity}, progress=False)
    assert len(bad.violation.path) == 8
    assert [str(a) for a in bad.violation.path.actions][4:] == [
        "deliver Commit coord->p1: Commit(tx=1)", "crash coord", "restart coord",
        "deliver Abort coord->p2: Abort(tx=1)"]
    good = check(twopc_system(2), controls, invariants={"atomicity": atomicity},
                 progress=False)
    assert good.complete and good.violation is None
