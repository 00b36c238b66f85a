"""Membership change on the Multi-Paxos log: the configuration is a command in the log.

A configuration is the tuple of replicas whose majorities choose a slot.  It changes through
the log itself: the command ``config_command(members)`` = ``("admin", seq, ("config",
members))`` is ordered like any write, and from some slot on the new members' majorities
decide.  *Which* slot is the whole question.  Majorities of the old and the new
configuration need not intersect (3 -> 5 replicas: {r1, r2} is a majority of the old
{r1, r2, r3}, {r3, r4, r5} one of the new {r1, ..., r5}), so if two leaders may disagree
about the configuration of one slot, each can get "its" majority for a different command.

Two ways to pick the slot, as two classes that differ only in ``configuration(slot)`` and
in how far ahead a leader may propose (``window``):

    AtOnce       naive: a replica uses a new configuration for every slot after the entry
                 as soon as it sees the entry (proposed, accepted, or learned), chosen or
                 not.  Its leader pipelines freely.  Unsafe: the checker finds two commands
                 decided in one slot.
    AlphaWindow  Lamport's alpha window (*Paxos Made Simple*, section 3; *Reconfiguring a
                 State Machine*, 2010): the configuration entry chosen in slot s governs the
                 slots from s + alpha on, and a leader proposes slot s only once it has
                 applied every slot up to s - alpha, so it always knows the configuration of
                 what it proposes.  alpha bounds the pipeline: alpha = 1 means one slot at a
                 time.  Safe.

The other safe methods, not built here: joint consensus (Raft, 2014: while the change is in
progress a decision needs a majority of the old *and* of the new configuration) and one
server at a time (Ongaro's thesis, section 4.3: any majority of n and of n + 1 replicas
intersect, so single-member changes can take effect at once, with the fix that a new leader
first commits an entry of its own term).

Both classes share the leader's machinery (``MemberReplica``): the leader proposes slot by
slot (``pump``), sends each slot's Accept to the members of that slot's configuration and
counts a majority of them; phase 1 starts with a majority of the configuration of the first
open slot, and when a later slot falls under a configuration of which no majority has
promised yet, the leader sends ``Prepare`` with its ballot to those members first (phase 1
for the new configuration, same ballot).  Acceptors are unchanged: they promise and accept
for whoever asks; the configuration only decides whom a leader asks and counts.

The chapter's pieces: ``membership_system`` (the nodes), ``naive_change_check`` and
``safe_change_check`` (the checker on one scenario), ``change_run`` (a seeded simulation of
the safe change with a crash), ``configuration_quorums`` (the quorums of old and new for the
quorum picture).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..clients import Reply
from ..validate import MAX_NODES, whole_number
from .multipaxos import (
    NOOP,
    Decided,
    HeartbeatTimer,
    LeaderTimeout,
    MultiPaxosClient,
    Prepare,
    Promise,
    Replica,
    replica_states,
    slot_agreement,
)
from .paxos import value_to_propose

ADMIN = "admin"          # the client that asks for configuration changes


def config_command(members, seq: int = 0, client: str = ADMIN) -> tuple:
    """The log command that changes the configuration to ``members`` (sorted, no repeats)."""
    return (client, seq, ("config", tuple(sorted(set(members)))))


def members_of(command):
    """The members a configuration command names, or None for any other command."""
    if command != NOOP and len(command) == 3 and command[2][0] == "config":
        return command[2][1]
    return None


def majority_of(members) -> int:
    return len(members) // 2 + 1


class MemberReplica(Replica):
    """A Multi-Paxos replica whose majorities are those of each slot's configuration.

    Subclasses say which configuration governs a slot (``configuration``) and how many
    slots past the applied ones a leader may propose (``window``)."""

    @classmethod
    def milestones(cls, node, before, after, system):
        """Replica's badges, and each configuration entry as it is applied."""
        out = super().milestones(node, before, after, system)
        for command in after.get("log", ())[len(before.get("log", ())):]:
            members = members_of(command)
            if members is not None:
                out.append(f"config {{{members[0]}..{members[-1]}}}")
        return out

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial = tuple(self.replicas if members is None else members)
        self.asked = set()      # leader (volatile): replicas sent a Prepare for this ballot

    window = math.inf

    def configuration(self, slot) -> tuple:
        """The members whose majorities choose ``slot``, or None if not known yet."""
        raise NotImplementedError

    def covered(self, members) -> bool:
        """Has a majority of ``members`` promised my ballot?"""
        return len(set(self.promises) & set(members)) >= majority_of(members)

    def ask(self, members, first):
        """Phase 1a to the ``members`` not asked yet under my ballot."""
        for r in members:
            if r not in self.asked:
                self.asked.add(r)
                self.send(r, Prepare(self.ballot, first))

    def on_start(self):
        if self.role == "leader":         # built leading (``membership_system(leading=...)``)
            self.next_slot = max(self.next_slot, len(self.log) + 1)
            self.pump()
        else:
            super().on_start()

    def lead_from_start(self, promisers, above=None):
        """Be built as the leader of my first ballot (the lowest of mine above ``above``),
        phase 1 done: every one of ``promisers`` promised it, having accepted nothing (the
        builder sets their ``promised``)."""
        self.ballot = self.seen = self.ballots.next(above, self.index)
        self.tries = 1
        self.role = "leader"
        self.promises = {r: () for r in promisers}
        self.asked = set(promisers)

    # ---- phase 1 --------------------------------------------------------------------------
    def send_prepares(self, first):
        """Rule 1a, to the configuration of the first slot not applied (every slot from
        there on is promised at once; later configurations are asked when needed)."""
        self.asked = set()
        self.ask(self.configuration(first), first)

    def on_promise(self, msg, sender):
        if self.role == "follower" or msg.ballot != self.ballot:
            return                                            # stale
        self.promises[sender] = msg.accepted
        if self.role == "candidate":
            if self.covered(self.configuration(len(self.log) + 1)):
                self.lead()
        else:
            self.pump()                   # phase 1 of a later configuration completed

    def lead(self):
        """Lead: propose the open slots (rule 2a per slot, ``recovered``), then new commands."""
        self.role = "leader"
        self.cancel_timer(LeaderTimeout())
        self.next_slot = len(self.log) + 1
        self.pump()
        if self.heartbeat is not None:
            self.set_timer(HeartbeatTimer(), self.heartbeat)

    def recovered(self, slot):
        """Rule 2a for ``slot`` from every promise: the command accepted under the highest
        ballot, NOOP for a gap below a reported slot, None above every reported slot."""
        reports = [acc for accepted in self.promises.values() for s, acc in accepted
                   if s == slot]
        if reports:
            return value_to_propose(reports, NOOP)
        top = max((s for accepted in self.promises.values() for s, _ in accepted), default=0)
        return NOOP if slot < top else None

    def pump(self):
        """Propose slot after slot while the window allows: a recovered command, else the next
        new one.  A slot under a configuration without a majority of promises waits for its
        phase 1 (``ask``)."""
        while self.role == "leader" and self.next_slot <= len(self.log) + self.window:
            slot = self.next_slot
            members = self.configuration(slot)
            command = self.recovered(slot)
            if command is None:
                while self.queue and self.done(self.queue[0]):
                    self.queue.pop(0)
                if not self.queue:
                    return
                command = self.queue[0]
            if not self.covered(members):
                self.ask(members, slot)
                return
            if self.queue and command == self.queue[0]:
                self.queue.pop(0)
            self.propose(slot, command)
            self.next_slot += 1

    # ---- phase 2 --------------------------------------------------------------------------
    def propose(self, slot, command, to=None):
        """Rule 2a: Accept to the members of the slot's configuration (or to ``to``)."""
        super().propose(slot, command, self.configuration(slot) if to is None else to)

    def on_request(self, msg, sender):
        command = (msg.client, msg.seq, msg.op)
        last = self.sessions.get(msg.client)
        if last is not None and last[0] >= msg.seq:
            if last[0] == msg.seq:
                self.send(msg.client, Reply(msg.seq, last[1]))
            return
        if self.role == "follower":
            return
        self.waiting.add((msg.client, msg.seq))
        for slot, proposed in self.proposals.items():
            if proposed == command:       # a retry: again to who has not accepted
                self.propose(slot, command, [r for r in self.configuration(slot)
                                             if r not in self.acks[slot]])
                return
        if command not in self.queue:
            self.queue.append(command)
            self.pump()

    def on_accepted(self, msg, sender):
        if self.role != "leader" or msg.ballot != self.ballot or \
                self.proposals.get(msg.slot) != msg.command:
            return
        self.acks[msg.slot].add(sender)
        members = self.configuration(msg.slot)
        if len(self.acks[msg.slot] & set(members)) >= majority_of(members):    # chosen
            del self.proposals[msg.slot], self.acks[msg.slot]
            self.announce(msg.slot, msg.command)
            self.learn(msg.slot, msg.command)

    def on_heartbeat_timer(self, timer):
        if self.role == "leader" and self.proposals:
            for slot, command in sorted(self.proposals.items()):
                self.propose(slot, command, [r for r in self.configuration(slot)
                                             if r not in self.acks[slot]])
            return
        super().on_heartbeat_timer(timer)

    def announce(self, slot, command):
        """Rule 3, to the members of the slot's configuration and, for a configuration
        entry, to its new members (others catch up with ``Missing``)."""
        for r in sorted(set(self.configuration(slot)) | set(members_of(command) or ())):
            if r != self.id:
                self.send(r, Decided(slot, command))

    def learn(self, slot, command):
        super().learn(slot, command)
        if self.role == "leader":
            self.pump()                   # the window moved

    def apply(self, command):
        if members_of(command) is None:
            super().apply(command)
            return
        self.log.append(command)          # a configuration: it changes no register
        client, seq, _ = command
        if not self.done(command):
            self.sessions[client] = (seq, "ok")
            if (client, seq) in self.waiting:
                self.waiting.discard((client, seq))
                self.send(client, Reply(seq, "ok"))

    def obsolete(self, msg) -> bool:
        """As ``Replica.obsolete``, except that a leader still reads Promises of its ballot
        (phase 1 of a later configuration)."""
        if isinstance(msg, Promise) and msg.ballot == self.ballot and self.role == "leader":
            return False
        return super().obsolete(msg)


