"""Chapter 10's checks: who can win an election from a table of logs, the vote rule and the
commit rule written by the reader (probed on hand-made servers, then checked, bounded),
with the classic near misses: comparing lengths first, a second vote in a term, committing
an earlier term's entry by counting replicas (figure 8), forgetting the leader's own copy."""

from replib.protocols.raft import RaftServer

from . import case_test

# ---- the vote rule ----


def vote(voter, candidate, last_log_term, last_log_index):
    return (voter.voted_for in (None, candidate)
            and (last_log_term, last_log_index) >= (voter.last_log_term, len(voter.log)))


def vote_spelled_out(voter, candidate, last_log_term, last_log_index):
    if voter.voted_for is not None and voter.voted_for != candidate:
        return False
    mine = voter.log[-1][0] if voter.log else 0
    if last_log_term != mine:
        return last_log_term > mine
    return last_log_index >= len(voter.log)


def vote_with_helpers(voter, candidate, last_log_term, last_log_index):
    return voter.may_vote_for(candidate) and voter.up_to_date(last_log_term, last_log_index)


def vote_length_first(voter, candidate, last_log_term, last_log_index):
    return voter.voted_for in (None, candidate) and \
        (last_log_index, last_log_term) >= (len(voter.log), voter.last_log_term)


def vote_twice(voter, candidate, last_log_term, last_log_index):
    return (last_log_term, last_log_index) >= (voter.last_log_term, len(voter.log))


def vote_strictly(voter, candidate, last_log_term, last_log_index):
    return voter.voted_for in (None, candidate) and \
        (last_log_term, last_log_index) > (voter.last_log_term, len(voter.log))


def vote_without_log_check(voter, candidate, last_log_term, last_log_index):
    return voter.voted_for in (None, candidate)


def vote_once_only(voter, candidate, last_log_term, last_log_index):
    return voter.voted_for is None and \
        (last_log_term, last_log_index) >= (voter.last_log_term, len(voter.log))


def vote_stub(voter, candidate, last_log_term, last_log_index):
    pass


def vote_raises(voter, candidate, last_log_term, last_log_index):
    return voter.votes_for == candidate


def vote_loops(voter, candidate, last_log_term, last_log_index):
    while voter:
        pass


# ---- the commit rule ----


def commit(leader, index):
    return leader.replicas(index) >= leader.majority and \
        leader.term_at(index) == leader.current_term


def commit_by_hand(leader, index):
    stored = 1 + len([f for f, m in leader.match_index.items() if m >= index])
    return leader.log[index - 1][0] == leader.current_term and 2 * stored > len(leader.servers)


def commit_any_term(leader, index):
    return leader.replicas(index) >= leader.majority


def commit_followers_only(leader, index):
    return sum(m >= index for m in leader.match_index.values()) >= leader.majority and \
        leader.term_at(index) == leader.current_term


def commit_strict_majority(leader, index):
    return leader.replicas(index) > leader.majority and \
        leader.term_at(index) == leader.current_term


def commit_any_replica(leader, index):
    return leader.replicas(index) >= 1 and leader.term_at(index) == leader.current_term


def commit_stub(leader, index):
    pass


def commit_raises(leader, index):
    return leader.replicas(index) >= leader.quorum


def commit_loops(leader, index):
    while index:
        pass


CASES = {
    "check_who_can_win": dict(
        right=[{"s2", "s3", "s5"}, ["s5", "s3", "s2"], "s2, s3, s5", ("S2", "s3", "s5")],
        wrong=[({"s1", "s2", "s5"}, "you compared the lengths of the logs first"),
               ({"s2", "s5"}, "look at s3 again"),
               ({"s5"}, "does not need the most up-to-date log of all"),
               ({"s3", "s5"}, "does not need the most up-to-date log of all"),
               ({"s1", "s2", "s3", "s5"}, "only s4 would vote for s1"),
               ({"s2", "s3", "s4", "s5"}, "s4 holds one entry of term 1")],
        malformed=[(None, "your answer is None"), (3, "give the servers as a set of names"),
                   ({"s6"}, "unknown server(s) ['s6']")],
    ),
    "check_refusal_prediction": dict(
        right=[2, 2.0, "2"],
        wrong=[(1, "it refuses again"), (0, "log matching compares terms"),
               (3, "that AppendEntries matches"), (4, "counts s2's refusals only")],
        malformed=[(None, "your answer is None"), ("two", "as a whole number"),
                   (2.5, "as a whole number")],
    ),
    "check_vote_rule": dict(
        right=[vote, vote_spelled_out, vote_with_helpers],
        wrong=[(vote_length_first, "Compare the last terms first"),
               (vote_twice, "your rule grants a second vote in one term"),
               (vote_strictly, "at least as up-to-date, >=, not >"),
               (vote_without_log_check, "the longer log is more up-to-date"),
               (vote_once_only, "granting again is allowed"),
               (vote_stub, "your grant_vote returned None")],
        malformed=[(None, "your answer is None"), (vote(RaftServer("s1", ["s1"]), "s1", 0, 0),
                                                    "give your function itself"),
                   (vote_raises, "raised AttributeError"), (vote_loops, "still running after")],
    ),
    "check_commit_rule": dict(
        right=[commit, commit_by_hand],
        wrong=[(commit_any_term, "That is the paper's figure 8"),
               (commit_followers_only, "forget to count the leader itself"),
               (commit_strict_majority, "compare with > instead of >="),
               (commit_any_replica, "not a majority"),
               (commit_stub, "your may_commit returned None")],
        malformed=[(None, "your answer is None"), ("may_commit", "give your function itself"),
                   (commit_raises, "raised AttributeError"), (commit_loops, "still running after")],
    ),
}


test_check = case_test(CASES)
