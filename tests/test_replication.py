"""Primary/backup replication: each rule as a handler test with exact sends, message counts
measured from traces, the three failure stories as scripted runs, the checker's results on
small configurations, and randomized runs with loss, duplication and crashes."""

import random

import pytest
from helpers import plain

from replib import Controls, Crash, Deliver, Fire, Network, Simulation, Uniform
from replib.check import check
from replib.clients import NextOp, Reply, Request, RequestTimeout
from replib.experiments.primary_backup import split_brain
from replib.faults import crash, drop, heal, partition, restart
from replib.protocols.replication import (
    Ack,
    FencingReplica,
    Behind,
    Elect,
    ElectOK,
    Heartbeat,
    HeartbeatTimer,
    PrimaryTimeout,
    Replica,
    ReplicationClient,
    Sync,
    Update,
    acknowledged_writes_on_backups,
    acting_primaries,
    held_by,
    logs_agree,
    no_acknowledged_write_lost,
    one_primary,
    one_primary_per_epoch,
    primaries_by_epoch,
    register_value,
    replication_system,
)

REPLICAS = ("primary", "b1", "b2")
IDS = ["client", "primary", "b1", "b2"]
W1, W2, W3 = ("write", 1), ("write", 2), ("write", 3)


def attach(node, ids=IDS):
    """The fake network: the node learns every id and gets a seeded random source."""
    node._attach(ids, random.Random(0))
    return node


def replica(id, replicas=REPLICAS, start=True, cls=None, **config):
    """A replica of primary, b1, b2 (plus a client), started unless start=False; the
    fencing replica the course runs unless ``cls`` says otherwise."""
    r = attach((cls or FencingReplica)(id, replicas, **config), ["client", *replicas])
    if start:
        r.run_hook("on_start")
    return r


def diverged(log_a, log_b):
    """Neither log is a prefix of the other."""
    shorter = min(len(log_a), len(log_b))
    return log_a[:shorter] != log_b[:shorter]


def write(seq, op=W1, client="client"):
    return Request(client, seq, op)


# ---- log shipping: the primary -----------------------------------------------------------

def test_async_primary_applies_answers_then_ships():
    """Async: the primary appends the write, answers the client, then ships Update(epoch,
    index, op) to every backup: one message per backup, and nothing to wait for."""
    p = replica("primary", mode="async")
    assert plain(p.handle(write(0), "client")) == [
        ("send", "client", Reply(0, "ok")),
        ("send", "b1", Update(1, 1, W1)),
        ("send", "b2", Update(1, 1, W1)),
    ]
    assert p.log == [W1] and p.seen == {("client", 0): 1} and p.waiting == {}


def test_sync_primary_ships_and_holds_the_answer():
    """Sync: the primary appends the write and ships it; the client waits."""
    p = replica("primary", mode="sync")
    assert plain(p.handle(write(0), "client")) == [
        ("send", "b1", Update(1, 1, W1)), ("send", "b2", Update(1, 1, W1))]
    assert p.log == [W1] and p.waiting == {1: ("client", 0)}


def test_sync_primary_answers_once_every_backup_acknowledged():
    """Sync: the answer leaves with the last backup's Ack, once; a duplicate Ack does nothing."""
    p = replica("primary", mode="sync")
    p.handle(write(0), "client")
    assert plain(p.handle(Ack(1, 1), "b1")) == []
    assert plain(p.handle(Ack(1, 1), "b2")) == [("send", "client", Reply(0, "ok"))]
    assert plain(p.handle(Ack(1, 1), "b2")) == [] and p.waiting == {}


def test_semi_sync_answers_after_k_acks():
    """Semi-sync with k=1 of 2 backups: the first Ack releases the answer, the second is noted."""
    p = replica("primary", mode="semi-sync", k=1)
    p.handle(write(0), "client")
    assert plain(p.handle(Ack(1, 1), "b2")) == [("send", "client", Reply(0, "ok"))]
    assert plain(p.handle(Ack(1, 1), "b1")) == []
    assert p.match == {"b1": 1, "b2": 1}


def test_an_ack_covers_every_earlier_index():
    """Ack(epoch, i) means "I hold your log up to i": it answers every write up to i."""
    p = replica("primary", mode="semi-sync", k=1)
    p.handle(write(0, W1), "client")
    p.handle(write(1, W2), "client")
    assert plain(p.handle(Ack(1, 2), "b1")) == [
        ("send", "client", Reply(0, "ok")), ("send", "client", Reply(1, "ok"))]


def test_sync_retry_is_shipped_again_to_the_backups_that_have_not_acknowledged():
    """A retried request is applied once: before enough acks it is shipped again, to the
    backups that have not acknowledged it only."""
    p = replica("primary", mode="sync")
    p.handle(write(0), "client")
    p.handle(Ack(1, 1), "b1")
    assert plain(p.handle(write(0), "client")) == [("send", "b2", Update(1, 1, W1))]
    assert p.log == [W1]


def test_retry_of_a_finished_write_is_answered_again():
    """A retry of a write that has its acks (sync) or was answered at once (async) gets "ok"
    again and is neither applied nor shipped again."""
    p = replica("primary", mode="sync")
    p.handle(write(0), "client")
    p.handle(Ack(1, 1), "b1")
    p.handle(Ack(1, 1), "b2")
    assert plain(p.handle(write(0), "client")) == [("send", "client", Reply(0, "ok"))]
    a = replica("primary", mode="async")
    a.handle(write(0), "client")
    assert plain(a.handle(write(0), "client")) == [("send", "client", Reply(0, "ok"))]
    assert p.log == a.log == [W1]


def test_primary_answers_behind_with_its_whole_log():
    """A backup that is Behind gets Sync(epoch, log): the primary's whole log."""
    p = replica("primary", mode="async")
    p.handle(write(0, W1), "client")
    p.handle(write(1, W2), "client")
    assert plain(p.handle(Behind(1), "b2")) == [("send", "b2", Sync(1, (W1, W2)))]


# ---- log shipping: the backups -----------------------------------------------------------

