"""Raft (replib.protocols.raft): each rule of the paper's figure 2 as a handler test with exact
effects (each docstring states the rule), the clients, the builder's argument checks, the
five safety properties as invariants, the RaftScope-like table, message counts, the
checker's results on small scenarios for the correct server and for each broken rule
(replib.protocols.raft_mutants), and 1,000 seeded runs with loss, duplication, partitions,
crashes and restarts."""

import random

import pytest
from helpers import attached, plain

from replib import Controls, Crash, Deliver, Fire, Network, Restart, Simulation, Uniform
from replib.check import check
from replib.clients import NextOp, Reply, Request, RequestTimeout
from replib.faults import crash, heal, partition, restart
from replib.protocols import raft_mutants
from replib.protocols.raft import (
    E1,
    F2,
    NOOP,
    RAFT_INVARIANTS,
    SCENARIOS,
    AppendEntries,
    AppendReply,
    ElectionTimeout,
    HeartbeatTimer,
    NotLeader,
    RaftClient,
    RaftServer,
    RequestVote,
    VoteReply,
    all_answered,
    check_raft,
    describe_command,
    election_safety,
    figure8_start,
    leader_append_only,
    leader_completeness,
    linearizable_history,
    log_matching,
    message_cost,
    raft_system,
    raft_table,
    scenario,
    state_machine_safety,
)

S = ("s1", "s2", "s3")
W1 = ("c1", 0, ("write", "x", 1))
RD = ("c1", 1, ("read", "x"))
WAIT = 7.5          # the election timeout drawn by Midpoint for election_timeout=5


class Midpoint:
    """A stand-in for a server's rng: every draw is the middle of its range."""

    def uniform(self, a, b):
        return (a + b) / 2


def servers(**config):
    """A Raft system's nodes (3 servers, 1 client, no heartbeats unless asked) attached to a
    fake network, by id; the servers draw their timeouts from Midpoint."""
    config.setdefault("heartbeat", None)
    nodes = attached(raft_system(**config))
    for n in nodes.values():
        n._rng = Midpoint()
    return nodes


def server(id="s2", **config):
    return servers(**config)[id]


def leader(**config):
    """s1 after winning term 1 with s2's vote."""
    s1 = servers(**config)["s1"]
    s1.handle(ElectionTimeout())
    s1.handle(VoteReply(1, True), "s2")
    return s1


def heartbeats(term, prev, prev_term, commit=0, to=("s2", "s3")):
    return [("send", f, AppendEntries(term, prev, prev_term, (), commit)) for f in to]


# ---- timers and elections ----------------------------------------------------------------

def test_a_server_starts_as_a_follower_with_a_randomized_election_timeout():
    """Followers: each server starts as a follower and sets an election timeout drawn from
    its own seeded rng, between election_timeout and twice that."""
    nodes = attached(raft_system(heartbeat=None))
    draws = [random.Random(0).uniform(5.0, 10.0)]
    assert plain(nodes["s1"].run_hook("on_start")) == [("set", ElectionTimeout(), draws[0])]
    assert nodes["s1"].role == "follower" and 5.0 <= draws[0] <= 10.0


def test_election_timeout_makes_a_candidate():
    """Candidates: on the timeout, increment current_term, vote for yourself, restart the
    election timer and send RequestVote(term, last log index, last log term) to the others."""
    s2 = server()
    s2.log = [(1, W1)]
    s2.current_term = 1
    assert plain(s2.handle(ElectionTimeout())) == [
        ("set", ElectionTimeout(), WAIT),
        ("send", "s1", RequestVote(2, 1, 1)), ("send", "s3", RequestVote(2, 1, 1))]
    assert (s2.role, s2.current_term, s2.voted_for, s2.votes) == ("candidate", 2, "s2", {"s2"})


def test_votes_from_a_majority_make_a_leader_that_sends_heartbeats():
    """Candidates: votes from a majority (itself included) make a leader; Leaders: on
    winning, next_index = last log index + 1 and match_index = 0 for each follower, and an
    empty AppendEntries to each (a heartbeat that claims the term)."""
    s1 = server("s1", heartbeat=1.0)
    s1.log = [(1, W1)]
    s1.current_term = 1
    s1.handle(ElectionTimeout())
    assert plain(s1.handle(VoteReply(2, True), "s3")) == [
        ("cancel", ElectionTimeout())] + heartbeats(2, 1, 1) + [("set", HeartbeatTimer(), 1.0)]
    assert (s1.role, s1.next_index, s1.match_index) == ("leader", {"s2": 2, "s3": 2},
                                                        {"s2": 0, "s3": 0})
    assert s1.terms_won == {2} and s1.held == [(1, W1)]


def test_refusals_and_stale_votes_do_not_elect():
    """Candidates: a refusal, or a vote of an older term, is not a vote for this election."""
    s1 = server("s1")
    s1.handle(ElectionTimeout())
    s1.handle(ElectionTimeout())                      # a split vote: term 2
    assert plain(s1.handle(VoteReply(2, False), "s2")) == []
    assert plain(s1.handle(VoteReply(1, True), "s3")) == []
    assert (s1.role, s1.votes) == ("candidate", {"s1"})


def test_a_split_vote_starts_a_new_election():
    """Candidates: if the election timeout elapses again, start a new election (term + 1)."""
    s1 = server("s1")
    s1.handle(ElectionTimeout())
    effects = plain(s1.handle(ElectionTimeout()))
    assert effects == [("set", ElectionTimeout(), WAIT),
                       ("send", "s2", RequestVote(2, 0, 0)), ("send", "s3", RequestVote(2, 0, 0))]
    assert (s1.current_term, s1.voted_for) == (2, "s1")


