"""Chapter 05 (Paxos): exercise checks."""

from __future__ import annotations

from .core import Hint, choice, exercise, node_class

ACCEPTOR_IDS = ("a1", "a2", "a3")


def prediction_schedule() -> list:
    """Chapter 05's schedule: p2 (number 1) gets v2 accepted by a3 alone, then p1 (number 2)
    runs both phases with a2 and a3."""
    from ..actions import Deliver
    from ..protocols.paxos import Accept, Prepare, Promise
    return [Deliver("p2", "a2", Prepare(1)), Deliver("p2", "a3", Prepare(1)),
            Deliver("a2", "p2", Promise(1, None)), Deliver("a3", "p2", Promise(1, None)),
            Deliver("p2", "a3", Accept(1, "v2")),
            Deliver("p1", "a2", Prepare(2)), Deliver("p1", "a3", Prepare(2)),
            Deliver("a2", "p1", Promise(2, None)), Deliver("a3", "p1", Promise(2, (1, "v2"))),
            Deliver("p1", "a2", Accept(2, "v2")), Deliver("p1", "a3", Accept(2, "v2"))]


def run_prediction_schedule():
    """The schedule above in a controlled Simulation (returned, so it can be drawn)."""
    from ..actions import Controls
    from ..protocols.paxos import paxos_system
    from ..sim import Simulation
    sim = Simulation(paxos_system(proposers=2, learners=1), controls=Controls())
    for action in prediction_schedule():
        sim.perform(action)
    return sim


@exercise
def check_chosen_prediction(answer):
    """05: which value does the prediction schedule choose: "v1", "v2" or "nothing"?"""
    from ..protocols.paxos import chosen_in_trace
    value = choice(answer, ("v1", "v2", "nothing"))
    chosen = chosen_in_trace(run_prediction_schedule().trace)
    truth = chosen[0] if chosen else "nothing"
    if value == truth:
        return (f"{truth} is chosen under number 2, although p1 wanted v1 and p2's own ballot "
                f"never reached a majority.")
    if value == "v1":
        raise Hint("look at p1's promises: a3 reports that it accepted (1, 'v2'). Rule 2a "
                   "makes p1 propose the value of the highest-numbered proposal reported, not "
                   "its own.")
    if value == "nothing":
        raise Hint("p2's v2 was accepted by a3 alone, not a majority, true; but p1's Accept "
                   "messages reach a2 and a3, a majority. What value do they carry?")
    raise Hint("follow p1's ballot: which value does rule 2a make it propose, and how many "
               "acceptors accept it?")


def _draw_counterexample(path, title):
    """Show a checker path as a diagram in the notebook (nothing outside one)."""
    try:
        from IPython import get_ipython
        if get_ipython() is None:
            return
        from ..viz import show, space_time
        show(space_time(path.trace(), title=title),
             caption=f"The checker's shortest counterexample, {len(path)} steps.")
    except ImportError:   # pragma: no cover - IPython is always there in the course
        return


#: (promises, the value rule 2a proposes) for a proposer whose own value is "own"
CHOOSE_VALUE_CASES = [
    ({"a1": None, "a2": None}, "own"),
    ({"a1": (1, "x"), "a2": None}, "x"),
    ({"a1": (1, "x"), "a2": (3, "y")}, "y"),
    ({"a1": (3, "y"), "a2": (1, "x"), "a3": None}, "y"),
    ({"a1": (1, "m"), "a2": (3, "a"), "a3": (2, "z")}, "a"),
    ({"a1": (2, "z"), "a2": (5, "x"), "a3": (4, "y")}, "x"),
    ({"a1": (4, "b"), "a2": (2, "c")}, "b"),
]


