"""Fault injection: the fault functions, and what each fault does to a running system."""

from dataclasses import dataclass

import pytest

from replib import Constant, Network, Node, Simulation
from replib.faults import Fault, crash, cut, drop, heal, partition, restart
from replib.protocols.forwarding import forwarding_system
from replib.state import thaw


@dataclass(frozen=True)
class Ping:
    n: int


@dataclass(frozen=True)
class Pong:
    n: int


@dataclass(frozen=True)
class Tick:
    """Timer: send the next round of pings."""


class Pinger(Node):
    """Every time unit, sends Ping(k) to each node in ``to`` (k counts rounds, on disk)."""

    stable = ("sent",)

    def __init__(self, id, to=()):
        super().__init__(id)
        self.to = tuple(to)
        self.sent = 0
        self.got = []

    def on_start(self):
        if self.to:
            self.set_timer(Tick(), 1)

    def on_tick(self, timer):
        self.sent += 1
        self.broadcast(Ping(self.sent), to=self.to)
        self.set_timer(Tick(), 1)

    def on_ping(self, msg, sender):
        self.got.append((sender, msg.n))

    def on_pong(self, msg, sender):
        """Never sent: a second message type, for drop rules to tell apart."""


def pingers(*, a_to=("b", "c"), b_to=(), c_to=()):
    return [Pinger("a", a_to), Pinger("b", b_to), Pinger("c", c_to)]


def half():
    return Network(Constant(0.5))


def got(sim, node):
    return sim.node(node).got


# ---- the fault functions ------------------------------------------------------------------

def test_fault_functions_build_the_right_faults():
    """Each function returns a Fault of its kind with the nodes it names."""
    assert crash("a", at=3) == Fault("crash", ("a",), 3)
    assert restart("a", at=4.5) == Fault("restart", ("a",), 4.5)
    assert partition(["a", "b"], ["c"], at=1) == Fault("partition", (("a", "b"), ("c",)), 1)
    assert partition("a", at=1).nodes == (("a",),)
    assert heal(at=2) == Fault("heal", (), 2)
    assert cut("a", "b", at=0) == Fault("cut", ("a", "b"), 0)
    d = drop(Ping, src="a", count=2, at=1)
    assert d == Fault("drop", ("a", None), 1, msg_type="Ping", count=2)
    assert drop("Ping", at=1).msg_type == "Ping"
    assert drop(at=1) == Fault("drop", (None, None), 1, msg_type=None, count=1)


def test_faults_describe_themselves():
    """describe() says what happens and when, in words."""
    assert crash("a", at=3).describe() == "crash a at t=3"
    assert restart("a", when=lambda s: True).describe() == "restart a when a condition holds"
    assert partition(["a", "b"], ["c"]).describe() == "partition a,b | c"
    assert heal(at=1.5).describe() == "heal the network at t=1.5"
    assert cut("a", "b").describe() == "cut a->b"
    assert drop("Ping", count=2).describe() == "drop 2 Ping(s)"
    assert drop("Ping", dst="b").describe() == "drop 1 Ping(s) *->b"


def test_at_and_when_are_exclusive():
    """A fault happens at a time or when a condition holds, not both."""
    with pytest.raises(ValueError, match="crash: give at= or when=, not both"):
        crash("a", at=1, when=lambda sim: True)


@pytest.mark.parametrize("bad", [-1, True, "3", float("nan"), [1]])
def test_at_must_be_a_time(bad):
    """at= is a number >= 0 (not a bool, a string or nan)."""
    with pytest.raises(ValueError, match="at= must be a finite number >= 0"):
        crash("a", at=bad)


def test_other_bad_fault_arguments():
    """when= must be callable; drop counts are whole numbers >= 1; nodes are strings;
    partition needs a group; fault kinds are a fixed set."""
    with pytest.raises(ValueError, match="when= must be a function of the simulation"):
        heal(when=3)
    with pytest.raises(ValueError, match="count must be a whole number >= 1, got 0"):
        drop("Ping", count=0, at=1)
    with pytest.raises(ValueError, match="crash: give a node id"):
        crash(3, at=1)
    with pytest.raises(ValueError, match="cut: give a node id"):
        cut("a", "", at=1)
    with pytest.raises(ValueError, match="partition needs at least one group"):
        partition(at=1)
    with pytest.raises(ValueError, match="unknown fault kind 'explode'"):
        Fault("explode")
    with pytest.raises(ValueError, match="msg_type must be a message class or its name"):
        drop(3)


