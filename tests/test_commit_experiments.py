"""The atomic-commit chapter's measurements, pinned: where the coordinator crashes, who is
left in doubt and for how long; commit latency and messages per transaction."""

import statistics

import pytest

from replib.experiments.atomic_commit import (CRASH_POINTS, blocked_points, commit_with_crash,
                                              cost_table, crash_point_table, doubt_durations,
                                              messages_per_transaction, outcome_text,
                                              participant_crash, protocols_table,
                                              transaction_latencies)
from replib.network import Constant, LongTail
from replib.protocols.twopc import decisions_never_change, doubt_intervals, final_outcomes

# crash point: (recovers, termination) -> (blocked at the end, outcome, longest doubt)
# for participants=3, recover_at=20, until=40, seed=0, every link 1 time unit.
TABLE = {
    "no crash": {
        (False, False): (False, "commit", 2.0), (False, True): (False, "commit", 2.0),
        (True, False): (False, "commit", 2.0), (True, True): (False, "commit", 2.0)},
    "before prepare": {
        (False, False): (False, "abort", 0.0), (False, True): (False, "abort", 0.0),
        (True, False): (False, "abort", 0.0), (True, True): (False, "abort", 0.0)},
    "after some prepares": {
        (False, False): (True, "p1 in doubt, p2-p3 abort", 39.0),
        (False, True): (False, "abort", 7.0),
        (True, False): (False, "abort", 20.0), (True, True): (False, "abort", 7.0)},
    "after all votes": {
        (False, False): (True, "in doubt", 39.0), (False, True): (True, "in doubt", 39.0),
        (True, False): (False, "abort", 20.0), (True, True): (False, "abort", 20.0)},
    "after the decision is logged": {
        (False, False): (True, "in doubt", 39.0), (False, True): (True, "in doubt", 39.0),
        (True, False): (False, "commit", 20.0), (True, True): (False, "commit", 20.0)},
    "after some commits": {
        (False, False): (True, "p1 commit, p2-p3 in doubt", 39.0),
        (False, True): (False, "commit", 7.0),
        (True, False): (False, "commit", 20.0), (True, True): (False, "commit", 7.0)},
}


def test_crash_point_table_is_pinned():
    """Every row, derived by hand (Prepare at t=0 arrives at 1, votes at 2, the decision at
    3; timeout 5):

    * no crash: each participant is in doubt from its yes at 1 to the Commit at 3: 2.
    * before prepare: no Prepare ever arrives, so nobody votes; each aborts on its own at
      t=5 (rule 5): never in doubt, whatever else is switched on.
    * after all votes, coordinator down: all three voted yes at 1 and nobody knows the
      decision: in doubt to the end, 40 - 1 = 39, blocked, even with cooperative
      termination (every answer is "uncertain").  With recovery at 20 the coordinator has
      logged no decision, presumes abort and tells everyone; the Abort lands at 21:
      21 - 1 = 20.
    * after some prepares, with termination: p1 (in doubt from 1) asks at 1 + 5 = 6; p2 and
      p3, which aborted on their own at 5, answer "abort", which lands at 8: 7.
    * after some commits, with termination: p1 committed at 3 and answers p2's and p3's
      questions (asked at 6): they commit at 8, in doubt 7; the coordinator's recovery at
      20 comes after that, so it changes nothing.
    * after the decision is logged: the coordinator decided commit, but nobody heard it:
      blocked until it recovers; then its logged Commit lands at 21: 20.
    """
    rows = crash_point_table(participants=3, recover_at=20.0, until=40.0, seed=0)
    assert len(rows) == len(CRASH_POINTS) * 4
    got = {}
    for r in rows:
        assert set(r) == {"crash point", "recovers", "asks", "blocked", "outcome",
                          "longest doubt"}
        got.setdefault(r["crash point"], {})[
            (r["recovers"], r["asks"])] = (r["blocked"], r["outcome"], r["longest doubt"])
    assert got == TABLE
    assert [r["crash point"] for r in rows[::4]] == list(CRASH_POINTS)


@pytest.mark.parametrize("point", CRASH_POINTS)
@pytest.mark.parametrize("recover_at", [None, 20.0])
@pytest.mark.parametrize("termination", [False, True])
def test_decisions_never_change_and_stay_atomic(point, recover_at, termination):
    """Whatever the crash: no participant commits while another aborts, and no final
    entry ever changes (crashes and restarts included)."""
    sim = commit_with_crash(point, 3, recover_at, termination)
    assert decisions_never_change(sim.trace)
    assert not {"committed", "aborted"} <= set(final_outcomes(sim).values())


def _received(sim, msg_type):
    return sorted(e.node for e in sim.trace.select("deliver", msg_type=msg_type))


