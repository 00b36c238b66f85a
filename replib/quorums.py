"""Quorums: which sets of nodes may act for all, and why they must intersect.

A protocol that waits for a quorum instead of every node keeps working while some nodes
are down; it stays safe only if any two quorums that must agree share a node, which
carries what the first one decided into the second.  Majorities of N intersect, since
two sets of more than N/2 nodes cannot be disjoint.  Paxos needs less: every phase-1
quorum (size q1) must meet every phase-2 quorum (size q2), that is q1 + q2 > N ("flexible
quorums", Howard et al. 2016).
"""

from __future__ import annotations

import math
from itertools import combinations

from .validate import names, whole_number


def majority(n: int) -> int:
    """The size of a majority of n nodes: n // 2 + 1."""
    whole_number("n", n, 1)
    return n // 2 + 1


def check_sizes(n: int, q1: int | None = None, q2: int | None = None) -> tuple:
    """(q1, q2) with None meaning a majority; a quorum larger than n is refused."""
    whole_number("the number of acceptors", n, 1)
    q1 = majority(n) if q1 is None else whole_number("q1 (the phase-1 quorum)", q1, 1, n)
    q2 = majority(n) if q2 is None else whole_number("q2 (the phase-2 quorum)", q2, 1, n)
    return q1, q2


def always_intersect(n: int, q1: int, q2: int) -> bool:
    """Does every set of q1 of n nodes share a node with every set of q2?  (q1 + q2 > n)"""
    q1, q2 = check_sizes(n, q1, q2)
    return q1 + q2 > n


#: more quorums than this would not be listed in seconds (C(24, 12) is 2.7 million)
MAX_QUORUMS = 100_000


def quorums(nodes, size: int, failed=()) -> list:
    """Every quorum of ``size`` nodes that avoids the ``failed`` ones, as sorted tuples."""
    nodes = list(names("nodes", nodes))
    if not nodes:
        raise ValueError("quorums of no nodes: give at least one node")
    whole_number("the quorum size", size, 1, len(nodes))
    failed = names("failed", failed, known=nodes)
    alive = [x for x in nodes if x not in failed]
    count = math.comb(len(alive), size)
    if count > MAX_QUORUMS:
        raise ValueError(f"{len(alive)} nodes have {count:,} quorums of {size}: too many to list "
                         f"(at most {MAX_QUORUMS:,}); give fewer nodes or another quorum size")
    return [tuple(q) for q in combinations(alive, size)]


def disjoint_pair(nodes, q1: int, q2: int):
    """A phase-1 quorum and a phase-2 quorum with no node in common, or None if there is
    none (then every pair intersects)."""
    nodes = names("nodes", nodes)
    check_sizes(len(nodes), q1, q2)
    if q1 + q2 > len(nodes):
        return None
    first = tuple(nodes[:q1])
    return first, tuple(nodes[q1:q1 + q2])
