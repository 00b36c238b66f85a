"""Chapter 07's checks: Chubby's next-number rule written by the reader (448 cases), the
next number after 7, whether naive numbers break agreement, and a collision between
proposers that disagree about n."""

import numpy as np


from . import case_test


def chubby(n, i, seen):
    s = (0 if seen is None else seen) + 1
    return s + (i - s) % n


def chubby_loop(n, i, seen):
    s = (seen or 0) + 1
    while s % n != i:
        s += 1
    return s


def chubby_numpy(n, i, seen):
    return np.int64(chubby(n, i, seen))


def chubby_float(n, i, seen):
    return float(chubby(n, i, seen))


def notes_arithmetic(n, i, seen):          # the reference notes: new P1 = 1*3+1 = 4
    return ((seen or 0) // n + 1) * n + i + 1


def plus_one(n, i, seen):
    return (seen or 0) + 1


def next_multiple(n, i, seen):             # skips a smaller usable number
    return ((seen or 0) // n + 1) * n + i


def starts_at_zero(n, i, seen):
    return chubby(n, i, seen) if seen is not None else i


def may_repeat(n, i, seen):                # keeps seen if it is its own
    return seen if seen is not None and seen % n == i else chubby(n, i, seen)


def stub(n, i, seen):
    pass


def breaks_on_none(n, i, seen):
    return chubby(n, i, seen) if seen is not None else seen + 1


def loops(n, i, seen):
    s = seen or 0
    while s % n != i or s <= (seen or 0):
        s += n                                # never reaches another residue
    return s


CASES = {
    "check_chubby_next": dict(
        right=[chubby, chubby_loop, chubby_numpy, chubby_float],
        wrong=[(notes_arithmetic, "that is the reference notes' slip"),
               (plus_one, "returned 2, but 2 mod 3 is 2: proposer 0 may only use"),
               (next_multiple, "chubby_next(n=3, i=2, seen=3) returned 8; 5 is smaller"),
               (starts_at_zero, "chubby_next(n=1, i=0, seen=None) returned 0, but numbers start at 1"),
               (may_repeat, "returned 0, which is not above 0"),
               (stub, "returned None (did you forget return?)")],
        malformed=[(None, "your answer is None"), (3, "give your function itself"),
                   (chubby(3, 0, 1), "give your function itself"),
                   (breaks_on_none, "raised TypeError"), (loops, "still running after")],
    ),
    "check_next_number_prediction": dict(
        right=[10, 10.0, np.int64(10), "10"],
        wrong=[(8, "8 mod 3 is 2: that number belongs to proposer 2"),
               (9, "9 mod 3 is 0: that number belongs to proposer 0"),
               (7, "7 is not above 7"), (13, "but a smaller one of its numbers")],
        malformed=[(None, "your answer is None"), ("ten", "as a whole number"),
                   (10.5, "as a whole number")],
    ),
    "check_naive_safety_prediction": dict(
        right=[False, np.False_, "no", "False"],
        wrong=[(True, "both proposers do start with number 1"),
               (np.True_, "both proposers do start with number 1"),
               ("yes", "both proposers do start with number 1")],
        malformed=[(None, "your answer is None"), (0, "answer True (the checker finds"),
                   ("safe", "answer True (the checker finds")],
    ),
    "check_disagreeing_n": dict(
        right=[8, 10.0, np.int64(9), "20"],
        wrong=[(11, "11 is the number they share"),
               (7, "after seeing 7, proposer 2 (n = 3) picks 8 and proposer 3 (n = 4) picks 11"),
               (0, "after seeing 0, proposer 2 (n = 3) picks 2"),
               (-1, "proposal numbers are never negative")],
        malformed=[(None, "your answer is None"), (2.5, "give seen as a whole number"),
                   ("eight", "give seen as a whole number")],
    ),
}


test_check = case_test(CASES)