class AtOnce(MemberReplica):
    """Naive: a configuration entry governs every later slot as soon as this replica sees
    it, chosen or not; the leader pipelines without limit."""

    def configuration(self, slot) -> tuple:
        seen = {}
        for s, command in enumerate(self.log, 1):
            seen[s] = command
        seen.update(self.decided)
        seen.update((s, acc[1]) for s, acc in self.accepted.items())
        seen.update(self.proposals)
        entries = [s for s, c in seen.items() if s < slot and members_of(c) is not None]
        return members_of(seen[max(entries)]) if entries else self.initial


class AlphaWindow(MemberReplica):
    """Lamport's alpha: the configuration chosen in slot s governs slots >= s + alpha; a
    leader proposes slot s only after applying slot s - alpha."""

    def __init__(self, *args, alpha: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.alpha = whole_number("alpha", alpha, 1)

    @property
    def window(self) -> int:
        return self.alpha

    def configuration(self, slot) -> tuple:
        applied = self.log[:max(0, slot - self.alpha)]
        if len(applied) < slot - self.alpha:
            return None                   # depends on slots not applied yet
        for command in reversed(applied):
            if members_of(command) is not None:
                return members_of(command)
        return self.initial


# ---- building a system ---------------------------------------------------------------------


def replica_ids(n: int) -> list:
    return [f"r{i}" for i in range(1, n + 1)]


def membership_system(old: int = 3, new: int = 5, replica=AlphaWindow, alpha: int = 1,
                      commands=None, clients=(), leaders=("r1", "r2"), leading=None,
                      max_ballots: int | None = 1, timeout: float = 4.0,
                      heartbeat: float | None = None, client_timeout: float | None = None,
                      max_retries: int | None = None) -> list:
    """Replicas r1 ... r<new>, of which r1 ... r<old> form the first configuration, plus
    clients; as a list of nodes for a Simulation or the checker.

    replica: ``AlphaWindow`` (safe) or ``AtOnce`` (naive), or a subclass.  commands: {replica:
    [command, ...]} that replica proposes when it leads (requests it holds from the start;
    the checker's scenarios use these instead of clients, which keeps the search small).
    clients: [(client id, server, [op, ...]), ...] for simulations; an op is ("write", key,
    value), ("read", key) or ("config", members).  leaders: replicas that may lead (the first
    stands at time 0).  leading: [(replica, promisers), ...] replicas built as leaders of
    their first ballot, each above the one before, with ``promisers`` having promised it and
    accepted nothing yet (a run that starts after some elections; the checker's scenario
    uses it).  max_ballots: ballots each replica may try (None: no bound)."""
    whole_number("old", old, 1, MAX_NODES)
    whole_number("new", new, 1, MAX_NODES)
    ids = replica_ids(max(old, new))
    commands = dict(commands or {})
    unknown = sorted(set(commands) - set(ids))
    if unknown:
        raise ValueError(f"commands are for replicas {unknown} that do not exist ({ids})")
    extra = {"alpha": alpha} if issubclass(replica, AlphaWindow) else {}
    nodes = []
    for i, r in enumerate(ids):
        node = replica(r, ids, i, timeout, heartbeat, False, r in leaders, r == leaders[0],
                       max_ballots, members=tuple(ids[:old]), **extra)
        node.queue = list(commands.get(r, ()))
        nodes.append(node)
    ballot = None
    for chief, promisers in leading or ():
        chief = nodes[ids.index(chief)]
        chief.first_leader = False
        chief.lead_from_start(promisers, ballot)
        ballot = chief.ballot
        for node in nodes:
            if node.id in promisers:
                node.promised = ballot
    for c, server, ops in clients:
        nodes.append(MultiPaxosClient(c, ids, ops, timeout=client_timeout,
                                      max_retries=max_retries, server=server))
    return nodes


# ---- what the checker looks at -------------------------------------------------------------

W1 = ("c1", 0, ("write", "x", 1))
W2 = ("c2", 0, ("write", "x", 2))
W3 = ("c3", 0, ("write", "x", 3))
GROW = config_command(replica_ids(5))


def deposed_scenario(replica=AlphaWindow, alpha: int = 1) -> list:
    """Five replicas, r1 ... r3 the first configuration, after this past: r1 led ballot 5
    (r1, r2, r3 promised) and proposed the change to five (``GROW``) in slot 1, which only
    r1 accepted before r2 won ballot 6 with r2 and r3, who then chose W2 in slot 1 and
    applied it.  r1 has not heard of ballot 6 and still leads in its own eyes.  Now r1 holds
    the write W1 and r2 the write W3; each proposes it in slot 2 as its class's rules allow."""
    nodes = membership_system(3, 5, replica, alpha, {"r1": [W1], "r2": [W3]},
                              leaders=("r1", "r2"),
                              leading=(("r1", ("r1", "r2", "r3")), ("r2", ("r2", "r3"))))
    r1, r2, r3 = nodes[:3]
    r1.accepted[1] = (r1.ballot, GROW)
    r1.votes.add((1, r1.ballot, GROW))
    r1.proposals, r1.acks, r1.next_slot = {1: GROW}, {1: {"r1"}}, 2
    for node in (r2, r3):
        node.accepted[1] = (r2.ballot, W2)
        node.votes.add((1, r2.ballot, W2))
        Replica.learn(node, 1, W2)
    r2.next_slot = 2
    return nodes


def change_check(replica=AlphaWindow, alpha: int = 1, max_states: int | None = 300_000,
                 progress: bool = False):
    """Check ``slot agreement`` over every run from ``deposed_scenario``: messages delayed
    and reordered in every way, none lost, nobody crashes, no timer fires (no further
    election: the two leaders are enough).  Returns the checker's Result."""
    from ..actions import Controls
    from ..check import check
    return check(deposed_scenario(replica, alpha), Controls(timers=False),
                 invariants={"slot agreement": slot_agreement}, max_states=max_states,
                 progress=progress)


def naive_change_check(**kwargs):
    """The scenario with ``AtOnce``: finds two commands decided in one slot."""
    return change_check(AtOnce, **kwargs)


def safe_change_check(alpha: int = 1, **kwargs):
    """The scenario with ``AlphaWindow``: slot agreement in every reachable state."""
    return change_check(AlphaWindow, alpha, **kwargs)


def solo_change_check(alpha: int = 1, max_states: int | None = 300_000,
                      progress: bool = False):
    """The change completing: r1 leads ballot 5 (r1, r2, r3 promised) alone and holds
    ``GROW`` and W1; every order of messages, none lost, no timer.  Slot agreement holds
    and the goal "a slot decided under the five" is reached (the shortest way to it)."""
    from ..actions import Controls
    from ..check import check
    nodes = membership_system(3, 5, AlphaWindow, alpha, {"r1": [GROW, W1]}, leaders=("r1",),
                              leading=(("r1", ("r1", "r2", "r3")),))
    return check(nodes, Controls(timers=False), invariants={"slot agreement": slot_agreement},
                 goals={"a slot decided under the five": decided_under_new},
                 max_states=max_states, progress=progress)


def decided_under_new(s) -> bool:
    """Goal: some replica applied a slot after a configuration entry."""
    return any(members_of(c) is not None for r in replica_states(s) for c in r.log[:-1])


# ---- a simulated change ----------------------------------------------------------------------

def change_run(seed: int = 0, alpha: int = 1, writes: int = 4, faults=None, loss: float = 0.0,
               duplicate: float = 0.0, until: float = 80.0, replica=AlphaWindow,
               record_states: bool = False, drift: float = 0.0, reads: bool = False):
    """Simulate the safe change from r1 ... r3 to r1 ... r5 while c1 writes: the client
    "admin" asks r1 for the change at time 0, c1 sends ``writes`` writes; r1 leads first,
    r1 ... r3 may lead; heartbeats every 1.0 (they bring r4 and r5 up to date), latency
    uniform in [0.5, 1.5].  faults: default, r1 crashes at 3 and restarts at 12 (r2 takes
    over).  replica: ``AlphaWindow`` or another ``MemberReplica`` class.  record_states: keep
    node states in the trace (for diagrams' badges).  drift: each clock's rate drawn within
    1 +- drift (timers run on those clocks).  reads: c1 reads x after each write.  Returns the
    Simulation, run."""
    from ..faults import crash, restart
    from ..network import Network, Uniform
    from ..sim import Simulation
    five = tuple(replica_ids(5))
    ops = [op for i in range(1, writes + 1)
           for op in ([("write", "x", i), ("read", "x")] if reads else [("write", "x", i)])]
    nodes = membership_system(3, 5, replica, alpha, leaders=("r1", "r2", "r3"),
                              max_ballots=None, heartbeat=1.0, client_timeout=5.0,
                              clients=[(ADMIN, "r1", [("config", five)]), ("c1", "r1", ops)])
    if faults is None:
        faults = [crash("r1", at=3.0), restart("r1", at=12.0)]
    sim = Simulation(nodes, network=Network(Uniform(0.5, 1.5), loss=loss, duplicate=duplicate),
                     faults=faults, seed=seed, record_states=record_states, drift=drift)
    sim.run(until=until)
    return sim


def random_change_faults(seed: int) -> list:
    """r1 crashes and restarts; a random replica (maybe a new one) crashes and restarts;
    every time from the seed."""
    import random

    from ..faults import crash, restart
    rng = random.Random(seed)
    at, at2 = rng.uniform(1, 8), rng.uniform(0, 15)
    who = rng.choice(replica_ids(5))
    return [crash("r1", at=at), restart("r1", at=at + rng.uniform(2, 10)),
            crash(who, at=at2), restart(who, at=at2 + rng.uniform(1, 6))]


def random_changes(seeds, replica=AlphaWindow, drift: float = 0.0, reads: bool = False) -> dict:
    """The change 3 -> 5 under many seeds, 10 % loss, 5 % duplication and two crashes each
    (``random_change_faults``), 60 time units: in how many runs replicas disagreed on a
    slot, the change was applied, and every operation was answered.  drift, reads: as in
    ``change_run``; with reads, also how many client histories were not linearizable, and,
    for a replica with leases (``leases.LeasedAlphaWindow``), how many reads a leader
    answered from its lease, with no slot."""
    from ..history import linearizable_kv
    from ..protocols.multipaxos import all_answered
    out = {"runs": 0, "slot disagreements": 0, "change applied": 0, "all answered": 0}
    if reads:
        out["not linearizable"] = 0
        if hasattr(replica, "holds_lease"):
            out["reads answered locally"] = 0
    for seed in seeds:
        sim = change_run(seed, faults=random_change_faults(seed), loss=0.1, duplicate=0.05,
                         until=60, replica=replica, drift=drift, reads=reads)
        out["runs"] += 1
        out["slot disagreements"] += not slot_agreement(sim)
        out["change applied"] += change_slot(sim) is not None
        out["all answered"] += all_answered(sim)
        if reads:
            history = [op for op in sim.trace.history() if op.client != ADMIN]
            out["not linearizable"] += not linearizable_kv(history)
            if "reads answered locally" in out:
                out["reads answered locally"] += local_reads(sim, history)
    return out


def local_reads(sim, history) -> int:
    """c1's answered reads that no replica's log holds: answered from a lease.  (c1 numbers
    its operations 0, 1, 2, ... in the order it invokes them.)"""
    logged = {command[:2] for r in replica_states(sim) for command in r.log if command != NOOP}
    return sum(op.op[0] == "read" and op.response is not None and ("c1", seq) not in logged
               for seq, op in enumerate(o for o in history if o.client == "c1"))


def change_slot(s):
    """The slot in which a configuration entry was applied (by the replica furthest on), or
    None if none was."""
    longest = max((r.log for r in replica_states(s)), key=len, default=[])
    return next((slot for slot, c in enumerate(longest, 1) if members_of(c) is not None), None)


# ---- quorums of the old and the new configuration ------------------------------------------


@dataclass(frozen=True)
class ConfigurationQuorums:
    """The majorities of two configurations and the pairs of them that share no replica.

    old_quorums, new_quorums: every majority of each (sorted tuples); disjoint: the (old,
    new) pairs with no replica in common, the danger of a change taking effect at once;
    pair: one such pair, or the pair sharing fewest replicas."""

    old: tuple
    new: tuple
    old_quorums: tuple
    new_quorums: tuple
    disjoint: tuple
    pair: tuple

    @property
    def nodes(self) -> tuple:
        """Every replica of either configuration, old ones first (for the quorum picture)."""
        return self.old + tuple(r for r in self.new if r not in self.old)

    def summary(self) -> str:
        a, b = ("{" + ", ".join(q) + "}" for q in self.pair)
        head = (f"old {{{', '.join(self.old)}}}: {len(self.old_quorums)} majorities of "
                f"{majority_of(self.old)}; new {{{', '.join(self.new)}}}: "
                f"{len(self.new_quorums)} majorities of {majority_of(self.new)}.")
        if self.disjoint:
            return (f"{head}\n{len(self.disjoint)} (old, new) pairs share no replica, e.g. "
                    f"{a} and {b}: each can choose a different command for the same slot.")
        return f"{head}\nEvery old majority meets every new one (e.g. {a} and {b})."


def configuration_quorums(old, new) -> ConfigurationQuorums:
    """The majorities of configurations ``old`` and ``new`` (lists of replica names)."""
    from itertools import combinations
    old, new = tuple(old), tuple(new)
    olds = tuple(combinations(old, majority_of(old)))
    news = tuple(combinations(new, majority_of(new)))
    disjoint = tuple((p, q) for p in olds for q in news if not set(p) & set(q))
    pair = disjoint[0] if disjoint else min(((p, q) for p in olds for q in news),
                                            key=lambda pq: len(set(pq[0]) & set(pq[1])))
    return ConfigurationQuorums(old, new, olds, news, disjoint, pair)