def test_a_crash_while_sending_keeps_the_unsent_messages():
    """The cut links model the messages that never left: who gets what."""
    assert _received(commit_with_crash("before prepare"), "Prepare") == []
    assert _received(commit_with_crash("after some prepares"), "Prepare") == ["p1"]
    assert _received(commit_with_crash("after some commits"), "Commit") == ["p1"]
    assert _received(commit_with_crash("after the decision is logged"), "Commit") == []
    votes = commit_with_crash("after all votes").trace.select("drop", msg_type="Vote")
    assert [e.detail for e in votes] == ["coord is down"] * 3


def test_the_coordinator_logs_before_it_crashes():
    """After the decision is logged, the coordinator's disk says commit although nobody
    heard it; after all votes it says nothing, so on recovery it presumes abort."""
    assert commit_with_crash("after the decision is logged").nodes["coord"].decisions == {
        1: "commit"}
    assert commit_with_crash("after all votes").nodes["coord"].decisions == {}
    sim = commit_with_crash("after all votes", recover_at=20.0)
    assert sim.nodes["coord"].decisions == {1: "abort"}
    assert doubt_intervals(sim.trace) == {p: (1.0, 21.0) for p in ("p1", "p2", "p3")}


def test_a_run_that_ends_before_the_crash():
    """until before the crash: nothing crashed, nothing to check, no error."""
    sim = commit_with_crash("after the decision is logged", recover_at=20.0, until=1.5)
    assert sim.trace.count("crash") == 0 and final_outcomes(sim) == {
        "p1": "in doubt", "p2": "in doubt", "p3": "in doubt"}


def test_doubt_durations():
    """Open intervals count to ``until`` (default: the end of the run); a participant
    never in doubt has 0."""
    sim = commit_with_crash("after some commits")
    assert doubt_durations(sim) == {"p1": 2.0, "p2": 39.0, "p3": 39.0}
    assert doubt_durations(sim.trace, 10) == {"p1": 2.0, "p2": 9.0, "p3": 9.0}
    assert doubt_durations(commit_with_crash("before prepare")) == {
        "p1": 0.0, "p2": 0.0, "p3": 0.0}


def test_outcome_text():
    assert outcome_text({"p1": "committed", "p2": "committed"}) == "commit"
    assert outcome_text({"p1": "in doubt", "p2": "aborted", "p3": "in doubt",
                         "p4": "aborted", "p5": "aborted"}) == "p1,p3 in doubt, p2,p4-p5 abort"


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="after the decision is logged, after some commits"):
        commit_with_crash("during lunch")
    for bad in (-1, "20", float("nan"), True):
        with pytest.raises(ValueError, match="recover_at must be None"):
            commit_with_crash(recover_at=bad)
    with pytest.raises(ValueError, match="needs at least 2 participants"):
        commit_with_crash("after some prepares", participants=1)
    with pytest.raises(ValueError, match="crashes at t=2; choose a later time"):
        commit_with_crash("after some commits", recover_at=1.0)
    with pytest.raises(ValueError, match="never sent would still arrive"):
        commit_with_crash("before prepare", recover_at=0.5)   # the Prepares land at 1
    with pytest.raises(ValueError, match="protocol must be"):
        messages_per_transaction(protocol="4pc")
    with pytest.raises(ValueError, match="protocol must be one of"):
        commit_with_crash(protocol="4pc")
    with pytest.raises(ValueError, match="cut_off must be None or"):
        commit_with_crash(cut_off="p2")
    with pytest.raises(ValueError, match="'p7' is not a participant"):
        commit_with_crash(cut_off=("p7", 1, 2))
    with pytest.raises(ValueError, match="must end after it starts"):
        commit_with_crash(cut_off=("p2", 5, 2))


def test_blocked_points():
    """The crash points that leave someone in doubt at the end, plain and with asking."""
    rows = crash_point_table()
    assert blocked_points(rows) == ["after some prepares", "after all votes",
                                    "after the decision is logged", "after some commits"]
    assert blocked_points(rows, termination=True) == ["after all votes",
                                                      "after the decision is logged"]
    assert blocked_points(rows, recovers=True) == []


def test_cost_table_prints_4n_for_2pc_and_6n_for_3pc():
    table = cost_table((2, 3))
    assert [r["total"] for r in table] == [8, 12]
    assert str(table).splitlines()[0].split() == ["n", "Prepare", "Vote", "Commit", "Ack",
                                                 "total", "total", "/", "n"]
    assert [r["total / n"] for r in cost_table((2, 3), "3pc")] == [6, 6]


def test_a_participant_crash_before_its_vote_aborts_after_it_commits():
    """The notes' claim corrected: a participant that crashes before voting does not block
    2PC (the coordinator aborts on its vote timeout); one that crashed after voting yes
    learns the commit when it is back."""
    before = participant_crash(before_vote=True)
    assert before.nodes["coord"].decisions == {1: "abort"}
    assert final_outcomes(before) == {"p1": "aborted", "p2": "aborted", "p3": "aborted"}
    after = participant_crash(before_vote=False)
    assert after.nodes["coord"].decisions == {1: "commit"}
    assert final_outcomes(after) == {"p1": "committed", "p2": "committed", "p3": "committed"}


