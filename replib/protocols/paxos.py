"""Single-decree Paxos, as Lamport states it in *Paxos Made Simple*.

Roles: acceptors ``"a1"`` ... (they remember), proposers ``"p1"`` ... (each wants its own
value chosen) and learners ``"l1"`` ... (they find out what was chosen).

Phase 1 (prepare / promise):

 1a. A proposer picks a proposal number n (``ballots.py``: unique to it, above any it has
     seen) and sends ``Prepare(n)`` to every acceptor.  Prepare carries no value.
 1b. An acceptor that has promised nothing higher (``n > promised``) sets ``promised = n``
     on its disk, then answers ``Promise(n, accepted)``: the (number, value) it accepted
     last, or None.  Otherwise it answers ``Reject(n, promised)``.

Phase 2 (accept / accepted):

 2a. With promises from a phase-1 quorum (a majority), the proposer proposes the value of
     the highest-numbered proposal reported in those promises, or its own value if none
     reported one (``choose_value``), and sends ``Accept(n, v)`` to the acceptors that
     promised (as *Paxos Made Simple* has it), or to all if a phase-2 quorum is larger.
 2b. An acceptor accepts ``Accept(n, v)`` unless it promised a higher number
     (``n >= promised``): it sets ``promised = n`` and ``accepted = (n, v)`` on its disk,
     then tells the proposer and every learner ``Accepted(n, v)``.  Otherwise it answers
     ``Reject(n, promised)``.  A proposer takes a Reject as "beaten" only if the promised
     number is above its own (a duplicated Prepare is rejected with the proposer's own number).

A value is **chosen** when a phase-2 quorum of acceptors (a majority) have accepted it with
the same number.  Rule 2a is why a chosen value never changes: any later proposer's
phase-1 quorum includes an acceptor of that majority, which reports the value (or a later
one that was itself proposed under rule 2a).  A learner that sees ``Accepted(n, v)`` from
a quorum with the same n has learned v; a proposer that sees it knows it is done.

Retrying: a proposer that gets a Reject, or no quorum within ``timeout``
(``RetryTimeout``), tries again with a higher number after a backoff: none, fixed, or
randomized exponential (a delay drawn from ``[0, base * 2**k]``, capped).  It tries at most
``max_ballots`` numbers (a bound for the checker; None: no bound).  With ``leader`` set,
only that proposer proposes (a distinguished proposer, as Lamport suggests for progress).

Disk: an acceptor's ``promised`` and ``accepted`` are stable, written before it answers;
so is ``votes``, every (number, value) it ever accepted: the protocol never reads it, it is
a record for the checker, which needs to know what was chosen at *some* point (an
acceptor's ``accepted`` only shows the last).  A proposer keeps the largest number it has
seen and how many it tried on disk, so it never reuses a number.

Safety (agreement, validity) holds whatever the network does: loss, duplication,
reordering, partitions, crashes and restarts.  Progress needs a quorum of acceptors up and
connected and one proposer left alone long enough: two proposers can preempt each other
forever (livelock, chapter 06).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from ..check import about_nodes
from ..node import Node
from ..quorums import check_sizes
from ..validate import MAX_NODES, finite_time, subclass_of, whole_number
from .ballots import Ballots, scheme

BACKOFFS = ("none", "fixed", "random")

# ---- messages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepare:
    """Proposer -> acceptor (1a): promise to ignore numbers below ``ballot``."""

    ballot: object


@dataclass(frozen=True)
class Promise:
    """Acceptor -> proposer (1b): promised; ``accepted`` is my last (number, value) or None."""

    ballot: object
    accepted: object


@dataclass(frozen=True)
class Accept:
    """Proposer -> acceptor (2a): accept ``value`` under number ``ballot``."""

    ballot: object
    value: object


@dataclass(frozen=True)
class Accepted:
    """Acceptor -> proposer and learners (2b): I accepted ``value`` under ``ballot``."""

    ballot: object
    value: object


@dataclass(frozen=True)
class Reject:
    """Acceptor -> proposer: ``ballot`` is too low; I promised ``promised``."""

    ballot: object
    promised: object


# ---- timers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryTimeout:
    """At a proposer: no quorum for ``ballot`` in time."""

    ballot: object


@dataclass(frozen=True)
class Backoff:
    """At a proposer: the pause before trying again is over."""


# ---- acceptors ---------------------------------------------------------------------------


def _compact_value(value) -> str:
    """A value or ballot for a badge: strings as they are, pairs as (round,id)."""
    if isinstance(value, tuple):
        return "(" + ",".join(map(str, value)) + ")"
    return str(value)



def above(n, promised) -> bool:
    """n > promised, where None (nothing promised yet) is below every number."""
    return promised is None or n > promised


def promise_ok(n, promised) -> bool:
    """Rule 1b's test: promise n only if nothing higher or equal was promised (n > promised).
    Shared with Multi-Paxos (``multipaxos.py``), whose acceptors promise for every slot."""
    return above(n, promised)


def accept_ok(n, promised) -> bool:
    """Rule 2b's test: accept under n unless a higher number was promised (n >= promised).
    Shared with Multi-Paxos, whose acceptors apply it slot by slot."""
    return promised is None or n >= promised


def value_to_propose(reports, own):
    """Rule 2a: the value of the highest-numbered proposal among ``reports`` ((number, value)
    pairs, or None for "accepted nothing"), or ``own`` if none reports one.  Shared with
    Multi-Paxos, which applies it slot by slot (``own`` is then a no-op)."""
    reported = [acc for acc in reports if acc is not None]
    if not reported:
        return own
    return max(reported, key=lambda acc: acc[0])[1]


class Acceptor(Node):
    """Promises and accepts (rules 1b and 2b); remembers both on its disk."""

    stable = ("promised", "accepted", "votes")

    @classmethod
    def milestones(cls, node, before, after, system):
        """Badge for diagrams: "chosen v" on the acceptor whose accept completes a majority
        of acceptors that accepted the same (number, value); acceptors are the nodes with a
        ``votes`` record."""
        new = set(after.get("votes", ())) - set(before.get("votes", ()))
        if not new:
            return []
        acceptors = [s for s in system.values() if "votes" in s and "promised" in s]
        majority = len(acceptors) // 2 + 1
        return [f"chosen {_compact_value(v)}" for n, v in sorted(new, key=repr)
                if sum((n, v) in s["votes"] for s in acceptors) == majority]

    def __init__(self, id: str, learners=()):
        super().__init__(id)
        self.promised = None     # the highest number promised (None: none yet)
        self.accepted = None     # (number, value) last accepted, or None
        self.votes = set()       # every (number, value) ever accepted: for the checker only
        self.learners = tuple(learners)

    def on_prepare(self, msg, sender):
        if promise_ok(msg.ballot, self.promised):            # rule 1b: n > promised
            self.promised = msg.ballot                        # on disk before the answer
            self.send(sender, Promise(msg.ballot, self.accepted))
        else:
            self.send(sender, Reject(msg.ballot, self.promised))

    def on_accept(self, msg, sender):
        if accept_ok(msg.ballot, self.promised):             # rule 2b: n >= promised
            self.promised = msg.ballot
            self.accepted = (msg.ballot, msg.value)
            self.votes.add(self.accepted)
            for to in (sender,) + self.learners:
                self.send(to, Accepted(msg.ballot, msg.value))
        else:
            self.send(sender, Reject(msg.ballot, self.promised))


# ---- proposers ---------------------------------------------------------------------------


class Proposer(Node):
    """Runs ballots for its value until one succeeds (rules 1a and 2a, and retrying)."""

    stable = ("seen", "tries")

    @classmethod
    def milestones(cls, node, before, after, system):
        """Badge for diagrams: each new ballot the proposer starts ("ballot 3")."""
        ballot = after.get("ballot")
        if ballot is not None and ballot != before.get("ballot"):
            return [f"ballot {_compact_value(ballot)}"]
        return []

    def __init__(self, id: str, index: int, value, acceptors, ballots: Ballots,
                 q1: int, q2: int, max_ballots: int | None = 2, timeout: float = 6.0,
                 backoff: str = "none", backoff_base: float = 1.0, backoff_cap: float = 32.0,
                 active: bool = True, start_after: float | None = None):
        super().__init__(id)
        self.seen = None         # the largest number used or heard of (on disk)
        self.tries = 0           # how many numbers it has tried (on disk)
        self.ballot = None       # the number of the current attempt
        self.phase = "idle"      # "idle", "preparing", "accepting", "waiting" (backoff), "done"
        self.promises = {}       # acceptor -> what it reported accepted (current ballot)
        self.accepts = set()     # acceptors that accepted the current ballot
        self.proposed = None     # the value sent in phase 2 of the current ballot
        # configuration
        self.index = index
        self.value = value
        self.acceptors = set(acceptors)   # a set: no acceptor comes first (and it prints sorted)
        self.ballots = ballots
        self.q1, self.q2 = q1, q2
        self.max_ballots = max_ballots
        self.timeout = timeout
        self.backoff = backoff
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.active = active
        self.start_after = start_after

    def on_start(self):
        if not self.active:
            return
        if self.start_after is None:
            self.begin()
        else:                    # start later: wait as after a backoff (in controlled mode,
            self.phase = "waiting"          # firing this timer is "the proposer starts")
            self.set_timer(Backoff(), self.start_after)

    def exhausted(self) -> bool:
        """Finished or out of attempts, for good (until a restart)."""
        return self.phase in ("idle", "done") and self.max_ballots is not None and \
            self.tries >= self.max_ballots

    def obsolete(self, msg) -> bool:
        """What this proposer ignores now and forever (for the checker): everything, once it
        is exhausted; a reply about a ballot below the current one (ballots only grow),
        unless it is a Reject that teaches a higher number."""
        if self.exhausted():
            return True
        if isinstance(msg, Reject) and (msg.promised is None or msg.promised <= msg.ballot):
            return True
        if self.ballot is None or msg.ballot >= self.ballot:
            return False
        return not isinstance(msg, Reject) or (self.seen is not None and msg.promised <= self.seen)

    def on_restart(self):
        self.on_start()          # a fresh attempt, with a number above every one on disk

    def begin(self):
        """Rule 1a: a new number, higher than any seen, and Prepare to every acceptor."""
        if self.max_ballots is not None and self.tries >= self.max_ballots:
            self.phase = "idle"                               # out of attempts
            return
        self.ballot = self.ballots.next(self.seen, self.index)
        self.seen = self.ballot                               # on disk: never reused
        self.tries += 1
        self.phase = "preparing"
        self.promises, self.accepts, self.proposed = {}, set(), None
        for a in sorted(self.acceptors):
            self.send(a, self.prepare())
        self.set_timer(RetryTimeout(self.ballot), self.timeout)

    def prepare(self):
        """Rule 1a's message: the number alone (Prepare carries no value)."""
        return Prepare(self.ballot)

    def on_promise(self, msg, sender):
        if msg.ballot != self.ballot or self.phase != "preparing":
            return                                            # stale, or phase 1 is over
        self.promises[sender] = msg.accepted
        if len(self.promises) >= self.q1:
            self.proposed = self.choose_value(self.promises)  # rule 2a
            promised = sorted(self.promises)
            self.promises = {}                                # served their purpose
            self.phase = "accepting"
            for a in promised if len(promised) >= self.q2 else sorted(self.acceptors):
                self.send(a, Accept(self.ballot, self.proposed))

    def choose_value(self, promises):
        """Rule 2a: the value of the highest-numbered proposal the promises report, or my
        own value if none reports one.  ``promises``: acceptor -> (number, value) or None."""
        return value_to_propose(promises.values(), self.value)

    def on_accepted(self, msg, sender):
        if msg.ballot != self.ballot or self.phase != "accepting":
            return
        self.accepts.add(sender)
        if len(self.accepts) >= self.q2:
            self.phase = "done"                               # chosen
            self.accepts = set()
            self.cancel_timer(RetryTimeout(self.ballot))

    def on_reject(self, msg, sender):
        if self.exhausted() or msg.promised is None or msg.promised <= msg.ballot:
            return            # nothing more to try; or my own number again (a duplicate Prepare)
        if self.seen is None or msg.promised > self.seen:
            self.seen = msg.promised                          # learn the higher number
        if msg.ballot == self.ballot and self.phase in ("preparing", "accepting"):
            self.retry()

    def on_retry_timeout(self, timer):
        if timer.ballot == self.ballot and self.phase in ("preparing", "accepting"):
            self.retry()

    def retry(self):
        """Give up on this number; try a higher one now, or after a backoff."""
        self.cancel_timer(RetryTimeout(self.ballot))
        delay = self.backoff_delay()
        if delay == 0:
            self.begin()
        else:
            self.phase = "waiting"
            self.set_timer(Backoff(), delay)

    def backoff_delay(self) -> float:
        if self.backoff == "fixed":
            return self.backoff_base
        if self.backoff == "random":                          # randomized exponential
            return self.rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** self.tries))
        return 0.0

    def on_backoff(self, timer):
        if self.phase == "waiting":
            self.begin()


