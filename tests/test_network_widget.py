"""Chapter 05's "you are the network" widget, driven through the methods its buttons call."""

import html

import pytest

from replib.actions import Crash, Deliver, Drop, Fire, Restart
from replib.protocols.paxos import (
    Accept,
    Accepted,
    Acceptor,
    Backoff,
    Prepare,
    Promise,
    Reject,
    paxos_system,
)
from replib.viz.palette import VERMILLION
from replib.widgets.network import YouAreTheNetwork, chosen_values


class ForgetfulAcceptor(Acceptor):
    """A broken acceptor: it promises every Prepare, forgetting to check its promise."""

    def on_prepare(self, msg, sender):
        self.promised = msg.ballot
        self.send(sender, Promise(msg.ballot, self.accepted))


class ExplodingAcceptor(Acceptor):
    """A variant whose Accept handler crashes (a reader's buggy code)."""

    def on_accept(self, msg, sender):
        raise RuntimeError("oops")


def said(w):
    """The widget's message as plain text."""
    return html.unescape(w.message.value)


def step_sends(w):
    """(sender, receiver, message) for every send of the last step."""
    return [(e.node, e.peer, e.msg) for e in w.sim.trace.step_events(w.sim.steps - 1)
            if e.kind == "send"]


def labels(w):
    return [label for label, _ in w.actions()]


def snapshot(w):
    sim = w.sim
    return ({i: n.snapshot() for i, n in sim.nodes.items()}, sim.in_flight(),
            sim.pending_timers(), set(sim.crashed), sim.trace.digest(), labels(w))


def run(w, steps):
    for s in steps:
        assert w.do(s), (s, w.message.value)


P1_CHOOSES_V1 = ["p1 starts", "deliver Prepare(2) p1→a1", "deliver Prepare(2) p1→a2",
                 "deliver Promise(2, None) a1→p1", "deliver Promise(2, None) a2→p1",
                 "deliver Accept(2, v1) p1→a1", "deliver Accept(2, v1) p1→a2"]

# p2 gets promises for ballot 1 from a1 and a2; p1 then gets v1 chosen under ballot 2 by a2
# and a3; a2 receives p2's Prepare(1) a second time (a duplicate); then p2's Accept(1, v2)
# reaches a1 and a2.  Real acceptors reject it at a2; a forgetful one accepts: v2 chosen too.
TWO_VALUES = ["p2 starts", "deliver Prepare(1) p2→a1", "deliver Prepare(1) p2→a2",
              "deliver Promise(1, None) a1→p2", "deliver Promise(1, None) a2→p2",
              "p1 starts", "deliver Prepare(2) p1→a2", "deliver Prepare(2) p1→a3",
              "deliver Promise(2, None) a2→p1", "deliver Promise(2, None) a3→p1",
              "deliver Accept(2, v1) p1→a2", "deliver Accept(2, v1) p1→a3",
              "deliver Prepare(1) p2→a2", "deliver Accept(1, v2) p2→a1",
              "deliver Accept(1, v2) p2→a2"]


def test_at_the_start_only_timers_and_crashes_are_enabled():
    """Nothing is in flight at first: the list offers starting each proposer, then crashing
    each acceptor (only acceptors may crash); nothing is chosen and there is nothing to undo."""
    w = YouAreTheNetwork()
    assert labels(w) == ["p1 starts", "p2 starts", "crash a1", "crash a2", "crash a3"]
    assert w.status() == "Agreement holds: nothing chosen yet" and w.chosen() == set()
    assert w.performed() == 0 and w.undo_button.disabled
    assert w.diagram.value.startswith("<img src='data:image/png;base64,")
    assert "alt='Your run so far: 0 actions. Agreement holds: nothing chosen yet. " \
           "Space-time diagram" in w.diagram.value
    assert w.list.options[0] == ("p1 starts", 0) and w.list.value == 0


def test_starting_a_proposer_lists_its_prepares_first_then_timers_then_crashes():
    """p1 (ballot 2 under mod-n numbering) sends Prepare(2) to each acceptor; messages come
    first in send order, then timers node by node (p1's retry timeout, p2's start), then
    crashes."""
    w = YouAreTheNetwork()
    assert w.do("p1 starts")
    assert labels(w) == ["deliver Prepare(2) p1→a1", "deliver Prepare(2) p1→a2",
                         "deliver Prepare(2) p1→a3", "p1 times out on ballot 2", "p2 starts",
                         "crash a1", "crash a2", "crash a3"]
    assert w.state_rows()[3] == ("p1", "proposer", "wants v1; ballot 2; phase preparing")
    assert w.performed() == 1 and not w.undo_button.disabled


