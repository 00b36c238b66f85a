"""Consistency checks on client histories: lost writes, divergence, linearizability.

Each test's docstring states the rule it checks.  Times in hand-written histories are small
integers; an operation that returned at t precedes one invoked at t.
"""

import random
from itertools import combinations, permutations

import pytest

from replib import Constant, Network, Simulation
from replib.faults import partition
from replib.history import (Result, diverged, is_prefix, linearizable, linearizable_kv,
                            lost_writes, random_history, with_stale_read)
from replib.protocols.forwarding import forwarding_system
from replib.state import freeze
from replib.trace import Operation

INF = float("inf")


def W(client, value, invoke, response, result="ok"):
    return Operation(client, ("write", value), invoke, response,
                     None if response is None else result)


def R(client, value, invoke, response):
    return Operation(client, ("read",), invoke, response, value)


# ---- helpers: the definition itself, by enumeration ------------------------------------------

def _must(x):
    return x.response is not None and (x.op[0] == "read" or x.result == "ok")


def _precedes(a, b):
    end = a.response if _must(a) else INF
    return end <= b.invoke and a.invoke < b.invoke


def valid_order(history, order, initial=None):
    """Is ``order`` a linearization of ``history``: every answered read and acknowledged write
    exactly once, unacknowledged writes at most once, nothing else, real time respected, and
    every read returning the latest write before it (per key)?"""
    ids = {id(x) for x in history}
    if len({id(x) for x in order}) != len(order) or not all(id(x) in ids for x in order):
        return False
    placed = {id(x) for x in order}
    if any(_must(x) and id(x) not in placed for x in history):
        return False
    if any(x.op[0] == "read" and x.response is None for x in order):
        return False
    for i, a in enumerate(order):
        if any(_precedes(b, a) for b in order[i + 1:]):
            return False
    state = {}
    for x in order:
        kv = len(x.op) == (2 if x.op[0] == "read" else 3)
        key = x.op[1] if kv else None
        if x.op[0] == "write":
            state[key] = x.op[-1]
        elif x.result != state.get(key, initial):
            return False
    return True


def brute(history, initial=None):
    """Linearizable by the definition: try every subset of the optional writes and every
    order of the operations (tiny histories only)."""
    ops = [x for x in history if not (x.op[0] == "read" and x.response is None)]
    must = [x for x in ops if _must(x)]
    optional = [x for x in ops if not _must(x)]
    for k in range(len(optional) + 1):
        for chosen in combinations(optional, k):
            for order in permutations(must + list(chosen)):
                if valid_order(history, list(order), initial):
                    return True
    return False


def answered_before(history):
    """The order answers count in: by time; at the same instant writes first, then in
    history order."""
    pos = {id(y): n for n, y in enumerate(history)}
    return lambda y: (y.response, y.op[0] == "read", pos[id(y)])


def cut_after(history, x):
    """The history as it stood when answer x came: operations invoked by then, answers that
    came later (or at the same instant but count later) lost."""
    mark, t = answered_before(history), x.response
    return [y if _must(y) and mark(y) <= mark(x) or not _must(y) and y.response is not None
            and y.response <= t else Operation(y.client, y.op, y.invoke, None, None)
            for y in history if y.invoke <= t]


def tiny_history(rng, n):
    ops, free = [], {}
    for _ in range(n):
        c = rng.choice("abc")
        start = max(free.get(c, 0), rng.randrange(6))
        end = None if rng.random() < 0.15 else start + rng.randrange(0, 4)
        if rng.random() < 0.5:
            result = "ok" if rng.random() < 0.9 else "timeout"
            ops.append(W(c, rng.choice([1, 2]), start, end, result))
        else:
            ops.append(R(c, rng.choice([None, 1, 2]), start, end))
        if end is None:
            free[c] = 99
        else:
            free[c] = end
    return ops


# ---- linearizability: hand-written histories -----------------------------------------------

def test_sequential_write_then_read_is_linearizable():
    """A read that begins after a write returned sees that write."""
    h = [W("a", 1, 0, 2), R("b", 1, 3, 4)]
    r = linearizable(h)
    assert r.ok and bool(r) and isinstance(r, Result)
    assert r.order == h
    assert str(r) == "linearizable: 2 operations ordered"


def test_stale_read_after_a_completed_write_is_not_linearizable():
    """Once a write has returned, a read that begins later may not return the older value."""
    h = [W("a", 1, 0, 2), W("a", 2, 3, 4), R("b", 1, 5, 6)]
    r = linearizable(h)
    assert not r.ok and not r
    assert r.culprit == h[2] and r.could_see == [2]
    assert r.prefix == h and r.order is None
    assert r.explanation == ("not linearizable: b read() [5..6] returned 1 but could only have "
                             "read 2 (no valid order for the 3 operations invoked up to t=6)")


