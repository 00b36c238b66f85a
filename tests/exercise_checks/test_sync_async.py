"""Chapter 01's checks: messages and latency of a sync write, writes answered with a backup
down, writes async loses, and a schedule under which async (and not sync) loses a write."""

from fractions import Fraction

import numpy as np

from replib.faults import crash, cut, drop

from . import case_test

CASES = {
    "check_sync_messages": dict(
        right=[6, 6.0, np.int64(6), "6", np.float32(6)],
        wrong=[(3, "3 is the asynchronous count"),
               (4, "4 is the count in the diagram, with 2 backups"),
               (8, "you counted the client's Request and Reply"),
               (12, "count the messages between the primary and the backups")],
        malformed=[(None, "your answer is None"), (6.5, "as a whole number"),
                   (True, "as a whole number"), ("six", "as a whole number")],
    ),
    "check_sync_latency": dict(
        right=[8, 8.0, np.int64(8), "8", Fraction(16, 2)],
        wrong=[(4, "semi-sync with k=1"), (2, "the asynchronous answer"),
               (10, "their round trips overlap"), (6, "the round trip to the slow backup alone"),
               (5, "add the client's round trip")],
        malformed=[(None, "your answer is None"), ("slow", "the latency should be a number"),
                   (float("nan"), "a finite number"), ((8,), "should be a number")],
    ),
    "check_sync_writes_with_backup_down": dict(
        right=[0, 0.0, np.int64(0), "0"],
        wrong=[(16, "what an asynchronous primary answers"),
               (1, "even the first write after the crash"),
               (2, "even the first write after the crash"),
               (10, "what does a sync primary wait for")],
        malformed=[(None, "your answer is None"), (False, "as a whole number"),
                   ("none", "as a whole number"), (-0.5, "as a whole number")],
    ),
    "check_async_loss_prediction": dict(
        right=[5, 5.0, np.int32(5), "5"],
        wrong=[(0, "async answers before the backups"), (20, "a whole batch interval"),
               (4, "close: count the writes"), (6, "close: count the writes"),
               (50, "count the writes acknowledged between")],
        malformed=[(None, "your answer is None"), ("five", "as a whole number"),
                   (5.5, "as a whole number")],
    ),
    "check_async_loss": dict(
        right=[[drop("Update", count=2, at=0), crash("primary", at=3)],
               (cut("primary", "b1", at=1), cut("primary", "b2", at=1), crash("primary", at=6)),
               [drop("Update", "primary", "b1", count=3, at=0),
                drop("Update", "primary", "b2", count=3, at=0), crash("primary", at=4.2)]],
        wrong=[
            ([crash("primary", at=3), crash("b1", at=3), crash("b2", at=3)],
             "every replica is down at the end"),                 # a loss sync suffers too
            ([crash("primary", at=5)], "every write it acknowledged had already reached"),
            ([], "as long as the primary survives"),
            ([crash("b1", at=2)], "as long as the primary survives"),
            ([drop("Update", count=2, at=0)], "as long as the primary survives"),
        ],
        malformed=[(None, "your answer is None"), ("crash", "give a list of faults"),
                   ([drop("Update", count=2)], "that schedule is not valid"),
                   ([crash("b9", at=1)], "that schedule is not valid")],
    ),
}


test_check = case_test(CASES)
