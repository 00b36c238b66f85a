"""Chapter 04 (partitions and quorums): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, names, whole_number


@exercise
def check_active_side(answer):
    """04: five replicas split {primary, b1} | {b2, b3, b4} under the majority rule: which
    side keeps acknowledging writes?  (The clients c1, c2 may be named or left out.)"""
    from ..experiments.partitions import FIVE_SPLIT, two_sides
    side = names(answer, "the side", "{'primary', 'b1'}") - {"c1", "c2"}
    run = two_sides("majority", FIVE_SPLIT)
    active = [set(s) for s in run.active]
    minority, majority = set(FIVE_SPLIT[0]), set(FIVE_SPLIT[1])
    if active == [side]:
        return (f"{{{', '.join(sorted(side))}}}: 3 of 5 replicas, a majority. They elect a new "
                f"primary in epoch 2 and hold its writes ({run.acknowledged[FIVE_SPLIT[1]]} "
                f"acknowledged while split); the old primary, with 2 of 5, never gathers the "
                f"acks of a majority, so its client waits.")
    unknown = side - minority - majority
    if unknown:
        raise Hint(f"there is no replica {', '.join(sorted(unknown))} here; the replicas are "
                   f"{', '.join(FIVE_SPLIT[0] + FIVE_SPLIT[1])}.")
    if side == minority:
        raise Hint("the primary is on that side, but a write counts only once a majority of "
                   "the 5 replicas holds it. How many can the primary reach?")
    if side == minority | majority:
        raise Hint("both sides acting is exactly what diverges. Which side holds a majority?")
    if side < majority:
        raise Hint(f"name the whole side: {', '.join(sorted(majority - side))} "
                   f"{'is' if len(majority - side) == 1 else 'are'} on it too, and the majority "
                   f"needs all three of its replicas.")
    if side & minority and side & majority:
        raise Hint("those replicas are on different sides of the partition and cannot talk: "
                   "name the replicas of one side.")
    raise Hint("name the replicas of one side: {'primary', 'b1'} or {'b2', 'b3', 'b4'}.")


@exercise
def check_smallest_safe_q2(answer):
    """04: with N = 5 and phase-1 quorums of 2, the smallest safe phase-2 quorum."""
    from ..experiments.partitions import quorum_report
    q2 = whole_number(answer, "q2")
    if not 1 <= q2 <= 5:
        raise Hint(f"a quorum of 5 nodes has 1 to 5 of them; you gave {q2}.")
    safe = [q for q in range(1, 6) if quorum_report(5, 2, q).safe]
    if q2 == safe[0]:
        return (f"q2 = {q2}: 2 + {q2} > 5, so every pair of 2 shares a node with every set "
                f"of {q2}. The price: phase 2 survives only {5 - q2} failed node"
                f"{'s' if 5 - q2 != 1 else ''}.")
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
    failed = names(failed, "the failed nodes", "{'n1'}")
    try:
        report = quorum_report(5, 2, 4, sorted(failed))
    except ValueError as exc:
        raise Hint(f"{exc}.") from None
    if report.available1 and not report.available2:
        return (f"with {', '.join(report.failed)} failed, {len(report.available1)} phase-1 "
                f"quorum(s) remain and no phase-2 quorum: a leader can be elected, yet it "
                f"cannot get anything accepted. Safe, not live.")
    if not failed:
        raise Hint("with no node failed every quorum is available: fail some nodes.")
    if report.available2:
        raise Hint(f"{len(report.available2)} phase-2 quorum(s) of 4 are still available with "
                   f"{len(report.failed)} failed: fail more nodes, so that fewer than 4 work.")
    raise Hint(f"with {len(report.failed)} failed no phase-1 quorum is left either: fail fewer "
               f"nodes, so that 2 still work.")
