"""What every exercise check shares: the one-line verdict, a time limit, and one set of rules
for reading answers.

A check prints exactly one line: "Correct! ..." or "Not yet: <a hint>".  It never raises,
whatever the reader wrote: a missing answer (``...``), a value of the wrong type, code that
raises, or code that loops forever (stopped by a time limit) all become a hint.

One rule for every check: a right answer written another way is still right.  A whole
number may be ``4``, ``4.0``, ``"4"`` or a numpy integer; a number may also be a fraction or
a numpy float; True/False may be a numpy bool or the words "yes"/"no"; a set of names may be
a list, a tuple, a set or a string such as ``"b2, b3"``; an operation may be a tuple or a
list.  The parsers below are the only place these rules live.
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
import signal
import threading

SUCCESS = "Correct"
HINT = "Not yet"

#: seconds a check may run the reader's code before it is stopped (an infinite loop)
TIME_LIMIT = 30.0


class Hint(Exception):
    """Raised inside a check to end it with a hint."""


class TimeUp(BaseException):
    """Raised in the reader's code when the check's time limit is over.  A BaseException,
    so that an ``except Exception`` in the reader's code cannot swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Stop the code inside after ``seconds`` with TimeUp (main thread on Unix; elsewhere,
    where no alarm signal exists, the code runs without a limit)."""
    usable = (hasattr(signal, "setitimer") and seconds and seconds > 0
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise TimeUp()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def exercise(check):
    """Wrap a check so that it prints exactly one line and never raises.

    It returns nothing, so a check cell shows just that line."""

    @functools.wraps(check)
    def run(*answers, **kwargs):
        if any(a is ... for a in answers):
            print(f"{HINT}: replace the ... with your answer, run that cell, then run this one.")
            return
        if any(a is None for a in answers):
            print(f"{HINT}: your answer is None. Replace the ... with your answer and run that "
                  f"cell (a function or cell that ends without a value gives None).")
            return
        try:
            with time_limit(TIME_LIMIT):
                message = check(*answers, **kwargs)
        except Hint as hint:
            print(f"{HINT}: {hint}")
            return
        except TimeUp:
            print(f"{HINT}: your code was still running after {TIME_LIMIT:g} seconds and was "
                  f"stopped. Is there a loop that never ends (a while loop whose condition "
                  f"never changes)?")
            return
        except RecursionError:
            print(f"{HINT}: your code calls itself without end (RecursionError): does a "
                  f"method call itself, e.g. self.stale(msg) inside stale?")
            return
        except Exception as exc:  # the reader's code failed: say so, do not crash
            print(f"{HINT}: running your answer raised {type(exc).__name__}: {exc}")
            return
        print(f"{SUCCESS}! {message}")

    return run


# ---- reading answers ------------------------------------------------------------------------

_WORDS_TRUE = {"true", "yes", "y"}
_WORDS_FALSE = {"false", "no", "n"}


def _is_bool(value) -> bool:
    """True and False, numpy's bools too (they are not ints, but must not count as numbers)."""
    kind = type(value)
    return kind is bool or (kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_"))


def number(answer, what: str = "your answer") -> float:
    """A finite real number: 4, 4.5, "4.5", Fraction(9, 2), numpy numbers."""
    value = answer
    if isinstance(value, str):
        try:
            value = float(value.strip().replace("_", ""))
        except ValueError:
            raise Hint(f"{what} should be a number, like 3.5; you gave {answer!r}.") from None
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise Hint(f"{what} should be a number, like 3.5; you gave {answer!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise Hint(f"{what} should be a finite number; you gave {answer!r}.")
    return value


def whole_number(answer, what: str = "your answer") -> int:
    """A whole number: 4, 4.0, "4", numpy integers (not True/False, not 4.5)."""
    try:
        value = number(answer, what)
    except Hint:
        raise Hint(f"give {what} as a whole number, like 3; you gave {answer!r}.") from None
    if value != int(value):
        raise Hint(f"give {what} as a whole number, like 3; you gave {answer!r}.")
    return int(value)


def yes_no(answer, question: str = "answer True or False") -> bool:
    """True or False (numpy bools and the words yes/no/true/false too)."""
    if _is_bool(answer):
        return bool(answer)
    if isinstance(answer, str):
        word = answer.strip().strip("'\"").lower()
        if word in _WORDS_TRUE:
            return True
        if word in _WORDS_FALSE:
            return False
    raise Hint(f"{question}; you gave {answer!r}.")


def names(answer, what: str = "the names", example: str = "{'b1', 'b2'}") -> set:
    """A set of names, from a set, list or tuple of strings or a string like "b1, b2"."""
    if isinstance(answer, str):
        answer = answer.replace(",", " ").replace("{", " ").replace("}", " ").split()
        answer = [a.strip("'\"") for a in answer]
    if isinstance(answer, dict):
        answer = list(answer)
    if not isinstance(answer, (set, frozenset, list, tuple)) or not all(
            isinstance(x, str) for x in answer):
        raise Hint(f"give {what} as a set of names, like {example}; you gave {answer!r}.")
    return {x.strip() for x in answer}


def choice(answer, options, what: str = "your answer") -> str:
    """One of ``options`` (strings), matched without regard to case, spaces or quotes."""
    if isinstance(answer, str):
        word = answer.strip().strip("'\"").strip().lower()
        for option in options:
            if word == option.lower():
                return option
    shown = ", ".join(f'"{o}"' for o in options)
    raise Hint(f"answer one of {shown}; you gave {answer!r}.")


def operation(answer, what: str = "the operation") -> tuple:
    """A client operation such as ('write', 1), from a tuple or a list."""
    if isinstance(answer, (tuple, list)) and answer and isinstance(answer[0], str):
        return tuple(answer)
    raise Hint(f"give {what} as a tuple, like ('write', 1); you gave {answer!r}.")


def log_of_operations(answer, what: str = "the log") -> list:
    """A log: a list (or tuple) of operations, each a tuple or a list."""
    if not isinstance(answer, (list, tuple)):
        raise Hint(f"give {what} as a list, like [('write', 1)]; you gave {answer!r}.")
    return [operation(entry, f"each entry of {what}") for entry in answer]


def fault_list(faults, example: str) -> list:
    """The reader's fault schedule as a list of Faults (one Fault alone is fine too)."""
    from ..faults import Fault
    if isinstance(faults, Fault):
        faults = [faults]
    if not isinstance(faults, (list, tuple)) or not all(isinstance(f, Fault) for f in faults):
        raise Hint(f"give a list of faults made with crash(...), restart(...), partition(...), "
                   f"heal(...), cut(...) or drop(...), e.g. [{example}]; you gave {faults!r}.")
    return list(faults)


def node_class(answer, base: type, example: str) -> type:
    """A class the reader wrote: a subclass of ``base`` (the class itself, not an instance)."""
    if isinstance(answer, type) and issubclass(answer, base):
        return answer
    if isinstance(answer, base):
        raise Hint(f"pass the class itself, not an instance: {example}, without (...) after "
                   f"the class name.")
    raise Hint(f"pass your class itself (a subclass of {base.__name__}), e.g. {example}; you "
               f"gave {answer!r}.")


def function(answer, example: str):
    """A function the reader wrote (the function itself, not its result)."""
    if not callable(answer) or isinstance(answer, type):
        raise Hint(f"give your function itself ({example}, without parentheses); you gave "
                   f"{answer!r}.")
    return answer


def close(a: float, b: float) -> bool:
    """Equal up to rounding (answers such as 4.5 computed as 4.499999999)."""
    return abs(a - b) < 1e-9
