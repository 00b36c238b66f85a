"""Chapter 07 (proposal numbers): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, _whole_number


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

def _chubby_hint(call, got, n, i, seen, truth) -> str:
    low = 0 if seen is None else seen
    if isinstance(got, bool) or not isinstance(got, int):
        return f"{call} returned {got!r}; it should return a whole number ({truth})."
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
    if not callable(chubby_next):
        raise Hint(f"give your function itself (chubby_next, without parentheses); you gave "
                   f"{chubby_next!r}.")
    cases = _chubby_cases()
    for n, i, seen in cases:
        truth = ModN(n).next(seen, i)
        call = f"chubby_next(n={n}, i={i}, seen={seen!r})"
        try:
            got = chubby_next(n, i, seen)
        except Exception as exc:
            extra = (" None means nothing seen yet: count from 0." if seen is None else "")
            raise Hint(f"{call} raised {type(exc).__name__}: {exc}.{extra}") from None
        if isinstance(got, bool) or got != truth or not isinstance(got, int):
            raise Hint(_chubby_hint(call, got, n, i, seen, truth))
    return (f"your function agrees with Chubby's rule on all {len(cases)} cases (n = 1 to 6, "
            f"every proposer, seen = None and 0 to 4n + 2), e.g. proposer 0 of 3 that has seen "
            f"1 moves to 3, proposer 2 that has seen 3 moves to 5.")

@exercise
def check_next_number_prediction(answer):
    """07: n = 3, proposer 1 has seen 7: which number next?"""
    value = _whole_number(answer)
    if value == 10:
        return ("10: above 7, proposer 1's numbers are 10, 13, 16, ... (8 is proposer 2's, "
                "9 is proposer 0's).")
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
    if not isinstance(answer, bool):
        raise Hint(f"answer True (the checker finds two values chosen) or False; you gave "
                   f"{answer!r}.")
    from ..check import check
    from ..actions import Controls
    from ..experiments.proposal_numbers import collision_system
    from ..protocols.paxos import PAXOS_INVARIANTS
    r = check(collision_system("naive"), Controls(timers=False), invariants=PAXOS_INVARIANTS,
              progress=False)
    if answer is False and r.ok:
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
    value = _whole_number(seen)
    if value < 0:
        raise Hint("proposal numbers are never negative; give a number >= 0.")
    old, new = ModN(3).next(value, 2), ModN(4).next(value, 3)
    if old == new:
        return (f"after seeing {value} both pick {old}: proposer 2 (n = 3) uses 2, 5, 8, 11, "
                f"... and proposer 3 (n = 4) uses 3, 7, 11, ...; they share every number "
                f"that is 11 plus a multiple of 12.")
    raise Hint(f"after seeing {value}, proposer 2 (n = 3) picks {old} and proposer 3 (n = 4) "
               f"picks {new}. List each one's numbers (usable_numbers(3, 2, 30) and "
               f"usable_numbers(4, 3, 30)) and look for one they share.")
