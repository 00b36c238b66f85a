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

import copy
import time
from collections import deque, namedtuple
from dataclasses import dataclass, field

from .actions import Controls, Crash, Deliver, Drop, Fire, Restart
from .node import CancelTimer, HandlerError, Node, Send, SetTimer
from .sim import Simulation, check_nodes, node_rng
from .symmetry import Symmetry, relabel

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

    @property
    def ok(self) -> bool:
        return self.violation is None

    def summary(self) -> str:
        """A stable, printable account (no timings, so notebooks can compare it)."""
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


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _named(props, what):
    if props is None:
        return {}
    if not isinstance(props, dict) or not all(callable(p) for p in props.values()):
        raise ValueError(f"{what} must be a dict mapping names to functions of a state, "
                         f"e.g. {{'agreement': lambda s: ...}}; got {props!r}")
    return dict(props)


def explore(model, invariants=None, goals=None, max_depth=None, max_states=None,
            progress=True) -> Result:
    """Visit every state reachable from the model's initial states, breadth-first.

    invariants: {name: predicate} that must hold in every state ("always"); the search
    stops at the first state where one fails and reports a shortest path to it.
    goals: {name: predicate} that should hold in some state ("sometimes").
    max_depth: explore no deeper than this many steps.  max_states: stop cleanly after
    finding this many states (the result then says it is incomplete).
    progress: show a progress bar when the search takes more than a second.
    """
    if not (hasattr(model, "init_states") and hasattr(model, "successors")):
        raise ValueError("model needs init_states() and successors(state) methods")
    invariants = _named(invariants, "invariants")
    goals = _named(goals, "goals")
    for name, value in (("max_depth", max_depth), ("max_states", max_states)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < (0 if name == "max_depth" else 1)):
            raise ValueError(f"{name} must be None or a whole number "
                             f"{'>= 0' if name == 'max_depth' else '>= 1'}, got {value!r}")

    view = getattr(model, "view", None) or (lambda state: state)
    started = time.perf_counter()
    parents = {}              # state -> (parent state, action); None for initial states
    frontier = deque()
    found = {name: Goal(name) for name in goals}
    open_goals = dict(goals)
    transitions = deepest = 0
    violation = None
    stopped = None
    bar = _progress_bar() if progress else None

    def path_to(state):
        actions, states = [], [state]
        link = parents[state]
        while link is not None:
            state, action = link
            actions.append(action)
            states.append(state)
            link = parents[state]
        return _path(model, actions[::-1], [view(s) for s in reversed(states)])

    def visit(state, depth):
        """Record a new state; return a Violation if an invariant fails in it."""
        if invariants or open_goals:
            seen = view(state)
            for name, holds in invariants.items():
                if not holds(seen):
                    return Violation(name, path_to(state))
            for name in [n for n, reached in open_goals.items() if reached(seen)]:
                found[name].path = path_to(state)
                del open_goals[name]
        frontier.append((state, depth))
        return None

    for state in model.init_states():
        if state not in parents:
            parents[state] = None
            violation = visit(state, 0)
            if violation:
                break

    while frontier and violation is None and stopped is None:
        state, depth = frontier.popleft()
        if max_depth is not None and depth >= max_depth:
            continue
        for action, nxt in model.successors(state):
            transitions += 1
            known = len(parents)
            parents.setdefault(nxt, (state, action))   # one hash instead of two
            if len(parents) == known:
                continue
            if depth + 1 > deepest:
                deepest = depth + 1
            violation = visit(nxt, depth + 1)
            if violation:
                break
            if max_states is not None and len(parents) >= max_states:
                stopped = f"stopped at the state limit ({max_states:,} states): incomplete"
                break
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


