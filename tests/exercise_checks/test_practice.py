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


def test_the_answer_comes_from_the_library_truncation():
    """The right answer is what SnapshotReplica.truncate deletes, not a typed constant."""
    assert deletable_slots() == {1, 2, 3, 4}


test_check = case_test(CASES)
