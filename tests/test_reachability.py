"""can_still_reach ("stuck for now" or "stuck for good") on hand-made models, and the
synchronous timer mode, Controls(timers="synchronous"), in Controls.enabled, in a
controlled Simulation and in the checker."""

import re
from dataclasses import dataclass

import pytest
from helpers import Ping

from replib import Controls, Crash, Deliver, Drop, Fire, Node, Restart, Simulation
from replib.check import NodeModel, can_still_reach, check
from replib.protocols.threepc import threepc_system


class Trap:
    """States 0..6.  0 -> 1 -> 2 -> 3 -> 0 is a loop through the target 3; from 1 a jump
    leads to 5, and 5 <-> 6 is a loop the target cannot be reached from (4 is unreachable).

        0 --inc--> 1 --inc--> 2 --inc--> 3 --reset--> 0
                   |
                   +--jump--> 5 <--step--> 6
    """

    def init_states(self):
        return [0]

    def successors(self, state):
        return {0: [("inc", 1)], 1: [("inc", 2), ("jump", 5)], 2: [("inc", 3)],
                3: [("reset", 0)], 5: [("step", 6)], 6: [("step", 5)]}[state]


def three(s):
    return s == 3


def even(s):
    return s % 2 == 0


def test_stuck_states_and_the_shortest_path_to_one():
    """6 reachable states (0, 1, 2, 3, 5, 6), 7 transitions.  3 can be reached from 0, 1, 2
    and 3 (the loop), never from 5 or 6: 2 stuck states; the shortest path to one is
    inc, jump (2 steps), ending in 5."""
    r = can_still_reach(Trap(), three, progress=False)
    assert (r.states, r.transitions, r.matching, r.stuck) == (6, 7, 6, [5, 6])
    assert r.path.actions == ["inc", "jump"] and r.path.states == [0, 1, 5]
    assert r.complete and not r.ok
    assert (r.target, r.where) == ("three", "any state")
    assert r.summary() == (
        "6 states, 7 transitions: explored every reachable state\n"
        "6 states where any state; from 2 of them 'three' can never be reached "
        "(shortest path to one: 2 steps)")
    assert str(r) == r.summary()


def test_where_limits_the_states_asked_about():
    """where=even: the even states 0, 2, 6 are asked about; only 6 is stuck, and the shortest
    path to it is inc, jump, step (3 steps)."""
    r = can_still_reach(Trap(), {"at three": three}, where=even, progress=False)
    assert (r.matching, r.stuck) == (3, [6])
    assert r.path.actions == ["inc", "jump", "step"]
    assert r.summary().splitlines()[1] == (
        "3 states where 'even' holds; from 1 of them 'at three' can never be reached "
        "(shortest path to one: 3 steps)")


def test_a_target_reachable_from_everywhere():
    """The target "3 or 5" can be reached from every state asked about (0, 1, 2): nothing
    is stuck, there is no path, and the answer is ok.  Lambdas get default names."""
    r = can_still_reach(Trap(), lambda s: s in (3, 5), where=lambda s: s < 3, progress=False)
    assert r.ok and r.stuck == [] and r.path is None and r.matching == 3
    assert (r.target, r.where) == ("the target", "'the condition' holds")
    assert r.summary().splitlines()[1] == (
        "3 states where 'the condition' holds; from every one of them 'the target' can "
        "still be reached")


def test_a_target_that_holds_nowhere_leaves_every_state_stuck():
    """No state is the target: every reachable state is stuck, listed in breadth-first
    order (nearest first: 5 is 2 steps away, 3 is 3), the initial one first, reached by a
    path of no steps."""
    r = can_still_reach(Trap(), {"never": lambda s: False}, progress=False)
    assert r.stuck == [0, 1, 2, 5, 3, 6] and len(r.path) == 0 and r.path.states == [0]


class ScaledTrap(Trap):
    """The same graph, seen through view(): what predicates and paths see is 10 x state."""

    def view(self, state):
        return 10 * state


