"""Chapter 04's experiments (replib.experiments.partitions): a crash and a partition
look the same from the other side; both sides active diverge, the majority rule keeps one;
epochs order leaders and fence the stale one; quorum reports count exactly."""

from math import comb

import pytest

from replib.experiments.primary_backup import split_brain
from replib.experiments.partitions import (
    FIVE_SPLIT,
    RULES,
    crash_or_partition,
    epochs_never_go_back,
    failed_names,
    fenced_messages,
    first_difference,
    leadership,
    lost_messages,
    majority_system,
    no_majority_left,
    node_names,
    observed,
    quorum_report,
    side_table,
    staggered,
    two_sides,
)
from replib.protocols.replication import Replica, replication_system

# ---- a crash or a partition -------------------------------------------------------------------


def test_b1_cannot_tell_a_crash_from_a_partition():
    """What b1 sees (receipts, timers, sends) is the same list in both runs: four heartbeats,
    then its timeout, its election in epoch 2 and its own heartbeats."""
    runs = crash_or_partition()
    crash, cut = observed(runs["crash"], "b1"), observed(runs["partition"], "b1")
    assert crash == cut
    assert first_difference(crash, cut) is None
    assert len(crash) == 24
    assert crash[:7] == [
        (0.0, "starts"),
        (1.5, "receives Heartbeat(epoch=1, length=0) from primary"),
        (2.5, "receives Heartbeat(epoch=1, length=0) from primary"),
        (3.5, "receives Heartbeat(epoch=1, length=0) from primary"),
        (4.5, "receives Heartbeat(epoch=1, length=0) from primary"),
        (8.5, "timer PrimaryTimeout() fires"),
        (8.5, "sends Elect(epoch=2) to primary")]


def test_only_the_simulator_and_the_suspect_see_the_difference():
    """The drop reasons differ (b1 never sees them); the primary's own view parts at its
    first heartbeat after t=4.75, which only the partitioned primary sends; in the partition
    run two replicas act as primary at the end."""
    runs = crash_or_partition()
    assert lost_messages(runs["crash"], "b1") == {"primary is down": 6}
    assert lost_messages(runs["partition"], "b1") == {"partition": 6}
    a, b = observed(runs["crash"], "primary"), observed(runs["partition"], "primary")
    i = first_difference(a, b)
    assert i == len(a) == 13 and b[i] == (5.0, "timer HeartbeatTimer() fires")
    assert leadership(runs["crash"]) == [("primary", 1, 0.0, 4.75), ("b1", 2, 9.5, None)]
    assert leadership(runs["partition"]) == [("primary", 1, 0.0, None), ("b1", 2, 9.5, None)]


def test_observed_leaves_out_what_a_node_cannot_see():
    """observed lists only the node's own start, receipts, timers and sends; asking about a
    node that is not in the trace is a ValueError."""
    trace = crash_or_partition()["partition"]
    kinds = {what.split()[0] for _, what in observed(trace, "b1")}
    assert kinds == {"starts", "receives", "timer", "sends"}
    with pytest.raises(ValueError, match="no node 'zz' in this trace"):
        observed(trace, "zz")


def test_first_difference():
    """Equal lists: None; a proper prefix differs where it ends."""
    assert first_difference([1, 2], [1, 2]) is None
    assert first_difference([1, 2], [1, 3]) == 1
    assert first_difference([1], [1, 2]) == 1


@pytest.mark.parametrize("kwargs, match", [
    (dict(observer="b1", suspect="b1"), "two different replicas"),
    (dict(observer="b9"), r"observer must be one of the replicas \['primary', 'b1', 'b2'\]"),
    (dict(suspect="x"), "suspect must be one of the replicas"),
    (dict(at=-1), "at must be a finite number >= 0"),
    (dict(at=5, until=5), "until must be later than at=5"),
    (dict(backups=0), "backups must be a whole number from 1 to 6"),
])
def test_crash_or_partition_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        crash_or_partition(**kwargs)


def test_staggered_timeouts():
    """Backups get base, base + step, ...; the primary gets base; clients are untouched."""
    nodes = staggered(replication_system(3, failover="epochs"), 4.0, 2.0)
    assert {n.id: n.timeout for n in nodes if isinstance(n, Replica)} == {
        "primary": 4.0, "b1": 4.0, "b2": 6.0, "b3": 8.0}


# ---- two sides ---------------------------------------------------------------------------


def test_no_rule_both_sides_write_and_diverge():
    """Naive failover, async: both sides acknowledge writes while split; 4 pairs of logs
    have diverged at the end."""
    run = two_sides("none")
    assert run.acknowledged == {("primary", "b1"): 9, ("b2", "b3", "b4"): 5}
    assert run.active == list(FIVE_SPLIT)
    assert len(run.diverged) == 4 and run.lost == []


