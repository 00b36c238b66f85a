"""Freezing node state into hashable values and thawing it back.

The checker stores millions of states and the trace stores one snapshot per step, so a
node's fields are frozen into immutable, hashable values: lists, dicts and sets become
marked tuples and frozensets that remember what they were, so thawing gives the node back
exactly the containers it had.  Frozen values print the way the originals do.

Frozen dicts keep their items sorted by key, so two dicts with the same items freeze to
equal values whatever order they were filled in (the checker then sees one state, not two).
Tuples that hold nothing mutable are used as they are: that is the fast, common case.
"""

from __future__ import annotations


class FrozenList(tuple):
    """A list, frozen.  It equals the list it came from, so invariants read naturally."""

    __slots__ = ()
    __hash__ = tuple.__hash__

    def __eq__(self, other):
        if type(other) is list:
            return tuple.__eq__(self, tuple(other))
        return tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return "[" + ", ".join(map(repr, self)) + "]"


class FrozenDict(tuple):
    """A dict, frozen: stored as (key, value) pairs sorted by key, read like a dict.

    It equals the dict it came from, so invariants read naturally."""

    __slots__ = ()
    __hash__ = tuple.__hash__

    def pairs(self):
        return tuple.__iter__(self)

    def __iter__(self):
        return (k for k, _ in tuple.__iter__(self))

    def __eq__(self, other):
        if type(other) is dict:
            return len(other) == len(self) and all(
                k in other and other[k] == v for k, v in self.pairs())
        return tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    def __getitem__(self, key):
        for k, v in self.pairs():
            if k == key:
                return v
        raise KeyError(key)

    def __contains__(self, key):
        return any(k == key for k, _ in self.pairs())

    def get(self, key, default=None):
        for k, v in self.pairs():
            if k == key:
                return v
        return default

    def keys(self):
        return [k for k, _ in self.pairs()]

    def values(self):
        return [v for _, v in self.pairs()]

    def items(self):
        return list(self.pairs())

    def __repr__(self):
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in self.pairs()) + "}"


class FrozenSet(frozenset):
    """A set, frozen."""

    __slots__ = ()

    def __repr__(self):
        return "{" + ", ".join(sorted(map(repr, self))) + "}" if self else "set()"


class FrozenTuple(tuple):
    """A tuple that held lists, dicts or sets, frozen (thawing gives those back)."""

    __slots__ = ()

    def __repr__(self):
        return tuple.__repr__(tuple(self))


_SCALARS = frozenset({int, float, str, bool, type(None), bytes})


def _sorted_items(items):
    try:
        return sorted(items)
    except TypeError:   # keys of mixed types: order them by their canonical text
        return sorted(items, key=lambda kv: canonical(kv[0]))


def freeze(value):
    """Return a hashable, immutable copy of value (lists, dicts, sets and tuples, nested)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list:
        return FrozenList([freeze(v) for v in value])
    if kind is dict:
        return FrozenDict(_sorted_items([(freeze(k), freeze(v)) for k, v in value.items()]))
    if kind is set:
        return FrozenSet([freeze(v) for v in value])
    if kind is tuple:
        try:
            hash(value)
            return value            # nothing mutable inside: use it as it is
        except TypeError:
            return FrozenTuple([freeze(v) for v in value])
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"node state must be made of numbers, strings, None, tuples, lists, dicts, sets "
            f"and frozen dataclasses; got an unhashable {kind.__name__}: {value!r}"
        ) from None
    return value


def _thaw_list(v):
    return [thaw(x) for x in v]


def _thaw_dict(v):
    return {thaw(k): thaw(x) for k, x in v.pairs()}


def _thaw_set(v):
    return {thaw(x) for x in v}


def _thaw_tuple(v):
    return tuple(thaw(x) for x in v)


_THAW = {FrozenList: _thaw_list, FrozenDict: _thaw_dict, FrozenSet: _thaw_set,
         FrozenTuple: _thaw_tuple}


def thaw(value):
    """Undo freeze: give back fresh lists, dicts and sets (so a handler may mutate them)."""
    undo = _THAW.get(type(value))
    return value if undo is None else undo(value)


def canonical(value) -> str:
    """A text form of a value that does not depend on set or dict order.

    Set iteration order depends on string hashing, which changes from one Python process to
    the next; digests and the checker's orderings must not.
    """
    if isinstance(value, (frozenset, set)):
        return "{" + ",".join(sorted(canonical(v) for v in value)) + "}"
    if isinstance(value, dict):
        return "dict{" + ",".join(sorted(f"{canonical(k)}:{canonical(v)}"
                                         for k, v in value.items())) + "}"
    if isinstance(value, FrozenDict):
        return "dict{" + ",".join(sorted(f"{canonical(k)}:{canonical(v)}"
                                         for k, v in value.pairs())) + "}"
    if isinstance(value, (tuple, list)):
        fields = getattr(value, "_fields", None)   # named tuples: the checker's node states
        if fields is not None:
            inner = ",".join(f"{n}={canonical(v)}" for n, v in zip(fields, value))
            return f"{type(value).__name__}({inner})"
        return "(" + ",".join(canonical(v) for v in value) + ")"
    if isinstance(value, float):
        return repr(round(value, 9))
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        inner = ",".join(f"{name}={canonical(getattr(value, name))}" for name in fields)
        return f"{type(value).__name__}({inner})"
    return repr(value)
