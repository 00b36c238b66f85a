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
    AcceptsAnything          an acceptor that accepts below its promise (rule 2b without
                             its test): unsafe; chapter 05 asks the reader to fix it
"""

from __future__ import annotations

from dataclasses import dataclass

from .paxos import Accepted, Acceptor, Prepare, Promise, Proposer, Reject, above


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


class AcceptsAnything(Acceptor):
    """Rule 2b without its condition: accepts every Accept, even below its promise."""

    def on_accept(self, msg, sender):
        self.promised = msg.ballot if self.promised is None else max(self.promised, msg.ballot)
        self.accepted = (msg.ballot, msg.value)
        self.votes.add(self.accepted)
        for to in (sender,) + self.learners:
            self.send(to, Accepted(msg.ballot, msg.value))