def test_sync_backup_applies_the_next_entry_and_acks():
    """A backup appends Update i when i is its next index and acknowledges it; a duplicate is
    acknowledged again and not appended twice."""
    b = replica("b1", mode="sync")
    assert plain(b.handle(Update(1, 1, W1), "primary")) == [("send", "primary", Ack(1, 1))]
    assert plain(b.handle(Update(1, 1, W1), "primary")) == [("send", "primary", Ack(1, 1))]
    assert b.log == [W1]


def test_async_backup_never_acknowledges():
    """Async: the backup applies silently (one message per backup per write)."""
    b = replica("b1", mode="async")
    assert plain(b.handle(Update(1, 1, W1), "primary")) == []
    assert b.log == [W1]


def test_backup_with_a_gap_says_behind_and_applies_nothing():
    """Update 3 to a backup holding 1 entry: a gap; it answers Behind and keeps its log."""
    b = replica("b1", mode="sync")
    b.handle(Update(1, 1, W1), "primary")
    assert plain(b.handle(Update(1, 3, W3), "primary")) == [("send", "primary", Behind(1))]
    assert b.log == [W1]


def test_sync_message_rules():
    """A backup takes a Sync's log if it was not yet synced in that epoch, or if the log is
    longer than its own; a shorter (late) Sync of its epoch changes nothing.  Each Sync is
    acknowledged with the length held (sync mode)."""
    b = replica("b1", mode="sync")
    b.handle(Update(1, 1, W1), "primary")
    assert plain(b.handle(Sync(1, ()), "primary")) == [("send", "primary", Ack(1, 1))]
    assert b.log == [W1]                                  # shorter: kept
    assert plain(b.handle(Sync(1, (W1, W2)), "primary")) == [("send", "primary", Ack(1, 2))]
    assert b.log == [W1, W2]                              # longer: taken
    e = replica("b1", mode="async", failover="epochs")
    e.handle(Update(1, 1, W1), "primary")
    assert plain(e.handle(Sync(2, (W2,)), "b2")) == [("set", PrimaryTimeout(), 4.0)]
    assert (e.log, e.log_epoch, e.epoch) == ([W2], 2, 2)  # a new epoch's log: taken, shorter or not


def test_update_from_a_primary_not_yet_synced_with_asks_for_the_log():
    """Epochs: a backup that has not taken a Sync in the Update's epoch cannot know that its
    log agrees with the new primary's, so it answers Behind rather than appending."""
    b = replica("b1", mode="sync", failover="epochs")
    eff = plain(b.handle(Update(2, 1, W2), "b2"))
    assert eff == [("set", PrimaryTimeout(), 4.0), ("send", "b2", Behind(2))]
    assert b.log == [] and b.epoch == 2 and b.log_epoch == 1


def test_any_replica_answers_reads_from_its_own_log():
    """A read returns the last write in the replica's own log: fresh at the primary, possibly
    stale at a backup, None before any write."""
    p = replica("primary", mode="async")
    b = replica("b1", mode="async")
    assert plain(b.handle(Request("client", 0, ("read",)), "client")) == [
        ("send", "client", Reply(0, None))]
    p.handle(write(0, W1), "client")
    p.handle(write(1, W2), "client")
    b.handle(Update(1, 1, W1), "primary")
    assert plain(p.handle(Request("client", 2, ("read",)), "client")) == [
        ("send", "client", Reply(2, 2))]
    assert plain(b.handle(Request("client", 2, ("read",)), "client")) == [
        ("send", "client", Reply(2, 1))]                  # stale
    assert register_value([W1, W2, ("read",)]) == 2 and register_value([]) is None


def test_a_replica_that_is_not_primary_ignores_writes():
    """Only the primary takes writes: a backup stays silent and the client tries elsewhere."""
    b = replica("b1", mode="sync")
    assert plain(b.handle(write(0), "client")) == [] and b.log == []


# ---- heartbeats and failure detection ----------------------------------------------------

def test_without_failover_there_are_no_timers():
    """failover=None: the primary never changes, so nobody sets a heartbeat or a timeout."""
    assert plain(replica("primary", start=False).run_hook("on_start")) == []
    assert plain(replica("b1", start=False).run_hook("on_start")) == []


def test_with_failover_the_primary_heartbeats_and_backups_watch():
    """With failover the primary sets its heartbeat timer and each backup its PrimaryTimeout."""
    assert plain(replica("primary", start=False, failover="naive").run_hook("on_start")) == [
        ("cancel", PrimaryTimeout()), ("set", HeartbeatTimer(), 1.0)]
    assert plain(replica("b1", start=False, failover="naive").run_hook("on_start")) == [
        ("cancel", HeartbeatTimer()), ("set", PrimaryTimeout(), 4.0)]


def test_idle_primary_sends_heartbeats_with_its_log_length():
    """HeartbeatTimer at a primary: Heartbeat(epoch, length) to every backup, then again later."""
    p = replica("primary", mode="async", failover="naive", heartbeat=2)
    p.handle(write(0), "client")
    assert plain(p.handle(HeartbeatTimer())) == [
        ("send", "b1", Heartbeat(1, 1)), ("send", "b2", Heartbeat(1, 1)),
        ("set", HeartbeatTimer(), 2)]


def test_shipping_puts_the_next_heartbeat_off():
    """A primary that ships is not idle: shipping moves its heartbeat timer a period later."""
    p = replica("primary", mode="async", failover="naive", heartbeat=2)
    assert plain(p.handle(write(0), "client")) == [
        ("send", "client", Reply(0, "ok")), ("send", "b1", Update(1, 1, W1)),
        ("send", "b2", Update(1, 1, W1)), ("set", HeartbeatTimer(), 2)]


def test_heartbeat_timer_at_a_backup_is_stale():
    """A timer left from a term as primary does nothing at a backup."""
    assert plain(replica("b1", failover="naive").handle(HeartbeatTimer())) == []