def can_still_reach(model, target, where=None, max_states=None, progress=True) -> Reachability:
    """From every reachable state where ``where`` holds, can a state where ``target`` holds
    still be reached?  (In temporal logic: AG(where -> EF target).)

    This is how to tell "stuck for now" from "stuck for good": a 2PC participant in doubt
    is blocked only if no sequence of events can ever tell it the outcome.  The search keeps
    the whole state graph, so it suits small configurations.  target, where: functions of
    a state (what ``model.view`` gives), or {name: function} to name them in the summary;
    where=None means every state.
    """
    if not (hasattr(model, "init_states") and hasattr(model, "successors")):
        raise ValueError("model needs init_states() and successors(state) methods")
    target_name, target = _one_property(target, "target", "the target")
    if where is None:
        where_name, where = "any state", lambda s: True
    else:
        where_name, where = _one_property(where, "where", "the condition")
        where_name = f"'{where_name}' holds"
    if max_states is not None and (isinstance(max_states, bool) or not isinstance(max_states, int)
                                   or max_states < 1):
        raise ValueError(f"max_states must be None or a whole number >= 1, got {max_states!r}")
    view = getattr(model, "view", None) or (lambda state: state)
    index, states, parents, edges = {}, [], [], []
    transitions = 0
    stopped = False
    bar = _progress_bar() if progress else None

    def add(state, link):
        index[state] = len(states)
        states.append(state)
        parents.append(link)
        edges.append(())

    for state in model.init_states():
        if state not in index:
            add(state, None)
    i = 0
    while i < len(states) and not stopped:     # breadth-first: states are numbered in order
        succ = []
        for action, nxt in model.successors(states[i]):
            transitions += 1
            j = index.get(nxt)
            if j is None:
                if max_states is not None and len(states) >= max_states:
                    stopped = True
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
                            False, f"stopped at the state limit ({max_states:,} states): "
                                   f"incomplete, so nothing can be said")
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


# --------------------------------------------------------------------------------------
# The adapter from Nodes to a model
# --------------------------------------------------------------------------------------


class SystemState(tuple):
    """One state of a node system.

    Stored compactly (numbers that stand for node states, messages and timers, so that
    hashing and storing millions of states is cheap) and read through these views:
    ``s.node("a1").promised``, ``s.nodes``, ``s.in_flight`` ((src, dst, msg) triples, a
    message twice if it is in flight twice), ``s.timers`` ((node, timer) pairs),
    ``s.crashed``, ``s.crashes``.
    """

    __slots__ = ()
    _model = None      # set on the per-model subclass

    @property
    def nodes(self) -> tuple:
        return tuple(map(self._model._node_states.__getitem__, self[0]))

    def node(self, node_id):
        model = self._model
        try:
            i = model._index[node_id]
        except KeyError:
            raise ValueError(f"no node {node_id!r} in this state; nodes are {list(model.ids)}") from None
        return model._node_states[self[0][i]]

    @property
    def in_flight(self) -> list:
        table = self._model._entries
        return [table[k] for k in self[1]]

    @property
    def timers(self) -> list:
        table = self._model._timer_entries
        return [table[k] for k in self[2]]

    @property
    def crashed(self) -> frozenset:
        return self[3]

    @property
    def crashes(self) -> int:
        return self[4]

    def of_role(self, role) -> list:
        """The states of the nodes whose class is ``role`` (a class or its name)."""
        name = role if isinstance(role, str) else role.__name__
        return [n for n in self.nodes if type(n).__name__ == name]

    def up(self, node_id) -> bool:
        return node_id not in self[3]

    def __repr__(self):
        nodes = ", ".join(repr(n) for n in self.nodes)
        return (f"SystemState(nodes=[{nodes}], in_flight={self.in_flight}, "
                f"timers={self.timers}, crashed={sorted(self[3])}, crashes={self[4]})")


