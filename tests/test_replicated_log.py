"""Chapter 08's Multi-Paxos section (replib.experiments.replicated_log): the leader change,
what the promises reported, the exhaustive check of a small log, and reads through the log
against local reads after a partition."""

from replib.experiments.replicated_log import (check_log, command_text, leader_change,
                                               messages_per_read, reads_after_partition,
                                               recovery_reports)
from replib.protocols.multipaxos import NOOP


def test_leader_change_recovers_slot_2_and_fills_slot_1_with_a_noop():
    """r1's Accepts for slot 1 are lost and r1 crashes; r2's promises (from r2 and r3) report
    slot 2 only (c2's write, accepted under ballot 3), so r2 proposes a no-op in slot 1, keeps
    slot 2, and c1's resent write goes to slot 3.  Both writes are acknowledged."""
    sim = leader_change()
    assert [command_text(c) for c in sim.node("r2").log] == ["no-op", "c2 write b", "c1 write a"]
    assert sim.node("r3").log == sim.node("r2").log
    reports = recovery_reports(sim)
    assert list(reports) == [2] and len(reports[2]) == 2
    assert {c for _, c in reports[2]} == {("c2", 0, ("write", "x", "b"))}
    assert sorted(op.client for op in sim.trace.history() if op.result == "ok") == ["c1", "c2"]
    assert command_text(NOOP) == "no-op"


def test_log_checked_exhaustively():
    """The configuration of test_multipaxos's exhaustive test, as the chapter runs it: every
    invariant holds in all 16,322 reachable states; both goals are reachable."""
    r = check_log()
    assert r.complete and r.ok and r.states == 16_322
    assert all(g.reached for g in r.goals.values())


def test_reads_through_the_log_against_local_reads():
    """r1 and c1 are cut off at t = 6; r2 leads and takes c2's write b (acknowledged at t =
    24).  c1 reads from r1 at t = 32.  Through the log the read needs a majority: it is
    answered with b only after the heal (t = 44), linearizable.  LocalReads answers at once
    with a, the value from before the partition: not linearizable."""
    log, local = reads_after_partition("log"), reads_after_partition("local")
    assert (log.read.invoke, log.read.response, log.read.result, log.verdict.ok) == (32, 44, "b", True)
    assert (local.read.response, local.read.result, local.verdict.ok) == (34, "a", False)
    assert "returned 'a' but could only have read 'b'" in local.verdict.explanation


def test_messages_per_read():
    """A read through the log costs what a write costs between replicas, 3(n - 1); a local read
    costs none."""
    assert messages_per_read("log") == 6 and messages_per_read("log", replicas=5) == 12
    assert messages_per_read("local") == 0
