"""Single-decree Paxos: each numbered rule of replib.protocols.paxos as a handler test with
exact effects, the builder's checks of its arguments, message counts of a normal run,
randomized runs with loss, duplication, crashes and partitions (safety), runs with one
proposer left (liveness), and the checker's results on small configurations and on four
misreadings of the rules."""

import random
import re

import pytest
from helpers import attached, plain

from replib import Controls, Crash, Deliver, Network, Restart, Simulation, Uniform
from replib.check import check
from replib.faults import crash, heal, partition, restart
from replib.experiments.proposal_numbers import EagerAcceptor
from replib.protocols.misreadings import (
    ForgetsPromise, IgnoresPrepareValue, IgnoresReports, OverwritesOnEqualPrepare,
    PrepareWithValue, ValueInPrepare)
from replib.protocols.paxos import (
    PAXOS_INVARIANTS,
    Accept,
    Accepted,
    Acceptor,
    Backoff,
    Prepare,
    Promise,
    Proposer,
    Reject,
    RetryTimeout,
    agreement,
    check_paxos,
    chosen_in_trace,
    paxos_system,
    promises_never_decrease,
    value_chosen,
)


def system(**config):
    """A Paxos system's nodes attached to a fake network, by id (nothing started)."""
    return attached(paxos_system(**config))


def acceptor(id="a1", **config):
    return system(**config)[id]


def proposer(id="p1", start=True, **config):
    p = system(**config)[id]
    if start:
        p.run_hook("on_start")
    return p


def prepares(ballot, acceptors=("a1", "a2", "a3"), timeout=6.0):
    """What beginning a ballot looks like (rule 1a): Prepare to every acceptor, then the timer."""
    return ([("send", a, Prepare(ballot)) for a in acceptors]
            + [("set", RetryTimeout(ballot), timeout)])


# ---- acceptors: rule 1b ------------------------------------------------------------------