# ---- learners ----------------------------------------------------------------------------


class Learner(Node):
    """Learns a value once a phase-2 quorum reports accepting it under one number."""

    @classmethod
    def milestones(cls, node, before, after, system):
        """Badge for diagrams: the value, when the learner learns it ("learned v1")."""
        if after.get("learned") is not None and before.get("learned") is None:
            return [f"learned {_compact_value(after['learned'])}"]
        return []

    def __init__(self, id: str, q2: int):
        super().__init__(id)
        self.heard = {}          # number -> acceptors that reported accepting under it
        self.learned = None      # the value learned, or None
        self.q2 = q2

    def on_accepted(self, msg, sender):
        voters = self.heard.setdefault(msg.ballot, set())
        voters.add(sender)
        if len(voters) >= self.q2 and self.learned is None:
            self.learned = msg.value


# ---- building a system -------------------------------------------------------------------


def paxos_system(acceptors: int = 3, proposers: int = 2, learners: int = 1, values=None,
                 max_ballots: int | None = 2, ballots="mod-n", q1: int | None = None,
                 q2: int | None = None, timeout: float = 6.0, backoff: str = "none",
                 backoff_base: float = 1.0, backoff_cap: float = 32.0, leader: str | None = None,
                 start_after=None, acceptor=Acceptor, proposer=Proposer,
                 learner=Learner) -> list:
    """Acceptors "a1"..., proposers "p1"... and learners "l1"..., as a list of nodes for a
    Simulation or the checker.

    values: the value each proposer wants (default "v1", "v2", ...).  max_ballots: how many
    numbers each proposer tries (None: no bound).  ballots: "mod-n" (Chubby's), "round-id",
    "naive", or a Ballots object.  q1, q2: phase-1 and phase-2 quorum sizes (default: a
    majority; ``quorums.always_intersect`` says whether a choice is safe).  timeout,
    backoff ("none", "fixed", "random"), backoff_base, backoff_cap: when and how a
    proposer retries.  leader: a proposer id; only it proposes.  start_after: None (every
    proposer starts at once) or one delay per proposer (None for "at once"); in controlled
    mode a delayed proposer starts when its Backoff timer is fired.  acceptor, proposer,
    learner: classes to use instead (a variant to study, an exercise's answer): the system
    simulates and is checked exactly like the real one.
    """
    whole_number("acceptors", acceptors, 1, cap=MAX_NODES)
    whole_number("proposers", proposers, 1, cap=MAX_NODES)
    whole_number("learners", learners, 0, cap=MAX_NODES)
    q1, q2 = check_sizes(acceptors, q1, q2)
    if max_ballots is not None:
        whole_number("max_ballots", max_ballots, 1)
    scheme_ = scheme(ballots, proposers)
    finite_time("timeout", timeout)
    if backoff not in BACKOFFS:
        raise ValueError(f"unknown backoff {backoff!r}; allowed: {', '.join(BACKOFFS)}")
    finite_time("backoff_base", backoff_base)
    finite_time("backoff_cap", backoff_cap)
    a_ids = [f"a{i}" for i in range(1, acceptors + 1)]
    p_ids = [f"p{i}" for i in range(1, proposers + 1)]
    l_ids = [f"l{i}" for i in range(1, learners + 1)]
    if values is None:
        values = [f"v{i}" for i in range(1, proposers + 1)]
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"values must be a list of values, one per proposer ({proposers}), "
                         f"e.g. ['v1', 'v2'], got {values!r}")
    values = list(values)
    if len(values) != proposers:
        raise ValueError(f"values: give one value per proposer ({proposers}), got {values}")
    if leader is not None and leader not in p_ids:
        raise ValueError(f"leader must be None or one of the proposers {p_ids}, got {leader!r}")
    if start_after is None:
        start_after = [None] * proposers
    if isinstance(start_after, (str, bytes)) or not hasattr(start_after, "__iter__"):
        raise ValueError(f"start_after must be None or a list of delays (or None), one per "
                         f"proposer ({proposers}), got {start_after!r}")
    start_after = list(start_after)
    if len(start_after) != proposers:
        raise ValueError(f"start_after: give one delay (or None) per proposer ({proposers}), "
                         f"got {start_after}")
    for delay in start_after:
        if delay is not None:
            finite_time("start_after", delay, zero_ok=True)
    acc_cls = subclass_of("acceptor", acceptor, Acceptor)
    prop_cls = subclass_of("proposer", proposer, Proposer)
    learn_cls = subclass_of("learner", learner, Learner)
    return ([acc_cls(a, l_ids) for a in a_ids]
            + [prop_cls(p, i, v, a_ids, scheme_, q1, q2, max_ballots, timeout, backoff,
                        backoff_base, backoff_cap, active=leader in (None, p),
                        start_after=delay)
               for i, (p, v, delay) in enumerate(zip(p_ids, values, start_after))]
            + [learn_cls(name, q2) for name in l_ids])


