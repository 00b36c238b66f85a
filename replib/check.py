"""Exhaustive checking: explore every reachable state of a model, breadth-first.

``explore(model, invariants, goals)`` works on any object with ``init_states()`` and
``successors(state)`` (pairs of action and next state), the shape of Stateright's Model;
a model may also offer ``view(state)``, what the invariants and paths see of a state.
Breadth-first search means every path it reports -- a counterexample to an invariant
("always") or a witness for a goal ("sometimes") -- is a shortest one.

``NodeModel`` turns a set of replib Nodes into such a model.  Its actions are the same
Deliver / Drop / Fire / Crash / Restart that a controlled Simulation performs, computed by
the same ``Controls.enabled`` and applied by running the very same handlers, so any path
converts to a Trace (``model.trace(path)``) that the diagrams and the player show like any
simulated run.  A node class may declare messages ``obsolete`` (ignored now and forever,
e.g. replies about a ballot a Paxos proposer has left behind); the model forgets them, which
merges states that differ only in such messages, and checks each claim once by handling the
message and seeing that nothing changes.
"""

from __future__ import annotations

import functools
import gc
import math
import time
from collections import deque
from dataclasses import dataclass, field

from .actions import Controls
from .nodemodel import NodeModel, SystemState  # noqa: F401  (the adapter for node systems)

# --------------------------------------------------------------------------------------
# Limits: a search that cannot finish stops cleanly and says what to bound
# --------------------------------------------------------------------------------------

#: How many states a search finds before it stops, when ``max_states`` is None.  A model
#: with no end (Paxos with ``max_ballots=None``) would otherwise fill the memory; two
#: million node states take about 1 to 2 GB.  Pass ``max_states=math.inf`` for no limit.
DEFAULT_MAX_STATES = 2_000_000


class Limits:
    """The state and time limits of one search, and the note that says which one stopped
    it and what to do about it."""

    def __init__(self, max_states=None, max_seconds=None, hint: str = ""):
        if max_states is not None and not (max_states == math.inf or (
                isinstance(max_states, int) and not isinstance(max_states, bool)
                and max_states >= 1)):
            raise ValueError(f"max_states must be None or a whole number >= 1, got "
                             f"{max_states!r} (None: the default limit, "
                             f"{DEFAULT_MAX_STATES:,} states; math.inf: no limit)")
        if max_seconds is not None and (
                isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float))
                or not math.isfinite(max_seconds) or max_seconds <= 0):
            raise ValueError(f"max_seconds must be a number of seconds > 0 (or None: no time "
                             f"limit), got {max_seconds!r}")
        self.chosen = max_states is not None          # the caller picked the state limit
        self.states = DEFAULT_MAX_STATES if max_states is None else max_states
        self.seconds = max_seconds
        self.deadline = None if max_seconds is None else time.perf_counter() + max_seconds
        self.hint = hint

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def note(self, why: str, then: str = "incomplete") -> str:
        """why: "states" or "time"."""
        if why == "time":
            return (f"stopped at the time limit ({self.seconds:g} s): {then}; pass a larger "
                    f"max_seconds to look further")
        note = f"stopped at the state limit ({self.states:,} states): {then}"
        if not self.chosen:       # the default stopped it: say what to bound
            note += (f". {self.hint}Bound the model, or pass max_states (math.inf: no "
                     f"limit) to look further")
        return note


def model_hint(model) -> str:
    """What to bound in a node model that reached the default limit: its nodes' ``max_...``
    settings left at None, and a lossy network that could duplicate instead."""
    hints = []
    unbounded = sorted({f"{name}=None" for node in getattr(model, "_blueprint", ())
                        for name, value in vars(node).items()
                        if name.startswith("max_") and value is None})
    if unbounded:
        hints.append(f"{', '.join(unbounded)} leaves no end to the states (give it a number, "
                     f"e.g. {unbounded[0].split('=')[0]}=2). ")
    controls = getattr(model, "controls", None)
    if controls is not None and controls.drop:
        hints.append("drop=True multiplies the states; duplicate=True covers loss with fewer "
                     "(a message in a duplicating network may also never arrive). ")
    return "".join(hints)


# --------------------------------------------------------------------------------------
# The model's contract
# --------------------------------------------------------------------------------------

CONTRACT = ("a model has init_states(), returning a list of states, and successors(state), "
            "yielding (action, next state) pairs; states are hashable")