def test_a_majority_accepting_makes_v1_chosen():
    """Prepares to a1 and a2, their promises, then Accepts to a1 and a2: v1 is chosen by a
    majority under ballot 2, and the indicator says so (in the non-alarm colour)."""
    w = YouAreTheNetwork()
    run(w, P1_CHOOSES_V1[:-1])
    assert w.status() == "Agreement holds: nothing chosen yet"
    run(w, P1_CHOOSES_V1[-1:])
    assert w.chosen() == {"v1"}
    assert w.status() == "Agreement holds: chosen: v1"
    assert "✓ Agreement holds: chosen: v1" in w.status_line.value
    assert VERMILLION not in w.status_line.value
    assert w.state_rows()[0] == ("a1", "acceptor", "promised 2; accepted (2, v1)")
    assert "deliver Accepted(2, v1) a2→l1" in labels(w)


def test_learner_row_shows_what_it_learned():
    """The learner learns v1 once Accepted(2, v1) from a majority reaches it."""
    w = YouAreTheNetwork()
    run(w, P1_CHOOSES_V1 + ["deliver Accepted(2, v1) a1→l1", "deliver Accepted(2, v1) a2→l1"])
    assert w.state_rows()[-1] == ("l1", "learner", "learned v1")


def test_drop_removes_the_message_from_the_list():
    """Drop loses a message for good: it leaves the list and the trace records the loss."""
    w = YouAreTheNetwork()
    w.do("p1 starts")
    assert w.do("deliver Prepare(2) p1→a3", drop=True)
    assert "deliver Prepare(2) p1→a3" not in labels(w)
    assert ("p1", "a3", Prepare(2)) not in w.sim.in_flight()
    last = w.sim.trace.step_events(w.sim.steps - 1)[0]
    assert (last.kind, last.node, last.peer, last.detail) == ("drop", "p1", "a3", "dropped")


def test_deliver_keeps_the_message_so_it_can_be_duplicated():
    """A delivered message stays in flight (the network holds a set), so delivering it
    again is a duplicate: a1 accepts Accept(2, v1) again and answers with the same
    Accepted(2, v1), which is already in flight and so adds nothing."""
    w = YouAreTheNetwork()
    run(w, P1_CHOOSES_V1[:6])
    assert "deliver Accept(2, v1) p1→a1" in labels(w)
    flight = w.sim.in_flight()
    assert w.do("deliver Accept(2, v1) p1→a1")
    assert w.sim.in_flight() == flight
    assert w.sim.node("a1").accepted == (2, "v1")
    delivers = w.sim.trace.select(kind="deliver", node="a1", msg_type="Accept")
    assert len(delivers) == 2 and delivers[0].msg_id == delivers[1].msg_id
    replies = step_sends(w)
    assert replies == [("a1", "p1", Accepted(2, "v1")), ("a1", "l1", Accepted(2, "v1"))]
    assert [e.detail for e in w.sim.trace.step_events(w.sim.steps - 1) if e.kind == "drop"] \
        == ["same as a message already in flight"] * 2


def test_a_duplicated_prepare_is_rejected_with_the_proposers_own_number():
    """Paxos's acceptor promises only above its promise, so a second copy of Prepare(2)
    gets Reject(2, 2), which p1 ignores (the number is its own): p1 stays preparing."""
    w = YouAreTheNetwork()
    run(w, ["p1 starts", "deliver Prepare(2) p1→a1", "deliver Prepare(2) p1→a1"])
    assert step_sends(w) == [("a1", "p1", Reject(2, 2))]
    assert w.do("deliver Reject(2, 2) a1→p1")
    assert w.state_rows()[3] == ("p1", "proposer", "wants v1; ballot 2; phase preparing")


def test_selection_stays_on_a_message_after_delivering_it():
    """After Deliver the same message stays selected, so pressing Deliver again duplicates it."""
    w = YouAreTheNetwork()
    w.do("p1 starts")
    w.list.value = labels(w).index("deliver Prepare(2) p1→a2")
    assert w.do_selected()
    assert w.actions()[w.list.value][0] == "deliver Prepare(2) p1→a2"


def test_buttons_follow_the_selection():
    """A message selected: Deliver and Drop; a timer or a crash: Do it, and Drop is off."""
    w = YouAreTheNetwork()
    w.do("p1 starts")
    w.list.value = 0
    assert w.go.description == "Deliver" and not w.drop.disabled
    w.list.value = labels(w).index("p2 starts")
    assert w.go.description == "Do it" and w.drop.disabled
    assert not w.do_selected(drop=True)
    assert "only messages can be dropped; 'p2 starts' is not a message" in said(w)
    assert w.do_selected()
    assert "deliver Prepare(1) p2→a1" in labels(w)