def test_read_concurrent_with_a_write_may_see_old_or_new():
    """A read that overlaps a write may take effect before it or after it."""
    for seen in (0, 1):
        h = [W("a", 1, 0, 4), R("b", seen, 1, 3)]
        assert linearizable(h, initial=0).ok, seen
    assert not linearizable([W("a", 1, 0, 4), R("b", 7, 1, 3)], initial=0).ok


def test_overlapping_writes_can_go_in_either_order():
    """Two overlapping writes may take effect in either order; a later read sees the last of
    them, whichever that was, but never the value both overwrote."""
    for last in (1, 2):
        h = [W("a", 1, 0, 3), W("b", 2, 1, 4), R("c", last, 5, 6)]
        r = linearizable(h, initial=0)
        assert r.ok and r.order[-2].op == ("write", last) and valid_order(h, r.order, 0)
    r = linearizable([W("a", 1, 0, 3), W("b", 2, 1, 4), R("c", 0, 5, 6)], initial=0)
    assert not r.ok and r.could_see == [1, 2]


def test_reads_that_no_write_order_explains_are_not_linearizable():
    """Two concurrent writes take effect in one order for everyone: if one reader sees 1 then
    2 and another sees 2 then 1, no order of the writes explains both."""
    writes = [W("w1", 1, 0, 10), W("w2", 2, 0, 10)]
    c = [R("c", 1, 1, 2), R("c", 2, 3, 4)]
    d = [R("d", 2, 1, 2), R("d", 1, 3, 4)]
    assert linearizable(writes + c).ok and linearizable(writes + d).ok
    r = linearizable(writes + c + d)
    assert not r.ok
    assert r.culprit in (c[1], d[1]) and r.prefix == sorted(writes + c + d, key=lambda x: x.invoke)


def test_pending_write_whose_value_is_read_is_linearizable():
    """A write whose answer never came may have taken effect: a read may see it, and then the
    order includes it."""
    h = [W("a", 1, 0, 1), W("b", 2, 2, None), R("c", 2, 3, 4)]
    r = linearizable(h)
    assert r.ok and h[1] in r.order and valid_order(h, r.order)
    assert r.explanation == ("linearizable: 3 operations ordered; "
                             "1 of 1 unacknowledged writes took effect")


def test_pending_write_never_read_is_linearizable():
    """A write whose answer never came may also never have taken effect."""
    h = [W("a", 1, 0, 1), W("b", 2, 2, None), R("c", 1, 3, 4), R("c", 1, 5, 6)]
    r = linearizable(h)
    assert r.ok and h[1] not in r.order
    assert r.explanation.endswith("0 of 1 unacknowledged writes took effect")


def test_pending_write_takes_effect_at_most_once():
    """An unanswered write takes effect at one point: once a read has seen it and a later
    read has seen it overwritten, its value cannot come back."""
    h = [W("a", 1, 0, 1), W("b", 2, 2, None), R("c", 2, 3, 4), W("a", 3, 5, 6), R("c", 2, 7, 8)]
    r = linearizable(h)
    assert not r.ok and r.culprit == h[4] and r.could_see == [3]


def test_pending_write_cannot_take_effect_before_it_was_invoked():
    """An unanswered write takes effect after its invocation, never before."""
    h = [W("a", 1, 0, 1), R("c", 2, 2, 3), W("b", 2, 4, None)]
    r = linearizable(h)
    assert not r.ok and r.culprit == h[1]
    assert "a value nobody had written by then" in r.explanation


def test_failed_write_counts_as_possibly_applied():
    """A write answered with something other than "ok" (a timeout, an error) may or may not
    have taken effect; either way the history can be linearizable."""
    assert linearizable([W("a", 1, 0, 1, "timeout"), R("b", 1, 2, 3)]).ok
    assert linearizable([W("a", 1, 0, 1, "timeout"), R("b", None, 2, 3)]).ok


def test_unanswered_read_constrains_nothing():
    """A read whose answer never came tells us nothing, whatever its result field holds."""
    h = [W("a", 1, 0, 1), Operation("b", ("read",), 2, None, 99)]
    r = linearizable(h)
    assert r.ok and r.order == [h[0]]


def test_touching_intervals_are_ordered():
    """An operation that returned at t precedes one invoked at t: a client's next operation
    (or anyone's) starting the instant a write returned must see it."""
    assert not linearizable([W("a", 1, 0, 2), R("a", None, 2, 3)]).ok
    assert not linearizable([W("a", 1, 0, 2), R("b", None, 2, 3)]).ok
    assert linearizable([W("a", 1, 0, 2), R("b", None, 1.999, 3)]).ok


