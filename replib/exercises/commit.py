"""Chapter 03 (two-phase commit): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, _fault_list


def _twopc_class(cls, base_name, example):
    from ..protocols import twopc
    base = getattr(twopc, base_name)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise Hint(f"pass your class itself (a subclass of {base_name}), e.g. {example}, "
                   f"not an instance or a string.")
    return cls

@exercise
def check_block_prediction(answer):
    """03: the coordinator crashes after only p1 got its Prepare and never comes back (plain
    2PC): is p1 still in doubt at the end?"""
    from ..experiments.atomic_commit import commit_with_crash
    from ..protocols.twopc import final_outcomes
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
    from ..protocols.twopc import twopc_system
    from ..sim import Simulation
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
    from ..actions import Controls
    from ..check import check
    from ..faults import cut
    from ..protocols.twopc import atomicity, twopc_system
    from ..sim import Simulation
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
    from ..check import Result
    from ..protocols.twopc import Coordinator, atomicity
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
