"""Chapter 06's checks: the length of the shortest 5-ballot livelock, and a schedule the
reader writes that keeps two proposers from choosing for 5 ballots."""

import numpy as np


from . import case_test

# p1 has number 2, p2 number 1; each ballot is beaten by the rival's higher Prepare
FIVE = ["p1 -> a1", "p1 -> a2", "a1 -> p1", "a2 -> p1",            # p1's Accept(2) sent
        "p2 -> a1 Prepare(1)", "a1 -> p2",                          # rejected: p2 takes 3
        "p2 -> a1 Prepare(3)", "p2 -> a2 Prepare(3)", "a1 -> p2 Promise",
        "a2 -> p2 Promise",                                          # p2's Accept(3) sent
        "p1 -> a1 Accept", "a1 -> p1",                               # Accept(2) rejected: 4
        "p1 -> a1 Prepare(4)", "p1 -> a2 Prepare(4)", "a1 -> p1 Promise",
        "a2 -> p1 Promise",                                          # p1's Accept(4) sent
        "p2 -> a1 Accept", "a1 -> p2"]                               # Accept(3) rejected: 5
ACCEPTED = ["p1 -> a1", "p1 -> a2", "a1 -> p1", "a2 -> p1", "p1 -> a1", "p1 -> a2"]

CASES = {
    "check_livelock_steps": dict(
        right=[9, 9.0, np.int64(9), "9"],
        wrong=[(15, "the first two ballots are free"),
               (6, "6 steps is the shortest schedule for 4 ballots"),
               (7, "one delivery per extra ballot is not enough"),
               (10, "how many steps does each extra ballot add")],
        malformed=[(None, "your answer is None"), ("nine", "as a whole number"),
                   (9.5, "as a whole number")],
    ),
    "check_livelock_schedule": dict(
        right=[FIVE, tuple(FIVE), [s.replace("->", "→") for s in FIVE],
               [s.replace(" -> ", "->") for s in FIVE]],
        wrong=[(ACCEPTED, "after your step 6 ('p1 -> a2'), a2 accepted p1's Accept(2, 'v1')"),
               (FIVE[:12], "only 4 ballots were started"),
               ([], "only 2 ballots were started"),
               (["p1 -> a3", "p3 -> a1"], "step 2")],
        malformed=[(None, "your answer is None"),
                   (42, "give a list of steps such as ['p1 -> a1', 'p2 -> a1']; you gave 42."),
                   (["p1 -> a1", ["x"]], "step 2: each step is a string such as 'p1 -> a1'")],
    ),
}


test_check = case_test(CASES)
