"""Exercise checks: each prints one fixed success line or one specific hint.

A check never raises, whatever the reader wrote: a missing answer (``...``), a value of
the wrong type, or code that crashes all turn into a hint.  Success lines start with
"Correct", hints with "Not yet", so the notebooks' tests can tell them apart.
"""

from __future__ import annotations

import functools
import numbers

SUCCESS = "Correct"
HINT = "Not yet"


class Hint(Exception):
    """Raised inside a check to end it with a hint."""


def exercise(check):
    """Wrap a check so that it prints exactly one line and never raises.

    It returns nothing, so a check cell shows just that line."""

    @functools.wraps(check)
    def run(*answers, **kwargs):
        if any(a is ... or a is None for a in answers):
            print(f"{HINT}: replace the ... with your answer, run that cell, then run this one.")
            return
        try:
            message = check(*answers, **kwargs)
        except Hint as hint:
            print(f"{HINT}: {hint}")
            return
        except Exception as exc:  # the reader's code failed: say so, do not crash
            print(f"{HINT}: running your answer raised {type(exc).__name__}: {exc}")
            return
        print(f"{SUCCESS}! {message}")

    return run


def _fault_list(faults, example):
    """The reader's fault schedule as a list of Faults, or a hint saying what one looks like."""
    from .faults import Fault
    if isinstance(faults, Fault):
        faults = [faults]
    if not isinstance(faults, (list, tuple)) or not all(isinstance(f, Fault) for f in faults):
        raise Hint(f"give a list of faults made with crash(...), restart(...), partition(...), "
                   f"heal(...), cut(...) or drop(...), e.g. [{example}].")
    return list(faults)


def _whole_number(answer):
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise Hint(f"give a whole number, like 3; you gave {answer!r}.")
    return answer


def _number(answer, what):
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise Hint(f"{what} should be a number, like 3.5; you gave {answer!r}.")
    return float(answer)


# ---- chapter 00 --------------------------------------------------------------------------

@exercise
def check_first_reply_time(answer):
    """00: when does the client get the reply to its first write?"""
    from .protocols.forwarding import forwarding_system
    from .sim import Simulation
    value = _number(answer, "The time")
    truth = Simulation(forwarding_system(3)).run().history()[0].response
    if abs(value - truth) < 1e-9:
        return (f"the reply arrives at t={truth:g}: the write starts at t=0.5 and needs four "
                f"messages (request, forward, ack, reply) of 1 time unit each.")
    if abs(value - (truth - 0.5)) < 1e-9:
        raise Hint("you counted the messages right, but the client only starts its first "
                   "write after its think time of 0.5.")
    if abs(value - 2.5) < 1e-9:
        raise Hint("that is when an asynchronous server would answer (request + reply). This "
                   "server waits for the replica's acknowledgement first.")
    raise Hint("count the messages between the client's request and its reply on the "
               "diagram above; each takes 1 time unit, and the client starts at t=0.5.")


@exercise
def check_replica_log_after_restart(answer):
    """00: what does the replica's log hold after it crashes and restarts?"""
    if not isinstance(answer, (list, tuple)):
        raise Hint(f"give the log as a list, like [('write', 1)]; you gave {answer!r}.")
    from .faults import crash, restart
    from .protocols.forwarding import forwarding_system
    from .sim import Simulation
    sim = Simulation(forwarding_system(3), faults=[crash("replica", at=6), restart("replica", at=8)])
    sim.run()
    truth = list(sim.nodes["replica"].log)
    if list(answer) == truth:
        return (f"the log is {truth}: 'log' is on stable storage, so the crash kept it. "
                f"Write 2's Forward reached the replica while it was down and was lost; "
                f"nothing sends it again.")
    if list(answer) == []:
        raise Hint("the replica's log is listed in Replica.stable: it survives a crash.")
    raise Hint("look at the state table after the restart step, and at which Forward "
               "messages reached the replica while it was up.")


