"""Chapter 10 (Raft): exercise checks.  The vote rule and the commit rule, written by the
reader, are probed on hand-made servers, then put through the checker (bounded); who can
win an election is judged from a table of logs."""

from __future__ import annotations

from .core import Hint, exercise, function, names, whole_number

#: the logs of the who-can-win exercise: server -> the term of each entry, index 1 first
ELECTION_LOGS = {"s1": [1, 1, 2], "s2": [1, 1, 2, 2], "s3": [1, 3], "s4": [1],
                 "s5": [1, 1, 3, 3]}
#: a bound on every exploration a check runs with the reader's code
MAX_STATES = 60_000


def _last(terms) -> tuple:
    """(last term, length) of a log given as its terms: what the vote rule compares."""
    return (terms[-1] if terms else 0, len(terms))


def can_win(logs: dict = ELECTION_LOGS) -> set:
    """The servers that can win an election in the next term: those whose log is at least
    as up-to-date as the logs of a majority (their own vote included)."""
    majority = len(logs) // 2 + 1
    return {c for c in logs
            if sum(_last(logs[c]) >= _last(logs[v]) for v in logs) >= majority}


def _voters(c, logs=ELECTION_LOGS) -> list:
    return sorted(v for v in logs if v != c and _last(logs[c]) >= _last(logs[v]))


@exercise
def check_who_can_win(answer):
    """10: which servers of ``ELECTION_LOGS`` can become leader of the next term?"""
    got = {x.lower() for x in names(answer, "the servers", "{'s1', 's2'}")}
    unknown = sorted(got - set(ELECTION_LOGS))
    if unknown:
        raise Hint(f"unknown server(s) {unknown}; the servers are {', '.join(ELECTION_LOGS)}.")
    want = can_win()
    if got == want:
        return ("; ".join(f"{c} (votes from itself and {', '.join(_voters(c))})"
                          for c in sorted(want))
                + ". A candidate needs 3 of 5 votes; a longer log alone, or a later last "
                  "term alone, is not the rule: last term first, then length.")
    by_length = {c for c in ELECTION_LOGS
                 if sum(len(ELECTION_LOGS[c]) >= len(ELECTION_LOGS[v])
                        for v in ELECTION_LOGS) >= 3}
    if got == by_length or ("s1" in got and "s3" not in got):
        raise Hint("you compared the lengths of the logs first. The vote rule compares the "
                   "terms of the last entries first: s3's log is short, but it ends in term 3, "
                   "so s1, s2 and s4 find it at least as up-to-date as theirs.")
    if "s1" in got:
        raise Hint("s1's log ends in term 2 at index 3. s2 (term 2 at index 4), s3 and s5 (term "
                   "3) are more up-to-date: only s4 would vote for s1, 2 votes of the 3 needed.")
    if got == {c for c in ELECTION_LOGS if ELECTION_LOGS[c][-1] == 3} or got == {"s5"}:
        raise Hint("a candidate does not need the most up-to-date log of all, only one at least "
                   "as up-to-date as a majority's (itself included). Count s2's voters.")
    if got <= {"s2", "s5"}:
        raise Hint("look at s3 again: its log is short, but its last term, 3, beats the last "
                   "terms of s1, s2 and s4. Last term first, then length.")
    if "s4" in got:
        raise Hint("s4 holds one entry of term 1: every other log is more up-to-date, so only "
                   "s4 itself would vote for it.")
    raise Hint("for each server, count who would vote for it: a voter grants when the "
               "candidate's last term is higher than its own, or equal with a log at least as "
               "long. 3 votes of 5 win.")


# ---- the vote rule ----------------------------------------------------------------------


def _probe_server(log_terms, voted_for=None, term=None, servers=3, cls=None):
    """A server s2 in term ``term`` (default: its last entry's term, or 1) holding entries of
    these terms and having voted for ``voted_for``."""
    from ..protocols.raft import RaftServer, server_ids
    cls = cls or RaftServer
    s = cls("s2", server_ids(servers))
    s.log = [(t, f"e{i}") for i, t in enumerate(log_terms, 1)]
    s.current_term = term if term is not None else max(log_terms, default=1)
    s.voted_for = voted_for
    return s


#: (voter's log terms, voted_for, candidate, candidate's last log term, last log index,
#:  whether the vote is granted)
VOTE_CASES = [
    ([], None, "s1", 0, 0, True),
    ([1, 1], None, "s1", 1, 2, True),             # equal logs
    ([1, 1], None, "s1", 1, 1, False),            # same last term, shorter
    ([1, 1], None, "s1", 2, 1, True),             # later last term, shorter
    ([2], None, "s1", 1, 3, False),               # longer, earlier last term
    ([1, 2], "s3", "s1", 2, 2, False),            # voted for another in this term
    ([1, 2], "s1", "s1", 2, 2, True),             # voted for this one already: say so again
]


