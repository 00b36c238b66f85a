"""Raft with one rule broken: each bug as a small subclass of ``RaftServer`` for the checker.

Pass one to ``raft_system(server=...)``; the system simulates and is checked exactly like
the real one, so the checker finds a shortest run that breaks one of the paper's five
properties (draw it with ``path.trace()``).

    VotesWithoutLogCheck      grants a vote without the up-to-date test: a server missing
                              a committed entry can win (leader completeness fails)
    VotesTwice                forgets it voted: two candidates win one term
                              (election safety fails)
    CommitsEarlierTerms       commits an entry of an earlier term by counting replicas:
                              the paper's figure 8, a committed entry is overwritten
    KeepsConflictingEntries   a follower that does not truncate on conflict: it keeps its
                              own entry, says it matches, and applies it
    TruncatesWithoutConflict  a follower that truncates without a conflict: a late, shorter
                              AppendEntries deletes entries it acknowledged
    ForgetsTermAndVote        current_term and voted_for in memory only: after a restart
                              it votes again in a term it voted in
"""

from __future__ import annotations

from .raft import RaftServer


class VotesWithoutLogCheck(RaftServer):
    """The vote rule without its log test: any candidate of the term gets the vote."""

    def up_to_date(self, last_log_term, last_log_index) -> bool:
        return True


class VotesTwice(RaftServer):
    """Grants every candidate whose log is up-to-date, even after voting in the term."""

    def may_vote_for(self, candidate) -> bool:
        return True


class CommitsEarlierTerms(RaftServer):
    """The commit rule without "of the leader's own term": any entry stored on a majority
    is committed, whatever its term."""

    def commit_ok(self, index) -> bool:
        return self.replicas(index) >= self.majority


class KeepsConflictingEntries(RaftServer):
    """A follower that never deletes: where its entry conflicts with the leader's it keeps
    its own (and still answers success); it only appends beyond its last entry."""

    def store_entries(self, prev, entries):
        for k, entry in enumerate(entries):
            if prev + 1 + k > len(self.log):
                self.log.append(entry)


class TruncatesWithoutConflict(RaftServer):
    """A follower that replaces everything after ``prev`` with the entries it receives,
    conflict or not."""

    def store_entries(self, prev, entries):
        del self.log[prev:]
        self.log.extend(entries)


class ForgetsTermAndVote(RaftServer):
    """Only the log is on disk (and the history variables, which the checks need):
    ``current_term`` and ``voted_for`` are lost in a crash."""

    stable = ("log", "terms_won", "applied")


MUTANTS = (VotesWithoutLogCheck, VotesTwice, CommitsEarlierTerms, KeepsConflictingEntries,
           TruncatesWithoutConflict, ForgetsTermAndVote)