def initial_states(model) -> list:
    """The model's initial states, or a ValueError that states the contract."""
    if not (hasattr(model, "init_states") and hasattr(model, "successors")):
        raise ValueError(f"model needs init_states() and successors(state) methods: {CONTRACT}")
    got = model.init_states()
    if got is None or isinstance(got, (str, bytes)) or not hasattr(got, "__iter__"):
        raise ValueError(f"init_states() must return a list of states, got {got!r}: {CONTRACT}")
    states = list(got)
    for state in states:
        hashable(state)
    return states


def hashable(state):
    try:
        hash(state)
    except TypeError:
        raise ValueError(f"states must be hashable (tuples, frozensets, numbers, strings), so "
                         f"the search can remember them; got {state!r} "
                         f"({type(state).__name__})") from None
    return state


def pairs(model, state):
    """``model.successors(state)``, checked against the contract as they come."""
    for step in model.successors(state):
        if not (isinstance(step, tuple) and len(step) == 2):
            raise ValueError(f"successors(state) must yield (action, next state) pairs; from "
                             f"{state!r} it gave {step!r}: {CONTRACT}")
        hashable(step[1])
        yield step


# --------------------------------------------------------------------------------------
# The generic explorer
# --------------------------------------------------------------------------------------


@dataclass
class Path:
    """A run of the model: ``states[0]`` is initial, ``states[i + 1]`` follows ``actions[i]``."""

    actions: list
    states: list
    model: object = field(default=None, repr=False, compare=False)

    def __len__(self):
        return len(self.actions)

    def trace(self):
        """The path as a Trace (for node models), ready for the diagrams and the player."""
        if not hasattr(self.model, "trace"):
            raise ValueError("only node models (replib.check.NodeModel) turn paths into traces")
        return self.model.trace(self)

    def __str__(self):
        return "\n".join(f"{i + 1:>3}. {a}" for i, a in enumerate(self.actions)) or "(no steps)"


@dataclass
class Violation:
    """An invariant that failed, and a shortest path to a state where it fails."""

    name: str
    path: Path

    def __str__(self):
        return f"invariant '{self.name}' violated after {_steps(len(self.path))}:\n{self.path}"


@dataclass
class Goal:
    """A "sometimes" property: was some state satisfying it reached, and by what shortest path?"""

    name: str
    path: Path | None = None

    @property
    def reached(self) -> bool:
        return self.path is not None


@dataclass
class Result:
    states: int          # distinct states found
    transitions: int     # successor pairs examined (edges, including ones to known states)
    max_depth: int       # deepest state found (initial states are at depth 0)
    violation: Violation | None
    goals: dict
    complete: bool       # True when every reachable state (within max_depth) was explored
    note: str
    seconds: float
    covering: bool = False   # from the covering search (reduce=True): states = explored ones

    @property
    def ok(self) -> bool:
        return self.violation is None

    def summary(self) -> str:
        """A stable, printable account (no timings, so notebooks can compare it)."""
        if self.covering:
            lines = [f"{self.states:,} states explored, {self.transitions:,} transitions: "
                     f"{self.note}"]
        else:
            lines = [f"{self.states:,} states, {self.transitions:,} transitions, "
                     f"max depth {self.max_depth}: {self.note}"]
        if self.violation:
            lines.append(f"VIOLATION of '{self.violation.name}' "
                         f"(shortest path: {_steps(len(self.violation.path))})")
        for g in self.goals.values():
            lines.append(f"goal '{g.name}': " + (f"reached in {_steps(len(g.path))}"
                                                 if g.reached else "never reached"))
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def _path(model, actions, states) -> Path:
    """A Path in the model's real names (a symmetric model renames its steps back)."""
    unfold = getattr(model, "unfold", None)
    if unfold is not None:
        real_actions, real_states = unfold(actions)
        if real_states is not None:
            return Path(real_actions, real_states, model)
    return Path(actions, states, model)


def path_from(model, parents, state, view) -> Path:
    """The path to ``state`` that a breadth-first search recorded in ``parents``
    (state -> (parent, action), None at the start), states shown through ``view``."""
    actions, states = [], [state]
    link = parents[state]
    while link is not None:
        state, action = link
        actions.append(action)
        states.append(state)
        link = parents[state]
    return _path(model, actions[::-1], [view(s) for s in reversed(states)])


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def about_nodes(prop):
    """Mark a property (an invariant or a goal) as one that reads only the nodes' states:
    ``s.node(...)``, ``s.nodes``, ``s.of_role(...)``; never the messages in flight, the
    timers, or which nodes are down.  Many states share their node states, so the checker
    then asks such a property once per combination of node states; and
    ``check(..., reduce=True)`` needs every property to be of this kind."""
    prop.about_nodes = True
    return prop