def test_heartbeat_restarts_the_timeout_and_reveals_a_lagging_backup():
    """A Heartbeat restarts the backup's PrimaryTimeout; one announcing a longer log than the
    backup holds makes it answer Behind (an async backup that lost the last Update catches up)."""
    b = replica("b1", mode="async", failover="naive", timeout=5)
    assert plain(b.handle(Heartbeat(1, 0), "primary")) == [("set", PrimaryTimeout(), 5)]
    assert plain(b.handle(Heartbeat(1, 2), "primary")) == [
        ("set", PrimaryTimeout(), 5), ("send", "primary", Behind(1))]


def test_timeout_at_a_primary_is_stale():
    """PrimaryTimeout at a replica that is primary does nothing."""
    for failover in ("naive", "epochs"):
        p = replica("primary", failover=failover)
        assert plain(p.handle(PrimaryTimeout())) == [] and p.role == "primary"


# ---- naive failover --------------------------------------------------------------------

def test_naive_backup_promotes_itself_when_the_timeout_fires():
    """Naive: a backup that heard nothing for the timeout becomes primary at once, in the same
    epoch, and announces itself with a Heartbeat; nobody is asked."""
    b = replica("b1", failover="naive")
    assert plain(b.handle(PrimaryTimeout())) == [
        ("cancel", PrimaryTimeout()), ("set", HeartbeatTimer(), 1.0),
        ("send", "primary", Heartbeat(1, 0)), ("send", "b2", Heartbeat(1, 0))]
    assert b.role == "primary" and b.epoch == 1


def test_naive_primary_ignores_what_another_primary_sends():
    """Naive: a primary takes no Update, Heartbeat or Sync from anyone (so two stay two)."""
    p = replica("primary", failover="naive")
    for msg in (Update(1, 1, W2), Heartbeat(1, 5), Sync(1, (W2,))):
        assert plain(p.handle(msg, "b1")) == []
    assert p.log == [] and p.role == "primary"


def test_naive_backup_follows_whoever_ships_to_it():
    """Naive: a backup applies Updates from any primary: from two, its log mixes them."""
    b = replica("b2", mode="async", failover="naive")
    b.handle(Update(1, 1, W1), "primary")
    b.handle(Update(1, 2, W2), "b1")
    b.handle(Update(1, 2, W3), "primary")                 # "a duplicate": silently dropped
    assert b.log == [W1, W2]


# ---- epochs with fencing ---------------------------------------------------------------

def test_timeout_starts_an_election_in_the_next_epoch():
    """Epochs: a backup whose timeout fires writes epoch + 1, votes for itself, sends
    Elect(epoch) to the other replicas and sets a timeout to try again."""
    b = replica("b1", failover="epochs")
    assert plain(b.handle(PrimaryTimeout())) == [
        ("send", "primary", Elect(2)), ("send", "b2", Elect(2)), ("set", PrimaryTimeout(), 4.0)]
    assert (b.role, b.epoch, b.votes) == ("candidate", 2, {"b1"})
    assert plain(b.handle(PrimaryTimeout())) == [           # no majority in time: epoch 3
        ("send", "primary", Elect(3)), ("send", "b2", Elect(3)), ("set", PrimaryTimeout(), 4.0)]


def test_a_replica_votes_once_per_epoch_even_across_a_crash():
    """Elect(e) is granted only if e is newer than the replica's epoch, which it stores first
    (it is on disk): a second candidate for the same epoch, or an older one, gets nothing,
    before or after a crash."""
    b = replica("b2", failover="epochs")
    b.handle(Update(1, 1, W1), "primary")
    assert plain(b.handle(Elect(2), "b1")) == [
        ("cancel", HeartbeatTimer()), ("set", PrimaryTimeout(), 4.0),
        ("send", "b1", ElectOK(2, 1, (W1,)))]
    assert b.epoch == 2
    assert plain(b.handle(Elect(2), "primary")) == []
    assert plain(b.handle(Elect(1), "primary")) == []
    b.crash_reset()
    assert b.epoch == 2 and plain(b.handle(Elect(2), "primary")) == []


def test_a_primary_steps_down_when_it_votes_in_a_newer_epoch():
    """A primary granting Elect(e) stops being primary: it forgets its waiting clients and
    its table of answered requests, stops heartbeating and starts watching for a primary."""
    p = replica("primary", mode="sync", failover="epochs")
    p.handle(write(0), "client")
    assert plain(p.handle(Elect(2), "b1")) == [
        ("cancel", HeartbeatTimer()), ("set", PrimaryTimeout(), 4.0),
        ("send", "b1", ElectOK(2, 1, (W1,)))]
    assert (p.role, p.waiting, p.seen) == ("backup", {}, {})


def test_majority_of_all_replicas_to_take_office():
    """A candidate takes office with votes from a majority of all replicas, its own included:
    2 of 3, but 3 of 5.  Taking office, it sends Sync(epoch, log) to every other replica."""
    b = replica("b1", failover="epochs")
    b.handle(PrimaryTimeout())
    assert plain(b.handle(ElectOK(2, 1, ()), "b2")) == [
        ("cancel", PrimaryTimeout()), ("set", HeartbeatTimer(), 1.0),
        ("send", "primary", Sync(2, ())), ("send", "b2", Sync(2, ()))]
    assert (b.role, b.epoch, b.log_epoch) == ("primary", 2, 2)

    five = ("primary", "b1", "b2", "b3", "b4")
    c = replica("b1", five, failover="epochs")
    c.handle(PrimaryTimeout())
    assert plain(c.handle(ElectOK(2, 1, ()), "b2")) == [] and c.role == "candidate"
    assert plain(c.handle(ElectOK(2, 1, ()), "b2")) == []      # the same voter twice: 2 votes
    eff = plain(c.handle(ElectOK(2, 1, ()), "b3"))
    assert c.role == "primary" and [e[1] for e in eff if e[0] == "send"] == ["primary", "b2", "b3", "b4"]


