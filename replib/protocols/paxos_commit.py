"""Paxos Commit (Gray and Lamport), small: atomic commit that a coordinator crash cannot
block, because each participant's vote is chosen by a Paxos instance, not held by one node.

Nodes: participants ``"p1"`` ... (they vote and learn the outcome), acceptors ``"a1"`` ...
(2F + 1 of them; F may fail), and two leaders, ``"coord"`` and ``"coord2"`` (a standby).

 1. ``coord`` sends ``BeginCommit(tx)`` to every participant.
 2. Each participant writes its vote on its disk and, as the leader of its own Paxos
    instance with ballot 0 (the fast path: no phase 1 for ballot 0), sends
    ``Phase2a(instance=itself, ballot=0, value="prepared" or "aborted")`` to every acceptor.
 3. An acceptor accepts as in Paxos rule 2b (``paxos.accept_ok``), one instance at a time,
    and tells both leaders ``Phase2b``.
 4. A leader that sees a majority of acceptors accept the same ballot and value for an
    instance has learned that participant's vote.  With every vote learned it decides:
    commit if all are "prepared", abort otherwise, and tells the participants.
 5. If ``coord2``'s timer fires before it has decided, it takes over: for every instance
    not yet learned it runs both phases of Paxos with ballot 1 (``Prepare1a`` /
    ``Promise1b``), proposing what the promises report (``paxos.value_to_propose``), or
    "aborted" if nothing was accepted: a vote nobody can see may as well be no.

Why a coordinator crash does not block it: the votes live on a majority of acceptors, and
any leader can learn them, or settle them as "aborted" where no vote was accepted.  Paxos's
rules make every leader learn the same value for each instance, so two leaders decide
alike.  With one transaction and one recovery ballot this is small enough for the checker.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..node import Node
from ..validate import finite_time, subclass_of, whole_number
from .paxos import accept_ok, promise_ok, value_to_propose
from .twopc import Abort, Commit

LEADERS = ("coord", "coord2")


@dataclass(frozen=True)
class BeginCommit:
    """Leader -> participants: vote on transaction ``tx``."""

    tx: int


@dataclass(frozen=True)
class Phase2a:
    """A participant (ballot 0) or a leader (higher ballots) -> acceptors: accept ``value`` as
    the vote of participant ``instance``, under ``ballot``."""

    tx: int
    instance: str
    ballot: int
    value: str


@dataclass(frozen=True)
class Phase2b:
    """Acceptor -> leaders: I accepted ``value`` for ``instance`` under ``ballot``."""

    tx: int
    instance: str
    ballot: int
    value: str


@dataclass(frozen=True)
class Prepare1a:
    """Standby leader -> acceptors: promise ``ballot`` for ``instance``."""

    tx: int
    instance: str
    ballot: int


@dataclass(frozen=True)
class Promise1b:
    """Acceptor -> leader: promised; ``accepted`` is my (ballot, value) for it, or None."""

    tx: int
    instance: str
    ballot: int
    accepted: object


@dataclass(frozen=True)
class TakeOver:
    """At the standby leader: no decision yet; settle the votes itself."""


class CommitParticipant(Node):
    """Votes through its own Paxos instance, then applies the decision."""

    stable = ("log",)

    @classmethod
    def milestones(cls, node, before, after, system):
        """Badges: the participant's log entry as it changes ("prepared", "committed")."""
        return [v for tx, v in after.get("log", {}).items() if before.get("log", {}).get(tx) != v]

    def __init__(self, id: str, acceptors, vote: str = "yes"):
        super().__init__(id)
        self.log = {}            # tx -> "prepared" / "aborted" / "committed", on disk
        self.acceptors = tuple(acceptors)
        self.vote = vote

    def on_begin_commit(self, msg, sender):
        if msg.tx in self.log:
            return
        self.log[msg.tx] = "prepared" if self.vote == "yes" else "aborted"   # disk first
        for a in self.acceptors:
            self.send(a, Phase2a(msg.tx, self.id, 0, self.log[msg.tx]))

    def on_commit(self, msg, sender):
        if self.log.get(msg.tx) == "prepared":
            self.log[msg.tx] = "committed"

    def on_abort(self, msg, sender):
        if self.log.get(msg.tx) in (None, "prepared"):
            self.log[msg.tx] = "aborted"


class CommitAcceptor(Node):
    """Paxos's acceptor, once per instance (one instance per participant)."""

    stable = ("promised", "accepted")

    def __init__(self, id: str, leaders=LEADERS):
        super().__init__(id)
        self.promised = {}       # instance -> highest ballot promised, on disk
        self.accepted = {}       # instance -> (ballot, value) last accepted, on disk
        self.leaders = tuple(leaders)

    def on_phase2a(self, msg, sender):
        if accept_ok(msg.ballot, self.promised.get(msg.instance)):        # rule 2b
            self.promised[msg.instance] = msg.ballot
            self.accepted[msg.instance] = (msg.ballot, msg.value)
            for leader in self.leaders:
                self.send(leader, Phase2b(msg.tx, msg.instance, msg.ballot, msg.value))

    def on_prepare1a(self, msg, sender):
        if promise_ok(msg.ballot, self.promised.get(msg.instance)):       # rule 1b
            self.promised[msg.instance] = msg.ballot
            self.send(sender, Promise1b(msg.tx, msg.instance, msg.ballot,
                                        self.accepted.get(msg.instance)))