def test_a_single_server_elects_itself():
    """With one server its own vote is a majority: it leads at its first timeout."""
    s1 = servers(servers=1)["s1"]
    assert plain(s1.handle(ElectionTimeout())) == [("set", ElectionTimeout(), WAIT),
                                                   ("cancel", ElectionTimeout())]
    assert s1.role == "leader"


def test_vote_granted_at_most_once_per_term():
    """RequestVote: grant if voted_for is null or the candidate, and the candidate's log is
    at least as up-to-date; voted_for is set before the answer; granting restarts the
    election timer.  A second candidate of the same term is refused; the first one asking
    again (a duplicate) gets the vote again."""
    s2 = server()
    assert plain(s2.handle(RequestVote(1, 0, 0), "s1")) == [
        ("set", ElectionTimeout(), WAIT), ("send", "s1", VoteReply(1, True))]
    assert (s2.current_term, s2.voted_for) == (1, "s1")
    assert plain(s2.handle(RequestVote(1, 0, 0), "s3")) == [("send", "s3", VoteReply(1, False))]
    assert plain(s2.handle(RequestVote(1, 0, 0), "s1")) == [
        ("set", ElectionTimeout(), WAIT), ("send", "s1", VoteReply(1, True))]


@pytest.mark.parametrize("mine, last_term, last_index, granted", [
    ([(1, W1), (2, RD)], 1, 5, False),    # a lower last term loses, however long the log
    ([(1, W1), (2, RD)], 3, 1, True),     # a higher last term wins, however short
    ([(1, W1), (2, RD)], 2, 1, False),    # the same last term, a shorter log: refused
    ([(1, W1), (2, RD)], 2, 2, True),     # the same last term and length: up-to-date
    ([], 0, 0, True),                     # two empty logs
])
def test_vote_only_for_an_up_to_date_log(mine, last_term, last_index, granted):
    """RequestVote: the candidate's log must be at least as up-to-date as the voter's:
    compare the last entries' terms first, then the lengths (section 5.4.1)."""
    s2 = server()
    s2.log, s2.current_term = list(mine), 2
    effects = plain(s2.handle(RequestVote(3, last_index, last_term), "s1"))
    assert effects[-1] == ("send", "s1", VoteReply(3, granted))
    assert s2.voted_for == ("s1" if granted else None) and s2.current_term == 3


class WatchedServer(RaftServer):
    """Records its disk (current_term, voted_for, log) at the moment each message leaves."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._disk_at_send = []

    def send(self, to, msg):
        self._disk_at_send.append((msg, self.current_term, self.voted_for, list(self.log)))
        super().send(to, msg)


def test_term_vote_and_log_are_on_disk_before_any_answer():
    """Persistent state is updated on stable storage before responding: the candidate's own
    vote and term before its RequestVotes leave, the voter's vote before its VoteReply,
    the follower's new entries before its AppendReply."""
    nodes = servers(server=WatchedServer)
    s1, s2 = nodes["s1"], nodes["s2"]
    s1.handle(ElectionTimeout())
    assert s1._disk_at_send == [(RequestVote(1, 0, 0), 1, "s1", []),
                                (RequestVote(1, 0, 0), 1, "s1", [])]
    s2.handle(RequestVote(1, 0, 0), "s1")
    s2.handle(AppendEntries(1, 0, 0, ((1, W1),), 0), "s1")
    assert s2._disk_at_send == [(VoteReply(1, True), 1, "s1", []),
                                (AppendReply(1, True, 1), 1, "s1", [(1, W1)])]


def test_requests_of_an_older_term_are_refused_with_the_current_term():
    """RequestVote and AppendEntries: reply false if term < current_term, with the current
    term, so that the stale candidate or leader learns it (the AppendReply's index is 0: a
    refused term, not a log mismatch)."""
    s2 = server()
    s2.current_term = 3
    assert plain(s2.handle(RequestVote(2, 0, 0), "s1")) == [("send", "s1", VoteReply(3, False))]
    assert plain(s2.handle(AppendEntries(2, 0, 0, ((2, W1),), 1), "s1")) == [
        ("send", "s1", AppendReply(3, False, 0))]
    assert s2.log == [] and s2.voted_for is None


def test_a_higher_term_makes_a_leader_step_down():
    """All servers: a message with a term above current_term: set current_term to it,
    forget the vote, become a follower.  A deposed leader stops its heartbeats and starts
    an election timer."""
    s1 = leader(heartbeat=1.0)
    assert plain(s1.handle(AppendReply(4, False, 0), "s2")) == [
        ("cancel", HeartbeatTimer()), ("set", ElectionTimeout(), WAIT)]
    assert (s1.role, s1.current_term, s1.voted_for, s1.leader_id) == ("follower", 4, None, None)
    assert s1.next_index == {} and s1.held == []


def test_a_candidate_follows_a_leader_of_its_term():
    """Candidates: AppendEntries from a new leader of the same term: become a follower."""
    s2 = server()
    s2.handle(ElectionTimeout())
    assert plain(s2.handle(AppendEntries(1, 0, 0, (), 0), "s3")) == [
        ("set", ElectionTimeout(), WAIT), ("send", "s3", AppendReply(1, True, 0))]
    assert (s2.role, s2.leader_id, s2.votes, s2.voted_for) == ("follower", "s3", set(), "s2")


