"""Snapshots, log truncation and catching up (replib.protocols.snapshots): handler tests
stating what a snapshot lets a replica delete and how it answers in place of the deleted
entries, the checker's verdicts pinned (the correct replica's state count, each too-eager
mutant's shortest counterexample), and the catch-up measurements."""

import pytest
from helpers import attached, plain

from replib.protocols.multipaxos import Missing, Prepare, Promise, multipaxos_system
from replib.protocols.snapshots import (
    IN_SNAPSHOT,
    W1,
    W2,
    ClearsAccepted,
    Entries,
    InstallSnapshot,
    SilentSnapshot,
    SnapshotPromise,
    SnapshotReplica,
    X,
    catch_up_cost,
    catch_up_table,
    log_agreement,
    same_state_machine,
    truncation_check,
    truncation_scenario,
)


def replica(cls=SnapshotReplica, every=1, **kwargs):
    nodes = attached(multipaxos_system(3, 0, 0, heartbeat=None, replica=cls))
    r2 = nodes["r2"]
    r2.every = every
    for name, value in kwargs.items():
        setattr(r2, name, value)
    return r2


def sends(effects):
    """The messages among a handler's effects (a follower also restarts its leader timer)."""
    return [e for e in plain(effects) if e[0] == "send"]


def applied_one_accepted_two(cls=SnapshotReplica):
    """r2 accepted W1 in slot 1 and W2 in slot 2 (ballot 3), then learned slot 1 only."""
    r2 = replica(cls)
    r2.accepted = {1: (3, W1), 2: (3, W2)}
    r2.learn(1, W1)
    return r2


def test_snapshot_deletes_applied_slots_only():
    """After applying slot 1 (every = 1): the snapshot holds the register and sessions at
    slot 1; the log entry and the accepted entry of slot 1 go, slot 2's accepted entry
    (not applied: maybe not chosen yet) stays."""
    r2 = applied_one_accepted_two()
    assert r2.state_snapshot == (1, (("x", 1),), (("c1", (0, "ok")),))
    assert r2.log == [IN_SNAPSHOT] and r2.accepted == {2: (3, W2)}
    assert r2.votes == set()            # votes are the checks' record, never truncated


def test_too_eager_truncation_deletes_unapplied_votes():
    """ClearsAccepted: the snapshot at slot 1 also deletes slot 2's accepted entry."""
    assert applied_one_accepted_two(ClearsAccepted).accepted == {}


def test_no_snapshot_before_every_slots():
    """every = 2: one applied slot takes no snapshot and deletes nothing."""
    r2 = replica(every=2)
    r2.accepted = {1: (3, W1)}
    r2.learn(1, W1)
    assert r2.state_snapshot is None and r2.log == [W1] and r2.accepted == {1: (3, W1)}


def test_promise_carries_the_snapshot_when_first_is_inside_it():
    """Rule 1b after truncation: a Prepare whose first slot is covered by the snapshot is
    answered with the snapshot and the accepted entries after it."""
    r2 = applied_one_accepted_two()
    assert sends(r2.handle(Prepare(5, 1), "r3")) == [
        ("send", "r3", SnapshotPromise(5, r2.state_snapshot, ((2, (3, W2)),)))]
    r2 = applied_one_accepted_two()
    assert sends(r2.handle(Prepare(5, 2), "r3")) == [("send", "r3", Promise(5, ((2, (3, W2)),)))]


def test_silent_snapshot_promise_says_nothing_of_deleted_slots():
    """SilentSnapshot: the same Prepare gets a plain Promise reporting only slot 2."""
    r2 = applied_one_accepted_two(SilentSnapshot)
    assert sends(r2.handle(Prepare(5, 1), "r3")) == [("send", "r3", Promise(5, ((2, (3, W2)),)))]


def test_candidate_installs_the_snapshot_before_recovering():
    """A lagging candidate installs a snapshot from a promise (its register and applied
    slots jump to the snapshot's), then recovers the slots after it."""
    nodes = attached(multipaxos_system(3, 0, 0, heartbeat=None, replica=SnapshotReplica,
                                       leaders=("r3",)))
    r3 = nodes["r3"]
    r3.run_hook("on_start")
    snapshot = (1, (("x", 1),), (("c1", (0, "ok")),))
    r3.handle(SnapshotPromise(r3.ballot, snapshot, ((2, (3, W2)),)), "r2")
    assert r3.log == [IN_SNAPSHOT] and r3.kv == {"x": 1} and r3.role == "candidate"
    effects = plain(r3.handle(Promise(r3.ballot, ()), "r3"))
    assert next(e[2] for e in effects if e[0] == "send").command == W2
    assert r3.role == "leader" and r3.next_slot == 3


