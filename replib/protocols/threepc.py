"""Three-phase commit (3PC), for contrast with 2PC: it does not block when the coordinator
crashes, provided the system is synchronous; with a partition it can break atomicity.

Same system as 2PC (``"coord"`` and ``"p1"`` ... ``"pn"``), three phases:

 1. can-commit: the coordinator sends ``CanCommit(tx)``; a participant votes as in 2PC
    (``Vote``), writing "voted" (yes: it is now uncertain) or "aborted" (no) first.  Any
    no, or ``timeout`` without every vote, and the coordinator decides abort (``Abort``).
 2. pre-commit: with every yes, the coordinator writes "precommit" and sends
    ``PreCommit(tx)``: "everyone voted yes".  A participant writes "precommitted" and
    answers ``PreCommitAck(tx)``.
 3. do-commit: with every PreCommitAck the coordinator decides commit and sends
    ``DoCommit(tx)``; participants commit and answer ``Ack(tx)``.

The timeout rules, which are what removes the blocking:

 4. A participant that times out before voting, or while uncertain ("voted"), aborts.
 5. A participant that times out while "precommitted" commits: everyone voted yes, and
    the coordinator sends PreCommit to all in one go, so every live participant got it
    too (or will, before its own timeout: the timing assumption).
 6. A coordinator that times out waiting for PreCommitAcks commits anyway: under the
    timing assumption a missing ack means that participant crashed.
 7. A restarted coordinator resends a logged decision, commits if it had logged
    "precommit", and aborts otherwise.  A restarted participant applies rules 4-5 again.

Why it is safe under its assumptions: a participant can only commit on its own once it is
precommitted, which means every participant voted yes and every live one is precommitted
too, so nobody times out into an abort.  The assumptions are strong: messages arrive within
a known bound (so a timeout means a crash, never a slow or cut-off link) and only the
coordinator fails.  A partition breaks the first: a participant cut off before its
PreCommit arrives times out uncertain and aborts, while the others time out precommitted
and commit.  (A participant that crashes and restarts uncertain needs Skeen's termination
protocol, which is left out here: the chapter crashes the coordinator.)

Messages per committed transaction: CanCommit, Vote, PreCommit, PreCommitAck, DoCommit,
Ack: 6n.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..validate import MAX_NODES, MAX_OPS, finite_time, subclass_of, whole_number
from .twopc import (COORDINATOR, Abort, Ack, Coordinator, Participant, PrepareTimeout, Vote,
                    VoteTimeout, check_votes, participant_ids)

# ---- messages (Vote, Abort and Ack as in 2PC) ---------------------------------------------


@dataclass(frozen=True)
class CanCommit:
    """Coordinator -> participant: can you commit ``tx``? (phase 1)"""

    tx: int


@dataclass(frozen=True)
class PreCommit:
    """Coordinator -> participant: everyone voted yes (phase 2)."""

    tx: int


@dataclass(frozen=True)
class PreCommitAck:
    """Participant -> coordinator: I am precommitted."""

    tx: int


@dataclass(frozen=True)
class DoCommit:
    """Coordinator -> participant: commit (phase 3)."""

    tx: int


# ---- timers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AckTimeout:
    """At the coordinator: not every PreCommitAck came: commit anyway (rule 6)."""

    tx: int


@dataclass(frozen=True)
class OutcomeTimeout:
    """At a participant that voted yes: no word from the coordinator (rules 4 and 5)."""

    tx: int


class ThreePCCoordinator(Coordinator):
    """The 2PC coordinator with a pre-commit phase between the votes and the decision."""

    vote_request = CanCommit

    def all_voted_yes(self, tx):
        self.decisions[tx] = "precommit"           # on disk (rule 7); not a decision yet
        self.cancel_timer(VoteTimeout(tx))
        for p in self.participants:
            self.send(p, PreCommit(tx))
        self.set_timer(AckTimeout(tx), self.timeout)

    def on_pre_commit_ack(self, msg, sender):
        if msg.tx == self.started and self.decisions.get(msg.tx) == "precommit":
            self.acked.add(sender)
            if self.acked >= set(self.participants):
                self.commit(msg.tx)

    def on_ack_timeout(self, timer):
        if timer.tx == self.started and self.decisions.get(timer.tx) == "precommit":
            self.commit(timer.tx)                  # rule 6

    def commit(self, tx):
        self.acked = set()                         # from now on, counting the final Acks
        self.cancel_timer(AckTimeout(tx))
        self.decide(tx, "commit")

    def decision_message(self, tx):
        return DoCommit(tx) if self.decisions[tx] == "commit" else Abort(tx)

    def on_restart(self):
        if self.decisions.get(self.started) == "precommit":
            self.commit(self.started)              # rule 7
        else:
            super().on_restart()


class ThreePCParticipant(Participant):
    """Votes, precommits, commits; decides on its own on a timeout (rules 4 and 5)."""

    undecided = ("voted", "precommitted")
    doubt_timer = OutcomeTimeout

    def on_can_commit(self, msg, sender):
        tx, state = msg.tx, self.log.get(msg.tx)
        if state is None:
            self.cancel_timer(PrepareTimeout(tx))
            self.log[tx] = "voted" if self.vote == "yes" else "aborted"
            if self.vote == "yes":
                self.wait_for_outcome(tx)
            state = self.log[tx]
        self.send(sender, Vote(tx, state != "aborted"))

    def wait_for_outcome(self, tx):
        self.set_timer(OutcomeTimeout(tx), self.timeout)     # rules 4 and 5, and 7 on restart

    def on_pre_commit(self, msg, sender):
        if self.log.get(msg.tx) == "voted":
            self.log[msg.tx] = "precommitted"
            self.wait_for_outcome(msg.tx)
        if self.log.get(msg.tx) == "precommitted":
            self.send(sender, PreCommitAck(msg.tx))

    def on_do_commit(self, msg, sender):
        self.learn(msg.tx, "committed")
        self.send(sender, Ack(msg.tx))

    def on_outcome_timeout(self, timer):
        state = self.log.get(timer.tx)
        if state == "voted":
            self.learn(timer.tx, "aborted")        # rule 4
        elif state == "precommitted":
            self.learn(timer.tx, "committed")      # rule 5


class OneAtATime(ThreePCCoordinator):
    """PreCommit sent to one participant at a time, the next one only after the previous
    one's PreCommitAck: a coordinator crash in between leaves one participant precommitted
    and another uncertain, and rules 4 and 5 then make one commit and the other abort.  3PC's
    rule 5 relies on PreCommit reaching every participant together."""

    def all_voted_yes(self, tx):
        self.decisions[tx] = "precommit"
        self.cancel_timer(VoteTimeout(tx))
        self.send(self.participants[0], PreCommit(tx))
        self.set_timer(AckTimeout(tx), self.timeout)

    def on_pre_commit_ack(self, msg, sender):
        if msg.tx == self.started and self.decisions.get(msg.tx) == "precommit":
            self.acked.add(sender)
            rest = [p for p in self.participants if p not in self.acked]
            if rest:
                self.send(rest[0], PreCommit(msg.tx))
            else:
                self.commit(msg.tx)


def threepc_system(participants: int = 2, votes=None, transactions: int = 1,
                   timeout: float = 5.0, think: float = 0.0, coordinator=None,
                   participant=None) -> list:
    """A 3PC coordinator and ``participants`` participants (arguments as twopc_system)."""
    whole_number("participants", participants, 1, cap=MAX_NODES)
    whole_number("transactions", transactions, 0, cap=MAX_OPS)
    finite_time("timeout", timeout)
    finite_time("think", think, zero_ok=True)
    ids = participant_ids(participants)
    votes = check_votes(votes, ids)
    coord_cls = subclass_of("coordinator", coordinator, ThreePCCoordinator)
    part_cls = subclass_of("participant", participant, ThreePCParticipant)
    return [coord_cls(COORDINATOR, ids, transactions, timeout, think)] + [
        part_cls(p, COORDINATOR, ids, votes[p], transactions, timeout) for p in ids]