@pytest.mark.parametrize("fault, match", [
    (crash("ghost", at=1), r"fault 'crash ghost at t=1' names unknown node\(s\) \['ghost'\]; "
                           r"nodes are \['a', 'b', 'c'\]"),
    (restart("ghost", at=1), r"unknown node\(s\) \['ghost'\]"),
    (partition(["a", "x"], at=1), r"unknown node\(s\) \['x'\]"),
    (cut("a", "y", at=1), r"unknown node\(s\) \['y'\]"),
    (drop("Ping", src="z", at=1), r"unknown node\(s\) \['z'\]"),
    (partition(["a", "b"], ["b", "c"], at=1), "partition groups overlap: 'b'"),
    (partition(["a", "b", "c"], at=1), "at least two groups"),
    (crash("a"), "has neither at= nor when="),
])
def test_bad_faults_are_refused_when_the_simulation_is_built(fault, match):
    """A fault naming an unknown node, an impossible partition, or a fault that could never
    happen is refused at Simulation(...), not halfway through a run."""
    with pytest.raises(ValueError, match=match):
        Simulation(pingers(), faults=[fault])


def test_faults_must_come_from_the_fault_functions():
    """faults= takes Fault objects only."""
    with pytest.raises(ValueError, match="faults must be made with replib.faults functions"):
        Simulation(pingers(), faults=[("crash", "a")])


# ---- crash and restart ---------------------------------------------------------------------

def test_messages_to_a_crashed_node_are_dropped_on_arrival():
    """A message that arrives while its receiver is down is lost, with the reason '<node> is down'."""
    sim = Simulation(pingers(), network=half(), faults=[crash("c", at=1.2)])
    sim.run(until=2.6)
    assert got(sim, "b") == [("a", 1), ("a", 2)]
    assert got(sim, "c") == []     # volatile, reset by the crash, and nothing since
    drops = sim.trace.select("drop")
    assert [(e.time, e.node, e.peer, e.msg, e.detail, e.primary) for e in drops] == [
        (1.5, "a", "c", Ping(1), "c is down", True),
        (2.5, "a", "c", Ping(2), "c is down", True),
    ]


def test_crash_resets_volatile_state_and_keeps_stable_state():
    """At the crash the node's volatile fields go back to their initial values and its stable
    fields stay; the crash event records that state."""
    sim = Simulation(pingers(a_to=("b",), b_to=("a",)), network=half(),
                     faults=[crash("a", at=2.75)])
    sim.run(until=2.75)
    a = sim.node("a")
    assert (a.sent, a.got) == (2, [])
    assert sim.node("b").got == [("a", 1), ("a", 2)]
    (ev,) = sim.trace.select("crash")
    assert (ev.time, ev.node, ev.primary) == (2.75, "a", True)
    assert {k: thaw(v) for k, v in ev.state.items()} == {"id": "a", "to": ("b",), "sent": 2, "got": []}
    assert sim.crashed == {"a"} and sim.crashes == 1


def test_crash_cancels_pending_timers_and_restart_runs_on_restart():
    """A crashed node's timers never fire; on restart, on_restart (by default on_start) sets
    them again, and stable state carries on where it stopped."""
    sim = Simulation(pingers(a_to=("b",)), network=half(),
                     faults=[crash("a", at=2.25), restart("a", at=4.6)])
    sim.run(until=7)
    assert sim.trace.count("timer", node="a") == 2 + 2       # t=1, 2, then 5.6, 6.6
    assert [e.time for e in sim.trace.select("timer")] == pytest.approx([1.0, 2.0, 5.6, 6.6])
    assert got(sim, "b") == [("a", 1), ("a", 2), ("a", 3)]   # Ping(4) arrives at 7.1
    assert [e.time for e in sim.trace.select("deliver", node="b")] == pytest.approx([1.5, 2.5, 6.1])
    (r,) = sim.trace.select("restart")
    assert (r.time, r.node, r.msg, r.primary) == (4.6, "a", None, True)
    assert sim.pending_timers() == [("a", Tick())]
    assert sim.crashed == set()


def test_custom_on_restart_runs_instead_of_on_start():
    """A node that overrides on_restart runs it, not on_start, after a crash."""
    class Recovering(Pinger):
        def on_restart(self):
            self.broadcast(Ping(-self.sent), to=self.to)

    sim = Simulation([Recovering("a", ["b"]), Pinger("b")], network=half(),
                     faults=[crash("a", at=2.25), restart("a", at=3)])
    sim.run(until=5)
    assert got(sim, "b") == [("a", 1), ("a", 2), ("a", -2)]
    assert sim.pending_timers() == []