class WatchedAcceptor(Acceptor):
    """Records its disk (promised, accepted) at the moment each message leaves."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._disk_at_send = []

    def send(self, to, msg):
        self._disk_at_send.append((msg, self.promised, self.accepted))
        super().send(to, msg)


def test_acceptor_promises_a_higher_number_and_writes_it_first():
    """Rule 1b: Prepare(n) with n above the promise (None is below every number) is answered
    Promise(n, accepted); ``promised`` is n on disk before the Promise leaves.  A later,
    higher Prepare is promised too."""
    a = system(acceptor=WatchedAcceptor)["a1"]
    assert plain(a.handle(Prepare(3), "p1")) == [("send", "p1", Promise(3, None))]
    assert a.promised == 3 and a.accepted is None
    assert plain(a.handle(Prepare(4), "p2")) == [("send", "p2", Promise(4, None))]
    assert a.promised == 4
    assert a._disk_at_send == [(Promise(3, None), 3, None), (Promise(4, None), 4, None)]


def test_promise_reports_the_last_accepted_proposal():
    """Rule 1b: the Promise carries the (number, value) accepted last, not the first one."""
    a = acceptor()
    a.handle(Accept(1, "v2"), "p2")
    a.handle(Accept(2, "v1"), "p1")
    assert plain(a.handle(Prepare(5), "p1")) == [("send", "p1", Promise(5, (2, "v1")))]
    assert (a.promised, a.accepted) == (5, (2, "v1"))


def test_acceptor_rejects_a_number_not_above_its_promise():
    """Rule 1b: Prepare(n) with n <= promised is answered Reject(n, promised) and changes
    nothing; a repeated Prepare of the promised number itself is rejected too (strictly
    greater is required)."""
    a = acceptor()
    a.handle(Prepare(3), "p1")
    assert plain(a.handle(Prepare(2), "p2")) == [("send", "p2", Reject(2, 3))]
    assert plain(a.handle(Prepare(3), "p1")) == [("send", "p1", Reject(3, 3))]
    assert (a.promised, a.accepted, a.votes) == (3, None, set())


# ---- acceptors: rule 2b ------------------------------------------------------------------

def test_acceptor_accepts_at_or_above_its_promise():
    """Rule 2b: Accept(n, v) with n >= promised sets promised = n and accepted = (n, v), adds
    (n, v) to votes, and sends Accepted(n, v) to the proposer and then every learner."""
    a = acceptor(learners=2)
    a.handle(Prepare(3), "p1")
    assert plain(a.handle(Accept(3, "v1"), "p1")) == [
        ("send", "p1", Accepted(3, "v1")), ("send", "l1", Accepted(3, "v1")),
        ("send", "l2", Accepted(3, "v1"))]
    assert (a.promised, a.accepted, a.votes) == (3, (3, "v1"), {(3, "v1")})
    assert plain(a.handle(Accept(5, "v2"), "p2")) == [
        ("send", "p2", Accepted(5, "v2")), ("send", "l1", Accepted(5, "v2")),
        ("send", "l2", Accepted(5, "v2"))]
    assert (a.promised, a.accepted, a.votes) == (5, (5, "v2"), {(3, "v1"), (5, "v2")})


def test_acceptor_accepts_without_any_promise():
    """Rule 2b: with nothing promised (None) any Accept is accepted, and the promise rises."""
    a = acceptor(learners=0)
    assert plain(a.handle(Accept(2, "v1"), "p1")) == [("send", "p1", Accepted(2, "v1"))]
    assert (a.promised, a.accepted) == (2, (2, "v1"))


def test_acceptor_rejects_an_accept_below_its_promise():
    """Rule 2b: Accept(n, v) with n < promised is answered Reject(n, promised); nothing is
    accepted and nobody else hears of it."""
    a = acceptor()
    a.handle(Prepare(4), "p2")
    assert plain(a.handle(Accept(3, "v1"), "p1")) == [("send", "p1", Reject(3, 4))]
    assert (a.promised, a.accepted, a.votes) == (4, None, set())


def test_acceptor_disk_survives_a_crash():
    """Disk: promised, accepted and votes are stable: a crash keeps all three (and the
    acceptor's configuration); restarting sends nothing."""
    a = acceptor()
    a.handle(Accept(1, "v2"), "p2")
    a.handle(Prepare(4), "p1")
    a.crash_reset()
    assert (a.promised, a.accepted, a.votes, a.learners) == (4, (1, "v2"), {(1, "v2")}, ("l1",))
    assert plain(a.run_hook("on_restart")) == []


# ---- proposers: rule 1a and 2a -----------------------------------------------------------

def test_proposer_first_ballot_follows_mod_n():
    """Rule 1a: with 2 proposers and ModN(2), p1 (index 0) starts with 2 and p2 (index 1)
    with 1; each sends Prepare to every acceptor and sets RetryTimeout; on disk: seen is
    the ballot, tries is 1."""
    for id, ballot in (("p1", 2), ("p2", 1)):
        p = proposer(id, start=False)
        assert plain(p.run_hook("on_start")) == prepares(ballot)
        assert (p.ballot, p.seen, p.tries, p.phase) == (ballot, ballot, 1, "preparing")


def test_proposer_sends_accept_only_to_the_acceptors_that_promised():
    """Rule 2a: the second Promise of three is a quorum: Accept(n, own value) goes to those
    two acceptors (in name order), not the third; a later Promise is ignored."""
    p = proposer()
    assert plain(p.handle(Promise(2, None), "a3")) == []
    assert plain(p.handle(Promise(2, None), "a1")) == [
        ("send", "a1", Accept(2, "v1")), ("send", "a3", Accept(2, "v1"))]
    assert (p.phase, p.proposed, p.promises) == ("accepting", "v1", {})
    assert plain(p.handle(Promise(2, None), "a2")) == []


def test_proposer_proposes_the_highest_numbered_reported_value():
    """Rule 2a: if a promise reports an accepted proposal, the proposer proposes the value
    of the highest-numbered one, not its own."""
    p = proposer(acceptors=5, proposers=3)          # p1: ModN(3), first ballot 3; q1 = 3
    p.handle(Promise(3, (1, "v2")), "a1")
    p.handle(Promise(3, None), "a4")
    assert plain(p.handle(Promise(3, (2, "v3")), "a5")) == [
        ("send", a, Accept(3, "v3")) for a in ("a1", "a4", "a5")]
    assert p.choose_value({"a1": None, "a2": None}) == "v1"
    assert p.choose_value({"a1": (4, "x"), "a2": (7, "y"), "a3": (5, "z")}) == "y"


def test_proposer_ignores_stale_promises():
    """A Promise for another ballot, or one arriving once phase 1 is over, changes nothing."""
    p = proposer()
    assert plain(p.handle(Promise(1, None), "a1")) == [] and p.promises == {}
    assert plain(p.handle(Promise(4, None), "a1")) == [] and p.promises == {}
    q = proposer(start=False)
    assert plain(q.handle(Promise(2, None), "a1")) == [] and q.phase == "idle"


# ---- proposers: retrying -----------------------------------------------------------------

def test_reject_makes_the_proposer_retry_above_the_number_it_learns():
    """Retrying, backoff "none": Reject(n, promised) for the current ballot teaches the
    proposer the higher number, cancels its RetryTimeout and begins at once with the next
    number of its own above it (ModN(2), p1: above 5 is 6)."""
    p = proposer()
    assert plain(p.handle(Reject(2, 5), "a1")) == [("cancel", RetryTimeout(2))] + prepares(6)
    assert (p.seen, p.tries, p.ballot, p.phase) == (6, 2, 6, "preparing")


def test_reject_for_an_old_ballot_teaches_but_does_not_retry():
    """A Reject for a ballot that is not the current one still raises ``seen`` (the next
    ballot will be above it) but does not abandon the current ballot.  A Reject carrying
    the proposer's own number (an acceptor rejecting a duplicated Prepare it already
    promised) teaches nothing and is ignored."""
    p = proposer(max_ballots=3)
    p.handle(Reject(2, 3), "a1")               # retry with 4
    assert plain(p.handle(Reject(2, 9), "a2")) == []
    assert (p.seen, p.ballot, p.phase) == (9, 4, "preparing")
    assert plain(p.handle(Reject(4, 4), "a3")) == []       # its own number: a duplicate Prepare
    assert plain(p.handle(Reject(4, 5), "a3"))[-4:] == prepares(10)


def test_proposer_gives_up_after_max_ballots():
    """max_ballots bounds the numbers tried: with 1, a Reject leaves the proposer idle
    (the timer cancelled, nothing sent); a timeout after that does nothing."""
    p = proposer(max_ballots=1)
    assert plain(p.handle(Reject(2, 3), "a1")) == [("cancel", RetryTimeout(2))]
    assert (p.phase, p.tries, p.seen) == ("idle", 1, 3)
    assert plain(p.handle(RetryTimeout(2))) == []


def test_retry_timeout_retries_only_the_current_ballot():
    """No quorum in time: RetryTimeout for the current ballot retries (next number above
    seen: 4); a RetryTimeout for an old ballot does nothing."""
    p = proposer()
    assert plain(p.handle(RetryTimeout(2))) == [("cancel", RetryTimeout(2))] + prepares(4)
    assert plain(p.handle(RetryTimeout(2))) == []


def test_fixed_backoff_waits_backoff_base():
    """Backoff "fixed": a Reject sets the Backoff timer to backoff_base and the proposer
    waits; when it fires the proposer begins the next ballot; a Backoff while not
    waiting does nothing."""
    p = proposer(backoff="fixed", backoff_base=2.5)
    assert plain(p.handle(Reject(2, 5), "a1")) == [
        ("cancel", RetryTimeout(2)), ("set", Backoff(), 2.5)]
    assert p.phase == "waiting"
    assert plain(p.handle(Reject(2, 5), "a2")) == []          # already given up on 2
    assert plain(p.handle(Backoff())) == prepares(6)
    assert plain(p.handle(Backoff())) == []


def test_random_backoff_draws_from_the_proposers_rng():
    """Backoff "random": the delay is self.rng.uniform(0, min(cap, base * 2**tries)); the
    helpers give each node random.Random(0), so the draws are known exactly.  After many
    tries the bound is the cap."""
    p = proposer(backoff="random", backoff_base=1.5, backoff_cap=10.0)
    expected = random.Random(0)
    effects = plain(p.handle(Reject(2, 5), "a1"))
    assert effects == [("cancel", RetryTimeout(2)),
                       ("set", Backoff(), expected.uniform(0, 1.5 * 2 ** 1))]
    for tries in range(1, 12):
        p.tries = tries
        bound = min(10.0, 1.5 * 2 ** tries)
        d = p.backoff_delay()
        assert d == expected.uniform(0, bound) and 0 <= d <= bound


def test_a_quorum_of_accepted_finishes_the_proposer():
    """A phase-2 quorum of Accepted for the current ballot: phase "done" and the
    RetryTimeout cancelled.  The same acceptor twice counts once; an Accepted for
    another ballot is ignored; after done, a timeout does nothing."""
    p = proposer()
    p.handle(Promise(2, None), "a1")
    p.handle(Promise(2, None), "a2")
    assert plain(p.handle(Accepted(2, "v1"), "a1")) == []
    assert plain(p.handle(Accepted(2, "v1"), "a1")) == []
    assert plain(p.handle(Accepted(1, "v2"), "a2")) == []
    assert plain(p.handle(Accepted(2, "v1"), "a2")) == [("cancel", RetryTimeout(2))]
    assert p.phase == "done"
    assert plain(p.handle(RetryTimeout(2))) == []


def test_restarted_proposer_begins_above_every_number_it_used():
    """Disk: seen and tries survive a crash (the ballot and phase do not); on restart the
    proposer begins a fresh ballot above seen, so it never reuses a number.  An inactive
    proposer (not the leader) stays quiet on restart too."""
    p = proposer(max_ballots=None)
    p.handle(Reject(2, 5), "a1")                 # now at 6
    p.crash_reset()
    assert (p.seen, p.tries, p.ballot, p.phase, p.promises) == (6, 2, None, "idle", {})
    assert plain(p.run_hook("on_restart")) == prepares(8)
    assert p.tries == 3
    q = proposer("p1", leader="p2")
    assert plain(q.run_hook("on_restart")) == [] and q.phase == "idle"


# ---- learners ----------------------------------------------------------------------------

def test_learner_learns_only_with_a_quorum_under_one_ballot():
    """A learner learns v when a phase-2 quorum of acceptors report Accepted(n, v) with the
    same n: two acceptors under different numbers are not enough, nor is one acceptor
    twice; the first quorum decides and later reports change nothing."""
    l1 = system()["l1"]
    assert plain(l1.handle(Accepted(1, "v2"), "a1")) == []
    l1.handle(Accepted(2, "v1"), "a2")
    l1.handle(Accepted(1, "v2"), "a1")
    assert l1.learned is None
    l1.handle(Accepted(2, "v1"), "a3")
    assert l1.learned == "v1"
    l1.handle(Accepted(1, "v2"), "a2")
    l1.handle(Accepted(1, "v2"), "a3")
    assert l1.learned == "v1"


# ---- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("config, message", [
    (dict(acceptors=0), "acceptors must be a whole number >= 1, got 0"),
    (dict(proposers=0), "proposers must be a whole number >= 1, got 0"),
    (dict(learners=-1), "learners must be a whole number >= 0, got -1"),
    (dict(q1=4), "q1 (the phase-1 quorum) must be a whole number from 1 to 3, got 4"),
    (dict(acceptors=2, q2=3), "q2 (the phase-2 quorum) must be a whole number from 1 to 2, got 3"),
    (dict(max_ballots=0), "max_ballots must be a whole number >= 1, got 0"),
    (dict(leader="p3"), "leader must be None or one of the proposers ['p1', 'p2'], got 'p3'"),
    (dict(values=["x"]), "values: give one value per proposer (2), got ['x']"),
    (dict(values=["x", "y", "z"]), "values: give one value per proposer (2), got ['x', 'y', 'z']"),
    (dict(acceptor=Proposer), "acceptor must be Acceptor or a subclass of it, got <class "
                              "'replib.protocols.paxos.Proposer'>"),
    (dict(proposer=object), "proposer must be Proposer or a subclass of it, got <class 'object'>"),
    (dict(backoff="exponential"), "unknown backoff 'exponential'; allowed: none, fixed, random"),
    (dict(timeout=-1), "timeout must be a finite number > 0, got -1"),
    (dict(timeout=0), "timeout must be a finite number > 0, got 0"),
    (dict(backoff_base=float("inf")), "backoff_base must be a finite number > 0, got inf"),
    (dict(ballots="lamport"), "unknown ballot scheme 'lamport'; allowed: mod-n, round-id, naive"),
])
def test_bad_configuration_says_what_is_allowed(config, message):
    """The builder refuses bad arguments with a ValueError that says what is allowed."""
    with pytest.raises(ValueError, match=re.escape(message)):
        paxos_system(**config)


