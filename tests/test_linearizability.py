"""Linearizability of compare-and-set registers, with Jepsen's outcomes: ok, fail, info.

Each test's docstring states the rule it checks.  Times in hand-written histories are small
integers; an operation that returned at t precedes one invoked at t.  The reference for the
random tests is ``brute``: every order of the operations that respects real time, with each
indeterminate operation placed or left out, checked one step at a time.
"""

import random

import pytest

from helpers import CAS, R, W
from replib import history
from replib.history import (FAIL, OK, linearizable, linearizable_kv, random_history,
                            with_stale_read)
from replib.trace import Operation

INF = float("inf")


# ---- the definition, by enumeration ---------------------------------------------------------

def role(x):
    """How the rules treat x: "must" (answered: placed exactly once), "maybe" (indeterminate:
    placed at most once) or "never" (a failed or unanswered read, a failed write)."""
    kind, answered = x.op[0], x.response is not None
    if kind == "read":
        return "must" if answered and x.result != FAIL else "never"
    if answered and x.result == FAIL:
        return "must" if kind == "cas" else "never"
    return "must" if answered and x.result == OK else "maybe"


def apply(x, value, probe=False):
    """The register's value after x takes effect on ``value``, or None if x cannot take
    effect now.  A probe sees anything; a cas probe succeeds exactly when it finds its
    expected value."""
    kind = x.op[0]
    if kind == "write":
        return (x.op[-1],)
    if kind == "read":
        return (value,) if probe or x.result == value else None
    expected, new = x.op[-2:]
    if probe or role(x) == "maybe":
        return (new,) if value == expected else (value,)
    if x.result == OK:
        return (new,) if value == expected else None
    return (value,) if value != expected else None


def precedes(a, b):
    end = a.response if role(a) == "must" else INF
    return end <= b.invoke and a.invoke < b.invoke


def orders(h, initial=None, probe=None):
    """Every valid order, as (order, the value the probe found), one step at a time."""
    must = [x for x in h if role(x) == "must" or x is probe]
    maybe = [x for x in h if role(x) == "maybe" and x is not probe]

    def extend(order, placed, value, seen):
        if all(id(x) in placed for x in must):
            yield list(order), seen
            return
        for x in must + maybe:
            if id(x) in placed or any(precedes(y, x) and id(y) not in placed for y in must):
                continue
            after = apply(x, value, x is probe)
            if after is None:
                continue
            placed.add(id(x))
            order.append(x)
            yield from extend(order, placed, after[0], value if x is probe else seen)
            order.pop()
            placed.discard(id(x))

    yield from extend([], set(), initial, None)


def brute(h, initial=None):
    return next(orders(h, initial), None) is not None


def brute_could_see(h, culprit, initial=None):
    return {seen for _, seen in orders(h, initial, probe=culprit)}


def valid_order(h, order, initial=None):
    """Is ``order`` one of the orders the rules allow?"""
    ids = [id(x) for x in order]
    if len(set(ids)) != len(ids) or not set(ids) <= {id(x) for x in h}:
        return False
    if any(role(x) == "must" and id(x) not in ids for x in h):
        return False
    if any(role(x) == "never" for x in order):
        return False
    if any(precedes(b, a) for i, a in enumerate(order) for b in order[i + 1:]):
        return False
    value = initial
    for x in order:
        after = apply(x, value)
        if after is None:
            return False
        value = after[0]
    return True


def is_answer(y):
    """An answer that can break a history: a read's value, an ok or failed write or cas."""
    return role(y) == "must" or (y.op[0] == "write" and y.response is not None
                                 and y.result == FAIL)


def mark(h):
    """The order answers count in: by time; at the same instant successful writes first,
    then in history order."""
    pos = {id(y): n for n, y in enumerate(h)}
    return lambda y: (y.response, (y.op[0], y.result) != ("write", OK), pos[id(y)])


