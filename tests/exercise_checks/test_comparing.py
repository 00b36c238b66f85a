"""Chapter 08's checks: Multi-Paxos messages per write with n = 5, and which approaches keep
accepting writes after the leader crashes."""

import numpy as np


from . import case_test

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
        right=[{"async", "multipaxos", "paxos-per-op"}, "async, multipaxos, paxos-per-op",
               ["paxos-per-op", "async", "multipaxos"], ("ASYNC", "MultiPaxos", "paxos-per-op")],
        wrong=[({"async", "sync", "multipaxos", "paxos-per-op"}, "sync primary/backup needs"),
               ({"async", "2pc", "multipaxos", "paxos-per-op"}, "clients talk to the coordinator"),
               ({"async"}, "with 2 of 3 replicas up, Paxos still has a majority"),
               ({"multipaxos", "paxos-per-op"}, "async primary/backup fails over"),
               ({"raft"}, "unknown approach name(s) ['raft']")],
        malformed=[(None, "your answer is None"), (3, "give the approaches as a set of names"),
                   ([1, 2], "give the approaches as a set of names")],
    ),
}


test_check = case_test(CASES)