@exercise
def check_unacknowledged_write(faults):
    """00: a fault schedule after which write 1 is acknowledged and write 2 never is."""
    from .protocols.forwarding import forwarding_system
    from .sim import Simulation
    faults = _fault_list(faults, "crash('server', at=3)")
    try:
        trace = Simulation(forwarding_system(3), faults=faults).run(until=60)
    except ValueError as exc:
        raise Hint(f"that schedule is not valid: {exc}") from None
    history = trace.history()
    answered = [op.response is not None for op in history]
    if not answered or not answered[0]:
        raise Hint("write 1 was never acknowledged either: let it finish first "
                   "(it is acknowledged at t=4.5), then strike.")
    if len(answered) > 1 and answered[1]:
        raise Hint("write 2 was acknowledged: your fault came too late or did not stop the "
                   "request, the forward, the ack or the reply (write 2 starts at t=5).")
    return (f"write 1 was acknowledged and write 2 never was ({len(faults)} fault(s)). A "
            f"client cannot tell this from a slow server: it just waits.")


# ---- chapter 01 --------------------------------------------------------------------------

def _two_backup_latencies(mode, k=None):
    """One write; client<->primary 1 each way, primary<->b1 1 each way, primary<->b2 3."""
    from .network import Constant, Network
    from .protocols.replication import replication_system
    from .sim import Simulation
    slow = Constant(3.0)
    network = Network(Constant(1.0), links={("primary", "b2"): slow, ("b2", "primary"): slow})
    trace = Simulation(replication_system(2, mode, k, writes=1), network=network).run()
    return trace.history()[0].latency


@exercise
def check_sync_latency(answer):
    """01: predict a sync write's latency when one backup is slow."""
    value = _number(answer, "The latency")
    truth = _two_backup_latencies("sync")
    if abs(value - truth) < 1e-9:
        return (f"a sync write takes {truth:g}: the client's round trip (2) plus the round trip "
                f"to the slowest backup (6). The fast backup's answer does not help.")
    if abs(value - _two_backup_latencies("semi-sync", 1)) < 1e-9:
        raise Hint("that is what semi-sync with k=1 would take: it waits for the fastest "
                   "backup only. Sync waits for every backup.")
    if abs(value - _two_backup_latencies("async")) < 1e-9:
        raise Hint("that is the asynchronous answer (the client's round trip only). Sync also "
                   "waits for an acknowledgement from every backup.")
    if abs(value - 2 - 2 - 6) < 1e-9:
        raise Hint("the primary ships to both backups at the same time, so their round trips "
                   "overlap: only the slowest one counts.")
    raise Hint("add the client's round trip to the primary and the longest round trip from the "
               "primary to a backup.")


@exercise
def check_async_loss(faults):
    """01: a fault schedule that makes asynchronous replication lose an acknowledged write."""
    from .history import lost_writes
    from .protocols.replication import replication_system
    from .sim import Simulation
    faults = _fault_list(faults, "crash('primary', at=5)")
    nodes = replication_system(2, "async", failover="epochs", writes=6, client_timeout=6.0)
    try:
        sim = Simulation(nodes, faults=faults)
        trace = sim.run(until=120)
    except ValueError as exc:
        raise Hint(f"that schedule is not valid: {exc}") from None
    replicas = ("primary", "b1", "b2")
    survivors = {r: sim.nodes[r].log for r in replicas if r not in sim.crashed}
    lost = lost_writes(trace.history(), survivors)
    if lost:
        return (f"{len(lost)} acknowledged write(s) lost: {[op.op for op in lost]}. The client "
                f"was told 'ok', and no surviving replica has the write.")
    if "primary" not in sim.crashed:
        raise Hint("as long as the primary survives, its log holds every write it "
                   "acknowledged. It has to go down for good.")
    raise Hint("the primary went down, but every write it acknowledged had already reached a "
               "backup. Keep the Updates from arriving first: cut(...) the links from the "
               "primary to the backups, or drop('Update', ...), then crash the primary.")


