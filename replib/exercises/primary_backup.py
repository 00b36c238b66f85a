"""Chapter 02 (primary/backup): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, node_class, operation, whole_number, yes_no


def _acting_at_end(failover):
    from ..experiments.primary_backup import split_brain
    sim = split_brain(failover)
    sim.run(until=30)
    return [r for r in ("primary", "b1", "b2") if sim.nodes[r].role == "primary"]


@exercise
def check_split_brain_prediction(answer):
    """02: how many replicas act as primary after story 2 (naive failover) heals?"""
    value = whole_number(answer, "the number of replicas")
    acting = _acting_at_end("naive")
    truth = len(acting)
    if value == truth:
        return (f"{truth} primaries ({', '.join(acting)}): b1 promoted itself during the "
                f"partition, and after the heal nothing in naive failover tells either of them "
                f"about the other.")
    if value == 1:
        raise Hint("healing the network does not undo b1's promotion: what message would tell "
                   "one of the two primaries to step down?")
    if value == 3:
        raise Hint("b2 stays on the primary's side and keeps hearing its heartbeats: it has no "
                   "reason to take over.")
    if value == 0:
        raise Hint("in naive failover nothing makes a primary step down, not even the heal.")
    raise Hint("count the replicas that ever promote themselves: only b1 is cut off from the "
               "primary's heartbeats, and the primary itself never stops.")


def _missing_from_new_primary():
    """Story 3 run: the acknowledged writes missing from b2's log (the new primary)."""
    from ..experiments.primary_backup import partial_replication
    from ..history import lost_writes
    sim = partial_replication()
    trace = sim.run(until=30)
    return [op.op for op in lost_writes(trace.history(), {"b2": sim.nodes["b2"].log})], sim


@exercise
def check_missing_write(answer):
    """02, story 3: which acknowledged write is missing from the new primary's log?
    Accepts the write's number (1) or the operation (('write', 1))."""
    missing, sim = _missing_from_new_primary()
    numbers = [op[1] for op in missing]
    if isinstance(answer, (tuple, list)):
        value = operation(answer, "the write")
        if len(value) != 2 or value[0] != "write":
            raise Hint(f"give the write's number, like 2, or the write, like ('write', 2); you "
                       f"gave {answer!r}.")
        answer = value[1]
    elif isinstance(answer, str) and answer.strip().lower().startswith("write"):
        answer = answer.strip()[5:].strip(" (),'\"")
    value = whole_number(answer, "the write's number")
    if value in numbers:
        return (f"write {value}: it was acknowledged and reached b1, but b2, whose copy was "
                f"lost, became primary and put write 2 at index 1 (log position 0).")
    b2_log = [op[1] for op in sim.nodes["b2"].log]
    if value in b2_log:
        raise Hint(f"write {value} is in the new primary's log ({sim.nodes['b2'].log}). Which "
                   f"acknowledged write is not?")
    if value == 0:
        raise Hint("0 is the position where b1's and b2's logs first differ (positions count "
                   "from 0). The writes are numbered from 1: which one is missing?")
    raise Hint("which write's Update to b2 was dropped, and which backup took over?")


@exercise
def check_linearizable_prediction(answer):
    """02: is the stale-read history linearizable?"""
    from ..experiments.primary_backup import stale_read
    from ..history import linearizable
    value = yes_no(answer, "answer True (linearizable) or False")
    truth = linearizable(stale_read().history()).ok
    if value == truth:
        return ("not linearizable: the write of 1 finished before the read began, so every "
                "valid order puts the write first, and the read must return 1, not None.")
    raise Hint("the write was acknowledged before the read started: in any order that "
               "respects real time, which value must the read return?")


def _probe_stale(cls):
    """Ask the reader's ``stale`` about messages from an older, the same and a newer epoch,
    at a replica in epoch 3.  Returns a hint, or None if every answer is right."""
    from ..protocols.replication import Heartbeat, replica_ids
    ids = replica_ids(2)
    replica = cls("b1", ids, "async", None, "epochs")
    replica.epoch = 3
    expected = {2: True, 3: False, 4: False}
    for epoch, want in expected.items():
        got = replica.stale(Heartbeat(epoch, 0))
        if got is None:
            return ("your stale() returned None (did you forget return?). Return True for a "
                    "message to drop, False for one to take.")
        if bool(got) == want:
            continue
        if epoch == 2:
            return ("a replica in epoch 3 got a Heartbeat from epoch 2 and kept it: that "
                    "message comes from a deposed primary. Return True for a message whose "
                    "epoch is older than yours.")
        if epoch == 3:
            return ("a replica in epoch 3 dropped a message from epoch 3, its own primary's: "
                    "only a message from an *older* epoch is stale.")
        return ("a replica in epoch 3 dropped a message from epoch 4: a newer epoch means a new "
                "primary was elected, and the replica must learn it, not drop it.")
    return None


@exercise
def check_fencing(replica_class):
    """02: a Replica whose stale() drops messages from older epochs; probed directly, then
    the split-brain scenario and the checker."""
    from ..actions import Controls
    from ..check import check
    from ..experiments.primary_backup import split_brain
    from ..protocols.replication import (
        FencingReplica,
        Replica,
        acting_primaries,
        one_primary_per_epoch,
        primaries_by_epoch,
        replication_system,
    )
    cls = node_class(replica_class, Replica, "check_fencing(MyReplica)")
    hint = _probe_stale(cls)
    if hint:
        raise Hint(hint)
    sim = split_brain("epochs", replica=cls)
    trace = sim.run(until=30)
    doubled = {e: sorted(p) for e, p in primaries_by_epoch(trace).items() if len(p) > 1}
    if doubled:
        raise Hint(f"in the split-brain scenario, epoch(s) {doubled} had two primaries.")

    def explore_with(c):
        return check(replication_system(2, failover="epochs", clients=0, max_epoch=2, replica=c),
                     Controls(duplicate=True, max_crashes=1),
                     invariants={"one primary per epoch": one_primary_per_epoch},
                     goals={"a new primary": lambda s: ("b1", 2) in acting_primaries(s)},
                     progress=False, max_states=100_000)

    result = explore_with(cls)
    if result.violation:
        raise Hint(f"the checker found two primaries in one epoch after "
                   f"{len(result.violation.path)} steps. A replica that accepts a message from "
                   f"an older epoch takes that epoch back and can vote a second time in the "
                   f"newer one. Return True for a message whose epoch is older than yours.")
    logs = [sim.nodes[r].log for r in ("primary", "b1", "b2")]
    if (not result.complete or not result.goals["a new primary"].reached
            or not logs[0] == logs[1] == logs[2]
            or result.states != explore_with(FencingReplica).states):
        raise Hint("safe, but your rule also drops messages it should take: only a message "
                   "from an *older* epoch than this replica's is stale.")
    return (f"at most one primary per epoch in all {result.states:,} reachable states "
            f"(one crash, duplicated and reordered messages), and the split-brain scenario "
            f"ends with one log on every replica.")
