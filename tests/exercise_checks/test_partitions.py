"""Chapter 04's checks: which side of a 2 | 3 split stays active, the smallest safe phase-2
quorum, and failed nodes that leave the system safe but stuck."""

import numpy as np


from . import case_test

CASES = {
    "check_active_side": dict(
        right=[{"b2", "b3", "b4"}, ["b4", "b3", "b2"], "b2, b3, b4", ("b2", "b3", "b4", "c2"),
               frozenset({"b3", "b2", "b4"})],
        wrong=[({"primary", "b1"}, "the primary is on that side"),
               ({"primary", "b1", "b2", "b3", "b4"}, "both sides acting is exactly what diverges"),
               ({"b2", "b3"}, "name the whole side: b4 is on it too"),
               ({"primary", "b2", "b3"}, "on different sides of the partition"),
               ({"b2", "b3", "b9"}, "there is no replica b9")],
        malformed=[(None, "your answer is None"), (42, "give the side as a set of names"),
                   ([1, 2, 3], "give the side as a set of names")],
    ),
    "check_smallest_safe_q2": dict(
        right=[4, 4.0, np.int64(4), "4"],
        wrong=[(3, "with q2 = 3, {n1, n2} and {n3, n4, n5} share no node"),
               (5, "q2 = 5 is safe, but a smaller one is too"),
               (2, "share no node. The rule is q1 + q2 > N"),
               (9, "a quorum of 5 nodes has 1 to 5 of them")],
        malformed=[(None, "your answer is None"), ("four", "give q2 as a whole number"),
                   (3.5, "give q2 as a whole number")],
    ),
    "check_safe_but_stuck": dict(
        right=[{"n1", "n2"}, "n2, n4, n5", ["n5", "n3"], ("n1", "n2", "n3")],
        wrong=[({"n1"}, "1 phase-2 quorum(s) of 4 are still available"),
               ({"n1", "n2", "n3", "n4"}, "no phase-1 quorum is left either"),
               (set(), "with no node failed every quorum is available"),
               ({"n9"}, "unknown node(s) ['n9']")],
        malformed=[(None, "your answer is None"), (3, "give the failed nodes as a set of names"),
                   ([1], "give the failed nodes as a set of names")],
    ),
}


test_check = case_test(CASES)
