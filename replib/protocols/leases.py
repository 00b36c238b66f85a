"""Reads on a Multi-Paxos leader without a slot each: a read-index round, or a lease.

Chapter 08's ``Replica`` puts every read in the log: linearizable, but a read costs a slot
(n Accept, n Accepted, n - 1 Decided).  ``LocalReads`` answers from the leader's register
at once, and a leader that was deposed behind a partition answers stale values.  Two ways
to answer without a slot and stay linearizable:

**Read index** (``ReadIndexReplica``; Raft's thesis, section 6.4).  No clocks.

 R1. The leader takes a read, notes the last slot it has proposed (the read index) and sends
     ``Confirm(ballot, nonce)`` to the other replicas.
 R2. A replica that has promised nothing higher answers ``Confirmed(ballot, nonce)``.
 R3. With a majority (itself included) confirmed, nobody can have chosen anything under a
     higher ballot before the read began; once the leader has applied the read index, it
     answers from its register.

**Lease** (``LeaseReplica``; Chubby, Spanner, Raft's leader leases).  Needs bounded clocks.

 L1. Every ``renew`` the leader sends ``Renew(ballot, sent)``, ``sent`` its clock then.
 L2. A replica that follows that ballot answers ``RenewAck(ballot, sent)`` and promises to
     vote for no other leader for ``lease`` on its own clock: it ignores a ``Prepare``
     from anyone else, itself included, until its clock passes ``guard``.  A restarted
     replica keeps quiet for a whole lease, since it may have promised one before its crash.
 L3. With a majority (itself included) acknowledging the round sent at ``sent``, the leader
     holds the lease until ``sent + lease - margin`` on its clock.  The margin covers clock
     drift: if every clock's rate lies within 1 +- ``drift_bound``, the leader's lease
     ends, in true time, before any acknowledging replica's guard does.
 L4. While it holds the lease, and once it has applied every slot it recovered when it
     took over, the leader answers reads from its register at once, no messages at all.
     Otherwise the read goes through the log.

A clock that runs faster than the bound allows ends a guard early: a new leader can be
elected while the old one still believes in its lease, and its local reads are stale.
The checker has no time (``Node.clock`` refuses there), so the lease is checked in the
simulator, with drift within and beyond the bound; reads through the log and the read index
need no clock and the checker proves them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clients import Reply
from .membership import AlphaWindow, majority_of
from .multipaxos import Replica


@dataclass(frozen=True)
class Confirm:
    """Leader -> replicas (R1): do you still follow ``ballot``?  For read ``nonce``."""

    ballot: object
    nonce: int


@dataclass(frozen=True)
class Confirmed:
    """Replica -> leader (R2): I have promised nothing above ``ballot``."""

    ballot: object
    nonce: int


@dataclass(frozen=True)
class Renew:
    """Leader -> replicas (L1): renew my lease; ``sent`` is my clock as I send this."""

    periodic = True
    ballot: object
    sent: float


@dataclass(frozen=True)
class RenewAck:
    """Replica -> leader (L2): I will vote for no one else for a lease from now."""

    periodic = True
    ballot: object
    sent: float


@dataclass(frozen=True)
class RenewTimer:
    """At a leader: time to renew the lease (L1)."""

    periodic = True


def lease_margin(lease: float, drift_bound: float) -> float:
    """How much shorter the leader's lease is than a replica's guard (L3).  The leader
    counts ``lease - margin`` from before its Renew left, on a clock at least 1 - drift_bound
    fast; a replica counts ``lease`` from after it arrived, on a clock at most 1 +
    drift_bound fast.  (lease - margin) / (1 - b) <= lease / (1 + b) gives this margin."""
    return 2 * drift_bound * lease / (1 + drift_bound)


def lease_expiry(sent: float, lease: float, drift_bound: float) -> float:
    """L3: until when, on the leader's clock, a lease renewed at ``sent`` holds."""
    return sent + lease - lease_margin(lease, drift_bound)


