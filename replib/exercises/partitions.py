"""Chapter 04 (partitions and quorums): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, _whole_number


def _replica_set(answer):
    """The reader's side as a set of replica names (clients c1, c2 may be left in or out)."""
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split()
    if not isinstance(answer, (set, frozenset, list, tuple)) or not all(
            isinstance(x, str) for x in answer):
        raise Hint(f"give the side as a set of replica names, like {{'primary', 'b1'}}; you "
                   f"gave {answer!r}.")
    return {x for x in answer if x not in ("c1", "c2")}

@exercise
def check_active_side(answer):
    """04: five replicas split {primary, b1} | {b2, b3, b4} under the majority rule: which
    side keeps acknowledging writes?"""
    from ..experiments.partitions import FIVE_SPLIT, two_sides
    side = _replica_set(answer)
    run = two_sides("majority", FIVE_SPLIT)
    active = [set(s) for s in run.active]
    if active == [side]:
        return (f"{{{', '.join(sorted(side))}}}: 3 of 5 replicas, a majority. They elect a new "
                f"primary in epoch 2 and hold its writes ({run.acknowledged[FIVE_SPLIT[1]]} "
                f"acknowledged while split); the old primary, with 2 of 5, never gathers the "
                f"acks of a majority, so its client waits.")
    if side == set(FIVE_SPLIT[0]):
        raise Hint("the primary is on that side, but a write counts only once a majority of "
                   "the 5 replicas holds it. How many can the primary reach?")
    if side == set(FIVE_SPLIT[0]) | set(FIVE_SPLIT[1]):
        raise Hint("both sides acting is exactly what diverges. Which side holds a majority?")
    raise Hint("name the replicas of one side: {'primary', 'b1'} or {'b2', 'b3', 'b4'}.")

@exercise
def check_smallest_safe_q2(answer):
    """04: with N = 5 and phase-1 quorums of 2, the smallest safe phase-2 quorum."""
    from ..experiments.partitions import quorum_report
    q2 = _whole_number(answer)
    safe = [q for q in range(1, 6) if quorum_report(5, 2, q).safe]
    if q2 == safe[0]:
        return (f"q2 = {q2}: 2 + {q2} > 5, so every pair of 2 shares a node with every set "
                f"of {q2}. The price: phase 2 survives only {5 - q2} failed node"
                f"{'s' if 5 - q2 != 1 else ''}.")
    if not 1 <= q2 <= 5:
        raise Hint(f"a quorum of 5 nodes has 1 to 5 of them; you gave {q2}.")
    if q2 in safe:
        raise Hint(f"q2 = {q2} is safe, but a smaller one is too: try the explorer with "
                   f"q1 = 2.")
    pair = quorum_report(5, 2, q2).pair
    raise Hint(f"with q2 = {q2}, {{{', '.join(pair[0])}}} and {{{', '.join(pair[1])}}} share "
               f"no node. The rule is q1 + q2 > N.")

@exercise
def check_safe_but_stuck(failed):
    """04: N = 5, q1 = 2, q2 = 4: failed nodes that leave a phase-1 quorum but no phase-2
    quorum (safe, yet nothing can be decided)."""
    from ..experiments.partitions import quorum_report
    if isinstance(failed, str):
        failed = failed.replace(",", " ").split()
    if not isinstance(failed, (set, frozenset, list, tuple)):
        raise Hint(f"give the failed nodes as a set of names, like {{'n1'}}; you gave "
                   f"{failed!r}.")
    try:
        report = quorum_report(5, 2, 4, sorted(failed, key=str))
    except ValueError as exc:
        raise Hint(f"{exc}.") from None
    if report.available1 and not report.available2:
        return (f"with {', '.join(report.failed)} failed, {len(report.available1)} phase-1 "
                f"quorum(s) remain and no phase-2 quorum: a leader can be elected, yet it "
                f"cannot get anything accepted. Safe, not live.")
    if report.available2:
        raise Hint(f"{len(report.available2)} phase-2 quorum(s) of 4 are still available: "
                   f"fail more nodes.")
    raise Hint("no phase-1 quorum is left either: fail fewer nodes, so that 2 still work.")
