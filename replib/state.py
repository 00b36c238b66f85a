"""Freezing node state into hashable values and thawing it back.

The checker stores millions of states and the trace stores one snapshot per step, so a
node's fields are frozen into immutable, hashable values: lists, dicts and sets become
marked tuples and frozensets that remember what they were, so thawing gives the node back
exactly the containers it had.  Frozen values also print the way the originals do.
"""

from __future__ import annotations


class FrozenList(tuple):
    """A list, frozen."""

    __slots__ = ()

    def __repr__(self):
        return "[" + ", ".join(map(repr, self)) + "]"


class FrozenDict(tuple):
    """A dict, frozen into a tuple of (key, value) pairs in insertion order."""

    __slots__ = ()

    def __repr__(self):
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in self) + "}"

    def __eq__(self, other):
        # dicts compare without regard to order; so do their frozen forms.
        if isinstance(other, FrozenDict):
            return len(self) == len(other) and set(self) == set(other)
        return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return hash(frozenset(self))

    def get(self, key, default=None):
        for k, v in self:
            if k == key:
                return v
        return default


class FrozenSet(frozenset):
    """A set, frozen."""

    __slots__ = ()

    def __repr__(self):
        return "{" + ", ".join(sorted(map(repr, self))) + "}" if self else "set()"


_SCALARS = (int, float, str, bool, type(None), bytes)


def freeze(value):
    """Return a hashable, immutable copy of value (lists, dicts, sets and tuples, nested)."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list):
        return FrozenList(freeze(v) for v in value)
    if isinstance(value, dict):
        return FrozenDict((freeze(k), freeze(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)) and not isinstance(value, FrozenSet):
        return FrozenSet(freeze(v) for v in value) if isinstance(value, set) else frozenset(
            freeze(v) for v in value)
    if type(value) is tuple:
        return tuple(freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"node state must be made of numbers, strings, None, tuples, lists, dicts, sets "
            f"and frozen dataclasses; got an unhashable {type(value).__name__}: {value!r}"
        ) from None
    return value


def thaw(value):
    """Undo freeze: give back fresh lists, dicts and sets (so a handler may mutate them)."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, FrozenList):
        return [thaw(v) for v in value]
    if isinstance(value, FrozenDict):
        return {thaw(k): thaw(v) for k, v in value}
    if isinstance(value, FrozenSet):
        return {thaw(v) for v in value}
    if type(value) is tuple:
        return tuple(thaw(v) for v in value)
    return value


def canonical(value) -> str:
    """A text form of a frozen value that does not depend on set or dict order.

    Set iteration order depends on string hashing, which changes from one Python process to
    the next; digests must not.
    """
    if isinstance(value, (frozenset, FrozenDict)):
        inner = sorted(canonical(v) for v in value)
        return ("{" if isinstance(value, frozenset) else "dict{") + ",".join(inner) + "}"
    if isinstance(value, tuple):
        return "(" + ",".join(canonical(v) for v in value) + ")"
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        inner = ",".join(f"{name}={canonical(getattr(value, name))}" for name in fields)
        return f"{type(value).__name__}({inner})"
    if isinstance(value, float):
        return repr(round(value, 9))
    return repr(value)
