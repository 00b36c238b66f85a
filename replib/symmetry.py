"""Symmetry reduction: states that differ only by renaming interchangeable nodes are one state.

Three Paxos acceptors run the same code from the same initial state, and nothing else in
the system treats one differently from another (a proposer sends to all of them, counts
how many answered).  So a state in which a1 has promised 2 and a2 nothing behaves exactly
like the state in which a2 has promised 2 and a1 nothing, with every message and every
other node's memory renamed to match.  The checker can keep one state per such family
(the smallest after renaming: its *canonical* form) and visit up to 3! = 6 times fewer.

This is sound only when the nodes really are interchangeable: same class, same initial
state up to their names, and no node (nor any invariant) treats them differently by name,
for instance by sorting them and favouring the first.  Their names must not also be used
as data (a value "a1" would be renamed too).  ``Symmetry`` checks what it can (same class,
same initial state after renaming); the rest is the model's promise.
"""

from __future__ import annotations

import dataclasses
from itertools import permutations

from .state import freeze, thaw

_IDENTITY = (-1,)   # "no renaming gives a smaller state"


def relabel(value, names: dict):
    """``value`` with every string that names a node replaced by its new name, at any depth
    (tuples, lists, sets, dicts, frozen dataclasses such as messages and actions)."""
    kind = type(value)
    if kind is str:
        return names.get(value, value)
    if kind in (int, float, bool, type(None)):
        return value
    if kind is list:
        return [relabel(v, names) for v in value]
    if kind is tuple:
        return tuple(relabel(v, names) for v in value)
    if kind is set or kind is frozenset:
        return kind(relabel(v, names) for v in value)
    if kind is dict:
        return {relabel(k, names): relabel(v, names) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: relabel(getattr(value, f.name), names)
                   for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    return value


class Symmetry:
    """Canonical forms of a NodeModel's states under every renaming of ``ids``.

    The model's states are tuples (nodes, in flight, timers, crashed, crashes) of numbers;
    renaming works on those numbers through memo tables, so each node state, message,
    timer and set of messages in flight is renamed once per permutation, however many
    system states contain it, and the smallest renaming of each tuple of node states is
    found once.
    """

    def __init__(self, model, ids):
        ids = tuple(dict.fromkeys(ids))
        unknown = [n for n in ids if n not in model.ids]
        if unknown:
            raise ValueError(f"symmetric names unknown node(s) {unknown}; nodes are "
                             f"{list(model.ids)}")
        if len(ids) < 2:
            raise ValueError(f"symmetric needs two or more interchangeable nodes, got {list(ids)}")
        kinds = {type(model._workers[model._index[n]]).__name__ for n in ids}
        if len(kinds) > 1:
            raise ValueError(f"symmetric nodes must be of one class; {list(ids)} are "
                             f"{sorted(kinds)}")
        crashable = model.controls.crashable
        if crashable is not None and 0 < len(set(ids) & set(crashable)) < len(ids):
            raise ValueError(f"crashable {list(crashable)} treats the symmetric nodes "
                             f"{list(ids)} differently: make all or none of them crashable")
        self.model = model
        self.ids = ids
        self.names = [dict(zip(ids, p)) for p in permutations(ids)][1:]   # not the identity
        index = model._index
        # where each position's node goes under each renaming
        self.moves = [[index[names.get(n, n)] for n in model.ids] for names in self.names]
        self._nodes = [{} for _ in self.names]
        self._entries = [{} for _ in self.names]
        self._timers = [{} for _ in self.names]
        self._timer_sets = [{} for _ in self.names]   # timers (a sorted tuple) -> renamed
        self._crashed = [{} for _ in self.names]      # crashed nodes -> renamed
        self._by_nodes = {}     # node states -> their smallest renaming (see _smallest_nodes)
        self._bytes = [[] for _ in self.names]   # byte position -> byte value -> renamed
        self._flights = [{} for _ in self.names]  # messages in flight (a set) -> renamed

    # ---- renaming the numbered pieces, once each ---------------------------------------
    def _node(self, p, number):
        table = self._nodes[p]
        out = table.get(number)
        if out is None:
            frozen = self.model._node_states[number]
            names = self.names[p]
            renamed = type(frozen)._make(freeze(relabel(thaw(v), names)) for v in frozen)
            out = table[number] = self.model._number_frozen(renamed)
        return out

    def _entry(self, p, k):
        table = self._entries[p]
        out = table.get(k)
        if out is None:
            out = table[k] = self.model._entry_number(relabel(self.model._entries[k],
                                                              self.names[p]))
        return out

    def _timer(self, p, k):
        table = self._timers[p]
        out = table.get(k)
        if out is None:
            out = table[k] = self.model._timer_number(relabel(self.model._timer_entries[k],
                                                              self.names[p]))
        return out

    def _renamed_flight(self, p, flight):
        """The messages in flight, renamed.  On a duplicating network they are a set kept as
        an integer; each of its bytes (eight message numbers) is renamed once per value, so
        renaming costs a lookup per byte.  Many states share their messages in flight, so
        each set is renamed once per renaming and remembered."""
        if not self.model._set_network:
            entries, entry = self._entries[p], self._entry
            return tuple(sorted([entries[k] if k in entries else entry(p, k) for k in flight]))
        known = self._flights[p]
        out = known.get(flight)
        if out is None:
            out = known[flight] = self._renamed_bytes(p, flight)
        return out

    def _renamed_bytes(self, p, flight):
        """The set of messages ``flight`` (an integer) renamed, a byte at a time."""
        entries, entry = self._entries[p], self._entry
        table, out, position = self._bytes[p], 0, 0
        for byte in flight.to_bytes((flight.bit_length() + 7) // 8, "little"):
            if byte:
                while position >= len(table):
                    table.append([None] * 256)
                renamed = table[position][byte]
                if renamed is None:
                    renamed = 0
                    for j in range(8):
                        if byte >> j & 1:
                            k = 8 * position + j
                            renamed |= 1 << (entries[k] if k in entries else entry(p, k))
                    table[position][byte] = renamed
                out |= renamed
            position += 1
        return out

    def rename(self, state, p, nodes=None):
        """The state with the p-th renaming applied (``nodes``: its node states renamed, if
        already known)."""
        old_nodes, flight, timers, crashed, crashes = state
        if nodes is None:
            new = [0] * len(old_nodes)
            for i, where in enumerate(self.moves[p]):
                new[where] = self._node(p, old_nodes[i])
            nodes = tuple(new)
        return (nodes, self._renamed_flight(p, flight), self._renamed_timers(p, timers),
                self._renamed_crashed(p, crashed), crashes)

    def _renamed_timers(self, p, timers):
        """The pending timers renamed (remembered: few tuples of timers occur)."""
        table = self._timer_sets[p]
        out = table.get(timers)
        if out is None:
            out = table[timers] = tuple(sorted([self._timer(p, k) for k in timers]))
        return out

    def _renamed_crashed(self, p, crashed):
        """The crashed nodes renamed (remembered per set)."""
        if not crashed:
            return crashed
        table = self._crashed[p]
        out = table.get(crashed)
        if out is None:
            names = self.names[p]
            out = table[crashed] = frozenset(names.get(n, n) for n in crashed)
        return out

    # ---- canonical forms ----------------------------------------------------------------
    def canonical(self, state):
        """The smallest state among all renamings of ``state`` (nodes compared first)."""
        return self.canonical_with(state)[0]

    def canonical_with(self, state):
        """(canonical form, p) where p is the renaming that gives it (-1: none needed)."""
        nodes = state[0]
        best = self._by_nodes.get(nodes)
        if best is None:
            best = self._by_nodes[nodes] = self._smallest_nodes(nodes)
        best_nodes, ties = best
        if ties is _IDENTITY:
            return state, -1
        if len(ties) == 1:
            return self.rename(state, ties[0], best_nodes), ties[0]
        # Renamings that give the same nodes: compare the messages in flight first (they
        # nearly always differ), and rename the rest only for the renamings left.
        flight, smallest, left = state[1], None, []
        for p in ties:
            f = flight if p == -1 else self._renamed_flight(p, flight)
            if smallest is None or (f != smallest and self._smaller_flight(f, smallest)):
                smallest, left = f, [p]
            elif f == smallest:
                left.append(p)
        best = None
        for p in left:
            candidate = state if p == -1 else (best_nodes, smallest,
                                               self._renamed_timers(p, state[2]),
                                               self._renamed_crashed(p, state[3]), state[4])
            if best is None or self._smaller(candidate, best[0]):
                best = (candidate, p)
        return best

    def _smaller_flight(self, a, b) -> bool:
        """Are the messages in flight a smaller than b (they differ), compared as sorted
        tuples of numbers?"""
        if not self.model._set_network:
            return a < b
        # As sorted tuples: they agree up to the smallest number in one set but not the
        # other.  The set holding it is smaller, unless the other set holds nothing larger
        # (then the other is a prefix of it, and smaller).
        differ = a ^ b
        low = differ & -differ
        holder, other = (a, b) if a & low else (b, a)
        holder_smaller = other >= low << 1
        return holder_smaller if holder == a else not holder_smaller

    def _smaller(self, a, b) -> bool:
        """Is state a smaller than state b (same nodes)?  Messages in flight compared as
        sorted tuples of numbers, then timers, crashed nodes, crash count."""
        if a[1] != b[1]:
            return self._smaller_flight(a[1], b[1])
        return (a[2], tuple(sorted(a[3])), a[4]) < (b[2], tuple(sorted(b[3])), b[4])

    def _smallest_nodes(self, nodes):
        """The smallest renaming of a tuple of node states, and every renaming that gives
        it (-1 for none); remembered per tuple, since many states share their nodes."""
        size = len(nodes)
        best_nodes, ties = nodes, [-1]
        for p, moves in enumerate(self.moves):
            table = self._nodes[p]
            new = [0] * size
            for i in range(size):
                number = nodes[i]
                renamed = table.get(number)
                new[moves[i]] = self._node(p, number) if renamed is None else renamed
            new = tuple(new)
            if new < best_nodes:
                best_nodes, ties = new, [p]
            elif new == best_nodes:
                ties.append(p)
        return best_nodes, _IDENTITY if ties == [-1] else tuple(ties)

    def inverse(self, p) -> dict:
        """The renaming that undoes the p-th one."""
        return {new: old for old, new in self.names[p].items()}
