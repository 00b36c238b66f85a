"""Chapter 09's checks: which slots' entries a snapshot at slot 4 lets a replica delete
(the right set in several forms; including unapplied slots, leaving out the snapshot's own
slot, deleting only accepted entries, slots the replica never had)."""

import numpy as np

from replib.exercises.practice import deletable_slots

from . import case_test

CASES = {
    "check_snapshot_deletions": dict(
        right=[{1, 2, 3, 4}, [4, 3, 2, 1], "1, 2, 3, 4", range(1, 5), (1.0, 2, "3", np.int64(4))],
        wrong=[({1, 2, 3, 4, 5, 6}, "are accepted but not applied"),
               ({1, 2, 3, 4, 5}, "slot(s) [5] are accepted but not applied"),
               ({1, 2, 3}, "slot 4's effect is in it too"),
               ({3, 4}, "the log entries of slots [1, 2]"),
               ({1, 2, 3, 4, 7}, "has no entry in slot(s) [7]"),
               (set(), "Missing: [1, 2, 3, 4]"),
               ({1, 2}, "Missing: [3, 4]")],
        malformed=[(None, "your answer is None"), (4, "give the slots as a set of numbers"),
                   ({"one", "two"}, "give each slot as a whole number"),
                   ({1.5}, "give each slot as a whole number")],
    ),
}


CASES.update({
    "check_failover_prediction": dict(
        right=["lease", " Lease ", "'lease'"],
        wrong=[("heartbeats", "until it runs out"), ("HEARTBEATS", "until it runs out"),
               ("'heartbeats'", "until it runs out")],
        malformed=[(None, "your answer is None"), (20, "answer one of")]),
    "check_one_at_a_time_prediction": dict(
        right=[False, "no", np.False_],
        wrong=[(True, "fit among 4"), ("yes", "fit among 4"), (np.True_, "fit among 4")],
        malformed=[(None, "your answer is None"), ("maybe", "answer True")]),
    "check_catch_up_prediction": dict(
        right=[200, 200.0, "200", np.int64(200)],
        wrong=[(100, "count both messages"), (1000, "how many answers"),
               (2000, "how many answers"), (4, "how many answers")],
        malformed=[(None, "your answer is None"), ("many", "the number of messages")]),
    "check_stale_disk_prediction": dict(
        right=[False, "no", np.False_],
        wrong=[(True, "Is it set on a stale copy"), ("yes", "Is it set on a stale copy"),
               (np.True_, "Is it set on a stale copy")],
        malformed=[(None, "your answer is None"), ("perhaps", "answer True")]),
})


def test_the_answer_comes_from_the_library_truncation():
    """The right answer is what SnapshotReplica.truncate deletes, not a typed constant."""
    assert deletable_slots() == {1, 2, 3, 4}


test_check = case_test(CASES)
