"""Chapter 06 (livelock): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, _whole_number


@exercise
def check_livelock_steps(answer):
    """06: predict the length of the checker's shortest schedule for 5 ballots."""
    from ..experiments.livelock import livelock_search
    value = _whole_number(answer)
    truth = len(livelock_search(5).path)
    if value == truth:
        return (f"{truth} steps: every extra ballot costs three deliveries (the rival's higher "
                f"Prepare, my lower one, and the Reject it earns).")
    if value == 3 * 5:
        raise Hint("three steps per ballot is right, but the first two ballots are free: both "
                   "proposers start one at time 0, before any step.")
    raise Hint("look at the table: how many steps does each extra ballot add?")

@exercise
def check_livelock_schedule(steps):
    """06: a schedule (list of 'p1 -> a1' steps) that keeps two proposers from choosing a
    value for at least 5 ballots."""
    from ..experiments.livelock import livelock_verdict
    if not isinstance(steps, (list, tuple, str)):
        raise Hint(f"give a list of steps such as ['p1 -> a1', 'p2 -> a1']; you gave {steps!r}.")
    ok, why = livelock_verdict(steps, ballots=5)
    if not ok:
        raise Hint(why)
    return why + " No bound on the number of ballots can rule this out."
