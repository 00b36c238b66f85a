"""Multi-Paxos: a replicated log of client commands, one Paxos instance per slot.

The system: replicas ``"r1"`` ... ``"rn"`` and clients ``"c1"`` ...  Every replica is an
acceptor (it promises and accepts), a learner (it learns which command was chosen in each
slot) and a state machine (a key-value register it applies the log to, slot by slot).  One
of them at a time acts as the leader (the distinguished proposer).

Commands are ``(client, seq, op)`` with ``op`` = ``("write", key, value)`` (result ``"ok"``)
or ``("read", key)`` (result the value, None before any write); ``NOOP`` fills gaps.

Phase 1, once for all slots from ``first`` on (``Prepare(ballot, first)``):

 1a. A replica standing for leader picks a ballot above every one it has seen (Chubby's
     numbers, ``ballots.ModN``: replica i uses numbers = i mod n) and sends
     ``Prepare(ballot, first)`` to every replica, itself included; ``first`` is the first
     slot it has not applied.
 1b. An acceptor promises under the *same rule as single-decree Paxos* (``paxos.promise_ok``:
     ballot > promised), for every slot at once, stores ``promised`` on disk and answers
     ``Promise(ballot, accepted)`` with what it accepted in the slots >= first, as
     ``((slot, (ballot, command)), ...)``.  Otherwise it answers ``Reject(ballot, promised)``.
 2a. With promises from a majority the candidate is leader.  For every slot from ``first``
     to the highest slot any promise reports, it proposes ``paxos.value_to_propose`` of the
     reports (rule 2a, slot by slot): the command accepted under the highest ballot, or
     ``NOOP`` for a gap nobody reports.  New commands go to the slots after that.

Phase 2, per command (``Accept(ballot, slot, command)``):

 2a. The leader puts a client's command in its next free slot and sends
     ``Accept(ballot, slot, command)`` to every replica, itself included.
 2b. An acceptor accepts under the *same rule as single-decree Paxos* (``paxos.accept_ok``:
     ballot >= promised): ``promised = ballot``, ``accepted[slot] = (ballot, command)`` on
     disk, then ``Accepted(ballot, slot, command)`` to the leader; else ``Reject``.
  3. With ``Accepted`` from a majority the command is chosen in that slot: the leader learns
     it and sends ``Decided(slot, command)`` to the other replicas.  A replica applies the
     decided commands in slot order; the one that took the client's request answers it
     with the state machine's result (``Reply``).  Each client's last (seq, result) is part
     of the state machine, so a command chosen twice (a retried request) takes effect once
     and a retried request that is done is answered from that table.

A stable leader runs phase 1 once and then only phase 2: the messages per command with
n replicas (n Accept, n Accepted, n - 1 Decided, the request and the reply): 3n + 1.  With
``phase1_every_command=True`` the leader runs phase 1 again before every command, one
command at a time: 5n + 1 ("Paxos with a leader election per operation").  The classic
taxonomy counts 4n and 6n for the same two protocols (it leaves out or merges different
messages); ``message_cost`` measures what this code sends.

Leader election (rules 4-6):

 4. The first replica in ``leaders`` stands at time 0.  A leader that sent nothing for
    ``heartbeat`` sends its Accepts again to the replicas that have not accepted them, or,
    with nothing pending, ``Heartbeat(ballot, applied)`` to the others (None: never).
 5. Every other replica that may lead waits ``timeout * (1 + i / n)`` (i its index, so the
    lowest id goes first) after the last sign of the leader (a Prepare it promised, an
    Accept it accepted, a Heartbeat, a Decided); then it stands (1a).  A candidate without
    a majority by then stands again with a higher ballot.  ``max_ballots`` bounds how many
    ballots a replica tries (for the checker).
 6. A leader or candidate that promises or accepts a higher ballot, or is rejected with
    one, steps down and follows.  A restarted replica comes back as a follower.

Catching up: a follower whose log is shorter than a Heartbeat says asks the leader with
``Missing(first)`` and gets ``Decided`` for each slot from ``first``.

Disk: ``promised``, ``accepted``, ``votes`` (every (slot, ballot, command) ever accepted:
never read by the protocol, a record for the invariants, as in ``paxos.py``), ``seen`` and
``tries`` (ballots are never reused), ``decided``, ``log``, ``kv`` and ``sessions`` (the
state machine).  The leader's bookkeeping is volatile.

Safety holds whatever the network does and whoever crashes: in each slot at most one
command is chosen (single-decree Paxos, slot by slot), and the log replicas apply is made
of chosen commands.  Progress needs a majority up and connected and one leader left alone.

Invariants (functions of a checker state, or of anything with ``nodes``): ``slot_agreement``,
``one_command_per_slot``, ``decided_are_chosen``, ``acknowledged_survive``,
``replies_match_log``; ``MULTIPAXOS_INVARIANTS`` names them.  Run analyses:
``slot_disagreements``, ``lost_acknowledged``, ``linearizable_history``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clients import Client, NextOp, Reply, Request, RequestTimeout
from ..check import about_nodes
from ..node import Node
from ..validate import MAX_NODES, MAX_OPS, boolean, finite_time, subclass_of, whole_number
from .ballots import ModN
from .paxos import accept_ok, promise_ok, value_to_propose

NOOP = "noop"    # the command that fills a gap in the log

# ---- messages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepare:
    """Candidate -> replicas (1a): promise ``ballot`` for every slot >= ``first``."""

    ballot: object
    first: int


@dataclass(frozen=True)
class Promise:
    """Replica -> candidate (1b): promised; ``accepted`` is ((slot, (ballot, command)), ...)
    for the slots >= first in which I accepted something."""

    ballot: object
    accepted: tuple


@dataclass(frozen=True)
class Accept:
    """Leader -> replicas (2a): accept ``command`` in ``slot`` under ``ballot``."""

    ballot: object
    slot: int
    command: object


@dataclass(frozen=True)
class Accepted:
    """Replica -> leader (2b): I accepted ``command`` in ``slot`` under ``ballot``."""

    ballot: object
    slot: int
    command: object


@dataclass(frozen=True)
class Reject:
    """Replica -> candidate or leader: ``ballot`` is too low; I promised ``promised``."""

    ballot: object
    promised: object


@dataclass(frozen=True)
class Decided:
    """Leader -> replicas: ``command`` is chosen in ``slot``."""

    slot: int
    command: object


@dataclass(frozen=True)
class Heartbeat:
    """Idle leader -> replicas: I lead under ``ballot`` and applied ``applied`` slots."""

    periodic = True     # sent every heartbeat period (diagrams fold them into ticks)
    ballot: object
    applied: int


@dataclass(frozen=True)
class Missing:
    """Follower -> leader: send me the decided commands from slot ``first`` on."""

    first: int


# ---- timers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaderTimeout:
    """At a follower or candidate: nothing from a leader for a while; stand for leader."""


@dataclass(frozen=True)
class HeartbeatTimer:
    """At a leader: sent nothing for ``heartbeat``; send heartbeats."""

    periodic = True


# ---- the state machine -------------------------------------------------------------------


def execute(kv: dict, op):
    """Apply one operation to the key-value register ``kv``; return its result."""
    if op[0] == "write":
        kv[op[1]] = op[2]
        return "ok"
    return kv.get(op[1])


def check_op(op, where="op"):
    """An operation must be ("write", key, value) or ("read", key)."""
    if not (isinstance(op, tuple) and ((len(op) == 3 and op[0] == "write")
                                       or (len(op) == 2 and op[0] == "read"))):
        raise ValueError(f"{where}: an operation is ('write', key, value) or ('read', key); "
                         f"got {op!r}")
    try:
        hash(op)
    except TypeError:
        raise ValueError(f"{where}: keys and values must be hashable, got {op!r}") from None
    return op


# ---- the replica -------------------------------------------------------------------------


def _max(a, b):
    return b if a is None else a if b is None else max(a, b)


class Replica(Node):
    """Acceptor, learner, state machine, and leader when elected."""

    stable = ("promised", "accepted", "votes", "seen", "tries", "decided", "log", "kv",
              "sessions")

    @classmethod
    def milestones(cls, node, before, after, system):
        """Badges for diagrams: taking the lead ("leader b4"), and, on the leader, each slot
        it learns chosen ("slot 2 chosen", "slot 1: no-op" for a gap it filled)."""
        out = []
        if after.get("role") == "leader" and before.get("role") != "leader":
            out.append(f"leader b{after.get('ballot')}")
        if after.get("role") == "leader":           # slots chosen and applied, in order
            log, start = after.get("log", ()), len(before.get("log", ()))
            for slot in range(start + 1, len(log) + 1):
                out.append(f"slot {slot}: no-op" if log[slot - 1] == NOOP
                           else f"slot {slot} chosen")
        return out

    def __init__(self, id: str, replicas, index: int, timeout: float = 4.0,
                 heartbeat: float | None = 1.0, phase1_every_command: bool = False,
                 may_lead: bool = True, first_leader: bool = False,
                 max_ballots: int | None = None):
        super().__init__(id)
        # acceptor (on disk)
        self.promised = None     # the highest ballot promised, for every slot
        self.accepted = {}       # slot -> (ballot, command) last accepted there
        self.votes = set()       # every (slot, ballot, command) ever accepted: for checks only
        # proposer (on disk: ballots are never reused)
        self.seen = None         # the highest ballot used or heard of
        self.tries = 0           # ballots tried so far
        # learner and state machine (on disk)
        self.decided = {}        # slot -> command known chosen
        self.log = []            # the commands applied, slot 1 first
        self.kv = {}             # the key-value register
        self.sessions = {}       # client -> (seq, result) of its last command applied
        # volatile
        self.role = "follower"   # "follower", "candidate" or "leader"
        self.ballot = None       # my ballot as candidate or leader
        self.promises = {}       # candidate: replica -> what it reported accepted
        self.proposals = {}      # leader: slot -> command sent in Accept, not yet chosen
        self.acks = {}           # leader: slot -> replicas that accepted it
        self.next_slot = 1       # leader: the next free slot
        self.queue = []          # commands waiting for a phase 1 to finish
        self.waiting = set()     # (client, seq) this replica answers once applied
        # configuration
        self.replicas = tuple(replicas)
        self.index = index
        self.timeout = timeout
        self.heartbeat = heartbeat
        self.phase1_every_command = phase1_every_command
        self.may_lead = may_lead
        self.first_leader = first_leader
        self.max_ballots = max_ballots
        self.ballots = ModN(len(self.replicas))

    def obsolete(self, msg) -> bool:
        """Replies this replica ignores now and forever (for the checker): about a ballot
        it has left behind (its future ballots are above ``seen``), a Promise once it
        leads, an Accepted for a slot already chosen under its ballot, a Reject that
        teaches nothing."""
        if isinstance(msg, Reject):
            if msg.promised is None or msg.promised <= msg.ballot:
                return True
            return self.seen is not None and msg.promised <= self.seen and (
                msg.ballot != self.ballot or self.role == "follower")
        if isinstance(msg, (Promise, Accepted)):
            if msg.ballot != self.ballot:
                return self.seen is not None and msg.ballot <= self.seen
            if isinstance(msg, Promise):
                return self.role == "leader"
            return self.role == "leader" and msg.slot not in self.proposals and \
                msg.slot < self.next_slot
        return False

    @property
    def majority(self) -> int:
        return len(self.replicas) // 2 + 1

    @property
    def wait(self) -> float:
        """How long this replica waits for a leader: the lowest id goes first."""
        return self.timeout * (1 + self.index / len(self.replicas))

    # ---- start, restart, standing, stepping down --------------------------------------------
    def on_start(self):
        if self.first_leader:
            self.stand()
        else:
            self.follow()

    def on_restart(self):
        self.follow()                      # rule 6: it may have been deposed meanwhile

    def follow(self):
        """Be (or stay) a follower; wait for a leader (rule 5)."""
        if self.role != "follower":
            self.role = "follower"
            self.promises, self.proposals, self.acks, self.queue = {}, {}, {}, []
            self.cancel_timer(HeartbeatTimer())
        if self.may_lead and not self.exhausted():
            self.set_timer(LeaderTimeout(), self.wait)

    def exhausted(self) -> bool:
        return self.max_ballots is not None and self.tries >= self.max_ballots

    def stand(self):
        """Rule 1a: a ballot above any seen; Prepare for every slot not applied yet."""
        if self.exhausted():
            self.follow()
            return
        self.ballot = self.ballots.next(_max(self.seen, self.promised), self.index)
        self.seen = self.ballot
        self.tries += 1
        self.role = "candidate"
        self.promises, self.proposals, self.acks = {}, {}, {}
        self.send_prepares(len(self.log) + 1)
        self.cancel_timer(HeartbeatTimer())
        self.set_timer(LeaderTimeout(), self.wait)    # no majority by then: stand again

    def send_prepares(self, first):
        """Rule 1a's messages: Prepare(ballot, first) to every replica."""
        for r in self.replicas:
            self.send(r, Prepare(self.ballot, first))

    def heard_leader(self, ballot, sender):
        """A sign of life from the holder of ``ballot``: a leader or candidate that meets a
        higher ballot steps down (rule 6); a follower restarts its wait (rule 5)."""
        if sender == self.id:
            return
        if self.role != "follower" and self.ballot is not None and ballot is not None \
                and ballot <= self.ballot:
            return                         # an older leader: not one to follow
        self.follow()

    def on_leader_timeout(self, timer):
        if self.role == "leader":
            return                         # stale: this replica leads
        self.stand()

    # ---- acceptor: the rules of single-decree Paxos, slot by slot -------------------------
    def on_prepare(self, msg, sender):
        if promise_ok(msg.ballot, self.promised):            # rule 1b: ballot > promised
            self.promised = msg.ballot                        # on disk before the answer
            self.heard_leader(msg.ballot, sender)
            report = tuple((s, acc) for s, acc in sorted(self.accepted.items())
                           if s >= msg.first)
            self.send(sender, Promise(msg.ballot, report))
        else:
            self.send(sender, Reject(msg.ballot, self.promised))

    def on_accept(self, msg, sender):
        if accept_ok(msg.ballot, self.promised):             # rule 2b: ballot >= promised
            self.promised = msg.ballot
            self.accepted[msg.slot] = (msg.ballot, msg.command)
            self.votes.add((msg.slot, msg.ballot, msg.command))
            self.heard_leader(msg.ballot, sender)
            self.send(sender, Accepted(msg.ballot, msg.slot, msg.command))
        else:
            self.send(sender, Reject(msg.ballot, self.promised))

    # ---- candidate ---------------------------------------------------------------------------
    def on_promise(self, msg, sender):
        if self.role != "candidate" or msg.ballot != self.ballot:
            return                                            # stale
        self.promises[sender] = msg.accepted
        if len(self.promises) >= self.majority:
            self.lead()

    def lead(self):
        """Rule 2a for every open slot: recover what was accepted, fill gaps with NOOP."""
        reports = {}
        for accepted in self.promises.values():
            for slot, acc in accepted:
                reports.setdefault(slot, []).append(acc)
        self.promises = {}
        self.role = "leader"
        self.cancel_timer(LeaderTimeout())
        first = len(self.log) + 1
        top = max(reports, default=first - 1)
        self.next_slot = max(top, first - 1) + 1
        recovered = set()
        for slot in range(first, top + 1):
            command = value_to_propose(reports.get(slot, ()), NOOP)
            recovered.add(command)
            self.propose(slot, command)
        queue, self.queue = self.queue, []
        for command in queue:
            if command in recovered or self.done(command):
                continue
            if self.phase1_every_command and self.proposals:
                self.queue.append(command)    # one command per phase 1
            else:
                self.propose(self.next_slot, command)
                self.next_slot += 1
        if not self.proposals and self.queue:
            self.stand()
        if self.heartbeat is not None:
            self.set_timer(HeartbeatTimer(), self.heartbeat)

    # ---- leader ------------------------------------------------------------------------------
    def propose(self, slot, command, to=None):
        """Rule 2a: Accept(ballot, slot, command) to every replica (or to ``to``)."""
        self.proposals[slot] = command
        self.acks.setdefault(slot, set())
        for r in self.replicas if to is None else to:
            self.send(r, Accept(self.ballot, slot, command))
        if self.heartbeat is not None:
            self.set_timer(HeartbeatTimer(), self.heartbeat)  # not idle: no heartbeat yet

    def done(self, command) -> bool:
        client, seq, _ = command
        last = self.sessions.get(client)
        return last is not None and last[0] >= seq

    def on_request(self, msg, sender):
        command = (msg.client, msg.seq, msg.op)
        last = self.sessions.get(msg.client)
        if last is not None and last[0] >= msg.seq:
            if last[0] == msg.seq:                            # done: answer again
                self.send(msg.client, Reply(msg.seq, last[1]))
            return
        if self.role == "follower":
            return                         # the client will try another replica
        self.waiting.add((msg.client, msg.seq))
        for slot, proposed in self.proposals.items():
            if proposed == command:        # a retry: send again to who has not accepted
                self.propose(slot, command,
                             [r for r in self.replicas if r not in self.acks[slot]])
                return
        if command in self.queue:
            return
        if self.role == "candidate" or (self.phase1_every_command and self.proposals):
            self.queue.append(command)
        elif self.phase1_every_command:
            self.queue.append(command)
            self.stand()                   # a phase 1 before every command
        else:
            self.propose(self.next_slot, command)
            self.next_slot += 1

    def on_accepted(self, msg, sender):
        if self.role != "leader" or msg.ballot != self.ballot or \
                self.proposals.get(msg.slot) != msg.command:
            return                                            # stale, or decided already
        self.acks[msg.slot].add(sender)
        if len(self.acks[msg.slot]) >= self.majority:         # chosen
            del self.proposals[msg.slot], self.acks[msg.slot]
            self.announce(msg.slot, msg.command)
            self.learn(msg.slot, msg.command)
            if self.phase1_every_command and not self.proposals and self.queue:
                self.stand()

    def announce(self, slot, command):
        """Rule 3: tell the other replicas that ``command`` is chosen in ``slot``."""
        for r in self.replicas:
            if r != self.id:
                self.send(r, Decided(slot, command))

    def on_reject(self, msg, sender):
        if msg.promised is None or msg.promised <= msg.ballot:
            return                         # my own number again (a duplicated message)
        self.seen = _max(self.seen, msg.promised)
        if msg.ballot == self.ballot and self.role != "follower":
            self.follow()                  # rule 6: beaten

    def on_heartbeat_timer(self, timer):
        if self.role != "leader":
            return                                            # stale
        if self.proposals:                 # not chosen yet: send Accept again to the others
            for slot, command in sorted(self.proposals.items()):
                self.propose(slot, command,
                             [r for r in self.replicas if r not in self.acks[slot]])
            return
        for r in self.replicas:
            if r != self.id:
                self.send(r, Heartbeat(self.ballot, len(self.log)))
        self.set_timer(HeartbeatTimer(), self.heartbeat)

    def on_heartbeat(self, msg, sender):
        if self.promised is not None and msg.ballot < self.promised:
            return                         # a deposed leader
        self.heard_leader(msg.ballot, sender)
        if len(self.log) < msg.applied:
            self.send(sender, Missing(len(self.log) + 1))

    def on_missing(self, msg, sender):
        for slot in range(msg.first, len(self.log) + 1):
            self.send(sender, Decided(slot, self.log[slot - 1]))

    # ---- learner and state machine -------------------------------------------------------
    def on_decided(self, msg, sender):
        if self.role == "follower":
            self.follow()                  # a sign of life (restarts the wait)
        self.learn(msg.slot, msg.command)

    def learn(self, slot, command):
        """``command`` is chosen in ``slot``: apply every slot that can be, in order."""
        if slot in self.decided or slot <= len(self.log):
            return
        self.decided[slot] = command
        while len(self.log) + 1 in self.decided:              # apply in slot order
            self.apply(self.decided.pop(len(self.log) + 1))

    def apply(self, command):
        self.log.append(command)
        if command == NOOP or self.done(command):
            return                         # a gap, or a command chosen twice: no effect
        client, seq, op = command
        result = execute(self.kv, op)
        self.sessions[client] = (seq, result)
        if (client, seq) in self.waiting:
            self.waiting.discard((client, seq))
            self.send(client, Reply(seq, result))