# ---- chapter 02 --------------------------------------------------------------------------

@exercise
def check_split_brain_prediction(answer):
    """02: how many replicas act as primary after story 2 (naive failover) heals?"""
    _whole_number(answer)
    from .experiments import split_brain
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
def check_sync_writes_with_backup_down(answer):
    """01: how many writes does a sync primary answer after one of its backups crashed?"""
    _whole_number(answer)
    from .experiments import service_after_backup_crash
    truth = service_after_backup_crash("sync", 2)["writes answered after the crash"]
    if answer == truth:
        return ("none: every sync write waits for an Ack from every backup, and b1 will never "
                "send one. The client is stuck on its first write after the crash.")
    raise Hint("what does a sync primary wait for before it answers a write, and can a "
               "crashed backup send it?")


@exercise
def check_async_loss_prediction(answer):
    """01: how many acknowledged writes does async lose with a replication delay of 4?"""
    _whole_number(answer)
    from .experiments import lost_after_primary_crash
    truth = lost_after_primary_crash("async", 4)[0]
    if answer == truth:
        return (f"{truth}: a write takes 0.2, so in the last 4 time units before the crash the "
                f"client was told 'ok' {truth} times for writes still on their way to a backup.")
    if answer == 0:
        raise Hint("async answers before the backups have the write: what about the writes "
                   "acknowledged just before the crash?")
    raise Hint("a write takes 0.2 (0.1 each way); count the writes acknowledged in the last "
               "4 time units before the crash.")