def test_predicates_and_results_see_the_view():
    """target and where get model.view(state); stuck states and path states are views."""
    r = can_still_reach(ScaledTrap(), lambda v: v == 30, progress=False)
    assert r.stuck == [50, 60] and r.path.states == [0, 10, 50]


def test_state_limit_gives_an_incomplete_answer():
    """max_states=3 stops after 3 states: complete is False and nothing is claimed; a
    limit of 6, the number of reachable states, is enough for a complete answer."""
    r = can_still_reach(Trap(), three, max_states=3, progress=False)
    assert (r.states, r.complete, r.ok, r.stuck, r.path) == (3, False, False, [], None)
    assert r.note == "stopped at the state limit (3 states): incomplete, so nothing can be said"
    assert r.summary() == f"3 states, {r.transitions} transitions: {r.note}"
    assert can_still_reach(Trap(), three, max_states=6, progress=False).complete   # just enough


@pytest.mark.parametrize("args, kw, message", [
    ((object(), three), {}, "model needs init_states() and successors(state) methods"),
    ((Trap(), 3), {}, "target must be a function of a state, or {'name': function}; got 3"),
    ((Trap(), {"a": three, "b": even}), {},
     "target must be a function of a state, or {'name': function}; got {'a': "),
    ((Trap(), three), {"where": "even"},
     "where must be a function of a state, or {'name': function}; got 'even'"),
    ((Trap(), three), {"max_states": 0}, "max_states must be None or a whole number >= 1, got 0"),
    ((Trap(), three), {"max_states": True},
     "max_states must be None or a whole number >= 1, got True"),
    ((Trap(), three), {"max_states": 2.5},
     "max_states must be None or a whole number >= 1, got 2.5"),
])
def test_bad_arguments(args, kw, message):
    """Bad input raises ValueError saying what is allowed."""
    with pytest.raises(ValueError, match=re.escape(message)):
        can_still_reach(*args, progress=False, **kw)


# ---- the synchronous timer mode ------------------------------------------------------------

@dataclass(frozen=True)
class Tick:
    """A timer."""


class Pinger(Node):
    """Sends Ping(1) to b and sets a Tick at the same moment."""

    def on_start(self):
        self.send("b", Ping(1))
        self.set_timer(Tick(), 1)

    def on_tick(self, timer):
        pass


class Sink(Node):
    def on_ping(self, msg, sender):
        pass


def pinging(**controls):
    return Simulation([Pinger("a"), Sink("b")], controls=Controls(**controls))


DELIVER, TICK = Deliver("a", "b", Ping(1)), Fire("a", Tick())


def test_synchronous_timers_wait_for_the_messages_in_flight():
    """timers="synchronous": while Ping is in flight to a live node the Tick may not fire;
    once it is delivered, it may.  With timers=True both are enabled at once."""
    sim = pinging(timers="synchronous")
    assert sim.enabled() == [DELIVER]
    sim.perform(DELIVER)
    assert sim.enabled() == [TICK]
    assert pinging().enabled() == [DELIVER, TICK]
    assert pinging(timers=False).enabled() == [DELIVER]


def test_a_lost_message_no_longer_holds_timers_back():
    """With drop, Ping may be lost; after that nothing is in flight and Tick may fire."""
    sim = pinging(timers="synchronous", drop=True)
    assert sim.enabled() == [DELIVER, Drop("a", "b", Ping(1))]
    sim.perform(Drop("a", "b", Ping(1)))
    assert sim.enabled() == [TICK]


def test_messages_to_a_crashed_node_do_not_hold_timers_back():
    """Ping to a crashed b cannot be delivered, so it does not count: Tick may fire; when b
    restarts, Ping counts again."""
    sim = pinging(timers="synchronous", max_crashes=1, crashable=("b",))
    assert sim.enabled() == [DELIVER, Crash("b")]
    sim.perform(Crash("b"))
    assert sim.enabled() == [TICK, Restart("b")]
    sim.perform(Restart("b"))
    assert sim.enabled() == [DELIVER]