def test_zero_length_operations_at_the_same_instant_are_concurrent():
    """Two operations that both begin and end at the same instant do not precede each other."""
    assert linearizable([W("a", 1, 5, 5), R("b", None, 5, 5)]).ok
    assert linearizable([W("a", 1, 5, 5), R("b", 1, 5, 5)]).ok


def test_initial_value():
    """Before any write, a read returns the initial value (None unless given)."""
    h = [R("a", 0, 0, 1), W("a", 1, 2, 3), R("b", 1, 4, 5)]
    assert linearizable(h, initial=0).ok
    r = linearizable(h)
    assert not r.ok and r.culprit == h[0] and r.could_see == [None]


def test_empty_history_and_plain_tuples():
    """The empty history is linearizable; (client, op, invoke, response, result) tuples work
    as Operations do."""
    assert linearizable([]).ok and linearizable([]).order == []
    assert linearizable([("a", ("write", 1), 0, 1, "ok"), ("b", ("read",), 2, 3, 1)]).ok


def test_culprit_is_the_read_that_ends_the_shortest_failing_prefix():
    """The explanation names the read whose answer first makes the history impossible, and
    the prefix of operations invoked up to that answer; later damage is not reported."""
    h = [W("a", 1, 0, 1), R("b", 1, 2, 3), W("a", 2, 4, 5), R("b", 1, 6, 7), R("c", 9, 8, 9)]
    r = linearizable(h)
    assert r.culprit == h[3] and r.prefix == h[:4] and r.could_see == [2]


# ---- linearizability: cross-checked against the definition ---------------------------------

def test_agrees_with_brute_force_on_tiny_random_histories():
    """On hundreds of tiny random histories (overlaps, unanswered and failed writes, stale and
    impossible reads), the search agrees with enumerating every order; an order it returns is
    a linearization; the prefix it blames is the shortest that fails; the values it says the
    culprit could have read are exactly those that would have made that prefix linearizable."""
    rng = random.Random(7)
    seen = {True: 0, False: 0}
    for _ in range(400):
        h = tiny_history(rng, rng.randrange(1, 7))
        expect = brute(h)
        for memoise in (True, False):
            r = linearizable(h, memoise=memoise)
            assert r.ok == expect, (h, r)
        seen[expect] += 1
        if r.ok:
            assert valid_order(h, r.order)
            continue
        assert r.culprit.op[0] == "read"
        assert not brute(cut_after(h, r.culprit))
        mark = answered_before(h)
        earlier = [y for y in h if _must(y) and mark(y) < mark(r.culprit)]
        if earlier:
            assert brute(cut_after(h, max(earlier, key=mark)))
        for v in (None, 1, 2):
            fixed = [Operation(y.client, y.op, y.invoke, y.response, v) if y is r.culprit else y
                     for y in cut_after(h, r.culprit)]
            assert brute(fixed) == (v in r.could_see), (h, r, v)
    assert min(seen.values()) > 100


# ---- linearizability: random histories -----------------------------------------------------

def test_random_linearizable_histories_pass():
    """A history made by giving every operation a point inside its interval and playing the
    register in that order is linearizable (over many seeds, sizes, value ranges, lost
    answers), and the order found is a linearization."""
    for seed in range(150):
        rng = random.Random(seed)
        h = random_history(rng.randrange(1, 80), rng.randrange(1, 7), seed,
                           read_fraction=rng.random(), values=rng.choice([None, 2, 5]),
                           unanswered=rng.choice([0, 0.05, 0.2]))
        r = linearizable(h)
        assert r.ok, (seed, r)
        assert valid_order(h, r.order)


def test_200_operation_histories_pass_with_few_states():
    """With memoisation a 200-operation history from 5 clients takes a few hundred search
    states, not an exponential number (the bench measures the time)."""
    for seed in range(10):
        r = linearizable(random_history(200, 5, seed))
        assert r.ok and r.states < 1000


def test_one_stale_read_is_rejected_and_blamed():
    """Making one read of a linearizable history return a value overwritten before it began
    makes it non-linearizable, and that read is the culprit."""
    for seed in range(60):
        h = random_history(120, 5, seed)
        stale, op = with_stale_read(h, seed)
        r = linearizable(stale)
        assert not r.ok and r.culprit == op, seed
        assert op.result not in r.could_see and r.could_see
        assert r.prefix == sorted((x for x in stale if x.invoke <= op.response),
                                  key=lambda x: x.invoke)


