"""Paxos as it is often misread: each misreading as a small subclass to put through the checker.

Pass one to ``paxos_system(proposer=..., acceptor=...)``; the system simulates and is
checked exactly like the real one, so the checker either finds a shortest run where two
values are chosen (draw it with ``path.trace()``) or proves the configuration safe by
visiting every state.

    ValueInPrepare           a proposer whose Prepare carries its value ...
    IgnoresPrepareValue      ... to acceptors that ignore it: harmless (the checker proves it)
    OverwritesOnEqualPrepare ... to acceptors that take the value when the number equals
                             their promise (as some notes describe phase 1b): unsafe
    IgnoresReports           a proposer that proposes its own value whatever the promises
                             report (rule 2a skipped): unsafe
    ForgetsPromise           an acceptor whose promise is not on disk: unsafe after a crash
    ForgetsItsNumber         a proposer that keeps the numbers it used in memory only: after
                             a restart it uses one again, with another value: unsafe
    AcceptsAnything          an acceptor that accepts below its promise (rule 2b without
                             its test): unsafe; chapter 05 asks the reader to fix it

``check_with_crash`` checks agreement for the two variants that forget on a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..actions import Controls
from .paxos import (Accepted, Acceptor, Prepare, Promise, Proposer, Reject, above, agreement,
                    paxos_system)


@dataclass(frozen=True)
class PrepareWithValue(Prepare):
    """A Prepare that (wrongly) carries the proposer's value."""

    value: object


class ValueInPrepare(Proposer):
    """Sends its own value along with the number in phase 1."""

    def prepare(self):
        return PrepareWithValue(self.ballot, self.value)


class IgnoresPrepareValue(Acceptor):
    """Reads a PrepareWithValue as a plain Prepare: the value is never used."""

    def on_prepare_with_value(self, msg, sender):
        self.on_prepare(msg, sender)


class OverwritesOnEqualPrepare(Acceptor):
    """Rule 1b misread: a Prepare whose number equals the promise makes the acceptor take
    the Prepare's value as accepted (and answer that all is well)."""

    def on_prepare_with_value(self, msg, sender):
        if self.promised is not None and msg.ballot == self.promised:
            self.accepted = (msg.ballot, msg.value)
            self.votes.add(self.accepted)
            self.send(sender, Promise(msg.ballot, self.accepted))
        elif above(msg.ballot, self.promised):
            self.on_prepare(msg, sender)
        else:
            self.send(sender, Reject(msg.ballot, self.promised))


class IgnoresReports(Proposer):
    """Rule 2a skipped: always proposes its own value, whatever the promises report."""

    def choose_value(self, promises):
        return self.value


class ForgetsPromise(Acceptor):
    """The promise is kept in memory only (``accepted`` and ``votes`` are on disk): after a
    crash and restart the acceptor has promised nothing."""

    stable = ("accepted", "votes")


class ForgetsItsNumber(Proposer):
    """*Paxos Made Simple* (section 2.2): "a proposer must remember the highest-numbered
    proposal it has tried to issue" on stable storage.  This one keeps ``seen`` and
    ``tries`` in memory only: after a crash and restart it starts over from its first
    number, which it has already used, possibly with another value (rule 2a may have made
    it propose a reported value the first time).  Two proposals with one number and two
    values: each can be chosen."""

    stable = ()


def check_with_crash(node: str, proposer=Proposer, acceptor=Acceptor, duplicate: bool = False,
                     max_states: int = 200_000):
    """Agreement alone, in every state of 3 acceptors and 2 proposers (one number each, no
    timeouts: a ballot ends only when it is rejected) where ``node`` may crash once and
    restart from its disk; ``duplicate``: the network may also deliver a message again.
    The checker stops at a shortest run where two values are chosen, if there is one.
    When a proposer crashes, the acceptors are interchangeable and counted once per
    renaming (symmetry); a crashing acceptor is set apart from the others."""
    from ..check import check
    nodes = paxos_system(proposers=2, learners=0, max_ballots=1, proposer=proposer,
                         acceptor=acceptor)
    controls = Controls(max_crashes=1, crashable=(node,), duplicate=duplicate, timers=False)
    acceptors = tuple(n.id for n in nodes if isinstance(n, Acceptor))
    return check(nodes, controls, invariants={"agreement": agreement}, progress=False,
                 max_states=max_states,
                 symmetric=None if node in acceptors else acceptors)


class AcceptsAnything(Acceptor):
    """Rule 2b without its condition: accepts every Accept, even below its promise."""

    def on_accept(self, msg, sender):
        self.promised = msg.ballot if self.promised is None else max(self.promised, msg.ballot)
        self.accepted = (msg.ballot, msg.value)
        self.votes.add(self.accepted)
        for to in (sender,) + self.learners:
            self.send(to, Accepted(msg.ballot, msg.value))