def test_controls_enabled_directly():
    """Controls.enabled with explicit arguments: timers are listed only when every in-flight
    message goes to a crashed node (or none is in flight)."""
    c = Controls(timers="synchronous")
    flight = [("a", "b", Ping(1))]
    assert c.enabled(["a", "b"], flight, [("a", Tick())], set(), 0) == [DELIVER]
    assert c.enabled(["a", "b"], flight, [("a", Tick())], {"b"}, 0) == [TICK, Restart("b")]
    assert c.enabled(["a", "b"], [], [("a", Tick()), ("b", Tick())], {"b"}, 0) == [
        TICK, Restart("b")]
    assert c.timers_may_fire([]) and not c.timers_may_fire(["b"])
    assert Controls().timers_may_fire(["b"]) and not Controls(timers=False).timers_may_fire([])


@pytest.mark.parametrize("timers, counts", [
    # s0 (Ping in flight, Tick pending) -> deliver s1 -> fire s2: 3 states, 2 transitions.
    ("synchronous", (3, 2, 2)),
    # s0 -> deliver s1, fire s2; s1 -> fire s3; s2 -> deliver s3 (known): 4 states, 4 transitions.
    (True, (4, 4, 2)),
    # the Tick never fires: s0 -> deliver s1.
    (False, (2, 1, 1)),
])
def test_checker_counts_with_each_timer_mode(timers, counts):
    """The checker's successors follow the same rule (counts derived in each case)."""
    r = check([Pinger("a"), Sink("b")], Controls(timers=timers), progress=False)
    assert (r.states, r.transitions, r.max_depth) == counts


def test_checker_successors_follow_controls_enabled_in_synchronous_mode():
    """For every reachable state of 3PC with two participants, loss and a coordinator crash,
    the checker's actions are exactly Controls.enabled's, and a timer is offered only when
    no message to a live node is in flight."""
    model = NodeModel(threepc_system(2), Controls(drop=True, max_crashes=1, crashable=("coord",),
                                                  timers="synchronous"))
    seen = set(model.init_states())
    frontier = list(seen)
    with_timers = 0
    while frontier:
        state = frontier.pop()
        successors = model.successors(state)
        actions = [a for a, _ in successors]
        assert sorted(map(str, actions)) == sorted(map(str, model.enabled(state)))
        view = model.view(state)
        quiet = not [dst for _, dst, _ in view.in_flight if dst not in view.crashed]
        live_timers = [t for t in view.timers if t[0] not in view.crashed]
        assert any(isinstance(a, Fire) for a in actions) == (quiet and bool(live_timers))
        with_timers += any(isinstance(a, Fire) for a in actions)
        for _, nxt in successors:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert len(seen) > 500 and with_timers > 50


def test_a_checker_path_replays_in_a_synchronous_simulation():
    """A path the checker finds under timers="synchronous" replays in a controlled
    Simulation with the same controls: each step is enabled there too."""
    r = check(threepc_system(2), Controls(drop=True, timers="synchronous"),
              invariants={"never": lambda s: s.node("p1").log.get(1) != "aborted"},
              progress=False)
    trace = r.violation.path.trace()
    assert trace.states_at(len(trace.steps) - 1)["p1"]["log"] == {1: "aborted"}


def test_bad_timer_modes_are_refused():
    """timers is True, False or "synchronous"; "synchronous" cannot go with a duplicating
    network, which keeps every message in flight (no timer could ever fire)."""
    with pytest.raises(ValueError, match=re.escape(
            "timers must be True, False or 'synchronous', got 'sync'")):
        Controls(timers="sync")
    with pytest.raises(ValueError, match=re.escape(
            "timers='synchronous' cannot go with duplicate=True: a duplicating network keeps "
            "every message in flight, so no timer could ever fire")):
        Controls(timers="synchronous", duplicate=True)
