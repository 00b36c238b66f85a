"""Chapter 08's checks: Multi-Paxos messages per write with n = 5, which approaches keep
accepting writes after the leader crashes, what a new leader puts in a slot nobody reports
(a no-op), and rule 2a for a log written by the reader (``fill_gaps``)."""

import numpy as np


from . import case_test


def fill(reports, first):
    top = max(reports, default=first - 1)
    return {s: max(reports[s], key=lambda r: r[0])[1] if reports.get(s) else "noop"
            for s in range(first, top + 1)}


def fill_loop(reports, first):
    out, slot = {}, first
    while slot <= max(reports, default=0):
        best = None
        for ballot, command in reports.get(slot, []):
            if best is None or ballot > best[0]:
                best = (ballot, command)
        out[slot] = "noop" if best is None else best[1]
        slot += 1
    return out


def first_report(reports, first):          # takes the first report, not the highest ballot
    top = max(reports, default=first - 1)
    return {s: reports[s][0][1] if reports.get(s) else "noop" for s in range(first, top + 1)}


def leaves_gaps(reports, first):           # no no-op where nobody reports
    return {s: max(r)[1] for s, r in reports.items() if s >= first}


def from_slot_one(reports, first):         # ignores first
    return fill(reports, 1)


def highest_value(reports, first):         # the largest command, not the highest ballot
    top = max(reports, default=first - 1)
    return {s: max(c for _, c in reports[s]) if reports.get(s) else "noop"
            for s in range(first, top + 1)}


def stub(reports, first):
    pass


def raises(reports, first):
    return {s: reports[s][-1][1] for s in range(first, max(reports) + 1)}


def loops(reports, first):
    while True:
        pass


CASES = {
    "check_multipaxos_messages": dict(
        right=[12, 12.0, np.int64(12), "12"],
        wrong=[(20, "20 is the taxonomy's 4n, and also what a leader sends that runs phase 1"),
               (15, "close: the leader is one of the 5 replicas"),
               (14, "you counted the client's request and the reply"),
               (16, "close: the leader is one of the 5 replicas"),
               (8, "the leader then tells the others the value was decided"),
               (7, "phase 2 per write")],
        malformed=[(None, "your answer is None"),
                   ("twelve", "the number of messages per write should be a number"),
                   ([12], "should be a number")],
    ),
    "check_keeps_writing": dict(
        right=[{"async", "multi-master", "multipaxos", "paxos-per-op"},
               "async, multi-master, multipaxos, paxos-per-op",
               ["paxos-per-op", "async", "multipaxos", "multi-master"],
               ("ASYNC", "Multi-Master", "MultiPaxos", "paxos-per-op"),
               {"async", "multi-master", "multipaxos", "paxos-per-op", "raft"}],
        wrong=[({"async", "sync", "multi-master", "multipaxos", "paxos-per-op"},
                "sync primary/backup needs"),
               ({"async", "2pc", "multi-master", "multipaxos", "paxos-per-op"},
                "clients talk to the coordinator"),
               ({"async", "backups", "multi-master", "multipaxos", "paxos-per-op"},
                "backups never fail over"),
               ({"async", "multi-master"}, "with 2 of 3 replicas up, Paxos still has a majority"),
               ({"multi-master", "multipaxos", "paxos-per-op"}, "async primary/backup fails over"),
               ({"async", "multipaxos", "paxos-per-op"}, "in multi-master every master takes"),
               ({"zab"}, "unknown approach name(s) ['zab']")],
        malformed=[(None, "your answer is None"), (3, "give the approaches as a set of names"),
                   ([1, 2], "give the approaches as a set of names")],
    ),
    "check_noop_prediction": dict(
        right=["no-op", "noop", " No-Op ", "'no-op'"],
        wrong=[("a", "only r1 knew that a went to slot 1"),
               ("b", "rule 2a works slot by slot"),
               ("nothing", "a hole in the log would hold everything after it up")],
        malformed=[(None, "your answer is None"), (1, 'answer one of "a", "b", "no-op"'),
                   ("c", 'answer one of "a", "b", "no-op", "nothing"')],
    ),
    "check_fill_gaps": dict(
        right=[fill, fill_loop],
        wrong=[(first_report, "rule 2a takes the value of the highest-numbered proposal"),
               (leaves_gaps, 'propose "noop" there'),
               (from_slot_one, "below first=3"),
               (highest_value, "compare the ballots, not the commands")],
        malformed=[(None, "your answer is None"), (stub, "returned None; return a dict"),
                   ("fill", "give your function itself"),
                   (raises, "raised ValueError"),
                   (loops, "still running after")],
    ),
}


test_check = case_test(CASES)
