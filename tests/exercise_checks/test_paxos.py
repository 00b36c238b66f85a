"""Chapter 05's checks: the chosen-value prediction, rule 2a written by the reader (probed,
then checked), and rule 2b in a fixed acceptor, with the reference notes' phase-2b
misreading (reject unless the number equals the promise) caught by a probe."""


from replib.protocols.misreadings import AcceptsAnything, IgnoresReports
from replib.protocols.paxos import Accepted, Acceptor, Proposer, Reject, value_to_propose

from . import case_test


class ChooseHighest(Proposer):
    def choose_value(self, promises):
        best = None
        for reported in promises.values():
            if reported is not None and (best is None or reported[0] > best[0]):
                best = reported
        return self.value if best is None else best[1]


class ChooseWithMax(Proposer):
    def choose_value(self, promises):
        reported = [acc for acc in promises.values() if acc]
        return max(reported)[1] if reported else self.value


class ChooseShared(Proposer):
    def choose_value(self, promises):
        return value_to_propose(promises.values(), self.value)


class ChooseStub(Proposer):
    def choose_value(self, promises):
        pass


class ChoosePair(Proposer):
    def choose_value(self, promises):
        reported = [acc for acc in promises.values() if acc is not None]
        return max(reported) if reported else self.value


class ChooseLowest(Proposer):
    def choose_value(self, promises):
        reported = [acc for acc in promises.values() if acc is not None]
        return min(reported)[1] if reported else self.value


class ChooseFirst(Proposer):
    def choose_value(self, promises):
        for reported in promises.values():
            if reported is not None:
                return reported[1]
        return self.value


class ChooseMaxValue(Proposer):           # compares the values, not the numbers
    def choose_value(self, promises):
        values = [acc[1] for acc in promises.values() if acc is not None]
        return max(values) if values else self.value


class ChooseForgetsOwn(Proposer):
    def choose_value(self, promises):
        reported = [acc for acc in promises.values() if acc is not None]
        return max(reported)[1] if reported else None


class ChooseRaises(Proposer):
    def choose_value(self, promises):
        return max(promises.values())[1]         # None < tuple: TypeError


class ChooseLoops(Proposer):
    def choose_value(self, promises):
        while True:
            pass


class Fixed(AcceptsAnything):
    def on_accept(self, msg, sender):
        if self.promised is not None and msg.ballot < self.promised:
            self.send(sender, Reject(msg.ballot, self.promised))
            return
        super().on_accept(msg, sender)


class FixedIgnoring(AcceptsAnything):     # ignoring a low Accept is allowed too
    def on_accept(self, msg, sender):
        if self.promised is None or msg.ballot >= self.promised:
            super().on_accept(msg, sender)


class FixedByHand(AcceptsAnything):
    def on_accept(self, msg, sender):
        if self.promised is not None and self.promised > msg.ballot:
            return
        self.promised = msg.ballot
        self.accepted = (msg.ballot, msg.value)
        self.votes.add(self.accepted)
        for to in (sender,) + self.learners:
            self.send(to, Accepted(msg.ballot, msg.value))


class Unchanged(AcceptsAnything):          # nothing changed: still accepts anything
    pass


class AcceptStub(AcceptsAnything):         # the student copy, unsolved
    def on_accept(self, msg, sender):
        pass


class StrictlyAbove(AcceptsAnything):      # rejects the number it promised
    def on_accept(self, msg, sender):
        if self.promised is None or msg.ballot > self.promised:
            super().on_accept(msg, sender)


class EqualOnly(AcceptsAnything):          # the reference notes' phase 2b: only n == promised
    def on_accept(self, msg, sender):
        if msg.ballot != self.promised:
            self.send(sender, Reject(msg.ballot, self.promised))
            return
        super().on_accept(msg, sender)


class KeepsPromise(AcceptsAnything):       # accepts, but does not raise its promise
    def on_accept(self, msg, sender):
        if self.promised is not None and msg.ballot < self.promised:
            return
        promised = self.promised
        super().on_accept(msg, sender)
        self.promised = promised


class TellsNobody(AcceptsAnything):
    def on_accept(self, msg, sender):
        if self.promised is None or msg.ballot >= self.promised:
            self.promised = msg.ballot
            self.accepted = (msg.ballot, msg.value)
            self.votes.add(self.accepted)


class AcceptRaises(AcceptsAnything):
    def on_accept(self, msg, sender):
        if msg.number >= self.promised:
            super().on_accept(msg, sender)


class AcceptLoops(AcceptsAnything):
    def on_accept(self, msg, sender):
        while msg.ballot:
            pass


CASES = {
    "check_chosen_prediction": dict(
        right=["v2", "V2", " v2 ", "'v2'"],
        wrong=[("v1", "Rule 2a makes p1 propose"), ("nothing", "p1's Accept messages reach a2 and a3"),
               ("Nothing", "p1's Accept messages reach a2 and a3")],
        malformed=[(None, "your answer is None"), (2, 'answer one of "v1", "v2", "nothing"'),
                   ("v3", 'answer one of "v1", "v2", "nothing"')],
    ),
    "check_choose_value": dict(
        right=[ChooseHighest, ChooseWithMax, ChooseShared],
        wrong=[(ChooseStub, "your choose_value returned None"),
               (ChoosePair, "return its value, 'x', not the (number, value) pair"),
               (IgnoresReports, "the checker broke 'agreement'"),
               (ChooseLowest, "the value of the *lowest* number reported"),
               (ChooseFirst, "the value of the *lowest* number reported"),
               (ChooseMaxValue, "compare the numbers"),
               (ChooseForgetsOwn, "may propose its own, self.value")],
        malformed=[(None, "your answer is None"), ("MyProposer", "pass your class itself"),
                   (Acceptor, "a subclass of Proposer"), (ChooseRaises, "raised TypeError"),
                   (ChooseLoops, "still running after")],
    ),
    "check_fixed_acceptor": dict(
        right=[Fixed, FixedIgnoring, FixedByHand, Acceptor],
        wrong=[(AcceptStub, "your acceptor accepts no Accept at all"),
               (Unchanged, "promised 2 > 1, so it must not accept"),
               (AcceptsAnything, "promised 2 > 1, so it must not accept"),
               (StrictlyAbove, "The number equals its promise"),
               (EqualOnly, "Rejecting every number but the promised one is a common misreading"),
               (KeepsPromise, "left its promise at"),
               (TellsNobody, "but told nobody")],
        malformed=[(None, "your answer is None"), (Fixed("a1"), "pass the class itself"),
                   (Proposer, "a subclass of Acceptor"), (AcceptRaises, "raised AttributeError"),
                   (AcceptLoops, "still running after")],
    ),
}


test_check = case_test(CASES)
