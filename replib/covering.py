"""Covering: check properties about the nodes without visiting every state.

``check(..., reduce=True)`` answers the same question as the plain search -- does every
reachable state satisfy the invariants, and which goals can be reached? -- for properties
that read only the nodes' states (marked ``about_nodes``), on a duplicating network.  It
visits far fewer states, because of two facts about such a network:

1. More messages in flight never take a possibility away.  A message in flight may be
   delivered now, later, or never; so a state whose nodes are the same and whose messages,
   pending timers and remaining crashes include another's can do everything the other
   can, step for step, and reach the same node states.  It *covers* the other state, and
   the search need not explore the covered one.  (A node that is down is covered by the
   same node up, when restarting it would change nothing and send nothing: a Paxos
   acceptor keeps all it knows on disk, so an acceptor crash adds no new node states.)

2. Some deliveries are *idle*: the receiver's state does not change, it only answers
   (a Paxos acceptor rejecting an old Prepare again).  Such a delivery can happen at any
   moment while the receiver stays as it is, and only adds messages; so the search takes
   every idle delivery at once ("saturates" the state), which makes the state cover more.

Losing a message (``drop=True``) only gives a state that the state before covers, so the
search never takes that step.  It explores breadth-first; a state waiting its turn that a
newly found state covers is dropped, and a newly found state that a kept one covers is not
kept.  Why nothing is missed: if state B covers state A, whatever A does next B can do too,
and what B reaches covers what A reaches; so, step by step along any run, the run's state
is covered by a state the search explored.

So every reachable state is covered by a state the search explored, with the same node
states: the invariants see every combination of node states that can occur, and nothing
that cannot (every state explored is a real one).  What is lost is the step count: a
covering state may have been reached by a longer path, and idle deliveries are taken
without counting them.  So the result counts the states explored and says so; when an
invariant fails, or a goal is reached, the plain breadth-first search runs again to
report a shortest path (it stops at that depth, so it is quick when the path is short).
"""

from __future__ import annotations

import time
from collections import deque

from .check import (Goal, Limits, Result, _progress_bar, about_nodes_only, explore,
                    gc_paused, model_hint, path_from)


def can_cover(model, invariants, goals, max_depth) -> str | None:
    """Why ``reduce=True`` cannot be used here, or None if it can."""
    if not hasattr(model, "_saturate"):
        return "reduce=True works on node systems (check(...) or a NodeModel)"
    if not model.controls.duplicate:
        return ("reduce=True needs Controls(duplicate=True): only on a network that holds a "
                "set of messages does a message in flight stay available")
    if model.controls.timers == "synchronous":
        return ("reduce=True cannot go with timers='synchronous', where more messages in "
                "flight hold timers back")
    if max_depth is not None:
        return "reduce=True does not count steps, so it cannot stop at a depth (max_depth)"
    unmarked = [name for name, prop in {**invariants, **goals}.items()
                if not about_nodes_only(prop)]
    if unmarked:
        return (f"reduce=True needs properties that read only the nodes' states, marked with "
                f"@about_nodes (replib.check); not marked: {unmarked}")
    return None


@gc_paused
def explore_covering(model, invariants, goals, max_states=None, progress=True,
                     max_seconds=None) -> Result:
    """The covering search (see the module's docstring); the arguments are explore's."""
    started = time.perf_counter()
    limits = Limits(max_states, max_seconds, model_hint(model))
    view = model.view
    known = set()             # every state met (explored, covered, or waiting)
    groups = {}               # node states -> [[state, waiting?], ...]: those not covered
    frontier = deque()
    found = {name: Goal(name) for name in goals}
    open_goals = dict(goals)
    checked_nodes = set()
    transitions = explored = covered = 0
    bar = _progress_bar() if progress else None
    failed = stopped = None

    def add(state):
        """Keep ``state`` unless a kept state covers it; forget the waiting states it
        covers.  Return True if kept."""
        nonlocal covered
        group = groups.get(state[0])
        if group is None:
            group = groups[state[0]] = []
        else:
            for other, _ in group:
                if model.covers(other, state):
                    covered += 1
                    return False
            for entry in group:
                if entry[1] and model.covers(state, entry[0]):
                    entry[1] = False          # waiting, and covered now: never explored
                    covered += 1
            group[:] = [entry for entry in group if entry[1] is not False]
        entry = [state, True]
        group.append(entry)
        frontier.append(entry)
        return True

    def check_nodes(state):
        """Ask the properties about this state's nodes (once per node states)."""
        key = state[0]
        if key in checked_nodes:
            return None
        checked_nodes.add(key)
        seen = view(state)
        for name, holds in invariants.items():
            if not holds(seen):
                return name
        for name in [n for n, reached in open_goals.items() if reached(seen)]:
            found[name].path = True               # a shortest path is found below
            del open_goals[name]
        return None

    for state in model.init_states():
        state = model._saturate(state, None, 0)
        if state not in known:
            known.add(state)
            failed = check_nodes(state)
            add(state)
    while frontier and failed is None:
        entry = frontier.popleft()
        if entry[1] is not True:
            continue                  # covered while it waited
        entry[1] = None               # explored (it still covers others)
        state = entry[0]
        explored += 1
        skipped, steps = model.expand_saturated(state)
        transitions += skipped + len(steps)
        for action, nxt in steps:
            size = len(known)
            known.add(nxt)
            if len(known) == size:    # met before
                continue
            failed = check_nodes(nxt)
            if failed is not None:
                break
            add(nxt)
        if explored >= limits.states:
            stopped = limits.note("states")
            break
        if explored & 255 == 0 and limits.out_of_time():
            stopped = limits.note("time")
            break
        if bar is not None and explored - bar.n >= 2000:
            bar.update(explored - bar.n)
            bar.set_postfix(waiting=len(frontier), covered=covered, refresh=False)
    if bar is not None:
        bar.update(explored - bar.n)
        bar.close()

    if failed is not None:
        # the plain search finds the shortest counterexample (it stops there)
        return explore(model, invariants, goals, max_states=max_states, progress=progress,
                       max_seconds=max_seconds)
    complete = not frontier or all(entry[1] is not True for entry in frontier)
    reached = {name: goals[name] for name, g in found.items() if g.path is not None}
    if reached:
        _shortest_goal_paths(model, reached, found)
    nodes = len(checked_nodes)
    note = (f"every reachable state is covered by one of them; all {nodes:,} combinations "
            f"of node states checked (reduce=True)" if complete else stopped)
    return Result(states=explored, transitions=transitions, max_depth=0, violation=None,
                  goals=found, complete=complete, note=note,
                  seconds=time.perf_counter() - started, covering=True)


def _shortest_goal_paths(model, goals, found) -> None:
    """Breadth-first from the start until each of ``goals`` ({name: predicate}, goals the
    covering search reached) has a shortest path in ``found``."""
    view = model.view
    wanted = dict(goals)
    parents = {}
    frontier = deque()

    def path_to(state):
        return path_from(model, parents, state, view)

    def look(state):
        seen = view(state)
        for name in [n for n, reached in wanted.items() if reached(seen)]:
            found[name].path = path_to(state)
            del wanted[name]

    for state in model.init_states():
        if state not in parents:
            parents[state] = None
            frontier.append(state)
            look(state)
    while frontier and wanted:
        state = frontier.popleft()
        for action, nxt in model.successors(state):
            if nxt in parents:
                continue
            parents[nxt] = (state, action)
            frontier.append(nxt)
            look(nxt)
            if not wanted:
                return
