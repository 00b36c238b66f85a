"""Chapter 03 (two-phase commit): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, fault_list, node_class, yes_no


@exercise
def check_block_prediction(answer):
    """03: the coordinator crashes after only p1 got its Prepare and never comes back (plain
    2PC): is p1 still in doubt at the end?"""
    from ..experiments.atomic_commit import commit_with_crash
    from ..protocols.twopc import final_outcomes
    value = yes_no(answer, "answer True (p1 is blocked) or False")
    outcomes = final_outcomes(commit_with_crash("after some prepares", participants=3))
    truth = outcomes["p1"] == "in doubt"
    if value == truth:
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
    from ..protocols.twopc import Participant, twopc_system
    from ..sim import Simulation
    cls = node_class(participant_class, Participant, "check_hasty_schedule(Hasty, faults)")
    if cls.on_decision_timeout is Participant.on_decision_timeout:
        raise Hint("pass the Hasty class from above: this participant never aborts on its own, "
                   "so no schedule can break it.")
    faults = fault_list(faults, HASTY_SCHEDULE)
    try:
        sim = Simulation(twopc_system(2, termination=True, participant=cls), faults=faults)
        sim.run(until=60)
    except ValueError as exc:
        raise Hint(f"that schedule is not valid: {exc}") from None
    if _breaks_atomicity(sim):
        states = {n.id: n.log.get(1, "no entry") for n in sim.nodes.values()
                  if hasattr(n, "log") and not hasattr(n, "decisions")}
        return (f"atomicity broken: {states}. The coordinator decided commit, and a participant "
                f"that had promised to commit aborted because its answer was late.")
    decision = sim.nodes["coord"].decisions.get(1)
    if decision != "commit":
        raise Hint(f"the coordinator never decided commit (its decision: {decision or 'none'}): "
                   f"your fault came too early, before every yes vote reached it (the votes "
                   f"arrive at t=2). Let everyone vote yes first.")
    raise Hint("the coordinator decided commit and the decision reached everyone in time. Keep "
               "the Commit away from one participant for longer than its timeout (5): cut(...) "
               "the link from the coordinator to it, or partition it away after it voted.")


def _probe_patient(cls):
    """Fire the reader's DecisionTimeout at p1, in doubt, with two other participants.
    Returns a hint, or None if it asks everyone and waits again."""
    from ..node import Send, SetTimer
    from ..protocols.twopc import Ask, DecisionTimeout
    from ..sim import node_rng
    ids = ("coord", "p1", "p2", "p3")
    p1 = cls("p1", "coord", ids[1:], timeout=5.0, termination=True)
    p1._attach(ids, node_rng(0, "p1"))
    p1.log = {1: "prepared"}
    effects = p1.handle(DecisionTimeout(1))
    if p1.log.get(1) != "prepared":
        return (f"when the timer fires, your participant changes its log to {p1.log.get(1)!r} "
                f"on its own. It voted yes, so it promised to commit if told to: it must not "
                f"decide alone.")
    asked = {e.to for e in effects if isinstance(e, Send) and e.msg == Ask(1)}
    rearmed = any(isinstance(e, SetTimer) and e.timer == DecisionTimeout(1) for e in effects)
    if not asked:
        return ("when the timer fires, your participant sends nothing: waiting alone is not "
                "enough. Send Ask(tx) to the coordinator and to every other participant.")
    if "coord" not in asked:
        return ("ask the coordinator too (self.coordinator): it may be up and have decided, "
                "with only its message to you lost.")
    missing = sorted({"p2", "p3"} - asked)
    if missing:
        return (f"your participant does not ask {', '.join(missing)}: the coordinator may be "
                f"down for good, and any other participant may know the outcome. Ask every "
                f"one of self.participants except yourself.")
    if not rearmed:
        return ("it asks once and never again: if an Ask or its Answer is lost, it waits "
                "forever. Set the timer again: self.set_timer(DecisionTimeout(tx), "
                "self.timeout).")
    return None


def _lost_asks(seed):
    """The runs the patient participant must survive: p1 never gets the Commit, the
    coordinator crashes for good once p2 committed, and p1's first 1 to 3 Asks to p2 (by
    seed) and, in odd seeds, p2's first Answer are lost."""
    from ..faults import crash, drop
    faults = [drop("Commit", "coord", "p1", count=100, at=0),
              crash("coord", when=lambda s: s.node("p2").log.get(1) == "committed"),
              drop("Ask", "p1", "p2", count=1 + seed % 3, at=0)]
    return faults + ([drop("Answer", "p2", "p1", at=0)] if seed % 2 else [])