def test_one_impossible_read_is_rejected_and_blamed():
    """A read that returns a value nobody wrote is rejected, and named."""
    for seed in range(60):
        h = random_history(100, 5, seed)
        reads = [i for i, x in enumerate(h) if x.op[0] == "read" and x.response is not None]
        i = random.Random(seed).choice(reads)
        x = h[i]
        h[i] = bad = Operation(x.client, x.op, x.invoke, x.response, "never written")
        r = linearizable(h)
        assert not r.ok and r.culprit == bad
        assert "returned 'never written', a value nobody had written by then" in r.explanation


# ---- key-value histories -------------------------------------------------------------------

def KW(client, key, value, invoke, response):
    return Operation(client, ("write", key, value), invoke, response, "ok")


def KR(client, key, value, invoke, response):
    return Operation(client, ("read", key), invoke, response, value)


def test_kv_checks_each_key_on_its_own():
    """Linearizability is compositional: each key is checked alone, and the per-key orders
    merge into one order that respects real time across keys."""
    h = [KW("a", "x", 1, 0, 2), KW("b", "y", 5, 1, 3), KR("c", "x", 1, 3, 4), KR("c", "y", 5, 4, 6),
         KW("a", "x", 2, 5, 7), KR("b", "y", 5, 6, 8), KR("b", "x", None, 0, 0.5)]
    r = linearizable_kv(h)
    assert r.ok and valid_order(h, r.order)
    assert r.explanation == "linearizable: 7 operations on 2 keys ordered"


def test_kv_stale_read_names_the_key():
    """A stale read on one key fails the history and the result says which key."""
    h = [KW("a", "x", 1, 0, 2), KW("a", "y", 1, 0, 2), KW("a", "x", 2, 3, 4),
         KR("b", "y", 1, 5, 6), KR("b", "x", 1, 7, 8)]
    r = linearizable_kv(h)
    assert not r.ok and r.key == "x" and r.culprit == h[4] and r.could_see == [2]
    assert r.explanation == ("key 'x': not linearizable: b read('x') [7..8] returned 1 but could "
                             "only have read 2 (no valid order for the 3 operations invoked up "
                             "to t=8)")


def test_kv_initial_values():
    """Keys start at the value given in ``initial`` (None when not given)."""
    h = [KR("a", "x", 0, 0, 1), KR("a", "y", None, 0, 1)]
    assert linearizable_kv(h, initial={"x": 0}).ok
    assert not linearizable_kv(h).ok


def test_random_kv_histories_pass_and_a_stale_read_fails():
    """Random key-value histories (linearizable by construction) pass with a valid merged
    order; one stale read makes them fail on that read's key."""
    for seed in range(30):
        h = random_history(150, 5, seed, keys=3, unanswered=0.02)
        r = linearizable_kv(h)
        assert r.ok and valid_order(h, r.order), seed
        stale, op = with_stale_read(h, seed)
        r = linearizable_kv(stale)
        assert not r.ok and r.culprit == op and r.key == op.op[1]


# ---- lost writes and divergence ------------------------------------------------------------

def test_lost_writes_are_acknowledged_writes_no_survivor_holds():
    """A write is lost when a client saw "ok" for it and no surviving log contains it; writes
    never acknowledged and reads are never reported."""
    h = [W("a", 1, 0, 1), W("a", 2, 2, 3), R("b", 2, 4, 5), W("a", 3, 6, 7),
         W("b", 4, 6, None), W("c", 5, 6, 8, "timeout")]
    logs = {"b1": [("write", 1)], "b2": [("write", 1), ("write", 2)]}
    assert lost_writes(h, logs) == [h[3]]
    assert lost_writes(h, {"b1": [("write", 1), ("write", 2), ("write", 3)]}) == []
    assert lost_writes(h, {}) == [h[0], h[1], h[3]]


def test_lost_writes_counts_repeated_writes():
    """The same write acknowledged twice is held twice only if one log holds it twice; the
    surplus is reported, the last acknowledged first."""
    h = [W("a", 1, 0, 1), W("b", 1, 2, 3), W("c", 1, 4, 5)]
    assert lost_writes(h, {"p": [("write", 1)], "q": [("write", 1), ("write", 1)]}) == [h[2]]
    assert lost_writes(h, {"p": [("write", 1)]}) == [h[1], h[2]]


def test_lost_writes_on_key_value_ops_and_frozen_logs():
    """Key-value writes are held by their exact (key, value) entry; logs taken from a
    trace's (frozen) state work as lists do."""
    h = [KW("a", "x", 1, 0, 1), KW("a", "y", 1, 2, 3)]
    assert lost_writes(h, {"b": freeze([("write", "x", 1), ("write", "y", 2)])}) == [h[1]]
    assert lost_writes(h, {"b": [["write", "x", 1], ["write", "y", 1]]}) == []