def test_crash_takes_away_deliveries_and_offers_a_restart_that_keeps_the_promise():
    """Crashing a1 removes every delivery to a1 (its messages can still be dropped: their
    entries say "drop") and offers "restart a1"; a1's promise is on disk, so after the restart it still holds it,
    and messages to it can be delivered again."""
    w = YouAreTheNetwork()
    run(w, ["p1 starts", "deliver Prepare(2) p1→a1", "p2 starts", "crash a1"])
    names = labels(w)
    assert not [n for n in names if n.startswith("deliver") and n.endswith("→a1")]
    assert "drop Prepare(2) p1→a1 (a1 is down)" in names
    assert "drop Prepare(1) p2→a1 (a1 is down)" in names
    assert "restart a1" in names and "crash a1" not in names
    assert w.state_rows()[0] == ("a1", "acceptor", "(crashed) promised 2; accepted —")
    assert not w.do(Deliver("p2", "a1", Prepare(1)))
    assert "a1 is down, so it cannot receive Prepare(1); drop the message, or restart a1 " \
           "first" in said(w)
    w.list.value = names.index("drop Prepare(1) p2→a1 (a1 is down)")
    assert w.go.disabled and not w.drop.disabled
    assert w.do("drop Prepare(1) p2→a1 (a1 is down)")
    assert ("p2", "a1", Prepare(1)) not in w.sim.in_flight()
    assert w.do("restart a1")
    assert w.sim.node("a1").promised == 2
    assert "deliver Prepare(2) p1→a1" in labels(w) and "restart a1" not in labels(w)
    assert w.do("deliver Prepare(2) p1→a1")
    assert ("a1", "p1", Promise(2, None)) in w.sim.in_flight()


def test_undo_restores_the_previous_state_exactly():
    """Undo takes back exactly the last action: node fields, messages in flight, timers,
    crashed nodes, the trace and the list are as they were before it."""
    w = YouAreTheNetwork()
    run(w, P1_CHOOSES_V1[:5])
    before = snapshot(w)
    figure = w.diagram.value
    for action in ["deliver Accept(2, v1) p1→a1", "crash a2"]:
        assert w.do(action)
        assert w.undo()
        assert snapshot(w) == before
    assert w.diagram.value == figure
    assert w.performed() == 5


def test_undo_at_the_start_says_there_is_nothing_to_undo():
    """Undo with nothing done shows a message and changes nothing."""
    w = YouAreTheNetwork()
    before = snapshot(w)
    assert not w.undo()
    assert "nothing to undo" in said(w)
    assert snapshot(w) == before


def test_reset_starts_over():
    """Reset brings back the start: the same list, states and trace as a new widget."""
    w = YouAreTheNetwork()
    fresh = snapshot(w)
    run(w, P1_CHOOSES_V1)
    w.reset()
    assert snapshot(w) == fresh and w.status() == "Agreement holds: nothing chosen yet"
    assert w.performed() == 0 and w.message.value == ""


def test_an_action_no_longer_enabled_shows_a_message():
    """A label, number or action object that is not enabled now is reported, never raised,
    and the run is unchanged; the next good action clears the message."""
    w = YouAreTheNetwork()
    w.do("p1 starts")
    w.do("deliver Prepare(2) p1→a1", drop=True)
    before = snapshot(w)
    assert not w.do("deliver Prepare(2) p1→a1")
    assert "'deliver Prepare(2) p1→a1' is not enabled now" in said(w)
    assert not w.do("p1 starts")
    assert not w.do(Deliver("p1", "a1", Prepare(2)))
    assert "is not enabled now" in said(w)
    assert not w.do(99)
    assert "there is no action number 99: the list has 7 (0 to 6)" in said(w)
    assert not w.do(True)
    assert not w.do(None)
    assert "choose an action by its number in the list" in said(w)
    assert snapshot(w) == before
    assert w.do(0) and w.message.value == ""


def test_a_failing_variant_handler_is_reported_and_taken_back():
    """If a plugged-in class raises in a handler, the widget says where and undoes the step."""
    w = YouAreTheNetwork(acceptor=ExplodingAcceptor)
    run(w, P1_CHOOSES_V1[:5])
    before = snapshot(w)
    assert not w.do("deliver Accept(2, v1) p1→a1")
    assert "ExplodingAcceptor 'a1' failed" in said(w)
    assert "RuntimeError: oops (the step was taken back)" in said(w)
    assert snapshot(w) == before


def test_paxos_survives_the_duplicate_attack():
    """With real acceptors, the schedule that breaks the forgetful variant does not: a2
    rejects the duplicated Prepare(1) and p2's Accept(1, v2), so only v1 is chosen."""
    w = YouAreTheNetwork()
    run(w, TWO_VALUES)
    assert w.status() == "Agreement holds: chosen: v1"
    assert "deliver Reject(1, 2) a2→p2" in labels(w)


