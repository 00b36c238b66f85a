"""Chapter 09's lease check: the longest safe end in several forms, near misses (no margin,
a margin for one clock only, not counted from sent, a lease that never holds), and
malformed answers."""

from replib.protocols.leases import lease_expiry

from . import case_test


def exact(sent, lease, drift_bound):
    return sent + lease * (1 - drift_bound) / (1 + drift_bound)


def conservative(sent, lease, drift_bound):     # shorter than needed, still safe
    return sent + lease * (1 - 2 * drift_bound)


def by_parts(sent, lease, drift_bound):
    margin = 2 * drift_bound * lease / (1 + drift_bound)
    return sent + (lease - margin)


def loops(sent, lease, drift_bound):
    while True:
        pass


CASES = {
    "check_lease_expiry": dict(
        right=[lease_expiry, exact, by_parts, conservative],
        wrong=[(lambda s, L, b: s + L, "the margin is missing"),
               (lambda s, L, b: s + L * (1 - b), "both drift at once"),
               (lambda s, L, b: s + L / (1 + b), "both drift at once"),
               (lambda s, L, b: L * (1 - b) / (1 + b), "count from sent"),
               (lambda s, L, b: s, "never reads locally"),
               (lambda s, L, b: s + L - 0.1, "a replica may stop guarding after")],
        malformed=[(None, "your answer is None"),
                   (lambda s, L, b: "soon", "lease_expiry(0, 5, 0)"),
                   (lambda s, L: s + L, "raised TypeError"),
                   (loops, "still running")]),
}

CASES["check_stale_read_prediction"] = dict(
    right=["a", " 'A' ", '"a"'],
    wrong=[("b", "how could it know"), (" 'B' ", "how could it know"),
           ("nothing", "answers a leader's reads")],
    malformed=[(None, "your answer is None"), (7, 'answer one of "a", "b", "nothing"')])

test_check = case_test(CASES)
