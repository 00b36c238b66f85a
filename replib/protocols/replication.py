"""Primary/backup replication by log shipping, with failover: naive, or epochs with fencing.

The system: clients, a primary and n backups (``"primary"``, ``"b1"``, ... ``"bn"``) that keep
one register.  A write ``("write", v)`` is appended to the primary's log and shipped to the
backups entry by entry; the register's value is the last write in log order and a read
``("read",)`` returns it (``None`` before any write).

Modes: when does the primary answer a write?

    async       apply, answer the client, then ship Update to every backup   n messages per write
    sync        apply, ship, answer once every backup sent Ack               2n messages per write
    semi-sync   apply, ship, answer once k of the n backups sent Ack         2n messages per write

Log shipping (every replica, every mode):

 1. Only the primary takes writes; a replica that is not primary ignores them (the client will
    try another replica).  The primary applies a request once: it remembers on its disk which
    (client, seq) it put at which log index.  It ships ``Update(epoch, index, op)`` to every
    backup and answers as the mode says.  A retried request is answered again if it is done,
    or shipped again to the backups that have not acknowledged it.
 2. Any replica answers a read from its own log: the primary's value is fresh, a backup's may
    be stale.
 3. A backup appends Update i only if i is the next index of its log; one it holds already is a
    duplicate.  A gap, or an Update from a primary it has not been synced with in that epoch,
    makes it answer ``Behind(epoch)``, and the primary sends ``Sync(epoch, log)``, its whole log.
    A backup takes a Sync's log if it was not yet synced in that epoch, or if the log is longer.
 4. In sync and semi-sync modes a backup acknowledges every Update and every Sync with
    ``Ack(epoch, index)``, "I hold your log up to index"; in async mode it never acknowledges.

Failover (``failover=None``: the primary never changes, and no heartbeats are sent):

 5. An idle primary sends ``Heartbeat(epoch, length)`` every ``heartbeat`` time units (shipping an
    Update puts the next heartbeat off).  Each Update, Heartbeat or Sync restarts a backup's
    PrimaryTimeout; a backup that is behind the heartbeat's length answers Behind (rule 3).
 6. naive: a backup whose PrimaryTimeout fires becomes primary at once and says so with a
    Heartbeat to the other replicas.  There are no epochs (every replica stays in epoch 1 and
    nobody looks at it), a backup follows whoever ships to it, and a primary ignores what
    other primaries send.  Nothing stops two primaries.
 7. epochs: a backup whose PrimaryTimeout fires stands for election: it writes epoch + 1 to
    disk, votes for itself and sends ``Elect(epoch)`` to the other replicas.  A candidate that
    times out tries again with the next epoch (up to ``max_epoch``, if one is set).
 8. A replica grants ``Elect(e)`` only if e is newer than its epoch: it stores e on disk before
    it answers (so it votes once per epoch, crashes included), stops being primary or
    candidate, and answers ``ElectOK(e, log_epoch, log)``.
 9. A candidate adopts the best log it is offered (the highest log_epoch, then the longest, as
    Viewstamped Replication does) and takes office once a majority of all replicas, itself
    included, voted for it.  It sends ``Sync(e, log)`` to the others, which starts its epoch.
10. Fencing: every message between replicas carries the sender's epoch.  A replica drops a
    message from an older epoch; a message from a newer one teaches it that epoch, and a
    primary or candidate steps down to backup.  A candidate that hears from the primary of
    its own epoch steps down too.
11. A restarted replica comes back as a backup (epochs), as it cannot know whether it was
    deposed; without epochs it comes back in its configured role.

Why epochs with a majority are safe: two primaries of one epoch would need two majorities of
votes for that epoch, and majorities intersect in a replica that votes once per epoch.  A
deposed primary may act on in its old epoch, but every replica that voted for the new one
drops its messages, so in sync mode it cannot get a write acknowledged.  The configured
primary holds epoch 1 without an election; elections start at epoch 2.

State: ``log``, ``epoch``, ``log_epoch`` (the epoch whose primary last wrote this log: VR's
"last normal view") and ``seen`` (which requests the primary applied) are on disk; ``role``,
what the primary knows of the backups (``match``), which clients wait (``waiting``) and the
votes a candidate collected are in memory and lost in a crash.

Clients (``ReplicationClient``): writes go to the replica the client believes is primary
(at first ``"primary"``; then the last one that answered a write); on a timeout the client
sends the request again to the next replica in turn.  Reads go with the writes, or to a
fixed replica (``read_from``, to show stale reads).

What this protocol does not do (the chapter's material): ``seen`` stays with the primary, so
a client's retry to a new primary can apply a write twice; writes answered in async and
semi-sync modes can be lost in a failover; a deposed primary answers reads from its old
state until it hears of the new epoch; and a replica cut off from the others keeps standing
for election with ever newer epochs, so when it comes back its Elect deposes a healthy
primary (safe but disruptive; Raft's "pre-vote" avoids it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clients import Client, Reply, Request, RequestTimeout
from ..history import is_prefix
from ..node import Node
from ..validate import MAX_NODES, MAX_OPS, finite_time, subclass_of, whole_number

MODES = ("async", "sync", "semi-sync")
FAILOVERS = (None, "naive", "epochs", "prevote")
READ_FROM = ("primary", "backup")

# ---- messages between replicas: each carries its sender's epoch --------------------------


@dataclass(frozen=True)
class Update:
    """Primary -> backup: log entry ``index`` (from 1) is ``op``."""

    epoch: int
    index: int
    op: object


@dataclass(frozen=True)
class Ack:
    """Backup -> primary: I hold your log up to ``index`` (sync and semi-sync modes)."""

    epoch: int
    index: int


@dataclass(frozen=True)
class Heartbeat:
    """Primary -> backup, when idle: I am alive, and my log has ``length`` entries."""

    periodic = True     # sent every heartbeat period (diagrams fold them into ticks)
    epoch: int
    length: int


@dataclass(frozen=True)
class Behind:
    """Backup -> primary: I cannot apply what you send; send me your whole log."""

    epoch: int


@dataclass(frozen=True)
class Sync:
    """Primary -> backup: my whole log (on taking office, and to a backup that is behind)."""

    epoch: int
    log: tuple


@dataclass(frozen=True)
class Elect:
    """Candidate -> replicas: make me primary of ``epoch``."""

    epoch: int


@dataclass(frozen=True)
class PreElect:
    """Would-be candidate -> replicas (``failover="prevote"``): would you vote for me in
    ``epoch``, given my log?  Asking changes nothing, on either side."""

    epoch: int
    log_epoch: int
    length: int


@dataclass(frozen=True)
class PreElectOK:
    """Replica -> would-be candidate: I have not heard from a primary for a while either,
    and your log is as good as mine: I would vote for you in ``epoch``."""

    epoch: int


@dataclass(frozen=True)
class ElectOK:
    """Replica -> candidate: my vote for ``epoch``, and my log with the epoch that wrote it."""

    epoch: int
    log_epoch: int
    log: tuple


# ---- timers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HeartbeatTimer:
    """At a primary: nothing shipped for a while; send heartbeats."""

    periodic = True


@dataclass(frozen=True)
class ShipTimer:
    """At an async primary with ``ship_every``: time to ship the writes applied since the
    last shipment (log shippers work in batches: that is the replication lag)."""


@dataclass(frozen=True)
class PrimaryTimeout:
    """At a backup or candidate: nothing heard from a primary for ``timeout``."""


# ---- the replica -----------------------------------------------------------------------


def register_value(log):
    """The register's value after the log: the last write's value, or None."""
    for op in reversed(log):
        if op[0] == "write":
            return op[1]
    return None


class Replica(Node):
    """A primary or a backup (any backup may become primary when failover is on)."""

    stable = ("epoch", "log", "log_epoch", "seen")

    def __init__(self, id: str, replicas, mode: str = "sync", k: int | None = None,
                 failover: str | None = None, heartbeat: float = 1.0, timeout: float = 4.0,
                 max_epoch: int | None = None, ship_every: float | None = None):
        super().__init__(id)
        replicas = tuple(replicas)
        if id not in replicas:
            raise ValueError(f"replica {id!r} is not in its own replica list {list(replicas)}")
        needed = check_config(len(replicas) - 1, mode, k, failover, heartbeat, timeout, max_epoch)
        self.role = "backup"    # "primary", "backup" or "candidate" (on_start sets it)
        self.epoch = 1          # the newest epoch this replica knows (and voted in)
        self.log = []           # the ops, in order
        self.log_epoch = 1      # the epoch whose primary last wrote this log
        self.seen = {}          # primary: (client, seq) -> log index, each request applied once
        self.match = {}         # primary: backup -> the index it acknowledged up to
        self.waiting = {}       # primary: log index -> (client, seq) still to be answered
        self.votes = set()      # candidate: who voted for it (itself included)
        self.prevotes = set()   # pre-vote: who said it would vote for this replica
        self.heard = False      # pre-vote: heard from a primary since my timeout last fired
        self.shipped = 0        # primary with ship_every: the log entries shipped so far
        # configuration, the same all run long
        self.replicas = replicas
        self.mode = mode
        self.needed = needed    # acks to wait for: 0 async, k semi-sync, n sync
        self.failover = failover
        self.heartbeat = heartbeat
        self.timeout = timeout
        self.max_epoch = max_epoch
        self.ship_every = ship_every
        if ship_every is not None and mode != "async":
            raise ValueError(f"ship_every (shipping in batches) is for mode 'async'; mode "
                             f"{mode!r} ships each write at once")

    @classmethod
    def milestones(cls, node, before, after, system):
        """Badges for diagrams: taking office ("primary e2") and stepping down ("backup e3")."""
        was, role, epoch = before.get("role"), after.get("role"), after.get("epoch")
        if role == was:
            return []
        if role == "primary":
            return [f"primary e{epoch}"]
        if was == "primary":
            return [f"{role} e{epoch}"]
        return []

    @property
    def backups(self) -> tuple:
        return tuple(r for r in self.replicas if r != self.id)

    @property
    def majority(self) -> int:
        return len(self.replicas) // 2 + 1

    @property
    def value(self):
        return register_value(self.log)

    # ---- start and restart ---------------------------------------------------------------
    def on_start(self):
        if self.id == self.replicas[0]:    # the configured primary holds epoch 1
            self.become_primary()
        else:
            self.become_backup()

    def on_restart(self):
        if self.failover in ("epochs", "prevote"):   # rule 11: it may have been deposed meanwhile
            self.become_backup()
        else:
            self.on_start()

    def become_primary(self):
        self.role = "primary"
        self.match, self.waiting, self.votes, self.prevotes = {}, {}, set(), set()
        if self.ship_every is not None:
            self.shipped = len(self.log)
        if self.failover:
            self.cancel_timer(PrimaryTimeout())
            self.set_timer(HeartbeatTimer(), self.heartbeat)

    def become_backup(self):
        self.role = "backup"
        self.seen, self.match, self.waiting, self.votes = {}, {}, {}, set()
        self.prevotes = set()
        if self.failover:
            self.cancel_timer(HeartbeatTimer())
            self.set_timer(PrimaryTimeout(), self.timeout)

    def stale(self, msg) -> bool:
        """Fencing: True drops ``msg`` as stale.  This replica fences nothing, so with
        ``failover="epochs"`` it is unsafe: chapter 02 asks you to write the rule.
        ``replication_system`` uses ``FencingReplica`` unless you pass your own class."""
        return False

    def fenced(self, msg) -> bool:
        """Rule 10, for what backups send a primary: True for a message from an older epoch.
        A newer epoch is learned (on disk) and this replica steps down.  Naive: never."""
        if self.failover not in ("epochs", "prevote") or msg.epoch == self.epoch:
            return False
        if self.stale(msg):
            return True
        self.epoch = max(self.epoch, msg.epoch)
        self.become_backup()
        return False

    def from_primary(self, msg) -> bool:
        """Update, Heartbeat, Sync come from a primary: follow it (True) and restart the
        failover timeout, unless its epoch is older (rule 10) or, naive, this replica is a
        primary itself (rule 6).  A newer epoch is learned; a primary or candidate steps down."""
        if self.failover in ("epochs", "prevote"):
            if self.stale(msg):
                return False
            self.epoch = msg.epoch
            if self.failover == "prevote":
                self.heard = True
            if self.role != "backup":
                self.become_backup()
                return True
        elif self.role == "primary":
            return False
        if self.failover:
            self.set_timer(PrimaryTimeout(), self.timeout)
        return True

    # ---- clients -------------------------------------------------------------------------
    def on_request(self, msg, sender):
        if msg.op[0] == "read":            # rule 2: from this replica's own log
            self.send(sender, Reply(msg.seq, self.value))
            return
        if self.role != "primary":
            return                         # rule 1: the client will try another replica
        request = (msg.client, msg.seq)
        index = self.seen.get(request)
        if index is None:                  # new: apply it once, at the end of the log
            self.log.append(msg.op)
            index = self.seen[request] = len(self.log)
            if self.needed == 0:           # async: answer first, ship after
                self.send(sender, Reply(msg.seq, "ok"))
            if self.ship_every is not None:   # in the next batch (the timer may be pending)
                if self.shipped == index - 1:
                    self.set_timer(ShipTimer(), self.ship_every)
                return
            self.ship(index, self.backups)
            if self.needed > 0:
                self.waiting[index] = request
            return
        if self.acks(index) >= self.needed:
            self.send(sender, Reply(msg.seq, "ok"))   # a retry of a finished write
            return
        self.waiting[index] = request      # a retry before enough acks: ship again
        self.ship(index, [b for b in self.backups if self.match.get(b, 0) < index])

    def ship(self, index, backups):
        for b in backups:
            self.send(b, Update(self.epoch, index, self.log[index - 1]))
        if self.failover and backups:
            self.set_timer(HeartbeatTimer(), self.heartbeat)   # not idle: no heartbeat yet

    def on_ship_timer(self, timer):
        if self.role != "primary":
            return                                         # stale: no longer primary
        for index in range(self.shipped + 1, len(self.log) + 1):
            self.ship(index, self.backups)
        self.shipped = len(self.log)

    def acks(self, index) -> int:
        return sum(1 for b in self.backups if self.match.get(b, 0) >= index)

    # ---- log shipping --------------------------------------------------------------------
    def on_update(self, msg, sender):
        if not self.from_primary(msg):
            return
        if self.log_epoch != msg.epoch or msg.index > len(self.log) + 1:
            self.send(sender, Behind(self.epoch))          # rule 3: not synced, or a gap
            return
        if msg.index == len(self.log) + 1:
            self.log.append(msg.op)
        if self.needed > 0:
            self.send(sender, Ack(self.epoch, msg.index))

    def on_ack(self, msg, sender):
        if self.fenced(msg) or self.role != "primary":
            return
        self.match[sender] = max(self.match.get(sender, 0), msg.index)
        for index in sorted(self.waiting):
            if self.acks(index) >= self.needed:
                client, seq = self.waiting.pop(index)
                self.send(client, Reply(seq, "ok"))

    def on_behind(self, msg, sender):
        if self.fenced(msg) or self.role != "primary":
            return
        self.send(sender, Sync(self.epoch, tuple(self.log)))

    def on_sync(self, msg, sender):
        if not self.from_primary(msg):
            return
        if self.log_epoch != msg.epoch or len(msg.log) > len(self.log):
            self.log = list(msg.log)
            self.log_epoch = msg.epoch
        if self.needed > 0:
            self.send(sender, Ack(self.epoch, len(self.log)))

    # ---- failure detection ---------------------------------------------------------------
    def on_heartbeat_timer(self, timer):
        if self.role != "primary":
            return                                         # stale: no longer primary
        self.send_heartbeats()
        self.set_timer(HeartbeatTimer(), self.heartbeat)

    def send_heartbeats(self):
        for b in self.backups:
            self.send(b, Heartbeat(self.epoch, len(self.log)))

    def on_heartbeat(self, msg, sender):
        if not self.from_primary(msg):
            return
        if self.log_epoch != msg.epoch or len(self.log) < msg.length:
            self.send(sender, Behind(self.epoch))

    def on_primary_timeout(self, timer):
        if self.role == "primary":
            return                                         # stale: this replica is primary
        if self.failover == "naive":
            self.become_primary()                          # rule 6
            self.send_heartbeats()                         # "I am the primary now"
            return
        if self.max_epoch is not None and self.epoch >= self.max_epoch:
            return                                         # the bound for the checker
        if self.failover == "prevote":                     # ask first; change nothing yet
            self.heard = False
            self.prevotes = {self.id}
            for r in self.backups:
                self.send(r, PreElect(self.epoch + 1, self.log_epoch, len(self.log)))
            self.set_timer(PrimaryTimeout(), self.timeout)
            return
        self.stand()

    def stand(self):
        """Rule 7: stand for the next epoch (on disk before the Elects leave)."""
        self.prevotes = set()
        self.epoch += 1                                    # rule 7, on disk
        self.role = "candidate"
        self.votes = {self.id}
        for r in self.backups:
            self.send(r, Elect(self.epoch))
        self.set_timer(PrimaryTimeout(), self.timeout)     # no majority by then: try again

    # ---- elections (failover="epochs" or "prevote") ----------------------------------------
    def on_pre_elect(self, msg, sender):
        """Pre-vote: say yes only if this replica too has not heard from a primary since its
        own timeout last fired, and the asker's log is as good as its own; change nothing."""
        if self.stale(msg) or msg.epoch <= self.epoch or self.role == "primary" or self.heard:
            return
        if (msg.log_epoch, msg.length) >= (self.log_epoch, len(self.log)):
            self.send(sender, PreElectOK(msg.epoch))

    def on_pre_elect_ok(self, msg, sender):
        if self.role != "backup" or msg.epoch != self.epoch + 1 or not self.prevotes:
            return                         # stale: not asking (any more) for that epoch
        self.prevotes.add(sender)
        if len(self.prevotes) >= self.majority:
            self.stand()

    def on_elect(self, msg, sender):
        if msg.epoch <= self.epoch:
            return                         # rule 8: an old epoch, or one I voted in already
        self.epoch = msg.epoch             # on disk before the vote leaves
        self.become_backup()
        self.send(sender, ElectOK(self.epoch, self.log_epoch, tuple(self.log)))

    def on_elect_ok(self, msg, sender):
        if self.role != "candidate" or msg.epoch != self.epoch:
            return                         # stale: an election this replica is no longer in
        self.votes.add(sender)
        if (msg.log_epoch, len(msg.log)) > (self.log_epoch, len(self.log)):
            self.log = list(msg.log)       # rule 9: the best log offered
            self.log_epoch = msg.log_epoch
        if len(self.votes) >= self.majority:
            self.log_epoch = self.epoch    # my epoch writes my log from now on
            self.become_primary()
            for b in self.backups:
                self.send(b, Sync(self.epoch, tuple(self.log)))


