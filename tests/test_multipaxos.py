"""Multi-Paxos (replib.protocols.multipaxos): handler tests with exact effects (each docstring
states the rule), the builder's argument checks, exact message counts per operation for
3 and 5 replicas in both modes, randomized runs over 1,000 seeds with leader crashes, loss,
duplication and partitions that heal, and an exhaustive check of a small configuration."""

import random

import pytest
from helpers import attached, plain

from replib import Controls, Network, Simulation, Uniform
from replib.check import check
from replib.clients import Reply, Request
from replib.faults import crash, heal, partition, restart
from replib.protocols import paxos
from replib.protocols.multipaxos import (
    MULTIPAXOS_INVARIANTS,
    NOOP,
    Accept,
    Accepted,
    Decided,
    Heartbeat,
    HeartbeatTimer,
    LeaderTimeout,
    Missing,
    Prepare,
    Promise,
    Reject,
    acknowledged_survive,
    all_answered,
    linearizable_history,
    lost_acknowledged,
    message_cost,
    multipaxos_system,
    slot_agreement,
    slot_disagreements,
)

R = ("r1", "r2", "r3")
W1 = ("c1", 0, ("write", "x", 1))
RD = ("c1", 1, ("read", "x"))


def replicas(**config):
    config.setdefault("heartbeat", None)
    return attached(multipaxos_system(**config))


def leader(**config):
    """r1 after winning ballot 3 with empty promises from r1 and r2."""
    r1 = replicas(**config)["r1"]
    r1.run_hook("on_start")
    r1.handle(Promise(3, ()), "r1")
    r1.handle(Promise(3, ()), "r2")
    return r1


# ---- handlers ---------------------------------------------------------------------------

def test_first_leader_prepares_every_slot():
    """Rule 1a: the first leader picks a ballot of its own (3 = 0 mod 3) and sends
    Prepare(ballot, first slot not applied) to every replica, itself included."""
    r1 = replicas()["r1"]
    assert plain(r1.run_hook("on_start")) == (
        [("send", r, Prepare(3, 1)) for r in R] + [("cancel", HeartbeatTimer()),
                                                   ("set", LeaderTimeout(), 4.0)])
    assert (r1.role, r1.ballot, r1.seen, r1.tries) == ("candidate", 3, 3, 1)


def test_promise_reports_accepted_slots_from_first():
    """Rule 1b: a ballot above the promise is promised for every slot, and the Promise
    reports what was accepted in the slots >= first (slot 1 is below first here)."""
    r2 = replicas()["r2"]
    r2.accepted = {1: (3, W1), 2: (3, RD)}
    assert plain(r2.handle(Prepare(4, 2), "r2")) == [("send", "r2", Promise(4, ((2, (3, RD)),)))]
    assert r2.promised == 4


def test_prepare_not_above_promise_is_rejected():
    """Rule 1b: a ballot equal to or below the promise gets Reject(ballot, promised)."""
    r2 = replicas()["r2"]
    r2.promised = 4
    assert plain(r2.handle(Prepare(4, 1), "r1")) == [("send", "r1", Reject(4, 4))]
    assert plain(r2.handle(Prepare(3, 1), "r1")) == [("send", "r1", Reject(3, 4))]


def test_accept_at_or_above_promise():
    """Rule 2b, slot by slot: accept unless a higher ballot was promised; store
    (ballot, command) for the slot and answer Accepted to the leader."""
    r2 = replicas()["r2"]
    r2.promised = 3
    effects = plain(r2.handle(Accept(3, 1, W1), "r1"))
    assert effects[-1] == ("send", "r1", Accepted(3, 1, W1))
    assert r2.accepted == {1: (3, W1)} and r2.votes == {(1, 3, W1)}
    assert plain(r2.handle(Accept(2, 2, RD), "r1")) == [("send", "r1", Reject(2, 3))]
    assert r2.accepted == {1: (3, W1)}


