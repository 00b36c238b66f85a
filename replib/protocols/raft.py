"""Raft: a replicated log kept by an elected leader (Ongaro & Ousterhout 2014, figure 2).

The system: servers ``"s1"`` ... ``"sn"`` and clients ``"c1"`` ...  Each server keeps a log
of entries ``(term, command)`` (index 1 is the first) and applies the committed prefix to a
key-value register, the same state machine as Multi-Paxos (``multipaxos.execute``).
Commands are ``(client, seq, op)`` with ``op`` = ``("write", key, value)`` or
``("read", key)``; ``NOOP`` is a leader's empty entry.

State (figure 2).  On disk, written before the server answers: ``current_term``,
``voted_for``, ``log``.  Volatile: ``commit_index``, ``last_applied``, ``role``; on a
leader ``next_index`` and ``match_index`` (per follower).  The state machine (``kv`` and
``sessions``, each client's last (seq, result)) is volatile too: after a restart it is
rebuilt by applying the log again as the commit index comes back.

Rules, as figure 2 states them:

 All servers.  A message with a term above ``current_term``: adopt it, forget the vote
 (``voted_for = None``), become a follower.  Apply ``log[last_applied + 1 ..
 commit_index]`` in order.

 Followers.  Answer RequestVote and AppendEntries.  No AppendEntries from the leader and no
 vote granted for a randomized election timeout (``self.rng``, between ``election_timeout``
 and twice that): become a candidate.

 Candidates.  ``current_term += 1``, vote for yourself, restart the election timer, send
 ``RequestVote(term, last_log_index, last_log_term)`` to the other servers.  Votes from a
 majority (yourself included): leader.  AppendEntries from a leader of your term: follower.
 Timer again (a split vote): a new election.

 RequestVote.  Refuse a term below yours.  Grant if you have not voted in this term (or
 voted for this candidate) *and* the candidate's log is at least as up-to-date as yours:
 its last term is higher, or equal with a log at least as long (``up_to_date``).

 Leaders.  On winning: ``next_index = last log index + 1``, ``match_index = 0`` for every
 follower, and an AppendEntries to each (empty: a heartbeat that announces the leader).
 A client's command: append ``(current_term, command)`` and send each follower
 AppendEntries with the entries from its ``next_index`` on.  Every ``heartbeat`` the same
 (empty when the follower is up to date).  A refusal: back ``next_index`` up by one and try
 again.  Commit rule: the largest N above ``commit_index`` with ``match_index >= N`` on a
 majority *and* ``log[N].term == current_term``: ``commit_index = N`` (``commit_ok``).
 Entries of earlier terms are never committed by counting replicas; they commit
 indirectly, with the first entry of the leader's own term (the paper's figure 8 shows a
 committed entry overwritten without this rule; ``CommitsEarlierTerms`` is that bug).

 AppendEntries(term, prev_log_index, prev_log_term, entries, leader_commit).  Refuse a
 term below yours.  Refuse if the log has no entry at prev_log_index with prev_log_term
 (log matching).  An existing entry that conflicts with a new one (same index, another
 term): delete it and all that follow; append the new entries not already there, and never
 delete entries without a conflict (a late, shorter AppendEntries must not undo a longer
 one).  ``commit_index = min(leader_commit, index of the last new entry)`` if that is
 higher.

``noop=True`` (section 8 of the paper): a new leader appends a ``NOOP`` entry of its term
at once, so the entries it inherited commit as soon as the no-op does, without waiting for
a client's command.  By default (``noop=False``) the leader follows figure 2 alone.

Clients (``RaftClient``) send ``Request(client, seq, op)`` to the server they believe
leads; a follower that knows the leader answers ``NotLeader(seq, leader)`` and the client
goes there; on a timeout it tries the next server.  The leader appends the command, and
answers ``Reply(seq, result)`` when it applies it.  A retried command may be appended twice
(by two leaders); the session table makes it take effect once, and a command already
applied is answered from the table.

The checker's bounds: ``max_term`` (a server does not stand for a term above it),
``candidates`` (the servers whose election timer runs), the clients' ``max_retries``, and
``heartbeat=None`` (no periodic messages).

Safety, the paper's five properties, as invariants over one state (``RAFT_INVARIANTS``):
``election_safety``, ``leader_append_only``, ``log_matching``, ``leader_completeness``,
``state_machine_safety``.  All but log matching speak of more than one moment ("at most
one leader is ever elected in a term", "a leader never overwrites", "committed in a given
term", "no other server will ever apply"), which one state does not show.  So, like the
history variables of Ongaro's TLA+ specification, the servers keep fields the protocol
never reads: ``terms_won`` (the terms in which a server became leader) and ``applied``
(every entry a server applied, with its current term then), both on disk so that a crash
cannot erase the evidence, and ``held`` (a leader's log when it won, plus what it appended
since: any other change to a leader's log shows as a difference).  The checker then
judges each state on its own, and the simulator can check after every step.
``linearizable_history`` checks a run's clients.

Raft and Multi-Paxos (``multipaxos.py``): a term is a ballot; RequestVote and VoteReply are
Prepare and Promise, except that the voter reports nothing back: the up-to-date rule elects
only a candidate that already holds every committed entry, where a Paxos leader re-proposes
the values reported to it, slot by slot; AppendEntries is Accept, with the Decided message
folded into ``leader_commit``; log matching replaces Paxos's independent slots.

``raft_table(state)``: each server's term, role, vote, commit index and log as rows of
plain data, the view RaftScope draws.  ``check_raft(scenario, server=...)``: the
exhaustive checks of small configurations (``SCENARIOS``), e.g. of a server class from
``raft_mutants``, each of which breaks one rule.  ``message_cost``: messages per operation.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from ..clients import Client, NextOp, Reply, Request, RequestTimeout
from ..node import Node
from ..validate import boolean, finite_time, subclass_of, whole_number
from .multipaxos import client_ops, execute

NOOP = "noop"           # a leader's empty entry (section 8)
MAX_SERVERS = 9
MAX_CLIENTS = 9

# ---- messages ----------------------------------------------------------------------------
# The sender is the candidate or leader (the kernel passes it to every handler), so the
# candidateId and leaderId of figure 2 are not repeated in the messages.


@dataclass(frozen=True)
class RequestVote:
    """Candidate -> server: vote for me in ``term``; my log ends at this index and term."""

    term: int
    last_log_index: int
    last_log_term: int


@dataclass(frozen=True)
class VoteReply:
    """Server -> candidate: my current term, and whether I granted my vote."""

    term: int
    granted: bool


@dataclass(frozen=True)
class AppendEntries:
    """Leader -> follower: after the entry at ``prev_log_index`` (of ``prev_log_term``)
    come ``entries`` ((term, command), ...; none for a heartbeat); I have committed up to
    ``leader_commit``."""

    term: int
    prev_log_index: int
    prev_log_term: int
    entries: tuple
    leader_commit: int

    @property
    def periodic(self) -> bool:
        """An empty AppendEntries is a heartbeat (diagrams fold them into ticks)."""
        return not self.entries


@dataclass(frozen=True)
class AppendReply:
    """Follower -> leader: my current term; success, with ``index`` the last entry now known
    to match yours, or failure, with ``index`` the prev_log_index I could not match (0 when
    I refused your term: index 0 always matches, so 0 cannot mean a mismatch).  Figure 2
    has term and success only; the index tells the leader which request an answer is for
    when answers arrive late, twice, or out of order."""

    term: int
    success: bool
    index: int


@dataclass(frozen=True)
class NotLeader:
    """Server -> client: I do not lead; ``leader`` does, as far as I know."""

    seq: int
    leader: str


# ---- timers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElectionTimeout:
    """At a follower or candidate: no leader heard and no vote granted for a while."""


@dataclass(frozen=True)
class HeartbeatTimer:
    """At a leader: time to send AppendEntries to every follower again."""

    periodic = True


# ---- the server --------------------------------------------------------------------------


class RaftServer(Node):
    """One Raft server: follower, candidate or leader, with its log and state machine."""

    # figure 2's persistent state, plus the history variables (for the invariants only)
    stable = ("current_term", "voted_for", "log", "terms_won", "applied")

    @classmethod
    def milestones(cls, node, before, after, system):
        """Badges for diagrams: winning an election ("leader t3"), and, on the leader, each
        advance of its commit index ("commit 4")."""
        out = []
        if after.get("role") == "leader" and before.get("role") != "leader":
            out.append(f"leader t{after.get('current_term')}")
        if after.get("role") == "leader" and after.get("commit_index", 0) > before.get(
                "commit_index", 0):
            out.append(f"commit {after['commit_index']}")
        return out

    def __init__(self, id: str, servers, election_timeout: float = 5.0,
                 heartbeat: float | None = 1.0, may_stand: bool = True,
                 max_term: int | None = None, noop: bool = False):
        super().__init__(id)
        # persistent state on all servers (on disk before any answer)
        self.current_term = 0    # the latest term this server has seen
        self.voted_for = None    # the candidate it voted for in current_term, or None
        self.log = []            # entries (term, command); index 1 is log[0]
        # volatile state on all servers
        self.commit_index = 0    # the highest index known committed
        self.last_applied = 0    # the highest index applied to the state machine
        self.role = "follower"
        self.leader_id = None    # who leads current_term, if known (to redirect clients)
        self.votes = set()       # as candidate: who voted for me in current_term
        # volatile state on leaders (reset at each election)
        self.next_index = {}     # follower -> the index of the next entry to send it
        self.match_index = {}    # follower -> the highest index known replicated on it
        # the state machine (volatile: rebuilt from the log)
        self.kv = {}
        self.sessions = {}       # client -> (seq, result) of its last command applied
        # history variables: never read by the protocol, kept for the invariants
        self.terms_won = set()   # the terms in which this server became leader (on disk)
        self.applied = set()     # (index, entry, term it was applied in) ever (on disk)
        self.held = []           # as leader: the log when elected + what it appended since
        # configuration (a set: no server is treated differently for its name)
        self.servers = frozenset(servers)
        self.election_timeout = election_timeout
        self.heartbeat = heartbeat
        self.may_stand = may_stand
        self.max_term = max_term
        self.noop = noop

    # ---- small helpers -------------------------------------------------------------------
    @property
    def majority(self) -> int:
        return len(self.servers) // 2 + 1

    @property
    def peers(self) -> list:
        """The other servers, in a fixed order."""
        return sorted(self.servers - {self.id})

    @property
    def last_log_term(self) -> int:
        return self.log[-1][0] if self.log else 0

    def term_at(self, index: int) -> int:
        """The term of the entry at ``index`` (0 for index 0, before the first entry)."""
        return self.log[index - 1][0] if index else 0

    def obsolete(self, msg) -> bool:
        """Replies this server ignores now and forever (for the checker): a VoteReply or
        AppendReply of an older term, a VoteReply once its election in that term is over,
        an AppendReply of its term when it does not lead (it never will in that term: a
        server stands only in a new term).  'Forever' holds because terms
        never go back; a server that keeps ``current_term`` in memory only (not on disk)
        could go back after a crash, so then nothing is called obsolete."""
        if "current_term" not in self.stable:
            return False
        if isinstance(msg, VoteReply):
            return msg.term < self.current_term or (
                msg.term == self.current_term and self.role != "candidate")
        if isinstance(msg, AppendReply):
            return msg.term < self.current_term or (
                msg.term == self.current_term and self.role != "leader")
        return False

    # ---- timers, roles, terms ----------------------------------------------------------
    def on_start(self):
        self.start_election_timer()

    def on_restart(self):
        self.start_election_timer()        # back as a follower, with its disk

    def start_election_timer(self):
        """(Re)start the randomized election timeout, drawn from this server's own rng."""
        if self.may_stand:
            self.set_timer(ElectionTimeout(),
                           self.rng.uniform(self.election_timeout, 2 * self.election_timeout))

    def observe_term(self, term) -> bool:
        """All servers: a message with a higher term makes this server adopt the term,
        forget its vote and follow.  Returns True if the term was higher."""
        if term <= self.current_term:
            return False
        self.current_term = term
        self.voted_for = None
        self.leader_id = None
        self.become_follower()
        return True

    def become_follower(self):
        was = self.role
        self.role = "follower"
        self.votes = set()
        self.next_index, self.match_index = {}, {}
        self.held = []
        if was == "leader":
            self.cancel_timer(HeartbeatTimer())
            self.start_election_timer()     # a leader had no election timer running

    def on_election_timeout(self, timer):
        """Followers and candidates: nobody led for a while: stand in a new term."""
        if self.role == "leader":
            return                          # stale: leaders do not time out
        if self.max_term is not None and self.current_term >= self.max_term:
            return                          # the checker's bound on terms
        self.current_term += 1
        self.voted_for = self.id            # on disk before the RequestVotes leave
        self.role = "candidate"
        self.leader_id = None
        self.votes = {self.id}
        self.start_election_timer()         # a split vote: stand again later
        for p in self.peers:
            self.send(p, RequestVote(self.current_term, len(self.log), self.last_log_term))
        if len(self.votes) >= self.majority:
            self.become_leader()            # a single server elects itself

    def on_heartbeat_timer(self, timer):
        if self.role != "leader":
            return                          # stale: deposed meanwhile
        self.replicate()
        self.set_timer(HeartbeatTimer(), self.heartbeat)

    # ---- elections -----------------------------------------------------------------------
    def up_to_date(self, last_log_term, last_log_index) -> bool:
        """The vote rule's log test: the candidate's log is at least as up-to-date as mine,
        comparing the last terms first, then the lengths."""
        return (last_log_term, last_log_index) >= (self.last_log_term, len(self.log))

    def may_vote_for(self, candidate) -> bool:
        """At most one vote per term: none cast yet, or cast for this candidate already."""
        return self.voted_for is None or self.voted_for == candidate

    def grants_vote(self, candidate, last_log_term, last_log_index) -> bool:
        """The vote rule, asked in the request's own term: one vote per term, and only for
        a log at least as up-to-date as mine."""
        return self.may_vote_for(candidate) and self.up_to_date(last_log_term, last_log_index)

    def on_request_vote(self, msg, sender):
        self.observe_term(msg.term)
        granted = (msg.term == self.current_term
                   and self.grants_vote(sender, msg.last_log_term, msg.last_log_index))
        if granted:
            self.voted_for = sender         # on disk before the answer
            self.start_election_timer()     # granting a vote restarts the timeout
        self.send(sender, VoteReply(self.current_term, granted))

    def on_vote_reply(self, msg, sender):
        if self.observe_term(msg.term):
            return
        if self.role != "candidate" or msg.term != self.current_term or not msg.granted:
            return                          # stale, or a refusal
        self.votes.add(sender)
        if len(self.votes) >= self.majority:
            self.become_leader()

    def become_leader(self):
        self.role = "leader"
        self.leader_id = self.id
        self.votes = set()
        self.terms_won.add(self.current_term)            # history variable
        self.next_index = {p: len(self.log) + 1 for p in self.peers}
        self.match_index = {p: 0 for p in self.peers}
        self.held = list(self.log)                       # history variable
        self.cancel_timer(ElectionTimeout())
        if self.noop:
            self.append_entry(NOOP)                      # section 8: commits what came before
        else:
            self.replicate()                             # heartbeats: "I lead this term"
        if self.heartbeat is not None:
            self.set_timer(HeartbeatTimer(), self.heartbeat)

    # ---- the leader ----------------------------------------------------------------------
    def append_entry(self, command):
        """Append ``(current_term, command)`` to my log and send it to every follower."""
        entry = (self.current_term, command)
        self.log.append(entry)
        self.held.append(entry)                          # history variable
        self.replicate()
        self.advance_commit()                            # a single server commits at once

    def replicate(self):
        for p in self.peers:
            self.send_append(p)

    def send_append(self, follower):
        """AppendEntries with my entries from the follower's next_index on."""
        prev = self.next_index[follower] - 1
        self.send(follower, AppendEntries(self.current_term, prev, self.term_at(prev),
                                          tuple(self.log[prev:]), self.commit_index))

    def on_append_reply(self, msg, sender):
        if self.observe_term(msg.term):
            return                                       # deposed
        if self.role != "leader" or msg.term != self.current_term:
            return                                       # stale
        if msg.success:
            if msg.index > self.match_index[sender]:
                self.match_index[sender] = msg.index
                self.next_index[sender] = max(self.next_index[sender], msg.index + 1)
                self.advance_commit()
        elif 0 < msg.index == self.next_index[sender] - 1:   # refused where I sent from
            self.next_index[sender] = msg.index          # back up one entry and try again
            self.send_append(sender)

    def replicas(self, index) -> int:
        """How many servers (this leader included) are known to store entry ``index``."""
        return 1 + sum(1 for m in self.match_index.values() if m >= index)

    def commit_ok(self, index) -> bool:
        """The commit rule: stored on a majority, *and* an entry of the leader's own term."""
        return self.replicas(index) >= self.majority and \
            self.term_at(index) == self.current_term

    def advance_commit(self):
        for n in range(len(self.log), self.commit_index, -1):
            if self.commit_ok(n):
                self.commit_index = n
                self.apply_committed()
                return

    def on_request(self, msg, sender):
        if self.role != "leader":
            if self.leader_id is not None:
                self.send(msg.client, NotLeader(msg.seq, self.leader_id))
            return                               # no leader known: the client will time out
        last = self.sessions.get(msg.client)
        if last is not None and last[0] >= msg.seq:
            if last[0] == msg.seq:               # applied already: answer again
                self.send(msg.client, Reply(msg.seq, last[1]))
            return
        command = (msg.client, msg.seq, msg.op)
        if (self.current_term, command) in self.log:
            return                               # a retry of a command appended this term
        self.append_entry(command)

    # ---- followers -----------------------------------------------------------------------
    def on_append_entries(self, msg, sender):
        self.observe_term(msg.term)
        if msg.term < self.current_term:         # a deposed leader: tell it my term
            self.send(sender, AppendReply(self.current_term, False, 0))
            return
        if self.role != "follower":
            self.become_follower()               # a candidate meets the leader of its term
        self.leader_id = sender
        self.start_election_timer()              # heard from the leader
        if msg.prev_log_index > len(self.log) or \
                self.term_at(msg.prev_log_index) != msg.prev_log_term:
            self.send(sender, AppendReply(self.current_term, False, msg.prev_log_index))
            return                               # log matching: no such entry here
        self.store_entries(msg.prev_log_index, msg.entries)
        last_new = msg.prev_log_index + len(msg.entries)
        if msg.leader_commit > self.commit_index:
            # (max: a late AppendEntries with fewer entries never lowers the commit index)
            self.commit_index = max(self.commit_index, min(msg.leader_commit, last_new))
            self.apply_committed()
        self.send(sender, AppendReply(self.current_term, True, last_new))

    def store_entries(self, prev, entries):
        """After a match at ``prev``: an entry that conflicts with a new one (same index,
        another term) is deleted with all that follow; new entries not already in the log
        are appended.  Without a conflict nothing is deleted."""
        for k, entry in enumerate(entries):
            index = prev + 1 + k
            if index <= len(self.log) and self.log[index - 1][0] != entry[0]:
                del self.log[index - 1:]         # conflict: delete it and all that follow
            if index > len(self.log):
                self.log.append(entry)

    # ---- the state machine ---------------------------------------------------------------
    def apply_committed(self):
        while self.last_applied < self.commit_index:
            self.last_applied += 1
            entry = self.log[self.last_applied - 1]
            self.applied.add((self.last_applied, entry, self.current_term))  # history variable
            self.apply(entry[1])

    def apply(self, command):
        """Apply one command (once per client and seq); the leader answers the client."""
        if command == NOOP:
            return
        client, seq, op = command
        last = self.sessions.get(client)
        if last is None or last[0] < seq:
            self.sessions[client] = (seq, execute(self.kv, op))
        last = self.sessions[client]
        if self.role == "leader" and last[0] == seq:
            self.send(client, Reply(seq, last[1]))


