"""The checker's view of a node system: every state it can reach, step by step.

``NodeModel`` turns a set of replib Nodes into a model that ``replib.check.explore`` can
search.  Its actions are the same Deliver / Drop / Fire / Crash / Restart that a controlled
Simulation performs, computed like ``Controls.enabled`` and applied by running the very
same handlers, so any path converts to a Trace (``model.trace(path)``) that the diagrams and
the player show like any simulated run.

Why it is fast enough to visit millions of states:

- Numbers stand for things.  Every node state, message and timer the search meets gets a
  number once; a system state is a few small tuples of numbers, cheap to hash and store.
- Handlers run once per question.  "Node in state X handles message m" always gives the
  same answer (handlers are deterministic), so the answer is remembered and looked up.
- On a duplicating network the messages in flight form a *set*, kept as one integer whose
  bit k says "message k is in flight": sending is an OR, forgetting is an AND.
- A node class may declare messages ``obsolete`` (ignored now and forever, e.g. replies
  about a ballot a Paxos proposer has left behind); the model forgets them, which merges
  states that differ only in such messages, and checks each claim once by handling the
  message and seeing that nothing changes.
"""

from __future__ import annotations

import copy
from collections import namedtuple

from .actions import Controls, Crash, Deliver, Drop, Fire, Restart
from .node import CancelTimer, HandlerError, Node, Send, SetTimer
from .sim import Simulation, check_nodes, node_rng
from .symmetry import Symmetry, relabel