def cut_after(h, x):
    """The history as it stood when answer x came: operations invoked by then, answers that
    came later (or at the same instant but count later) lost."""
    m = mark(h)
    return [y if is_answer(y) and m(y) <= m(x)
            else Operation(y.client, y.op, y.invoke, None, None)
            for y in h if y.invoke <= x.response]


def tiny_history(rng, n):
    ops, free = [], {}
    values = [None, 1, 2]
    for _ in range(n):
        c = rng.choice("abc")
        start = max(free.get(c, 0), rng.randrange(6))
        end = None if rng.random() < 0.15 else start + rng.randrange(0, 4)
        kind = rng.random()
        if kind < 0.35:
            ops.append(R(c, FAIL if rng.random() < 0.05 else rng.choice(values), start, end))
        else:
            result = rng.choices([OK, FAIL, "timeout"], [0.75, 0.15, 0.1])[0]
            if kind < 0.65:
                ops.append(W(c, rng.choice([1, 2]), start, end, result))
            else:
                ops.append(CAS(c, rng.choice(values), rng.choice([1, 2]), start, end, result))
        free[c] = 99 if end is None else end
    return ops


# ---- compare-and-set: hand-derived histories ---------------------------------------------------

def test_successful_cas_takes_effect_when_the_value_equals_expected():
    """A cas that returned ok found its expected value and left its new one: a later read
    sees the new value."""
    h = [W("a", 1, 0, 1), CAS("b", 1, 2, 2, 3), R("c", 2, 4, 5)]
    r = linearizable(h)
    assert r.ok and r.order == h
    assert r.explanation == "linearizable: 3 operations ordered"
    assert not linearizable([W("a", 1, 0, 1), CAS("b", 1, 2, 2, 3), R("c", 1, 4, 5)]).ok


def test_successful_cas_of_an_overwritten_value_is_blamed():
    """A cas cannot succeed on a value overwritten before it began: it could only have
    found the newer value (and then it would have failed)."""
    h = [W("a", 1, 0, 1), W("a", 2, 2, 3), CAS("b", 1, 5, 4, 5)]
    r = linearizable(h)
    assert not r.ok and r.culprit == h[2] and r.could_see == [2] and r.prefix == h
    assert r.explanation == ("not linearizable: b cas(1, 5) [4..5] succeeded but could only "
                             "have found 2 (no valid order for the 3 operations invoked up "
                             "to t=5)")


def test_successful_cas_of_a_value_never_written_is_blamed():
    """A cas cannot find a value nobody wrote."""
    h = [W("a", 1, 0, 1), CAS("b", 7, 5, 2, 3)]
    r = linearizable(h)
    assert not r.ok and r.culprit == h[1] and r.could_see == [1]
    assert "succeeded, so it found 7, a value nobody had written by then" in r.explanation


def test_two_concurrent_cas_from_the_same_value_cannot_both_succeed():
    """Two cas expecting the same value take effect one after the other: the second finds
    the first one's new value, so only one of them can succeed."""
    both = [W("a", 0, 0, 1), CAS("b", 0, 1, 2, 5), CAS("c", 0, 2, 2, 5)]
    r = linearizable(both)
    assert not r.ok and r.culprit == both[2] and r.could_see == [1]
    one = both[:2] + [CAS("c", 0, 2, 2, 5, FAIL)]
    assert linearizable(one).ok


def test_failed_cas_found_something_else():
    """A failed cas is a definite answer (Porcupine's reading of Jepsen's etcd histories):
    it took effect when the register held something other than its expected value.  One
    that can only have found its expected value is blamed."""
    h = [W("a", 1, 0, 1), CAS("b", 1, 2, 2, 3, FAIL)]
    r = linearizable(h)
    assert not r.ok and r.culprit == h[1] and r.could_see == [1]
    assert r.explanation == ("not linearizable: b cas(1, 2) [2..3] failed but could only have "
                             "found 1 (no valid order for the 2 operations invoked up to t=3)")