def test_majority_elections_alone_lose_the_minority_writes():
    """Epochs with async writes: both sides acknowledge; the logs agree after the heal only
    because the minority primary's 9 acknowledged writes are gone."""
    run = two_sides("elections only")
    assert run.active == list(FIVE_SPLIT)
    assert run.diverged == []
    assert [op.op for op in run.lost] == [("write", f"c1:{i}") for i in range(2, 11)]


def test_majority_rule_keeps_exactly_the_majority_side():
    """Majority votes and majority-held writes: only {b2, b3, b4} acknowledges (2 writes);
    nothing diverges, nothing acknowledged is lost."""
    run = two_sides("majority")
    assert run.acknowledged == {("primary", "b1"): 0, ("b2", "b3", "b4"): 2}
    assert run.active == [("b2", "b3", "b4")]
    assert run.diverged == [] and run.lost == []
    assert run.summary().splitlines()[1:] == [
        "  side 1 {primary, b1} (2 of 5): 0 write(s) acknowledged while split",
        "  side 2 {b2, b3, b4} (3 of 5, a majority): 2 write(s) acknowledged while split",
        "  at the end: 0 pair(s) of diverged logs, 0 acknowledged write(s) lost"]


def test_majority_rule_with_the_primary_on_the_majority_side():
    """Primary with 2 backups (3 of 5): it goes on (5 writes); the 2 others cannot elect
    anyone while split.  b3 kept standing with ever newer epochs, so after the heal (t=30)
    its epoch-5 election deposes the healthy primary: safe but disruptive, as the protocol
    documents (Raft's pre-vote avoids it)."""
    run = two_sides("majority", (("primary", "b1", "b2"), ("b3", "b4")))
    assert run.acknowledged == {("primary", "b1", "b2"): 5, ("b3", "b4"): 0}
    assert leadership(run.trace) == [("primary", 1, 0.0, 37.5), ("b3", 5, 38.5, None)]
    assert run.diverged == [] and run.lost == []


def test_an_even_split_leaves_no_side_active():
    """4 replicas split 2 | 2 under the majority rule: no side acknowledges anything."""
    run = two_sides("majority", (("primary", "b1"), ("b2", "b3")))
    assert run.active == [] and run.diverged == [] and run.lost == []


@pytest.mark.parametrize("sides, match", [
    ("primary", "sides must be a list of groups"),
    ([("primary", "b1", "b2")], "at least two non-empty sides"),
    ([("primary", "b1"), ()], "at least two non-empty sides"),
    ([("primary", "b1"), ("b3",)], r"each of the replicas \['primary', 'b1', 'b2'\] exactly once"),
    ([("primary", "b1"), ("b1", "b2")], "exactly once"),
])
def test_two_sides_refuses_bad_sides(sides, match):
    with pytest.raises(ValueError, match=match):
        two_sides("majority", sides)


def test_two_sides_refuses_bad_rules_and_times():
    with pytest.raises(ValueError, match="unknown rule 'quorum'; choose one of: none, "
                                         "elections only, majority"):
        majority_system(FIVE_SPLIT, "quorum")
    with pytest.raises(ValueError, match="heal_at must be None or a time after at=4.75"):
        two_sides("majority", heal_at=3)
    with pytest.raises(ValueError, match="heal_at must be None or a time after"):
        two_sides("majority", heal_at=50, until=45)
    assert set(RULES) == {"none", "elections only", "majority"}


# ---- epochs --------------------------------------------------------------------------------


def test_fencing_drops_the_old_primarys_heartbeats_after_the_heal():
    """In the majority run the old primary's epoch-1 heartbeats reach epoch-2 replicas after
    the heal at 30 and are dropped (7 of them); it steps down at t=31; epochs only grow."""
    run = two_sides("majority")
    fenced = fenced_messages(run.trace)
    assert [(t, r, s, type(m).__name__, m.epoch) for t, r, s, m in fenced] == (
        [(31.0, r, "primary", "Heartbeat", 1) for r in ("b2", "b3", "b4")]
        + [(32.0, r, "primary", "Heartbeat", 1) for r in ("b1", "b2", "b3", "b4")])
    assert leadership(run.trace) == [("primary", 1, 0.0, 31.0), ("b2", 2, 12.5, None)]
    assert epochs_never_go_back(run.trace)


def test_chapter_02_story_with_epochs_fences_four_messages():
    """experiments.split_brain('epochs'): b1 becomes primary of epoch 3; 4 stale messages."""
    trace = split_brain("epochs").run(until=30)
    assert len(fenced_messages(trace)) == 4
    assert [(r, e) for r, e, _, stop in leadership(trace) if stop is None] == [("b1", 3)]


# ---- quorums -------------------------------------------------------------------------------