def test_with_a_leader_only_the_leader_proposes():
    """leader="p2": p1 is built inactive and never sends; p2 alone runs ballot 1 and its
    value v2 is chosen and learned."""
    sim = Simulation(paxos_system(leader="p2", timeout=5))
    trace = sim.run()
    assert {e.node for e in trace.select("send", msg_type="Prepare")} == {"p2"}
    assert trace.count("send", node="p1") == 0
    assert chosen_in_trace(trace) == ["v2"] and sim.node("l1").learned == "v2"
    assert (sim.node("p1").phase, sim.node("p2").phase) == ("idle", "done")


# ---- a normal run ------------------------------------------------------------------------

def test_normal_run_with_a_timeout_equal_to_the_round_trip_retries_once():
    """3 acceptors, 1 proposer, 1 learner, latency 1, timeout 4, max_ballots 2.
    Ballot 1: 3 Prepare (t=0), 3 Promise (t=1); the Promises of a1 and a2 arrive first (at
    t=2, in send order), so Accept(1, v1) goes to a1 and a2 only; each answers Accepted to
    p1 and l1 (t=3).  But the round trip is 4 = the timeout, and the RetryTimeout set at
    t=0 fires at t=4 before the Accepteds delivered at t=4 (it was scheduled first), so p1
    gives up on ballot 1, already chosen, and runs ballot 2, which re-proposes v1 (rule 2a)
    and is chosen again.  Its Accepteds again arrive at t=8 just after RetryTimeout(2),
    and with max_ballots=2 p1 ends "idle", not "done".  So: 6 Prepare, 6 Promise, 4 Accept,
    8 Accepted; the learner learned v1 at t=4; one value chosen."""
    sim = Simulation(paxos_system(3, proposers=1, learners=1, timeout=4))
    trace = sim.run()
    assert trace.message_counts() == {"Prepare": 6, "Promise": 6, "Accept": 4, "Accepted": 8}
    assert {(e.peer, e.msg) for e in trace.select("send", msg_type="Accept")} == {
        ("a1", Accept(1, "v1")), ("a2", Accept(1, "v1")),
        ("a1", Accept(2, "v1")), ("a2", Accept(2, "v1"))}
    assert sim.node("l1").learned == "v1" and chosen_in_trace(trace) == ["v1"]
    learned_at = [e.time for e in trace.select("deliver", node="l1")]
    assert learned_at[:2] == [4.0, 4.0]
    p1 = sim.node("p1")
    assert (p1.phase, p1.tries, p1.seen) == ("idle", 2, 2) and trace.duration == 8.0