class CommitLeader(Node):
    """Learns each participant's vote from a majority of acceptors and decides; the standby
    (``standby=True``) also takes over with ballot 1 when its timer fires."""

    stable = ("decisions",)

    @classmethod
    def milestones(cls, node, before, after, system):
        """Badges: the decision ("commit"), and the moment the standby takes over."""
        out = [v for tx, v in after.get("decisions", {}).items()
               if before.get("decisions", {}).get(tx) != v]
        if after.get("ballot") and not before.get("ballot"):
            out.append(f"takes over, ballot {after['ballot']}")
        return out

    def __init__(self, id: str, participants, acceptors, standby: bool = False,
                 timeout: float = 6.0):
        super().__init__(id)
        self.decisions = {}      # tx -> "commit" / "abort", on disk
        self.heard = {}          # (instance, ballot, value) -> acceptors that accepted it
        self.learned = {}        # instance -> the vote chosen for it
        self.ballot = 0          # the standby's ballot once it takes over (0: not yet)
        self.promises = {}       # instance -> {acceptor: what it reported}
        self.participants = tuple(participants)
        self.acceptors = tuple(acceptors)
        self.standby = standby
        self.timeout = timeout

    @property
    def majority(self) -> int:
        return len(self.acceptors) // 2 + 1

    def on_start(self):
        if self.standby:
            self.set_timer(TakeOver(), self.timeout)
        else:
            for p in self.participants:
                self.send(p, BeginCommit(1))

    def on_phase2b(self, msg, sender):
        key = (msg.instance, msg.ballot, msg.value)
        self.heard[key] = self.heard.get(key, frozenset()) | {sender}
        if len(self.heard[key]) >= self.majority and msg.instance not in self.learned:
            self.learned[msg.instance] = msg.value
            self.maybe_decide(msg.tx)

    def maybe_decide(self, tx):
        if tx in self.decisions or len(self.learned) < len(self.participants):
            return
        yes = all(self.learned[p] == "prepared" for p in self.participants)
        self.decisions[tx] = "commit" if yes else "abort"      # on disk before it is told
        for p in self.participants:
            self.send(p, Commit(tx) if yes else Abort(tx))

    def on_take_over(self, timer):
        if not self.standby or self.ballot or 1 in self.decisions:
            return                                            # stale, or nothing to do
        self.ballot = 1
        for p in self.participants:
            if p not in self.learned:
                for a in self.acceptors:
                    self.send(a, Prepare1a(1, p, self.ballot))

    def on_promise1b(self, msg, sender):
        if msg.ballot != self.ballot or msg.instance in self.learned:
            return
        got = self.promises.setdefault(msg.instance, {})
        if sender in got or len(got) >= self.majority:
            return
        got[sender] = msg.accepted
        if len(got) == self.majority:                         # rule 2a, "aborted" by default
            value = value_to_propose(got.values(), "aborted")
            for a in self.acceptors:
                self.send(a, Phase2a(msg.tx, msg.instance, self.ballot, value))


def paxos_commit_system(participants: int = 2, acceptors: int = 3, votes=None,
                        timeout: float = 6.0, participant=None, leader=None) -> list:
    """Leaders ``coord`` and ``coord2``, ``participants`` participants and ``acceptors``
    acceptors (2F + 1 tolerate F failures), one transaction.  votes: participant -> "yes" or
    "no" (default: all yes).  participant, leader: subclasses to use instead."""
    whole_number("participants", participants, 1, 9)
    whole_number("acceptors", acceptors, 1, 9)
    finite_time("timeout", timeout)
    parts = [f"p{i}" for i in range(1, participants + 1)]
    accs = [f"a{i}" for i in range(1, acceptors + 1)]
    votes = dict(votes or {})
    unknown = sorted(set(votes) - set(parts))
    if unknown or any(v not in ("yes", "no") for v in votes.values()):
        raise ValueError(f"votes must map participants {parts} to 'yes' or 'no', got {votes!r}")
    p_cls = subclass_of("participant", participant, CommitParticipant)
    l_cls = subclass_of("leader", leader, CommitLeader)
    return ([l_cls("coord", parts, accs), l_cls("coord2", parts, accs, standby=True,
                                                  timeout=timeout)]
            + [p_cls(p, accs, votes.get(p, "yes")) for p in parts]
            + [CommitAcceptor(a) for a in accs])


# ---- what the checker asks ------------------------------------------------------------------


def _leaders(s):
    return [n for n in s.nodes if hasattr(n, "learned")]


def _participants(s):
    return [n for n in s.nodes if hasattr(n, "vote")]


def atomicity(s) -> bool:
    """No participant committed while another aborted, the leaders never decided
    differently, and commit was decided only if every participant is prepared or committed."""
    leaders, parts = _leaders(s), _participants(s)
    decided = {l.decisions.get(1) for l in leaders} - {None}
    states = {p.log.get(1) for p in parts}
    if len(decided) > 1 or {"committed", "aborted"} <= states:
        return False
    if "commit" in decided and (None in states or "aborted" in states):
        return False
    return not ("committed" in states and "abort" in decided)


def everyone_decided(s) -> bool:
    """Every live participant knows the outcome."""
    return all(p.log.get(1) in ("committed", "aborted") for p in _participants(s) if s.up(p.id))