# ---- what the checks and the chapters look at --------------------------------------------


def acceptor_states(s) -> list:
    """The acceptors in a checker state: the nodes that keep ``promised``."""
    return [n for n in s.nodes if hasattr(n, "promised")]


def phase2_quorum(s) -> int:
    """The phase-2 quorum size of the system in a checker state (from its proposers or
    learners; a majority of the acceptors if it has neither)."""
    for n in s.nodes:
        if hasattr(n, "q2"):
            return n.q2
    return len(acceptor_states(s)) // 2 + 1


# checker model -> (where its acceptors are, {their node-state numbers: values chosen})
_chosen_by_model: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def chosen(s) -> set:
    """Every value chosen at some point so far: accepted under one number by a phase-2
    quorum of acceptors (read from their ``votes``)."""
    model = getattr(s, "_model", None)
    if model is None:
        return _count_chosen(s)
    # A checker state: node states are numbers, and the answer depends on the acceptors'
    # alone, so it is counted once per combination of acceptor states.
    memo = _chosen_by_model.get(model)
    if memo is None:
        where = tuple(i for i, n in enumerate(s.nodes) if hasattr(n, "promised"))
        memo = _chosen_by_model[model] = (where, {})
    where, answers = memo
    key = tuple([s[0][i] for i in where])
    answer = answers.get(key)
    if answer is None:
        answer = answers[key] = frozenset(_count_chosen(s))
    return set(answer)