def test_missing_inside_the_snapshot_gets_the_snapshot_then_the_tail():
    """A replica asking for slots the snapshot replaced gets InstallSnapshot; asking after
    it gets Entries, at most ``batch`` per message, with how far the sender is."""
    r2 = replica(every=None, batch=2)
    for slot, command in enumerate([W1, W2, X], 1):
        r2.learn(slot, command)
    r2.take_snapshot()
    assert plain(r2.handle(Missing(1), "r3")) == [("send", "r3", InstallSnapshot(r2.state_snapshot, 3))]
    r2 = replica(every=None, batch=2)
    for slot, command in enumerate([W1, W2, X], 1):
        r2.learn(slot, command)
    assert plain(r2.handle(Missing(1), "r3")) == [("send", "r3", Entries(1, (W1, W2), 3))]


def test_lagging_replica_asks_again_until_level():
    """After InstallSnapshot or Entries, a replica still behind asks for the next slot."""
    r3 = replica()
    effects = plain(r3.handle(InstallSnapshot((1, (("x", 1),), ()), 3), "r1"))
    assert effects == [("send", "r1", Missing(2))] and r3.kv == {"x": 1}
    assert plain(r3.handle(Entries(2, (W2,), 3), "r1")) == [("send", "r1", Missing(3))]
    assert plain(r3.handle(Entries(3, (X,), 3), "r1")) == [] and r3.kv == {"x": 3}


# ---- invariants -----------------------------------------------------------------------------

def test_invariants_see_through_deleted_entries():
    """A deleted entry agrees with anything; different commands in one slot, or different
    registers after the same slots, do not."""
    a, b = replica(), replica()
    a.log, b.log = [IN_SNAPSHOT, W2], [W1, W2]
    assert log_agreement([a, b])
    b.log = [W1, X]
    assert not log_agreement([a, b])
    a.kv, b.kv = {"x": 2}, {"x": 3}
    assert not same_state_machine([a, b])


# ---- the checker -------------------------------------------------------------------------------

def test_scenario_past_follows_each_class_rule():
    """The same past truncated by each class's rule: r2 keeps slot 2's vote unless it
    clears everything."""
    assert truncation_scenario()[1].accepted == {2: (3, W2)}
    assert truncation_scenario(ClearsAccepted)[1].accepted == {}
    assert truncation_scenario()[2].queue == [X]


def test_correct_truncation_is_safe():
    """Deleting only applied slots and answering with the snapshot: every invariant in all
    4,258 reachable states."""
    r = truncation_check()
    assert r.complete and r.ok and r.states == 4_258


@pytest.mark.parametrize("mutant, slot, states", [(ClearsAccepted, 2, 57),
                                                  (SilentSnapshot, 1, 59)])
def test_too_eager_truncation_loses_a_chosen_command(mutant, slot, states):
    """ClearsAccepted: r2's deleted vote for W2 was half of its majority; r3 puts X in slot
    2.  SilentSnapshot: r3 reads the deleted slot 1 as a gap and chooses a no-op there.
    Either way, in 6 steps: a second command chosen in a chosen slot."""
    r = truncation_check(mutant)
    assert r.violation.name == "one command per slot"
    assert len(r.violation.path) == 6 and r.states == states
    accepts = [a.msg for a in r.violation.path.actions if type(a.msg).__name__ == "Accept"]
    assert {a.slot for a in accepts} == {slot}
    assert len(r.violation.path.trace().select(kind="send")) > 0


# ---- catching up -------------------------------------------------------------------------------

@pytest.mark.parametrize("slots, method, messages, entries, replayed", [
    (10, "log", 2, 10, 10), (100, "log", 20, 100, 100), (1000, "log", 200, 1000, 1000),
    (10, "snapshot", 4, 5, 5), (100, "snapshot", 4, 5, 5), (1000, "snapshot", 4, 5, 5)])
def test_catch_up_costs(slots, method, messages, entries, replayed):
    """From the log: one round trip (Missing, Entries) per 10 entries, every command
    replayed.  From a snapshot: InstallSnapshot and one batch of the 5-slot tail, whatever
    the length."""
    cost = catch_up_cost(slots, method)
    assert (cost["messages"], cost["entries"], cost["replayed"]) == (messages, entries, replayed)
    assert cost["round_trips"] == messages // 2


def test_catch_up_time_grows_with_the_log_only_without_snapshot():
    """Seed 0: the log takes 2.401, 20.48 and 204.793 time units for 10, 100, 1000 slots;
    the snapshot 3.675 each time."""
    table = {(n, m): c["time"] for n, m, c in catch_up_table()}
    assert [table[(n, "log")] for n in (10, 100, 1000)] == [2.401, 20.48, 204.793]
    assert {table[(n, "snapshot")] for n in (10, 100, 1000)} == {3.675}


def test_catch_up_is_deterministic_and_checks_input():
    """Same seed, same figures; a bad method is refused."""
    assert catch_up_cost(100, "log", seed=3) == catch_up_cost(100, "log", seed=3)
    with pytest.raises(ValueError, match="method must be 'log' or 'snapshot'"):
        catch_up_cost(10, "replay")
