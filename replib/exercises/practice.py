"""Chapter 09 (Paxos in practice): exercise checks.  Snapshots and log truncation: which
slots' entries a snapshot lets a replica delete."""

from __future__ import annotations

from .core import Hint, choice, exercise, number, whole_number, yes_no

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


# ---- predict, then run: one per section ---------------------------------------------------

@exercise
def check_failover_prediction(answer):
    """09 §2: the leader crashes at t = 10; writes stop longest with "heartbeats" only, or
    with a "lease" of 20?"""
    from ..experiments.reads import failover_gap
    value = choice(answer, ("heartbeats", "lease"), "answer 'heartbeats' or 'lease'")
    lease, plain = failover_gap(20.0), failover_gap(None)
    if value == ("lease" if lease > plain else "heartbeats"):
        return (f"with a lease of 20 no write is acknowledged for {lease:g}, against {plain:g} "
                f"with heartbeats alone: the survivors must wait out the guard they promised "
                f"the dead leader before anyone may be elected.")
    raise Hint("a replica that acknowledged a lease promised to vote for nobody else until it "
               "runs out, even if the leader is dead")


@exercise
def check_one_at_a_time_prediction(answer):
    """09 §3: from 3 replicas to 4 (one added): can an old majority and a new majority share
    no replica?"""
    from ..protocols.membership import configuration_quorums
    value = yes_no(answer, "answer True (they can miss each other) or False")
    q = configuration_quorums(["r1", "r2", "r3"], ["r1", "r2", "r3", "r4"])
    truth = bool(q.disjoint)
    if value == truth:
        return (f"{len(q.old_quorums)} old majorities of 2 and {len(q.new_quorums)} new ones of "
                f"3: every pair shares a replica, since 2 + 3 > 4. That is why adding or "
                f"removing one server at a time is safe without joint consensus.")
    raise Hint("a majority of the three has 2 replicas, a majority of the four has 3; can 2 + 3 "
               "replicas fit among 4 without sharing one?")


@exercise
def check_catch_up_prediction(answer):
    """09 §4: how many messages does a replica 1,000 slots behind need to catch up through
    the log, at most 10 entries per message (a request and an answer each time)?"""
    from ..protocols.snapshots import catch_up_cost
    value = number(answer, "the number of messages")
    truth = catch_up_cost(1000, "log")["messages"]
    if value == truth:
        return (f"{truth:g}: {truth // 2:g} requests and {truth // 2:g} answers of 10 entries "
                f"each; a snapshot needs {catch_up_cost(1000, 'snapshot')['messages']:g} "
                f"whatever the length.")
    if value == truth // 2:
        raise Hint("each batch of 10 entries is asked for and then sent: count both messages")
    raise Hint("1,000 entries, 10 per message: how many answers, and how many requests?")


@exercise
def check_stale_disk_prediction(answer):
    """09 §6: does RecoveringReplica notice a disk restored from a stale backup?"""
    from ..experiments.lost_disk import lost_disk_run
    from ..protocols.multipaxos import slot_disagreements
    value = yes_no(answer, "answer True (it notices) or False")
    sim = lost_disk_run("recovering", disk="stale")
    truth = not slot_disagreements(sim)
    if value == truth:
        return ("it does not: the stale copy has 'fresh' cleared like any disk that was used, so "
                "r2 votes at once from its old state, and slot 1 ends with two commands.")
    raise Hint("what does RecoveringReplica look at to decide that its disk is lost? Is it set "
               "on a stale copy?")
