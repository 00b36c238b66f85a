"""Chapter 09 (Paxos in practice): reads and leases."""

from __future__ import annotations

import math

from .core import Hint, choice, exercise, function, number

# (sent, lease, drift bound) at which an answer is tried
LEASE_GRID = [(sent, lease, b) for sent in (0.0, 3.5, 100.0) for lease in (5.0, 20.0)
              for b in (0.0, 0.01, 0.2)]


def _longest_safe(sent, lease, b):
    """The latest safe end: (end - sent) / (1 - b) <= lease / (1 + b)."""
    return sent + lease * (1 - b) / (1 + b)


@exercise
def check_lease_expiry(lease_expiry):
    """09: the end of a lease renewed at ``sent`` on the leader's clock, for a lease of
    ``lease`` and clock rates within 1 +- ``drift_bound``."""
    fn = function(lease_expiry, "lease_expiry")
    ends = {}
    for sent, lease, b in LEASE_GRID:
        try:
            value = fn(sent, lease, b)
        except Exception as exc:       # the reader's code: say what it raised, and where
            raise Hint(f"lease_expiry({sent:g}, {lease:g}, {b:g}) raised "
                       f"{type(exc).__name__}: {exc}") from None
        ends[(sent, lease, b)] = number(value, f"lease_expiry({sent:g}, {lease:g}, {b:g})")
    if ends[(0.0, 20.0, 0.01)] == ends[(100.0, 20.0, 0.01)]:
        raise Hint("your lease ends at the same time whenever it was renewed: count from "
                   "sent, the leader's clock when it sent Renew")
    for (sent, lease, b), end in ends.items():
        if end <= sent:
            raise Hint(f"lease_expiry({sent:g}, {lease:g}, {b:g}) = {end:g} ends the lease "
                       f"before it begins, so the leader never reads locally; it may hold it "
                       f"for almost the whole lease after sent")
    for (sent, lease, b), end in ends.items():
        safe = _longest_safe(sent, lease, b)
        if end > safe + 1e-9:
            if math.isclose(end - sent, lease):
                why = ("the margin is missing: the leader's clock may run slow and a "
                       "replica's fast, so the replica's guard can end first")
            elif math.isclose(end - sent, lease * (1 - b)) or \
                    math.isclose(end - sent, lease / (1 + b)):
                why = ("that margin covers one clock's drift, but both drift at once: the "
                       "leader's may run slow while the replica's runs fast")
            else:
                why = (f"a replica may stop guarding after {lease / (1 + b):g} in true time, "
                       f"and your lease lasts up to {(end - sent) / (1 - b):g}")
            raise Hint(f"lease_expiry({sent:g}, {lease:g}, {b:g}) = {end:g} is later than "
                       f"the safe {safe:g}: {why} (in the partition run with clocks at 0.5 "
                       f"and 1.5 the deposed leader's read is {_run_with(fn)})")
    short = max(1 - (ends[k] - k[0]) / (_longest_safe(*k) - k[0]) for k in ends)
    verdict = _run_with(fn)
    note = "" if short < 1e-6 else (f" (safe, though up to {short:.0%} shorter than it may "
                                    f"be: sent + lease·(1 − b)/(1 + b) is the longest safe)")
    return (f"your lease never outlasts a replica's guard, whichever way clocks drift within "
            f"the bound{note}; in the partition run with clocks at 0.5 and 1.5 (a 50 % bound) "
            f"the deposed leader's read is {verdict}.")


def _run_with(fn) -> str:
    """The partition run, clocks at the edge of a 50 % bound, with the reader's lease."""
    from ..experiments import reads
    from ..faults import clock
    from ..protocols.leases import LeaseReplica
    cls = type("LeaseReplica", (LeaseReplica,), {
        "drift_bound": 0.5, "expiry": lambda self, sent: fn(sent, self.lease, self.bound)})
    faults = [clock("r1", rate=0.5, at=6)] + [clock(r, rate=1.5, at=6) for r in ("r2", "r3")]
    run = reads.read_after_partition(cls, faults, read_at=30.0)
    return ("linearizable" if run.verdict else "stale") + f" (it returned {run.read.result!r})"


@exercise
def check_stale_read_prediction(answer):
    """09: with local reads, what does c3's read from the cut-off r1 at t = 34 return?"""
    from ..experiments.reads import read_after_partition
    value = choice(answer, ("a", "b", "nothing"), "answer 'a', 'b' or 'nothing'")
    run = read_after_partition("local")
    truth = run.read.result if run.read.response is not None else "nothing"
    if value == truth:
        return (f"r1 answers {truth!r} at t = {run.read.response:g}, although c2's write of "
                f"'b' was acknowledged at t = {run.write.response:g}: r1 never heard of it, "
                f"and nothing tells it that it no longer leads.")
    if value == "b":
        raise Hint("r1 is cut off from r2, r3 and c2: how could it know of the write of 'b'?")
    raise Hint("r1 still believes it leads, and LocalReads answers a leader's reads from its "
               "own register at once, without asking anyone")