def test_double_crash_and_restart_of_a_live_node_do_nothing():
    """Crashing a crashed node, or restarting a running one, is recorded and changes nothing."""
    sim = Simulation(pingers(), network=half(),
                     faults=[restart("a", at=0.1), crash("b", at=1), crash("b", at=2)])
    sim.run(until=2)
    assert [(e.kind, e.node, e.detail) for e in sim.trace.select(("crash", "restart"))] == [
        ("restart", "a", "was not down; nothing happens"),
        ("crash", "b", None),
        ("crash", "b", "already down; nothing happens"),
    ]
    assert sim.crashes == 1


def test_sync_server_crash_after_forward_blocks_the_client():
    """The server loses its volatile 'waiting' table in a crash but keeps its log; after the
    restart the replica's ack finds nobody waiting, so the client never gets an answer."""
    sim = Simulation(forwarding_system(writes=1), network=Network(Constant(1)),
                     faults=[crash("server", at=2), restart("server", at=3)])
    sim.run()
    server = sim.node("server")
    assert server.log == [("write", 1)] and server.waiting == {}
    assert sim.node("replica").log == [("write", 1)]
    (op,) = sim.trace.history()
    assert (op.invoke, op.response) == (0.5, None)
    assert [e.describe() for e in sim.trace.step_events(sim.steps - 1)] == [
        "server receives ForwardAck(index=1) from replica"]


# ---- partitions, cuts, heal -----------------------------------------------------------------

def test_partition_drops_messages_across_groups_until_heal():
    """During a partition, messages between groups are lost as they are sent (reason
    'partition'); after heal they flow again."""
    sim = Simulation(pingers(), network=half(),
                     faults=[partition(["a"], at=2.75), heal(at=5.25)])
    sim.run(until=8)
    assert got(sim, "b") == [("a", 1), ("a", 2), ("a", 6), ("a", 7)]
    assert got(sim, "c") == got(sim, "b")
    drops = sim.trace.select("drop")
    assert [(e.time, e.peer, e.msg.n, e.detail, e.primary) for e in drops] == [
        (t, dst, t, "partition", False) for t in (3, 4, 5) for dst in ("b", "c")]
    (p,) = sim.trace.select("partition")
    assert p.msg == (("a",), ("b", "c")) and p.time == 2.75
    assert [e.time for e in sim.trace.select("heal")] == [5.25]


def test_messages_in_flight_across_a_new_partition_are_lost_on_arrival():
    """A message already on its way when the partition starts is lost when it arrives."""
    sim = Simulation(pingers(), network=half(), faults=[partition(["a"], ["b"], at=1.25)])
    sim.run(until=1.5)
    assert [(e.time, e.peer, e.detail, e.primary) for e in sim.trace.select("drop")] == [
        (1.5, "b", "partition", True), (1.5, "c", "partition", True)]


def test_partition_within_a_group_still_talks():
    """Nodes in the same group keep talking during a partition."""
    sim = Simulation(pingers(), network=half(), faults=[partition(["a", "b"], at=0)])
    sim.run(until=3.5)
    assert got(sim, "b") == [("a", 1), ("a", 2), ("a", 3)]
    assert got(sim, "c") == []


def test_cut_is_one_way():
    """cut(a, b): b hears nothing from a (reason 'link cut'), but a still hears b."""
    sim = Simulation(pingers(a_to=("b",), b_to=("a",)), network=half(), faults=[cut("a", "b", at=0)])
    sim.run(until=3.5)
    assert got(sim, "a") == [("b", 1), ("b", 2), ("b", 3)]
    assert got(sim, "b") == []
    assert {e.detail for e in sim.trace.select("drop")} == {"link cut"}
    assert sim.trace.count("drop") == 3


# ---- drop rules ------------------------------------------------------------------------------

def test_drop_loses_exactly_the_next_n_matching_messages():
    """drop(msg_type=Ping, count=2) loses the next two Pings sent after it takes effect, then
    no more."""
    sim = Simulation(pingers(a_to=("b",)), network=half(), faults=[drop(Ping, count=2, at=2.5)])
    sim.run(until=6)
    assert got(sim, "b") == [("a", 1), ("a", 2), ("a", 5)]
    assert [(e.time, e.msg, e.detail) for e in sim.trace.select("drop")] == [
        (3.0, Ping(3), "dropped by the fault schedule"),
        (4.0, Ping(4), "dropped by the fault schedule")]
    assert [e.detail for e in sim.trace.select("drop-rule")] == ["drop 2 Ping(s) at t=2.5"]