# ---- two variants: decisions piggybacked on the next Accept, and reads without the log ------


@dataclass(frozen=True)
class AcceptDecided:
    """Leader -> replicas: ``Accept(ballot, slot, command)`` that also carries the slots
    chosen since the leader's last Accept, ``decided`` = ((slot, command), ...)."""

    ballot: object
    slot: int
    command: object
    decided: tuple


class PiggybackReplica(Replica):
    """Multi-Paxos as real systems run it: the leader sends no Decided of its own; the
    decisions ride on its next Accept (``AcceptDecided``), which saves n - 1 messages per
    command.  The price: a follower learns a command one command later.  An idle leader's
    Heartbeat says how many slots it applied, and a follower that is behind asks for the
    rest (``Missing``), so the last decisions arrive too, with the next heartbeat."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.untold = []         # leader (volatile): (slot, command) chosen, not yet told

    def follow(self):
        self.untold = []
        super().follow()

    def announce(self, slot, command):
        self.untold.append((slot, command))                  # rule 3, deferred

    def propose(self, slot, command, to=None):
        self.proposals[slot] = command
        self.acks.setdefault(slot, set())
        decided = tuple(self.untold)
        if to is None:
            self.untold = []
        for r in self.replicas if to is None else to:
            self.send(r, AcceptDecided(self.ballot, slot, command, decided))
        if self.heartbeat is not None:
            self.set_timer(HeartbeatTimer(), self.heartbeat)

    def on_accept_decided(self, msg, sender):
        for slot, command in msg.decided:
            self.learn(slot, command)
        self.on_accept(msg, sender)


class LocalReads(Replica):
    """A leader that answers reads from its own register at once, without putting them in
    the log: one round trip saved per read, and wrong after a partition.  A leader cut off
    from the others still believes it leads, while the majority elects another one and
    takes new writes: its reads are stale (not linearizable).  Reads through the log, as
    ``Replica`` does them, need a majority and cannot be stale; leases (chapter 09) make
    local reads safe with bounded clocks."""

    def on_request(self, msg, sender):
        if msg.op[0] == "read" and self.role == "leader":
            self.send(msg.client, Reply(msg.seq, self.kv.get(msg.op[1])))
            return
        super().on_request(msg, sender)


# ---- clients -----------------------------------------------------------------------------


class MultiPaxosClient(Client):
    """Sends each operation to the replica it believes leads (at first the first leader,
    then the last one that answered); on a timeout, to the next replica in turn, at most
    ``max_retries`` times per operation (None: no bound; a bound for the checker)."""

    def __init__(self, id: str, replicas, ops, think: float = 0.0, timeout: float | None = None,
                 max_retries: int | None = None, start: float = 0.0, server=None):
        replicas = tuple(replicas)
        super().__init__(id, server or replicas[0], ops, think=think, timeout=timeout)
        self.replicas = replicas
        self.max_retries = max_retries
        self.start = start
        self.retries = 0

    def on_start(self):
        if self.ops:
            self.set_timer(NextOp(), self.start)

    def issue(self):
        self.retries = 0
        op = self.ops[self.seq]
        self.invoke(op)
        self.waiting = True
        self.send(self.server, Request(self.id, self.seq, op))
        if self.timeout is not None:
            self.set_timer(RequestTimeout(self.seq), self.timeout)

    def on_reply(self, msg, sender):
        if self.waiting and msg.seq == self.seq:
            self.server = sender           # it answered: it leads (or knew the answer)
        super().on_reply(msg, sender)

    def on_request_timeout(self, timer):
        if not self.waiting or timer.seq != self.seq:
            return                         # stale: answered meanwhile
        if self.max_retries is not None and self.retries >= self.max_retries:
            return
        self.retries += 1
        self.server = self.replicas[(self.replicas.index(self.server) + 1) % len(self.replicas)]
        self.send(self.server, Request(self.id, self.seq, self.ops[self.seq]))
        self.set_timer(RequestTimeout(self.seq), self.timeout)


# ---- building a system -------------------------------------------------------------------


def default_ops(count: int, client: str | None = None, key="x") -> list:
    """``count`` operations alternating write and read on ``key``: write 1, read, write 2, ...
    (several clients write "c1:1", ... so every write has its own value)."""
    ops = []
    for i in range(count):
        if i % 2 == 0:
            n = i // 2 + 1
            ops.append(("write", key, f"{client}:{n}" if client else n))
        else:
            ops.append(("read", key))
    return ops


def client_ops(ops, c_ids) -> list:
    """One list of operations per client from ``ops``: a whole number (``default_ops``), a
    list of operations (every client issues them) or one such list per client; checked."""
    if isinstance(ops, bool):
        raise ValueError(f"ops must be a whole number or a list of operations, got {ops!r}")
    if isinstance(ops, int):
        whole_number("ops", ops, 0, cap=MAX_OPS)
        return [default_ops(ops, c if len(c_ids) > 1 else None) for c in c_ids]
    if isinstance(ops, (str, bytes)) or not hasattr(ops, "__iter__"):
        raise ValueError(f"ops must be a whole number or a list of operations, got {ops!r}")
    ops = list(ops)
    if ops and all(isinstance(o, list) for o in ops):
        if len(ops) != len(c_ids):
            raise ValueError(f"ops: give one list of operations per client ({len(c_ids)}), "
                             f"got {len(ops)}")
        per_client = [list(o) for o in ops]
    else:
        per_client = [ops] * len(c_ids)
    for c, lst in zip(c_ids, per_client):
        for op in lst:
            check_op(op, f"ops of {c}")
    return per_client


def multipaxos_system(replicas: int = 3, clients: int = 1, ops=2, timeout: float = 4.0,
                      heartbeat: float | None = 1.0, phase1_every_command: bool = False,
                      client_timeout: float | None = 8.0, think: float = 0.0,
                      client_start: float = 0.0, leaders=None, max_ballots: int | None = None,
                      max_retries: int | None = None, replica=None) -> list:
    """Replicas "r1"... then clients "c1"..., as a list of nodes for a Simulation or check.

    ops: a whole number (each client alternates writes of its own values and reads of key
    "x", that many operations), a list of operations (every client issues them), or a list
    of such lists (one per client).  An operation is ("write", key, value) or ("read", key).
    timeout: how long a replica waits for a leader before standing (scaled by its index,
    rule 5).  heartbeat: an idle leader's heartbeat period (None: no heartbeats, for the
    checker).  phase1_every_command: run phase 1 before every command.  client_timeout: a
    client resends an unanswered request to the next replica after this long (None: never).
    think: a client's pause between operations; client_start: before its first.  leaders:
    the replicas that may lead (default all); the first stands at time 0.  max_ballots: how
    many ballots a replica tries (None: no bound).  max_retries: how often a client resends
    one request (None: no bound).  max_ballots and max_retries bound the checker's search.
    replica: a subclass of Replica to use instead.
    """
    whole_number("replicas", replicas, 1, cap=MAX_NODES)
    whole_number("clients", clients, 0, cap=MAX_NODES)
    finite_time("timeout", timeout)
    if heartbeat is not None:
        finite_time("heartbeat", heartbeat)
    boolean("phase1_every_command", phase1_every_command)
    if client_timeout is not None:
        finite_time("client_timeout", client_timeout)
    finite_time("think", think, zero_ok=True)
    finite_time("client_start", client_start, zero_ok=True)
    if max_ballots is not None:
        whole_number("max_ballots", max_ballots, 1)
    if max_retries is not None:
        whole_number("max_retries", max_retries, 0)
    r_ids = [f"r{i}" for i in range(1, replicas + 1)]
    c_ids = [f"c{i}" for i in range(1, clients + 1)]
    if leaders is None:
        leaders = r_ids
    if isinstance(leaders, str) or not hasattr(leaders, "__iter__"):
        raise ValueError(f"leaders must be a list of replica ids, got {leaders!r}")
    leaders = list(leaders)
    if not leaders or any(r not in r_ids for r in leaders) or len(set(leaders)) != len(leaders):
        raise ValueError(f"leaders must be distinct replicas among {r_ids}, at least one; "
                         f"got {leaders!r}")
    per_client = client_ops(ops, c_ids)
    cls = subclass_of("replica", replica, Replica)
    nodes = [cls(r, r_ids, i, timeout, heartbeat, phase1_every_command, r in leaders,
                 r == leaders[0], max_ballots) for i, r in enumerate(r_ids)]
    nodes += [MultiPaxosClient(c, r_ids, lst, think=think, timeout=client_timeout,
                               max_retries=max_retries, start=client_start, server=leaders[0])
              for c, lst in zip(c_ids, per_client)]
    return nodes


# ---- what the checks and the chapter look at ---------------------------------------------


def _nodes(s) -> list:
    """The nodes of a checker state, a Simulation (its ``nodes`` dict) or a list of nodes."""
    nodes = getattr(s, "nodes", s)
    if isinstance(nodes, dict):
        nodes = nodes.values()
    return list(nodes)


def _is_client(n) -> bool:
    return hasattr(n, "results") and hasattr(n, "ops")


def replica_states(s) -> list:
    """The replicas: the nodes that keep a ``log`` and ``promised``."""
    return [n for n in _nodes(s) if hasattr(n, "promised") and hasattr(n, "log")]


def chosen(s) -> dict:
    """slot -> the commands chosen there at some point: accepted under one ballot by a
    majority of replicas (read from their ``votes``, which are on disk)."""
    reps = replica_states(s)
    count = {}
    for r in reps:
        for vote in r.votes:
            count[vote] = count.get(vote, 0) + 1
    majority = len(reps) // 2 + 1
    out = {}
    for (slot, ballot, command), k in count.items():
        if k >= majority:
            out.setdefault(slot, set()).add(command)
    return out


@about_nodes
def one_command_per_slot(s) -> bool:
    """Invariant: in every slot at most one command is chosen (Paxos agreement, per slot)."""
    return all(len(cmds) == 1 for cmds in chosen(s).values())


@about_nodes
def slot_agreement(s) -> bool:
    """Invariant: no two replicas applied (or learned) different commands in one slot."""
    seen = {}
    for r in replica_states(s):
        for slot, command in list(enumerate(r.log, 1)) + list(r.decided.items()):
            if seen.setdefault(slot, command) != command:
                return False
    return True


@about_nodes
def decided_are_chosen(s) -> bool:
    """Invariant: a replica learns and applies only chosen commands."""
    ch = chosen(s)
    return all(command in ch.get(slot, ())
               for r in replica_states(s)
               for slot, command in list(enumerate(r.log, 1)) + list(r.decided.items()))


def acknowledged_commands(s) -> list:
    """(client, seq, op) of every operation a client got an answer to."""
    out = []
    for n in _nodes(s):
        if _is_client(n):
            out += [(n.id, seq, n.ops[seq]) for seq in range(len(n.results))]
    return out


@about_nodes
def acknowledged_survive(s) -> bool:
    """Invariant: every acknowledged command is chosen, i.e. accepted by a majority and on
    their disks, so it survives the loss of any minority."""
    ch = set().union(*chosen(s).values()) if replica_states(s) else set()
    return all(command in ch for command in acknowledged_commands(s))


@about_nodes
def replies_match_log(s) -> bool:
    """Invariant: every answer a client got is the result its command has in the log
    (replayed on a fresh register, each command taking effect once)."""
    longest = max((r.log for r in replica_states(s)), key=len, default=[])
    kv, results = {}, {}
    for command in longest:
        if command == NOOP or (command[0], command[1]) in results:
            continue
        results[(command[0], command[1])] = execute(kv, command[2])
    for n in _nodes(s):
        if _is_client(n):
            for seq, result in enumerate(n.results):
                if (n.id, seq) in results and results[(n.id, seq)] != result:
                    return False
    return True


MULTIPAXOS_INVARIANTS = {"one command per slot": one_command_per_slot,
                         "slot agreement": slot_agreement,
                         "replicas apply chosen commands": decided_are_chosen,
                         "acknowledged commands survive": acknowledged_survive,
                         "replies match the log": replies_match_log}


@about_nodes
def all_answered(s) -> bool:
    """Goal: every client got every answer."""
    return all(len(n.results) == len(n.ops) for n in _nodes(s) if _is_client(n))


# ---- analyses of runs --------------------------------------------------------------------


def slot_disagreements(s) -> list:
    """(slot, {replica: command}) for every slot where replicas applied different commands
    (from the replicas' final states: logs only grow, so the end shows everything)."""
    by_slot = {}
    for r in replica_states(s):
        for slot, command in enumerate(r.log, 1):
            by_slot.setdefault(slot, {})[r.id] = command
    return [(slot, who) for slot, who in sorted(by_slot.items())
            if len(set(who.values())) > 1]


def lost_acknowledged(trace, s) -> list:
    """The acknowledged writes of ``trace.history()`` that are not chosen in the final
    state ``s`` (a Simulation or its nodes): lost, or at the mercy of a minority."""
    ch = set().union(*chosen(s).values()) if chosen(s) else set()
    held = {(c[0], c[2]) for c in ch if c != NOOP}
    return [op for op in trace.history()
            if op.op[0] == "write" and op.result == "ok" and (op.client, op.op) not in held]


def linearizable_history(trace):
    """The linearizability verdict (``history.linearizable_kv``) on the run's client history."""
    from ..history import linearizable_kv
    return linearizable_kv(trace.history())


OPERATION_MESSAGES = ("Request", "Prepare", "Promise", "Accept", "Accepted", "Decided",
                      "Reply", "Reject")


def message_cost(replicas: int = 3, ops: int = 10, phase1_every_command: bool = False,
                 seed: int = 0, replica=None) -> dict:
    """What ``ops`` operations of one client cost in messages, with no faults.

    The first leader is elected before the client starts (``client_start``), so its phase 1
    is counted apart ("election"); heartbeats (failure detection, which costs time rather
    than operations) are switched off.  Returns {"election": messages of the first phase 1,
    "by_type": {type: count} during the operations, "total": their sum, "per_op": total /
    ops, "per_op_by_type": {type: count / ops}, "between_replicas_per_op": the messages from
    one replica to another, per operation (no client's, none a replica sends itself)}.
    replica: a subclass of Replica to measure instead (e.g. ``PiggybackReplica``)."""
    from ..network import Network
    from ..sim import Simulation
    whole_number("ops", ops, 1)
    nodes = multipaxos_system(replicas, 1, ops, heartbeat=None, client_start=5.0,
                              timeout=1000.0, phase1_every_command=phase1_every_command,
                              replica=replica)
    sim = Simulation(nodes, network=Network(), seed=seed, record_states=False)
    sim.run(until=lambda sim: all_answered(sim))
    election, during = {}, {}
    started, between = False, 0
    for e in sim.trace.events:
        if e.kind == "invoke":
            started = True
        if e.kind == "send":
            d = during if started else election
            d[e.msg_type] = d.get(e.msg_type, 0) + 1
            between += started and e.node != e.peer and not _is_client(sim.nodes[e.node]) \
                and not _is_client(sim.nodes[e.peer])
    total = sum(during.values())
    return {"election": sum(election.values()), "by_type": during, "total": total,
            "per_op": total / ops, "per_op_by_type": {t: k / ops for t, k in during.items()},
            "between_replicas_per_op": between / ops}
