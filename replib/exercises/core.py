"""What every exercise check shares: the one-line verdict and the parsing of answers.

Each check prints one fixed success line or one specific hint.

A check never raises, whatever the reader wrote: a missing answer (``...``), a value of
the wrong type, or code that crashes all turn into a hint.  Success lines start with
"Correct", hints with "Not yet", so the notebooks' tests can tell them apart.
"""

from __future__ import annotations

import functools
import numbers

SUCCESS = "Correct"
HINT = "Not yet"


class Hint(Exception):
    """Raised inside a check to end it with a hint."""


def exercise(check):
    """Wrap a check so that it prints exactly one line and never raises.

    It returns nothing, so a check cell shows just that line."""

    @functools.wraps(check)
    def run(*answers, **kwargs):
        if any(a is ... or a is None for a in answers):
            print(f"{HINT}: replace the ... with your answer, run that cell, then run this one.")
            return
        try:
            message = check(*answers, **kwargs)
        except Hint as hint:
            print(f"{HINT}: {hint}")
            return
        except Exception as exc:  # the reader's code failed: say so, do not crash
            print(f"{HINT}: running your answer raised {type(exc).__name__}: {exc}")
            return
        print(f"{SUCCESS}! {message}")

    return run


def _fault_list(faults, example):
    """The reader's fault schedule as a list of Faults, or a hint saying what one looks like."""
    from ..faults import Fault
    if isinstance(faults, Fault):
        faults = [faults]
    if not isinstance(faults, (list, tuple)) or not all(isinstance(f, Fault) for f in faults):
        raise Hint(f"give a list of faults made with crash(...), restart(...), partition(...), "
                   f"heal(...), cut(...) or drop(...), e.g. [{example}].")
    return list(faults)


def _whole_number(answer):
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise Hint(f"give a whole number, like 3; you gave {answer!r}.")
    return answer


def _number(answer, what):
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise Hint(f"{what} should be a number, like 3.5; you gave {answer!r}.")
    return float(answer)