def test_drop_matches_type_and_link():
    """A drop rule only takes messages of its type on its link; others pass."""
    sim = Simulation(pingers(), network=half(),
                     faults=[drop("Ping", dst="c", count=2, at=0), drop("Pong", count=5, at=0)])
    sim.run(until=4)
    assert got(sim, "b") == [("a", 1), ("a", 2), ("a", 3)]
    assert got(sim, "c") == [("a", 3)]


# ---- conditions --------------------------------------------------------------------------------

def test_condition_fires_right_after_the_step_that_made_it_true():
    """crash(server, when=<it sent its first Forward>) crashes it as the very next step, at the
    same time, before anything else happens; the Forward still reaches the replica."""
    first_forward = lambda sim: sim.trace.count("send", node="server", msg_type="Forward") >= 1
    sim = Simulation(forwarding_system(writes=1), network=Network(Constant(1)),
                     faults=[crash("server", when=first_forward)])
    sim.run()
    lines = [(e.step, e.time, e.describe()) for e in sim.trace]
    assert lines[6:] == [
        (4, 1.5, "server receives Request(client='client', seq=0, op=('write', 1)) from client"),
        (4, 1.5, "server sends Forward(index=1, op=('write', 1)) to replica"),
        (5, 1.5, "server crashes"),
        (6, 2.5, "replica receives Forward(index=1, op=('write', 1)) from server"),
        (6, 2.5, "replica sends ForwardAck(index=1) to server"),
        (7, 3.5, "ForwardAck(index=1) from replica to server is lost (server is down)"),
    ]
    assert sim.trace.count("crash") == 1   # the condition stays true but fires only once


def test_condition_true_at_the_start_fires_before_anything_else():
    """A condition that holds once the nodes have started fires as the first step after them."""
    sim = Simulation(forwarding_system(writes=1), network=Network(Constant(1)),
                     faults=[crash("replica", when=lambda sim: True)])
    sim.run()
    assert [(e.step, e.time, e.kind, e.node) for e in sim.trace.events[3:5]] == [
        (3, 0.0, "crash", "replica"), (4, 0.5, "timer", "client")]


def test_each_condition_fires_once_even_when_faults_look_alike():
    """Faults that differ only in their condition are distinct: each fires once, at its time."""
    sim = Simulation(pingers(), network=half(), faults=[
        partition(["a"], when=lambda sim: sim.now >= 6),
        heal(when=lambda sim: sim.now >= 4),
        partition(["a"], when=lambda sim: sim.now >= 2),
    ])
    sim.run(until=9)
    assert [(e.kind, e.time) for e in sim.trace.select(("partition", "heal"))] == [
        ("partition", 2.0), ("heal", 4.0), ("partition", 6.0)]
    # Ping(2) and Ping(6) were sent just before a partition, 3, 4, 7, 8, 9 during one
    assert got(sim, "b") == [("a", 1), ("a", 5)]
    assert [(e.msg.n, e.primary) for e in sim.trace.select("drop", peer="b")] == [
        (2, True), (3, False), (4, False), (6, True), (7, False), (8, False), (9, False)]


# ---- applying faults by hand -----------------------------------------------------------------

def test_apply_makes_a_fault_happen_now():
    """sim.crash/restart/partition/heal (what the fault panel's buttons call) act at once."""
    sim = Simulation(pingers(), network=half())
    sim.run(until=1.7)
    ev = sim.crash("b")
    assert (ev.kind, ev.node, ev.time, ev.primary) == ("crash", "b", 1.7, True)
    sim.partition(["c"])
    sim.run(until=2.7)
    assert got(sim, "c") == [("a", 1)]
    assert [(e.time, e.peer, e.detail) for e in sim.trace.select("drop")] == [
        (2.0, "c", "partition"), (2.5, "b", "b is down")]
    sim.heal()
    sim.restart("b")
    sim.run(until=3.7)
    assert got(sim, "b") == [("a", 3)] and got(sim, "c") == [("a", 1), ("a", 3)]
    with pytest.raises(ValueError, match="apply\\(\\) takes a fault"):
        sim.apply("crash b")
    with pytest.raises(ValueError, match="unknown node"):
        sim.crash("zz")