# ---- clients -----------------------------------------------------------------------------


class RaftClient(Client):
    """Sends each operation to the server it believes leads: at first ``server``, then the
    one a ``NotLeader`` names or the last one that answered; on a timeout, the next server
    in turn.  At most ``max_retries`` resends (redirects included) per operation (None: no
    bound; a bound for the checker).  The same constructor as ``MultiPaxosClient``."""

    def __init__(self, id: str, servers, ops, think: float = 0.0, timeout: float | None = None,
                 max_retries: int | None = None, start: float = 0.0, server=None):
        servers = tuple(servers)
        super().__init__(id, server or servers[0], ops, think=think, timeout=timeout)
        self.servers = servers
        self.max_retries = max_retries
        self.start = start
        self.retries = 0

    def obsolete(self, msg) -> bool:
        """Answers about an operation this client has finished (its seq only grows), or any
        answer once it has no operation left."""
        return isinstance(msg, (Reply, NotLeader)) and (
            msg.seq < self.seq or self.seq >= len(self.ops))

    def on_start(self):
        if self.ops:
            if self.start == 0:
                self.issue()                 # the first operation goes at once
            else:
                self.set_timer(NextOp(), self.start)

    def issue(self):
        self.retries = 0
        super().issue()

    def on_reply(self, msg, sender):
        if self.waiting and msg.seq == self.seq:
            self.server = sender             # it answered: it leads (or did)
        super().on_reply(msg, sender)

    def on_not_leader(self, msg, sender):
        if self.waiting and msg.seq == self.seq and msg.leader != self.server:
            self.resend(msg.leader)

    def on_request_timeout(self, timer):
        if not self.waiting or timer.seq != self.seq:
            return                           # stale: answered meanwhile
        self.resend(self.servers[(self.servers.index(self.server) + 1) % len(self.servers)])

    def resend(self, to):
        if self.max_retries is not None and self.retries >= self.max_retries:
            return
        self.retries += 1
        self.server = to
        self.send(to, Request(self.id, self.seq, self.ops[self.seq]))
        if self.timeout is not None:
            self.set_timer(RequestTimeout(self.seq), self.timeout)