# ---- clients -----------------------------------------------------------------------------


class FencingReplica(Replica):
    """The replica the course runs: it drops every message from an older epoch than its
    own (fencing), so a deposed primary, or a voter of an old election, is ignored."""

    def stale(self, msg) -> bool:
        return msg.epoch < self.epoch


class ReplicationClient(Client):
    """A Client that knows every replica.

    Writes go to ``server``, the replica it believes is primary: at first the first replica,
    later the last one that answered a write.  Reads go there too, or always to ``read_from``
    if given (a backup, to show stale reads).  When a request times out, the client sends it
    again to the next replica in ``replicas``, in turn."""

    def __init__(self, id: str, replicas, ops, think: float = 0.0, timeout: float | None = None,
                 read_from: str | None = None):
        replicas = tuple(replicas)
        if not replicas:
            raise ValueError(f"client {id!r} needs at least one replica to talk to")
        if read_from is not None and read_from not in replicas:
            raise ValueError(f"client {id!r}: read_from must be one of {list(replicas)} or None, "
                             f"got {read_from!r}")
        super().__init__(id, replicas[0], ops, think=think, timeout=timeout)
        self.replicas = replicas
        self.read_from = read_from

    def target(self, op) -> str:
        if op[0] == "read" and self.read_from is not None:
            return self.read_from
        return self.server

    def issue(self):
        op = self.ops[self.seq]
        self.invoke(op)
        self.waiting = True
        self.send(self.target(op), Request(self.id, self.seq, op))
        if self.timeout is not None:
            self.set_timer(RequestTimeout(self.seq), self.timeout)

    def on_reply(self, msg, sender):
        if self.waiting and msg.seq == self.seq and self.ops[self.seq][0] == "write":
            self.server = sender           # it took a write: it is the primary
        super().on_reply(msg, sender)

    def on_request_timeout(self, timer):
        if not self.waiting or timer.seq != self.seq:
            return                         # stale: answered meanwhile
        self.server = self.replicas[(self.replicas.index(self.server) + 1) % len(self.replicas)]
        op = self.ops[self.seq]
        self.send(self.target(op), Request(self.id, self.seq, op))
        self.set_timer(RequestTimeout(self.seq), self.timeout)


