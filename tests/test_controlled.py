"""Controlled mode ("you are the network"): enabled actions and performing them."""

from dataclasses import dataclass

import pytest

from replib import Controls, Crash, Deliver, Drop, Fire, Node, Restart, Simulation
from replib.clients import NextOp, Reply, Request
from replib.faults import crash, drop
from replib.protocols.forwarding import Forward, ForwardAck, forwarding_system

W1 = ("write", 1)
REQ = Request("client", 0, W1)


def controlled(writes=1, **kw):
    return Simulation(forwarding_system(writes=writes), controls=Controls(**kw))


def to_first_request(sim):
    sim.perform(Fire("client", NextOp()))
    return sim


def test_after_start_only_the_clients_timer_may_fire():
    """With nothing in flight, the only enabled action is the client's pending NextOp timer."""
    sim = controlled()
    assert sim.enabled() == [Fire("client", NextOp())]
    assert sim.in_flight() == []


def test_each_in_flight_message_may_be_delivered():
    """Every message in flight gives a Deliver action; Drop only if Controls(drop=True)."""
    sim = to_first_request(controlled())
    assert sim.in_flight() == [("client", "server", REQ)]
    assert sim.enabled() == [Deliver("client", "server", REQ)]
    sim = to_first_request(controlled(drop=True))
    assert sim.enabled() == [Deliver("client", "server", REQ), Drop("client", "server", REQ)]


def test_performing_a_deliver_runs_the_handler_and_consumes_the_message():
    """Deliver runs the receiver's handler (its sends join the in-flight list) and, without
    duplication, the delivered message is gone; each action advances the clock by 1."""
    sim = to_first_request(controlled())
    ev = sim.perform(Deliver("client", "server", REQ))
    assert (ev.kind, ev.node, ev.peer, ev.msg, ev.time, ev.primary) == (
        "deliver", "server", "client", REQ, 2.0, True)
    assert sim.in_flight() == [("server", "replica", Forward(1, W1))]
    sim.perform(Deliver("server", "replica", Forward(1, W1)))
    sim.perform(Deliver("replica", "server", ForwardAck(1)))
    sim.perform(Deliver("server", "client", Reply(0, "ok")))
    assert sim.enabled() == [] and sim.now == 5
    (op,) = sim.trace.history()
    assert (op.invoke, op.response, op.result) == (1.0, 5.0, "ok")


def test_drop_loses_the_message():
    """A performed Drop removes the message and records it as lost ('dropped')."""
    sim = to_first_request(controlled(drop=True))
    ev = sim.perform(Drop("client", "server", REQ))
    assert (ev.kind, ev.detail, ev.primary) == ("drop", "dropped", True)
    assert sim.enabled() == []
    assert [m["fate"] for m in sim.trace.messages()] == ["dropped (dropped)"]


def test_duplicating_network_keeps_a_delivered_message_in_flight():
    """With duplicate=True a delivered message stays in flight and can be delivered again."""
    sim = to_first_request(controlled(duplicate=True, drop=True))
    sim.perform(Deliver("client", "server", REQ))
    assert sim.in_flight() == [("client", "server", REQ), ("server", "replica", Forward(1, W1))]
    sim.perform(Deliver("client", "server", REQ))
    sim.perform(Drop("client", "server", REQ))
    delivers = sim.trace.select("deliver", node="server")
    assert len(delivers) == 2 and delivers[0].msg_id == delivers[1].msg_id
    fates = [(m["msg"], m["fate"], m["duplicate"]) for m in sim.trace.messages()
             if m["msg"] == REQ]
    assert fates == [(REQ, "delivered", False), (REQ, "delivered", True),
                     (REQ, "dropped (dropped)", True)]
    assert sim.in_flight() == [("server", "replica", Forward(1, W1))]


def test_equal_messages_in_flight_give_one_action_each_kind():
    """Two equal messages on one link are one Deliver action; delivering it consumes one copy."""
    @dataclass(frozen=True)
    class Ping:
        n: int

    class Twice(Node):
        def on_start(self):
            self.send("b", Ping(1))
            self.send("b", Ping(1))

    class Sink(Node):
        def on_ping(self, msg, sender):
            pass

    sim = Simulation([Twice("a"), Sink("b")], controls=Controls())
    assert sim.enabled() == [Deliver("a", "b", Ping(1))]
    assert len(sim.in_flight()) == 2
    sim.perform(Deliver("a", "b", Ping(1)))
    assert sim.in_flight() == [("a", "b", Ping(1))]
    assert [e.msg_id for e in sim.trace.select("deliver")] == [1]   # the older copy first


def test_crash_actions_respect_max_crashes_and_crashable():
    """Crash(n) is enabled for every live node while fewer than max_crashes crashes happened,
    only for the crashable nodes if they are named; crashed nodes may Restart."""
    sim = controlled(max_crashes=1)
    assert sim.enabled() == [Fire("client", NextOp()), Crash("client"), Crash("server"),
                             Crash("replica")]
    sim = controlled(max_crashes=1, crashable=["server"])
    assert sim.enabled() == [Fire("client", NextOp()), Crash("server")]
    sim.perform(Crash("server"))
    assert sim.enabled() == [Fire("client", NextOp()), Restart("server")]
    sim.perform(Restart("server"))
    assert sim.enabled() == [Fire("client", NextOp())]        # the one crash is used up
    assert sim.crashes == 1


def test_restart_can_be_switched_off():
    """Controls(restart=False): a crashed node stays down."""
    sim = controlled(max_crashes=2, restart=False)
    sim.perform(Crash("replica"))
    assert sim.enabled() == [Fire("client", NextOp()), Crash("client"), Crash("server")]


