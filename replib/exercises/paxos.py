"""Chapter 05 (Paxos): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise


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
    from ..protocols.paxos import chosen_in_trace
    chosen = chosen_in_trace(run_prediction_schedule().trace)
    if answer not in ("v1", "v2", None, "nothing"):
        raise Hint(f'answer "v1", "v2" or "nothing"; you gave {answer!r}.')
    if answer != chosen[0]:
        raise Hint("look at p1's promises: a3 reports that it accepted (1, 'v2'). Rule 2a "
                   "makes p1 propose the value of the highest-numbered proposal reported.")
    return (f"{chosen[0]} is chosen under number 2, although p1 wanted v1 and p2's own ballot "
            f"never reached a majority.")

def _proposer_class(cls):
    from ..protocols.paxos import Proposer
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
        from ..viz import show, space_time
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
    from ..actions import Controls
    from ..check import check
    from ..protocols.ballots import ModN
    from ..protocols.paxos import PAXOS_INVARIANTS, paxos_system, value_chosen
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
    from ..actions import Controls
    from ..check import check
    from ..protocols.paxos import PAXOS_INVARIANTS, Acceptor, paxos_system, value_chosen
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