def test_failed_cas_changes_nothing():
    """A failed cas leaves the value as it was."""
    h = [W("a", 1, 0, 1), CAS("b", 2, 3, 2, 3, FAIL), R("c", 1, 4, 5)]
    assert linearizable(h).ok
    r = linearizable(h[:2] + [R("c", 3, 4, 5)])
    assert not r.ok and r.could_see == [1]


def test_failed_cas_concurrent_with_a_write_may_go_before_it():
    """A failed cas that overlaps the write of its expected value may take effect before
    that write, when the register still held something else."""
    h = [W("a", 1, 0, 4), CAS("b", 1, 2, 1, 2, FAIL)]
    r = linearizable(h, initial=0)
    assert r.ok and r.order == [h[1], h[0]]


def test_cas_expecting_its_own_new_value_is_a_read():
    """cas(a, a) that succeeded only says the register held a."""
    assert linearizable([W("a", 1, 0, 1), CAS("b", 1, 1, 2, 3), R("c", 1, 4, 5)]).ok
    assert not linearizable([W("a", 1, 0, 1), CAS("b", 2, 2, 2, 3)]).ok


def test_indeterminate_cas_may_take_effect():
    """A cas whose answer never came (Jepsen's :info) may have taken effect after its
    invocation, when the register held its expected value; the order then includes it."""
    h = [W("a", 1, 0, 1), CAS("b", 1, 2, 2, None), R("c", 2, 3, 4)]
    r = linearizable(h)
    assert r.ok and h[1] in r.order and valid_order(h, r.order)
    assert r.explanation == ("linearizable: 3 operations ordered; "
                             "1 of 1 unacknowledged cas operations took effect")


def test_indeterminate_cas_may_never_take_effect():
    """An indeterminate cas may also never have taken effect."""
    h = [W("a", 1, 0, 1), CAS("b", 1, 2, 2, None), R("c", 1, 3, 4)]
    r = linearizable(h)
    assert r.ok and h[1] not in r.order
    assert r.explanation.endswith("0 of 1 unacknowledged cas operations took effect")


def test_indeterminate_cas_needs_its_expected_value():
    """An indeterminate cas sets its new value only if it found its expected one."""
    h = [W("a", 1, 0, 1), CAS("b", 5, 2, 2, None), R("c", 2, 3, 4)]
    r = linearizable(h)
    assert not r.ok and r.culprit == h[2] and r.could_see == [1]


def test_indeterminate_cas_cannot_take_effect_before_it_was_invoked():
    """An indeterminate cas takes effect after its invocation, never before."""
    h = [W("a", 1, 0, 1), R("c", 2, 2, 3), CAS("b", 1, 2, 4, None)]
    r = linearizable(h)
    assert not r.ok and r.culprit == h[1]
    assert "a value nobody had written by then" in r.explanation


def test_indeterminate_cas_takes_effect_at_most_once():
    """Once an indeterminate cas has been seen and then overwritten, its value cannot come
    back."""
    h = [W("a", 1, 0, 1), CAS("b", 1, 2, 2, None), R("c", 2, 3, 4), W("a", 1, 5, 6),
         R("c", 2, 7, 8)]
    r = linearizable(h)
    assert not r.ok and r.culprit == h[4] and r.could_see == [1]


def test_cas_answered_neither_ok_nor_fail_is_indeterminate():
    """A cas answered with an error or a timeout may or may not have taken effect."""
    for seen in (1, 2):
        h = [W("a", 1, 0, 1), CAS("b", 1, 2, 2, 3, "timeout"), R("c", seen, 4, 5)]
        assert linearizable(h).ok, seen


def test_failed_write_did_not_take_effect():
    """A write answered "fail" (Jepsen's :fail) did not take effect: nobody may read it."""
    h = [W("a", 1, 0, 1), W("a", 2, 2, 3, FAIL), R("c", 2, 4, 5)]
    r = linearizable(h)
    assert not r.ok and r.culprit == h[2] and r.could_see == [1]
    assert linearizable(h[:2] + [R("c", 1, 4, 5)]).ok