def test_stale_timers_do_nothing():
    """Typed timers check whether they are stale: a leader ignores an election timeout, a
    follower a heartbeat timer."""
    s1 = leader()
    assert plain(s1.handle(ElectionTimeout())) == [] and s1.current_term == 1
    assert plain(server().handle(HeartbeatTimer())) == []


def test_no_election_above_max_term_or_for_a_voter_only():
    """The checker's bounds: no election above max_term; a server that may not stand sets
    no election timer."""
    s1 = server("s1", max_term=1)
    s1.current_term = 1
    assert plain(s1.handle(ElectionTimeout())) == [] and s1.role == "follower"
    s3 = server("s3", candidates=["s1"])
    assert plain(s3.run_hook("on_start")) == []


# ---- log replication ---------------------------------------------------------------------

def test_leader_appends_a_command_and_sends_each_follower_its_entries():
    """Leaders: a command from a client is appended to the log as (current_term, command),
    and each follower gets AppendEntries with the entries from its next_index on."""
    s1 = leader()
    s1.next_index["s3"] = 1                # pretend s3 was found behind
    s1.log.insert(0, (1, NOOP))
    s1.held.insert(0, (1, NOOP))
    s1.next_index["s2"] = 2
    assert plain(s1.handle(Request("c1", 0, ("write", "x", 1)), "c1")) == [
        ("send", "s2", AppendEntries(1, 1, 1, ((1, W1),), 0)),
        ("send", "s3", AppendEntries(1, 0, 0, ((1, NOOP), (1, W1)), 0))]
    assert s1.log == [(1, NOOP), (1, W1)]


def test_a_retry_in_the_same_term_is_not_appended_twice():
    """A client resending a command the leader appended in this term adds nothing."""
    s1 = leader()
    s1.handle(Request("c1", 0, ("write", "x", 1)), "c1")
    assert plain(s1.handle(Request("c1", 0, ("write", "x", 1)), "c1")) == []
    assert s1.log == [(1, W1)]


def test_noop_leader_appends_an_entry_of_its_term():
    """Section 8: with noop=True a new leader appends a no-op of its term at once, and its
    first AppendEntries carry it."""
    s1 = servers(noop=True)["s1"]
    s1.handle(ElectionTimeout())
    assert plain(s1.handle(VoteReply(1, True), "s2")) == [("cancel", ElectionTimeout())] + [
        ("send", f, AppendEntries(1, 0, 0, ((1, NOOP),), 0)) for f in ("s2", "s3")]
    assert s1.log == [(1, NOOP)] and s1.held == [(1, NOOP)]


def test_follower_refuses_entries_without_a_matching_previous_entry():
    """AppendEntries: reply false if the log has no entry at prev_log_index whose term is
    prev_log_term (log matching); the refusal names that index."""
    s2 = server()
    s2.log = [(1, W1)]
    assert plain(s2.handle(AppendEntries(2, 2, 2, ((2, RD),), 0), "s1")) == [
        ("set", ElectionTimeout(), WAIT), ("send", "s1", AppendReply(2, False, 2))]
    assert plain(s2.handle(AppendEntries(2, 1, 2, ((2, RD),), 0), "s1"))[-1] == (
        "send", "s1", AppendReply(2, False, 1))
    assert s2.log == [(1, W1)] and s2.leader_id == "s1"


def test_a_conflicting_entry_is_deleted_with_all_that_follow():
    """AppendEntries: an existing entry that conflicts with a new one (same index, different
    terms): delete it and all that follow, then append the new entries."""
    s2 = server()
    s2.log = [(1, W1), (1, RD), (1, ("c1", 2, ("write", "x", 2)))]
    s2.current_term = 1
    assert plain(s2.handle(AppendEntries(2, 1, 1, ((2, RD),), 0), "s1"))[-1] == (
        "send", "s1", AppendReply(2, True, 2))
    assert s2.log == [(1, W1), (2, RD)]


def test_no_entry_is_deleted_without_a_conflict():
    """AppendEntries: append only the entries not already in the log; a late AppendEntries
    carrying fewer entries deletes nothing (and answers for what it carried)."""
    s2 = server()
    s2.log = [(1, W1), (1, RD)]
    assert plain(s2.handle(AppendEntries(1, 0, 0, ((1, W1),), 0), "s1"))[-1] == (
        "send", "s1", AppendReply(1, True, 1))
    assert plain(s2.handle(AppendEntries(1, 0, 0, (), 0), "s1"))[-1] == (
        "send", "s1", AppendReply(1, True, 0))
    assert s2.log == [(1, W1), (1, RD)]


def test_follower_commits_up_to_the_last_new_entry_and_applies():
    """AppendEntries: if leader_commit > commit_index, set commit_index = min(leader_commit,
    index of the last new entry); All servers: apply what is committed, in order.  A
    follower does not answer the clients."""
    s2 = server()
    assert plain(s2.handle(AppendEntries(1, 0, 0, ((1, W1),), 2), "s1"))[-1] == (
        "send", "s1", AppendReply(1, True, 1))
    assert (s2.commit_index, s2.last_applied, s2.kv, s2.sessions) == (1, 1, {"x": 1},
                                                                      {"c1": (0, "ok")})
    assert s2.applied == {(1, (1, W1), 1)}
    s2.handle(AppendEntries(1, 0, 0, (), 5), "s1")     # a late heartbeat: nothing new
    assert s2.commit_index == 1


