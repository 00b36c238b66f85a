"""Chapter 02's checks: split brain, the write story 3 loses, the stale-read prediction, and
the fencing rule the reader writes (the base Replica fences nothing, so the answer is not
one super() call away)."""

import numpy as np

from replib import exercises
from replib.protocols.replication import FencingReplica, Replica

from . import case_test


class Right(Replica):
    def stale(self, msg):
        return msg.epoch < self.epoch


class RightReversed(Replica):
    def stale(self, msg):
        return self.epoch > msg.epoch


class RightNegated(Replica):
    def stale(self, msg):
        return not msg.epoch >= self.epoch


class Stub(Replica):                 # the student copy, unsolved
    def stale(self, msg):
        pass


class CallsSuper(Replica):           # "the answer is in the base class": it is not
    def stale(self, msg):
        return super().stale(msg)


class DropsCurrent(Replica):         # <= : drops its own primary's messages too
    def stale(self, msg):
        return msg.epoch <= self.epoch


class DropsOthers(Replica):          # != : drops newer epochs too, so it never learns them
    def stale(self, msg):
        return msg.epoch != self.epoch


class Inverted(Replica):             # > : keeps the deposed primary, drops the new one
    def stale(self, msg):
        return msg.epoch > self.epoch


class NeverStale(Replica):
    def stale(self, msg):
        return False


class Raises(Replica):
    def stale(self, msg):
        return msg.term < self.epoch


class Loops(Replica):
    def stale(self, msg):
        while True:
            pass


class Recurses(Replica):
    def stale(self, msg):
        return self.stale(msg)


CASES = {
    "check_split_brain_prediction": dict(
        right=[2, 2.0, np.int64(2), "2"],
        wrong=[(1, "healing the network does not undo b1's promotion"),
               (3, "b2 stays on the primary's side"), (0, "nothing makes a primary step down"),
               (5, "count the replicas that ever promote themselves")],
        malformed=[(None, "your answer is None"), ("two", "as a whole number"),
                   (True, "as a whole number")],
    ),
    "check_missing_write": dict(
        right=[1, ("write", 1), ["write", 1], "write 1", 1.0, np.int64(1)],
        wrong=[(2, "write 2 is in the new primary's log"),
               (3, "write 3 is in the new primary's log"),
               (0, "0 is the position where b1's and b2's logs first differ"),
               (4, "which write's Update to b2 was dropped")],
        malformed=[(None, "your answer is None"), ("one", "as a whole number"),
                   (("read",), "give the write's number"), ([], "give the write as a tuple")],
    ),
    "check_linearizable_prediction": dict(
        right=[False, np.False_, "False", "no"],
        wrong=[(True, "which value must the read return"),
               (np.True_, "which value must the read return"),
               ("yes", "which value must the read return")],
        malformed=[(None, "your answer is None"), ("maybe", "answer True (linearizable) or False"),
                   (0, "answer True (linearizable) or False")],
    ),
    "check_fencing": dict(
        right=[Right, RightReversed, RightNegated, FencingReplica],
        wrong=[(Stub, "returned None (did you forget return?)"),
               (CallsSuper, "from epoch 2 and kept it"),
               (NeverStale, "from epoch 2 and kept it"),
               (DropsCurrent, "dropped a message from epoch 3, its own primary's"),
               (DropsOthers, "dropped a message from epoch 4"),
               (Inverted, "from epoch 2 and kept it")],
        malformed=[(None, "your answer is None"), ("MyReplica", "pass your class itself"),
                   (Right("b1", ("primary", "b1", "b2")), "pass the class itself, not an instance"),
                   (Raises, "raised AttributeError"), (Loops, "still running after"),
                   (Recurses, "calls itself without end")],
    ),
}


test_check = case_test(CASES)


def test_the_fencing_check_uses_the_checker():
    """The right rule is proven by the checker on the chapter's configuration: the exact
    number of reachable states is part of the success line."""
    from . import verdict
    assert verdict(exercises.check_fencing, Right).startswith(
        "Correct! at most one primary per epoch in all 15,244 reachable states")