def test_normal_run_costs_four_message_delays():
    """The same with the default timeout (6, above the round trip): exactly 3 Prepare, 3
    Promise, 2 Accept (to a1 and a2, whose Promises came first), and 2 Accepted to each of
    p1 and l1; the learner learns v1 at t=4, p1 is done and nothing else happens."""
    sim = Simulation(paxos_system(3, proposers=1, learners=1))
    trace = sim.run()
    assert trace.message_counts() == {"Prepare": 3, "Promise": 3, "Accept": 2, "Accepted": 4}
    assert [(e.node, e.peer) for e in trace.select("send", msg_type="Accepted")] == [
        ("a1", "p1"), ("a1", "l1"), ("a2", "p1"), ("a2", "l1")]
    assert sim.node("l1").learned == "v1" and sim.node("p1").phase == "done"
    assert trace.duration == 4.0 and chosen_in_trace(trace) == ["v1"]


def test_a_lone_proposer_finishes_on_a_duplicating_network():
    """One proposer, every message duplicated, latency 1.  Each acceptor promises the first
    copy of Prepare(n) and rejects the second with Reject(n, promised=n), the proposer's
    own number; the proposer must not take that for being preempted (it once did, and
    retried forever), so the value is chosen with the first ballot."""
    sim = Simulation(paxos_system(3, proposers=1, learners=1, max_ballots=None, timeout=5),
                     network=Network(duplicate=1.0))
    trace = sim.run(until=60)
    assert chosen_in_trace(trace) == ["v1"] and sim.node("p1").phase == "done"


# ---- randomized runs: safety -------------------------------------------------------------

ACCEPTORS = ("a1", "a2", "a3")
ALL = ACCEPTORS + ("p1", "p2", "l1")


def random_run(seed, profile, until=12):
    """3 acceptors, 2 proposers, 1 learner, no bound on ballots, randomized exponential
    backoff, timeout 6, latency uniform in 0.5..1.5 (so messages reorder), and one fault
    profile."""
    rng = random.Random(seed)
    net = Network(Uniform(0.5, 1.5))
    faults = []
    if profile == "loss":
        net.loss = 0.3
    elif profile == "duplication":
        net.duplicate = 0.5
    elif profile == "crashes":                     # one acceptor down at a time, twice
        t = rng.uniform(0, 5)
        for _ in range(2):
            who = rng.choice(ACCEPTORS)
            back = t + rng.uniform(0.5, 5)
            faults += [crash(who, at=t), restart(who, at=back)]
            t = back + rng.uniform(0, 3)
    elif profile == "partition":
        at = rng.uniform(0, 8)
        faults = [partition(rng.sample(ALL, rng.choice((1, 2, 3))), at=at),
                  heal(at=at + rng.uniform(1, 10))]
    sim = Simulation(paxos_system(3, 2, 1, max_ballots=None, backoff="random", timeout=6),
                     network=net, faults=faults, seed=seed)
    sim.run(until=until)
    return sim