# ---- building a system -------------------------------------------------------------------


def server_ids(n: int) -> list:
    return [f"s{i}" for i in range(1, n + 1)]


def raft_system(servers: int = 3, clients: int = 1, ops=2, election_timeout: float = 5.0,
                heartbeat: float | None = 1.0, client_timeout: float | None = 8.0,
                think: float = 0.0, client_start: float = 0.0, candidates=None,
                max_term: int | None = None, max_retries: int | None = None,
                noop: bool = False, server=None) -> list:
    """Servers "s1"... then clients "c1"..., as a list of nodes for a Simulation or check.

    servers: how many (1 to 9).  clients: how many (0 to 9).  ops: a whole number (each
    client alternates writes of its own values and reads of key "x", that many), a list of
    operations (every client issues them), or one list per client; an operation is
    ("write", key, value) or ("read", key).  election_timeout: a server stands after a
    random time between this and twice this without a leader.  heartbeat: a leader's
    AppendEntries period (None: only when there is something to send, for the checker).
    client_timeout: a client tries the next server after this long (None: never).
    think: a client's pause between operations; client_start: before its first.
    candidates: the servers whose election timer runs (default all; the others only vote).
    max_term: no server stands for a term above this (None: no bound).  max_retries: how
    often a client resends one request (None: no bound).  noop: a new leader appends a
    no-op entry (section 8 of the paper).  server: a subclass of RaftServer to use instead
    (a variant to study, an exercise's answer): it simulates and is checked like the real
    one.
    """
    whole_number("servers", servers, 1, MAX_SERVERS)
    whole_number("clients", clients, 0, MAX_CLIENTS)
    finite_time("election_timeout", election_timeout)
    if heartbeat is not None:
        finite_time("heartbeat", heartbeat)
    if client_timeout is not None:
        finite_time("client_timeout", client_timeout)
    finite_time("think", think, zero_ok=True)
    finite_time("client_start", client_start, zero_ok=True)
    if max_term is not None:
        whole_number("max_term", max_term, 1)
    if max_retries is not None:
        whole_number("max_retries", max_retries, 0)
    boolean("noop", noop)
    s_ids = server_ids(servers)
    c_ids = [f"c{i}" for i in range(1, clients + 1)]
    if candidates is None:
        candidates = s_ids
    if isinstance(candidates, str) or not hasattr(candidates, "__iter__"):
        raise ValueError(f"candidates must be a list of server ids, got {candidates!r}")
    candidates = list(candidates)
    if any(c not in s_ids for c in candidates) or len(set(candidates)) != len(candidates):
        raise ValueError(f"candidates must be distinct servers among {s_ids}; "
                         f"got {candidates!r}")
    per_client = client_ops(ops, c_ids)
    cls = subclass_of("server", server, RaftServer)
    nodes = [cls(s, s_ids, election_timeout, heartbeat, s in candidates, max_term, noop)
             for s in s_ids]
    nodes += [RaftClient(c, s_ids, lst, think=think, timeout=client_timeout,
                         max_retries=max_retries, start=client_start)
              for c, lst in zip(c_ids, per_client)]
    return nodes