def test_leader_backs_up_next_index_after_a_refusal():
    """Leaders: if AppendEntries fails because of log inconsistency, decrement next_index
    and retry.  A duplicate of the refusal, already acted on, is ignored."""
    s1 = leader()
    s1.log = [(1, W1), (1, RD)]
    s1.held = list(s1.log)
    s1.next_index["s2"] = 3
    assert plain(s1.handle(AppendReply(1, False, 2), "s2")) == [
        ("send", "s2", AppendEntries(1, 1, 1, ((1, RD),), 0))]
    assert s1.next_index["s2"] == 2
    assert plain(s1.handle(AppendReply(1, False, 2), "s2")) == []


def test_leader_commits_only_entries_of_its_term_by_counting():
    """Leaders: commit N if a majority has match_index >= N *and* log[N].term ==
    current_term.  An entry of an earlier term on a majority stays uncommitted (figure 8);
    it commits with the first entry of the leader's term, and the leader answers the
    clients as it applies their commands."""
    s1 = server("s1")
    s1.log = [(1, W1)]
    s1.current_term = 1
    s1.handle(ElectionTimeout())
    s1.handle(VoteReply(2, True), "s2")          # leader of term 2 with W1 from term 1
    assert plain(s1.handle(AppendReply(2, True, 1), "s2")) == []
    assert (s1.match_index["s2"], s1.next_index["s2"], s1.commit_index) == (1, 2, 0)
    s1.handle(Request("c1", 1, ("read", "x")), "c1")
    assert plain(s1.handle(AppendReply(2, True, 2), "s3")) == [
        ("send", "c1", Reply(0, "ok")), ("send", "c1", Reply(1, 1))]
    assert (s1.commit_index, s1.last_applied, s1.kv) == (2, 2, {"x": 1})
    assert s1.applied == {(1, (1, W1), 2), (2, (2, RD), 2)}


def test_a_late_success_teaches_the_leader_nothing():
    """A success at or below match_index (late, or duplicated) changes nothing."""
    s1 = leader()
    s1.handle(Request("c1", 0, ("write", "x", 1)), "c1")
    s1.handle(AppendReply(1, True, 1), "s2")
    assert s1.commit_index == 1
    assert plain(s1.handle(AppendReply(1, True, 1), "s2")) == []
    assert plain(s1.handle(AppendReply(1, True, 0), "s3")) == []
    assert s1.match_index == {"s2": 1, "s3": 0}


def test_heartbeat_sends_each_follower_what_it_lacks():
    """Leaders: repeat AppendEntries during idle periods (heartbeats), each carrying the
    entries from the follower's next_index on and the leader's commit index."""
    s1 = leader(heartbeat=1.0)
    s1.handle(Request("c1", 0, ("write", "x", 1)), "c1")
    s1.handle(AppendReply(1, True, 1), "s2")
    assert plain(s1.handle(HeartbeatTimer())) == [
        ("send", "s2", AppendEntries(1, 1, 1, (), 1)),
        ("send", "s3", AppendEntries(1, 0, 0, ((1, W1),), 1)),
        ("set", HeartbeatTimer(), 1.0)]


# ---- clients and the state machine ---------------------------------------------------------

def test_a_follower_redirects_clients_to_the_leader_it_knows():
    """A server that does not lead answers NotLeader(seq, leader) if it knows the leader,
    and nothing if it does not (the client will time out)."""
    s2 = server()
    assert plain(s2.handle(Request("c1", 0, ("write", "x", 1)), "c1")) == []
    s2.handle(AppendEntries(1, 0, 0, (), 0), "s3")
    assert plain(s2.handle(Request("c1", 0, ("write", "x", 1)), "c1")) == [
        ("send", "c1", NotLeader(0, "s3"))]


def test_a_command_appended_twice_takes_effect_once():
    """A retried command that two leaders appended is applied once (the session table),
    and a request already applied is answered from the table."""
    s1 = leader()
    w2 = ("c1", 0, ("write", "x", 2))
    s1.log = [(1, w2), (1, W1)]
    s1.held = list(s1.log)
    s1.handle(AppendReply(1, True, 2), "s2")
    assert s1.kv == {"x": 2} and s1.sessions == {"c1": (0, "ok")}
    assert plain(s1.handle(Request("c1", 0, ("write", "x", 1)), "c1")) == [
        ("send", "c1", Reply(0, "ok"))]


def test_restart_keeps_the_disk_and_rebuilds_the_state_machine():
    """current_term, voted_for and log survive a crash; commit_index, last_applied, the role
    and the state machine do not (they come back as the leader's commits arrive)."""
    s1 = leader()
    s1.handle(Request("c1", 0, ("write", "x", 1)), "c1")
    s1.handle(AppendReply(1, True, 1), "s2")
    s1.crash_reset()
    assert (s1.current_term, s1.voted_for, s1.log) == (1, "s1", [(1, W1)])
    assert (s1.role, s1.commit_index, s1.last_applied, s1.kv) == ("follower", 0, 0, {})
    assert s1.terms_won == {1} and s1.applied == {(1, (1, W1), 1)}
    assert plain(s1.run_hook("on_restart")) == [("set", ElectionTimeout(), WAIT)]