def test_a_failed_write_whose_effect_was_read_is_blamed():
    """Before its answer a write might have taken effect; a read that saw it, answered
    first, is fine until the write's answer says "fail": that answer breaks the history."""
    h = [W("a", 2, 0, 5, FAIL), R("b", 2, 1, 2)]
    r = linearizable(h)
    assert not r.ok and r.culprit == h[0] and r.could_see is None
    assert r.explanation == ("not linearizable: a write(2) [0..5] failed, but every order of "
                             "what came before needs it to have taken effect (no valid order "
                             "for the 2 operations invoked up to t=5)")


def test_failed_or_unanswered_read_constrains_nothing():
    """A read answered "fail", or never answered, tells us nothing."""
    h = [W("a", 1, 0, 1), R("b", FAIL, 2, 3), R("c", None, 4, None)]
    r = linearizable(h)
    assert r.ok and r.order == [h[0]]


def test_cas_on_a_key_value_store_is_checked_key_by_key():
    """("cas", key, expected, new) acts on its key's register alone."""
    h = [Operation("a", ("write", "x", 1), 0, 1, OK), Operation("a", ("write", "y", 5), 0, 1, OK),
         Operation("b", ("cas", "x", 1, 2), 2, 3, OK), Operation("c", ("cas", "y", 1, 2), 2, 3,
                                                                 FAIL),
         Operation("c", ("read", "x"), 4, 5, 2), Operation("c", ("read", "y"), 4, 5, 5)]
    r = linearizable_kv(h)
    assert r.ok and r.explanation == "linearizable: 6 operations on 2 keys ordered"
    bad = h[:5] + [Operation("c", ("read", "y"), 4, 5, 2)]
    r = linearizable_kv(bad)
    assert not r.ok and r.key == "y" and r.culprit == bad[5] and r.could_see == [5]
    assert r.explanation.startswith("key 'y': not linearizable: c read('y') [4..5] returned 2")


def test_cas_mixed_with_one_register_forms_only():
    """A register history may not mix in key-value operations, and malformed cas are named."""
    with pytest.raises(ValueError, match="use linearizable_kv"):
        linearizable([Operation("a", ("cas", "x", 1, 2), 0, 1, OK)])
    with pytest.raises(ValueError, match=r"history\[0\]: an operation must be .*cas"):
        linearizable([Operation("a", ("cas", 1, 2, 3, 4, 5), 0, 1, OK)])
    with pytest.raises(ValueError, match="values must be hashable"):
        linearizable([Operation("a", ("cas", [1], 2), 0, 1, OK)])


# ---- explanations ------------------------------------------------------------------------------

def test_an_unfinished_explanation_says_unknown(monkeypatch):
    """When working out what the culprit could have read stops at its budget of states,
    the explanation says so ("unknown: the search stopped at N states") instead of claiming
    that no valid order lets it read its value, and ``could_see`` is None.  Here the culprit
    could have read 4, 3 or 2, so that claim would be false."""
    h = [W("a", 1, 0, 1), W("b", 4, 2, 10), W("c", 3, 2.5, 10), W("d", 2, 3, 4),
         R("e", 1, 5, 6)]                # 1 was overwritten by 2 before the read began
    full = linearizable(h)
    assert not full.ok and full.culprit == h[4] and full.could_see == [4, 3, 2]
    monkeypatch.setattr(history, "_EXPLAIN_BUDGET", 3)
    r = linearizable(h)
    assert not r.ok and r.culprit == h[4] and r.could_see is None
    assert r.explanation == ("not linearizable: e read() [5..6] returned 1; what it could "
                             "have read is unknown: the search stopped at 3 states (no valid "
                             "order for the 5 operations invoked up to t=6)")
    assert "no valid order lets it read" not in r.explanation


# ---- random histories --------------------------------------------------------------------------