# ---- what the checks and the chapter look at ---------------------------------------------


def _nodes(s) -> list:
    """The nodes of a checker state, a Simulation (its ``nodes`` dict) or a list of nodes."""
    nodes = getattr(s, "nodes", s)
    if isinstance(nodes, dict):
        nodes = nodes.values()
    return list(nodes)


_last_servers = [None, None]   # (state key, servers): the invariants ask about one state in turn


def server_states(s) -> list:
    """The servers: the nodes that keep a ``current_term`` and a ``log``."""
    model = getattr(s, "_model", None)           # a checker state: numbered, cheap to key
    key = None if model is None else (weakref.ref(model), s[0])
    if key is not None and _last_servers[0] == key:
        return _last_servers[1]
    servers = [n for n in _nodes(s) if hasattr(n, "current_term") and hasattr(n, "log")]
    if key is not None:
        _last_servers[:] = [key, servers]
    return servers


def _clients(s) -> list:
    return [n for n in _nodes(s) if hasattr(n, "results") and hasattr(n, "ops")]


def election_safety(s) -> bool:
    """Election Safety: at most one leader is ever elected in a term (read from the
    servers' ``terms_won``, which a crash does not erase)."""
    winner = {}
    for n in server_states(s):
        for term in n.terms_won:
            if winner.setdefault(term, n.id) != n.id:
                return False
    return True