def test_rules_are_the_single_decree_code():
    """The promise, accept and value rules are single-decree Paxos's own functions."""
    from replib.protocols import multipaxos
    assert multipaxos.promise_ok is paxos.promise_ok
    assert multipaxos.accept_ok is paxos.accept_ok
    assert multipaxos.value_to_propose is paxos.value_to_propose


def test_new_leader_recovers_open_slots_and_fills_gaps():
    """Rule 2a per slot: the command with the highest ballot among the promises, and NOOP
    for a slot nobody reports (slot 2); new commands go after the highest slot."""
    r2 = replicas()["r2"]
    r2.promised = 3                        # it promised r1's ballot 3
    r2.handle(LeaderTimeout())
    assert r2.ballot == 4
    r2.handle(Promise(4, ((1, (3, W1)), (3, (3, RD)))), "r2")
    effects = plain(r2.handle(Promise(4, ((1, (1, ("c1", 0, ("write", "x", 9)))),)), "r3"))
    assert effects == [("cancel", LeaderTimeout())] + [
        ("send", r, Accept(4, s, c)) for s, c in ((1, W1), (2, NOOP), (3, RD)) for r in R]
    assert (r2.role, r2.next_slot) == ("leader", 4)


def test_leader_phase2_only_per_command():
    """A stable leader sends only Accept(ballot, next slot, command) for a new command."""
    r1 = leader()
    assert plain(r1.handle(Request("c1", 0, ("write", "x", 1)), "c1")) == [
        ("send", r, Accept(3, 1, W1)) for r in R]


def test_chosen_by_majority_then_decided_applied_and_answered():
    """3: Accepted from a majority makes the command chosen: Decided to the others, applied
    in the leader's state machine, and the client that asked gets the result."""
    r1 = leader()
    r1.handle(Request("c1", 0, ("write", "x", 1)), "c1")
    assert plain(r1.handle(Accepted(3, 1, W1), "r1")) == []
    assert plain(r1.handle(Accepted(3, 1, W1), "r3")) == [
        ("send", "r2", Decided(1, W1)), ("send", "r3", Decided(1, W1)),
        ("send", "c1", Reply(0, "ok"))]
    assert r1.log == [W1] and r1.kv == {"x": 1}
    assert plain(r1.handle(Accepted(3, 1, W1), "r2")) == []      # late: nothing more


def test_decided_applied_in_slot_order():
    """A replica applies decided commands in slot order: slot 2 waits for slot 1."""
    r3 = replicas()["r3"]
    r3.handle(Decided(2, RD), "r1")
    assert r3.log == [] and r3.decided == {2: RD}
    r3.handle(Decided(1, W1), "r1")
    assert r3.log == [W1, RD] and r3.decided == {} and r3.sessions == {"c1": (1, 1)}


def test_command_chosen_twice_takes_effect_once():
    """A retried command chosen in two slots takes effect once (the session table)."""
    r3 = replicas()["r3"]
    w2 = ("c1", 0, ("write", "x", 2))
    r3.handle(Decided(1, w2), "r1")
    r3.handle(Decided(2, W1), "r1")        # the same (client, seq) again
    assert r3.kv == {"x": 2} and len(r3.log) == 2


def test_done_request_answered_from_sessions_and_followers_ignore_new():
    """A request already applied is answered again by any replica; a follower ignores a
    new one (the client will try another replica)."""
    r3 = replicas()["r3"]
    r3.handle(Decided(1, W1), "r1")
    assert plain(r3.handle(Request("c1", 0, ("write", "x", 1)), "c1")) == [
        ("send", "c1", Reply(0, "ok"))]
    assert plain(r3.handle(Request("c1", 1, ("read", "x")), "c1")) == []


def test_rejected_leader_steps_down():
    """Rule 6: a Reject carrying a higher ballot deposes the leader; it learns the ballot."""
    r1 = leader()
    assert plain(r1.handle(Reject(3, 4), "r2")) == [("cancel", HeartbeatTimer()),
                                                    ("set", LeaderTimeout(), 4.0)]
    assert (r1.role, r1.seen) == ("follower", 4)


