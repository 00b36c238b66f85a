"""Chapter 09 (Paxos in practice): exercise checks.  Snapshots and log truncation: which
slots' entries a snapshot lets a replica delete."""

from __future__ import annotations

from .core import Hint, exercise, whole_number

#: the replica of the exercise: applied slots 1-4, accepted slots 3-6 (5 and 6 not applied)
SNAPSHOT_AT = 4
ACCEPTED_SLOTS = (3, 4, 5, 6)


def snapshot_exercise_replica():
    """r2 of three Multi-Paxos replicas (``SnapshotReplica``, no automatic snapshot): it
    applied writes in slots 1-4 and has accepted entries for slots 3-6 (ballot 3); slots 5
    and 6 it has not applied (it has not heard they are chosen, if they are)."""
    from ..protocols.multipaxos import multipaxos_system
    from ..protocols.snapshots import SnapshotReplica
    r2 = multipaxos_system(3, 0, 0, heartbeat=None, replica=SnapshotReplica)[1]
    r2.every = None
    commands = {s: ("c1", s - 1, ("write", "x", s)) for s in range(1, 7)}
    for slot in ACCEPTED_SLOTS:
        r2.accepted[slot] = (3, commands[slot])
    for slot in range(1, SNAPSHOT_AT + 1):
        r2.log.append(commands[slot])
    return r2


def deletable_slots() -> set:
    """The slots whose log or accepted entry the library's correct truncation deletes when
    the replica of the exercise snapshots at slot 4."""
    from ..protocols.snapshots import IN_SNAPSHOT
    r2 = snapshot_exercise_replica()
    before = set(r2.accepted) | set(range(1, len(r2.log) + 1))
    r2.take_snapshot()
    kept = set(r2.accepted) | {s for s, c in enumerate(r2.log, 1) if c != IN_SNAPSHOT}
    return before - kept


def _slot_set(answer) -> set:
    """Slot numbers from a set, list, tuple or range of whole numbers, or a string "1, 2"."""
    if isinstance(answer, str):
        answer = answer.replace(",", " ").replace("{", " ").replace("}", " ").split()
    if isinstance(answer, (set, frozenset, list, tuple, range)):
        return {whole_number(x, "each slot") for x in answer}
    raise Hint(f"give the slots as a set of numbers, like {{1, 2}}; you gave {answer!r}.")


@exercise
def check_snapshot_deletions(answer):
    """09: the replica applied slots 1-4 and accepted entries for slots 3-6; it snapshots
    its state machine at slot 4.  Which slots' entries (log and accepted) may it delete?"""
    got = _slot_set(answer)
    want = deletable_slots()
    if got == want:
        return (f"slots {min(want)} to {max(want)}: the snapshot holds their effect, and they "
                f"are chosen (only chosen commands are applied). Slots 5 and 6 stay: they are "
                f"not applied, so they may not be chosen yet, or be chosen with this vote as "
                f"one of the majority a new leader's phase 1 must find.")
    beyond = sorted(got - set(range(1, SNAPSHOT_AT + 1)))
    if any(s > max(ACCEPTED_SLOTS) or s < 1 for s in beyond):
        raise Hint(f"the replica has no entry in slot(s) {beyond}: its log ends at slot "
                   f"{SNAPSHOT_AT} and its accepted entries at slot {max(ACCEPTED_SLOTS)}.")
    if beyond:
        raise Hint(f"slot(s) {beyond} are accepted but not applied: this replica does not know "
                   f"they are chosen, and its vote may be part of the only majority that chose "
                   f"them. Deleting it lets a new leader choose something else there.")
    missing = sorted(want - got)
    if missing == [SNAPSHOT_AT]:
        raise Hint(f"the snapshot is taken at slot {SNAPSHOT_AT}, after applying it: slot "
                   f"{SNAPSHOT_AT}'s effect is in it too.")
    if got and got <= set(ACCEPTED_SLOTS):
        raise Hint(f"the log entries of slots {sorted(want - set(ACCEPTED_SLOTS))} (applied, "
                   f"with no accepted entry left) go as well: the snapshot replaces the whole "
                   f"applied log up to slot {SNAPSHOT_AT}.")
    raise Hint(f"a snapshot at slot {SNAPSHOT_AT} replaces every applied slot up to it, and "
               f"nothing after it. Missing: {missing}.")
