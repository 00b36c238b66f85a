"""Two-phase commit (2PC), with an optional cooperative termination protocol.

The system: a coordinator ``"coord"`` and participants ``"p1"`` ... ``"pn"``.  The
coordinator runs transactions 1, 2, ... ``transactions`` one after another; each must
commit at every participant or abort at every participant (atomicity).

Phase 1 (voting):

 1. The coordinator sends ``Prepare(tx)`` to every participant and waits for the votes.
 2. A participant that can commit writes "prepared" to its disk, then votes
    ``Vote(tx, yes=True)``.  From then on it is **in doubt**: it promised to commit if
    told to, so it may neither commit nor abort on its own.  A participant that cannot
    commit (``vote="no"``) writes "aborted" and votes ``Vote(tx, yes=False)``.

Phase 2 (decision):

 3. With a yes from every participant the coordinator decides commit; with any no, or
    when ``timeout`` passes without all the votes (``VoteTimeout``), it decides abort.  It
    writes the decision to its disk *before* telling anyone, then sends ``Commit(tx)`` or
    ``Abort(tx)`` to every participant.
 4. A participant applies the decision, writes it to disk and answers ``Ack(tx)``.  The
    coordinator sends the decision again every ``timeout`` (``Resend``) to those that have
    not acknowledged; once all have, it forgets the transaction and begins the next.

Timeouts and crashes:

 5. A participant that has not voted may abort on its own (``PrepareTimeout``: no Prepare
    within ``timeout``); it then votes no when the Prepare comes.  After voting yes it must
    wait: in doubt, it holds its locks until it learns the decision.  (A participant knows
    of transaction 1 from the start: its share of the work is done and it waits for the
    Prepare.  It hears of later transactions with their Prepare, so it has nothing to give
    up on before then.)
 6. After a crash every node recovers from its disk only.  A participant that restarts in
    doubt stays in doubt.  A coordinator that restarts sends its logged decision again; if
    it logged none, no participant can have committed, so it decides abort ("presumed
    abort").  The coordinator's disk also holds the last transaction it began, so a
    restarted coordinator never reuses a number.

Cooperative termination (``termination=True``):

 7. A participant in doubt for ``timeout`` sends ``Ask(tx)`` to the coordinator and to the
    other participants, and asks again every ``timeout``.  A node that knows the decision
    answers ``Answer(tx, "commit" | "abort")``; a participant that has not voted yet aborts
    (it may: nobody can have committed without its yes) and answers "abort"; one that is in
    doubt itself answers "uncertain".  The asker applies the first decision it hears.
 8. If the coordinator is down and every participant is in doubt, nobody knows the
    decision: the coordinator may have committed (and crashed before telling anyone) or
    aborted.  Then even the cooperative protocol blocks until the coordinator comes back.

Every participant's disk is ``log``: tx -> "prepared", "committed" or "aborted"; the
coordinator's is ``decisions`` (tx -> "commit" or "abort") and ``started``.  The
coordinator records each transaction as an operation ("transaction", tx) that returns its
decision, so ``trace.history()`` gives each transaction's commit latency.

Messages per committed transaction with n participants: Prepare, Vote, Commit, Ack: n of
each, 4n.  The "3n" sometimes quoted leaves out the acks, but without them the coordinator
could never forget a decision (a participant might still need it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..check import about_nodes
from ..node import Node
from ..validate import MAX_NODES, MAX_OPS, boolean, finite_time, subclass_of, whole_number

VOTES = ("yes", "no")
OUTCOMES = ("commit", "abort")
COORDINATOR = "coord"

# ---- messages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepare:
    """Coordinator -> participant: can you commit transaction ``tx``?"""

    tx: int


@dataclass(frozen=True)
class Vote:
    """Participant -> coordinator: yes (prepared, on disk) or no (aborted)."""

    tx: int
    yes: bool


@dataclass(frozen=True)
class Commit:
    """Coordinator -> participant: the decision is commit."""

    tx: int


@dataclass(frozen=True)
class Abort:
    """Coordinator -> participant: the decision is abort."""

    tx: int


@dataclass(frozen=True)
class Ack:
    """Participant -> coordinator: I applied your decision for ``tx``."""

    tx: int


@dataclass(frozen=True)
class Ask:
    """Participant in doubt -> everyone (cooperative termination): what was decided?"""

    tx: int


@dataclass(frozen=True)
class Answer:
    """Reply to Ask: "commit", "abort", or "uncertain" (I am in doubt too)."""

    tx: int
    outcome: str


# ---- timers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoteTimeout:
    """At the coordinator: not every vote for ``tx`` came in time: abort."""

    tx: int


@dataclass(frozen=True)
class Resend:
    """At the coordinator: some participant has not acknowledged the decision on ``tx``."""

    tx: int


@dataclass(frozen=True)
class NextTransaction:
    """At the coordinator: begin the next transaction."""


@dataclass(frozen=True)
class PrepareTimeout:
    """At a participant: no Prepare for ``tx`` yet: abort it unilaterally (rule 5)."""

    tx: int


@dataclass(frozen=True)
class DecisionTimeout:
    """At a participant in doubt (cooperative termination): ask the others."""

    tx: int


# ---- the coordinator ---------------------------------------------------------------------


def _changed_entries(before, after) -> list:
    """The entries of a tx -> state table that a step changed, as badges ("commit", or
    "tx 2: commit" when there are several transactions)."""
    changed = [(tx, v) for tx, v in after.items() if before.get(tx) != v]
    many = len(after) > 1 or any(tx != 1 for tx, _ in changed)
    return [f"tx {tx}: {v}" if many else str(v) for tx, v in changed]


class Coordinator(Node):
    """Runs the transactions one at a time; the only node that decides (rules 1, 3, 4, 6)."""

    stable = ("decisions", "started")

    @classmethod
    def milestones(cls, node, before, after, system):
        """Badges for diagrams: the decision, when the coordinator takes it ("commit")."""
        return _changed_entries(before.get("decisions", {}), after.get("decisions", {}))

    def __init__(self, id: str, participants, transactions: int = 1, timeout: float = 5.0,
                 think: float = 0.0):
        super().__init__(id)
        self.decisions = {}     # tx -> "commit" / "abort", on disk before anyone hears it
        self.started = 0        # the last transaction begun, on disk
        self.votes = {}         # the current transaction: participant -> True (yes) / False
        self.acked = set()      # participants that acknowledged the current decision
        # configuration
        self.participants = tuple(participants)
        self.transactions = transactions
        self.timeout = timeout
        self.think = think

    def on_start(self):
        if self.transactions >= 1:
            self.begin(1)

    def begin(self, tx):
        self.started = tx                          # on disk: numbers are never reused
        self.votes, self.acked = {}, set()
        self.invoke(("transaction", tx))
        for p in self.participants:
            self.send(p, self.vote_request(tx))
        self.set_timer(VoteTimeout(tx), self.timeout)

    vote_request = Prepare      # what asks for the votes (3PC's CanCommit)

    def on_vote(self, msg, sender):
        tx = msg.tx
        if tx != self.started or tx in self.decisions:
            return                                 # late: the decision is made
        self.votes[sender] = msg.yes
        if not msg.yes:
            self.decide(tx, "abort")
        elif all(self.votes.get(p) for p in self.participants):
            self.all_voted_yes(tx)

    def all_voted_yes(self, tx):
        self.decide(tx, "commit")

    def on_vote_timeout(self, timer):
        if timer.tx == self.started and timer.tx not in self.decisions:
            self.decide(timer.tx, "abort")

    def decide(self, tx, outcome):
        self.decisions[tx] = outcome               # on disk first (rule 3)
        self.cancel_timer(VoteTimeout(tx))
        self.respond(("transaction", tx), outcome)
        self.tell(tx, self.participants)

    def decision_message(self, tx):
        return Commit(tx) if self.decisions[tx] == "commit" else Abort(tx)

    def tell(self, tx, participants):
        for p in participants:
            self.send(p, self.decision_message(tx))
        self.set_timer(Resend(tx), self.timeout)

    def on_ack(self, msg, sender):
        if msg.tx != self.started or msg.tx not in self.decisions:
            return
        self.acked.add(sender)
        if self.acked >= set(self.participants):
            self.cancel_timer(Resend(msg.tx))
            if self.started < self.transactions:
                self.set_timer(NextTransaction(), self.think)

    def on_resend(self, timer):
        if timer.tx == self.started and not self.acked >= set(self.participants):
            self.tell(timer.tx, [p for p in self.participants if p not in self.acked])

    def on_next_transaction(self, timer):
        if self.started in self.decisions and self.started < self.transactions:
            self.begin(self.started + 1)

    def on_ask(self, msg, sender):
        if msg.tx in self.decisions:
            self.send(sender, Answer(msg.tx, self.decisions[msg.tx]))

    def on_answer(self, msg, sender):
        """The coordinator asks nobody; an Answer can only be a stray copy."""

    def on_restart(self):
        tx = self.started
        if tx == 0:
            self.on_start()
        elif tx in self.decisions:
            self.tell(tx, self.participants)      # rule 6: send the logged decision again
        else:
            self.decide(tx, "abort")               # rule 6: presumed abort


# ---- the participants --------------------------------------------------------------------


class Participant(Node):
    """Votes, then applies the coordinator's decision (rules 2, 4, 5, 7)."""

    stable = ("log",)

    @classmethod
    def milestones(cls, node, before, after, system):
        """Badges for diagrams: the participant's log entry as it changes ("prepared",
        "committed", "aborted"; 3PC adds "precommitted")."""
        return _changed_entries(before.get("log", {}), after.get("log", {}))

    def __init__(self, id: str, coordinator: str, participants, vote: str = "yes",
                 transactions: int = 1, timeout: float = 5.0, termination: bool = False):
        super().__init__(id)
        self.log = {}           # tx -> "prepared" / "committed" / "aborted", on disk
        # configuration
        self.coordinator = coordinator
        self.participants = tuple(participants)
        self.vote = vote
        self.transactions = transactions
        self.timeout = timeout
        self.termination = termination

    undecided = ("prepared",)   # log entries that wait for the outcome (3PC has two)

    def in_doubt(self, tx) -> bool:
        return self.log.get(tx) in self.undecided

    def on_start(self):
        if self.transactions >= 1 and 1 not in self.log:
            self.set_timer(PrepareTimeout(1), self.timeout)   # rule 5

    def on_restart(self):
        self.on_start()
        for tx in sorted(self.log):                # still in doubt: wait (and ask) again
            if self.in_doubt(tx):
                self.wait_for_outcome(tx)

    def wait_for_outcome(self, tx):
        """After a yes vote: with cooperative termination, ask around after a while."""
        if self.termination:
            self.set_timer(DecisionTimeout(tx), self.timeout)

    def on_prepare(self, msg, sender):
        tx, state = msg.tx, self.log.get(msg.tx)
        if state is None:
            self.cancel_timer(PrepareTimeout(tx))
            if self.vote == "yes":
                self.log[tx] = "prepared"          # on disk before the vote leaves
                self.wait_for_outcome(tx)
            else:
                self.log[tx] = "aborted"
            state = self.log[tx]
        self.send(sender, Vote(tx, state != "aborted"))   # a repeated Prepare gets the same vote

    def on_commit(self, msg, sender):
        self.learn(msg.tx, "committed")
        if msg.tx in self.log:
            self.send(sender, Ack(msg.tx))

    def on_abort(self, msg, sender):
        self.learn(msg.tx, "aborted")
        self.send(sender, Ack(msg.tx))

    def learn(self, tx, final):
        """Apply a decision: only a transaction in doubt changes (a decision never changes;
        a Commit for a transaction this participant never voted on is ignored), but a
        participant that never voted may learn an abort."""
        state = self.log.get(tx)
        if state in self.undecided or (state is None and final == "aborted"):
            self.log[tx] = final
            self.cancel_timer(PrepareTimeout(tx))
            self.cancel_timer(self.doubt_timer(tx))

    doubt_timer = DecisionTimeout   # the timer a participant waiting for the outcome keeps

    def on_prepare_timeout(self, timer):
        if timer.tx not in self.log:
            self.log[timer.tx] = "aborted"         # rule 5: not voted yet, so it may

    def on_decision_timeout(self, timer):
        if self.termination and self.in_doubt(timer.tx):
            for other in (self.coordinator,) + self.participants:
                if other != self.id:
                    self.send(other, Ask(timer.tx))
            self.set_timer(DecisionTimeout(timer.tx), self.timeout)

    def on_ask(self, msg, sender):
        tx = msg.tx
        if tx not in self.log:
            self.log[tx] = "aborted"               # rule 7: not voted, so it may abort
            self.cancel_timer(PrepareTimeout(tx))
        outcome = {"prepared": "uncertain", "committed": "commit", "aborted": "abort"}
        self.send(sender, Answer(tx, outcome[self.log[tx]]))

    def on_answer(self, msg, sender):
        if msg.outcome in OUTCOMES:
            self.learn(msg.tx, "committed" if msg.outcome == "commit" else "aborted")


