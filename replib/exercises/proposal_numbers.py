"""Chapter 07 (proposal numbers): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, function, whole_number, yes_no


def _chubby_cases():
    """(n, i, seen) for every n 1..6, proposer i < n and seen None, 0..4n+2; the worked
    examples of the chapter first."""
    cases = [(3, 0, 1), (3, 2, 3)]
    for n in range(1, 7):
        for i in range(n):
            for seen in [None] + list(range(4 * n + 3)):
                if (n, i, seen) not in cases[:2]:
                    cases.append((n, i, seen))
    return cases


def _whole(value) -> bool:
    """A whole number, numpy integers and 3.0 included (not True/False)."""
    try:
        whole_number(value)
    except Hint:
        return False
    return True


def _chubby_hint(call, got, n, i, seen, truth) -> str:
    low = 0 if seen is None else seen
    if got is None:
        return (f"{call} returned None (did you forget return?); it should return a whole "
                f"number ({truth}).")
    if not _whole(got):
        return f"{call} returned {got!r}; it should return a whole number ({truth})."
    got = int(got)
    if (n, i, seen) == (3, 0, 1) and got == 4:
        return (f"{call} returned 4: that is the reference notes' slip (\"new P1 = 1*3+1 = 4\"). "
                f"4 mod 3 is 1, proposer 1's residue; proposer 0 uses 0, 3, 6, ..., so it "
                f"moves to 3.")
    if seen is None and got <= 0:
        return (f"{call} returned {got}, but numbers start at 1 (nothing seen is like having "
                f"seen 0): proposer {i}'s first number is {truth}.")
    if got <= low:
        return (f"{call} returned {got}, which is not above {low}: the next number must be "
                f"larger than every number the proposer has seen ({truth} here).")
    if got % n != i:
        return (f"{call} returned {got}, but {got} mod {n} is {got % n}: proposer {i} may only "
                f"use numbers s with s mod {n} == {i} (here {truth}).")
    return (f"{call} returned {got}; {truth} is smaller, still above {low}, and also "
            f"proposer {i}'s: take the smallest such number.")


@exercise
def check_chubby_next(chubby_next):
    """07: Chubby's rule: proposer i of n takes the smallest s above seen with s mod n == i."""
    from ..protocols.ballots import ModN
    chubby_next = function(chubby_next, "chubby_next")
    cases = _chubby_cases()
    for n, i, seen in cases:
        truth = ModN(n).next(seen, i)
        call = f"chubby_next(n={n}, i={i}, seen={seen!r})"
        try:
            got = chubby_next(n, i, seen)
        except Exception as exc:
            extra = (" None means nothing seen yet: count from 0." if seen is None else "")
            raise Hint(f"{call} raised {type(exc).__name__}: {exc}.{extra}") from None
        if not _whole(got) or got != truth:
            raise Hint(_chubby_hint(call, got, n, i, seen, truth))
    return (f"your function agrees with Chubby's rule on all {len(cases)} cases (n = 1 to 6, "
            f"every proposer, seen = None and 0 to 4n + 2), e.g. proposer 0 of 3 that has seen "
            f"1 moves to 3, proposer 2 that has seen 3 moves to 5.")


@exercise
def check_next_number_prediction(answer):
    """07: n = 3, proposer 1 has seen 7: which number next?"""
    from ..protocols.ballots import ModN
    value = whole_number(answer, "the next number")
    truth = ModN(3).next(7, 1)
    if value == truth:
        return (f"{truth}: above 7, proposer 1's numbers are {truth}, {truth + 3}, "
                f"{truth + 6}, ... (8 is proposer 2's, 9 is proposer 0's).")
    if value <= 7:
        raise Hint(f"{value} is not above 7: a proposer must pick a number larger than every "
                   f"number it has seen, or the acceptors that promised 7 reject it.")
    if value % 3 != 1:
        raise Hint(f"{value} mod 3 is {value % 3}: that number belongs to proposer {value % 3}. "
                   f"Proposer 1 uses numbers s with s mod 3 == 1.")
    raise Hint(f"{value} is proposer 1's and above 7, but a smaller one of its numbers is "
               f"also above 7: take the smallest.")


@exercise
def check_naive_safety_prediction(answer):
    """07: with naive numbers and the strict rule 1b, does agreement fail?"""
    value = yes_no(answer, "answer True (the checker finds two values chosen) or False")
    from ..check import check
    from ..actions import Controls
    from ..experiments.proposal_numbers import collision_system
    from ..protocols.paxos import PAXOS_INVARIANTS
    r = check(collision_system("naive"), Controls(timers=False), invariants=PAXOS_INVARIANTS,
              progress=False, max_states=100_000)
    if value == (not r.ok):
        return (f"the checker explores all {r.states:,} states and agreement holds in every "
                f"one: an acceptor promises a number to one proposer only (n > promised), so "
                f"at most one proposer gathers a majority of promises for 1.")
    raise Hint("both proposers do start with number 1. But look at rule 1b: an acceptor that "
               "promised 1 to p1 rejects p2's Prepare(1), since 1 is not above 1. Can both "
               "get a majority of promises for 1?")


@exercise
def check_disagreeing_n(seen):
    """07: a seen number after which proposer 2 (n = 3) and proposer 3 (n = 4) collide."""
    from ..protocols.ballots import ModN
    value = whole_number(seen, "seen")
    if value < 0:
        raise Hint("proposal numbers are never negative; give a number >= 0.")
    old, new = ModN(3).next(value, 2), ModN(4).next(value, 3)
    if old == new:
        return (f"after seeing {value} both pick {old}: proposer 2 (n = 3) uses 2, 5, 8, 11, "
                f"... and proposer 3 (n = 4) uses 3, 7, 11, ...; they share every number "
                f"that is 11 plus a multiple of 12.")
    if value >= 1 and ModN(3).next(value - 1, 2) == ModN(4).next(value - 1, 3) == value:
        raise Hint(f"{value} is the number they share, the one they would both *pick*. The "
                   f"answer is a number they have *seen* before picking it: something below "
                   f"{value}.")
    raise Hint(f"after seeing {value}, proposer 2 (n = 3) picks {old} and proposer 3 (n = 4) "
               f"picks {new}. List each one's numbers (usable_numbers(3, 2, 30) and "
               f"usable_numbers(4, 3, 30)) and look for one they share.")