def leader_append_only(s) -> bool:
    """Leader Append-Only: a leader never overwrites or deletes entries in its log; it only
    appends.  ``held`` is its log when it won plus what it appended since, maintained only
    where it appends: any other change to its log during its term shows as a difference."""
    return all(tuple(n.log[:len(n.held)]) == tuple(n.held)
               for n in server_states(s) if n.role == "leader")


def log_matching(s) -> bool:
    """Log Matching: if two logs hold an entry with the same index and term, the logs are
    identical in all entries up through that index.  (Checked at the last such index of
    each pair: equal prefixes up to it are equal up to every earlier one.)"""
    servers = server_states(s)
    for i, a in enumerate(servers):
        for b in servers[i + 1:]:
            last = 0
            for k in range(min(len(a.log), len(b.log)), 0, -1):
                if a.log[k - 1][0] == b.log[k - 1][0]:
                    last = k
                    break
            if tuple(a.log[:last]) != tuple(b.log[:last]):
                return False
    return True


def committed(s) -> set:
    """(index, entry, term) for every entry some server applied, i.e. knew committed, in
    ``term`` (its current term then).  Such an entry was committed in that term or
    earlier: a leader commits in its own term, a follower learns commits from its leader."""
    return set().union(*(n.applied for n in server_states(s)))