# ---- configuration -----------------------------------------------------------------------


def check_config(backups, mode, k, failover, heartbeat, timeout, max_epoch) -> int:
    """Validate a replication configuration; return how many acks a write waits for."""
    whole_number("backups", backups, 1, cap=MAX_NODES)
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; allowed: 'async', 'sync', 'semi-sync' (with k)")
    if mode == "semi-sync":
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= backups:
            raise ValueError(f"semi-sync needs k, the acks to wait for, a whole number from 1 to "
                             f"the number of backups ({backups}); got k={k!r}")
    elif k is not None:
        raise ValueError(f"k is the number of acks semi-sync waits for; mode {mode!r} takes no k "
                         f"(got k={k!r}): use mode='semi-sync' or leave k=None")
    if failover not in FAILOVERS:
        raise ValueError(f"unknown failover {failover!r}; allowed: None (a fixed primary), "
                         f"'naive', 'epochs' or 'prevote' (epochs with a pre-vote)")
    finite_time("heartbeat", heartbeat)
    finite_time("timeout", timeout)
    if max_epoch is not None:
        whole_number("max_epoch", max_epoch, 1)
    return {"async": 0, "sync": backups, "semi-sync": k}[mode]


def replica_ids(backups: int) -> list:
    """``["primary", "b1", ..., "bn"]``."""
    return ["primary"] + [f"b{i}" for i in range(1, backups + 1)]