class NodeModel:
    """Every behaviour of a set of nodes under the given Controls, as a checkable model.

    nodes: Node objects (copied).  controls: what the network and the faults may do
    (``Controls(drop=True, duplicate=True, max_crashes=1, ...)``).  seed: for nodes that use
    ``self.rng`` (the checker explores timer firings, not random delays).

    Handlers are deterministic, so the outcome of "node in state X handles message m" is
    computed once and remembered; the millions of system states are combinations of far
    fewer node states, messages and timers, each numbered once.
    """

    def __init__(self, nodes, controls: Controls | None = None, seed: int = 0, symmetric=None):
        nodes = check_nodes(nodes)
        self.controls = Controls() if controls is None else controls
        if not isinstance(self.controls, Controls):
            raise ValueError(f"controls must be a Controls(...), got {controls!r}")
        self.ids = tuple(n.id for n in nodes)
        self.controls.validate(self.ids)
        self.seed = seed
        self._blueprint = copy.deepcopy(nodes)
        self._workers = copy.deepcopy(nodes)
        self._index = {n.id: i for i, n in enumerate(self._workers)}
        self._types = {}
        for n in self._workers:
            n._attach(self.ids, node_rng(seed, n.id))
            cls = type(n)
            if cls not in self._types:
                self._types[cls] = namedtuple(cls.__name__, n._fields, rename=True)
        # numbered tables: node states, in-flight messages, timers, and their actions
        self._node_states, self._node_numbers = [], {}
        self._entries, self._entry_numbers, self._deliver, self._drop = [], {}, [], []
        self._timer_entries, self._timer_numbers, self._fire = [], {}, []
        self._outcomes = {}     # (node state, what happened) -> (new node state, effects)
        pool = self.ids if self.controls.crashable is None else self.controls.crashable
        self._crash_pool = tuple((self._index[n], n, Crash(n)) for n in pool)
        self._restarts = tuple((n, Restart(n)) for n in self.ids)
        self._state_type = type("SystemState", (SystemState,), {"__slots__": (), "_model": self})
        self._initial = None
        # nodes whose class can declare messages obsolete (Node.obsolete overridden)
        self._prunable = frozenset(n.id for n in self._workers
                                   if type(n).obsolete is not Node.obsolete)
        self._dead = {}         # (node state, message) -> is it obsolete there?
        self.symmetry = None if symmetric is None else Symmetry(self, symmetric)
        self._canonical_seen = set()    # canonical states returned so far (symmetry only)
        if self.symmetry is not None:
            self._check_symmetric_start()

    # ---- numbering ----------------------------------------------------------------------
    def _node_number(self, node) -> int:
        return self._number_frozen(self._types[type(node)]._make(node.snapshot()))

    def _number_frozen(self, frozen) -> int:
        number = self._node_numbers.get(frozen)
        if number is None:
            number = self._node_numbers[frozen] = len(self._node_states)
            self._node_states.append(frozen)
        return number

    def _entry_number(self, entry) -> int:
        number = self._entry_numbers.get(entry)
        if number is None:
            number = self._entry_numbers[entry] = len(self._entries)
            self._entries.append(entry)
            self._deliver.append(Deliver(*entry))
            self._drop.append(Drop(*entry))
        return number

    def _timer_number(self, entry) -> int:
        number = self._timer_numbers.get(entry)
        if number is None:
            number = self._timer_numbers[entry] = len(self._timer_entries)
            self._timer_entries.append(entry)
            self._fire.append(Fire(*entry))
        return number

    # ---- running the real handlers ------------------------------------------------------
    def _outcome(self, i, number, what, item, sender, action):
        """Run a handler (or a crash) on node i in state ``number``, once, and remember it."""
        key = (number, what)
        hit = self._outcomes.get(key)
        if hit is not None:
            return hit
        node = self._workers[i]
        node.load(self._node_states[number])
        try:
            if what == "crash":
                node.crash_reset()
                effects = ()
            elif what == "restart":
                effects = node.run_hook("on_restart")
            else:
                effects = node.handle(item, sender)
        except Exception as exc:
            raise HandlerError(f"{type(node).__name__} {node.id!r} failed while the checker "
                               f"explored '{action}': {type(exc).__name__}: {exc}") from exc
        hit = self._outcomes[key] = (self._node_number(node), self._compact(node.id, effects))
        return hit

    def _compact(self, src, effects) -> tuple:
        """Effects as numbers: the messages sent, and the timer operations in order."""
        sends, timer_ops = [], []
        for eff in effects:
            if isinstance(eff, Send):
                number = self._entry_number((src, eff.to, eff.msg))
                if not (self.controls.duplicate and number in sends):
                    sends.append(number)
            elif isinstance(eff, SetTimer):
                timer_ops.append((True, self._timer_number((src, eff.timer))))
            elif isinstance(eff, CancelTimer):
                timer_ops.append((False, (src, eff.timer)))
        return tuple(sends), tuple(timer_ops)

    def _fold(self, effects, flight, timers):
        """Add a handler's effects to the in-flight messages and the pending timers."""
        sends, timer_ops = effects
        if sends:
            if self.controls.duplicate:
                sends = tuple(k for k in sends if k not in flight)
            flight = tuple(sorted(flight + sends))
        for setting, value in timer_ops:
            if setting:
                if value not in timers:
                    timers = tuple(sorted(timers + (value,)))
            else:
                src, t = value
                table = self._timer_entries
                timers = tuple(k for k in timers if not (
                    table[k][0] == src and (table[k][1] == t or (
                        isinstance(t, type) and isinstance(table[k][1], t)))))
        return flight, timers

    def _prune(self, nodes, flight, changed=None, sends=None):
        """Forget in-flight messages that their (live or crashed) receiver will ignore
        forever, as its class says (``Node.obsolete``).

        After one step only two kinds of message can have become obsolete: those to the node
        whose state changed (``changed``, its index) and those just sent (``sends``); with
        both None, every message is examined."""
        if not self._prunable or not flight:
            return flight
        entries, dead, index, prunable = self._entries, self._dead, self._index, self._prunable
        if changed is None and sends is None:
            candidates = flight
        else:
            sends = [k for k in sends or () if entries[k][1] in prunable]
            if changed is not None and self._workers[changed].id in prunable:
                target = self._workers[changed].id
                candidates = [k for k in flight if entries[k][1] == target] + sends
            elif sends:
                candidates = sends
            else:
                return flight
        gone = set()
        for k in candidates:
            dst = entries[k][1]
            if dst in prunable:
                number = nodes[index[dst]]
                dead_now = dead.get((number, k))
                if dead_now is None:
                    dead_now = dead[(number, k)] = self._obsolete(index[dst], number, k)
                if dead_now:
                    gone.add(k)
        if not gone:
            return flight
        return tuple([k for k in flight if k not in gone])

    def _obsolete(self, i, number, k) -> bool:
        """Ask node i in state ``number`` whether message k is obsolete; if it says so,
        check that handling the message now really changes nothing."""
        node = self._workers[i]
        node.load(self._node_states[number])
        src, dst, msg = self._entries[k]
        if not node.obsolete(msg):
            return False
        new, effects = self._outcome(i, number, k, msg, src, self._deliver[k])
        if new != number or effects[0] or effects[1]:
            raise HandlerError(f"{type(node).__name__} {dst!r} calls {msg!r} obsolete, but "
                               f"handling it changes the node or sends something; obsolete() "
                               f"must only say True for messages the node ignores")
        return True

    # ---- the model ----------------------------------------------------------------------
    def init_states(self):
        if self._initial is None:
            workers = copy.deepcopy(self._blueprint)
            flight, timers = (), ()
            for n in workers:
                n._attach(self.ids, node_rng(self.seed, n.id))
            numbers = []
            for n in workers:
                try:
                    effects = n.run_hook("on_start")
                except Exception as exc:
                    raise HandlerError(f"{type(n).__name__} {n.id!r} failed in on_start: "
                                       f"{type(exc).__name__}: {exc}") from exc
                flight, timers = self._fold(self._compact(n.id, effects), flight, timers)
                numbers.append(self._node_number(n))
            self._initial = (tuple(numbers), self._prune(tuple(numbers), flight), timers,
                             frozenset(), 0)
        if self.symmetry is not None:
            start = self.symmetry.canonical(self._initial)
            self._canonical_seen.add(start)
            return [start]
        return [self._initial]

    def _check_symmetric_start(self):
        """Symmetric nodes must start alike: each, renamed, is the other's initial state."""
        self.init_states()
        nodes, sym = self._initial[0], self.symmetry
        for p, names in enumerate(sym.names):
            for n in sym.ids:
                i = self._index[n]
                if sym._node(p, nodes[i]) != nodes[self._index[names[n]]]:
                    raise ValueError(
                        f"the nodes {list(sym.ids)} are not interchangeable: {n} renamed is "
                        f"not {names[n]} (a different class or configuration); leave "
                        f"symmetric=None for this system")

    def unfold(self, actions) -> tuple:
        """A path found among canonical states, as the actions and states of a real run.

        Each step of a symmetric search is taken in the naming of its canonical state; the
        real run keeps the original names, so each action is renamed back on the way."""
        if self.symmetry is None:
            return list(actions), None
        sym = self.symmetry
        real = self._initial
        out_actions, out_states = [], [self.view(real)]
        for action in actions:
            _, p = sym.canonical_with(real)
            if p != -1:
                action = relabel(action, sym.inverse(p))
            nxt = [s for a, s in self._successors(real) if a == action]
            if not nxt:
                raise RuntimeError(f"cannot replay {action} while unfolding a symmetric path")
            real = nxt[0]
            out_actions.append(action)
            out_states.append(self.view(real))
        return out_actions, out_states

    def successors(self, state):
        """(action, next state) pairs; with symmetry, each next state in canonical form."""
        if self.symmetry is None:
            return self._successors(state)
        canonical, known = self.symmetry.canonical, self._canonical_seen
        out = []
        for action, nxt in self._successors(state):
            if nxt not in known:          # a state already returned is canonical: skip the work
                nxt = canonical(nxt)
                known.add(nxt)
            out.append((action, nxt))
        return out

    def _successors(self, state):
        nodes, flight, timers, crashed, crashes = state
        controls, entries, outcomes, fold = self.controls, self._entries, self._outcomes, self._fold
        index, duplicate, dead = self._index, controls.duplicate, self._dead
        prune = self._prune if self._prunable else None
        out = []
        previous = None
        for k in flight:
            if k == previous:           # the same message twice in flight: one choice
                continue
            previous = k
            src, dst, msg = entries[k]
            rest = flight if duplicate else _remove_one(flight, k)
            if dst not in crashed:
                i = index[dst]
                hit = outcomes.get((nodes[i], k))
                new, effects = hit if hit is not None else self._outcome(
                    i, nodes[i], k, msg, src, self._deliver[k])
                if duplicate and new == nodes[i] and not effects[1] and all(
                        s in flight or dead.get((nodes[index[entries[s][1]]], s))
                        for s in effects[0]):
                    # a loop: nothing changes and every reply is in flight already (or
                    # ignored by its receiver): the state itself, without the work
                    out.append((self._deliver[k], state))
                else:
                    f, t = fold(effects, rest, timers) if effects[0] or effects[1] else (
                        rest, timers)
                    after = nodes[:i] + (new,) + nodes[i + 1:]
                    if prune and (new != nodes[i] or effects[0]):
                        f = prune(after, f, i if new != nodes[i] else None, effects[0])
                    out.append((self._deliver[k], ((after, f, t, crashed, crashes))))
            if controls.drop:
                out.append((self._drop[k], ((nodes, _remove_one(flight, k), timers,
                                                 crashed, crashes))))
        if controls.timers_may_fire(dst for _, dst, _ in map(entries.__getitem__, flight)
                                    if dst not in crashed):
            for k in timers:
                node_id, timer = self._timer_entries[k]
                if node_id in crashed:
                    continue
                i = index[node_id]
                new, effects = self._outcome(i, nodes[i], ("timer", k), timer, None, self._fire[k])
                f, t = self._fold(effects, flight, _remove_one(timers, k))
                after = nodes[:i] + (new,) + nodes[i + 1:]
                if prune:
                    f = prune(after, f, i, effects[0])
                out.append((self._fire[k], ((after, f, t, crashed, crashes))))
        if crashes < controls.max_crashes:
            for i, node_id, action in self._crash_pool:
                if node_id in crashed:
                    continue
                new, _ = self._outcome(i, nodes[i], "crash", None, None, action)
                t = tuple(k for k in timers if self._timer_entries[k][0] != node_id)
                out.append((action, ((nodes[:i] + (new,) + nodes[i + 1:], flight, t,
                                          crashed | {node_id}, crashes + 1))))
        if controls.restart and crashed:
            for node_id, action in self._restarts:
                if node_id not in crashed:
                    continue
                i = index[node_id]
                new, effects = self._outcome(i, nodes[i], "restart", None, None, action)
                f, t = self._fold(effects, flight, timers)
                after = nodes[:i] + (new,) + nodes[i + 1:]
                if prune:
                    f = prune(after, f, i, effects[0])
                out.append((action, ((after, f, t, crashed - {node_id}, crashes))))
        return out

    def view(self, state) -> SystemState:
        """What invariants see: a state whose nodes, messages and timers can be read."""
        return self._state_type(state)

    def enabled(self, state) -> list:
        """The actions possible in ``state``, as Controls.enabled states them."""
        state = self.view(state)
        distinct = list(dict.fromkeys(state.in_flight))
        return self.controls.enabled(self.ids, distinct, state.timers, state.crashed,
                                     state.crashes)

    # ---- back to the simulator ----------------------------------------------------------
    def trace(self, path):
        """Replay a path (a Path or a list of actions) in a controlled Simulation."""
        actions = path.actions if isinstance(path, Path) else list(path)
        sim = self.simulation()
        for action in actions:
            sim.perform(action)
        return sim.trace

    def simulation(self):
        """A controlled Simulation of the same nodes and controls (for stepping by hand)."""
        return Simulation(copy.deepcopy(self._blueprint), controls=self.controls, seed=self.seed)


def _remove_one(items: tuple, item) -> tuple:
    i = items.index(item)
    return items[:i] + items[i + 1:]


def check(nodes, controls: Controls | None = None, invariants=None, goals=None,
          max_depth=None, max_states=None, progress=True, seed: int = 0,
          symmetric=None) -> Result:
    """Explore a node system exhaustively: ``explore(NodeModel(nodes, controls), ...)``.

    symmetric: ids of interchangeable nodes (e.g. Paxos acceptors) to count once per
    renaming (``replib.symmetry``); paths are still reported with the real names."""
    return explore(NodeModel(nodes, controls, seed, symmetric), invariants, goals, max_depth,
                   max_states, progress)