def test_paxos_commit_never_blocks_where_2pc_does():
    rows = protocols_table()
    assert [(r["2PC"], r["Paxos Commit"]) for r in rows] == [
        ("abort", "abort"), ("p1 in doubt, p2-p3 abort", "abort"), ("in doubt", "commit"),
        ("in doubt", "commit"), ("p1 commit, p2-p3 in doubt", "commit")]


def test_3pc_breaks_atomicity_when_the_coordinator_dies_mid_pre_commit():
    """3PC with its PreCommits cut after the first: p1 commits on its timeout, the others,
    still uncertain, abort on theirs."""
    sim = commit_with_crash("after some commits", protocol="3pc")
    assert final_outcomes(sim) == {"p1": "committed", "p2": "aborted", "p3": "aborted"}


def test_a_cut_off_participant_makes_2pc_abort():
    """p2 cut off from t = 1.5 to 20: its vote is lost, the coordinator aborts at its
    timeout, p2 learns the abort after the heal."""
    sim = commit_with_crash("no crash", cut_off=("p2", 1.5, 20))
    assert final_outcomes(sim) == {"p1": "aborted", "p2": "aborted", "p3": "aborted"}
    assert doubt_intervals(sim.trace)["p2"] == (1.0, 21.0)


def test_messages_per_transaction():
    """2PC: Prepare, Vote, Commit, Ack, one of each per participant (4n); 3PC adds the
    pre-commit round (6n); a no vote turns the Commits into Aborts."""
    assert messages_per_transaction(3) == {"Ack": 3.0, "Commit": 3.0, "Prepare": 3.0,
                                           "Vote": 3.0}
    assert messages_per_transaction(2, "3pc") == {
        "Ack": 2.0, "CanCommit": 2.0, "DoCommit": 2.0, "PreCommit": 2.0,
        "PreCommitAck": 2.0, "Vote": 2.0}
    assert messages_per_transaction(2, votes=["yes", "no"]) == {
        "Abort": 2.0, "Ack": 2.0, "Prepare": 2.0, "Vote": 2.0}


def test_transaction_latencies():
    """Links of 1: 2PC decides after one round trip (2), 3PC after two (4).  On long-tailed
    links 3PC's median is about twice 2PC's, and grows with the participants."""
    assert set(transaction_latencies(2, Constant(1.0), 5)) == {2.0}
    assert set(transaction_latencies(2, Constant(1.0), 5, protocol="3pc")) == {4.0}
    two = transaction_latencies(3, transactions=100)
    three = transaction_latencies(3, transactions=100, protocol="3pc")
    assert len(two) == len(three) == 100
    assert 1.7 < statistics.median(three) / statistics.median(two) < 2.5
    assert statistics.median(transaction_latencies(1, transactions=100)) < \
        statistics.median(two)
    assert transaction_latencies(2, LongTail(1.0, 0.8), 3, seed=4) == \
        transaction_latencies(2, None, 3, seed=4)


def test_a_cut_off_participant_is_the_only_one_cut_off():
    """Paxos Commit with p2 cut off: p1 and p3 still reach the acceptors and the leaders,
    whose standby settles p2's lost vote as "aborted"; this small Paxos Commit resends no
    decision, so p2, cut off when the Abort went out, is still in doubt at the end."""
    sim = commit_with_crash("no crash", protocol="paxos commit", cut_off=("p2", 1.5, 20))
    assert final_outcomes(sim) == {"p1": "aborted", "p2": "in doubt", "p3": "aborted"}
    assert sim.nodes["coord2"].learned["p2"] == "aborted"


def test_a_partition_that_heals_keeps_the_crashed_coordinators_messages_unsent():
    """The partition's heal must not deliver what the crashed coordinator never sent."""
    sim = commit_with_crash("after some prepares", cut_off=("p1", 0, 0.5))
    assert sim.trace.message_counts() == {"Prepare": 3, "Vote": 1}
    assert final_outcomes(sim) == {"p1": "in doubt", "p2": "aborted", "p3": "aborted"}


def test_a_recovery_inside_the_partition_is_refused():
    with pytest.raises(ValueError, match="would end the partition"):
        commit_with_crash("after all votes", recover_at=20, cut_off=("p1", 10, 30))


def test_coordinator_and_participant_failing_together_block_even_with_asking():
    """The coordinator's Commit reached p1 only and p1 crashed after applying it: p2 and p3
    ask and ask (each other only, the others are down) and stay in doubt."""
    from replib.experiments.atomic_commit import coordinator_and_participant_crash
    sim = coordinator_and_participant_crash()
    assert final_outcomes(sim) == {"p1": "committed", "p2": "in doubt", "p3": "in doubt"}
    assert sim.trace.message_counts() == {"Prepare": 3, "Vote": 3, "Commit": 3, "Ack": 1,
                                          "Ask": 42, "Answer": 14}
