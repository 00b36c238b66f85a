"""Freezing node state into hashable values and thawing it back (replib.state)."""

import pytest

from replib.state import FrozenDict, FrozenList, FrozenSet, FrozenTuple, canonical, freeze, thaw


def test_scalars_freeze_to_themselves():
    """Numbers, strings, None, bools and bytes are already immutable: freeze returns them."""
    for v in (0, -3, 2.5, "x", None, True, b"raw"):
        assert freeze(v) is v
        assert thaw(v) is v


def test_containers_become_marked_frozen_forms():
    """Lists, dicts and sets freeze into FrozenList, FrozenDict and FrozenSet."""
    assert type(freeze([1, 2])) is FrozenList
    assert type(freeze({"a": 1})) is FrozenDict
    assert type(freeze({1, 2})) is FrozenSet
    assert type(freeze((1, [2]))) is FrozenTuple
    assert type(freeze((1, [2]))[1]) is FrozenList
    assert type(thaw(freeze((1, [2])))) is tuple


def test_immutable_values_are_used_as_they_are():
    """A tuple holding nothing mutable, a frozenset, or a frozen dataclass is already hashable and
    immutable: freeze returns the very same object (the fast, common case)."""
    t = (1, ("a", None))
    fs = frozenset({1, 2})
    assert freeze(t) is t and freeze(fs) is fs
    frozen = freeze([1, 2])
    assert freeze(frozen) is frozen


@pytest.mark.parametrize("value", [
    [],
    {},
    set(),
    [1, [2, [3, []]]],
    {"log": [("write", 1), ("write", 2)], "waiting": {1: ("client", 0)}},
    {"peers": {"a", "b"}, "votes": {3: {"a"}, 4: set()}},
    (1, [2, {"k": {5}}], "s"),
    [{"x": [1, 2]}, {"y": ()}],
    {frozenset({"a"}): [1], ("t", 1): {"n": None}},
])
def test_freeze_thaw_round_trip(value):
    """thaw(freeze(v)) == v with the very same container types, nested at any depth."""
    back = thaw(freeze(value))
    assert back == value

    def types(v):
        if isinstance(v, dict):
            return ("dict", sorted((repr(k), types(x)) for k, x in v.items()))
        if isinstance(v, (list, tuple)):
            return (type(v).__name__, [types(x) for x in v])
        if isinstance(v, (set, frozenset)):
            return (type(v).__name__, sorted(map(repr, v)))
        return type(v).__name__

    assert types(back) == types(value)


def test_thaw_gives_fresh_mutable_containers():
    """Thawing twice gives two independent containers, so a handler may mutate its copy."""
    frozen = freeze({"log": [1]})
    a, b = thaw(frozen), thaw(frozen)
    a["log"].append(2)
    assert b == {"log": [1]}
    assert thaw(frozen) == {"log": [1]}


def test_frozen_values_are_hashable_and_equal_when_built_equal():
    """Frozen forms of equal values are equal and hash alike (the checker's visited set needs it)."""
    v1 = {"log": [1, 2], "peers": {"a", "b"}, "m": {1: [3]}}
    v2 = {"m": {1: [3]}, "peers": {"b", "a"}, "log": [1, 2]}
    f1, f2 = freeze(v1), freeze(v2)
    assert f1 == f2
    assert hash(f1) == hash(f2)
    assert len({f1, f2}) == 1


def test_frozen_dict_equality_ignores_order():
    """Two dicts with the same items in a different insertion order freeze to equal values."""
    a = freeze({"x": 1, "y": 2})
    b = freeze({"y": 2, "x": 1})
    assert a == b and not (a != b)
    assert hash(a) == hash(b)
    assert a != freeze({"x": 1, "y": 3})
    assert a != freeze({"x": 1})
    assert a.get("y") == 2 and a.get("z", "none") == "none"
    assert a.keys() == ["x", "y"] and a.values() == [1, 2] and a.items() == [("x", 1), ("y", 2)]
    mixed = freeze({2: "int key", "s": "str key", (1,): "tuple key"})
    assert mixed == freeze({(1,): "tuple key", "s": "str key", 2: "int key"})


def test_frozen_values_print_like_the_originals():
    """A frozen list, dict and set print as the list, dict and set they were."""
    assert repr(freeze([1, "a"])) == "[1, 'a']"
    assert repr(freeze({"k": [1]})) == "{'k': [1]}"
    assert repr(freeze({"b": 1, "a": 2})) == "{'a': 2, 'b': 1}"     # sorted by key
    assert repr(freeze((1, [2]))) == "(1, [2])"
    assert repr(freeze({"b", "a"})) == "{'a', 'b'}"
    assert repr(freeze(set())) == "set()"


def test_unhashable_objects_are_refused_with_a_clear_message():
    """State may only hold plain values; an arbitrary mutable object raises TypeError naming it."""
    class Box:
        __hash__ = None

    with pytest.raises(TypeError, match="unhashable Box"):
        freeze([Box()])


def test_canonical_does_not_depend_on_set_or_dict_order():
    """canonical() sorts set and dict members, so it is the same whatever order they were built in."""
    items = [f"node{i}" for i in range(20)]
    s1 = freeze(set(items))
    s2 = freeze(set(reversed(items)))
    assert canonical(s1) == canonical(s2)
    assert canonical(frozenset(items)) == canonical(frozenset(reversed(items)))
    d1 = freeze({k: i for i, k in enumerate(items)})
    d2 = freeze({k: i for i, k in reversed(list(enumerate(items)))})
    assert canonical(d1) == canonical(d2)
    # a node's state dict (plain dict of frozen values) is canonical too
    assert canonical({"a": s1, "b": 1}) == canonical({"b": 1, "a": s2})


def test_canonical_rounds_float_noise_and_keeps_structure():
    """Floats are rounded to 9 places, so 0.1 + 0.2 and 0.3 give the same text; nesting is kept."""
    assert canonical(0.1 + 0.2) == canonical(0.3)
    assert canonical((1, "a", None)) == "(1,'a',None)"
    assert canonical(freeze([1, {2}])) == "(1,{2})"
    assert canonical(freeze({"k": 1})) == "dict{'k':1}"
    assert canonical({"k": 1}) == canonical(freeze({"k": 1}))