def test_duplicate_reject_of_own_ballot_is_ignored():
    """A Reject whose promise is the ballot itself (a duplicated Prepare) changes nothing."""
    r1 = leader()
    assert plain(r1.handle(Reject(3, 3), "r2")) == [] and r1.role == "leader"


def test_idle_leader_heartbeats_busy_leader_resends():
    """Rule 4: an idle leader sends Heartbeat(ballot, applied); one with a pending slot
    sends Accept again to the replicas that have not accepted it."""
    r1 = leader(heartbeat=1.0)
    assert plain(r1.handle(HeartbeatTimer())) == [
        ("send", r, Heartbeat(3, 0)) for r in ("r2", "r3")] + [("set", HeartbeatTimer(), 1.0)]
    r1.handle(Request("c1", 0, ("write", "x", 1)), "c1")
    r1.handle(Accepted(3, 1, W1), "r1")
    assert plain(r1.handle(HeartbeatTimer())) == [
        ("send", r, Accept(3, 1, W1)) for r in ("r2", "r3")] + [("set", HeartbeatTimer(), 1.0)]


def test_behind_follower_asks_for_missing_slots():
    """A follower whose log is shorter than the heartbeat says asks for the rest."""
    nodes = replicas(heartbeat=1.0)
    r3 = nodes["r3"]
    effects = plain(r3.handle(Heartbeat(3, 2), "r1"))
    assert effects[-1] == ("send", "r1", Missing(1))
    r1 = nodes["r1"]
    r1.log = [W1, RD]
    assert plain(r1.handle(Missing(1), "r3")) == [("send", "r3", Decided(1, W1)),
                                                  ("send", "r3", Decided(2, RD))]


def test_phase1_every_command():
    """phase1_every_command: a leader runs phase 1 again before each new command."""
    r1 = leader(phase1_every_command=True)
    effects = plain(r1.handle(Request("c1", 0, ("write", "x", 1)), "c1"))
    assert [e for e in effects if e[0] == "send"] == [("send", r, Prepare(6, 1)) for r in R]
    r1.handle(Promise(6, ()), "r1")
    assert plain(r1.handle(Promise(6, ()), "r2")) == [("cancel", LeaderTimeout())] + [
        ("send", r, Accept(6, 1, W1)) for r in R]


@pytest.mark.parametrize("config, message", [
    (dict(replicas=0), "replicas must be a whole number >= 1"),
    (dict(timeout=0), "timeout must be a finite number > 0"),
    (dict(heartbeat=-1), "heartbeat must be a finite number > 0"),
    (dict(phase1_every_command="yes"), "phase1_every_command must be True or False"),
    (dict(leaders=["r9"]), "leaders must be distinct replicas"),
    (dict(ops=[("write", "x")]), "an operation is"),
    (dict(ops=True), "ops must be a whole number or a list"),
    (dict(max_ballots=0), "max_ballots must be a whole number >= 1"),
    (dict(clients=2, ops=[[("read", "x")]]), "one list of operations per client"),
])
def test_bad_configuration(config, message):
    """The builder says what is wrong instead of failing deep inside a run."""
    with pytest.raises(ValueError, match=message):
        multipaxos_system(**config)


# ---- message counts ------------------------------------------------------------------------

@pytest.mark.parametrize("n, every, per_op", [(3, False, 10), (5, False, 16),
                                              (3, True, 16), (5, True, 26)])
def test_messages_per_operation(n, every, per_op):
    """A stable leader: n Accept + n Accepted + (n - 1) Decided + request + reply = 3n + 1
    per operation; with phase 1 before every command, n Prepare + n Promise more: 5n + 1.
    The first election costs 2n in both modes and is counted apart."""
    cost = message_cost(n, ops=10, phase1_every_command=every, seed=0)
    assert cost["election"] == 2 * n
    assert cost["per_op"] == per_op == (5 if every else 3) * n + 1
    expected = {"Request": 10, "Accept": 10 * n, "Accepted": 10 * n, "Decided": 10 * (n - 1),
                "Reply": 10}
    if every:
        expected.update(Prepare=10 * n, Promise=10 * n)
    assert cost["by_type"] == expected