@exercise
def check_fencing(replica_class):
    """02: a Replica whose stale() drops messages from older epochs; scenario and checker."""
    from .actions import Controls
    from .check import check
    from .experiments import split_brain
    from .protocols.replication import (
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
def check_sync_messages(answer):
    """01: messages between replicas for one sync write with 3 backups."""
    from .experiments import messages_per_write
    truth = round(sum(messages_per_write("sync", 3).values()))
    if _whole_number(answer) == truth:
        return f"{truth}: an Update to each of the 3 backups and an Ack back from each (2n)."
    if answer == 3:
        raise Hint("3 is the asynchronous count (the Updates). Sync also waits for something "
                   "from every backup.")
    raise Hint("count the messages between the primary and the backups for one write in the "
               "sync diagram above, then think of 3 backups instead of 2.")


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


# ---- chapter 03 --------------------------------------------------------------------------

def _twopc_class(cls, base_name, example):
    from .protocols import twopc
    base = getattr(twopc, base_name)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise Hint(f"pass your class itself (a subclass of {base_name}), e.g. {example}, "
                   f"not an instance or a string.")
    return cls


@exercise
def check_block_prediction(answer):
    """03: the coordinator crashes after only p1 got its Prepare and never comes back (plain
    2PC): is p1 still in doubt at the end?"""
    from .experiments import commit_with_crash
    from .protocols.twopc import final_outcomes
    if not isinstance(answer, bool):
        raise Hint(f"answer True (p1 is blocked) or False; you gave {answer!r}.")
    outcomes = final_outcomes(commit_with_crash("after some prepares", participants=3))
    truth = outcomes["p1"] == "in doubt"
    if answer == truth:
        return (f"blocked: at the end p1 is {outcomes['p1']}, while p2 and p3 "
                f"({outcomes['p2']}, {outcomes['p3']}) aborted on their own. Nobody ever asks "
                f"them, so p1, who promised to commit, must wait for the coordinator.")
    raise Hint("p2 and p3 never voted, so they may abort on their own. But who tells p1? In "
               "plain 2PC a participant in doubt hears only from the coordinator.")


def _breaks_atomicity(sim) -> bool:
    outcomes = set()
    for n in sim.nodes.values():
        if hasattr(n, "decisions"):
            outcomes |= {"committed" if d == "commit" else "aborted"
                         for d in n.decisions.values() if d in ("commit", "abort")}
        else:
            outcomes |= {s for s in n.log.values() if s in ("committed", "aborted")}
    return {"committed", "aborted"} <= outcomes


HASTY_SCHEDULE = "cut('coord', 'p1', at=2.5)"


@exercise
def check_hasty_schedule(participant_class, faults):
    """03: a fault schedule under which the hasty participant (it aborts when in doubt for
    too long) breaks atomicity: one participant commits, the other aborts."""
    from .protocols.twopc import twopc_system
    from .sim import Simulation
    cls = _twopc_class(participant_class, "Participant", "check_hasty_schedule(Hasty, faults)")
    faults = _fault_list(faults, HASTY_SCHEDULE)
    try:
        sim = Simulation(twopc_system(2, termination=True, participant=cls), faults=faults)
        sim.run(until=60)
    except ValueError as exc:
        raise Hint(f"that schedule is not valid: {exc}") from None
    if _breaks_atomicity(sim):
        states = {n.id: n.log.get(1, "no entry") for n in sim.nodes.values() if hasattr(n, "log")
                  and not hasattr(n, "decisions")}
        return (f"atomicity broken: {states}. The coordinator decided commit, and a participant "
                f"that had promised to commit aborted because its answer was late.")
    raise Hint("let everyone vote yes (the votes must reach the coordinator, so it commits), then "
               "keep the Commit from reaching one participant for longer than its timeout (5): "
               "cut(...) the link from the coordinator to it, or partition it away after it voted.")


@exercise
def check_patient_participant(participant_class):
    """03: the fixed handler: safe in every reachable state, and in doubt only when it must."""
    from .actions import Controls
    from .check import check
    from .faults import cut
    from .protocols.twopc import atomicity, twopc_system
    from .sim import Simulation
    cls = _twopc_class(participant_class, "Participant", "check_patient_participant(Patient)")
    result = check(twopc_system(2, termination=True, participant=cls),
                   Controls(duplicate=True, max_crashes=1, crashable=("coord",)),
                   invariants={"atomicity": atomicity}, progress=False)
    if result.violation:
        raise Hint(f"the checker broke atomicity in {len(result.violation.path)} steps. A "
                   f"participant in doubt promised to commit if told to: it must not abort on "
                   f"its own.")
    sim = Simulation(twopc_system(2, termination=True, participant=cls),
                     faults=[cut("coord", "p1", at=2.5)])
    sim.run(until=60)
    if sim.nodes["p1"].log.get(1) != "committed":
        raise Hint("safe now, but in a run where the decision reaches p2 and never p1, p1 stays "
                   "in doubt forever although p2 knows the transaction committed. When the timer "
                   "fires, ask the others (Ask(tx) to the coordinator and the other "
                   "participants) and set the timer again.")
    return (f"atomicity holds in all {result.states:,} reachable states (a coordinator crash, "
            f"duplicated and reordered messages), and p1 learns the commit from p2.")


@exercise
def check_majority_counterexample(result):
    """03: the checker's verdict on a coordinator that commits on a majority of yes votes."""
    from .check import Result
    from .protocols.twopc import Coordinator, atomicity
    if not isinstance(result, Result):
        raise Hint("assign the value check(...) returns (a Result) to result.")
    model = getattr(result.violation.path, "model", None) if result.violation else None
    if model is None and result.violation is None:
        raise Hint(f"the checker found no violation in {result.states:,} states. Did you build "
                   f"the system with coordinator=MajorityCoordinator, with a participant that "
                   f"votes no (votes=['yes', 'yes', 'no']), and give invariants={{'atomicity': "
                   f"atomicity}}?")
    coordinators = [n for n in model._blueprint if isinstance(n, Coordinator)]
    if not coordinators or type(coordinators[0]) is Coordinator:
        raise Hint("that check ran the real Coordinator; pass coordinator=MajorityCoordinator "
                   "to twopc_system.")
    if atomicity(result.violation.path.states[-1]):
        raise Hint(f"the checker stopped on '{result.violation.name}', not on atomicity: give "
                   f"invariants={{'atomicity': atomicity}}.")
    return (f"a counterexample in {len(result.violation.path)} steps: the coordinator decides "
            f"commit on a majority of yes votes, without the yes of a participant that votes "
            f"no (and aborts). Atomic commit needs every participant's yes.")


# ---- chapter 07: proposal numbers ------------------------------------------------------

def _chubby_cases():
    """(n, i, seen) for every n 1..6, proposer i < n and seen None, 0..4n+2; the worked
    examples of the chapter first."""
    cases = [(3, 0, 1), (3, 2, 3)]
    for n in range(1, 7):
        for i in range(n):
            for seen in [None] + list(range(4 * n + 3)):
                if (n, i, seen) not in cases[:2]:
                    cases.append((n, i, seen))
    return cases


def _chubby_hint(call, got, n, i, seen, truth) -> str:
    low = 0 if seen is None else seen
    if isinstance(got, bool) or not isinstance(got, int):
        return f"{call} returned {got!r}; it should return a whole number ({truth})."
    if seen is None and got <= 0:
        return (f"{call} returned {got}, but numbers start at 1 (nothing seen is like having "
                f"seen 0): proposer {i}'s first number is {truth}.")
    if got <= low:
        return (f"{call} returned {got}, which is not above {low}: the next number must be "
                f"larger than every number the proposer has seen ({truth} here).")
    if got % n != i:
        return (f"{call} returned {got}, but {got} mod {n} is {got % n}: proposer {i} may only "
                f"use numbers s with s mod {n} == {i} (here {truth}).")
    return (f"{call} returned {got}; {truth} is smaller, still above {low}, and also "
            f"proposer {i}'s: take the smallest such number.")


@exercise
def check_chubby_next(chubby_next):
    """07: Chubby's rule: proposer i of n takes the smallest s above seen with s mod n == i."""
    from .protocols.ballots import ModN
    if not callable(chubby_next):
        raise Hint(f"give your function itself (chubby_next, without parentheses); you gave "
                   f"{chubby_next!r}.")
    cases = _chubby_cases()
    for n, i, seen in cases:
        truth = ModN(n).next(seen, i)
        call = f"chubby_next(n={n}, i={i}, seen={seen!r})"
        try:
            got = chubby_next(n, i, seen)
        except Exception as exc:
            extra = (" None means nothing seen yet: count from 0." if seen is None else "")
            raise Hint(f"{call} raised {type(exc).__name__}: {exc}.{extra}") from None
        if isinstance(got, bool) or got != truth or not isinstance(got, int):
            raise Hint(_chubby_hint(call, got, n, i, seen, truth))
    return (f"your function agrees with Chubby's rule on all {len(cases)} cases (n = 1 to 6, "
            f"every proposer, seen = None and 0 to 4n + 2), e.g. proposer 0 of 3 that has seen "
            f"1 moves to 3, proposer 2 that has seen 3 moves to 5.")


@exercise
def check_next_number_prediction(answer):
    """07: n = 3, proposer 1 has seen 7: which number next?"""
    value = _whole_number(answer)
    if value == 10:
        return ("10: above 7, proposer 1's numbers are 10, 13, 16, ... (8 is proposer 2's, "
                "9 is proposer 0's).")
    if value <= 7:
        raise Hint(f"{value} is not above 7: a proposer must pick a number larger than every "
                   f"number it has seen, or the acceptors that promised 7 reject it.")
    if value % 3 != 1:
        raise Hint(f"{value} mod 3 is {value % 3}: that number belongs to proposer {value % 3}. "
                   f"Proposer 1 uses numbers s with s mod 3 == 1.")
    raise Hint(f"{value} is proposer 1's and above 7, but a smaller one of its numbers is "
               f"also above 7: take the smallest.")


@exercise
def check_naive_safety_prediction(answer):
    """07: with naive numbers and the strict rule 1b, does agreement fail?"""
    if not isinstance(answer, bool):
        raise Hint(f"answer True (the checker finds two values chosen) or False; you gave "
                   f"{answer!r}.")
    from .check import check
    from .actions import Controls
    from .proposal_numbers import collision_system
    from .protocols.paxos import PAXOS_INVARIANTS
    r = check(collision_system("naive"), Controls(timers=False), invariants=PAXOS_INVARIANTS,
              progress=False)
    if answer is False and r.ok:
        return (f"the checker explores all {r.states:,} states and agreement holds in every "
                f"one: an acceptor promises a number to one proposer only (n > promised), so "
                f"at most one proposer gathers a majority of promises for 1.")
    raise Hint("both proposers do start with number 1. But look at rule 1b: an acceptor that "
               "promised 1 to p1 rejects p2's Prepare(1), since 1 is not above 1. Can both "
               "get a majority of promises for 1?")


@exercise
def check_disagreeing_n(seen):
    """07: a seen number after which proposer 2 (n = 3) and proposer 3 (n = 4) collide."""
    from .protocols.ballots import ModN
    value = _whole_number(seen)
    if value < 0:
        raise Hint("proposal numbers are never negative; give a number >= 0.")
    old, new = ModN(3).next(value, 2), ModN(4).next(value, 3)
    if old == new:
        return (f"after seeing {value} both pick {old}: proposer 2 (n = 3) uses 2, 5, 8, 11, "
                f"... and proposer 3 (n = 4) uses 3, 7, 11, ...; they share every number "
                f"that is 11 plus a multiple of 12.")
    raise Hint(f"after seeing {value}, proposer 2 (n = 3) picks {old} and proposer 3 (n = 4) "
               f"picks {new}. List each one's numbers (usable_numbers(3, 2, 30) and "
               f"usable_numbers(4, 3, 30)) and look for one they share.")


# ---- chapter 04: partitions and quorums

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
    from .partitions import FIVE_SPLIT, two_sides
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
    from .partitions import quorum_report
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
    from .partitions import quorum_report
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


# ---- chapter 06: livelock

@exercise
def check_livelock_steps(answer):
    """06: predict the length of the checker's shortest schedule for 5 ballots."""
    from .livelock import livelock_search
    value = _whole_number(answer)
    truth = len(livelock_search(5).path)
    if value == truth:
        return (f"{truth} steps: every extra ballot costs three deliveries (the rival's higher "
                f"Prepare, my lower one, and the Reject it earns).")
    if value == 3 * 5:
        raise Hint("three steps per ballot is right, but the first two ballots are free: both "
                   "proposers start one at time 0, before any step.")
    raise Hint("look at the table: how many steps does each extra ballot add?")


@exercise
def check_livelock_schedule(steps):
    """06: a schedule (list of 'p1 -> a1' steps) that keeps two proposers from choosing a
    value for at least 5 ballots."""
    from .livelock import livelock_verdict
    if not isinstance(steps, (list, tuple, str)):
        raise Hint(f"give a list of steps such as ['p1 -> a1', 'p2 -> a1']; you gave {steps!r}.")
    ok, why = livelock_verdict(steps, ballots=5)
    if not ok:
        raise Hint(why)
    return why + " No bound on the number of ballots can rule this out."


# ---- chapter 05: paxos -------------------------------------------------------------------
ACCEPTOR_IDS = ("a1", "a2", "a3")


def prediction_schedule() -> list:
    """Chapter 05's schedule: p2 (number 1) gets v2 accepted by a3 alone, then p1 (number 2)
    runs both phases with a2 and a3."""
    from .actions import Deliver
    from .protocols.paxos import Accept, Prepare, Promise
    return [Deliver("p2", "a2", Prepare(1)), Deliver("p2", "a3", Prepare(1)),
            Deliver("a2", "p2", Promise(1, None)), Deliver("a3", "p2", Promise(1, None)),
            Deliver("p2", "a3", Accept(1, "v2")),
            Deliver("p1", "a2", Prepare(2)), Deliver("p1", "a3", Prepare(2)),
            Deliver("a2", "p1", Promise(2, None)), Deliver("a3", "p1", Promise(2, (1, "v2"))),
            Deliver("p1", "a2", Accept(2, "v2")), Deliver("p1", "a3", Accept(2, "v2"))]


def run_prediction_schedule():
    """The schedule above in a controlled Simulation (returned, so it can be drawn)."""
    from .actions import Controls
    from .protocols.paxos import paxos_system
    from .sim import Simulation
    sim = Simulation(paxos_system(proposers=2, learners=1), controls=Controls())
    for action in prediction_schedule():
        sim.perform(action)
    return sim


@exercise
def check_chosen_prediction(answer):
    from .protocols.paxos import chosen_in_trace
    chosen = chosen_in_trace(run_prediction_schedule().trace)
    if answer not in ("v1", "v2", None, "nothing"):
        raise Hint(f'answer "v1", "v2" or "nothing"; you gave {answer!r}.')
    if answer != chosen[0]:
        raise Hint("look at p1's promises: a3 reports that it accepted (1, 'v2'). Rule 2a "
                   "makes p1 propose the value of the highest-numbered proposal reported.")
    return (f"{chosen[0]} is chosen under number 2, although p1 wanted v1 and p2's own ballot "
            f"never reached a majority.")


def _proposer_class(cls):
    from .protocols.paxos import Proposer
    if not (isinstance(cls, type) and issubclass(cls, Proposer)):
        raise Hint(f"give a class that extends Proposer (class MyProposer(Proposer): ...); "
                   f"you gave {cls!r}.")
    return cls


def _draw_counterexample(path, title):
    """Show a checker path as a diagram in the notebook (nothing outside one)."""
    try:
        from IPython import get_ipython
        if get_ipython() is None:
            return
        from .viz import show, space_time
        show(space_time(path.trace(), title=title))
    except ImportError:   # pragma: no cover - IPython is always there in the course
        return


CHOOSE_VALUE_CASES = [
    ({"a1": None, "a2": None}, "own"),
    ({"a1": (1, "x"), "a2": None}, "x"),
    ({"a1": (1, "x"), "a2": (3, "y")}, "y"),
    ({"a1": (3, "y"), "a2": (1, "x"), "a3": None}, "y"),
    ({"a1": (2, "z"), "a2": (5, "x"), "a3": (4, "y")}, "x"),
]


@exercise
def check_choose_value(proposer_class):
    from .actions import Controls
    from .check import check
    from .protocols.ballots import ModN
    from .protocols.paxos import PAXOS_INVARIANTS, paxos_system, value_chosen
    cls = _proposer_class(proposer_class)
    r = check(paxos_system(proposers=2, learners=0, max_ballots=1, proposer=cls),
              Controls(duplicate=True), invariants=PAXOS_INVARIANTS,
              goals={"a value is chosen": value_chosen}, progress=False,
              symmetric=ACCEPTOR_IDS)
    if r.violation is not None:
        _draw_counterexample(r.violation.path, f"'{r.violation.name}' broken")
        raise Hint(f"the checker broke '{r.violation.name}' in {len(r.violation.path)} steps "
                   f"(diagram above).")
    if not r.goals["a value is chosen"].reached:
        raise Hint("agreement holds, but no value can ever be chosen: propose something.")
    probe = cls("p1", 0, "own", ACCEPTOR_IDS, ModN(1), 2, 2)
    for promises, want in CHOOSE_VALUE_CASES:
        got = probe.choose_value(dict(promises))
        if got != want:
            raise Hint(f"the checker found no problem with 2 proposers, but with promises "
                       f"{promises} and its own value 'own' your proposer proposes {got!r}; "
                       f"Paxos proposes {want!r} (with more proposers that matters).")
    return (f"the checker proves agreement for 3 acceptors and "
            f"2 proposers on a network that loses, duplicates and reorders ({r.states:,} "
            f"states), and your choice is right on every test case.")


@exercise
def check_fixed_acceptor(acceptor_class):
    from .actions import Controls
    from .check import check
    from .protocols.paxos import PAXOS_INVARIANTS, Acceptor, paxos_system, value_chosen
    if not (isinstance(acceptor_class, type) and issubclass(acceptor_class, Acceptor)):
        raise Hint(f"give a class that extends the buggy acceptor; you gave {acceptor_class!r}.")
    r = check(paxos_system(proposers=2, learners=0, max_ballots=1, acceptor=acceptor_class),
              Controls(duplicate=True), invariants=PAXOS_INVARIANTS,
              goals={"a value is chosen": value_chosen}, progress=False,
              symmetric=ACCEPTOR_IDS)
    if r.violation is not None:
        _draw_counterexample(r.violation.path, f"'{r.violation.name}' broken")
        raise Hint(f"the checker still breaks '{r.violation.name}', in "
                   f"{len(r.violation.path)} steps (diagram above).")
    if not r.goals["a value is chosen"].reached:
        raise Hint("safe, but nothing can ever be chosen: your acceptor must still accept "
                   "an Accept that is not below its promise.")
    return f"the checker finds agreement in all {r.states:,} states, and a value can be chosen."


# ---- chapter 08: comparing ---------------------------------------------------------------

@exercise
def check_multipaxos_messages(answer):
    """08: messages between the replicas per write, Multi-Paxos with a stable leader, n = 5,
    counted as ``compare.run`` counts them."""
    from .compare import run
    m = run("multipaxos", replicas=5)
    want = m.messages_per_op
    got = _number(answer, "the number of messages per write")
    by_type = ", ".join(f"{k:g} {t}" for t, k in m.messages_by_type.items())
    if got == want:
        return (f"{want:g} per write: {by_type}. The leader sends no Accept over the network "
                f"to itself, and phase 1 ran once before the workload, so neither is counted.")
    if got == m.expected:
        raise Hint(f"{got:g} is the taxonomy's 4n. Count what one write sends between "
                   f"replicas in phase 2 only: Accept to each other replica, Accepted back, "
                   f"then Decided to each other replica.")
    if got == 4 * (5 - 1) + 2 * (5 - 1) or got == 5 * 5:
        raise Hint("that counts phase 1 (Prepare and Promise) again: a stable leader ran it "
                   "once, before the first write.")
    if got in (3 * 5, 3 * 5 + 1, 3 * 5 - 1):
        raise Hint("close: the leader is one of the 5 replicas, and a message to itself is no "
                   "network message (the table leaves it out). How many others does it send "
                   "each Accept and each Decided to?")
    raise Hint("phase 2 per write: Accept from the leader to each other replica, Accepted "
               "from each of them, then Decided to each of them (client messages are not "
               "counted).")


def _approach_set(answer):
    from .compare import APPROACHES
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split()
    if not isinstance(answer, (set, frozenset, list, tuple)) or not all(
            isinstance(x, str) for x in answer):
        raise Hint(f"give a set of approach names, like {{'async', '2pc'}}; you gave "
                   f"{answer!r}.")
    unknown = [x for x in answer if x not in APPROACHES]
    if unknown:
        raise Hint(f"unknown approach name(s) {unknown}; use {', '.join(APPROACHES)}.")
    return set(answer)


@exercise
def check_keeps_writing(answer):
    """08: which approaches still acknowledge writes after the leader (primary, coordinator)
    crashes, with the defaults of ``compare`` (n = 3, crash at t = 11)."""
    from .compare import compare
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