def replication_system(backups: int = 2, mode: str = "sync", k: int | None = None,
                       failover: str | None = None, clients: int = 1, writes: int = 3,
                       reads: int = 0, read_from: str = "primary", heartbeat: float = 1.0,
                       timeout: float = 4.0, client_timeout: float | None = None,
                       think: float = 0.5, max_epoch: int | None = None,
                       replica=None, ship_every: float | None = None) -> list:
    """Clients, a primary and ``backups`` backups, as a list of nodes for a Simulation or check.

    mode: "async", "sync" or "semi-sync" (then k, the acks to wait for, 1 <= k <= backups).
    failover: None (the primary never changes), "naive" or "epochs".
    clients: how many; one is called "client", several "c1", "c2", ...  Each writes
    1, 2, ... ``writes`` (several clients write "c1:1", ...), with a read after each of the
    first ``reads`` writes (reads beyond the writes come at the end).
    read_from: "primary" (reads go with the writes) or "backup" (client i reads from
    backup i, round the backups).  heartbeat, timeout: the primary's idle heartbeat period and
    a backup's failover timeout.  client_timeout: a client resends an unanswered request to
    the next replica after this long (None: it waits forever).  think: a client's pause
    between operations.  max_epoch: replicas stand for no epoch above this (a bound for the
    checker; None: no bound).  replica: a subclass of Replica to use instead of
    ``FencingReplica`` (a variant to study, or an exercise's answer; with epochs it fences
    only if its ``stale`` says so).  failover="prevote": epochs, but a replica asks a majority
    whether they would vote for it before it raises its epoch (so a replica that was cut off
    cannot depose a healthy primary when it comes back).  ship_every (async only): ship the
    log in batches every so long instead of each write at once (the replication lag).
    """
    check_config(backups, mode, k, failover, heartbeat, timeout, max_epoch)
    whole_number("clients", clients, 0, cap=MAX_NODES)
    whole_number("writes", writes, 0, cap=MAX_OPS)
    whole_number("reads", reads, 0, cap=MAX_OPS)
    if read_from not in READ_FROM:
        raise ValueError(f"read_from must be 'primary' or 'backup', got {read_from!r}")
    if client_timeout is not None:
        finite_time("client_timeout", client_timeout)
    finite_time("think", think, zero_ok=True)
    ids = replica_ids(backups)
    names = ["client"] if clients == 1 else [f"c{c}" for c in range(1, clients + 1)]
    users = []
    for c, name in enumerate(names):
        prefix = "" if clients == 1 else f"{name}:"
        ops = []
        for i in range(1, max(writes, reads) + 1):
            if i <= writes:
                ops.append(("write", f"{prefix}{i}" if prefix else i))
            if i <= reads:
                ops.append(("read",))
        users.append(ReplicationClient(
            name, ids, ops, think=think, timeout=client_timeout,
            read_from=None if read_from == "primary" else ids[1 + c % backups]))
    cls = FencingReplica if replica is None else subclass_of("replica", replica, Replica)
    if ship_every is not None:
        finite_time("ship_every", ship_every)
    return users + [cls(r, ids, mode, k, failover, heartbeat, timeout, max_epoch, ship_every)
                    for r in ids]