def _vote_hint(case, got) -> str:
    terms, voted, cand, last_term, last_index, want = case
    mine = f"a voter whose log ends in term {_last(terms)[0]} at index {len(terms)}"
    theirs = f"a candidate whose log ends in term {last_term} at index {last_index}"
    if voted == "s3":
        return ("your rule grants a second vote in one term: the voter already voted for s3 "
                "in this term (voted_for), so s1 must be refused, or two leaders can win it.")
    if voted == "s1":
        return ("the voter already voted for s1 in this term and s1 asks again (its request "
                "was duplicated): granting again is allowed, and needed if the first answer "
                "was lost. Grant when voted_for is None or the candidate.")
    if last_term > _last(terms)[0]:
        return (f"{mine} must grant {theirs}: a later last term is more up-to-date, whatever "
                f"the lengths. Compare the last terms first, the lengths only on a tie.")
    if last_term < _last(terms)[0]:
        return (f"{mine} must refuse {theirs}: an earlier last term is less up-to-date, even "
                f"with a longer log (its extra entries may never have been committed).")
    if last_index == len(terms):
        return (f"{mine} must grant {theirs}: equal logs count as up-to-date (at least as "
                f"up-to-date, >=, not >).")
    return (f"{mine} must refuse {theirs}: with equal last terms, the longer log is more "
            f"up-to-date.")


def _answer_voter(rule):
    from ..protocols.raft import RaftServer

    class AnswerVoter(RaftServer):
        """A Raft server that grants votes by the reader's rule."""

        def grants_vote(self, candidate, last_log_term, last_log_index):
            return bool(rule(self, candidate, last_log_term, last_log_index))
    return AnswerVoter


def _verdict(result, what) -> None:
    """A hint from a checker Result that found a violation or did not finish."""
    if result.violation is not None:
        raise Hint(f"the checker broke '{result.violation.name}' in "
                   f"{len(result.violation.path)} steps with {what}: read the path with "
                   f"print(r.violation.path).")
    if not result.complete:
        raise Hint(f"the checker did not finish within {MAX_STATES:,} states with {what}.")


@exercise
def check_vote_rule(grant_vote):
    """10: the vote rule, ``grant_vote(voter, candidate, last_log_term, last_log_index)``:
    probed on hand-made voters, then checked exhaustively in the "elections" and
    "replication" scenarios (``check_raft``)."""
    from ..protocols.raft import check_raft
    rule = function(grant_vote, "check_vote_rule(grant_vote)")
    for case in VOTE_CASES:
        terms, voted, cand, last_term, last_index, want = case
        got = rule(_probe_server(terms, voted), cand, last_term, last_index)
        if got is None:
            raise Hint("your grant_vote returned None (did you forget return?). Return True "
                       "to grant the vote, False to refuse it.")
        if bool(got) != want:
            raise Hint(_vote_hint(case, bool(got)))
    cls = _answer_voter(rule)
    states = 0
    for scenario in ("elections", "replication"):
        r = check_raft(scenario, server=cls, max_states=MAX_STATES, progress=False)
        _verdict(r, f"your vote rule ({scenario!r} scenario)")
        states += r.states
    return (f"right on {len(VOTE_CASES)} hand cases, and the five properties hold in all "
            f"{states:,} states of the 'elections' and 'replication' scenarios with your rule.")


# ---- the commit rule ----------------------------------------------------------------------


def _probe_leader(log_terms, matched, servers=3, term=3):
    """s1 leading ``term`` with entries of these terms; ``matched``: follower -> match_index."""
    from ..protocols.raft import RaftServer, server_ids
    s = RaftServer("s1", server_ids(servers))
    s.log = [(t, f"e{i}") for i, t in enumerate(log_terms, 1)]
    s.current_term, s.role = term, "leader"
    s.match_index = {p: matched.get(p, 0) for p in s.peers}
    s.next_index = {p: s.match_index[p] + 1 for p in s.peers}
    return s


#: (leader's log terms, follower -> match_index, servers, index, may the leader commit it)
COMMIT_CASES = [
    ([1, 3], {"s2": 2}, 3, 2, True),                         # own term, on s1 and s2
    ([1, 3], {}, 3, 2, False),                               # only on the leader
    ([1, 1], {"s2": 2}, 3, 2, False),                        # figure 8: an earlier term
    ([3, 3], {"s2": 2}, 5, 2, False),                        # 2 of 5 is no majority
    ([3, 3], {"s2": 2, "s3": 2}, 5, 2, True),                # 3 of 5
    ([3, 3], {"s2": 1, "s3": 2, "s4": 2}, 5, 2, True),
]