def test_the_candidate_adopts_the_best_log_offered():
    """The best log is the one written in the highest epoch, then the longest: the candidate
    takes it before taking office and syncs everyone to it."""
    five = ("primary", "b1", "b2", "b3", "b4")
    c = replica("b1", five, failover="epochs")
    c.handle(Update(1, 1, W1), "primary")
    c.handle(PrimaryTimeout())
    c.handle(PrimaryTimeout())                              # epoch 3
    c.handle(ElectOK(3, 1, (W1, W2, W3)), "b2")             # longer: taken
    assert c.log == [W1, W2, W3] and c.role == "candidate"
    eff = plain(c.handle(ElectOK(3, 2, (W2,)), "b3"))       # written in epoch 2: better
    assert c.role == "primary" and c.log == [W2] and c.log_epoch == 3
    assert ("send", "b4", Sync(3, (W2,))) in eff


def test_stale_votes_are_ignored():
    """An ElectOK for another epoch, or at a replica that is no longer a candidate, counts for nothing."""
    b = replica("b1", failover="epochs")
    assert plain(b.handle(ElectOK(2, 1, ()), "b2")) == [] and b.role == "backup"
    b.handle(PrimaryTimeout())
    b.handle(PrimaryTimeout())                              # now epoch 3
    assert plain(b.handle(ElectOK(2, 1, ()), "b2")) == [] and b.role == "candidate"


def test_the_plain_replica_fences_nothing():
    """Replica leaves fencing to its stale() rule, which accepts everything: chapter 02's
    exercise asks the reader to write it, so the base class must not hold the answer.  A
    deposed primary's Sync is then applied, and its old epoch taken back."""
    b = replica("b1", mode="sync", failover="epochs", cls=Replica)
    b.handle(Elect(3), "b2")
    b.handle(Sync(2, (W1,)), "primary")
    assert b.log == [W1] and b.epoch == 2
    assert replication_system(1)[-1].__class__ is FencingReplica


def test_fencing_drops_messages_from_an_older_epoch():
    """A replica in epoch 3 drops Update, Heartbeat and Sync of epoch 2 (a deposed primary),
    and a primary of epoch 3 drops Acks and Behinds of epoch 2."""
    b = replica("b1", mode="sync", failover="epochs")
    b.handle(Elect(3), "b2")
    for msg in (Update(2, 1, W1), Heartbeat(2, 9), Sync(2, (W1,))):
        assert plain(b.handle(msg, "primary")) == []
    assert b.log == [] and b.epoch == 3
    p = replica("b1", failover="epochs")
    p.handle(PrimaryTimeout())
    p.handle(PrimaryTimeout())
    p.handle(ElectOK(3, 1, ()), "b2")
    assert p.role == "primary" and p.epoch == 3
    assert plain(p.handle(Ack(2, 1), "primary")) == [] and p.match == {}
    assert plain(p.handle(Behind(2), "primary")) == []


def test_a_newer_epoch_is_learned_and_the_primary_steps_down():
    """A primary that hears of a newer epoch (a Heartbeat of epoch 3) learns it, steps down,
    and, not synced with the new primary, asks for its log."""
    p = replica("primary", failover="epochs")
    assert plain(p.handle(Heartbeat(3, 0), "b2")) == [
        ("cancel", HeartbeatTimer()), ("set", PrimaryTimeout(), 4.0), ("send", "b2", Behind(3))]
    assert (p.role, p.epoch) == ("backup", 3)
    q = replica("primary", mode="sync", failover="epochs")
    q.handle(Ack(4, 0), "b1")                               # from a backup, too
    assert (q.role, q.epoch) == ("backup", 4)


def test_a_candidate_follows_the_primary_of_its_own_epoch():
    """Two candidates for epoch 2: the one that lost hears the winner's Sync, steps down and
    takes the log."""
    b = replica("b2", mode="sync", failover="epochs")
    b.handle(PrimaryTimeout())
    assert plain(b.handle(Sync(2, (W1,)), "b1")) == [
        ("cancel", HeartbeatTimer()), ("set", PrimaryTimeout(), 4.0), ("send", "b1", Ack(2, 1))]
    assert (b.role, b.log, b.log_epoch) == ("backup", [W1], 2)


def test_max_epoch_bounds_elections():
    """With max_epoch (a bound for the checker) a replica stands for no epoch above it."""
    b = replica("b1", failover="epochs", max_epoch=2)
    b.handle(PrimaryTimeout())
    assert plain(b.handle(PrimaryTimeout())) == [] and b.epoch == 2


# ---- stable and volatile state, restarts ---------------------------------------------------

def test_crash_keeps_log_and_epoch_forgets_who_waits():
    """log, epoch, log_epoch and the table of applied requests are on disk; the role, the
    acks heard, the waiting clients and the votes are not."""
    p = replica("primary", mode="sync", failover="epochs")
    p.handle(write(0), "client")
    p.handle(Ack(1, 1), "b1")
    p.crash_reset()
    assert (p.log, p.epoch, p.log_epoch, p.seen) == ([W1], 1, 1, {("client", 0): 1})
    assert (p.role, p.match, p.waiting, p.votes) == ("backup", {}, {}, set())


def test_restart_with_epochs_comes_back_as_backup():
    """Epochs: a restarted replica cannot know whether it was deposed, so it is a backup.
    Without failover the primary comes back as primary; naive, in its configured role."""
    e = replica("primary", failover="epochs")
    e.crash_reset()
    assert plain(e.run_hook("on_restart")) == [
        ("cancel", HeartbeatTimer()), ("set", PrimaryTimeout(), 4.0)]
    assert e.role == "backup"
    s = replica("primary", mode="sync")
    s.handle(write(0), "client")
    s.crash_reset()
    assert plain(s.run_hook("on_restart")) == [] and s.role == "primary"
    # it remembers applying the write but not the acks: a retry is shipped, not applied again
    assert plain(s.handle(write(0), "client")) == [
        ("send", "b1", Update(1, 1, W1)), ("send", "b2", Update(1, 1, W1))]
    assert s.log == [W1]


# ---- clients -----------------------------------------------------------------------------