# bit positions of each byte value, for reading a set of messages back from its integer
_BYTE_BITS = [tuple(j for j in range(8) if b >> j & 1) for b in range(256)]


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
        model = self._model
        numbers = self[0]
        last = model._last_nodes           # properties often ask again about one state
        if last[0] is numbers:
            return last[1]
        nodes = tuple(map(model._node_states.__getitem__, numbers))
        model._last_nodes = (numbers, nodes)
        return nodes

    def node(self, node_id):
        model = self._model
        try:
            i = model._index[node_id]
        except KeyError:
            raise ValueError(f"no node {node_id!r} in this state; nodes are {list(model.ids)}") from None
        return model._node_states[self[0][i]]

    @property
    def in_flight(self) -> list:
        model = self._model
        return [model._entries[k] for k in model._members(self[1])]

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
    ``self.rng`` (the checker explores timer firings, not random delays).  symmetric: ids
    of interchangeable nodes, counted once per renaming (``replib.symmetry``).

    A state is a tuple (nodes, in flight, timers, crashed, crashes): the node states'
    numbers; the messages in flight (an integer used as a set of message numbers on a
    duplicating network, else a sorted tuple that may hold a message twice); the pending
    timers' numbers; the ids of crashed nodes; how many crashes happened.
    """

    def __init__(self, nodes, controls: Controls | None = None, seed: int = 0, symmetric=None):
        nodes = check_nodes(nodes)
        self.controls = Controls() if controls is None else controls
        if not isinstance(self.controls, Controls):
            raise ValueError(f"controls must be a Controls(...), got {controls!r}")
        self.ids = tuple(n.id for n in nodes)
        self.controls.validate(self.ids)
        self.controls.validate_nodes(nodes)
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
        self._set_network = self.controls.duplicate     # messages in flight form a set
        # numbered tables: node states, messages in flight, timers, and their actions
        self._node_states, self._node_numbers = [], {}
        self._entries, self._entry_numbers, self._deliver, self._drop = [], {}, [], []
        self._to = []                                    # message -> its receiver's index
        self._incoming = [[] for _ in self.ids]          # node index -> messages to it
        self._incoming_set = [0 for _ in self.ids]       # the same, as a set (an integer)
        self._silent = {}       # node state -> the messages it ignores, as a set (see below)
        self._idle = {}         # node state -> the messages it only answers (covering search)
        self._ignored = {}      # node state -> _silent | _idle: what saturated states skip
        self._quiet = {}        # node state -> does a crash and restart change nothing?
        self._met = set()       # next states met by the covering search before saturating
        self._owners = {}       # timers (a tuple) -> the nodes they belong to
        self._sorted = {}       # node state -> the messages sorted into _idle or not
        self._answered = {}     # (node state, messages it handles idly) -> its answers
        self._timer_entries, self._timer_numbers, self._fire = [], {}, []
        self._timer_keys = []   # timer number -> its key in _outcomes
        self._timer_owner = []  # timer number -> the index of the node it belongs to
        self._without = {}      # (timers, node index) -> the timers of the other nodes
        self._outcomes = {}     # (node state, what happened) -> (new node state, effects)
        self._timer_results = {}    # (timer operations, pending timers) -> pending timers
        pool = self.ids if self.controls.crashable is None else self.controls.crashable
        self._crash_pool = tuple((self._index[n], n, Crash(n)) for n in pool)
        self._restarts = tuple((n, Restart(n), "restart") for n in self.ids
                               if self.controls.restart) + tuple(
            (n, Restart(n, wiped=True), "wiped restart") for n in self.ids if self.controls.wipe
        ) + tuple((n, Restart(n, stale=True), "stale restart") for n, _ in
                  self.controls.stale_disks)
        self._state_type = type("SystemState", (SystemState,), {"__slots__": (), "_model": self})
        self._last_nodes = (None, None)     # (node numbers, node states) last read
        self._initial = None
        # nodes whose class can declare messages obsolete (Node.obsolete overridden)
        self._prunable = frozenset(i for i, n in enumerate(self._workers)
                                   if type(n).obsolete is not Node.obsolete)
        self._dead = {}         # node state -> the messages to it that it calls obsolete
        self._dead_states = [[] for _ in self.ids]   # node index -> its states in _dead
        self._bytes = []        # byte position -> byte value -> the message numbers it holds
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
            receiver = self._index[entry[1]]
            self._to.append(receiver)
            self._incoming[receiver].append(number)
            self._incoming_set[receiver] |= 1 << number
            for state in self._dead_states[receiver]:    # is it obsolete where known?
                if self._obsolete(receiver, state, number):
                    self._dead[state] |= 1 << number
        return number

    def _timer_number(self, entry) -> int:
        number = self._timer_numbers.get(entry)
        if number is None:
            number = self._timer_numbers[entry] = len(self._timer_entries)
            self._timer_entries.append(entry)
            self._fire.append(Fire(*entry))
            self._timer_keys.append(("timer", number))
            self._timer_owner.append(self._index[entry[0]])
        return number

    def _members(self, flight) -> tuple:
        """The message numbers in flight, smallest first (a message twice if it is there
        twice)."""
        if not self._set_network:
            return flight
        out, table, position = [], self._bytes, 0
        for byte in flight.to_bytes((flight.bit_length() + 7) // 8, "little"):
            if byte:
                while position >= len(table):
                    table.append([None] * 256)
                row = table[position]
                numbers = row[byte]
                if numbers is None:
                    numbers = row[byte] = tuple(8 * position + j for j in _BYTE_BITS[byte])
                out += numbers
            position += 1
        return out

    # ---- running the real handlers ------------------------------------------------------
    def _outcome(self, i, number, what, item, sender, action):
        """Run a handler (or a crash) on node i in state ``number``, once, and remember it:
        (new state, messages sent, timer operations, the messages as a set, the prunable
        nodes they go to)."""
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
            elif what == "wiped restart":
                node.load(node._initial)                  # a replaced disk: nothing kept
                effects = node.run_hook("on_restart")
            elif what == "stale restart":
                node.load(node._initial)                  # an old copy of the disk
                node.__dict__.update(self.controls.stale_disk(node.id))
                effects = node.run_hook("on_restart")
            else:
                effects = node.handle(item, sender)
        except Exception as exc:
            raise HandlerError(f"{type(node).__name__} {node.id!r} failed while the checker "
                               f"explored '{action}': {type(exc).__name__}: {exc}") from exc
        hit = self._outcomes[key] = (self._node_number(node),) + self._compact(node.id, effects)
        return hit

    def _compact(self, src, effects) -> tuple:
        """Effects as numbers: the messages sent, the timer operations in order, the sent
        messages as a set, and the nodes among their receivers that may call messages
        obsolete."""
        sends, timer_ops = [], []
        for eff in effects:
            if isinstance(eff, Send):
                number = self._entry_number((src, eff.to, eff.msg))
                if not (self._set_network and number in sends):
                    sends.append(number)
            elif isinstance(eff, SetTimer):
                timer_ops.append((True, self._timer_number((src, eff.timer))))
            elif isinstance(eff, CancelTimer):
                timer_ops.append((False, (src, eff.timer)))
        as_set = 0
        for number in sends:
            as_set |= 1 << number
        receivers = tuple(sorted({self._to[k] for k in sends} & self._prunable))
        return tuple(sends), tuple(timer_ops), as_set, receivers

    def _set_timers(self, timer_ops, timers) -> tuple:
        """Apply a handler's timer operations to the pending timers (remembered: few
        combinations of the two occur)."""
        key = (id(timer_ops), timers)   # the operations are kept in _outcomes: ids last
        after = self._timer_results.get(key)
        if after is None:
            after = self._timer_results[key] = self._apply_timer_ops(timer_ops, timers)
        return after

    def _apply_timer_ops(self, timer_ops, timers) -> tuple:
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
        return timers

    def _send(self, flight, outcome):
        """Add a handler's messages to those in flight."""
        sends = outcome[1]
        if not sends:
            return flight
        if self._set_network:
            return flight | outcome[3]
        return tuple(sorted(flight + sends))

    # ---- obsolete messages --------------------------------------------------------------
    def _dead_to(self, i, number) -> int:
        """The messages to node i that it, in state ``number``, calls obsolete, as a set
        (an integer, bit k for message k), also kept in ``_dead[number]``.  Each message
        is asked about once per state; a message numbered later is asked about in every
        state of its receiver known by then (``_entry_number``)."""
        dead = self._dead.get(number)
        if dead is None:
            dead = 0
            for k in self._incoming[i]:
                if self._obsolete(i, number, k):
                    dead |= 1 << k
            self._dead[number] = dead
            self._dead_states[i].append(number)
        return dead

    def _obsolete(self, i, number, k) -> bool:
        """Ask node i in state ``number`` whether message k is obsolete; if it says so,
        check that handling the message now really changes nothing."""
        node = self._workers[i]
        node.load(self._node_states[number])
        src, dst, msg = self._entries[k]
        if not node.obsolete(msg):
            return False
        new, sends, timer_ops, _, _ = self._outcome(i, number, k, msg, src, self._deliver[k])
        if new != number or sends or timer_ops:
            raise HandlerError(f"{type(node).__name__} {dst!r} calls {msg!r} obsolete, but "
                               f"handling it changes the node or sends something; obsolete() "
                               f"must only say True for messages the node ignores")
        return True

    # ---- the model ----------------------------------------------------------------------
    def init_states(self):
        if self._initial is None:
            workers = copy.deepcopy(self._blueprint)
            flight = 0 if self._set_network else ()
            timers = ()
            for n in workers:
                n._attach(self.ids, node_rng(self.seed, n.id))
            numbers = []
            for n in workers:
                try:
                    effects = n.run_hook("on_start")
                except Exception as exc:
                    raise HandlerError(f"{type(n).__name__} {n.id!r} failed in on_start: "
                                       f"{type(exc).__name__}: {exc}") from exc
                outcome = self._compact(n.id, effects)
                flight = self._send(flight, (None,) + outcome)
                timers = self._apply_timer_ops(outcome[1], timers)
                numbers.append(self._node_number(n))
            numbers = tuple(numbers)
            for i in self._prunable:          # forget what is obsolete from the start
                dead = self._dead_to(i, numbers[i])
                flight = flight & ~dead if self._set_network else tuple(
                    [k for k in flight if not dead >> k & 1])
            self._initial = (numbers, flight, timers, frozenset(), 0)
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
        return self._canonical(self._successors(state))

    def expand(self, state, asleep=0, found=None):
        """What ``successors`` gives, faster for the explorer: (how many actions it need not
        look at, [(action, next state, what may sleep there)]).  found: the states the
        explorer has found (with symmetry, all canonical: they need no renaming).

        Not looked at: deliveries that change nothing (they lead back to ``state``) and,
        on a duplicating network, deliveries in ``asleep`` (a set of message numbers, an
        integer): messages the explorer knows lead to states it reaches another way, by
        the same number of steps (see ``replib.check.explore``, "sleep sets")."""
        if self._set_network and not self.controls.drop:
            skipped, triples, deliverable = self._changing_deliveries(state, asleep)
            may_sleep = asleep | deliverable
        else:
            pairs = self._deliveries(state)
            triples = [(action, nxt, 0) for action, nxt in pairs if nxt is not state]
            skipped, may_sleep = len(pairs) - len(triples), 0
        self._other_steps(state, triples, 0, may_sleep=may_sleep)
        return skipped, self._canonical(triples, found)

    # ---- for the covering search (replib.covering) ----------------------------------------
    def expand_saturated(self, state):
        """(how many actions were not looked at, [(action, next state)]) for the covering
        search: each next state saturated (every idle delivery taken) and canonical.
        Drops are left out: losing a message gives a state that ``state`` covers."""
        skipped, triples, _ = self._changing_deliveries(state, 0, saturated=True)
        skipped += self._other_steps(state, triples, None, quiet_crashes=False)
        index, flight = self._index, state[1]
        out = []
        met = self._met
        for action, nxt, i in triples:    # i: the node that took the step (None: look it up)
            size = len(met)
            met.add(nxt)
            if len(met) == size:      # met before, saturated and handled then
                skipped += 1
                continue
            if i is None:
                i = index[action.node]
            out.append((action, self._saturate(nxt, i, nxt[1] & ~flight)))
        return skipped, self._canonical(out)

    def _saturate(self, state, changed, sent) -> tuple:
        """``state`` after every idle delivery (the receiver does not change, it only
        sends) that can happen in it, repeatedly, until none adds a message.

        Only messages to the node that changed (``changed``, its index, or None for all
        nodes) and messages just sent (``sent``, a set) can have become idle; an idle
        delivery's answers are new messages, so they are looked at in turn."""
        nodes, flight, timers, crashed, crashes = state
        if changed is None:
            work = flight
        else:
            work = (flight & self._incoming_set[changed]) | sent
        incoming, ids = self._incoming_set, self.ids
        sorted_out, idle_of, answered = self._sorted, self._idle, self._answered
        while work:
            answers = 0
            for j, x in enumerate(nodes):
                mine = work & incoming[j]
                if not mine or (crashed and ids[j] in crashed):
                    continue
                unsorted = mine & ~sorted_out.get(x, 0)
                if unsorted:
                    self._sort_idle(j, x, unsorted)
                idle = mine & idle_of.get(x, 0)
                if idle:
                    said = answered.get((x, idle))
                    if said is None:
                        said = answered[(x, idle)] = self._answers(x, idle)
                    answers |= said
            answers &= ~flight
            for j in self._prunable:              # answers their receiver calls obsolete
                if answers & incoming[j]:
                    gone = self._dead.get(nodes[j])
                    answers &= ~(self._dead_to(j, nodes[j]) if gone is None else gone)
            flight |= answers
            work = answers
        return (nodes, flight, timers, crashed, crashes)

    def _answers(self, x, idle) -> int:
        """What node state x answers to the set ``idle`` of messages it handles idly."""
        answers = 0
        while idle:
            low = idle & -idle
            idle ^= low
            answers |= self._outcomes[(x, low.bit_length() - 1)][3]
        return answers

    def _sort_idle(self, i, x, messages) -> None:
        """Find out which of ``messages`` (a set) node i in state x handles idly: it does
        not change and sets no timer, but answers (``_idle[x]``)."""
        outcomes, entries = self._outcomes, self._entries
        idle = 0
        work = messages
        while work:
            low = work & -work
            work ^= low
            k = low.bit_length() - 1
            outcome = outcomes.get((x, k))
            if outcome is None:
                src, _, msg = entries[k]
                outcome = self._outcome(i, x, k, msg, src, self._deliver[k])
            if outcome[0] == x and not outcome[2] and outcome[3]:
                idle |= low
        self._sorted[x] = self._sorted.get(x, 0) | messages
        if idle:
            self._idle[x] = self._idle.get(x, 0) | idle
            self._ignored[x] = self._ignored.get(x, 0) | idle

    def quiet(self, i, x) -> bool:
        """Would node i in state x crash without changing (it keeps all it knows on disk)
        and restart without changing or sending anything?  Then being down only takes
        possibilities away."""
        known = self._quiet.get(x)
        if known is None:
            node_id = self.ids[i]
            crashed = self._outcome(i, x, "crash", None, None, Crash(node_id))[0]
            known = self._quiet[x] = crashed == x and self.restarts_quietly(i, x)
        return known

    def restarts_quietly(self, i, x) -> bool:
        """Would node i, down in state x, come back unchanged and silent whichever way it
        may restart (from its disk, and with an empty disk or a stale copy if allowed)?
        Plain restarts are always checked: the covering search compares a node down with
        the same node up."""
        node_id = self.ids[i]
        ways = [("restart", Restart(node_id))] + [
            (what, action) for n, action, what in self._restarts
            if n == node_id and what != "restart"]
        for what, action in ways:
            new, sends, timer_ops, _, _ = self._outcome(i, x, what, None, None, action)
            if new != x or sends or timer_ops:
                return False
        return True

    def covers(self, a, b) -> bool:
        """Can state ``a`` do everything state ``b`` can (both with the same node states)?
        Yes if it has at least b's messages in flight and pending timers, has used no more
        crashes, and every node down in b but up in a would restart without changing or
        sending anything (so that being up is only more possibilities)."""
        if a[0] != b[0] or b[1] & ~a[1] or a[4] > b[4]:
            return False
        if a[2] != b[2] and not set(b[2]) <= set(a[2]):
            return False
        if a[3] != b[3]:
            if not a[3] <= b[3]:
                return False
            for node_id in b[3] - a[3]:
                i = self._index[node_id]
                if not self.restarts_quietly(i, b[0][i]):   # restarting would do something
                    return False
        return True

    def nodes_of(self, state):
        """The node states of ``state``: all that properties marked ``about_nodes`` read."""
        return state[0]

    def _canonical(self, pairs, found=None):
        """With symmetry, each next state in canonical form (pairs, or triples whose third
        item is a set of message numbers to rename with it).  found: states known to be
        canonical (the explorer's own table of the states it found); else the states this
        model returned so far."""
        if self.symmetry is None:
            return pairs
        sym = self.symmetry
        known = self._canonical_seen if found is None else found
        remember = found is None
        out = []
        for pair in pairs:
            nxt = pair[1]
            if nxt not in known:          # a state already returned is canonical: skip the work
                nxt, p = sym.canonical_with(nxt)
                if remember:
                    known.add(nxt)
                if len(pair) == 2:
                    pair = (pair[0], nxt)
                else:
                    pair = (pair[0], nxt, pair[2] if p == -1 or not pair[2]
                            else sym._renamed_flight(p, pair[2]))
            out.append(pair)
        return out

    def _successors(self, state, count_loops=False):
        """(action, next state) pairs in a fixed order: deliveries (and drops) by message
        number, then timers, crashes, restarts.  A delivery that changes nothing returns
        ``state`` itself; with ``count_loops``, those are only counted:
        (how many, the other pairs)."""
        out = self._deliveries(state)
        self._other_steps(state, out)
        if not count_loops:
            return out
        pairs = [pair for pair in out if pair[1] is not state]
        return len(out) - len(pairs), pairs

    def _deliveries(self, state) -> list:
        """Deliver (and, with drop, lose) each message in flight, in order of number."""
        nodes, flight, timers, crashed, crashes = state
        outcomes, to, ids, entries = self._outcomes, self._to, self.ids, self._entries
        deliver, drop = self._deliver, self._drop
        set_network, drops = self._set_network, self.controls.drop
        out = []
        previous = None
        for k in self._members(flight):
            if k == previous:           # the same message twice in flight: one choice
                continue
            previous = k
            i = to[k]
            if not crashed or ids[i] not in crashed:
                x = nodes[i]
                outcome = outcomes.get((x, k))
                if outcome is None:
                    src, _, msg = entries[k]
                    outcome = self._outcome(i, x, k, msg, src, deliver[k])
                if set_network and outcome[0] == x and not outcome[2] and not outcome[3] & ~flight:
                    out.append((deliver[k], state))   # nothing changes: a loop
                else:
                    rest = flight if set_network else _remove_one(flight, k)
                    out.append((deliver[k], self._apply(state, i, outcome, rest, timers)))
            if drops:
                f = flight & ~(1 << k) if set_network else _remove_one(flight, k)
                out.append((drop[k], (nodes, f, timers, crashed, crashes)))
        return out

    def _changing_deliveries(self, state, asleep, only=-1, saturated=False) -> tuple:
        """(how many deliveries need no look, the others as (action, next state, asleep)
        triples, the messages that could be delivered) on a duplicating network without
        drops: the explorer's fast path.
        ``saturated``: for the covering search, which keeps no sleep sets: skip the
        messages each node only answers, too, and give the receiver's index instead of
        ``asleep``.

        A message that node state X ignores (nothing changes, nothing is sent) is noted
        once in ``_silent[X]``; afterwards such messages are counted with one AND of two
        integers instead of being delivered one by one.  So are the messages in ``asleep``.

        What may sleep after delivering message k to node i: what slept here, and every
        message delivered before k (smaller numbers come first), unless it goes to node i.
        Deliveries to different nodes commute on a duplicating network (each changes only
        its own node and adds messages to a set), so delivering such a message after k
        leads where delivering it before k led, and the explorer has that state already."""
        nodes, flight, timers, crashed, crashes = state
        outcomes, to, entries, deliver = self._outcomes, self._to, self._entries, self._deliver
        silent, incoming, ids = self._silent, self._incoming_set, self.ids
        skip = self._ignored if saturated else silent
        prunable, dead_to = self._prunable, self._dead
        deliverable = candidates = 0
        for i, x in enumerate(nodes):
            if crashed and ids[i] in crashed:
                continue
            mine = flight & incoming[i]
            deliverable |= mine
            candidates |= mine & ~skip.get(x, 0)
        skipped = (deliverable & ~(candidates & ~asleep)).bit_count()
        candidates &= ~asleep & only
        out = []
        while candidates:
            low = candidates & -candidates
            candidates ^= low
            k = low.bit_length() - 1
            i = to[k]
            x = nodes[i]
            outcome = outcomes.get((x, k))
            if outcome is None:
                src, _, msg = entries[k]
                outcome = self._outcome(i, x, k, msg, src, deliver[k])
            if outcome[0] == x and not outcome[2]:
                if not outcome[3]:
                    silent[x] = silent.get(x, 0) | low     # ignored: now and every time
                    self._ignored[x] = self._ignored.get(x, 0) | low
                    skipped += 1
                    continue
                if not outcome[3] & ~flight:                # its answers are in flight
                    skipped += 1
                    continue
            # the next state: what _apply does, written out (the explorer's hot path)
            new, sends, timer_ops, as_set, receivers = outcome
            f = flight | as_set
            if new != x:
                after = nodes[:i] + (new,) + nodes[i + 1:]
                if i in prunable:
                    dead = dead_to.get(new)
                    f &= ~(self._dead_to(i, new) if dead is None else dead)
            else:
                after = nodes
            for j in receivers:
                dead = dead_to.get(after[j])
                f &= ~((self._dead_to(j, after[j]) if dead is None else dead) & as_set)
            out.append((deliver[k], (after, f, self._set_timers(timer_ops, timers)
                                     if timer_ops else timers, crashed, crashes),
                        i if saturated else (asleep | (deliverable & (low - 1))) & ~incoming[i]))
        return skipped, out, deliverable

    def _apply(self, state, i, outcome, flight, timers, changed=False):
        """The state after node i took a step with this outcome, starting from ``flight``
        and ``timers`` (without the delivered message or fired timer, where they go).
        ``changed``: treat node i as changed even if its state is the same (timers and
        restarts), so that messages it now calls obsolete are forgotten."""
        nodes, _, _, crashed, crashes = state
        new, sends, timer_ops, as_set, receivers = outcome
        changed = changed or new != nodes[i]
        after = nodes[:i] + (new,) + nodes[i + 1:] if changed else nodes
        if sends:
            flight = flight | as_set if self._set_network else tuple(sorted(flight + sends))
        if timer_ops:
            timers = self._set_timers(timer_ops, timers)
        if self._prunable and (changed or sends):
            # forget what has become obsolete: messages to node i, if it changed, and
            # messages just sent (see _dead_to)
            dead_to, dead = self._dead, 0
            if changed and i in self._prunable:
                dead = dead_to.get(new)
                if dead is None:
                    dead = self._dead_to(i, new)
            for j in receivers:
                gone = dead_to.get(after[j])
                dead |= (self._dead_to(j, after[j]) if gone is None else gone) & as_set
            if dead:
                flight = flight & ~dead if self._set_network else tuple(
                    [k for k in flight if not dead >> k & 1])
        return (after, flight, timers, crashed, crashes)

    def _other_steps(self, state, out, *asleep, quiet_crashes=True, may_sleep=0) -> int:
        """Add the timers that may fire, the crashes and the restarts to ``out`` (as triples
        ending with ``asleep`` if it is given).  With ``quiet_crashes=False``, leave out the
        crashes that change nothing (see ``quiet``): the state covers what they lead to.
        Return how many were left out.

        ``may_sleep``: the deliveries tried (or asleep) before these steps, a set of message
        numbers.  A timer firing at node i, node i crashing or node i restarting commutes
        with delivering a message to another node, as two deliveries to different nodes do
        (see ``_changing_deliveries``); so such messages sleep after it.  Not after a crash
        or restart of a node that calls messages obsolete: a crash can make it forget what
        it called obsolete, and so change which messages sent to it are forgotten
        (tests/test_reductions.py finds states lost if they sleep there too)."""
        left_out = 0
        nodes, flight, timers, crashed, crashes = state
        controls, ids, to = self.controls, self.ids, self._to
        incoming, prunable, outcomes = self._incoming_set, self._prunable, self._outcomes

        def sleeping_after(i, may_forget):
            """What sleeps after a step of node i (may_forget: a crash or a restart)."""
            if may_sleep and not (may_forget and i in prunable):
                return (may_sleep & ~incoming[i],)
            return asleep

        if timers and controls.timers_may_fire(() if self._set_network else (
                ids[to[k]] for k in flight if ids[to[k]] not in crashed)):
            owner, keys = self._timer_owner, self._timer_keys
            for k in timers:
                i = owner[k]
                if crashed and ids[i] in crashed:
                    continue
                outcome = outcomes.get((nodes[i], keys[k]))
                if outcome is None:
                    outcome = self._outcome(i, nodes[i], keys[k], self._timer_entries[k][1],
                                            None, self._fire[k])
                out.append((self._fire[k], self._apply(state, i, outcome, flight,
                                                       _remove_one(timers, k), changed=True))
                           + sleeping_after(i, False))
        if crashes < controls.max_crashes:
            for i, node_id, action in self._crash_pool:
                if crashed and node_id in crashed:
                    continue
                if not quiet_crashes and self.quiet(i, nodes[i]) and \
                        node_id not in self._timer_owners(timers):
                    left_out += 1
                    continue
                outcome = outcomes.get((nodes[i], "crash"))
                if outcome is None:
                    outcome = self._outcome(i, nodes[i], "crash", None, None, action)
                out.append((action, (nodes[:i] + (outcome[0],) + nodes[i + 1:], flight,
                                     self._timers_without(timers, i) if timers else timers,
                                     crashed | {node_id}, crashes + 1))
                           + sleeping_after(i, True))
        if crashed:
            for node_id, action, what in self._restarts:
                if node_id not in crashed:
                    continue
                i = self._index[node_id]
                outcome = self._outcome(i, nodes[i], what, None, None, action)
                after = self._apply(state, i, outcome, flight, timers, changed=True)
                out.append((action, after[:3] + (crashed - {node_id}, crashes))
                           + sleeping_after(i, True))
        return left_out

    def _timers_without(self, timers, i) -> tuple:
        """The pending timers that do not belong to node i (remembered)."""
        key = (timers, i)
        out = self._without.get(key)
        if out is None:
            owner = self._timer_owner
            out = self._without[key] = tuple(k for k in timers if owner[k] != i)
        return out

    def _timer_owners(self, timers) -> frozenset:
        """The nodes that have a timer among ``timers`` (remembered per tuple of timers)."""
        owners = self._owners.get(timers)
        if owners is None:
            owners = self._owners[timers] = frozenset(self._timer_entries[k][0] for k in timers)
        return owners

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
        actions = path.actions if hasattr(path, "actions") else list(path)
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