def leader_completeness(s) -> bool:
    """Leader Completeness: an entry committed in a term is in the log of every leader of a
    higher term."""
    done = committed(s)
    for n in server_states(s):
        if n.role != "leader":
            continue
        for index, entry, term in done:
            if term < n.current_term and (len(n.log) < index or n.log[index - 1] != entry):
                return False
    return True


def state_machine_safety(s) -> bool:
    """State Machine Safety: once a server has applied an entry at an index, no server ever
    applies a different entry at that index (read from the servers' ``applied``)."""
    at = {}
    for n in server_states(s):
        for index, entry, _ in n.applied:
            if at.setdefault(index, entry) != entry:
                return False
    return True


RAFT_INVARIANTS = {"election safety": election_safety,
                   "leader append-only": leader_append_only,
                   "log matching": log_matching,
                   "leader completeness": leader_completeness,
                   "state machine safety": state_machine_safety}


def leader_elected(s) -> bool:
    """Goal: some server leads."""
    return any(n.role == "leader" for n in server_states(s))


def entry_committed(s) -> bool:
    """Goal: some entry is committed (a server applied it)."""
    return any(n.applied for n in server_states(s))


def all_answered(s) -> bool:
    """Goal: every client got every answer."""
    return all(len(n.results) == len(n.ops) for n in _clients(s))