def test_timers_can_be_switched_off():
    """Controls(timers=False): timers never fire (only messages move)."""
    assert controlled(timers=False).enabled() == []


def test_messages_to_a_crashed_node_wait_and_timers_die():
    """A message to a crashed node cannot be delivered (it may still be dropped); a crashed
    node's timers are gone; after Restart the message can be delivered."""
    sim = to_first_request(controlled(drop=True, max_crashes=1))
    sim.perform(Crash("server"))
    assert sim.enabled() == [Drop("client", "server", REQ), Restart("server")]
    sim = controlled(max_crashes=1)
    sim.perform(Crash("client"))
    assert sim.pending_timers() == []
    ev = sim.perform(Restart("client"))           # on_restart -> on_start: NextOp again
    assert (ev.kind, ev.node, ev.time) == ("restart", "client", 2.0)
    assert sim.enabled() == [Fire("client", NextOp())]


def test_crash_in_controlled_mode_keeps_stable_state():
    """Crash via perform resets volatile fields and keeps stable ones, as in seeded runs."""
    sim = to_first_request(controlled(max_crashes=1))
    sim.perform(Deliver("client", "server", REQ))
    server = sim.node("server")
    assert server.waiting == {1: ("client", 0)}
    sim.perform(Crash("server"))
    assert server.log == [W1] and server.waiting == {}


def test_performing_a_disabled_action_lists_the_enabled_ones():
    """perform() of an action that is not enabled raises ValueError listing what is."""
    sim = controlled()
    with pytest.raises(ValueError) as info:
        sim.perform(Deliver("client", "server", REQ))
    assert str(info.value) == (
        "deliver Request client->server: Request(client='client', seq=0, op=('write', 1)) "
        "is not enabled now. Enabled actions:\n  fire NextOp() at client")
    with pytest.raises(ValueError, match=r"crash server is not enabled now"):
        sim.perform(Crash("server"))


def test_seeded_operations_are_refused_in_controlled_mode():
    """step() and run() belong to seeded runs; enabled() to controlled runs."""
    sim = controlled()
    with pytest.raises(ValueError, match=r"controlled mode: use enabled\(\) and perform"):
        sim.step()
    with pytest.raises(ValueError, match=r"controlled mode: use perform\(action\)"):
        sim.run()
    with pytest.raises(ValueError, match=r"enabled\(\) is for controlled mode"):
        Simulation(forwarding_system()).enabled()


@pytest.mark.parametrize("fault", [crash("server", at=1), drop("Forward", when=lambda s: True)])
def test_timed_faults_and_drop_rules_are_refused_in_controlled_mode(fault):
    """There is no clock in controlled mode: faults at a time, and drop rules, are refused."""
    with pytest.raises(ValueError, match="in controlled mode there is no clock"):
        Simulation(forwarding_system(), faults=[fault], controls=Controls())


def test_condition_faults_apply_at_once_in_controlled_mode():
    """A when= fault happens as soon as the action that made its condition true is done."""
    sim = Simulation(forwarding_system(), controls=Controls(),
                     faults=[crash("replica",
                                   when=lambda s: s.trace.count("send", msg_type="Forward"))])
    to_first_request(sim)
    sim.perform(Deliver("client", "server", REQ))
    assert sim.crashed == {"replica"}
    assert [e.kind for e in sim.trace.events[-3:]] == ["deliver", "send", "crash"]
    assert sim.enabled() == [Restart("replica")]   # the Forward waits for the replica


def test_partition_drops_messages_in_flight_across_it():
    """Applying a partition in controlled mode loses the in-flight messages that cross it."""
    sim = to_first_request(controlled())
    sim.partition(["server"])
    assert sim.in_flight() == []
    assert [(e.kind, e.detail) for e in sim.trace.events[-2:]] == [
        ("partition", None), ("drop", "partition")]


def test_bad_controls_are_refused():
    """max_crashes is a whole number >= 0; crashable names real nodes."""
    with pytest.raises(ValueError, match="max_crashes must be a whole number >= 0, got -1"):
        Controls(max_crashes=-1)
    with pytest.raises(ValueError, match=r"crashable names unknown node\(s\) \['ghost'\]"):
        controlled(max_crashes=1, crashable=("ghost",))


def test_rewind_in_controlled_mode_replays_the_actions():
    """rewind(k) replays the performed actions up to step k."""
    sim = to_first_request(controlled(max_crashes=1))
    sim.perform(Deliver("client", "server", REQ))
    sim.perform(Crash("server"))
    keys = [e.key() for e in sim.trace]
    sim.rewind(5)
    assert sim.crashed == set() and sim.node("server").waiting == {1: ("client", 0)}
    sim.perform(Crash("server"))
    assert [e.key() for e in sim.trace] == keys


def test_controlled_mode_describes_actions_in_words():
    """Actions print as short sentences (what the player's buttons show)."""
    assert str(Deliver("a", "b", REQ)) == (
        "deliver Request a->b: Request(client='client', seq=0, op=('write', 1))")
    assert str(Drop("a", "b", NextOp())) == "drop NextOp a->b: NextOp()"
    assert str(Fire("a", NextOp())) == "fire NextOp() at a"
    assert (str(Crash("a")), str(Restart("a"))) == ("crash a", "restart a")
    assert repr(controlled()) == ("<Simulation controlled: 3 nodes, t=0, 3 steps, "
                                  "Network(latency=constant 1)>")