@exercise
def check_patient_participant(participant_class):
    """03: the fixed handler: it asks everyone and waits again (probed directly); atomicity in
    every reachable state; from every reachable state with the coordinator down for good,
    every live participant can still decide whenever the library's cooperative termination
    can (the checker); and in 10 seeded runs that lose p1's first questions, p1 learns the
    commit."""
    from ..actions import Controls
    from ..check import NodeModel, can_still_reach, check
    from ..network import Network, Uniform
    from ..protocols.twopc import Participant, atomicity, everyone_decided, twopc_system
    from ..sim import Simulation
    cls = node_class(participant_class, Participant, "check_patient_participant(Patient)")
    hint = _probe_patient(cls)
    if hint:
        raise Hint(hint)
    result = check(twopc_system(2, termination=True, participant=cls),
                   Controls(duplicate=True, max_crashes=1, crashable=("coord",)),
                   invariants={"atomicity": atomicity}, progress=False, max_states=100_000)
    if result.violation:
        raise Hint(f"the checker broke atomicity in {len(result.violation.path)} steps. A "
                   f"participant in doubt promised to commit if told to: it must not abort on "
                   f"its own.")
    if not result.complete:
        raise Hint(f"the checker stopped at {result.states:,} states without finishing: does "
                   f"your participant send more and more messages?")
    down = Controls(duplicate=True, max_crashes=1, crashable=("coord",), restart=False)

    def stuck(c):
        return can_still_reach(NodeModel(twopc_system(2, termination=True, participant=c), down),
                               {"everyone decided": everyone_decided}, progress=False,
                               max_states=100_000)
    mine, reference = stuck(cls), stuck(Participant)
    if not mine.complete or len(mine.stuck) > len(reference.stuck):
        raise Hint(f"with the coordinator down for good, {len(mine.stuck):,} reachable states "
                   f"can never let everyone decide, where asking everyone allows only "
                   f"{len(reference.stuck):,} (those where all voted yes and only the "
                   f"coordinator knew).")
    unlucky = []
    for seed in range(10):
        sim = Simulation(twopc_system(2, termination=True, participant=cls),
                         network=Network(Uniform(0.5, 1.5)), seed=seed,
                         faults=_lost_asks(seed))
        sim.run(until=200)
        if sim.nodes["p1"].log.get(1) != "committed":
            unlucky.append(seed)
    if unlucky:
        raise Hint(f"p1 never learns the commit in seed(s) {unlucky}, where its first Asks or "
                   f"their Answers are lost: keep asking until someone answers.")
    return (f"atomicity holds in all {result.states:,} reachable states (a coordinator crash, "
            f"duplicated and reordered messages); with the coordinator down for good, nobody "
            f"stays stuck where someone could tell ({len(mine.stuck)} stuck states, all with "
            f"everyone in doubt); and p1 learns the commit from p2 in all 10 runs that lose its first questions.")


@exercise
def check_majority_counterexample(result):
    """03: the checker's verdict on a coordinator that commits on a majority of yes votes."""
    from ..check import Result
    from ..protocols.twopc import Coordinator, atomicity
    if not isinstance(result, Result):
        raise Hint(f"assign the value check(...) returns (a Result) to result; you gave "
                   f"{type(result).__name__} {result!r:.60}.")
    if result.violation is None:
        if not result.complete:
            raise Hint(f"the checker stopped at its limit ({result.states:,} states) without "
                       f"finding a violation: with the real Coordinator, resends make the state "
                       f"space endless. Did you pass coordinator=MajorityCoordinator, "
                       f"votes=['yes', 'yes', 'no'] and invariants={{'atomicity': atomicity}}?")
        raise Hint(f"the checker found no violation in {result.states:,} states. Did you build "
                   f"the system with coordinator=MajorityCoordinator, with a participant that "
                   f"votes no (votes=['yes', 'yes', 'no']), and give invariants={{'atomicity': "
                   f"atomicity}}?")
    path = result.violation.path
    model = getattr(path, "model", None)
    coordinators = [n for n in getattr(model, "_blueprint", ()) if isinstance(n, Coordinator)]
    if not coordinators or type(coordinators[0]) is Coordinator:
        raise Hint("that check ran the real Coordinator; pass coordinator=MajorityCoordinator "
                   "to twopc_system.")
    if atomicity(path.states[-1]):
        raise Hint(f"the checker stopped on '{result.violation.name}', not on atomicity: give "
                   f"invariants={{'atomicity': atomicity}}.")
    return (f"a counterexample in {len(path)} steps: the coordinator decides commit on a "
            f"majority of yes votes, although one participant could not commit (it voted no, "
            f"or has not even voted yet). Atomic commit needs every participant's yes.")