# ---- what the checks and the chapter look at ---------------------------------------------


def replica_states(s) -> list:
    """The replicas' states in a checker state (a SystemState): the nodes with a role,
    whatever their class is called (a reader's subclass of Replica counts too)."""
    return [n for n in s.nodes if hasattr(n, "role")]


def acting_primaries(s) -> list:
    """(id, epoch) of every replica that is up and acting as primary, in a checker state."""
    return [(n.id, n.epoch) for n in replica_states(s) if n.role == "primary" and s.up(n.id)]


def one_primary(s) -> bool:
    """Invariant: at most one replica acts as primary."""
    return len(acting_primaries(s)) <= 1


def one_primary_per_epoch(s) -> bool:
    """Invariant: no two replicas act as primary in the same epoch."""
    epochs = [e for _, e in acting_primaries(s)]
    return len(epochs) == len(set(epochs))


def logs_agree(s) -> bool:
    """Invariant: every two replicas' logs are prefixes of one another (no divergence)."""
    logs = [n.log for n in replica_states(s)]
    return not any(not (is_prefix(a, b) or is_prefix(b, a))
               for i, a in enumerate(logs) for b in logs[i + 1:])


def acknowledged_writes(s) -> set:
    """The values of the writes clients were told succeeded, in a checker state."""
    done = set()
    for n in s.nodes:
        if hasattr(n, "results"):
            for op, result in zip(n.ops, n.results):
                if op[0] == "write" and result == "ok":
                    done.add(op[1])
    return done


def held_by(log) -> set:
    """The values written in a log."""
    return {op[1] for op in log if op[0] == "write"}


def acknowledged_writes_on_backups(s) -> bool:
    """Invariant: every acknowledged write is in the log of every replica but the configured
    primary (what sync replication with a fixed primary promises)."""
    done = acknowledged_writes(s)
    return all(done <= held_by(n.log) for n in replica_states(s) if n.id != n.replicas[0])


def no_acknowledged_write_lost(s) -> bool:
    """Invariant: every acknowledged write is held by some replica that is up."""
    up = [n for n in replica_states(s) if s.up(n.id)]
    return all(any(v in held_by(n.log) for n in up) for v in acknowledged_writes(s))


def primaries_by_epoch(trace) -> dict:
    """From a trace: epoch -> the replicas that acted as primary in it at some step (read
    from the states the trace records, so the Simulation needs record_states=True)."""
    out = {}
    for e in trace.events:
        st = e.state
        if st is not None and "epoch" in st and st.get("role") == "primary":
            out.setdefault(st["epoch"], set()).add(e.node)
    return out
