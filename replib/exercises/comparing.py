"""Chapter 08 (comparing): exercise checks."""

from __future__ import annotations

from .core import Hint, close, exercise, names, number


@exercise
def check_multipaxos_messages(answer):
    """08: messages between the replicas per write, Multi-Paxos with a stable leader, n = 5,
    counted as ``compare.run`` counts them."""
    from ..experiments.compare import run
    n = 5
    m = run("multipaxos", replicas=n)
    want = m.messages_per_op
    got = number(answer, "the number of messages per write")
    by_type = ", ".join(f"{k:g} {t}" for t, k in m.messages_by_type.items())
    others = n - 1
    if close(got, want):
        return (f"{want:g} per write: {by_type}. The leader sends no Accept over the network "
                f"to itself, and phase 1 ran once before the workload, so neither is counted.")
    if close(got, m.expected) or close(got, want + 2 * others):
        raise Hint(f"{got:g} is the taxonomy's 4n, and also what a leader sends that runs "
                   f"phase 1 (Prepare, Promise) for every write. A stable leader ran phase 1 "
                   f"once, before the first write: count phase 2 only, Accept to each other "
                   f"replica, Accepted back, then Decided to each other replica.")
    if close(got, 3 * n) or close(got, 3 * n + 1):
        raise Hint(f"close: the leader is one of the {n} replicas, and a message to itself is "
                   f"no network message (the table leaves it out). How many others does it "
                   f"send each Accept and each Decided to?")
    if close(got, want + 2):
        raise Hint("you counted the client's request and the reply: only messages between "
                   "the replicas count here.")
    if close(got, 2 * others):
        raise Hint(f"Accept and Accepted, {2 * others}, are right; the leader then tells the "
                   f"others the value was decided (Decided), one more message each.")
    raise Hint("phase 2 per write: Accept from the leader to each other replica, Accepted "
               "from each of them, then Decided to each of them (client messages are not "
               "counted).")


def _approach_set(answer):
    from ..experiments.compare import APPROACHES
    answer = {x.lower() for x in names(answer, "the approaches", "{'async', '2pc'}")}
    unknown = sorted(x for x in answer if x not in APPROACHES)
    if unknown:
        raise Hint(f"unknown approach name(s) {unknown}; use {', '.join(APPROACHES)}.")
    return set(answer)


@exercise
def check_keeps_writing(answer):
    """08: which approaches still acknowledge writes after the leader (primary, coordinator)
    crashes, with the defaults of ``compare`` (n = 3, crash at t = 11)."""
    from ..experiments.compare import compare
    table = compare(replicas=3, partition=None)
    want = {r.approach for r in table.rows if r.after_crash == "read/write"}
    got = _approach_set(answer)
    if got == want:
        lost = table.row("async").lost
        return (f"{', '.join(sorted(want))}: async primary/backup fails over to a backup (and "
                f"lost {lost} acknowledged write{'s' if lost != 1 else ''} doing so); both "
                f"Paxos variants elect a new leader from the majority that is still up.")
    extra, missing = got - want, want - got
    if "sync" in extra:
        raise Hint("sync primary/backup needs every replica's ack, the crashed one's too: "
                   "after a crash it still answers reads, not writes (look at the 'after "
                   "crash' column).")
    if extra & {"2pc", "3pc"}:
        raise Hint("clients talk to the coordinator only; once it is down, nobody starts a "
                   "transaction (look at the 'after crash' column).")
    if missing & {"multipaxos", "paxos-per-op"}:
        raise Hint("with 2 of 3 replicas up, Paxos still has a majority: a new leader runs "
                   "phase 1 and carries on.")
    if "async" in missing:
        raise Hint("async primary/backup fails over to a backup here (with epochs): it keeps "
                   "accepting writes, at a price (the 'lost' column).")
    raise Hint("read the 'after crash' column of the table: which rows say read/write?")