def test_client_tries_the_next_replica_on_a_timeout():
    """A client's request that times out goes again to the next replica, in turn."""
    c = attach(ReplicationClient("client", REPLICAS, [W1], timeout=3))
    c.handle(NextOp())
    assert plain(c.handle(RequestTimeout(0))) == [
        ("send", "b1", Request("client", 0, W1)), ("set", RequestTimeout(0), 3)]
    c.handle(RequestTimeout(0))
    assert plain(c.handle(RequestTimeout(0))) == [
        ("send", "primary", Request("client", 0, W1)), ("set", RequestTimeout(0), 3)]
    assert plain(c.handle(RequestTimeout(7))) == []         # stale


def test_client_sticks_with_the_replica_that_took_its_write():
    """A write answered by b2 makes b2 the client's primary for what follows."""
    c = attach(ReplicationClient("client", REPLICAS, [W1, W2], timeout=3))
    c.handle(NextOp())
    c.handle(Reply(0, "ok"), "b2")
    assert plain(c.handle(NextOp())) == [
        ("invoke", W2, None), ("send", "b2", Request("client", 1, W2)),
        ("set", RequestTimeout(1), 3)]


def test_client_reads_from_a_fixed_replica():
    """With read_from, reads go to that replica and writes to the primary."""
    c = attach(ReplicationClient("client", REPLICAS, [W1, ("read",)], read_from="b2"))
    assert ("send", "primary", Request("client", 0, W1)) in plain(c.handle(NextOp()))
    c.handle(Reply(0, "ok"), "primary")
    assert ("send", "b2", Request("client", 1, ("read",))) in plain(c.handle(NextOp()))


# ---- the builder -------------------------------------------------------------------------

def test_builder_names_and_operations():
    """Clients come first, then "primary", "b1".."bn"; one client is "client" and writes
    1, 2, ...; several are c1.. and write "c1:1", ...; reads follow the first writes."""
    nodes = replication_system(backups=3, writes=2, reads=3)
    assert [n.id for n in nodes] == ["client", "primary", "b1", "b2", "b3"]
    assert nodes[0].ops == (W1, ("read",), W2, ("read",), ("read",))
    assert nodes[0].read_from is None
    many = replication_system(backups=2, clients=3, writes=1, read_from="backup")
    assert [n.id for n in many][:3] == ["c1", "c2", "c3"]
    assert many[1].ops == (("write", "c2:1"),)
    assert [n.read_from for n in many[:3]] == ["b1", "b2", "b1"]
    assert [n.needed for n in replication_system(backups=3, mode="semi-sync", k=2)[1:]] == [2] * 4


@pytest.mark.parametrize("kwargs, message", [
    ({"backups": 0}, r"backups must be a whole number >= 1, got 0"),
    ({"backups": 1.5}, r"backups must be a whole number >= 1"),
    ({"mode": "quorum"}, r"unknown mode 'quorum'; allowed: 'async', 'sync', 'semi-sync'"),
    ({"mode": "semi-sync"}, r"semi-sync needs k.*from 1 to the number of backups \(2\); got k=None"),
    ({"mode": "semi-sync", "k": 3}, r"from 1 to the number of backups \(2\); got k=3"),
    ({"mode": "semi-sync", "k": 0}, r"got k=0"),
    ({"mode": "sync", "k": 1}, r"mode 'sync' takes no k"),
    ({"failover": "raft"}, r"unknown failover 'raft'; allowed: None .*'naive', 'epochs' or 'prevote'"),
    ({"heartbeat": 0}, r"heartbeat must be a finite number > 0, got 0"),
    ({"timeout": -1}, r"timeout must be a finite number > 0, got -1"),
    ({"client_timeout": 0}, r"client_timeout must be a finite number > 0, got 0"),
    ({"clients": -1}, r"clients must be a whole number >= 0"),
    ({"writes": -2}, r"writes must be a whole number >= 0"),
    ({"read_from": "b1"}, r"read_from must be 'primary' or 'backup', got 'b1'"),
    ({"max_epoch": 0}, r"max_epoch must be a whole number >= 1"),
    ({"heartbeat": float("inf")}, r"heartbeat must be a finite number > 0, got inf"),
    ({"timeout": float("inf")}, r"timeout must be a finite number > 0, got inf"),
    ({"think": float("nan")}, r"think must be a finite number >= 0, got nan"),
    ({"writes": 10**9}, r"writes must be at most 10,000 here \(more would not finish"),
])
def test_bad_configuration_says_what_is_allowed(kwargs, message):
    """Bad input raises ValueError naming the parameter and what it may be."""
    with pytest.raises(ValueError, match=message):
        replication_system(**kwargs)


# ---- message counts measured in traces ---------------------------------------------------

def replica_messages(trace):
    """Messages between replicas, by type (client requests and replies left out)."""
    counts = trace.message_counts()
    return {t: c for t, c in counts.items() if t not in ("Request", "Reply")}


@pytest.mark.parametrize("backups", [1, 2, 3])
@pytest.mark.parametrize("mode, k, per_backup", [
    ("async", None, 1), ("semi-sync", 1, 2), ("sync", None, 2)])
def test_messages_per_write(backups, mode, k, per_backup):
    """Per write, async sends 1 message per backup (Update), sync and semi-sync 2 (Update and
    Ack): 1n and 2n, counted in the trace of 4 writes."""
    trace = Simulation(replication_system(backups, mode, k, writes=4)).run()
    expected = {"Update": 4 * backups} | ({"Ack": 4 * backups} if per_backup == 2 else {})
    assert replica_messages(trace) == expected
    assert sum(expected.values()) == per_backup * backups * 4
    assert [op.result for op in trace.history()] == ["ok"] * 4


def test_sync_latency_follows_the_slowest_backup():
    """Constant links, b2's twice as slow: an async write takes the client's round trip (2),
    a sync write waits for b2's (2 + 4), semi-sync k=1 for b1's (2 + 2)."""
    def latency(mode, k=None):
        net = Network(links={("primary", "b2"): Uniform(2, 2), ("b2", "primary"): Uniform(2, 2)})
        trace = Simulation(replication_system(2, mode, k, writes=1), network=net).run()
        return trace.history()[0].latency
    assert (latency("async"), latency("semi-sync", 1), latency("sync")) == (2, 4, 6)