def test_client_follows_redirects_and_times_out_to_the_next_server():
    """A client sends to the server it believes leads; NotLeader sends it to the named
    leader, a timeout to the next server; at most max_retries resends per operation; a
    reply makes its sender the server for the next operation."""
    c1 = servers(client_timeout=8.0, max_retries=2)["c1"]
    assert plain(c1.run_hook("on_start")) == [
        ("invoke", ("write", "x", 1), None), ("send", "s1", Request("c1", 0, ("write", "x", 1))),
        ("set", RequestTimeout(0), 8.0)]
    assert plain(c1.handle(NotLeader(0, "s3"), "s1")) == [
        ("send", "s3", Request("c1", 0, ("write", "x", 1))), ("set", RequestTimeout(0), 8.0)]
    assert plain(c1.handle(RequestTimeout(0))) == [
        ("send", "s1", Request("c1", 0, ("write", "x", 1))), ("set", RequestTimeout(0), 8.0)]
    assert plain(c1.handle(RequestTimeout(0))) == []             # out of retries
    assert plain(c1.handle(Reply(0, "ok"), "s2")) == [
        ("response", ("write", "x", 1), "ok"), ("cancel", RequestTimeout(0)),
        ("set", NextOp(), 0.0)]
    assert c1.server == "s2" and c1.obsolete(Reply(0, "ok"))


@pytest.mark.parametrize("config, message", [
    (dict(servers=0), "servers must be a whole number from 1 to 9"),
    (dict(servers=10), "servers must be a whole number from 1 to 9"),
    (dict(clients=-1), "clients must be a whole number from 0 to 9"),
    (dict(election_timeout=0), "election_timeout must be a finite number > 0"),
    (dict(heartbeat=-1), "heartbeat must be a finite number > 0"),
    (dict(candidates=["s9"]), "candidates must be distinct servers"),
    (dict(candidates="s1"), "candidates must be a list"),
    (dict(max_term=0), "max_term must be a whole number >= 1"),
    (dict(noop="yes"), "noop must be True or False"),
    (dict(ops=[("write", "x")]), "an operation is"),
    (dict(ops=True), "ops must be a whole number or a list"),
    (dict(clients=2, ops=[[("read", "x")]]), "one list of operations per client"),
    (dict(server=int), "server must be RaftServer or a subclass"),
])
def test_bad_configuration(config, message):
    """The builder says what is wrong instead of failing deep inside a run."""
    with pytest.raises(ValueError, match=message):
        raft_system(**config)


# ---- the invariants and the table ----------------------------------------------------------

def three(**fields):
    """Three detached servers with the given fields: {"s1": {...}, ...}."""
    nodes = raft_system(3, 0, 0)
    for n in nodes:
        for k, v in fields.get(n.id, {}).items():
            setattr(n, k, v)
    return nodes


def test_election_safety_sees_two_winners_of_one_term():
    """Election Safety: two servers that both won term 2 (their terms_won) break it."""
    assert election_safety(three(s1={"terms_won": {1, 2}}, s2={"terms_won": {3}}))
    assert not election_safety(three(s1={"terms_won": {1, 2}}, s3={"terms_won": {2}}))


def test_leader_append_only_sees_an_overwritten_entry():
    """Leader Append-Only: a leader whose log no longer starts with what it held breaks it;
    a follower's log may change."""
    changed = {"log": [(2, RD)], "held": [(1, W1)]}
    assert not leader_append_only(three(s1=dict(changed, role="leader")))
    assert leader_append_only(three(s1=dict(changed, role="follower")))
    assert leader_append_only(three(s1={"role": "leader", "log": [(1, W1), (1, RD)],
                                        "held": [(1, W1)]}))


def test_log_matching_sees_equal_entries_after_different_ones():
    """Log Matching: the same (index, term) with different entries before it breaks it."""
    assert not log_matching(three(s1={"log": [(1, W1), (2, RD)]}, s2={"log": [(1, RD), (2, RD)]}))
    assert log_matching(three(s1={"log": [(1, W1), (2, RD)]}, s2={"log": [(1, W1), (3, RD)]}))


def test_leader_completeness_sees_a_leader_without_a_committed_entry():
    """Leader Completeness: an entry applied in term 1 must be in the log of a leader of term
    2; a leader of term 1 (elected before the commit, say) is not held to it."""
    done = {"applied": {(1, (1, W1), 1)}}
    assert not leader_completeness(three(s1=done, s2={"role": "leader", "current_term": 2}))
    assert leader_completeness(three(s1=done, s2={"role": "leader", "current_term": 1}))
    assert leader_completeness(three(s1=done, s2={"role": "leader", "current_term": 2,
                                                  "log": [(1, W1)]}))


def test_state_machine_safety_sees_two_entries_applied_at_one_index():
    """State Machine Safety: two different entries applied at index 1 break it, whenever
    each was applied."""
    assert not state_machine_safety(three(s1={"applied": {(1, (1, W1), 1)}},
                                          s2={"applied": {(1, (2, W1), 4)}}))
    assert state_machine_safety(three(s1={"applied": {(1, (1, W1), 1)}},
                                      s2={"applied": {(1, (1, W1), 3)}}))


def test_raft_table_of_a_simulation_and_of_a_trace_step():
    """raft_table: one row per server (term, role, vote, commit index, log) from a
    simulation, and from the states the trace player shows at a step (a crashed server's
    role reads "crashed")."""
    sim = Simulation(raft_system(3, 1, 2, election_timeout=3), seed=3,
                     faults=[crash("s3", at=20)])
    trace = sim.run(until=30)
    log = [(1, "x=1"), (1, "read x")]
    assert raft_table(sim) == [
        {"server": "s1", "term": 1, "role": "follower", "voted for": "s2", "commit": 2, "log": log},
        {"server": "s2", "term": 1, "role": "leader", "voted for": "s2", "commit": 2, "log": log},
        {"server": "s3", "term": 1, "role": "crashed", "voted for": "s2", "commit": 0, "log": log}]
    assert raft_table(trace.states_at(len(trace.steps) - 1)) == raft_table(sim)
    assert raft_table(trace.states_at(-1))[0] == {
        "server": "s1", "term": 0, "role": "follower", "voted for": None, "commit": 0, "log": []}
    assert describe_command(NOOP) == "noop"