def _count_chosen(s) -> set:
    count = {}
    for a in acceptor_states(s):
        for vote in a.votes:
            count[vote] = count.get(vote, 0) + 1
    q2 = phase2_quorum(s)
    return {value for (ballot, value), k in count.items() if k >= q2}


@about_nodes
def agreement(s) -> bool:
    """Invariant: at most one value is chosen."""
    return len(chosen(s)) <= 1


@about_nodes
def validity(s) -> bool:
    """Invariant: a chosen value is one that some proposer proposed."""
    proposed = {n.value for n in s.nodes if hasattr(n, "tries")}
    return chosen(s) <= proposed


@about_nodes
def learners_learn_chosen(s) -> bool:
    """Invariant: a learner learns only a chosen value."""
    values = chosen(s)
    return all(n.learned is None or n.learned in values
               for n in s.nodes if hasattr(n, "learned"))


@about_nodes
def promise_kept(s) -> bool:
    """Invariant: an acceptor never accepts below its promise, and accepting n raises the
    promise to n, so its ``accepted`` number is never above its ``promised``."""
    return all(a.accepted is None or (a.promised is not None and a.accepted[0] <= a.promised)
               for a in acceptor_states(s))


@about_nodes
def value_chosen(s) -> bool:
    """Goal: some value is chosen."""
    return bool(chosen(s))


