"""Proposal numbers (replib.protocols.ballots): each scheme against its rule on many cases,
the worked examples of the module docstring, and the checks of bad input."""

import re

import pytest

from replib.protocols.ballots import Ballots, ModN, Naive, RoundId, scheme

SEEN = [None] + list(range(41))


# ---- ModN (Chubby's scheme) ----------------------------------------------------------------

@pytest.mark.parametrize("n", range(1, 7))
def test_mod_n_picks_the_smallest_own_number_above_seen(n):
    """ModN(n): proposer i uses only numbers s with s mod n == i, the smallest such s above
    ``seen`` (None: nothing seen, so above 0).  For every i < n and seen in None, 0..40 the
    result r is above seen, is i's (r % n == i), and r - n is not above seen (so no smaller
    number of i's would do)."""
    b = ModN(n)
    for i in range(n):
        for seen in SEEN:
            r = b.next(seen, i)
            low = 0 if seen is None else seen
            assert r > low and r % n == i and r - n <= low, (n, i, seen, r)
            assert isinstance(r, int) and not isinstance(r, bool)


def test_mod_n_numbers_of_different_proposers_never_collide():
    """Uniqueness: with ModN(4) the numbers proposers 0..3 can ever use are disjoint sets."""
    b = ModN(4)
    used = [{b.next(seen, i) for seen in SEEN} for i in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not used[i] & used[j]


def test_mod_n_worked_example():
    """The docstring's example with n = 3: proposer 0 having seen 1 moves to 3, proposer 2
    having seen 3 moves to 5; first numbers (nothing seen): proposer 1 -> 1, proposer 0 -> 3
    (0 is not a number: numbers start above 0), proposer 2 -> 2."""
    b = ModN(3)
    assert b.next(1, 0) == 3
    assert b.next(3, 2) == 5
    assert b.next(None, 1) == 1
    assert b.next(None, 0) == 3
    assert b.next(None, 2) == 2
    assert b.next(3, 0) == 6 and b.next(5, 0) == 6       # its own number is beaten too


def test_mod_n_with_one_proposer_counts_up():
    """ModN(1): the only proposer uses seen + 1 (1 when nothing was seen, as after 0)."""
    assert [ModN(1).next(s, 0) for s in SEEN] == [1] + list(range(1, 42))


def test_mod_n_equality_and_repr():
    """ModN objects compare by n (they are configuration); repr shows n."""
    assert ModN(3) == ModN(3) and ModN(3) != ModN(4) and ModN(3) != Naive()
    assert hash(ModN(3)) == hash(ModN(3))
    assert repr(ModN(3)) == "ModN(3)"


# ---- RoundId -----------------------------------------------------------------------------

def test_round_id_first_number_is_round_one():
    """RoundId: with nothing seen proposer i uses (1, i)."""
    b = RoundId()
    assert [b.next(None, i) for i in range(4)] == [(1, 0), (1, 1), (1, 2), (1, 3)]


def test_round_id_beats_seen_with_the_smallest_pair():
    """RoundId: the smallest (round, i) above seen (pairs compare round first, then id): the
    same round if i is above seen's id, else the next round."""
    b = RoundId()
    assert b.next((1, 0), 1) == (1, 1)        # same round, higher id
    assert b.next((1, 1), 1) == (2, 1)        # its own number: next round
    assert b.next((1, 2), 1) == (2, 1)        # a higher id: next round
    assert b.next((5, 3), 7) == (5, 7)
    for rnd in range(1, 6):
        for other in range(5):
            for i in range(5):
                r = b.next((rnd, other), i)
                assert r > (rnd, other) and r[1] == i
                assert r[0] in (rnd, rnd + 1)          # an earlier round would be below seen
                if r[0] == rnd + 1:                    # ... and (rnd, i) was not above seen
                    assert not (rnd, i) > (rnd, other)


def test_round_id_ties_are_broken_by_id():
    """Two proposers that saw the same pair pick different pairs: the id breaks the tie, so
    numbers are unique, and the higher id wins."""
    b = RoundId()
    p1, p2 = b.next((3, 1), 0), b.next((3, 1), 2)
    assert (p1, p2) == ((4, 0), (3, 2)) and p1 != p2 and p1 > p2


# ---- Naive -------------------------------------------------------------------------------

def test_naive_numbers_collide():
    """Naive: seen + 1, whoever asks: two proposers that saw 4 both pick 5; with nothing seen
    every proposer picks 1."""
    b = Naive()
    assert b.next(4, 0) == b.next(4, 1) == 5
    assert b.next(None, 0) == b.next(None, 3) == 1


# ---- choosing a scheme -------------------------------------------------------------------

def test_scheme_by_name_or_object():
    """scheme("mod-n", 3) is ModN(3) (n is the number of proposers); "round-id" and "naive"
    name the other two; a Ballots object is used as it is."""
    assert scheme("mod-n", 3) == ModN(3)
    assert scheme("mod-n", 1) == ModN(1)
    assert scheme("round-id", 3) == RoundId() and isinstance(scheme("round-id", 3), RoundId)
    assert scheme("naive", 2) == Naive() and isinstance(scheme("naive", 2), Naive)
    own = ModN(5)
    assert scheme(own, 2) is own
    assert isinstance(own, Ballots)


# ---- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, -1, True, 2.0, "3", None])
def test_mod_n_needs_a_whole_number_of_proposers(n):
    """ModN(n) refuses anything but a whole number >= 1 (True is not a number of proposers)."""
    with pytest.raises(ValueError, match=re.escape(
            f"ModN needs the number of proposers, a whole number >= 1; got {n!r}")):
        ModN(n)


@pytest.mark.parametrize("i", [-1, True, 1.0, "0", None])
def test_a_proposer_id_is_a_whole_number(i):
    """Every scheme refuses a proposer id that is not a whole number >= 0."""
    for b in (ModN(3), RoundId(), Naive()):
        with pytest.raises(ValueError, match=re.escape(
                f"a proposer id is a whole number >= 0, got {i!r}")):
            b.next(None, i)


def test_mod_n_proposer_id_out_of_range():
    """ModN(3) has proposers 0, 1, 2 only; the message says which ids exist."""
    for i in (3, 10):
        with pytest.raises(ValueError, match=re.escape(
                f"proposer id {i} is out of range: with n = 3 the ids are 0 to 2")):
            ModN(3).next(None, i)


def test_numbers_of_the_wrong_kind_are_refused():
    """A seen number of the wrong kind is refused with what the scheme uses."""
    with pytest.raises(ValueError, match="whole numbers; got 2.5"):
        ModN(2).next(2.5, 0)
    with pytest.raises(ValueError, match="whole numbers; got True"):
        Naive().next(True, 0)
    with pytest.raises(ValueError, match=re.escape("(round, id) pairs; got 3")):
        RoundId().next(3, 0)


@pytest.mark.parametrize("spec", ["mod_n", "paxos", "", None, 3])
def test_unknown_scheme_says_what_is_allowed(spec):
    """An unknown scheme name is refused with the names allowed."""
    with pytest.raises(ValueError, match=re.escape(
            f"unknown ballot scheme {spec!r}; allowed: mod-n, round-id, naive or a Ballots "
            f"object such as ModN(3)")):
        scheme(spec, 2)