@pytest.mark.parametrize("profile, until, chosen", [
    ("loss", 12, 495), ("duplication", 10, 1000), ("crashes", 12, 987), ("partition", 12, 944)])
def test_random_runs_never_choose_two_values(profile, until, chosen):
    """1,000 seeds per fault profile: 30% loss; 50% duplication; two crashes with restart
    of one acceptor (a minority) at random times; a partition of 1 to 3 random nodes that
    heals.  In every run at most one value is ever chosen (read from the acceptors'
    votes over the whole trace), the learner learned nothing or that value, and no
    acceptor's promise ever went down.  The number of runs in which a value was chosen
    by the end (t=12; t=10 under duplication, the costliest profile) is pinned: the runs
    are deterministic.  Under 30% loss about half the runs choose nothing by t=12;
    under duplication every run chooses (a Reject of a duplicated Prepare, which carries
    the proposer's own number, no longer makes it abandon its ballot)."""
    count = 0
    for seed in range(1000):
        sim = random_run(seed, profile, until)
        values = chosen_in_trace(sim.trace)
        assert len(values) <= 1, f"seed {seed}: {values}"
        learned = sim.node("l1").learned
        assert learned is None or [learned] == values, f"seed {seed}"
        assert promises_never_decrease(sim.trace), f"seed {seed}"
        count += len(values)
    assert count == chosen


def test_trace_analyses_see_a_lost_promise_and_two_chosen_values():
    """The trace analyses fail when they should.  An acceptor whose promise is not on disk
    (``ForgetsPromise``) promises 1 at t=1, crashes at t=1.5 and restarts at t=2 with
    promised None: promises_never_decrease sees it (a correct acceptor keeps 1).  Quorums
    that need not intersect (2 acceptors, q1 = q2 = 1) under a partition {p1, a1} | {p2,
    a2, ...}: each side chooses its own value, and chosen_in_trace lists both, in the
    order they were chosen (same time; a1 acts first)."""
    for cls, ok in ((Acceptor, True), (ForgetsPromise, False)):
        sim = Simulation(paxos_system(proposers=1, acceptor=cls, timeout=5),
                         faults=[crash("a1", at=1.5), restart("a1", at=2)])
        trace = sim.run()
        assert promises_never_decrease(trace) == ok
    sim = Simulation(paxos_system(acceptors=2, q1=1, q2=1, learners=0),
                     faults=[partition(["p1", "a1"], at=0)])
    assert chosen_in_trace(sim.run(until=10)) == ["v1", "v2"]


# ---- liveness ----------------------------------------------------------------------------

def chosen_at(trace):
    """The time a value was first chosen (a majority of 3 voted for one (number, value))."""
    votes = {}
    for e in trace.events:
        if e.state is not None and "votes" in e.state:
            votes[e.node] = e.state["votes"]
            count = {}
            for vs in votes.values():
                for v in vs:
                    count[v] = count.get(v, 0) + 1
            if max(count.values(), default=0) >= 2:
                return e.time
    return None


@pytest.mark.parametrize("leader", [True, False])
def test_one_proposer_on_a_healed_network_gets_a_value_chosen(leader):
    """Progress: two acceptors are cut off from the rest from t=0 until a random heal time
    H in 5..30, so nothing can be chosen before H.  Either p1 is the leader (p2 never
    proposes), or p2 proposes too but crashes for good at a random time before H.  With
    timeout 6, backoff capped at 8 and latency at most 1.5, a value is chosen within 20
    of H when p1 is alone: an attempt running at H times out within 6, the backoff is at
    most 8, the next attempt needs 4 messages of at most 1.5 each.  If p2 ran, one more
    attempt may be rejected (p2's number is higher): 20 + 8 + 6 = 34.  Measured over 200
    seeds: at most 16.6 after H in both cases."""
    worst = 0.0
    for seed in range(200):
        rng = random.Random(seed)
        heal_at = rng.uniform(5, 30)
        faults = [partition(rng.sample(ACCEPTORS, 2), at=0), heal(at=heal_at)]
        if not leader:
            faults.append(crash("p2", at=rng.uniform(0, heal_at)))
        sim = Simulation(paxos_system(3, 2, 1, max_ballots=None, backoff="random", timeout=6,
                                      backoff_cap=8.0, leader="p1" if leader else None),
                         network=Network(Uniform(0.5, 1.5)), faults=faults, seed=seed)
        trace = sim.run(until=heal_at + 40)
        at = chosen_at(trace)
        assert at is not None and heal_at <= at <= heal_at + (20 if leader else 34), seed
        assert chosen_in_trace(trace) == ["v1"]
        worst = max(worst, at - heal_at)
    assert 16 < worst < 17


# ---- the checker -------------------------------------------------------------------------