def linearizable_history(trace):
    """The linearizability verdict (``history.linearizable_kv``) on the run's client history."""
    from ..history import linearizable_kv
    return linearizable_kv(trace.history())


# ---- a RaftScope-like view ---------------------------------------------------------------


def describe_command(command) -> str:
    """A log entry's command, short: ``x=1``, ``read x``, ``noop``."""
    if command == NOOP:
        return NOOP
    _, _, op = command
    return f"{op[1]}={op[2]}" if op[0] == "write" else f"read {op[1]}"


def raft_table(s) -> list:
    """One row per server, as RaftScope shows them: {"server", "term", "role" ("crashed"
    for a server that is down), "voted for", "commit", "log"}, the log as a list of
    (term, command) with the command shortened (``describe_command``).

    s: a checker state, a Simulation, a list of nodes, or the dict of node states that
    ``trace.states_at(step)`` returns (for the trace player)."""
    if isinstance(s, dict) and all(isinstance(v, dict) for v in s.values()):
        rows = [(name, st, st.get("(crashed)", False)) for name, st in s.items()
                if "current_term" in st and "log" in st]
    else:
        down = getattr(s, "crashed", ())
        rows = [(n.id, n, n.id in down) for n in server_states(s)]
    out = []
    for name, n, crashed in rows:
        get = n.get if isinstance(n, dict) else (lambda k, n=n: getattr(n, k))
        out.append({"server": name, "term": get("current_term"),
                    "role": "crashed" if crashed else get("role"),
                    "voted for": get("voted_for"), "commit": get("commit_index"),
                    "log": [(term, describe_command(c)) for term, c in get("log")]})
    return out


# ---- the checker's scenarios -------------------------------------------------------------

E1 = ("c1", 0, ("write", "x", 1))    # the figure-8 story's two commands
F2 = ("c2", 0, ("write", "x", 2))


def figure8_start(server=None, noop: bool = False, max_term: int = 4,
                  heartbeat: float | None = None) -> list:
    """The paper's figure 8 on three servers, from the disks of its step (b).

    Term 1: s1 led (s3 voted for it) and appended E1 = c1's write x=1, which never left s1.
    Term 2: s2 led (s3 voted for it) and appended F2 = c2's write x=2, which never left s2.
    Then everything crashed; the servers restart from their disks:

        s1: current_term 1, voted_for s1, log [(1, E1)]
        s2: current_term 2, voted_for s2, log [(2, F2)]
        s3: current_term 2, voted_for s2, log []

    s1 and s2 may stand again, up to term ``max_term``; s3 only votes.  c1 and c2 are done
    (they have no operation left; answers to them are ignored).  From here s1 can win term
    3 with s3's vote and copy E1 to s3: E1 is then on a majority but must not count as
    committed, for s2 can still win term 4 with s3's vote (its last term, 2, beats E1's)
    and overwrite E1 everywhere.  With ``noop=True`` s1 appends a no-op of term 3 after
    E1, and once that is on a majority both are committed and s2 can no longer win.
    The history variables say what the story did: s1 won term 1, s2 term 2."""
    nodes = raft_system(3, 2, [[], []], heartbeat=heartbeat, max_term=max_term,
                        candidates=("s1", "s2"), noop=noop, server=server)
    s1, s2, s3 = nodes[:3]
    s1.current_term, s1.voted_for, s1.log, s1.terms_won = 1, "s1", [(1, E1)], {1}
    s2.current_term, s2.voted_for, s2.log, s2.terms_won = 2, "s2", [(2, F2)], {2}
    s3.current_term, s3.voted_for = 2, "s2"
    return nodes