# ---- configuration -----------------------------------------------------------------------


def participant_ids(participants: int) -> list:
    """``["p1", ..., "pn"]``."""
    return [f"p{i}" for i in range(1, participants + 1)]


def check_votes(votes, ids) -> dict:
    """``votes``: None (all yes), a dict {participant: "yes" | "no"}, or a list of them."""
    if votes is None:
        return {p: "yes" for p in ids}
    if isinstance(votes, (list, tuple)):
        if len(votes) != len(ids):
            raise ValueError(f"votes: give one vote per participant ({len(ids)}), got {list(votes)}")
        votes = dict(zip(ids, votes))
    if not isinstance(votes, dict):
        raise ValueError(f"votes must be None, a list or a dict of 'yes'/'no', got {votes!r}")
    unknown = [p for p in votes if p not in ids]
    if unknown:
        raise ValueError(f"votes name unknown participant(s) {unknown}; participants are {ids}")
    bad = {p: v for p, v in votes.items() if not (isinstance(v, str) and v in VOTES)}
    if bad:
        raise ValueError(f"votes: a vote is 'yes' or 'no'; got {bad}")
    return {p: votes.get(p, "yes") for p in ids}


def twopc_system(participants: int = 2, votes=None, transactions: int = 1,
                 timeout: float = 5.0, think: float = 0.0, termination: bool = False,
                 coordinator=None, participant=None) -> list:
    """A coordinator and ``participants`` participants, as a list of nodes.

    votes: None (everyone votes yes), or per participant "yes"/"no" (a list in order, or a
    dict such as ``{"p2": "no"}``).  transactions: how many the coordinator runs in a row.
    timeout: the vote timeout, the resend period, a participant's wait for a Prepare and
    its asking period.  think: the coordinator's pause between transactions.
    termination: participants in doubt ask each other (cooperative termination).
    coordinator, participant: subclasses to use instead (a variant to study, an exercise).
    """
    whole_number("participants", participants, 1, cap=MAX_NODES)
    whole_number("transactions", transactions, 0, cap=MAX_OPS)
    finite_time("timeout", timeout)
    finite_time("think", think, zero_ok=True)
    boolean("termination", termination)
    ids = participant_ids(participants)
    votes = check_votes(votes, ids)
    coord_cls = subclass_of("coordinator", coordinator, Coordinator)
    part_cls = subclass_of("participant", participant, Participant)
    return [coord_cls(COORDINATOR, ids, transactions, timeout, think)] + [
        part_cls(p, COORDINATOR, ids, votes[p], transactions, timeout, termination) for p in ids]