# ---- randomized runs -------------------------------------------------------------------------

def random_faults(seed):
    """The first leader crashes and restarts; another replica crashes and restarts; one
    replica is cut off by a partition that heals."""
    rng = random.Random(seed)
    at = rng.uniform(1, 8)
    faults = [crash("r1", at=at), restart("r1", at=at + rng.uniform(2, 10))]
    who, at = rng.choice(R), rng.uniform(0, 15)
    faults += [crash(who, at=at), restart(who, at=at + rng.uniform(1, 6))]
    at = rng.uniform(0, 15)
    return faults + [partition([rng.choice(R)], at=at), heal(at=at + rng.uniform(2, 8))]


def test_randomized_runs_are_safe():
    """1,000 seeds, 10% loss, 5% duplication, leader crashes and partitions that heal, two
    clients of three operations: no slot disagreement, no acknowledged write lost (each is
    chosen: on the disks of a majority), linearizable histories, every invariant at the
    end; and most runs finish every operation within 60 time units."""
    finished = 0
    for seed in range(1000):
        sim = Simulation(multipaxos_system(3, clients=2, ops=3, timeout=3, client_timeout=5),
                         network=Network(Uniform(0.5, 1.5), loss=0.1, duplicate=0.05),
                         faults=random_faults(seed), seed=seed, record_states=False)
        trace = sim.run(until=60)
        assert slot_disagreements(sim) == [], seed
        assert lost_acknowledged(trace, sim) == [], seed
        assert linearizable_history(trace).ok, seed
        assert all(inv(sim) for inv in MULTIPAXOS_INVARIANTS.values()), seed
        finished += all_answered(sim)
    assert finished == FINISHED


FINISHED = 936


def test_same_seed_same_trace():
    """Runs are reproducible: the same configuration, faults and seed give the same digest."""
    def run():
        sim = Simulation(multipaxos_system(3, clients=2, ops=3, timeout=3, client_timeout=5),
                         network=Network(Uniform(0.5, 1.5), loss=0.1), faults=random_faults(7),
                         seed=7)
        return sim.run(until=40).digest()
    assert run() == run()


# ---- exhaustive check ------------------------------------------------------------------------

def test_exhaustive_two_slots_three_acceptors_leader_change():
    """Every reachable state of: 3 replicas (acceptors), one client writing then reading
    (2 slots), r1 the first leader and r2 the only other replica that may lead, each trying
    one ballot, the client resending once.  The leader change comes from crashing r1 at
    any moment (its messages in flight may still arrive; it may restart from disk).
    Timers are synchronous (they fire only when no message is in flight, as if every
    message beat every timeout) and nothing is dropped or duplicated: asynchronous timers
    or loss let the client's and the candidates' timers interleave with every delivery and
    the search runs past 400,000 states; this way it takes about a second.  Replies a
    replica will ignore for good are pruned (``Replica.obsolete``, checked by the model).
    Every invariant holds; the client can finish, and r2 can take over after r1 accepted
    the write."""
    nodes = multipaxos_system(3, 1, [("write", "x", 1), ("read", "x")], heartbeat=None,
                              leaders=("r1", "r2"), max_ballots=1, max_retries=1)
    controls = Controls(timers="synchronous", max_crashes=1, crashable=("r1",))
    taken_over = lambda s: s.node("r2").role == "leader" and any(
        v[2] == W1 for v in s.node("r1").votes)
    r = check(nodes, controls, invariants=MULTIPAXOS_INVARIANTS,
              goals={"all answered": all_answered, "r2 takes over": taken_over},
              progress=False)
    assert r.complete and r.ok
    assert r.states == 16_322
    assert r.goals["all answered"].reached and r.goals["r2 takes over"].reached


