"""Chapter 03's checks: the blocking prediction, a schedule that breaks the hasty
participant, the patient participant (probed, checked, and run on a lossy network), and the
checker's verdict on a coordinator that commits on a majority."""

import numpy as np

from replib.actions import Controls
from replib.check import check
from replib.faults import crash, cut, drop, partition
from replib.protocols.twopc import (Ask, Coordinator, DecisionTimeout, Participant, atomicity,
                                    everyone_decided, twopc_system)

from . import Args, case_test


class Hasty(Participant):            # the chapter's participant that aborts when in doubt
    def on_decision_timeout(self, timer):
        if self.in_doubt(timer.tx):
            self.learn(timer.tx, "aborted")


class Patient(Hasty):
    def on_decision_timeout(self, timer):
        if self.in_doubt(timer.tx):
            for other in (self.coordinator,) + self.participants:
                if other != self.id:
                    self.send(other, Ask(timer.tx))
            self.set_timer(DecisionTimeout(timer.tx), self.timeout)


class PatientBroadcast(Hasty):       # the same, written with broadcast (every other node)
    def on_decision_timeout(self, timer):
        if self.in_doubt(timer.tx):
            self.broadcast(Ask(timer.tx))
            self.set_timer(DecisionTimeout(timer.tx), self.timeout)


class PatientOthers(Hasty):          # the timer first, then every other node by name
    def on_decision_timeout(self, timer):
        if not self.in_doubt(timer.tx):
            return
        self.set_timer(DecisionTimeout(timer.tx), self.timeout)
        for other in self.others:
            self.send(other, Ask(timer.tx))


class Stub(Hasty):
    def on_decision_timeout(self, timer):
        pass


class AsksOnce(Hasty):               # never sets the timer again
    def on_decision_timeout(self, timer):
        if self.in_doubt(timer.tx):
            self.broadcast(Ask(timer.tx))


class AsksCoordinatorOnly(Hasty):
    def on_decision_timeout(self, timer):
        if self.in_doubt(timer.tx):
            self.send(self.coordinator, Ask(timer.tx))
            self.set_timer(DecisionTimeout(timer.tx), self.timeout)


class AsksParticipantsOnly(Hasty):
    def on_decision_timeout(self, timer):
        if self.in_doubt(timer.tx):
            for other in self.participants:
                if other != self.id:
                    self.send(other, Ask(timer.tx))
            self.set_timer(DecisionTimeout(timer.tx), self.timeout)


class AsksThenAborts(Hasty):
    def on_decision_timeout(self, timer):
        if self.in_doubt(timer.tx):
            self.broadcast(Ask(timer.tx))
            self.learn(timer.tx, "aborted")


class OnlyWaits(Hasty):              # sets the timer again, asks nobody
    def on_decision_timeout(self, timer):
        self.set_timer(DecisionTimeout(timer.tx), self.timeout)


class Raises(Hasty):
    def on_decision_timeout(self, timer):
        self.send(self.coordinator, Ask(timer.transaction))


class Loops(Hasty):
    def on_decision_timeout(self, timer):
        while self.in_doubt(timer.tx):
            pass


class MajorityCoordinator(Coordinator):   # the chapter's coordinator that commits on a majority
    def on_vote(self, msg, sender):
        if msg.tx != self.started or msg.tx in self.decisions:
            return
        self.votes[sender] = msg.yes
        if sum(self.votes.values()) > len(self.participants) // 2:
            self.decide(msg.tx, "commit")
        elif len(self.votes) == len(self.participants):
            self.decide(msg.tx, "abort")


def majority(coordinator=MajorityCoordinator, votes=("yes", "yes", "no"), invariants=None,
             **kw):
    return check(twopc_system(3, votes=list(votes), coordinator=coordinator), **kw,
                 invariants={"atomicity": atomicity} if invariants is None else invariants,
                 progress=False)


CASES = {
    "check_block_prediction": dict(
        right=[True, np.True_, "True", "yes"],
        wrong=[(False, "who tells p1"), (np.False_, "who tells p1"), ("no", "who tells p1")],
        malformed=[(None, "your answer is None"), (1, "answer True (p1 is blocked) or False"),
                   ("blocked", "answer True (p1 is blocked) or False")],
    ),
    "check_hasty_schedule": dict(
        right=[Args(Hasty, [cut("coord", "p1", at=2.5)]),
               Args(Hasty, cut("coord", "p2", at=2.5)),
               Args(Hasty, [partition(["p1"], at=2.5)]),
               Args(Hasty, (drop("Commit", "coord", "p1", count=5, at=0),))],
        wrong=[(Args(Hasty, []), "the decision reached everyone in time"),
               (Args(Hasty, [crash("coord", at=1)]), "never decided commit"),
               (Args(Hasty, [cut("coord", "p1", at=0.5)]), "never decided commit"),
               (Args(Hasty, [partition(["p1"], at=1.5)]), "never decided commit"),
               (Args(Participant, [cut("coord", "p1", at=2.5)]), "pass the Hasty class")],
        malformed=[(Args(Hasty, None), "your answer is None"),
                   (Args(Hasty, "cut the link"), "give a list of faults"),
                   (Args("Hasty", [cut("coord", "p1", at=2.5)]), "pass your class itself"),
                   (Args(Hasty, [crash("p7", at=1)]), "that schedule is not valid")],
    ),
    "check_patient_participant": dict(
        right=[Patient, PatientBroadcast, PatientOthers],
        wrong=[(Stub, "sends nothing: waiting alone is not enough"),
               (OnlyWaits, "sends nothing: waiting alone is not enough"),
               (AsksOnce, "it asks once and never again"),
               (AsksCoordinatorOnly, "does not ask p2, p3"),
               (AsksParticipantsOnly, "ask the coordinator too"),
               (AsksThenAborts, "changes its log to 'aborted' on its own"),
               (Hasty, "changes its log to 'aborted' on its own")],
        malformed=[(None, "your answer is None"), (Patient("p1", "coord", ["p1", "p2"]),
                                                   "pass the class itself, not an instance"),
                   (Coordinator, "pass your class itself (a subclass of Participant)"),
                   (Raises, "raised AttributeError"), (Loops, "still running after")],
    ),
    "check_majority_counterexample": dict(
        right=[majority(), majority(controls=Controls()),
               majority(controls=Controls(duplicate=True), max_states=50_000),
               # all vote yes, yet it commits before the third vote is in
               majority(votes=("yes", "yes", "yes"))],
        wrong=[(majority(coordinator=Coordinator, controls=Controls(), max_states=20_000),
                "the checker stopped at its limit"),
               (majority(invariants={}, max_depth=6), "found no violation"),
               (majority(invariants={"everyone decided": everyone_decided}),
                "not on atomicity"),
               (check(twopc_system(3, votes=["yes", "yes", "no"]), Controls(),
                      invariants={"never": lambda s: False}, progress=False),
                "that check ran the real Coordinator")],
        malformed=[(None, "your answer is None"), ("check(...)", "assign the value check(...)"),
                   (twopc_system(3), "assign the value check(...) returns")],
    ),
}


test_check = case_test(CASES)