def test_majority_report():
    """5 nodes, majorities: 10 quorums of each phase, no disjoint pair, all available."""
    r = quorum_report(5)
    assert (r.q1, r.q2, len(r.phase1), len(r.phase2), r.disjoint) == (3, 3, 10, 10, 0)
    assert r.safe and r.live and r.same
    assert r.pair == (("n1", "n2", "n3"), ("n3", "n4", "n5"))


@pytest.mark.parametrize("n", range(1, 8))
def test_disjoint_count_matches_brute_force(n):
    """The number of (phase-1, phase-2) pairs sharing no node equals brute force, for every
    pair of sizes, and is 0 exactly when q1 + q2 > n."""
    for q1 in range(1, n + 1):
        for q2 in range(1, n + 1):
            r = quorum_report(n, q1, q2)
            brute = sum(1 for a in r.phase1 for b in r.phase2 if not set(a) & set(b))
            assert r.disjoint == brute and r.safe == (q1 + q2 > n)
            assert len(r.phase1) == comb(n, q1)


def test_unsafe_pair_prefers_working_nodes():
    """q1=2, q2=3 of 5 with n4 failed: the example pair shares no node, 10 pairs do; 6 and 4
    quorums avoid n4."""
    r = quorum_report(5, 2, 3, ["n4"])
    assert r.pair == (("n1", "n2"), ("n3", "n4", "n5"))
    assert (r.disjoint, len(r.available1), len(r.available2)) == (10, 6, 4)
    assert not r.safe and r.live
    assert "UNSAFE: 2 + 3 = 5 <= 5, so 10 of the 100 pairs share no node" in r.summary()


def test_failures_cost_liveness_not_safety():
    """q1=2, q2=4 of 5 with n1, n2 failed: still safe; 3 phase-1 quorums, no phase-2 one."""
    r = quorum_report(5, 2, 4, "n1, n2")
    assert r.failed == ("n1", "n2") and r.safe and not r.live
    assert (len(r.available1), len(r.available2)) == (3, 0)
    assert r.summary().splitlines()[-1].startswith(
        "Not live with n1, n2 failed: 3 of 10 phase-1 and 0 of 5 phase-2 quorums are "
        "available; phase 2 cannot complete")


@pytest.mark.parametrize("args, match", [
    ((3, 4), r"q1 \(the phase-1 quorum\) must be a whole number from 1 to 3, got 4"),
    ((3, 2, 5), r"q2 \(the phase-2 quorum\) must be a whole number from 1 to 3, got 5"),
    (([], 1), "no nodes: give at least one node"),
    ((0, 1), r"n \(the number of nodes\) must be a whole number from 1 to 16, got 0"),
    ((5, 3, 3, ["n7"]), r"failed names unknown node\(s\) \['n7'\]; nodes are"),
    ((5, 3, 3, "n1 x"), r"unknown node\(s\) \['x'\]"),
    ((["a", "a"], 1), r"nodes must name each node once, got \['a'\] more than once"),
    (("abc", 1), "nodes must be a number of nodes"),
    ((5, 3, 3, 7), "failed must be a list of node names"),
])
def test_quorum_report_bad_input_is_a_clear_value_error(args, match):
    with pytest.raises(ValueError, match=match):
        quorum_report(*args)


def test_names_and_tables():
    """node_names, failed_names (in node order), side_table and no_majority_left."""
    assert node_names(3) == ("n1", "n2", "n3")
    assert failed_names(["n3", "n1"], node_names(3)) == ("n1", "n3")
    assert [(r["split"], r["sides that may act"]) for r in side_table(5)] == [
        ("1 | 4", 1), ("2 | 3", 1)]
    assert [(r["split"], r["acting side"]) for r in side_table(4)] == [
        ("1 | 3", "the 3"), ("2 | 2", "none")]
    assert no_majority_left(5, ["n1", "n2", "n3"]) and not no_majority_left(5, ["n1", "n2"])


def test_a_deposed_primary_answers_a_stale_read():
    """Two primaries at once are harmless for writes under the majority rule, not for reads:
    c2's write b is acknowledged by b2 (primary of epoch 2) at t = 22; at t = 25 c3, on the old
    primary's side, reads a from the old primary, which still acts as primary of epoch 1.
    The history is not linearizable, and the checker blames that read."""
    from replib.experiments.partitions import deposed_primary_read
    r = deposed_primary_read()
    assert (r.missed.op, r.missed.response, r.missed.result) == (("write", "b"), 22, "ok")
    assert (r.read.invoke, r.read.result) == (25, "a")
    acting = sorted((who, e) for who, e, start, stop in leadership(r.trace)
                    if start <= 25 and (stop is None or stop > 25))
    assert acting == [("b2", 2), ("primary", 1)]
    assert not r.verdict.ok and r.verdict.culprit == r.read