# ---- message counts --------------------------------------------------------------------------

@pytest.mark.parametrize("n", [3, 5])
def test_messages_per_operation(n):
    """With a stable leader: the request, n - 1 AppendEntries, n - 1 AppendReply and the
    reply: 2n per operation (followers learn commits from the next AppendEntries).  The
    first election costs 4(n - 1): RequestVote and VoteReply to and from each follower, and
    the heartbeat round that claims the term."""
    cost = message_cost(n, ops=10)
    assert cost["election"] == 4 * (n - 1)
    assert cost["per_op"] == 2 * n
    assert cost["by_type"] == {"Request": 10, "AppendEntries": 10 * (n - 1),
                               "AppendReply": 10 * (n - 1), "Reply": 10}


# ---- the checker: the correct server --------------------------------------------------------
# Every scenario (SCENARIOS): a network that loses, duplicates and reorders (a duplicating
# network holds a set of messages: any may arrive now, again later, or never), timers that
# fire at any moment, no heartbeats; the bounds are each scenario's (max_term, who may stand,
# crashes).  Replies a server will ignore for good are pruned (RaftServer.obsolete).

def test_elections_are_safe():
    """"elections": 3 interchangeable servers (counted once per renaming), no clients,
    elections of term 1, one crash at any moment (then a restart from disk, or not): the
    five properties hold in all 1,323 states (10,964 transitions, depth 14); a leader can be
    elected in 3 steps (a timeout, a RequestVote, its VoteReply)."""
    r = check_raft("elections", progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (1323, 10964, 14)
    assert len(r.goals["a leader is elected"].path) == 3


def test_replication_from_scratch_is_safe():
    """"replication": 3 servers from scratch, no clients, each new leader's no-op the only
    entries, s1 and s3 may stand, up to term 2: safe in all 7,819 states (88,364
    transitions, depth 17); an entry is committed at the earliest in 5 steps (elected in 3,
    the no-op to one follower and its answer)."""
    r = check_raft("replication", progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (7819, 88364, 17)
    assert len(r.goals["an entry is committed"].path) == 5


def test_figure8_start_is_safe_and_commits_nothing_without_a_new_entry():
    """"figure 8" (figure8_start: s1 holds E1 of term 1, s2 holds F2 of term 2, s3 nothing;
    s1 and s2 may stand up to term 4), figure 2 as it is: safe in all 35,303 states (561,565
    transitions, depth 24).  No entry can ever be committed: E1 and F2 are of earlier
    terms, and no client sends a new command that would commit them indirectly."""
    r = check_raft("figure 8", progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (35303, 561565, 24)
    assert not r.goals["an entry is committed"].reached


def test_figure8_start_with_noop_is_safe_and_commits():
    """The same start with the leader's no-op (section 8): safe in all 33,195 states
    (520,775 transitions, depth 24), and an entry is committed in 7 steps: the no-op of
    the new leader's term carries the earlier entry with it."""
    r = check_raft("figure 8", noop=True, progress=False)
    assert r.ok and r.complete
    assert (r.states, r.transitions, r.max_depth) == (33195, 520775, 24)
    assert len(r.goals["an entry is committed"].path) == 7


def test_client_scenario_checked_up_to_depth_14():
    """"client": one client writing x=1 once, s1 and s3 may stand up to term 2.  Too big to
    finish (it passes 150,000 states), but every run of up to 14 steps is checked: 22,175
    states (250,746 transitions), all safe; the write is committed in 6 steps."""
    r = check_raft("client", max_depth=14, progress=False)
    assert r.ok and r.note == "explored every state up to depth 14"
    assert (r.states, r.transitions) == (22175, 250746)
    assert len(r.goals["an entry is committed"].path) == 6


def test_scenario_refuses_bad_input():
    """Unknown scenarios, and a noop choice where the scenario fixes it, are refused."""
    with pytest.raises(ValueError, match="unknown scenario 'paxos'"):
        scenario("paxos")
    with pytest.raises(ValueError, match="noop is a choice of the 'figure 8' scenario only"):
        scenario("elections", noop=True)
    assert list(SCENARIOS) == ["elections", "replication", "figure 8", "client"]


# ---- the checker: one rule broken at a time ---------------------------------------------------

def test_two_votes_in_one_term_elect_two_leaders():
    """VotesTwice (a voter that ignores voted_for) on "elections": election safety fails in 6
    steps (256 states): s1 and s3 both stand in term 1 and s2 votes for both."""
    r = check_raft("elections", raft_mutants.VotesTwice, progress=False)
    assert r.violation.name == "election safety" and len(r.violation.path) == 6
    assert r.states == 256
    votes = [a for a in r.violation.path.actions if isinstance(a, Deliver)
             and a.msg == VoteReply(1, True)]
    assert len(votes) == 2 and len({a.src for a in votes}) == 1


def test_term_and_vote_not_on_disk_elect_two_leaders():
    """ForgetsTermAndVote (current_term and voted_for in memory) on "elections": election
    safety fails in 8 steps (1,161 states): s2 votes for s1, crashes, restarts having voted
    for nobody in term 0, and votes for s3 in term 1."""
    r = check_raft("elections", raft_mutants.ForgetsTermAndVote, progress=False)
    assert r.violation.name == "election safety" and len(r.violation.path) == 8
    assert r.states == 1161
    actions = r.violation.path.actions
    assert actions[4:6] == [Crash("s2"), Restart("s2")]
    assert actions[-1] == Deliver("s2", "s3", VoteReply(1, True))


def test_a_vote_without_the_log_check_elects_a_leader_missing_a_committed_entry():
    """VotesWithoutLogCheck on "replication": leader completeness fails in 8 steps (1,665
    states): s1 wins term 1 with s3's vote and commits its no-op with s2; then s3, with an
    empty log, stands for term 2 and wins with the vote of s1 itself, which holds the
    committed entry.  On the "figure 8" start with the no-op it fails in 10 steps (6,387
    states)."""
    r = check_raft("replication", raft_mutants.VotesWithoutLogCheck, progress=False)
    assert r.violation.name == "leader completeness" and len(r.violation.path) == 8
    assert r.states == 1665
    assert r.violation.path.actions[-3:] == [
        Fire("s3", ElectionTimeout()), Deliver("s3", "s1", RequestVote(2, 0, 0)),
        Deliver("s1", "s3", VoteReply(2, True))]
    r = check_raft("figure 8", raft_mutants.VotesWithoutLogCheck, noop=True, progress=False)
    assert r.violation.name == "leader completeness" and len(r.violation.path) == 10
    assert r.states == 6387


FIGURE8_OVERWRITE = [
    Fire("s1", ElectionTimeout()),
    Fire("s1", ElectionTimeout()),
    Deliver("s1", "s2", RequestVote(3, 1, 1)),
    Deliver("s1", "s3", RequestVote(3, 1, 1)),
    Deliver("s3", "s1", VoteReply(3, True)),
    Deliver("s1", "s3", AppendEntries(3, 1, 1, (), 0)),
    Deliver("s3", "s1", AppendReply(3, False, 1)),
    Deliver("s1", "s3", AppendEntries(3, 0, 0, ((1, E1),), 0)),
    Deliver("s3", "s1", AppendReply(3, True, 1)),        # E1 on s1, s3: "committed" (the bug)
    Fire("s2", ElectionTimeout()),
    Deliver("s2", "s1", RequestVote(4, 1, 2)),
    Deliver("s1", "s2", VoteReply(4, True)),             # s2 leads term 4 without E1
    Deliver("s2", "s1", AppendEntries(4, 1, 2, (), 0)),
    Deliver("s1", "s2", AppendReply(4, False, 1)),
    Deliver("s2", "s1", AppendEntries(4, 0, 0, ((2, F2),), 0)),   # F2 overwrites E1 on s1
    Deliver("s1", "s2", AppendReply(4, True, 1))]        # and s2 applies F2 at index 1


def test_figure8_committing_an_earlier_term_by_counting_loses_a_committed_entry():
    """CommitsEarlierTerms (the commit rule without "of the leader's term") on "figure 8":
    s1 wins term 3, copies E1 (term 1) to s3 and, counting s1 and s3, commits and applies
    it; s2 (last term 2 beats 1) wins term 4 with s1's vote.  Leader completeness fails
    there, in 12 steps (8,665 states); checking state machine safety alone, the checker
    goes on to the overwrite, in 16 steps (30,668 states): F2 replaces E1 in s1's log (whose
    commit index still says 1) and s2 applies F2 at index 1, where s1 applied E1.  The run
    replays in the simulator, and its last state reads as a RaftScope table."""
    r = check_raft("figure 8", raft_mutants.CommitsEarlierTerms, progress=False)
    assert r.violation.name == "leader completeness" and len(r.violation.path) == 12
    assert r.states == 8665
    assert r.violation.path.actions == FIGURE8_OVERWRITE[:12]
    r = check_raft("figure 8", raft_mutants.CommitsEarlierTerms, progress=False,
                   invariants={"state machine safety": state_machine_safety})
    assert r.violation.name == "state machine safety" and len(r.violation.path) == 16
    assert r.states == 30668
    assert r.violation.path.actions == FIGURE8_OVERWRITE
    trace = r.violation.path.trace()
    rows = raft_table(trace.states_at(len(trace.steps) - 1))
    assert [tuple(row[k] for k in ("server", "term", "role", "commit", "log"))
            for row in rows] == [
        ("s1", 4, "follower", 1, [(2, "x=2")]),
        ("s2", 4, "leader", 1, [(2, "x=2")]),
        ("s3", 3, "follower", 0, [(1, "x=1")])]
    s1, s2 = r.violation.path.states[-1].node("s1"), r.violation.path.states[-1].node("s2")
    assert (1, (1, E1), 3) in s1.applied and (1, (2, F2), 4) in s2.applied


def test_the_correct_rule_on_the_same_run_commits_nothing():
    """The same 16 actions replayed with the correct server: s1 does not commit E1 at step
    9, so nothing is ever applied and overwriting E1 loses nothing."""
    nodes, controls, _ = scenario("figure 8")
    sim = Simulation(nodes, controls=controls)
    for action in FIGURE8_OVERWRITE:
        sim.perform(action)
    assert all(not n.applied for n in sim.nodes.values() if isinstance(n, RaftServer))
    assert all(inv(sim) for inv in RAFT_INVARIANTS.values())


def test_a_follower_that_keeps_conflicting_entries_breaks_log_matching():
    """KeepsConflictingEntries on "figure 8" with the no-op: log matching fails in 6 steps
    (542 states): s2 wins term 3 with s1's vote and sends [F2, no-op 3]; s1 keeps its E1
    where F2 conflicts and appends the no-op, so both logs hold (index 2, term 3) but differ
    at index 1."""
    r = check_raft("figure 8", raft_mutants.KeepsConflictingEntries, noop=True, progress=False)
    assert r.violation.name == "log matching" and len(r.violation.path) == 6
    assert r.states == 542
    s1 = r.violation.path.states[-1].node("s1")
    assert s1.log == [(1, E1), (3, NOOP)]
    assert r.violation.path.states[-1].node("s2").log == [(2, F2), (3, NOOP)]


def test_a_follower_that_truncates_without_a_conflict_loses_a_committed_entry():
    """TruncatesWithoutConflict on "client": leader completeness fails in 10 steps (5,543
    states): s3 stores s1's write, then s1's earlier, empty AppendEntries arrives late and
    wipes it; the duplicate success still counts, s1 commits the write with s3, and s3,
    with an empty log, wins term 2 with s2's vote.  The correct server is safe on every run
    of up to 14 steps of the same scenario (above)."""
    r = check_raft("client", raft_mutants.TruncatesWithoutConflict, progress=False)
    assert r.violation.name == "leader completeness" and len(r.violation.path) == 10
    assert r.states == 5543
    actions = r.violation.path.actions
    assert actions[4:7] == [Deliver("s1", "s3", AppendEntries(1, 0, 0, ((1, W1),), 0)),
                            Deliver("s1", "s3", AppendEntries(1, 0, 0, (), 0)),
                            Deliver("s3", "s1", AppendReply(1, True, 1))]


def test_a_mutant_is_a_raft_server():
    """Every broken rule is a RaftServer subclass that raft_system accepts."""
    for cls in raft_mutants.MUTANTS:
        assert issubclass(cls, RaftServer)
        assert isinstance(raft_system(server=cls)[0], cls)


# ---- randomized runs ---------------------------------------------------------------------------

def random_faults(seed):
    """Two crashes of random servers at random times, each restarted 1 to 8 later, and one
    random server cut off by a partition that heals 2 to 10 later."""
    rng = random.Random(seed)
    faults = []
    for _ in range(2):
        who, at = rng.choice(S), rng.uniform(0, 20)
        faults += [crash(who, at=at), restart(who, at=at + rng.uniform(1, 8))]
    at = rng.uniform(0, 20)
    return faults + [partition([rng.choice(S)], at=at), heal(at=at + rng.uniform(2, 10))]


def safe(servers):
    """The five properties, on a simulation or on its servers (a list: quicker to read)."""
    return all(inv(servers) for inv in RAFT_INVARIANTS.values())


def test_randomized_runs_are_safe():
    """1,000 seeds, 10% loss, 5% duplication, latencies from 0.5 to 1.5, election timeouts
    from 3 to 6, two crashes and restarts and a partition that heals, two clients of three
    operations each, 60 time units: the five properties hold after every step of every
    run, and every client history is linearizable.  949 runs finish every operation; in
    688 more than one leader is elected."""
    finished = changed = 0
    for seed in range(1000):
        sim = Simulation(raft_system(3, clients=2, ops=3, election_timeout=3, client_timeout=5),
                         network=Network(Uniform(0.5, 1.5), loss=0.1, duplicate=0.05),
                         faults=random_faults(seed), seed=seed, record_states=False)
        servers = [sim.nodes[s] for s in S]
        trace = sim.run(until=lambda sim: sim.now >= 60 or not safe(servers))
        assert safe(sim), seed
        assert linearizable_history(trace).ok, seed
        finished += all_answered(sim)
        changed += sum(len(n.terms_won) for n in sim.nodes.values()
                       if isinstance(n, RaftServer)) > 1
    assert (finished, changed) == (949, 688)


def test_same_seed_same_trace():
    """Runs are reproducible: the same configuration, faults and seed give the same digest."""
    def run():
        sim = Simulation(raft_system(3, clients=2, ops=3, election_timeout=3, client_timeout=5),
                         network=Network(Uniform(0.5, 1.5), loss=0.1), faults=random_faults(7),
                         seed=7)
        return sim.run(until=40).digest()
    assert run() == run()


def test_a_reader_can_check_a_plain_check_call():
    """raft_system builds the same nodes for check() as for a Simulation: a direct call
    with the "elections" settings gives check_raft's result."""
    r = check(raft_system(3, 0, 0, heartbeat=None, max_term=1),
              Controls(duplicate=True, max_crashes=1), invariants=RAFT_INVARIANTS,
              progress=False, symmetric=S)
    assert r.ok and r.states == 1323


def test_figure8_start_holds_the_story():
    """figure8_start: the disks of the story, everything else as a fresh server's."""
    s1, s2, s3 = figure8_start()[:3]
    assert (s1.current_term, s1.voted_for, s1.log, s1.terms_won) == (1, "s1", [(1, E1)], {1})
    assert (s2.current_term, s2.voted_for, s2.log, s2.terms_won) == (2, "s2", [(2, F2)], {2})
    assert (s3.current_term, s3.voted_for, s3.log, s3.may_stand) == (2, "s2", [], False)
    assert isinstance(figure8_start()[3], RaftClient)
