"""Chapter 06 (livelock): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, whole_number


@exercise
def check_livelock_steps(answer):
    """06: predict the length of the checker's shortest schedule for 5 ballots."""
    from ..experiments.livelock import livelock_search
    value = whole_number(answer, "the number of steps")
    lengths = {k: len(livelock_search(k).path) for k in (3, 4, 5)}
    truth, per_ballot = lengths[5], lengths[4] - lengths[3]
    if value == truth:
        return (f"{truth} steps: every extra ballot costs {per_ballot} deliveries (the rival's "
                f"higher Prepare, my lower one, and the Reject it earns).")
    if value == per_ballot * 5:
        raise Hint(f"{per_ballot} steps per ballot is right, but the first two ballots are "
                   f"free: both proposers start one at time 0, before any step.")
    if value == lengths[4]:
        raise Hint(f"{value} steps is the shortest schedule for 4 ballots, in the table. One "
                   f"more ballot costs more steps.")
    if value == lengths[4] + 1:
        raise Hint("one delivery per extra ballot is not enough: the rival's higher Prepare "
                   "must arrive, then my lower message must be rejected, and the Reject must "
                   "reach me before I start again.")
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