PAXOS_INVARIANTS = {"agreement": agreement, "validity": validity,
                    "learners learn the chosen value": learners_learn_chosen,
                    "accepted never above promised": promise_kept}


def promises_never_decrease(trace) -> bool:
    """In a trace recorded with states: no acceptor's ``promised`` ever goes down, crashes
    and restarts included."""
    last = {}
    for e in trace.events:
        st = e.state
        if st is None or "promised" not in st:
            continue
        before, now = last.get(e.node), st["promised"]
        if before is not None and (now is None or now < before):
            return False
        last[e.node] = now
    return True


def chosen_in_trace(trace) -> list:
    """The values chosen during a run, in the order they became chosen, from the acceptors'
    ``votes`` recorded in the trace's states (a phase-2 quorum is a majority here unless the
    learners or proposers say otherwise)."""
    votes, q2, out = {}, None, []
    for st in trace.initial.values():
        if "q2" in st:
            q2 = st["q2"]
    acceptors = [n for n, st in trace.initial.items() if "promised" in st]
    q2 = q2 or len(acceptors) // 2 + 1
    for e in trace.events:
        st = e.state
        if st is None or "votes" not in st:
            continue
        votes[e.node] = set(st["votes"])
        count = {}
        for vs in votes.values():
            for v in vs:
                count[v] = count.get(v, 0) + 1
        for (ballot, value), k in sorted(count.items(), key=repr):
            if k >= q2 and value not in out:
                out.append(value)
    return out