# ---- the three failure stories, scripted --------------------------------------------------

def logs(sim):
    return {r: sim.node(r).log for r in sim.nodes if isinstance(sim.node(r), Replica)}


def test_story_1_backup_holds_a_write_the_client_never_heard_of():
    """Sync, one backup, naive failover.  The primary ships write 1, b1 applies it, the
    primary crashes before the Ack arrives: b1 holds a write the client got no answer for.
    b1 promotes itself; the client's retry reaches it and, since the table of applied requests
    stayed on the dead primary's disk, b1 applies the write a second time.  As b1 now waits
    for the dead primary's Ack (sync), the client never gets an answer."""
    sim = Simulation(replication_system(1, "sync", failover="naive", writes=1, client_timeout=3),
                     faults=[crash("primary", when=lambda s: len(s.node("b1").log) == 1)], seed=1)
    trace = sim.run(until=20)
    assert logs(sim) == {"primary": [W1], "b1": [W1, W1]}
    assert sim.node("b1").role == "primary" and sim.crashed == {"primary"}
    assert [(op.op, op.response) for op in trace.history()] == [(W1, None)]
    crashed_at = trace.select(kind="crash")[0].time
    applied = [e.time for e in trace.select(kind="deliver", node="b1", msg_type="Request")]
    # 4.5: b1 is still a backup and ignores it; 10.5: applied again; 16.5: shipped again
    assert crashed_at == 2.5 and applied == [4.5, 10.5, 16.5]


def story_2(failover):
    return split_brain(failover)


def test_story_2_split_brain_after_a_partition_heals():
    """Async, two backups, naive failover, two clients.  A partition cuts b1 (and c2) off at
    t=3; b1 hears no heartbeat, promotes itself at 6.5 and takes c2's writes.  The partition
    heals at t=9 and nothing changes: two primaries in epoch 1 keep answering conflicting
    writes, and the logs diverge (b2 follows the old primary)."""
    sim = story_2("naive")
    trace = sim.run(until=30)
    first = [("write", "c1:1"), ("write", "c2:1")]
    c1 = [("write", f"c1:{i}") for i in range(2, 7)]
    c2 = [("write", f"c2:{i}") for i in range(2, 7)]
    assert logs(sim) == {"primary": first + c1, "b1": first + c2, "b2": first + c1}
    assert primaries_by_epoch(trace) == {1: {"primary", "b1"}}
    assert diverged(sim.node("primary").log, sim.node("b1").log)
    assert [op.result for op in trace.history()] == ["ok"] * 12
    after_heal = {(e.peer, e.node) for e in trace.select(kind="deliver", msg_type="Reply")
                  if e.time > 9}
    assert after_heal == {("primary", "c1"), ("b1", "c2")}   # both primaries answer writes


def test_story_2_with_epochs_and_a_majority():
    """The same schedule with epochs: b1, cut off, cannot get a majority, so the primary keeps
    office and b1 stands again and again; after the heal b1's newer epoch deposes the primary
    (safely: one primary per epoch, and b1 adopts the best log), and every log agrees."""
    sim = story_2("epochs")
    trace = sim.run(until=30)
    assert primaries_by_epoch(trace) == {1: {"primary"}, 3: {"b1"}}
    final = list(logs(sim).values())
    assert final[0] == final[1] == final[2] and len(final[0]) == 12
    assert held_by(final[0]) == acknowledged(trace)


def test_story_3_update_reaches_some_backups_and_the_replicas_diverge():
    """Async, two backups, naive failover.  Write 1 is answered and shipped, but its Update to
    b2 is lost, and the primary crashes once b1 has it.  b2, which has heard nothing from the
    primary, times out first and takes over; b1 follows it.  b2 puts write 2 at index 1, where
    b1 holds write 1: b1 takes it for a duplicate.  The replicas have diverged, silently, and
    write 1, acknowledged, is not in the new primary's log."""
    sim = Simulation(replication_system(2, "async", failover="naive", writes=3, heartbeat=3,
                                        client_timeout=3),
                     faults=[drop("Update", "primary", "b2", at=0),
                             crash("primary", when=lambda s: len(s.node("b1").log) == 1)],
                     seed=3)
    trace = sim.run(until=30)
    assert logs(sim) == {"primary": [W1], "b1": [W1, W3], "b2": [W2, W3]}
    assert primaries_by_epoch(trace) == {1: {"primary", "b2"}}
    assert [op.result for op in trace.history()] == ["ok", "ok", "ok"]
    assert diverged(sim.node("b1").log, sim.node("b2").log)


def test_stale_read_from_a_backup():
    """Async, reads from b1, b1's link slow: the client writes 1 and is answered, then reads
    None from b1, which has not applied the write yet."""
    net = Network(links={("primary", "b1"): Uniform(5, 5)})
    trace = Simulation(replication_system(1, "async", writes=1, reads=1, read_from="backup"),
                       network=net).run()
    assert [(op.op, op.result) for op in trace.history()] == [(W1, "ok"), (("read",), None)]


# ---- the checker ---------------------------------------------------------------------------

def test_checker_naive_two_primaries_in_one_step():
    """Naive failover, primary and one backup, nothing else going on: the checker fires b1's
    timeout, which nothing prevents, and two replicas act as primary (a timeout cannot tell a
    slow primary from a dead one)."""
    r = check(replication_system(1, failover="naive", clients=0), Controls(),
              invariants={"one primary": one_primary}, progress=False)
    assert r.violation.path.actions == [Fire("b1", PrimaryTimeout())]
    assert acting_primaries(r.violation.path.states[-1]) == [("primary", 1), ("b1", 1)]
    assert (r.states, r.transitions) == (3, 2)