def test_invariants_catch_disagreement():
    """slot_agreement and acknowledged_survive say False on states that break them."""
    nodes = replicas()
    nodes["r1"].log, nodes["r2"].log = [W1], [RD]
    assert not slot_agreement(list(nodes.values()))
    c1 = multipaxos_system(3, 1, 1)[-1]
    c1.results = ["ok"]
    assert not acknowledged_survive([c1] + list(replicas().values()))


# ---- piggybacked decisions, and reads without the log ----------------------------------------

def piggy_leader():
    """A PiggybackReplica r1 leading ballot 3 (empty promises from r1 and r2)."""
    from replib.protocols.multipaxos import PiggybackReplica
    r1 = attached(multipaxos_system(heartbeat=None, replica=PiggybackReplica))["r1"]
    r1.run_hook("on_start")
    r1.handle(Promise(3, ()), "r1")
    r1.handle(Promise(3, ()), "r2")
    return r1


def test_piggyback_defers_decided_to_the_next_accept():
    """Rule 3, piggybacked: a command chosen sends no Decided; the leader's next Accept
    carries it (AcceptDecided with decided=((1, W1),)), and the one after carries nothing."""
    from replib.protocols.multipaxos import AcceptDecided
    r1 = piggy_leader()
    r1.handle(Request("c1", 0, ("write", "x", 1)), "c1")
    r1.handle(Accepted(3, 1, W1), "r1")
    effects = plain(r1.handle(Accepted(3, 1, W1), "r2"))
    assert not any(e[0] == "send" and isinstance(e[2], Decided) for e in effects)
    assert ("send", "c1", Reply(0, "ok")) in effects
    assert plain(r1.handle(Request("c1", 1, ("read", "x")), "c1")) == [
        ("send", r, AcceptDecided(3, 2, RD, ((1, W1),))) for r in R]


def test_piggybacked_decision_is_learned_by_a_follower():
    """A follower that gets AcceptDecided learns (applies) the decided slots, then accepts
    the new slot as for a plain Accept."""
    from replib.protocols.multipaxos import AcceptDecided, PiggybackReplica
    r2 = attached(multipaxos_system(heartbeat=None, replica=PiggybackReplica))["r2"]
    r2.handle(Accept(3, 1, W1), "r1")
    effects = plain(r2.handle(AcceptDecided(3, 2, RD, ((1, W1),)), "r1"))
    assert r2.log == [W1] and ("send", "r1", Accepted(3, 2, RD)) in effects


def test_piggyback_message_counts():
    """Per write between replicas (none to itself): 3(n - 1) with Decided sent apart, 2(n - 1)
    piggybacked (AcceptDecided and Accepted to and from the n - 1 others).  With no
    heartbeat the last decision is never sent: a follower applies 9 of the 10 slots."""
    from replib.protocols.multipaxos import PiggybackReplica
    for n in (3, 5):
        assert message_cost(n, 10)["between_replicas_per_op"] == 3 * (n - 1)
        piggy = message_cost(n, 10, replica=PiggybackReplica)
        assert piggy["between_replicas_per_op"] == 2 * (n - 1)
    sim = Simulation(multipaxos_system(3, 1, [("write", "x", i) for i in range(10)], heartbeat=None,
                                       client_start=5.0, timeout=1000.0, replica=PiggybackReplica),
                     network=Network(), seed=0, record_states=False)
    sim.run()
    assert [len(sim.node(r).log) for r in R] == [10, 10, 9]


def test_local_reads_are_answered_at_once_by_a_leader():
    """LocalReads: a leader answers a read from its register, with no Accept; a follower
    ignores it as Replica does."""
    from replib.protocols.multipaxos import LocalReads
    nodes = attached(multipaxos_system(heartbeat=None, replica=LocalReads))
    r1 = nodes["r1"]
    r1.run_hook("on_start")
    r1.handle(Promise(3, ()), "r1")
    r1.handle(Promise(3, ()), "r2")
    r1.kv["x"] = 7
    assert plain(r1.handle(Request("c1", 0, ("read", "x")), "c1")) == [("send", "c1", Reply(0, 7))]
    assert plain(nodes["r2"].handle(Request("c1", 0, ("read", "x")), "c1")) == []
