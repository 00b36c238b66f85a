"""Argument checks shared by every public entry point: each raises a ValueError that names
the parameter, shows what it got and says what is allowed, instead of a traceback from deep
inside a run -- or, worse, a run that quietly does something else ('a1' read as the list
['a', '1'], 'no' read as true, a time of inf that never comes).

One helper per kind of argument, so every builder refuses the same mistakes the same way:

    whole_number   counts and sizes (not True, not 2.5); ``cap=`` a practical size limit
    finite_time    delays, timeouts, times (not nan, not inf)
    number         any other finite quantity within bounds
    probability    a number from 0 to 1
    boolean        True or False (not 'yes', not 1)
    choice         one of a few names
    names          a list of node ids (not a bare string, no duplicates, only known ids)
    function       something to call
    subclass_of    a class to use instead of a default one

ValueError throughout, even for a value of the wrong type: the widgets and the exercise
checks catch ValueError to show the message, and a reader need not tell the two apart.
"""

from __future__ import annotations

import math
import numbers

#: the practical caps: what a notebook can build and simulate in seconds
MAX_NODES = 100        # nodes of one role in one system (acceptors, participants, ...)
MAX_OPS = 10_000       # operations one builder scripts (writes, transactions, per client)
MAX_MEASURED = 2_000   # operations one measuring experiment simulates


def _integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def whole_number(name: str, value, low: int, high: int | None = None, *,
                 cap: int | None = None) -> int:
    """``value`` must be an int (not a bool) from ``low`` to ``high`` (None: no upper bound).

    ``cap``: a practical limit rather than part of the meaning (a million acceptors make
    sense, but would not finish); its message says so."""
    if not _integer(value) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be a whole number {bound}, got {value!r}")
    if cap is not None and value > cap:
        raise ValueError(f"{name} must be at most {cap:,} here (more would not finish in "
                         f"seconds), got {value!r}")
    return int(value)


def integer(name: str, value) -> int:
    """Any int, negative too (a seed)."""
    if not _integer(value):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def number(name: str, value, low: float = -math.inf, high: float = math.inf) -> float:
    """``value`` must be a finite number from ``low`` to ``high``."""
    if not _real(value) or not math.isfinite(value) or not low <= value <= high:
        if math.isinf(low) and math.isinf(high):
            bound = ""
        elif math.isinf(high):
            bound = f" >= {low:g}"
        elif math.isinf(low):
            bound = f" <= {high:g}"
        else:
            bound = f" from {low:g} to {high:g}"
        raise ValueError(f"{name} must be a finite number{bound}, got {value!r}")
    return value


def finite_time(name: str, value, zero_ok: bool = False) -> float:
    """``value`` must be a finite number > 0 (>= 0 with ``zero_ok``): a delay or a timeout."""
    if not _real(value) or not math.isfinite(value) or not (value >= 0 if zero_ok else value > 0):
        raise ValueError(f"{name} must be a finite number {'>= 0' if zero_ok else '> 0'}, "
                         f"got {value!r}")
    return value


def probability(name: str, value) -> float:
    """A probability: a number from 0 to 1."""
    if not _real(value) or not 0 <= value <= 1:      # (nan fails the comparison)
        raise ValueError(f"{name} must be a probability, a number from 0 to 1, got {value!r}")
    return float(value)


def boolean(name: str, value) -> bool:
    """True or False: 'no' is a true string and 1 is not a yes, so both are refused."""
    if type(value) is not bool and type(value).__name__ != "bool_":    # (numpy's bool too)
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def choice(name: str, value, allowed):
    """``value`` must be one of ``allowed`` (compared with ==, so None may be a choice)."""
    allowed = tuple(allowed)
    if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
        listing = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"unknown {name} {value!r}; allowed: {listing}")
    return value


def names(name: str, value, known=None, *, at_least: int = 0, what: str = "node") -> tuple:
    """A list of distinct ids (strings), e.g. ``['a1', 'a2']``; a bare string is refused
    (it would be read as its characters).  known: the ids allowed (None: any)."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a list of {what} names, e.g. [{value!r}], not the single "
                         f"string {value!r} (which would be read as its characters)")
    if isinstance(value, dict) or not hasattr(value, "__iter__"):
        raise ValueError(f"{name} must be a list of {what} names, got {value!r}")
    out = tuple(value)
    bad = [x for x in out if not isinstance(x, str) or not x]
    if bad:
        raise ValueError(f"{name}: every {what} name must be a non-empty string, got {bad[0]!r}")
    twice = sorted({x for x in out if out.count(x) > 1})
    if twice:
        raise ValueError(f"{name} must name each {what} once, got {twice} more than once")
    if known is not None:
        known = list(known)
        unknown = [x for x in out if x not in known]
        if unknown:
            raise ValueError(f"{name} names unknown {what}(s) {unknown}; {what}s are {known}")
    if len(out) < at_least:
        raise ValueError(f"{name} must name at least {at_least} {what}(s), got {list(out)}")
    return out


def function(name: str, value, of: str = "the simulation"):
    """Something to call (a function or a lambda)."""
    if not callable(value):
        raise ValueError(f"{name} must be a function of {of}, got {value!r}")
    return value


def subclass_of(name: str, cls, base: type) -> type:
    """``cls`` must be ``base`` or a subclass of it; None means ``base`` itself."""
    if cls is None:
        return base
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(f"{name} must be {base.__name__} or a subclass of it, got {cls!r}")
    return cls