def test_checker_naive_divergent_logs_in_six_steps():
    """Naive failover, one backup, two clients writing once: the shortest path to two logs
    that are not prefixes of one another is 6 steps: c1's write reaches the primary, b1
    promotes itself, c2 times out and its write reaches b1."""
    r = check(replication_system(1, failover="naive", clients=2, writes=1, client_timeout=3),
              Controls(), invariants={"logs agree": logs_agree}, progress=False)
    assert r.violation.path.actions == [
        Fire("c1", NextOp()),
        Deliver("c1", "primary", Request("c1", 0, ("write", "c1:1"))),
        Fire("c2", NextOp()),
        Fire("b1", PrimaryTimeout()),
        Fire("c2", RequestTimeout(0)),
        Deliver("c2", "b1", Request("c2", 0, ("write", "c2:1"))),
    ]
    last = r.violation.path.states[-1]
    assert last.node("primary").log == [("write", "c1:1")]
    assert last.node("b1").log == [("write", "c2:1")]
    assert (r.states, r.transitions) == (554, 1196)


def test_checker_epochs_and_majority_never_give_two_primaries_in_one_epoch():
    """Epochs with fencing and a majority, primary and two backups, elections up to epoch 2,
    a network that loses, duplicates and reorders, and one crash of any replica: every
    reachable state has at most one primary per epoch.  (Dropping adds no node states to a
    duplicating network, where a message may stay undelivered forever, so drop is off.)
    A new primary is reachable in 3 steps: b1's timeout, its Elect to the primary, the vote."""
    r = check(replication_system(2, failover="epochs", clients=0, max_epoch=2),
              Controls(duplicate=True, max_crashes=1),
              invariants={"one primary per epoch": one_primary_per_epoch},
              goals={"a primary of epoch 2": lambda s: ("b1", 2) in acting_primaries(s)},
              progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (15244, 182786, 16)
    assert len(r.goals["a primary of epoch 2"].path) == 3


class VotesTwice(FencingReplica):
    """A wrong replica: it grants an Elect of its own epoch again."""

    def on_elect(self, msg, sender):
        if msg.epoch < self.epoch:
            return
        self.epoch = msg.epoch
        self.become_backup()
        self.send(sender, ElectOK(self.epoch, self.log_epoch, tuple(self.log)))


class ForgetsItsEpoch(FencingReplica):
    """A wrong replica: its epoch is not on disk."""

    stable = ("log", "log_epoch", "seen")


def rebuilt(nodes, cls):
    return [cls(n.id, n.replicas, failover=n.failover, max_epoch=n.max_epoch)
            if isinstance(n, Replica) else n for n in nodes]


@pytest.mark.parametrize("cls, steps", [(VotesTwice, 6), (ForgetsItsEpoch, 8)])
def test_checker_finds_two_primaries_when_a_vote_is_not_once_per_epoch(cls, steps):
    """Both halves of "vote once per epoch" matter: a replica that votes twice in an epoch, or
    forgets its epoch in a crash, lets two candidates of epoch 2 both win (shortest paths 6
    and 8 steps; the second needs the crash and restart of the voter)."""
    r = check(rebuilt(replication_system(2, failover="epochs", clients=0, max_epoch=2), cls),
              Controls(duplicate=True, max_crashes=1),
              invariants={"one primary per epoch": one_primary_per_epoch}, progress=False)
    assert len(r.violation.path) == steps
    assert sorted(acting_primaries(r.violation.path.states[-1])) == [("b1", 2), ("b2", 2)]
    assert (Crash("primary") in r.violation.path.actions) == (cls is ForgetsItsEpoch)


def test_checker_async_loses_an_acknowledged_write_in_four_steps():
    """Async, one backup, the primary may crash for good: the write is answered before it is
    shipped, so 4 steps reach an acknowledged write that no live replica holds."""
    r = check(replication_system(1, "async", writes=1),
              Controls(max_crashes=1, crashable=("primary",), restart=False),
              invariants={"no acknowledged write lost": no_acknowledged_write_lost},
              progress=False)
    assert r.violation.path.actions == [
        Fire("client", NextOp()),
        Deliver("client", "primary", Request("client", 0, W1)),
        Deliver("primary", "client", Reply(0, "ok")),
        Crash("primary"),
    ]


@pytest.mark.parametrize("backups, client_timeout, counts", [
    (1, None, (299, 1285)), (2, 2, (21516, 186207))])
def test_checker_sync_with_a_static_primary_keeps_every_acknowledged_write(
        backups, client_timeout, counts):
    """Sync, a fixed primary, one write, loss, duplication and one crash of any replica:
    every acknowledged write is on every backup in every reachable state."""
    r = check(replication_system(backups, "sync", writes=1, client_timeout=client_timeout),
              Controls(drop=True, duplicate=True, max_crashes=1),
              invariants={"acknowledged writes on every backup": acknowledged_writes_on_backups},
              progress=False)
    assert r.ok and r.complete and (r.states, r.transitions) == counts


def test_checker_path_replays_as_a_trace():
    """A counterexample becomes a trace: the start steps, then its actions, with the two
    primaries visible in the final states."""
    r = check(replication_system(1, failover="naive", clients=0), Controls(),
              invariants={"one primary": one_primary}, progress=False)
    trace = r.violation.path.trace()
    assert primaries_by_epoch(trace) == {1: {"primary", "b1"}}


# ---- randomized runs -------------------------------------------------------------------------

def random_faults(seed, partitions):
    """Two crashes (each with its restart) of random replicas, maybe a partition."""
    rng = random.Random(seed)
    faults = []
    for _ in range(2):
        who, at = rng.choice(REPLICAS), rng.uniform(0, 12)
        faults += [crash(who, at=at), restart(who, at=at + rng.uniform(1, 6))]
    if partitions:
        at = rng.uniform(0, 12)
        faults += [partition([rng.choice(REPLICAS)], at=at), heal(at=at + rng.uniform(2, 8))]
    return faults


def random_run(seed, partitions=False, **config):
    sim = Simulation(replication_system(2, clients=2, writes=2, client_timeout=3, **config),
                     network=Network(Uniform(0.5, 1.5), loss=0.1, duplicate=0.1),
                     faults=random_faults(seed, partitions), seed=seed)
    sim.run(until=30)
    return sim


def acknowledged(trace):
    return {op.op[1] for op in trace.history() if op.result == "ok"}


def test_random_sync_with_a_static_primary_never_loses_an_acknowledged_write():
    """500 seeds, 10% loss, 10% duplication, two crashes and restarts: with sync replication
    and a fixed primary every acknowledged write is on every backup, and no logs diverge."""
    total = 0
    for seed in range(500):
        sim = random_run(seed, mode="sync")
        done = acknowledged(sim.trace)
        total += len(done)
        for b in ("b1", "b2"):
            assert done <= held_by(sim.node(b).log), f"seed {seed}: {b} misses a write"
        assert not diverged(sim.node("b1").log, sim.node("b2").log), seed
    assert total == 1652           # of 2000 writes (the rest waited on a crashed backup)


@pytest.mark.parametrize("mode, acked, failed_over", [("sync", 1322, 473), ("async", 1891, 476)])
def test_random_epochs_never_give_two_primaries_in_one_epoch(mode, acked, failed_over):
    """500 seeds, 10% loss, 10% duplication, two crashes, a partition: with epochs and a
    majority no epoch ever has two primaries.  Failovers happen in most runs."""
    total = failovers = 0
    for seed in range(500):
        sim = random_run(seed, partitions=True, mode=mode, failover="epochs", timeout=3)
        epochs = primaries_by_epoch(sim.trace)
        assert all(len(who) == 1 for who in epochs.values()), f"seed {seed}: {epochs}"
        total += len(acknowledged(sim.trace))
        failovers += len(epochs) > 1
    assert (total, failovers) == (acked, failed_over)


def test_random_sync_with_epochs_keeps_acknowledged_writes_across_failovers():
    """Sync with epochs: across the same 500 faulty runs, the newest live primary holds every
    write a client was told succeeded (the new primary adopts the best log of a majority)."""
    checked = 0
    for seed in range(500):
        sim = random_run(seed, partitions=True, mode="sync", failover="epochs", timeout=3)
        live = [sim.node(r) for r in REPLICAS if sim.node(r).role == "primary"
                and r not in sim.crashed]
        if live:
            newest = max(live, key=lambda r: r.epoch)
            assert acknowledged(sim.trace) <= held_by(newest.log), f"seed {seed}"
            checked += 1
    assert checked == 495


def test_same_seed_same_trace():
    """Runs are reproducible: the same configuration, faults and seed give the same digest."""
    a = random_run(7, partitions=True, mode="sync", failover="epochs", timeout=3).trace.digest()
    b = random_run(7, partitions=True, mode="sync", failover="epochs", timeout=3).trace.digest()
    assert a == b


# ---- pre-vote and batched shipping ----------------------------------------------------------


def test_a_pre_vote_changes_nothing_and_needs_a_majority():
    """failover="prevote": on its timeout a backup asks PreElect(epoch + 1) and keeps its
    epoch; a replica that heard from the primary since its own timeout refuses; one whose
    timeout fired grants; a majority of yeses makes the asker stand for real."""
    from replib.protocols.replication import PreElect, PreElectOK
    b1 = replica("b1", failover="prevote")
    out = plain(b1.handle(PrimaryTimeout()))
    assert ("send", "primary", PreElect(2, 1, 0)) in out and b1.epoch == 1 and b1.role == "backup"
    b2 = replica("b2", failover="prevote")
    b2.handle(Heartbeat(1, 0), "primary")                     # heard the primary
    assert plain(b2.handle(PreElect(2, 1, 0), "b1")) == []
    b2.handle(PrimaryTimeout())                               # now it has not, for a while
    assert ("send", "b1", PreElectOK(2)) in plain(b2.handle(PreElect(2, 1, 0), "b1"))
    out = plain(b1.handle(PreElectOK(2), "b2"))
    assert b1.epoch == 2 and b1.role == "candidate" and ("send", "b2", Elect(2)) in out


def test_a_pre_vote_refuses_a_shorter_log():
    """A replica does not promise its vote to a replica whose log is behind its own."""
    from replib.protocols.replication import PreElect
    b2 = replica("b2", failover="prevote")
    b2.handle(Sync(1, (W1,)), "primary")
    b2.handle(PrimaryTimeout())
    assert plain(b2.handle(PreElect(2, 1, 0), "b1")) == []


def test_pre_vote_keeps_one_primary_per_epoch():
    """The checker with the pre-vote (a primary and two backups, elections up to epoch 2, a
    duplicating and reordering network, no crash, to keep it to a second): still at most one
    primary per epoch in every reachable state, and a new primary is still reachable, in
    5 steps (timeout, PreElect, PreElectOK, Elect, ElectOK)."""
    r = check(replication_system(2, failover="prevote", clients=0, max_epoch=2),
              Controls(duplicate=True),
              invariants={"one primary per epoch": one_primary_per_epoch},
              goals={"b1 primary of epoch 2": lambda s: ("b1", 2) in acting_primaries(s)},
              progress=False)
    assert r.ok and r.complete and r.goals["b1 primary of epoch 2"].reached
    assert (r.states, len(r.goals["b1 primary of epoch 2"].path)) == (12_013, 5)


def test_batched_shipping_waits_for_the_timer():
    """ship_every: an async primary answers at once, ships nothing until ShipTimer fires,
    then ships every write since the last batch."""
    from replib.protocols.replication import ShipTimer
    p = replica("primary", mode="async", ship_every=2.0)
    out = plain(p.handle(Request("client", 0, W1), "client"))
    assert out == [("send", "client", Reply(0, "ok")), ("set", ShipTimer(), 2.0)]
    out = plain(p.handle(Request("client", 1, W2), "client"))
    assert out == [("send", "client", Reply(1, "ok"))]
    out = plain(p.handle(ShipTimer()))
    assert [e for e in out if e[0] == "send"] == [
        ("send", "b1", Update(1, 1, W1)), ("send", "b2", Update(1, 1, W1)),
        ("send", "b1", Update(1, 2, W2)), ("send", "b2", Update(1, 2, W2))]
    with pytest.raises(ValueError, match="ship_every .* is for mode 'async'"):
        replica("primary", mode="sync", ship_every=2.0)
