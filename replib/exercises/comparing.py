"""Chapter 08 (comparing): exercise checks: who keeps writing after a crash, Multi-Paxos
messages per write, the slot a new leader fills with a no-op, and rule 2a for a log."""

from __future__ import annotations

from .core import Hint, choice, close, exercise, function, names, number


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
    """08: which approaches still acknowledge writes after the leader (primary, coordinator,
    first master) crashes, with the defaults of ``compare`` (n = 3, crash at t = 11).
    Raft is chapter 10's: not asked here, and not held against an answer that names it."""
    from ..experiments.compare import APPROACHES, compare
    table = compare(replicas=3, partition=None, approaches=[a for a in APPROACHES if a != "raft"])
    want = {r.approach for r in table.rows if r.after_crash == "read/write"}
    got = _approach_set(answer) - {"raft"}
    if got == want:
        lost = table.row("async").lost
        return (f"{', '.join(sorted(want))}: async primary/backup fails over to a backup (and "
                f"lost {lost} acknowledged write{'s' if lost != 1 else ''} doing so); the "
                f"other masters take the writes at once; both Paxos variants elect a new "
                f"leader from the majority that is still up.")
    extra, missing = got - want, want - got
    if "backups" in extra:
        raise Hint("backups never fail over: the backup is a copy to restore from, and answers "
                   "no client (look at the 'after the crash' column).")
    if "multi-master" in missing:
        raise Hint("in multi-master every master takes writes: when one crashes, its clients "
                   "write to another at once.")
    if "sync" in extra:
        raise Hint("sync primary/backup needs every replica's ack, the crashed one's too: "
                   "after a crash it still answers reads, not writes (look at the 'after "
                   "crash' column).")
    if extra & {"2pc", "3pc"}:
        raise Hint("clients talk to the coordinator only; once it is down, nobody starts a "
                   "transaction (look at the 'after the crash' column).")
    if missing & {"multipaxos", "paxos-per-op"}:
        raise Hint("with 2 of 3 replicas up, Paxos still has a majority: a new leader runs "
                   "phase 1 and carries on.")
    if "async" in missing:
        raise Hint("async primary/backup fails over to a backup here (with epochs): it keeps "
                   "accepting writes, at a price (the 'lost' column).")
    raise Hint("read the 'after the crash' column of the table: which rows say read/write?")


@exercise
def check_noop_prediction(answer):
    """08: after the leader change, what does slot 1 of r2's log hold: "a", "b", "no-op" or
    "nothing"?"""
    from ..experiments.replicated_log import command_text, leader_change
    if isinstance(answer, str) and answer.strip().strip("'\"").lower() == "noop":
        answer = "no-op"
    value = choice(answer, ("a", "b", "no-op", "nothing"))
    log = leader_change().node("r2").log
    truth = command_text(log[0]) if log else "nothing"
    truth = truth if truth == "no-op" else truth.split()[-1]
    if value == truth:
        return (f"slot 1 holds a no-op: no promise reported anything for slot 1 (its Accepts "
                f"were lost, and r1 crashed), so r2 fills the gap; slot 2 keeps "
                f"{command_text(log[1])}, and c1's resent write goes to slot {len(log)}.")
    if value == "a":
        raise Hint("only r1 knew that a went to slot 1, and r1 is down; its Accepts for slot 1 "
                   "reached nobody. The new leader can only re-propose what the promises of a "
                   "majority report for a slot.")
    if value == "b":
        raise Hint("b was accepted in slot 2, and rule 2a works slot by slot: the promises "
                   "report b for slot 2, so slot 2 keeps it. Slot 1 is another instance of "
                   "Paxos: what do the promises report for it?")
    raise Hint("a hole in the log would hold everything after it up: replicas apply the log "
               "in slot order, so slot 2 could never be applied. The new leader must get "
               "something chosen in slot 1.")


# hand cases for fill_gaps: (reports, first) -> what the new leader proposes
FILL_CASES = [
    (({}, 1), {}),
    (({2: [(3, "b")]}, 1), {1: "noop", 2: "b"}),
    (({1: [(5, "a"), (3, "z")]}, 1), {1: "a"}),
    (({1: [(3, "a"), (5, "c")]}, 1), {1: "c"}),
    (({1: [(5, "c"), (3, "a")], 3: [(4, "d")]}, 1), {1: "c", 2: "noop", 3: "d"}),
    (({3: [(2, "x")]}, 3), {3: "x"}),
    (({4: [(1, "y"), (1, "y")]}, 2), {2: "noop", 3: "noop", 4: "y"}),
]


def _fill_hint(call, got, want, reports, first):
    if not isinstance(got, dict):
        return f"{call} returned {got!r}; return a dict slot -> command."
    low = sorted(s for s in got if s < first)
    if low:
        return (f"{call} proposes slot {low[0]}, below first={first}: the slots before "
                f"first are applied already; start at first.")
    missing = sorted(s for s in want if s not in got)
    if missing and want[missing[0]] == "noop":
        return (f"{call} leaves slot {missing[0]} out. Nobody reports it, but a hole holds "
                f"up every later slot (the log is applied in order): propose \"noop\" there.")
    if missing:
        return (f"{call} leaves slot {missing[0]} out: propose something in every slot up "
                f"to the highest reported.")
    for slot, command in sorted(want.items()):
        if got.get(slot) != command and command != "noop":
            commands = [c for _, c in reports.get(slot, ())]
            if got.get(slot) == max(commands) and len(set(commands)) > 1:
                return (f"{call} proposes {got.get(slot)!r} in slot {slot}, the largest "
                        f"command; compare the ballots, not the commands: {command!r} was "
                        f"reported under the highest ballot.")
            if got.get(slot) in commands:
                return (f"{call} proposes {got.get(slot)!r} in slot {slot}, but {command!r} "
                        f"was reported under a higher ballot: rule 2a takes the value of the "
                        f"highest-numbered proposal reported.")
            return (f"{call} proposes {got.get(slot)!r} in slot {slot}; the promises report "
                    f"{reports[slot]}: propose the command of the highest ballot.")
    extra = sorted(s for s in got if s not in want)
    if extra:
        return (f"{call} proposes slot {extra[0]}, above the highest slot reported: new "
                f"commands go there later, the recovery stops at the highest reported slot.")
    return f"{call} returned {got!r}, expected {want!r}."


@exercise
def check_fill_gaps(fill_gaps):
    """08: rule 2a for a log: the reader's ``fill_gaps(reports, first)`` on hand cases, then
    on what r2's promises reported in the leader change."""
    from ..experiments.replicated_log import leader_change, recovery_reports
    from ..protocols.multipaxos import NOOP
    fill_gaps = function(fill_gaps, "fill_gaps")
    sim = leader_change()
    real = ((recovery_reports(sim), 1),
            {s + 1: c for s, c in enumerate(sim.node("r2").log[:2])})
    for (reports, first), want in FILL_CASES + [real]:
        call = f"fill_gaps({reports}, first={first})"
        try:
            got = fill_gaps({s: list(r) for s, r in reports.items()}, first)
        except Exception as exc:
            raise Hint(f"{call} raised {type(exc).__name__}: {exc}.") from None
        if got != want:
            raise Hint(_fill_hint(call, got, want, reports, first))
    return (f"right on all {len(FILL_CASES) + 1} cases, the last one the leader change above: "
            f"the promises report slot 2 only, so r2 proposes {NOOP!r} in slot 1 and keeps "
            f"slot 2's write.")
