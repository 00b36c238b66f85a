"""Every exercise check, tested like code (one module per chapter topic, as in
replib/exercises/).  Each module has a table ``CASES``: check name -> right answers written
in several forms (each must print "Correct!"), near-miss wrong answers with a fragment of
the specific hint each must get, and malformed answers (None, a wrong type, code that
raises, code that loops forever) with the hint they must get.  ``test_coverage`` makes sure
every check has enough of each kind."""

import contextlib
import io

import pytest

from replib import exercises
from replib.exercises import core


class Args(tuple):
    """Several answers for one check call, e.g. ``Args(Hasty, faults)``."""

    def __new__(cls, *answers):
        return super().__new__(cls, answers)


def verdict(check, answer, time_limit=None) -> str:
    """Run a check on an answer and return the one line it printed (it must print one)."""
    answers = tuple(answer) if isinstance(answer, Args) else (answer,)
    out = io.StringIO()
    saved = core.TIME_LIMIT
    if time_limit is not None:
        core.TIME_LIMIT = time_limit
    try:
        with contextlib.redirect_stdout(out):
            returned = check(*answers)
    finally:
        core.TIME_LIMIT = saved
    text = out.getvalue()
    assert returned is None, "a check returns nothing, so its cell shows only its line"
    assert text.count("\n") == 1 and text.endswith("\n"), f"not one line: {text!r}"
    return text.rstrip("\n")


def params(cases: dict) -> list:
    """pytest params (check name, kind, answer, fragment) for a module's CASES table."""
    out = []
    for name, table in cases.items():
        for i, answer in enumerate(table["right"]):
            out.append(pytest.param(name, "right", answer, "", id=f"{name}-right{i}"))
        for kind in ("wrong", "malformed"):
            for i, (answer, fragment) in enumerate(table[kind]):
                out.append(pytest.param(name, kind, answer, fragment, id=f"{name}-{kind}{i}"))
    return out


def judge(name, kind, answer, fragment):
    """The assertion every case makes."""
    check = getattr(exercises, name)
    line = verdict(check, answer, time_limit=2.0 if kind == "malformed" else None)
    if kind == "right":
        assert line.startswith("Correct! "), line
    else:
        assert line.startswith("Not yet: "), line
        assert fragment in line, f"expected {fragment!r} in: {line}"


def case_test(cases: dict):
    """The test function of a module: one test per case in its CASES table."""

    @pytest.mark.parametrize("name, kind, answer, fragment", params(cases))
    def test_check(name, kind, answer, fragment):
        judge(name, kind, answer, fragment)

    return test_check