def _choose_value_hint(promises, got, want) -> str:
    reported = [acc for acc in promises.values() if acc is not None]
    if not reported:
        return (f"with promises {promises} no acceptor reports an accepted value, so the "
                f"proposer may propose its own, self.value ({want!r}); yours proposes {got!r}.")
    if got is None:
        return (f"your choose_value returned None for promises {promises} (did you forget "
                f"return?). It must return the value to propose: here {want!r}.")
    if isinstance(got, tuple) and got in reported:
        return (f"with promises {promises} your choose_value returned the pair {got!r}; return "
                f"its value, {got[1]!r}, not the (number, value) pair.")
    if got == "own":
        return (f"with promises {promises} your proposer proposes its own value, but an "
                f"acceptor reported an accepted one: rule 2a says propose {want!r}, the value "
                f"of the highest-numbered proposal reported.")
    lowest = min(reported, key=lambda acc: acc[0])[1]
    if got == max(value for _, value in reported) and got != lowest:
        return (f"with promises {promises} your proposer proposes {got!r}, the largest value; "
                f"rule 2a takes the value of the highest *number*: {want!r} (compare the "
                f"numbers, the first element of each pair, not the values).")
    if got == lowest:
        return (f"with promises {promises} you propose {got!r}, the value of the *lowest* "
                f"number reported; rule 2a takes the highest-numbered one: {want!r}.")
    return (f"with promises {promises} your proposer proposes {got!r}; Paxos proposes {want!r} "
            f"(compare the numbers, the first element of each pair, not the values).")


@exercise
def check_choose_value(proposer_class):
    """05: rule 2a, written by the reader: probed on hand cases, then the exhaustive check
    (3 acceptors, 2 proposers, a duplicating network) with the reader's proposer."""
    from ..actions import Controls
    from ..check import check
    from ..protocols.ballots import ModN
    from ..protocols.paxos import PAXOS_INVARIANTS, Proposer, paxos_system, value_chosen
    cls = node_class(proposer_class, Proposer, "check_choose_value(MyProposer)")
    probe = cls("p1", 0, "own", ACCEPTOR_IDS, ModN(1), 2, 2)
    for promises, want in (CHOOSE_VALUE_CASES[1], CHOOSE_VALUE_CASES[0]):
        got = probe.choose_value(dict(promises))     # a stub, a pair, None for "own" first
        if got is None or (isinstance(got, tuple) and got in promises.values()):
            raise Hint(_choose_value_hint(promises, got, want))
    r = check(paxos_system(proposers=2, learners=0, max_ballots=1, proposer=cls),
              Controls(duplicate=True), invariants=PAXOS_INVARIANTS,
              goals={"a value is chosen": value_chosen}, progress=False,
              symmetric=ACCEPTOR_IDS, max_states=200_000)
    if r.violation is not None:
        _draw_counterexample(r.violation.path, f"'{r.violation.name}' broken")
        raise Hint(f"the checker broke '{r.violation.name}' in {len(r.violation.path)} steps "
                   f"(the diagram above, in a notebook). Rule 2a: propose the value of the "
                   f"highest-numbered proposal the promises report.")
    if not r.goals["a value is chosen"].reached:
        raise Hint("agreement holds, but no value can ever be chosen: propose something.")
    for promises, want in CHOOSE_VALUE_CASES:
        got = probe.choose_value(dict(promises))
        if got != want:
            raise Hint("the checker found no problem with 2 proposers of one number each, "
                       "but " + _choose_value_hint(promises, got, want))
    return (f"the checker proves agreement for 3 acceptors and 2 proposers on a network that "
            f"loses, duplicates and reorders ({r.states:,} states), and your choice is right "
            f"on all {len(CHOOSE_VALUE_CASES)} hand cases.")


# (promised before, Accept number): must the acceptor accept?  Rule 2b: unless it promised
# a higher number (n >= promised).
RULE_2B_CASES = [(None, 1, True), (1, 1, True), (1, 2, True), (2, 1, False), (3, 3, True),
                 (3, 2, False), (None, 3, True), (2, 5, True)]