def test_random_cas_histories_from_a_linearizable_register_pass():
    """A history made by giving every operation (read, write, cas, some answers lost) a
    point inside its interval and playing the register in that order is linearizable, and
    the order found is a valid one."""
    for seed in range(80):
        rng = random.Random(seed)
        h = random_history(rng.randrange(1, 100), rng.randrange(1, 6), seed,
                           read_fraction=rng.uniform(0.2, 0.6), cas_fraction=rng.uniform(0, 0.4),
                           values=rng.choice([None, 3, 5]), unanswered=rng.choice([0, 0.05, 0.1]))
        r = linearizable(h)
        assert r.ok, (seed, r)
        assert valid_order(h, r.order)


def test_random_cas_histories_count_their_outcomes():
    """The generator gives cas both outcomes and loses answers as asked: a client whose
    answer was lost is replaced by a new one, as Jepsen gives it a new process."""
    h = random_history(300, 5, 1, cas_fraction=0.4, values=4, unanswered=0.05)
    results = {x.result for x in h if x.op[0] == "cas"}
    assert {OK, FAIL, None} <= results
    lost = [x for x in h if x.response is None]
    assert lost and len({x.client for x in h}) == 5 + len(lost)
    assert all(not any(y.client == x.client and y.invoke > x.invoke for y in h) for x in lost)


def test_random_cas_histories_with_a_stale_read_fail_on_that_read():
    """One read made to return a value overwritten before it began (by writes or successful
    cas) makes the history fail, on that read."""
    for seed in range(40):
        h = random_history(100, 5, seed, cas_fraction=0.3, unanswered=0.05)
        stale, op = with_stale_read(h, seed)
        r = linearizable(stale)
        assert not r.ok and r.culprit == op, seed
        assert op.result not in r.could_see and r.could_see


def test_random_kv_cas_histories_pass_and_a_stale_read_fails_on_its_key():
    """Key by key: cas histories on three keys pass; one stale read fails on its key."""
    for seed in range(20):
        h = random_history(120, 5, seed, keys=3, cas_fraction=0.3, unanswered=0.03)
        assert linearizable_kv(h).ok, seed
        stale, op = with_stale_read(h, seed)
        r = linearizable_kv(stale)
        assert not r.ok and r.culprit == op and r.key == op.op[1]


def test_agrees_with_brute_force_on_thousands_of_tiny_histories():
    """On 3,000 tiny random histories (reads, writes and cas; ok, fail, timeout and lost
    answers; overlaps), the search agrees with enumerating every order, memo on or off; an
    order it returns is valid; the prefix it blames is the shortest that fails; the values
    it says the culprit could have seen are exactly those it finds in some valid order of
    that prefix."""
    rng = random.Random(16)
    seen = {True: 0, False: 0}
    blamed = set()
    for _ in range(3000):
        h = tiny_history(rng, rng.randrange(1, 7))
        expect = brute(h)
        seen[expect] += 1
        r = linearizable(h)
        assert r.ok == expect, (h, r)
        assert linearizable(h, memoise=False).ok == expect, h
        if r.ok:
            assert valid_order(h, r.order), (h, r)
            continue
        culprit = r.culprit
        blamed.add((culprit.op[0], culprit.result if culprit.op[0] != "read" else "value"))
        prefix = cut_after(h, culprit)
        assert not brute(prefix), (h, r)
        m = mark(h)
        earlier = [y for y in h if is_answer(y) and m(y) < m(culprit)]
        if earlier:
            assert brute(cut_after(h, max(earlier, key=m))), (h, r)
        if culprit.op[0] == "write":
            assert r.could_see is None
        else:
            prefix_culprit = next(y for y in prefix if y == culprit)
            assert set(r.could_see) == brute_could_see(prefix, prefix_culprit), (h, r)
            assert len(r.could_see) == len(set(r.could_see))
    assert min(seen.values()) > 800
    assert blamed == {("read", "value"), ("cas", OK), ("cas", FAIL), ("write", FAIL)}
