"""Proposal numbers (ballots): how proposers pick numbers that are unique and increasing.

Paxos needs every proposal number to be used by one proposer only, and a proposer whose
number was beaten must be able to pick a higher one.  A scheme answers one question:
"proposer ``i`` has seen ``seen`` (its own last number, or a higher one from a rejection);
what number does it use next?"  ``seen`` is None before it has seen any.

    ModN(n)     Chubby's scheme: proposer i (0 <= i < n) uses only numbers s with
                s mod n == i, the smallest such s above ``seen``.  With n = 3: proposer 0
                that has seen 1 moves to 3; proposer 2 that has seen 3 moves to 5.
    RoundId()   (round, id) pairs, compared round first: the smallest pair with this
                proposer's id above ``seen``.  Unique because the id is part of the number.
    Naive()     ``seen + 1``: increasing, but two proposers that saw the same number pick
                the same next one, and Paxos is unsafe with two different values under one
                number.  For the chapter on what goes wrong.
"""

from __future__ import annotations


class Ballots:
    """A scheme for proposal numbers (subclasses say how)."""

    name = "?"

    def next(self, seen, i: int):
        """The number proposer ``i`` uses after seeing ``seen`` (None: nothing yet)."""
        raise NotImplementedError

    def check_id(self, i) -> int:
        if isinstance(i, bool) or not isinstance(i, int) or i < 0:
            raise ValueError(f"a proposer id is a whole number >= 0, got {i!r}")
        return i

    def __repr__(self):
        return f"{type(self).__name__}()"


class ModN(Ballots):
    """Chubby's scheme: proposer i of n uses numbers s with s mod n == i."""

    name = "mod n"

    def __init__(self, n: int):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"ModN needs the number of proposers, a whole number >= 1; got {n!r}")
        self.n = n

    def next(self, seen, i: int) -> int:
        i = self.check_id(i)
        if i >= self.n:
            raise ValueError(f"proposer id {i} is out of range: with n = {self.n} the ids are "
                             f"0 to {self.n - 1}")
        s = (0 if seen is None else _whole(seen)) + 1
        return s + (i - s) % self.n       # the smallest s' >= s with s' mod n == i

    def __repr__(self):
        return f"ModN({self.n})"

    def __eq__(self, other):
        return isinstance(other, ModN) and other.n == self.n

    def __hash__(self):
        return hash(("ModN", self.n))


class RoundId(Ballots):
    """(round, id) pairs: round first, then the proposer's id breaks ties."""

    name = "(round, id)"

    def next(self, seen, i: int) -> tuple:
        i = self.check_id(i)
        if seen is None:
            return (1, i)
        if not (isinstance(seen, tuple) and len(seen) == 2):
            raise ValueError(f"RoundId numbers are (round, id) pairs; got {seen!r}")
        rnd, other = seen
        if not all(_natural(x) for x in seen):
            raise ValueError(f"RoundId numbers are (round, id) pairs of whole numbers >= 0; "
                             f"got {seen!r}")
        return (rnd, i) if i > other else (rnd + 1, i)

    def __eq__(self, other):
        return isinstance(other, RoundId)

    def __hash__(self):
        return hash("RoundId")


class Naive(Ballots):
    """Largest seen + 1, whoever asks: numbers collide."""

    name = "naive"

    def next(self, seen, i: int) -> int:
        self.check_id(i)
        return (0 if seen is None else _whole(seen)) + 1

    def __eq__(self, other):
        return isinstance(other, Naive)

    def __hash__(self):
        return hash("Naive")


def _natural(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _whole(seen):
    if isinstance(seen, bool) or not isinstance(seen, int):
        raise ValueError(f"this scheme's numbers are whole numbers; got {seen!r}")
    if seen < 0:
        raise ValueError(f"proposal numbers are never negative; got {seen!r}")
    return seen


SCHEMES = {"mod-n": ModN, "round-id": RoundId, "naive": Naive}


def scheme(spec, proposers: int) -> Ballots:
    """A Ballots object from a name ("mod-n", "round-id", "naive") or a Ballots object.

    A ModN object must have room for every proposer: ModN(n) serves ids 0 to n - 1."""
    if isinstance(spec, type) and issubclass(spec, Ballots):
        raise ValueError(f"ballots={spec.__name__} is a class; pass an object such as "
                         f"{'ModN(3)' if spec is ModN else spec.__name__ + '()'}")
    if isinstance(spec, ModN) and spec.n < proposers:
        raise ValueError(f"{spec!r} has proposer ids 0 to {spec.n - 1} only, but there are "
                         f"{proposers} proposers: use ModN({proposers}) or more")
    if isinstance(spec, Ballots):
        return spec
    if spec == "mod-n":
        return ModN(proposers)
    if spec in SCHEMES:
        return SCHEMES[spec]()
    raise ValueError(f"unknown ballot scheme {spec!r}; allowed: {', '.join(SCHEMES)} "
                     f"or a Ballots object such as ModN(3)")
