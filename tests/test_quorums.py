"""Quorums (replib.quorums): majority sizes, when phase-1 and phase-2 quorums must
intersect (q1 + q2 > n), the enumeration of quorums around failed nodes, the disjoint pair
that shows why the rule matters, and the checks of bad input."""

import re
from itertools import combinations
from math import comb

import pytest

from replib.quorums import always_intersect, check_sizes, disjoint_pair, majority, quorums


def test_majority_sizes():
    """A majority of n is n // 2 + 1: 1 of 1, 2 of 2 and 3, 3 of 4 and 5, 4 of 6 and 7;
    always more than half, and two majorities always share a node."""
    assert [majority(n) for n in range(1, 8)] == [1, 2, 2, 3, 3, 4, 4]
    for n in range(1, 8):
        assert 2 * majority(n) > n and 2 * (majority(n) - 1) <= n


def test_check_sizes_defaults_to_majorities():
    """check_sizes: None means a majority; given sizes are kept."""
    assert check_sizes(5) == (3, 3)
    assert check_sizes(5, 4, None) == (4, 3)
    assert check_sizes(4, 1, 4) == (1, 4)


@pytest.mark.parametrize("n", range(1, 7))
def test_always_intersect_is_q1_plus_q2_above_n(n):
    """always_intersect(n, q1, q2) holds exactly when q1 + q2 > n, and this agrees with
    brute force: every q1-subset of n nodes meets every q2-subset."""
    nodes = range(n)
    for q1 in range(1, n + 1):
        for q2 in range(1, n + 1):
            brute = all(set(a) & set(b) for a in combinations(nodes, q1)
                        for b in combinations(nodes, q2))
            assert always_intersect(n, q1, q2) == (q1 + q2 > n) == brute, (n, q1, q2)


def test_flexible_quorum_examples():
    """Flexible quorums (Howard et al.): with 4 acceptors, 3 + 2 intersect, 2 + 2 do not;
    with 5, phase 1 on 4 lets phase 2 use any 2; majorities always intersect."""
    assert always_intersect(4, 3, 2) and not always_intersect(4, 2, 2)
    assert always_intersect(5, 4, 2) and not always_intersect(5, 3, 2)
    assert all(always_intersect(n, majority(n), majority(n)) for n in range(1, 10))


@pytest.mark.parametrize("n", range(1, 7))
def test_quorums_enumerates_every_subset_of_the_size(n):
    """quorums(nodes, size): exactly C(n, size) distinct quorums, each a sorted tuple of
    `size` distinct nodes, in combinations order."""
    nodes = [f"a{i}" for i in range(1, n + 1)]
    for size in range(1, n + 1):
        qs = quorums(nodes, size)
        assert len(qs) == len(set(qs)) == comb(n, size)
        assert qs == [tuple(c) for c in combinations(nodes, size)]
        assert all(len(q) == size and list(q) == sorted(q) for q in qs)


def test_quorums_skip_failed_nodes():
    """With failed nodes only the alive ones form quorums: C(alive, size) of them, none with
    a failed node; with fewer alive than size there is none."""
    nodes = ["a1", "a2", "a3", "a4", "a5"]
    qs = quorums(nodes, 3, failed=["a2"])
    assert len(qs) == comb(4, 3) == 4
    assert qs == [("a1", "a3", "a4"), ("a1", "a3", "a5"), ("a1", "a4", "a5"),
                  ("a3", "a4", "a5")]
    assert quorums(nodes, 3, failed=("a1", "a2")) == [("a3", "a4", "a5")]
    assert quorums(nodes, 3, failed=("a1", "a2", "a3")) == []
    assert quorums(nodes, 2, failed=nodes) == []
    for failed in combinations(nodes, 2):
        qs = quorums(nodes, 2, failed=failed)
        assert len(qs) == comb(3, 2) and not any(set(q) & set(failed) for q in qs)


@pytest.mark.parametrize("n", range(1, 7))
def test_disjoint_pair_exactly_when_quorums_may_miss(n):
    """disjoint_pair returns a q1-quorum and a q2-quorum with no node in common exactly when
    q1 + q2 <= n (else None: every pair intersects)."""
    nodes = [f"a{i}" for i in range(1, n + 1)]
    for q1 in range(1, n + 1):
        for q2 in range(1, n + 1):
            pair = disjoint_pair(nodes, q1, q2)
            if q1 + q2 > n:
                assert pair is None
            else:
                first, second = pair
                assert len(first) == q1 and len(second) == q2
                assert set(first) <= set(nodes) and set(second) <= set(nodes)
                assert not set(first) & set(second)


def test_disjoint_pair_example():
    """4 acceptors with q1 = q2 = 2: a1, a2 could promise while a3, a4 accept."""
    assert disjoint_pair(["a1", "a2", "a3", "a4"], 2, 2) == (("a1", "a2"), ("a3", "a4"))
    assert disjoint_pair(["a1", "a2", "a3"], 2, 2) is None


# ---- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: majority(0), "n must be a whole number >= 1, got 0"),
    (lambda: majority(True), "n must be a whole number >= 1, got True"),
    (lambda: check_sizes(0), "the number of acceptors must be a whole number >= 1, got 0"),
    (lambda: check_sizes(3, 4), "q1 (the phase-1 quorum) must be a whole number from 1 to 3, got 4"),
    (lambda: check_sizes(3, None, 0),
     "q2 (the phase-2 quorum) must be a whole number from 1 to 3, got 0"),
    (lambda: always_intersect(0, 1, 1),
     "the number of acceptors must be a whole number >= 1, got 0"),
    (lambda: always_intersect(3, 2, 4),
     "q2 (the phase-2 quorum) must be a whole number from 1 to 3, got 4"),
    (lambda: quorums(["a1", "a2"], 3), "the quorum size must be a whole number from 1 to 2, got 3"),
    (lambda: quorums(["a1", "a2"], 0), "the quorum size must be a whole number from 1 to 2, got 0"),
    (lambda: quorums([], 1), "quorums of no nodes: give at least one node"),
    (lambda: quorums(["a1", "a2"], 1, failed=["a9"]),
     "failed names unknown node(s) ['a9']; nodes are ['a1', 'a2']"),
    (lambda: disjoint_pair(["a1", "a2"], 3, 1),
     "q1 (the phase-1 quorum) must be a whole number from 1 to 2, got 3"),
    (lambda: disjoint_pair([], 1, 1), "the number of acceptors must be a whole number >= 1, got 0"),
])
def test_bad_input_says_what_is_allowed(call, message):
    """A quorum larger than n (or below 1), zero acceptors, an unknown failed node: each is
    refused with a ValueError that says what is allowed."""
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
