"""The checker on models it cannot finish, or that break its contract (issue 18).

``explore``, ``check`` and ``can_still_reach`` stop an infinite model (Paxos with unbounded
ballots, say) at a default state limit, or at a time limit, and say what to bound; a model
whose ``init_states()`` or ``successors()`` do not keep the contract gets a ValueError that
explains it, not a TypeError from inside the search.

The default is ``check.DEFAULT_MAX_STATES``, read at call time (these tests lower it);
``math.inf`` means no limit.  Every call is guarded by a time limit, so none can hang the
suite.
"""

import pytest

from replib import check as checker
from replib.actions import Controls
from replib.check import can_still_reach, check, explore
from replib.protocols.paxos import paxos_system, value_chosen

from replib.exercises.core import time_limit

LIMIT = 3000           # a small default for these tests: an infinite model reaches it at once
SECONDS = 60           # far more than LIMIT states take


def unbounded_paxos():
    """Two proposers that never run out of ballots: no end to the states."""
    return paxos_system(max_ballots=None, learners=0)


def test_the_default_state_limit_is_a_number_a_laptop_can_hold():
    assert 10_000 <= checker.DEFAULT_MAX_STATES <= 5_000_000


def test_check_stops_an_infinite_model_at_the_default_limit_and_says_what_to_bound(monkeypatch):
    """check(paxos_system(max_ballots=None), Controls(duplicate=True)): issue 18's hang."""
    monkeypatch.setattr(checker, "DEFAULT_MAX_STATES", LIMIT)
    with time_limit(SECONDS):
        result = check(unbounded_paxos(), Controls(duplicate=True), progress=False)
    assert not result.complete and result.states == LIMIT
    assert "state limit (3,000 states)" in result.note and "incomplete" in result.note
    assert "max_ballots" in result.note          # what to bound
    assert "max_states" in result.note           # or how to look further


def test_a_lossy_model_at_the_limit_is_told_to_duplicate_instead(monkeypatch):
    """drop=True multiplies the states; duplicate=True covers loss with fewer."""
    monkeypatch.setattr(checker, "DEFAULT_MAX_STATES", LIMIT)
    with time_limit(SECONDS):
        result = check(unbounded_paxos(), Controls(drop=True), progress=False)
    assert not result.complete
    assert "duplicate=True" in result.note and "drop=True" in result.note


def test_explore_and_can_still_reach_have_the_default_limit_too(monkeypatch):
    from replib.check import NodeModel
    monkeypatch.setattr(checker, "DEFAULT_MAX_STATES", LIMIT)
    with time_limit(SECONDS):
        explored = explore(NodeModel(unbounded_paxos(), Controls(duplicate=True)),
                           progress=False)
        reach = can_still_reach(NodeModel(unbounded_paxos(), Controls(duplicate=True)),
                                value_chosen, progress=False)
    assert not explored.complete and "state limit (3,000 states)" in explored.note
    assert not reach.complete and "state limit (3,000 states)" in reach.note


def test_a_time_limit_stops_the_search_cleanly(monkeypatch):
    """max_seconds (what a notebook passes) stops the search and says so."""
    monkeypatch.setattr(checker, "DEFAULT_MAX_STATES", 10**9)
    with time_limit(SECONDS):
        result = check(unbounded_paxos(), Controls(duplicate=True), progress=False,
                       max_seconds=1)
    assert not result.complete
    assert "time limit (1 s)" in result.note and "max_seconds" in result.note


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "10", True])
def test_max_seconds_must_be_a_finite_time(bad):
    with time_limit(SECONDS), pytest.raises(ValueError, match="max_seconds must be"):
        check(paxos_system(), Controls(duplicate=True), progress=False, max_seconds=bad)


class Model:
    """A transition system that breaks the contract in one way."""

    def __init__(self, init, successors):
        self._init, self._successors = init, successors

    def init_states(self):
        return self._init()

    def successors(self, state):
        return self._successors(state)


@pytest.mark.parametrize("model, says", [
    (Model(lambda: None, lambda s: []), r"init_states\(\) must return"),
    (Model(lambda: [0], lambda s: [s + 1] if s < 3 else []),
     r"successors\(state\) must yield \(action, next state\) pairs"),
    (Model(lambda: [[0]], lambda s: []), r"states must be hashable"),
])
def test_a_model_that_breaks_the_contract_is_told_what_the_contract_is(model, says):
    with time_limit(SECONDS), pytest.raises(ValueError, match=says):
        explore(model, progress=False)


def test_math_inf_lifts_the_limit_and_a_chosen_limit_gets_a_short_note(monkeypatch):
    """The default stops a bounded model too; math.inf lets it finish; a limit the caller
    chose is not explained back to them."""
    monkeypatch.setattr(checker, "DEFAULT_MAX_STATES", 50)
    one_proposer = lambda: paxos_system(proposers=1, learners=0)     # 2,435 states in all
    with time_limit(SECONDS):
        capped = check(one_proposer(), Controls(duplicate=True), progress=False)
        full = check(one_proposer(), Controls(duplicate=True), progress=False,
                     max_states=float("inf"))
        chosen = check(one_proposer(), Controls(duplicate=True), progress=False, max_states=50)
    assert not capped.complete and capped.states == 50 and "max_states" in capped.note
    assert full.complete and full.states == 2_435
    assert chosen.note == "stopped at the state limit (50 states): incomplete"


def test_the_covering_search_has_the_limits_too(monkeypatch):
    from replib.protocols.paxos import check_paxos
    monkeypatch.setattr(checker, "DEFAULT_MAX_STATES", 200)
    with time_limit(SECONDS):
        capped = check_paxos(2, 2, 1, reduce=True, progress=False)
        timed = check_paxos(2, 2, 1, reduce=True, progress=False, max_states=float("inf"),
                            max_seconds=0.5)
    assert not capped.complete and "state limit (200 states)" in capped.note
    assert not timed.complete and "time limit (0.5 s)" in timed.note