def about_nodes_only(prop) -> bool:
    """Was ``prop`` marked with ``about_nodes``?"""
    return getattr(prop, "about_nodes", False) is True


def _named(props, what):
    if props is None:
        return {}
    if not isinstance(props, dict) or not all(callable(p) for p in props.values()):
        raise ValueError(f"{what} must be a dict mapping names to functions of a state, "
                         f"e.g. {{'agreement': lambda s: ...}}; got {props!r}")
    return dict(props)


def gc_paused(search):
    """Run ``search`` with Python's cyclic garbage collector paused.  A search keeps
    millions of tuples alive until it ends, and they hold no reference cycles; the
    collector would walk all of them again every time it runs, for nothing (measured: a
    sixth of the covering search's time, with nothing collected).  It resumes afterwards."""
    @functools.wraps(search)
    def paused(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return search(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()
    return paused


@gc_paused
def explore(model, invariants=None, goals=None, max_depth=None, max_states=None,
            progress=True, max_seconds=None) -> Result:
    """Visit every state reachable from the model's initial states, breadth-first.

    invariants: {name: predicate} that must hold in every state ("always"); the search
    stops at the first state where one fails and reports a shortest path to it.
    goals: {name: predicate} that should hold in some state ("sometimes").
    max_depth: explore no deeper than this many steps.  max_states: stop cleanly after
    finding this many states (None: ``DEFAULT_MAX_STATES``; math.inf: no limit), and
    max_seconds after that many seconds; the result then says it is incomplete and why.
    progress: show a progress bar when the search takes more than a second.

    A model may offer ``expand(state, asleep, found)`` (NodeModel does): the successors
    without the steps it can count without taking, and for each successor a *sleep set*
    (``found``: the states the search has found so far, which the model may read).  Two
    deliveries to different nodes lead to the same state in either order, and so do a
    delivery and a timer, crash or restart at another node.  So once the search has
    tried "a, then b" from some state, it need not also try "b, then a": when it takes b,
    it hands the next state a sleep set holding a, and there a is counted as a transition
    but not taken (it leads to a state found another way, by as many steps).  A state
    found again before its turn keeps asleep only what every way to it allows.  States,
    transitions, depths and shortest paths come out exactly as without it.
    """
    if not (hasattr(model, "init_states") and hasattr(model, "successors")):
        raise ValueError(f"model needs init_states() and successors(state) methods: {CONTRACT}")
    invariants = _named(invariants, "invariants")
    goals = _named(goals, "goals")
    if max_depth is not None and (isinstance(max_depth, bool) or not isinstance(max_depth, int)
                                  or max_depth < 0):
        raise ValueError(f"max_depth must be None or a whole number >= 0, got {max_depth!r}")
    limits = Limits(max_states, max_seconds, model_hint(model))
    max_states = limits.states

    view = getattr(model, "view", None) or (lambda state: state)
    expand = getattr(model, "expand", None)       # a faster successors(), if the model has one
    nodes_of = getattr(model, "nodes_of", None)   # what properties about the nodes read
    started = time.perf_counter()
    parents = {}              # state -> (parent state, action); None for initial states
    frontier = deque()
    found = {name: Goal(name) for name in goals}
    open_goals = dict(goals)
    checked_nodes = set()     # node states already shown to the properties about the nodes
    asleep = {}               # state waiting its turn -> its sleep set (see above)
    transitions = deepest = 0
    violation = None
    stopped = None
    bar = _progress_bar() if progress else None

    def path_to(state):
        return path_from(model, parents, state, view)

    # properties that must be asked in every state (the others: once per node states)
    every_state = [name for name, prop in {**invariants, **goals}.items()
                   if nodes_of is None or not about_nodes_only(prop)]

    def visit(state, depth):
        """Record a new state; return a Violation if an invariant fails in it."""
        if invariants or open_goals:
            fresh = True         # a property about the nodes answers once per node states
            if nodes_of is not None:
                key = nodes_of(state)
                fresh = key not in checked_nodes
                if fresh:
                    checked_nodes.add(key)
            if fresh or every_state:
                seen = view(state)
                for name, holds in invariants.items():
                    if (fresh or name in every_state) and not holds(seen):
                        return Violation(name, path_to(state))
                for name in [n for n, reached in open_goals.items()
                             if (fresh or n in every_state) and reached(seen)]:
                    found[name].path = path_to(state)
                    del open_goals[name]
        frontier.append((state, depth))
        return None

    for state in initial_states(model):
        if state not in parents:
            parents[state] = None
            violation = visit(state, 0)
            if violation:
                break

    expanded = 0
    checking = bool(invariants or open_goals)
    while frontier and violation is None and stopped is None:
        state, depth = frontier.popleft()
        expanded += 1
        if expanded & 255 == 0 and limits.out_of_time():
            frontier.appendleft((state, depth))
            stopped = limits.note("time")
            break
        sleeping = asleep.pop(state, 0)
        if max_depth is not None and depth >= max_depth:
            continue
        before = transitions
        if expand is not None:
            skipped, steps = expand(state, sleeping, parents)    # counted, and looked at
            transitions += skipped + len(steps)
        else:
            steps = [(action, nxt, 0) for action, nxt in pairs(model, state)]
            transitions += len(steps)
        found_before = len(parents)
        for position, (action, nxt, sleep) in enumerate(steps):
            if nxt in parents:
                waiting = asleep.get(nxt)
                if waiting is not None:  # found again before its turn: only what sleeps
                    sleep &= waiting                     # on both ways may sleep
                    if sleep:
                        asleep[nxt] = sleep
                    else:
                        del asleep[nxt]
                continue
            parents[nxt] = (state, action)
            if sleep:
                asleep[nxt] = sleep
            if checking and (every_state or nodes_of(nxt) not in checked_nodes):
                violation = visit(nxt, depth + 1)
                if violation:
                    break
            else:
                frontier.append((nxt, depth + 1))
            if len(parents) >= max_states:
                stopped = limits.note("states")
                break
        if len(parents) > found_before and depth + 1 > deepest:
            deepest = depth + 1
        if violation or stopped:
            # the search stopped inside this state: count its transitions up to this one,
            # in successors' order, as the plain search does
            if expand is None:
                transitions = before + position + 1
            else:
                actions = [a for a, _ in model.successors(state)]
                transitions = before + actions.index(action) + 1
        if bar is not None and len(parents) - bar.n >= 2000:
            bar.update(len(parents) - bar.n)
            bar.set_postfix(depth=depth, queue=len(frontier), refresh=False)

    if bar is not None:
        bar.update(len(parents) - bar.n)
        bar.close()
    if violation is not None:
        note = f"stopped at the first violation ('{violation.name}')"
    elif stopped is not None:
        note = stopped
    elif max_depth is not None and deepest >= max_depth:
        note = f"explored every state up to depth {max_depth}"
    else:
        note = "explored every reachable state"
    return Result(states=len(parents), transitions=transitions, max_depth=deepest,
                  violation=violation, goals=found,
                  complete=violation is None and stopped is None, note=note,
                  seconds=time.perf_counter() - started)


@dataclass
class Reachability:
    """The answer of ``can_still_reach``: the states from which the target is out of reach."""

    target: str
    where: str
    states: int          # distinct states found
    transitions: int
    matching: int        # reachable states where the condition ``where`` held
    stuck: list          # those of them from which no target state can be reached (views)
    path: Path | None    # a shortest path to a stuck state
    complete: bool
    note: str

    @property
    def ok(self) -> bool:
        return self.complete and not self.stuck

    def summary(self) -> str:
        """A stable, printable account (no timings)."""
        lines = [f"{self.states:,} states, {self.transitions:,} transitions: {self.note}"]
        if self.complete:
            lines.append(f"{self.matching:,} states where {self.where}; " + (
                f"from {len(self.stuck):,} of them '{self.target}' can never be reached "
                f"(shortest path to one: {_steps(len(self.path))})" if self.stuck else
                f"from every one of them '{self.target}' can still be reached"))
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def _one_property(prop, what, default_name):
    if isinstance(prop, dict) and len(prop) == 1:
        (name, fn), = prop.items()
    else:
        fn = prop
        name = getattr(fn, "__name__", "<lambda>")
        name = default_name if name == "<lambda>" else name
    if not callable(fn):
        raise ValueError(f"{what} must be a function of a state, or {{'name': function}}; "
                         f"got {prop!r}")
    return str(name), fn


@gc_paused
def can_still_reach(model, target, where=None, max_states=None, progress=True,
                    max_seconds=None) -> Reachability:
    """From every reachable state where ``where`` holds, can a state where ``target`` holds
    still be reached?  (In temporal logic: AG(where -> EF target).)

    This is how to tell "stuck for now" from "stuck for good": a 2PC participant in doubt
    is blocked only if no sequence of events can ever tell it the outcome.  The search keeps
    the whole state graph, so it suits small configurations.  target, where: functions of
    a state (what ``model.view`` gives), or {name: function} to name them in the summary;
    where=None means every state.  max_states, max_seconds: as for ``explore``.
    """
    if not (hasattr(model, "init_states") and hasattr(model, "successors")):
        raise ValueError(f"model needs init_states() and successors(state) methods: {CONTRACT}")
    target_name, target = _one_property(target, "target", "the target")
    if where is None:
        where_name, where = "any state", lambda s: True
    else:
        where_name, where = _one_property(where, "where", "the condition")
        where_name = f"'{where_name}' holds"
    limits = Limits(max_states, max_seconds, model_hint(model))
    max_states = limits.states
    view = getattr(model, "view", None) or (lambda state: state)
    # node models keep the contract by construction; others are checked as they go
    successors = model.successors if isinstance(model, NodeModel) else (
        lambda state: pairs(model, state))
    index, states, parents, edges = {}, [], [], []
    transitions = 0
    stopped = False
    bar = _progress_bar() if progress else None

    def add(state, link):
        index[state] = len(states)
        states.append(state)
        parents.append(link)
        edges.append(())

    for state in initial_states(model):
        if state not in index:
            add(state, None)
    i = 0
    while i < len(states) and not stopped:     # breadth-first: states are numbered in order
        if i & 255 == 255 and limits.out_of_time():
            stopped = "time"
            break
        succ = []
        for action, nxt in successors(states[i]):
            transitions += 1
            j = index.get(nxt)
            if j is None:
                if len(states) >= max_states:
                    stopped = "states"
                    break
                j = len(states)
                add(nxt, (i, action))
            succ.append(j)
        edges[i] = succ
        i += 1
        if bar is not None and len(states) - bar.n >= 2000:
            bar.update(len(states) - bar.n)
    if bar is not None:
        bar.update(len(states) - bar.n)
        bar.close()
    if stopped:
        return Reachability(target_name, where_name, len(states), transitions, 0, [], None,
                            False, limits.note(stopped, "incomplete, so nothing can be said"))
    # walk the edges backwards from every target state
    preds = [[] for _ in states]
    for a, succ in enumerate(edges):
        for b in succ:
            preds[b].append(a)
    views = [view(s) for s in states]
    reach = [bool(target(v)) for v in views]
    queue = deque(k for k, r in enumerate(reach) if r)
    while queue:
        b = queue.popleft()
        for a in preds[b]:
            if not reach[a]:
                reach[a] = True
                queue.append(a)
    matching = [k for k, v in enumerate(views) if where(v)]
    stuck = [k for k in matching if not reach[k]]
    path = None
    if stuck:
        actions, trail, k = [], [stuck[0]], stuck[0]
        while parents[k] is not None:
            k, action = parents[k]
            actions.append(action)
            trail.append(k)
        path = _path(model, actions[::-1], [views[k] for k in reversed(trail)])
    return Reachability(target_name, where_name, len(states), transitions, len(matching),
                        [views[k] for k in stuck], path, True, "explored every reachable state")


def _progress_bar():
    from tqdm.auto import tqdm
    return tqdm(desc="exploring", unit=" states", delay=1.0, mininterval=0.5)


def check(nodes, controls: Controls | None = None, invariants=None, goals=None,
          max_depth=None, max_states=None, progress=True, seed: int = 0,
          symmetric=None, reduce: bool = False, max_seconds=None) -> Result:
    """Explore a node system exhaustively: ``explore(NodeModel(nodes, controls), ...)``.

    symmetric: ids of interchangeable nodes (e.g. Paxos acceptors) to count once per
    renaming (``replib.symmetry``); paths are still reported with the real names.
    reduce: visit only states that no other state covers (``replib.covering``): the same
    verdict and shortest paths, far fewer states, for properties marked ``about_nodes`` on
    a duplicating network; the count then says how many states were explored.
    max_states (None: ``DEFAULT_MAX_STATES``; math.inf: no limit), max_seconds: stop
    cleanly there; the result says it is incomplete and what to bound."""
    Limits(max_states, max_seconds)          # bad limits are refused before any work
    model = NodeModel(nodes, controls, seed, symmetric)
    if reduce:
        from .covering import can_cover, explore_covering
        invariants, goals = _named(invariants, "invariants"), _named(goals, "goals")
        why_not = can_cover(model, invariants, goals, max_depth)
        if why_not is not None:
            raise ValueError(why_not)
        return explore_covering(model, invariants, goals, max_states, progress, max_seconds)
    return explore(model, invariants, goals, max_depth, max_states, progress, max_seconds)