def check_paxos(proposers: int = 2, ballots: int = 1, crashes: int = 0, acceptors: int = 3,
                proposer=Proposer, acceptor=Acceptor, progress: bool = True, max_states=None,
                max_depth=None, reduce: bool = False, max_seconds=None):
    """The chapter's exhaustive check: agreement, validity and "accepted never above
    promised" in every reachable state, and whether a value can be chosen.

    ``acceptors`` acceptors, ``proposers`` proposers trying ``ballots`` numbers each, no
    learners (agreement is read from the acceptors' votes); the network loses, duplicates
    and reorders (a duplicating network holds a set of messages: any of them may arrive
    now, again later, or never, which is loss); ``crashes`` acceptor crashes, each followed
    by any number of steps and possibly a restart from disk.  The acceptors are
    interchangeable, so states that differ only by their names count once (symmetry).
    max_depth: check only the runs of up to that many steps (every one of them), for
    configurations too big to finish.  reduce: explore only the states no other state
    covers (``replib.covering``): the same verdict and shortest paths, far fewer states;
    it checks 2 proposers x 2 numbers with a crash completely (1.5 million states explored
    instead of tens of millions, in about two minutes on a laptop-class core).
    max_states, max_seconds: stop there (see ``replib.check.check``)."""
    from ..actions import Controls
    from ..check import check
    whole_number("crashes", crashes, 0)
    nodes = paxos_system(acceptors, proposers, 0, max_ballots=ballots, proposer=proposer,
                         acceptor=acceptor)
    ids = tuple(f"a{i}" for i in range(1, acceptors + 1))
    controls = Controls(duplicate=True, max_crashes=crashes, crashable=ids)
    return check(nodes, controls, invariants=PAXOS_INVARIANTS,
                 goals={"a value is chosen": value_chosen}, progress=progress,
                 max_states=max_states, max_depth=max_depth, max_seconds=max_seconds,
                 symmetric=ids if acceptors > 1 else None, reduce=reduce)
