"""Chapter 00's checks: the first reply's time, the replica's log after a crash, and a fault
schedule that leaves write 2 on the replica but unacknowledged."""

from fractions import Fraction

import numpy as np

from replib.faults import crash, cut, drop, partition, restart

from . import case_test

CASES = {
    "check_first_reply_time": dict(
        right=[4.5, np.float64(4.5), "4.5", Fraction(9, 2), " 4.50 "],
        wrong=[
            (4, "4 is the write's latency"),          # latency, not the clock
            (3.5, "the server *sends* the reply"),      # when the Reply leaves
            (2.5, "an asynchronous server would answer"),
            (7, "count the messages between the client's request and its reply"),
        ],
        malformed=[(None, "your answer is None"), (..., "replace the ..."),
                   (True, "the time should be a number"), ("soon", "the time should be a number"),
                   ([4.5], "the time should be a number")],
    ),
    "check_replica_log_after_restart": dict(
        right=[[("write", 1)], (("write", 1),), [["write", 1]], [("write", 1.0)]],
        wrong=[
            ([], "survives a crash"),                              # thinks the log is lost
            ([("write", 1), ("write", 2)], "('write', 2) never reaches the replica"),
            ([("write", 1), ("write", 2), ("write", 3)], "('write', 2) never reaches"),
            ([("write", 2)], "which Forward messages reached the replica"),
        ],
        malformed=[(None, "your answer is None"), ("write 1", "give the replica's log as a list"),
                   (42, "give the replica's log as a list"),
                   ([1], "each entry of the replica's log as a tuple")],
    ),
    "check_unacknowledged_write": dict(
        right=[[crash("server", at=7.5)], crash("server", at=7.5),
               [cut("server", "client", at=8.5)], (drop("Reply", at=8),),
               [drop("ForwardAck", at=6)]],
        wrong=[
            # the crash run shown just above the exercise: write 2 never reaches the replica
            ([crash("replica", at=6), restart("replica", at=8)], "never reached the replica's log"),
            ([crash("server", at=5.5)], "never reached the replica's log"),
            ([partition(["replica"], at=5)], "never reached the replica's log"),
            ([crash("server", at=50)], "write 2 was acknowledged"),
            ([crash("server", at=1)], "write 1 was never acknowledged"),
            ([crash("client", at=4.6)], "never even started write 2"),
        ],
        malformed=[(None, "your answer is None"), (["crash the server"], "give a list of faults"),
                   (42, "give a list of faults"),
                   ([crash("nobody", at=5)], "that schedule is not valid"),
                   ([drop("Reply")], "that schedule is not valid")],
    ),
}


test_check = case_test(CASES)