class ReadIndexReplica(Replica):
    """Reads answered after a majority confirms the leader still leads (R1-R3)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reads = {}          # leader (volatile): nonce -> [client, seq, key, index, confirmed]
        self.nonces = 0          # leader (volatile): reads started

    def follow(self):
        self.reads = {}          # a deposed leader answers none: the clients retry
        super().follow()

    def on_request(self, msg, sender):
        if msg.op[0] != "read" or self.role != "leader":
            return super().on_request(msg, sender)
        self.nonces += 1                                      # R1
        self.reads[self.nonces] = [msg.client, msg.seq, msg.op[1], self.next_slot - 1,
                                   frozenset({self.id})]
        for r in self.replicas:
            if r != self.id:
                self.send(r, Confirm(self.ballot, self.nonces))

    def on_confirm(self, msg, sender):
        if self.promised is None or msg.ballot >= self.promised:     # R2
            self.send(sender, Confirmed(msg.ballot, msg.nonce))

    def on_confirmed(self, msg, sender):
        read = self.reads.get(msg.nonce)
        if read is None or self.role != "leader" or msg.ballot != self.ballot:
            return                                            # stale
        read[4] = read[4] | {sender}
        self.answer_reads()

    def learn(self, slot, command):
        super().learn(slot, command)
        self.answer_reads()

    def answer_reads(self):
        """R3: every read confirmed by a majority whose index is applied gets its answer."""
        for nonce, (client, seq, key, index, confirmed) in sorted(self.reads.items()):
            if len(confirmed) >= self.majority and len(self.log) >= index:
                del self.reads[nonce]
                self.send(client, Reply(seq, self.kv.get(key)))


class LeaseReplica(Replica):
    """Reads answered locally while the leader holds a lease (L1-L4)."""

    @classmethod
    def milestones(cls, node, before, after, system):
        """Replica's badges, and the moment a leader first holds its lease (its clock)."""
        out = super().milestones(node, before, after, system)
        if after.get("lease_end") is not None and before.get("lease_end") is None:
            out.append(f"lease to {after['lease_end']:.3g}")
        return out

    lease_length = 20.0      # L2: how long a replica stays loyal after a Renew
    renew_every = 1.0        # L1
    drift_bound = 0.01       # L3: clocks' rates lie within 1 +- this

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lease = type(self).lease_length
        self.renew = type(self).renew_every
        self.bound = type(self).drift_bound
        self.guard = None        # replica (volatile): no vote for another leader before this
        self.leader = None       # replica (volatile): whose lease it guards
        self.lease_end = None    # leader (volatile): my lease ends at this time, my clock
        self.renew_acks = {}     # leader (volatile): sent -> replicas that acknowledged
        self.ready = 0           # leader (volatile): recovered slots end here (L4)

    def on_restart(self):
        self.guard = self.clock() + self.lease                # L2: maybe promised before
        super().on_restart()

    def follow(self):
        self.lease_end, self.renew_acks = None, {}
        self.cancel_timer(RenewTimer())
        super().follow()

    def lead(self):
        super().lead()
        self.ready = self.next_slot - 1      # everything recovered must be applied first
        self.on_renew_timer(RenewTimer())

    def on_renew_timer(self, timer):
        if self.role != "leader":
            return
        sent = self.clock()                                   # L1
        self.renew_acks = {t: acked for t, acked in self.renew_acks.items()
                           if t > sent - self.lease}          # rounds that can still count
        self.renew_acks[sent] = frozenset({self.id})
        for r in self.replicas:
            if r != self.id:
                self.send(r, Renew(self.ballot, sent))
        self.set_timer(RenewTimer(), self.renew)

    def on_renew(self, msg, sender):
        if self.promised is not None and msg.ballot < self.promised:
            return                                            # a deposed leader
        self.heard_leader(msg.ballot, sender)
        self.guard, self.leader = self.clock() + self.lease, sender      # L2
        self.send(sender, RenewAck(msg.ballot, msg.sent))

    def on_renew_ack(self, msg, sender):
        if self.role != "leader" or msg.ballot != self.ballot or msg.sent not in self.renew_acks:
            return
        acked = self.renew_acks[msg.sent] | {sender}
        self.renew_acks[msg.sent] = acked
        if self.grants_lease(acked):                          # L3
            end = self.expiry(msg.sent)
            self.lease_end = end if self.lease_end is None else max(self.lease_end, end)

    def grants_lease(self, acked) -> bool:
        """L3: do the replicas that acknowledged one round (me included) make a majority?"""
        return len(acked) >= self.majority

    def expiry(self, sent):
        """L3: the lease from a round sent at ``sent`` (my clock) ends here, my clock."""
        return lease_expiry(sent, self.lease, self.bound)

    def holds_lease(self) -> bool:
        """L3-L4: a lease not yet over on my clock, and every recovered slot applied."""
        return (self.role == "leader" and self.lease_end is not None
                and self.clock() < self.lease_end and len(self.log) >= self.ready)

    def on_prepare(self, msg, sender):
        if sender != self.leader and self.guard is not None and self.clock() < self.guard:
            return                # L2: loyal to the lease holder (even against its own stand)
        super().on_prepare(msg, sender)

    def on_request(self, msg, sender):
        if msg.op[0] == "read" and self.holds_lease():        # L4
            self.send(msg.client, Reply(msg.seq, self.kv.get(msg.op[1])))
            return
        super().on_request(msg, sender)


class LeasedMember(LeaseReplica):
    """A lease on a log whose configuration changes: mixed in before a membership class
    (``LeasedAlphaWindow`` below).

    A rival leader must win a majority of the configuration of the slots it would write
    in; only a lease acknowledged by a majority of *that* configuration stops it.  So a
    lease round counts only the members of ``lease_members()``, the one configuration of
    every slot from the first this leader has not applied to as far ahead as its window
    lets it propose; while a change is on its way those slots have two configurations, the
    leader holds no lease, and reads go through the log."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lease_config = None  # leader (volatile): the configuration that granted it

    def lease_members(self):
        """The one configuration of the slots a rival could write in, or None during a change
        (a naive class with an unbounded window looks a few slots ahead)."""
        first = len(self.log) + 1
        last = max(first, self.next_slot) + min(self.window, 8)
        configs = {self.configuration(slot) for slot in range(first, last)}
        return configs.pop() if len(configs) == 1 and None not in configs else None

    def grants_lease(self, acked) -> bool:
        """A majority of ``lease_members()``; a lease from another configuration is void."""
        members = self.lease_members()
        if members is None or len(acked & set(members)) < majority_of(members):
            return False
        if self.lease_config != members:
            self.lease_end, self.lease_config = None, members
        return True

    def holds_lease(self) -> bool:
        return super().holds_lease() and self.lease_members() == self.lease_config


class LeasedAlphaWindow(LeasedMember, AlphaWindow):
    """Leases and Lamport's alpha window together: chapter 09's reads and membership change
    in one run (``membership.random_changes(..., replica=LeasedAlphaWindow)``)."""