def _commit_hint(case, got) -> str:
    terms, matched, servers, index, want = case
    stored = 1 + sum(1 for m in matched.values() if m >= index)
    if terms[index - 1] != 3 and got:
        return (f"your rule commits entry {index} of term {terms[index - 1]} in term 3 because "
                f"it is on {stored} of {servers} servers. That is the paper's figure 8: an "
                f"entry of an earlier term on a majority can still be overwritten. Count "
                f"replicas only for entries of the leader's own term (leader.term_at(index) "
                f"== leader.current_term).")
    if want and stored == servers // 2 + 1:
        return (f"entry {index} (term 3) is on {stored} of {servers} servers, the leader "
                f"included: that is a majority (leader.majority = {servers // 2 + 1}). Did you "
                f"forget to count the leader itself, or compare with > instead of >=? "
                f"leader.replicas(index) counts both.")
    if not want and stored <= servers // 2:
        return (f"entry {index} is on {stored} of {servers} servers, not a majority "
                f"({servers // 2 + 1} needed), yet your rule commits it.")
    return (f"with {servers} servers, entry {index} (term {terms[index - 1]}) stored on "
            f"{stored} of them, the leader in term 3 may {'' if want else 'not '}commit it; "
            f"your rule says {got}.")


def _answer_leader(rule):
    from ..protocols.raft import RaftServer

    class AnswerLeader(RaftServer):
        """A Raft server that commits by the reader's rule."""

        def commit_ok(self, index):
            return bool(rule(self, index))
    return AnswerLeader


@exercise
def check_commit_rule(may_commit):
    """10: the commit rule, ``may_commit(leader, index)``: probed on hand-made leaders, then
    checked exhaustively on the figure-8 start (``check_raft("figure 8")``)."""
    from ..protocols.raft import check_raft
    rule = function(may_commit, "check_commit_rule(may_commit)")
    for case in COMMIT_CASES:
        terms, matched, servers, index, want = case
        got = rule(_probe_leader(terms, matched, servers), index)
        if got is None:
            raise Hint("your may_commit returned None (did you forget return?). Return True if "
                       "the leader may commit the entry at index, else False.")
        if bool(got) != want:
            raise Hint(_commit_hint(case, bool(got)))
    r = check_raft("figure 8", server=_answer_leader(rule), noop=True, max_states=MAX_STATES,
                   progress=False)
    _verdict(r, "your commit rule (the figure-8 start, with the no-op)")
    if not r.goals["an entry is committed"].reached:
        raise Hint("your rule is safe, but no entry is ever committed on the figure-8 start: "
                   "a leader must commit an entry of its own term once a majority stores it.")
    return (f"right on {len(COMMIT_CASES)} hand cases, and on the figure-8 start (with the "
            f"no-op) the five properties hold in all {r.states:,} states; an entry is "
            f"committed in {len(r.goals['an entry is committed'].path)} steps.")


# ---- a prediction: how often a follower refuses --------------------------------------------


@exercise
def check_refusal_prediction(answer):
    """10: in ``replication_story``, how many AppendEntries does s2 refuse before its log
    matches s1's?"""
    from ..experiments.raft import STORY_LOGS
    got = whole_number(answer, "the number of refusals")
    refused = [index for who, index in _refusals() if who == "s2"]
    s1_terms, s2_terms = ([t for t, _ in STORY_LOGS[s][1]] for s in ("s1", "s2"))
    if got == len(refused):
        at = refused[-1] - 1
        return (f"s2 refuses at prev_log_index {' and '.join(map(str, refused))}: its entries "
                f"there are of terms {', '.join(str(s2_terms[i - 1]) for i in refused)}, s1's "
                f"of terms {', '.join(str(s1_terms[i - 1]) for i in refused)}. At index {at} "
                f"both hold term {s1_terms[at - 1]}, so the next AppendEntries matches and s2 "
                f"deletes its conflicting entries.")
    if got == len(refused) - 1:
        raise Hint(f"after the first refusal s1 sends from prev_log_index 2 with prev_log_term 1 "
                   f"(its entry 2 is of term 1); s2's entry 2 is of term {s2_terms[1]}: it "
                   f"refuses again.")
    if got == 0:
        raise Hint("s2 does hold an entry at index 3, the prev_log_index of s1's first "
                   f"AppendEntries, but of term {s2_terms[2]}, not 3: log matching compares "
                   "terms, not only lengths.")
    if got > len(refused):
        raise Hint(f"at index 1 both logs hold an entry of term 1: that AppendEntries matches. "
                   f"(s3 refuses too; the question counts s2's refusals only.)")
    raise Hint("follow s1's next_index for s2: it starts after s1's last entry and goes back "
               "one entry per refusal, until the entry before it has the same term in both logs.")


def _refusals():
    from ..experiments.raft import refusals, replication_story
    return refusals(replication_story().trace)