def test_a_broken_acceptor_lets_the_reader_choose_two_values():
    """An acceptor that promises without checking its promise lets a duplicated Prepare
    lower a2's promise; then v2 is chosen under ballot 1 after v1 under ballot 2, and the
    indicator turns red."""
    w = YouAreTheNetwork(acceptor=ForgetfulAcceptor)
    run(w, TWO_VALUES[:-1])
    assert w.status() == "Agreement holds: chosen: v1"
    run(w, TWO_VALUES[-1:])
    assert w.chosen() == {"v1", "v2"}
    assert w.status() == "AGREEMENT BROKEN: v1 and v2 both chosen"
    assert f"color:{VERMILLION}" in w.status_line.value
    assert "⚠ AGREEMENT BROKEN: v1 and v2 both chosen" in w.status_line.value
    assert "AGREEMENT BROKEN: v1 and v2 both chosen. Space-time" in w.diagram.value


def test_the_checkers_counterexample_replays_through_the_widget():
    """The shortest agreement violation that ``check(paxos_system(max_ballots=1,
    start_after=[0, 0], acceptor=ForgetfulAcceptor), Controls(duplicate=True),
    invariants={"agreement": agreement})`` finds (14 steps, no duplicate needed) is a
    list of actions the widget accepts as they are, and ends with two values chosen."""
    path = [Fire("p1", Backoff()), Deliver("p1", "a1", Prepare(2)),
            Deliver("p1", "a2", Prepare(2)), Deliver("a1", "p1", Promise(2, None)),
            Deliver("a2", "p1", Promise(2, None)), Deliver("p1", "a1", Accept(2, "v1")),
            Fire("p2", Backoff()), Deliver("p2", "a2", Prepare(1)),
            Deliver("p2", "a3", Prepare(1)), Deliver("a2", "p2", Promise(1, None)),
            Deliver("a3", "p2", Promise(1, None)), Deliver("p2", "a2", Accept(1, "v2")),
            Deliver("p1", "a2", Accept(2, "v1")), Deliver("p2", "a3", Accept(1, "v2"))]
    w = YouAreTheNetwork(acceptor=ForgetfulAcceptor, max_ballots=1)
    for action in path:
        assert w.do(action), (action, w.message.value)
    assert w.status() == "AGREEMENT BROKEN: v1 and v2 both chosen"
    assert w.performed() == 14


def test_action_objects_for_faults_and_drops_work_too():
    """Crash, Restart and Drop objects are done like the list's entries; drop=True turns a
    Deliver object into a Drop."""
    w = YouAreTheNetwork()
    assert w.do(Fire("p1", Backoff()))
    assert w.do(Crash("a3")) and w.sim.crashed == {"a3"}
    assert w.do(Deliver("p1", "a3", Prepare(2)), drop=True)
    assert ("p1", "a3", Prepare(2)) not in w.sim.in_flight()
    assert w.do(Restart("a3")) and w.sim.crashed == set()
    assert w.do(Drop("p1", "a2", Prepare(2)))
    assert not w.do(Crash("p1"))            # only acceptors may crash
    assert "'crash p1' is not enabled now" in said(w)


def test_values_and_sizes_pass_through():
    """Values, sizes and max_ballots go to paxos_system; a bad size raises at construction."""
    w = YouAreTheNetwork(acceptors=5, proposers=1, values=["x"], max_ballots=1)
    assert labels(w) == ["p1 starts"] + [f"crash a{i}" for i in range(1, 6)]
    w.do("p1 starts")
    assert labels(w)[:5] == [f"deliver Prepare(1) p1→a{i}" for i in range(1, 6)]
    assert w.state_rows()[5] == ("p1", "proposer", "wants x; ballot 1; phase preparing")
    with pytest.raises(ValueError, match="acceptors"):
        YouAreTheNetwork(acceptors=0)


def test_chosen_values_uses_the_majority_rule():
    """A value is chosen when a majority of acceptors accepted it under one number: two of
    three under ballot 2 count; two under different numbers do not."""
    nodes = paxos_system(acceptors=3, proposers=1)
    a1, a2, a3 = nodes[:3]
    a1.votes, a2.votes = {(1, "x")}, {(2, "x")}
    assert chosen_values(nodes) == set()
    a3.votes = {(2, "x"), (1, "y")}
    assert chosen_values(nodes) == {"x"}


def test_outside_jupyter_it_says_what_it_is():
    """The text form of the widget tells a reader to run the cell in Jupyter."""
    w = YouAreTheNetwork()
    assert w._repr_mimebundle_()["text/plain"] == \
        "You are the network (Paxos): run this cell in Jupyter to use it."