# ---- what the checks and the chapter look at ---------------------------------------------
# These read checker states (replib.check.SystemState) and traces; they work for 3PC too,
# whose participants keep the same kind of log.

FINAL = ("committed", "aborted")
UNDECIDED = ("prepared", "voted", "precommitted")    # 2PC's in doubt; 3PC's two states before the outcome


def coordinator_state(s):
    """The coordinator's state in a checker state: the node that keeps ``decisions``."""
    return next(n for n in s.nodes if hasattr(n, "decisions"))


def participant_states(s) -> list:
    """The participants' states in a checker state: the nodes that keep a ``log``."""
    return [n for n in s.nodes if hasattr(n, "log") and not hasattr(n, "decisions")]


def _transactions(s):
    txs = set(coordinator_state(s).decisions)
    for p in participant_states(s):
        txs.update(p.log)
    return sorted(txs)


@about_nodes
def atomicity(s) -> bool:
    """Invariant: for every transaction, no node has committed while another aborted, and
    the coordinator decided commit only if every participant voted yes (none of them is
    without a vote or aborted)."""
    coord, parts = coordinator_state(s), participant_states(s)
    for tx in _transactions(s):
        states = {p.log.get(tx) for p in parts}
        decision = coord.decisions.get(tx)
        committed = "committed" in states or decision == "commit"
        aborted = "aborted" in states or decision == "abort"
        if committed and aborted:
            return False
        if decision == "commit" and (None in states or "aborted" in states):
            return False
    return True