def test_checker_one_proposer_one_ballot():
    """3 acceptors, 1 proposer with 1 ballot, no learners, a duplicating network: every
    invariant holds in all 142 reachable states (914 transitions, depth 9), and a value
    is chosen at the earliest in 6 steps: 2 Prepares, 2 Promises, 2 Accepts.  (Without
    ``Proposer.obsolete`` there were 774 states: once the proposer is done, the messages
    still on their way to it change nothing, and the checker forgets them.)"""
    r = check(paxos_system(proposers=1, learners=0, max_ballots=1), Controls(duplicate=True),
              invariants=PAXOS_INVARIANTS, goals={"chosen": value_chosen}, progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (142, 914, 9)
    assert r.goals["chosen"].path.actions == [
        Deliver("p1", "a1", Prepare(1)), Deliver("p1", "a2", Prepare(1)),
        Deliver("a1", "p1", Promise(1, None)), Deliver("a2", "p1", Promise(1, None)),
        Deliver("p1", "a1", Accept(1, "v1")), Deliver("p1", "a2", Accept(1, "v1"))]


def test_checker_flexible_quorums_on_two_acceptors():
    """2 acceptors, 1 proposer, 1 ballot, duplicating network.  q1=2, q2=1 (they
    intersect): safe in all 27 states (110 transitions, depth 7), chosen in 5 steps (one
    Accept is a phase-2 quorum).  q1=1, q2=2 (they intersect too): safe in all 47 states
    (266 transitions, depth 6), chosen in 4 steps: one Promise is a phase-1 quorum, and
    since fewer acceptors promised than a phase-2 quorum needs, Accept goes to all."""
    r = check(paxos_system(acceptors=2, q1=2, q2=1, proposers=1, learners=0, max_ballots=1),
              Controls(duplicate=True), invariants=PAXOS_INVARIANTS,
              goals={"chosen": value_chosen}, progress=False)
    assert r.ok and r.complete and (r.states, r.transitions, r.max_depth) == (27, 110, 7)
    assert len(r.goals["chosen"].path) == 5
    r = check(paxos_system(acceptors=2, q1=1, q2=2, proposers=1, learners=0, max_ballots=1),
              Controls(duplicate=True), invariants=PAXOS_INVARIANTS,
              goals={"chosen": value_chosen}, progress=False)
    assert r.ok and r.complete and (r.states, r.transitions, r.max_depth) == (47, 266, 6)
    assert len(r.goals["chosen"].path) == 4


def test_checker_quorums_that_do_not_intersect_break_agreement():
    """2 acceptors with q1 = q2 = 1 (1 + 1 is not above 2): each proposer runs its ballot
    on a different acceptor, v1 and v2 are both chosen: 6 steps."""
    r = check(paxos_system(acceptors=2, q1=1, q2=1, learners=0, max_ballots=1), Controls(),
              invariants={"agreement": agreement}, progress=False)
    assert r.violation.name == "agreement" and len(r.violation.path) == 6


class Clearing(Acceptor):
    """Misreading (iii) of rule 1b: a Prepare equal to the promise starts afresh: the
    acceptor forgets what it accepted and promises again with nothing to report."""

    def on_prepare(self, msg, sender):
        if msg.ballot == self.promised:
            self.accepted = None
            self.send(sender, Promise(msg.ballot, None))
        else:
            super().on_prepare(msg, sender)


TWO = dict(proposers=2, learners=0, max_ballots=1)


def test_checker_finds_a_proposer_that_ignores_reported_values():
    """(i) Rule 2a matters: 2 proposers (p2 ballot 1, p1 ballot 2), 1 ballot each, no
    faults, timers off (one ballot each: a timeout only ends the attempt).  Agreement
    fails in 12 steps (10,052 states explored): p2 gets v2 accepted by a2 and a3 under 1;
    p1's phase-1 quorum {a1, a2} includes a2, which reports (1, v2), yet p1 proposes v1
    and a1, a2 accept it under 2."""
    r = check(paxos_system(proposer=IgnoresReports, **TWO), Controls(timers=False),
              invariants={"agreement": agreement}, progress=False, max_states=50_000)
    assert r.violation.name == "agreement" and len(r.violation.path) == 12
    assert r.states == 10052
    assert Deliver("a2", "p1", Promise(2, (1, "v2"))) in r.violation.path.actions
    assert r.violation.path.actions[-2:] == [Deliver("p1", "a1", Accept(2, "v1")),
                                             Deliver("p1", "a2", Accept(2, "v1"))]


def test_checker_finds_an_acceptor_that_forgets_its_promise():
    """(ii) The promise must be on disk.  An acceptor keeping only accepted and votes,
    with one crash of a2: "accepted never above promised" fails in 6 steps (a2 accepts
    under 2 and crashes: promised is None again); agreement fails in 14 (50,164 states):
    a1, a2 promise 2 to p1, a2 crashes and restarts, forgets, promises 1 to p2, accepts
    (1, v2) and then (2, v1); a1 accepts (2, v1) (chosen), a3 accepts (1, v2) (chosen)."""
    controls = Controls(max_crashes=1, crashable=("a2",), timers=False)
    nodes = paxos_system(acceptor=ForgetsPromise, **TWO)
    r = check(nodes, controls, invariants=PAXOS_INVARIANTS, progress=False, max_states=10_000)
    assert r.violation.name == "accepted never above promised"
    assert len(r.violation.path) == 6 and r.violation.path.actions[-1] == Crash("a2")
    r = check(nodes, controls, invariants={"agreement": agreement}, progress=False,
              max_states=100_000)
    assert r.violation.name == "agreement" and len(r.violation.path) == 14
    assert r.states == 50164
    actions = r.violation.path.actions
    assert actions.index(Crash("a2")) + 1 == actions.index(Restart("a2"))
    assert actions.index(Restart("a2")) < actions.index(Deliver("a2", "p2", Promise(1, None)))


def test_checker_finds_an_acceptor_that_clears_on_a_repeated_prepare():
    """(iii) A repeated Prepare (a duplicate) must not wipe what was accepted.  On a
    duplicating network agreement fails in 13 steps (35,169 states): a2 accepts (1, v2)
    from p2, then p1's Prepare(2) reaches a2 twice: the second wipes (1, v2) and its
    Promise(2, None) (the copy left in flight) reaches p1, which with a1 proposes v1;
    a1, a2 accept (2, v1) and a3 accepts (1, v2): both chosen (a2's votes keep (1, v2))."""
    r = check(paxos_system(acceptor=Clearing, **TWO), Controls(duplicate=True, timers=False),
              invariants={"agreement": agreement}, progress=False, max_states=60_000)
    assert r.violation.name == "agreement" and len(r.violation.path) == 13
    assert r.states == 35169
    actions = r.violation.path.actions
    assert actions.count(Deliver("p1", "a2", Prepare(2))) == 2
    assert Deliver("a2", "p1", Promise(2, None)) in actions


def test_naive_ballots_alone_do_not_break_agreement_here():
    """(iv) Naive numbers collide (both proposers start with 1), yet with rule 1b's strict
    "n > promised" each acceptor promises a number to one proposer only, so two majorities
    of promises for one number cannot both form, and only a proposer with a quorum of
    promises sends Accept: the checker finds all 2,441 states safe (8,598
    transitions, depth 13).  With an acceptor that also promises an equal number
    (``EagerAcceptor``), both proposers run phase 2 under 1 and agreement fails in 12 steps: it
    takes both misreadings together."""
    r = check(paxos_system(ballots="naive", **TWO), Controls(timers=False),
              invariants=PAXOS_INVARIANTS, progress=False)
    assert r.ok and r.complete and (r.states, r.transitions, r.max_depth) == (2441, 8598, 13)
    r = check(paxos_system(ballots="naive", acceptor=EagerAcceptor, **TWO), Controls(timers=False),
              invariants={"agreement": agreement}, progress=False, max_states=20_000)
    assert r.violation.name == "agreement" and len(r.violation.path) == 12
    assert r.violation.path.actions[-4:] == [
        Deliver("p1", "a1", Accept(1, "v1")), Deliver("p1", "a2", Accept(1, "v1")),
        Deliver("p2", "a1", Accept(1, "v2")), Deliver("p2", "a2", Accept(1, "v2"))]


ACCEPTORS = ("a1", "a2", "a3")


def test_a_value_in_prepare_that_nobody_reads_is_harmless():
    """Prepare carrying a value is only a misreading if someone uses the value: with
    acceptors that ignore it, the checker proves agreement for 2 proposers x 1 ballot on a
    duplicating network: exactly the state count of plain Paxos (10,979 with the acceptors'
    symmetry; 63,227 without)."""
    nodes = paxos_system(proposer=ValueInPrepare, acceptor=IgnoresPrepareValue, **TWO)
    assert nodes[3].prepare() == PrepareWithValue(None, "v1")
    r = check(nodes, Controls(duplicate=True), invariants=PAXOS_INVARIANTS, progress=False,
              symmetric=ACCEPTORS)
    assert r.ok and r.complete and r.states == 10979
    plain_run = check(paxos_system(**TWO), Controls(duplicate=True), invariants=PAXOS_INVARIANTS,
                      progress=False, symmetric=ACCEPTORS)
    assert plain_run.states == r.states


def test_an_acceptor_that_takes_the_value_of_an_equal_prepare_breaks_agreement():
    """Phase 1b as some notes put it (a Prepare whose number equals the promise installs
    its value): duplicated Prepares alone choose two values, with no phase 2 at all.  The
    shortest run (8 steps): a1 gets Prepare(2, v1) twice, a2 and a3 get Prepare(1, v2)
    twice (a2, a3 accept (1, v2): chosen), then a2 gets Prepare(2, v1) twice (a1, a2
    accept (2, v1): chosen)."""
    r = check(paxos_system(proposer=ValueInPrepare, acceptor=OverwritesOnEqualPrepare, **TWO),
              Controls(duplicate=True), invariants={"agreement": agreement}, progress=False,
              symmetric=ACCEPTORS)
    assert r.violation.name == "agreement" and len(r.violation.path) == 8
    delivered = [a.msg for a in r.violation.path.actions if isinstance(a, Deliver)]
    assert any(isinstance(m, PrepareWithValue) and delivered.count(m) >= 2 for m in delivered)


def test_symmetry_keeps_shortest_counterexamples_and_divides_the_states():
    """Renaming interchangeable acceptors merges states but keeps distances: the proposer
    that ignores reports fails agreement in 12 steps with or without symmetry (23,094 vs
    4,584 states explored), and the symmetric path, renamed back, replays in the simulator."""
    nodes = paxos_system(proposer=IgnoresReports, **TWO)
    plain_run = check(nodes, Controls(duplicate=True), invariants={"agreement": agreement},
                      progress=False)
    sym = check(nodes, Controls(duplicate=True), invariants={"agreement": agreement},
                progress=False, symmetric=ACCEPTORS)
    assert (plain_run.states, sym.states) == (23094, 4584)
    assert len(plain_run.violation.path) == len(sym.violation.path) == 12
    assert not agreement(sym.violation.path.states[-1])
    assert sorted(chosen_in_trace(sym.violation.path.trace())) == ["v1", "v2"]
    assert len(sym.violation.path.trace().steps) == len(plain_run.violation.path.trace().steps)


def test_the_chapter_check_proves_agreement_for_two_proposers():
    """Notebook 05's exhaustive check: 3 acceptors (counted once per renaming), 2 proposers
    with one number each, a network that loses, duplicates and reorders: agreement,
    validity and "accepted never above promised" hold in all 10,979 states (170,721
    transitions, depth 20), and a value is chosen on a 6-step run."""
    r = check_paxos(proposers=2, ballots=1, progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (10979, 170721, 20)
    assert len(r.goals["a value is chosen"].path) == 6


def test_the_chapter_check_with_an_acceptor_crash():
    """The same with one acceptor crash (then any number of steps, restart from disk
    included): all 54,006 states are safe (811,678 transitions, depth 22)."""
    r = check_paxos(proposers=2, ballots=1, crashes=1, progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (54006, 811678, 22)


def test_the_chapter_check_refuses_bad_input():
    """A negative crash count, or no acceptors, is refused with a clear message."""
    with pytest.raises(ValueError, match="crashes must be a whole number"):
        check_paxos(crashes=-1)
    with pytest.raises(ValueError, match="acceptors must be a whole number"):
        check_paxos(acceptors=0)


def test_the_target_configuration_checked_up_to_a_depth():
    """The full configuration (2 proposers x 2 numbers, one acceptor crash) is too big to
    finish, but every run of up to 8 steps is checked: 14,263 states (93,176 transitions),
    all safe, with a value chosen in 6 steps."""
    r = check_paxos(proposers=2, ballots=2, crashes=1, max_depth=8, progress=False)
    assert r.ok and r.note == "explored every state up to depth 8"
    assert (r.states, r.transitions) == (14263, 93176)
    assert len(r.goals["a value is chosen"].path) == 6


def test_checker_finds_a_proposer_that_forgets_its_number():
    """(v) A proposer must remember the highest number it tried, on disk (*Paxos Made Simple*
    2.2).  ``ForgetsItsNumber`` keeps it in memory; on a duplicating network with one crash
    of p1 (acceptors interchangeable), agreement fails in 18 steps (23,029 states): p1 gets
    (2, v1) accepted by a1 and a2, crashes, restarts with number 2 again, and from promises
    of its first life still in flight (a2's, and a3's reporting (1, v2)) proposes (2, v2),
    which a2 and a3 accept.  The real proposer, same check: safe in all 16,558 states."""
    from replib.protocols.misreadings import ForgetsItsNumber, check_with_crash
    r = check_with_crash("p1", proposer=ForgetsItsNumber, duplicate=True)
    assert r.violation.name == "agreement" and len(r.violation.path) == 18
    assert r.states == 23_029
    actions = r.violation.path.actions
    assert actions.index(Crash("p1")) + 1 == actions.index(Restart("p1"))
    assert actions[-2:] == [Deliver("p1", "a2", Accept(2, "v2")),
                            Deliver("p1", "a3", Accept(2, "v2"))]
    kept = check_with_crash("p1", duplicate=True)
    assert kept.ok and kept.complete and kept.states == 16_558


def test_check_with_crash_finds_the_forgotten_promise():
    """The chapter's check of ``ForgetsPromise``: agreement alone, one crash of a2, no
    duplication: 14 steps, 50,164 states (as test (ii) above)."""
    from replib.protocols.misreadings import check_with_crash
    r = check_with_crash("a2", acceptor=ForgetsPromise)
    assert r.violation.name == "agreement" and len(r.violation.path) == 14 and r.states == 50_164


def test_accepted_not_chosen_is_replaced():
    """Chapter 05's controlled run: a3 accepts (1, v2), a minority; p1's promises come from a1
    and a2 (nothing accepted), so v1 is chosen under 2; p2 then tries 3 with a1 and a3, rule 2a
    takes (2, v1) over (1, v2), and a3 replaces its v2.  The diagram's badges: "accepted ..." on
    every accept, "chosen v1" once, on a2, where the majority is reached."""
    from replib.experiments.paxos import accepted_not_chosen
    sim = accepted_not_chosen()
    assert chosen_in_trace(sim.trace) == ["v1"]
    assert {a: sim.node(a).accepted for a in ("a1", "a2", "a3")} == {
        "a1": (2, "v1"), "a2": (2, "v1"), "a3": (3, "v1")}
    from replib.viz.sequence import milestones
    badges = [(node, text) for _, node, text, _ in milestones(sim.trace) if node.startswith("a")]
    assert badges == [("a3", "accepted (1,v2)"), ("a1", "accepted (2,v1)"),
                      ("a2", "accepted (2,v1)"), ("a2", "chosen v1"), ("a3", "accepted (3,v1)")]


def test_heal_runs():
    """Chapter 05's 100 seeded runs (a1, a2 cut off until a heal time in 5..30; p1 alone):
    nothing is chosen before the heal in any of them, a value is chosen after it in every
    one, median 8.4 and at most 17.5 time units later, with at most 1 ballot after it."""
    from replib.experiments.paxos import heal_run
    runs = [heal_run(seed) for seed in range(100)]
    assert not any(r.chosen_before_heal for r in runs)
    delays = sorted(r.delay for r in runs)
    assert round(delays[49], 1) == 8.4 and round(delays[-1], 1) == 17.5
    assert max(r.ballots_after_heal for r in runs) == 1