def test_async_primary_cut_off_loses_acknowledged_writes():
    """From a real run: without waiting for the replica, the server acknowledges writes whose
    Forward never arrives (the replica is cut off), so if only the replica survives they are
    lost; waiting for the replica acknowledges nothing it does not hold."""
    for wait, lost in ((False, 3), (True, 0)):
        sim = Simulation(forwarding_system(writes=3, wait_for_replica=wait), seed=1,
                         network=Network(Constant(1)), faults=[partition(["replica"], at=0)])
        sim.run(until=50)
        h = sim.trace.history()
        logs = {"replica": sim.node("replica").log}
        assert len(lost_writes(h, logs)) == lost
        assert linearizable(h).ok


def test_is_prefix():
    """A log is a prefix of another when the other starts with it; equal and empty logs count."""
    a, b = [("write", 1)], [("write", 1), ("write", 2)]
    assert is_prefix(a, b) and not is_prefix(b, a)
    assert is_prefix(b, b) and is_prefix([], a)
    assert not is_prefix([("write", 2)], b)


def test_diverged_reports_pairs_that_are_not_prefixes_and_where():
    """Replicas diverge when neither log is a prefix of the other; a replica that is merely
    behind does not; the index is the first position where they differ."""
    w1, w2, w3, w4 = (("write", i) for i in range(1, 5))
    logs = {"primary": [w1, w2, w4], "b1": [w1], "b2": [w1, w3], "b3": [w1, w2]}
    assert diverged(logs) == [("primary", "b2", 1), ("b2", "b3", 1)]
    assert diverged({"p": [w1, w2], "b": [w1, w2, w3], "c": []}) == []
    assert diverged({}) == []


# ---- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("history, message", [
    ({"a": 1}, "a history must be a list of Operation"),
    ("write 1", "a history must be a list of Operation"),
    ([("a", ("write", 1), 0)], r"history\[0\] is not an Operation"),
    ([Operation("a", ("cas", 1), 0, 1, "ok")], r"history\[0\]: an operation must be"),
    ([Operation("a", ("write",), 0, 1, "ok")], r"history\[0\]: an operation must be"),
    ([Operation("a", "write 1", 0, 1, "ok")], r"history\[0\]: an operation must be"),
    ([Operation("a", ("write", 1), 2, 1, "ok")], r"history\[0\]: response must be None"),
    ([Operation("a", ("write", 1), float("nan"), 1, "ok")], "invoke must be a finite number"),
    ([Operation("a", ("write", 1), None, 1, "ok")], "invoke must be a finite number"),
    ([Operation("a", ("write", [1]), 0, 1, "ok")], "values must be hashable"),
    ([Operation("a", ("write", "x", 1), 0, 1, "ok")], "use linearizable_kv"),
])
def test_bad_histories_raise_clear_errors(history, message):
    """Malformed histories raise a ValueError that says what is wrong and where."""
    with pytest.raises(ValueError, match=message):
        linearizable(history)


def test_other_bad_input_raises_clear_errors():
    """Bad logs, mixed forms, bad initial values and bad generator arguments raise ValueError."""
    with pytest.raises(ValueError, match="surviving_logs must map replica ids"):
        lost_writes([], [("write", 1)])
    with pytest.raises(ValueError, match="the log of 'b' must be a list"):
        lost_writes([], {"b": "write 1"})
    with pytest.raises(ValueError, match="logs must map replica ids"):
        diverged([[("write", 1)]])
    with pytest.raises(ValueError, match="is_prefix: a must be a list"):
        is_prefix("ab", [])
    with pytest.raises(ValueError, match="use linearizable\\(\\) for one register"):
        linearizable_kv([W("a", 1, 0, 1)])
    with pytest.raises(ValueError, match="initial must be a dict"):
        linearizable_kv([], initial=0)
    with pytest.raises(ValueError, match="values must be hashable"):
        linearizable([], initial=[])
    with pytest.raises(ValueError, match="keys must be hashable"):
        linearizable_kv([Operation("a", ("write", [1], 1), 0, 1, "ok")])
    for kwargs in (dict(ops=-1), dict(clients=0), dict(read_fraction=2), dict(values=0),
                   dict(keys=0), dict(duration=0)):
        with pytest.raises(ValueError):
            random_history(**kwargs)
    with pytest.raises(ValueError, match="no read in this history"):
        with_stale_read([W("a", 1, 0, 1), R("b", 1, 2, 3)])