def blocked(s) -> bool:
    """2PC's blocked state: the coordinator is down, some live participant is in doubt
    (prepared), and no live participant knows the decision."""
    coord = coordinator_state(s)
    if s.up(coord.id):
        return False
    live = [p for p in participant_states(s) if s.up(p.id)]
    for tx in _transactions(s):
        if any(p.log.get(tx) in UNDECIDED for p in live) and \
                not any(p.log.get(tx) in FINAL for p in live):
            return True
    return False


@about_nodes
def all_in_doubt(s) -> bool:
    """Every participant is in doubt about some transaction (prepared): nobody but the
    coordinator can know how it ended."""
    parts = participant_states(s)
    return any(all(p.log.get(tx) in UNDECIDED for p in parts) for tx in _transactions(s))


def everyone_decided(s) -> bool:
    """Every live participant knows how every transaction the coordinator began ended."""
    coord = coordinator_state(s)
    live = [p for p in participant_states(s) if s.up(p.id)]
    return all(p.log.get(tx) in FINAL for tx in range(1, coord.started + 1) for p in live)


def decisions_never_change(trace) -> bool:
    """In a trace recorded with states: once a node's entry for a transaction is final
    (a participant's "committed" / "aborted", the coordinator's "commit" / "abort"), it
    never changes and never disappears, crashes included."""
    final = {}      # (node, tx) -> the final entry seen
    for e in trace.events:
        st = e.state
        if st is None:
            continue
        entries = st.get("decisions", st.get("log"))
        if entries is None:
            continue
        for (node, tx), was in final.items():
            if node == e.node and entries.get(tx) != was:
                return False
        for tx, now in entries.items():
            if now in FINAL or now in OUTCOMES:
                final[(e.node, tx)] = now
    return True


