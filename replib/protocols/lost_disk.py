"""A replica that lost its disk, on chapter 08's Multi-Paxos.

Paxos's safety rests on acceptors remembering what they promised and accepted.  A replica
whose disk is replaced (``faults.wipe``) and that rejoins under its old identity has
forgotten both: it may promise a ballot below one it promised before, and it no longer
reports a command it accepted, so a majority that includes it can choose a second command
in a slot where one was already chosen.  ``Replica`` does exactly that.

``RecoveringReplica`` knows when its disk is empty: ``fresh`` is on disk, set at first start
and cleared by ``on_start``, so only a replica whose disk was lost restarts with it set.
Then it recovers before it votes again (the fix of Chandra et al., "Paxos Made Live"):

 D1. On a restart with an empty disk it votes for nothing, stands for nothing, and asks
     every other replica for its acceptor state (``AskState``), again every ``timeout``
     until enough have answered.
 D2. A replica with a disk answers ``State(promised, accepted, seen)``.
 D3. With answers from a majority of the replicas (itself not counted), it takes the highest
     promise and, slot by slot, the accepted command with the highest ballot, and only then
     votes again.  Any majority it lost a promise or an accept to shares a replica with the
     ones that answered, so it gets back at least what it forgot.

The price: while fewer than a majority of the others are up it cannot recover, and it
cannot help to form a majority either.  The other fix is to rejoin as a *new* member
through a membership change (section 3 of chapter 09).

A *stale* copy of the disk (a backup restored) has ``fresh`` cleared like any used disk, so
``RecoveringReplica`` trusts it and votes from its old state.  ``AlwaysRecovering`` trusts
no disk: it recovers after every restart.
"""

from __future__ import annotations

from dataclasses import dataclass

from .multipaxos import Replica, _max


@dataclass(frozen=True)
class AskState:
    """A replica that lost its disk -> the others (D1): what have you promised and accepted?"""


@dataclass(frozen=True)
class AskAgain:
    """At a recovering replica: not enough answers yet; ask the silent ones again (D1)."""


@dataclass(frozen=True)
class State:
    """Replica -> a recovering one (D2): my acceptor state."""

    promised: object
    accepted: tuple          # ((slot, (ballot, command)), ...)
    seen: object


class RecoveringReplica(Replica):
    """A Replica that recovers its acceptor state from a majority after losing its disk."""

    stable = Replica.stable + ("fresh",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fresh = True        # on disk: True only on a disk nothing was ever written to
        self.recovering = False  # volatile: D1 to D3 under way
        self.answers = {}        # volatile: replica -> its State

    def on_start(self):
        self.fresh = False
        super().on_start()

    def on_restart(self):
        if not self.fresh:
            return super().on_restart()
        self.recovering, self.answers = True, {}              # D1
        self.on_ask_again(AskAgain())

    def on_ask_again(self, timer):
        if not self.recovering:
            return
        for r in self.replicas:
            if r != self.id and r not in self.answers:
                self.send(r, AskState())
        self.set_timer(AskAgain(), self.timeout)

    def on_ask_state(self, msg, sender):
        if not self.recovering:                               # D2
            self.send(sender, State(self.promised, tuple(sorted(self.accepted.items())),
                                    self.seen))

    def on_state(self, msg, sender):
        if not self.recovering:
            return
        self.answers[sender] = msg
        if len(self.answers) < self.majority:
            return
        for state in self.answers.values():                   # D3
            self.promised = _max(self.promised, state.promised)
            self.seen = _max(self.seen, state.seen)
            for slot, (ballot, command) in state.accepted:
                if slot not in self.accepted or self.accepted[slot][0] < ballot:
                    self.accepted[slot] = (ballot, command)
                    self.votes.add((slot, ballot, command))
        self.seen = _max(self.seen, self.promised)
        self.recovering, self.answers, self.fresh = False, {}, False
        self.cancel_timer(AskAgain())
        self.follow()

    # a recovering replica votes for nothing and stands for nothing (D1)
    def on_prepare(self, msg, sender):
        if not self.recovering:
            super().on_prepare(msg, sender)

    def on_accept(self, msg, sender):
        if not self.recovering:
            super().on_accept(msg, sender)

    def on_leader_timeout(self, timer):
        if not self.recovering:
            super().on_leader_timeout(timer)


class AlwaysRecovering(RecoveringReplica):
    """A RecoveringReplica that trusts no disk: it recovers (D1 to D3) after *every*
    restart, so a stale copy, which looks like a good disk, is caught too.  Taking the
    highest of its own state and a majority's is safe whatever its disk held; the price is
    that every restart, not only a lost disk, waits for a majority of the others."""

    def on_restart(self):
        self.fresh = True
        super().on_restart()
