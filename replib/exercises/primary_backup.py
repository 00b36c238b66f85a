"""Chapter 02 (primary/backup): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, _whole_number


@exercise
def check_split_brain_prediction(answer):
    """02: how many replicas act as primary after story 2 (naive failover) heals?"""
    _whole_number(answer)
    from ..experiments.primary_backup import split_brain
    sim = split_brain("naive")
    sim.run(until=30)
    truth = sum(1 for r in ("primary", "b1", "b2") if sim.nodes[r].role == "primary")
    if answer == truth:
        return (f"{truth} primaries: b1 promoted itself during the partition, and after the heal "
                f"nothing in naive failover tells either of them about the other.")
    if answer == 1:
        raise Hint("healing the network does not undo b1's promotion: what message would tell "
                   "one of the two primaries to step down?")
    raise Hint("count the replicas that ever promote themselves: only b1 is cut off from the "
               "primary's heartbeats.")

@exercise
def check_fencing(replica_class):
    """02: a Replica whose stale() drops messages from older epochs; scenario and checker."""
    from ..actions import Controls
    from ..check import check
    from ..experiments.primary_backup import split_brain
    from ..protocols.replication import (
        Replica,
        acting_primaries,
        one_primary_per_epoch,
        primaries_by_epoch,
        replication_system,
    )
    if not (isinstance(replica_class, type) and issubclass(replica_class, Replica)):
        raise Hint("pass your class itself (a subclass of Replica), e.g. "
                   "check_fencing(MyReplica), not an instance or a string.")
    sim = split_brain("epochs", replica=replica_class)
    trace = sim.run(until=30)
    doubled = {e: sorted(p) for e, p in primaries_by_epoch(trace).items() if len(p) > 1}
    if doubled:
        raise Hint(f"in the split-brain scenario, epoch(s) {doubled} had two primaries.")
    def explore_with(cls):
        return check(replication_system(2, failover="epochs", clients=0, max_epoch=2,
                                        replica=cls),
                     Controls(duplicate=True, max_crashes=1),
                     invariants={"one primary per epoch": one_primary_per_epoch},
                     goals={"a new primary": lambda s: ("b1", 2) in acting_primaries(s)},
                     progress=False)

    result = explore_with(replica_class)
    if result.violation:
        raise Hint(f"the checker found two primaries in one epoch after "
                   f"{len(result.violation.path)} steps. A replica that accepts a message from "
                   f"an older epoch takes that epoch back and can vote a second time in the "
                   f"newer one. Return True for a message whose epoch is older than yours.")
    logs = [sim.nodes[r].log for r in ("primary", "b1", "b2")]
    if (not result.goals["a new primary"].reached or not logs[0] == logs[1] == logs[2]
            or result.states != explore_with(Replica).states):
        raise Hint("safe, but your rule also drops messages it should take: only a message "
                   "from an *older* epoch than this replica's is stale.")
    return (f"at most one primary per epoch in all {result.states:,} reachable states "
            f"(one crash, duplicated and reordered messages), and the split-brain scenario "
            f"ends with one log on every replica.")

@exercise
def check_missing_write(answer):
    """02, story 3: which acknowledged write is missing from the new primary's log?"""
    truth = 1
    value = answer[1] if isinstance(answer, tuple) and len(answer) == 2 else answer
    if _whole_number(value) == truth:
        return ("write 1: it was acknowledged and reached b1, but b2, whose copy was lost, "
                "became primary and put write 2 at index 1.")
    raise Hint("which write's Update to b2 was dropped, and which backup took over?")

@exercise
def check_linearizable_prediction(answer):
    """02: is the stale-read history linearizable?"""
    if not isinstance(answer, bool):
        raise Hint(f"answer True or False; you gave {answer!r}.")
    if answer is False:
        return ("not linearizable: the write of 1 finished before the read began, so every "
                "valid order puts the write first, and the read must return 1, not None.")
    raise Hint("the write was acknowledged before the read started: in any order that "
               "respects real time, which value must the read return?")