def doubt_intervals(trace, tx: int = 1) -> dict:
    """How long each participant was in doubt about ``tx``: participant -> (from, until),
    until None when it was still in doubt at the end of the trace."""
    out = {}
    for e in trace.events:
        st = e.state
        if st is None or "log" not in st or "decisions" in st:
            continue
        state = st["log"].get(tx)
        if state in UNDECIDED and e.node not in out:
            out[e.node] = (e.time, None)
        elif state in FINAL and e.node in out and out[e.node][1] is None:
            out[e.node] = (out[e.node][0], e.time)
    return out


def final_outcomes(sim, tx: int = 1) -> dict:
    """Each participant's entry for ``tx`` at the end of a run ("in doubt", "committed",
    "aborted", or "no entry"), from the Simulation's nodes."""
    def name(state):
        return "in doubt" if state in UNDECIDED else state or "no entry"
    return {n.id: name(n.log.get(tx)) for n in sim.nodes.values()
            if hasattr(n, "log") and not hasattr(n, "decisions")}


# ---- a variant that breaks rule 3 (chapter 03 catches it) ----------------------------------


@dataclass(frozen=True)
class WriteLog:
    """At a coordinator that speaks first: time to write its decision to disk."""

    tx: int


class TellsBeforeLogging(Coordinator):
    """Rule 3 broken: sends its decision to the participants first and writes it to disk a
    moment later.  The write is a step of its own (a timer), as a program's disk write after
    its send is, so the checker, which crashes a node only between steps, can crash it in
    between; restarted with no decision on disk, it decides abort."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unlogged = {}      # tx -> the decision told, not yet on disk (lost in a crash)

    def on_vote(self, msg, sender):
        if msg.tx not in self.unlogged:
            super().on_vote(msg, sender)

    def decide(self, tx, outcome):
        self.unlogged[tx] = outcome                # in memory only, for now
        self.cancel_timer(VoteTimeout(tx))
        self.respond(("transaction", tx), outcome)
        message = Commit(tx) if outcome == "commit" else Abort(tx)
        for p in self.participants:
            self.send(p, message)
        self.set_timer(WriteLog(tx), 0.1)

    def on_write_log(self, timer):
        if timer.tx in self.unlogged:
            self.decisions[timer.tx] = self.unlogged.pop(timer.tx)
            self.set_timer(Resend(timer.tx), self.timeout)