SCENARIOS = {
    "elections": "3 servers from scratch, no clients, elections of term 1 only, one crash "
                 "(then a restart from disk, or not); the servers are interchangeable",
    "replication": "3 servers from scratch, no clients, a leader's no-op as the only "
                   "entries; s1 and s3 may stand, up to term 2",
    "figure 8": "the disks of figure 8 (b) on 3 servers (figure8_start); s1 and s2 may "
                "stand, up to term 4",
    "client": "3 servers from scratch, one client writing x=1 once (no resends); s1 and "
              "s3 may stand, up to term 2",
}


def scenario(name: str, server=None, noop: bool | None = None):
    """(nodes, controls, symmetric) of one of the checker's scenarios (``SCENARIOS``).

    In every one the network loses, duplicates and reorders messages (a duplicating
    network holds a set of messages: any may arrive now, again later, or never), timers
    fire at any moment, and nobody sends heartbeats (leaders send when they have something
    to send or a refusal to answer).  noop: for "figure 8" (default False, figure 2 as
    it is); the other scenarios fix it ("replication" needs the no-op for entries)."""
    from ..actions import Controls
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of "
                         f"{', '.join(map(repr, SCENARIOS))}")
    if noop is not None and not isinstance(noop, bool):
        raise ValueError(f"noop must be None, True or False, got {noop!r}")
    if noop is not None and name != "figure 8":
        raise ValueError(f"noop is a choice of the 'figure 8' scenario only; {name!r} fixes it")
    if name == "elections":
        nodes = raft_system(3, 0, 0, heartbeat=None, max_term=1, server=server)
        return nodes, Controls(duplicate=True, max_crashes=1), tuple(server_ids(3))
    if name == "replication":
        nodes = raft_system(3, 0, 0, heartbeat=None, max_term=2, noop=True,
                            candidates=("s1", "s3"), server=server)
    elif name == "figure 8":
        nodes = figure8_start(server, noop=bool(noop))
    else:
        nodes = raft_system(3, 1, [("write", "x", 1)], heartbeat=None, max_term=2,
                            candidates=("s1", "s3"), client_timeout=None, server=server)
    return nodes, Controls(duplicate=True), None


def check_raft(name: str = "elections", server=None, noop: bool | None = None,
               invariants=None, max_depth=None, max_states=None, progress: bool = True):
    """The chapter's exhaustive check of one scenario (``SCENARIOS``, built by ``scenario``):
    the paper's five properties (or ``invariants``) in every reachable state, and whether
    a leader is elected and an entry committed.  server: a RaftServer subclass to check
    instead (a broken rule, an exercise's answer).  max_depth: only the runs of up to that
    many steps (every one of them), for configurations too big to finish."""
    from ..check import check
    nodes, controls, symmetric = scenario(name, server, noop)
    return check(nodes, controls, invariants=RAFT_INVARIANTS if invariants is None else invariants,
                 goals={"a leader is elected": leader_elected,
                        "an entry is committed": entry_committed},
                 max_depth=max_depth, max_states=max_states, progress=progress,
                 symmetric=symmetric)


# ---- message counts ----------------------------------------------------------------------

OPERATION_MESSAGES = ("Request", "AppendEntries", "AppendReply", "Reply", "NotLeader")


def message_cost(servers: int = 3, ops: int = 10, noop: bool = False, seed: int = 0) -> dict:
    """What ``ops`` operations of one client cost in messages, with no faults.

    s1 is the only server that stands, so it wins term 1 before the client starts at t=20;
    that election (RequestVote, VoteReply and the first AppendEntries round) is counted
    apart ("election"), and there are no heartbeats (failure detection costs messages per
    unit of time, not per operation).  Per operation: the request, AppendEntries to each
    of the n - 1 followers and their n - 1 answers, the reply: 2n.  Followers learn that
    an entry is committed from the next AppendEntries (``leader_commit``), so no message
    of its own announces a commit.  Returns {"election", "by_type", "total", "per_op",
    "per_op_by_type"} like ``multipaxos.message_cost``."""
    from ..network import Network
    from ..sim import Simulation
    whole_number("servers", servers, 1, MAX_SERVERS)
    whole_number("ops", ops, 1, 1000)
    nodes = raft_system(servers, 1, ops, heartbeat=None, client_start=20.0,
                        candidates=["s1"], noop=noop)
    sim = Simulation(nodes, network=Network(), seed=seed, record_states=False)
    sim.run(until=lambda sim: all_answered(sim))
    election, during = {}, {}
    started = False
    for e in sim.trace.events:
        if e.kind == "invoke":
            started = True
        if e.kind == "send":
            d = during if started else election
            d[e.msg_type] = d.get(e.msg_type, 0) + 1
    total = sum(during.values())
    return {"election": sum(election.values()), "by_type": during, "total": total,
            "per_op": total / ops, "per_op_by_type": {t: k / ops for t, k in during.items()}}