def _probe_acceptor(cls):
    """Deliver Accept messages to the reader's acceptor in known states.  A hint, or None."""
    from ..node import Send
    from ..protocols.paxos import Accept, Accepted
    from ..sim import node_rng
    ids = ("a1", "p1", "l1")
    outcomes = []
    for promised, n, _ in RULE_2B_CASES:
        a = cls("a1", learners=("l1",))
        a._attach(ids, node_rng(0, "a1"))
        a.promised = promised
        effects = a.handle(Accept(n, "v"), "p1")
        outcomes.append((a, effects))
    if not any(a.accepted for a, _ in outcomes):
        return ("your acceptor accepts no Accept at all, whatever its promise. Rule 2b: accept "
                "Accept(n, v) unless it promised a higher number (n >= promised), and tell the "
                "proposer and the learners Accepted(n, v).")
    for (promised, n, must), (a, effects) in zip(RULE_2B_CASES, outcomes):
        took = a.accepted == (n, "v")
        told = {e.to for e in effects if isinstance(e, Send) and e.msg == Accepted(n, "v")}
        state = f"an acceptor that promised {promised}" if promised is not None else \
            "an acceptor that promised nothing yet"
        if must and not took:
            if promised == n:
                return (f"{state} got Accept({n}, 'v') and did not accept it. The number equals "
                        f"its promise, and that is the normal case: the proposer it promised "
                        f"{n} to sends exactly Accept({n}, ...). Rule 2b: accept unless it "
                        f"promised a *higher* number (n >= promised).")
            return (f"{state} got Accept({n}, 'v') and did not accept it. {n} is above its "
                    f"promise, so nothing forbids it (rule 2b: accept unless it promised a "
                    f"higher number). Rejecting every number but the promised one is a common "
                    f"misreading: safe, but it can stop a value from ever being chosen.")
        if not must and took:
            return (f"{state} accepted Accept({n}, 'v'): it promised {promised} > {n}, so it "
                    f"must not accept (that promise is what keeps a chosen value safe).")
        if must:
            if a.promised != n:
                return (f"{state} accepted Accept({n}, 'v') but left its promise at "
                        f"{a.promised!r}: set promised = {n} too, or it would later promise "
                        f"numbers below what it accepted.")
            if told != {"p1", "l1"}:
                return (f"{state} accepted Accept({n}, 'v') but told {sorted(told) or 'nobody'}:"
                        f" send Accepted({n}, 'v') to the proposer and every learner.")
    return None


@exercise
def check_fixed_acceptor(acceptor_class):
    """05: a fixed AcceptsAnything: rule 2b probed on hand cases, then the exhaustive check."""
    from ..actions import Controls
    from ..check import check
    from ..protocols.paxos import PAXOS_INVARIANTS, Acceptor, paxos_system, value_chosen
    cls = node_class(acceptor_class, Acceptor, "check_fixed_acceptor(FixedAcceptor)")
    hint = _probe_acceptor(cls)
    if hint:
        raise Hint(hint)
    r = check(paxos_system(proposers=2, learners=0, max_ballots=1, acceptor=cls),
              Controls(duplicate=True), invariants=PAXOS_INVARIANTS,
              goals={"a value is chosen": value_chosen}, progress=False,
              symmetric=ACCEPTOR_IDS, max_states=200_000)
    if r.violation is not None:
        _draw_counterexample(r.violation.path, f"'{r.violation.name}' broken")
        raise Hint(f"the checker still breaks '{r.violation.name}', in "
                   f"{len(r.violation.path)} steps (the diagram above, in a notebook).")
    if not r.goals["a value is chosen"].reached:
        raise Hint("safe, but nothing can ever be chosen: your acceptor must still accept "
                   "an Accept that is not below its promise.")
    return (f"rule 2b holds on all {len(RULE_2B_CASES)} hand cases, the checker finds "
            f"agreement in all {r.states:,} states, and a value can be chosen.")
