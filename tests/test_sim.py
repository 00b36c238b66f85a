"""The Simulation: validation, running, the seeded network, and time travel."""


import pytest
from helpers import Ping, Pong

from replib import Constant, HandlerError, LongTail, Network, Node, Simulation, Uniform
from replib.clients import NextOp, Reply, Request
from replib.faults import crash, partition, restart
from replib.protocols.forwarding import Forward, ForwardAck, Server, forwarding_system


class Sender(Node):
    """At start, sends Ping(1..count) to ``to``, all at time 0."""

    def __init__(self, id, to="b", count=1):
        super().__init__(id)
        self.to = to
        self.count = count

    def on_start(self):
        for i in range(1, self.count + 1):
            self.send(self.to, Ping(i))

    def on_pong(self, msg, sender):
        pass


class Echo(Node):
    """Records each Ping and answers it with a Pong."""

    def __init__(self, id):
        super().__init__(id)
        self.got = []

    def on_ping(self, msg, sender):
        self.got.append(msg.n)
        self.send(sender, Pong(msg.n))


def fwd(**kw):
    return Simulation(forwarding_system(**kw), network=Network(Constant(1)), seed=0)


# ---- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("nodes, match", [
    ([], "a system needs at least one node"),
    (None, "nodes must be a list of Node objects"),
    ([Echo("a"), Echo("a")], "duplicate node id 'a'"),
    ([Echo("a"), "b"], "every node must be a replib Node"),
])
def test_bad_nodes_are_refused(nodes, match):
    """A system is a non-empty list of Node objects with distinct ids."""
    with pytest.raises(ValueError, match=match):
        Simulation(nodes)


@pytest.mark.parametrize("kw, match", [
    (dict(seed=1.5), "seed must be an integer, got 1.5"),
    (dict(seed=True), "seed must be an integer, got True"),
    (dict(seed="0"), "seed must be an integer"),
    (dict(network="fast"), "network must be a replib Network"),
    (dict(network=Constant(1)), "network must be a replib Network"),
    (dict(controls=True), r"controls must be None or a Controls\(...\)"),
])
def test_bad_settings_are_refused(kw, match):
    """The seed is an integer, the network a Network, controls a Controls."""
    with pytest.raises(ValueError, match=match):
        Simulation([Echo("a")], **kw)


@pytest.mark.parametrize("kw, match", [
    (dict(until=-1), "until must be a finite time >= 0 or a function of the simulation "
                      r"\(None: until nothing is left\), got -1"),
    (dict(until=True), "until must be a finite time"),
    (dict(until="5"), "until must be a finite time"),
    (dict(until=float("nan")), "until must be a finite time"),
    (dict(until=float("inf")), "until must be a finite time"),
    (dict(max_events=0), "max_events must be a whole number >= 1, got 0"),
    (dict(max_events=2.5), "max_events must be a whole number"),
    (dict(max_events=True), "max_events must be a whole number"),
])
def test_bad_run_arguments_are_refused(kw, match):
    """until is a finite time >= 0 or a predicate; max_events a whole number >= 1."""
    with pytest.raises(ValueError, match=match):
        fwd().run(**kw)


def test_node_lookup_names_the_nodes():
    """sim.node(id) gives the live node; an unknown id lists the real ones."""
    sim = fwd()
    assert isinstance(sim.node("server"), Server)
    with pytest.raises(ValueError, match=r"no node 'srv'; nodes are \['client', 'server', 'replica'\]"):
        sim.node("srv")


# ---- handler errors ----------------------------------------------------------------------------

class Boom(Node):
    def on_ping(self, msg, sender):
        return 1 / 0

    def on_pong(self, msg, sender):
        self.send("nobody", Ping(0))


def test_handler_exception_is_reraised_saying_where():
    """An exception in a handler comes back as HandlerError naming the node, the step, the event
    index, the time and the message being handled, chained to the original exception."""
    sim = Simulation([Sender("a", "b"), Boom("b")])
    with pytest.raises(HandlerError) as info:
        sim.run()
    assert str(info.value) == (
        "Boom 'b' failed in step 2 (event 3, t=1) handling b receives Ping(n=1) from a: "
        "ZeroDivisionError: division by zero")
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_value_error_in_a_handler_stays_a_value_error():
    """A ValueError raised in a handler (e.g. a send to an unknown node) stays a ValueError,
    with the same location prefix."""
    class Ponger(Node):
        def on_start(self):
            self.send("b", Pong(1))

    sim = Simulation([Ponger("a"), Boom("b")])
    with pytest.raises(ValueError, match=r"^Boom 'b' failed in step 2 \(event 3, t=1\) handling "
                                         r"b receives Pong\(n=1\) from a: ValueError: b sends "
                                         r"Ping\(n=0\) to unknown node 'nobody'"):
        sim.run()


def test_missing_handler_surfaces_through_the_simulation():
    """A message with no handler stops the run with a HandlerError naming the method to add."""
    sim = Simulation([Sender("a", "b"), Node("b")])
    with pytest.raises(HandlerError, match=r"add a method on_ping\(self, msg, sender\)"):
        sim.run()


def test_error_in_on_start_is_raised_by_the_constructor():
    """on_start runs when the Simulation is built, so its errors surface there."""
    class BadStart(Node):
        def on_start(self):
            self.send("a", ("not", "a", "dataclass"))

    with pytest.raises(HandlerError, match="BadStart 'a' failed in step 0 .* a starts: TypeError"):
        Simulation([BadStart("a")])


# ---- running -----------------------------------------------------------------------------------

def test_start_steps_come_first_in_node_order():
    """Each node's on_start is a step of its own at time 0, in the order the nodes were given."""
    sim = fwd()
    assert [(e.step, e.time, e.kind, e.node) for e in sim.trace] == [
        (0, 0.0, "start", "client"), (1, 0.0, "start", "server"), (2, 0.0, "start", "replica")]
    assert sim.pending_timers() == [("client", NextOp())]


def test_forwarding_worked_example():
    """The worked example of chapter 00: seed 0, every message takes 1.  The client writes three
    times; each write goes client -> server -> replica -> server -> client (4 hops, 4 time
    units), and the client thinks 0.5 between writes."""
    sim = fwd()
    trace = sim.run()
    assert sim.stopped == "nothing left to do"
    expected = [(0, 0.0, "client starts"), (1, 0.0, "server starts"), (2, 0.0, "replica starts")]
    step, t = 3, 0.5
    for seq in range(3):
        w = ("write", seq + 1)
        req = Request("client", seq, w)
        expected += [
            (step, t, "client: timer NextOp() fires"),
            (step, t, f"client invokes {w!r}"),
            (step, t, f"client sends {req!r} to server"),
            (step + 1, t + 1, f"server receives {req!r} from client"),
            (step + 1, t + 1, f"server sends {Forward(seq + 1, w)!r} to replica"),
            (step + 2, t + 2, f"replica receives {Forward(seq + 1, w)!r} from server"),
            (step + 2, t + 2, f"replica sends {ForwardAck(seq + 1)!r} to server"),
            (step + 3, t + 3, f"server receives {ForwardAck(seq + 1)!r} from replica"),
            (step + 3, t + 3, f"server sends {Reply(seq, 'ok')!r} to client"),
            (step + 4, t + 4, f"client receives {Reply(seq, 'ok')!r} from server"),
            (step + 4, t + 4, f"client gets 'ok' for {w!r}"),
        ]
        step, t = step + 5, t + 4.5
    assert [(e.step, e.time, e.describe()) for e in trace] == expected
    # the same, spelled out for the first write (what the chapter's text walks through)
    assert trace.to_text(limit=14).splitlines()[3:] == [
        "   3 t=   0.50  client: timer NextOp() fires",
        "     t=   0.50  client invokes ('write', 1)",
        "     t=   0.50  client sends Request(client='client', seq=0, op=('write', 1)) to server",
        "   4 t=   1.50  server receives Request(client='client', seq=0, op=('write', 1)) from client",
        "     t=   1.50  server sends Forward(index=1, op=('write', 1)) to replica",
        "   5 t=   2.50  replica receives Forward(index=1, op=('write', 1)) from server",
        "     t=   2.50  replica sends ForwardAck(index=1) to server",
        "   6 t=   3.50  server receives ForwardAck(index=1) from replica",
        "     t=   3.50  server sends Reply(seq=0, result='ok') to client",
        "   7 t=   4.50  client receives Reply(seq=0, result='ok') from server",
        "     t=   4.50  client gets 'ok' for ('write', 1)",
        "... 22 more events",
    ]
    assert sim.node("replica").log == [("write", 1), ("write", 2), ("write", 3)]
    assert sim.node("client").results == ["ok", "ok", "ok"]
    assert trace.message_counts() == {"Request": 3, "Forward": 3, "ForwardAck": 3, "Reply": 3}


def test_forwarding_client_history():
    """trace.history(): the sync client's writes take 4 time units each (invoke at 0.5, 5, 9.5;
    answered at 4.5, 9, 13.5); async ones take 2, since the server answers at once."""
    ops = fwd().run().history()
    assert [(o.client, o.op, o.invoke, o.response, o.result, o.latency) for o in ops] == [
        ("client", ("write", 1), 0.5, 4.5, "ok", 4.0),
        ("client", ("write", 2), 5.0, 9.0, "ok", 4.0),
        ("client", ("write", 3), 9.5, 13.5, "ok", 4.0),
    ]
    ops = fwd(wait_for_replica=False).run().history()
    assert [(o.invoke, o.response) for o in ops] == [(0.5, 2.5), (3.0, 5.0), (5.5, 7.5)]


def test_unanswered_operation_has_no_response():
    """An operation whose reply never comes has response None and latency None."""
    sim = Simulation(forwarding_system(writes=2), network=Network(Constant(1)),
                     faults=[crash("replica", at=0)])
    (op,) = sim.run().history()
    assert (op.op, op.invoke, op.response, op.result, op.latency) == (("write", 1), 0.5, None, None, None)


def test_client_timeout_resends():
    """A client with a timeout sends its request again when no reply came in time."""
    sim = Simulation(forwarding_system(writes=1, timeout=2), network=Network(Constant(1)),
                     faults=[partition(["replica"], at=0)])
    sim.run(until=7)
    assert [e.time for e in sim.trace.select("send", node="client")] == [0.5, 2.5, 4.5, 6.5]
    assert {e.msg for e in sim.trace.select("send", node="client")} == {
        Request("client", 0, ("write", 1))}


def test_step_returns_the_primary_event_then_none():
    """step() does one event and returns its primary event; None once nothing is left."""
    sim = fwd(writes=1)
    ev = sim.step()
    assert (ev.kind, ev.node, ev.time, ev.primary, ev.step) == ("timer", "client", 0.5, True, 3)
    while sim.step() is not None:
        pass
    assert sim.stopped == "nothing left to do"
    assert sim.steps == 8


def test_run_until_a_time_stops_there():
    """run(until=t) does every event at times <= t and nothing later; the clock then reads t."""
    sim = fwd()
    sim.run(until=3.5)
    assert sim.now == 3.5 and sim.stopped == "time 3.5 reached"
    assert sim.trace.events[-1].describe() == "server sends Reply(seq=0, result='ok') to client"
    assert max(e.time for e in sim.trace) == 3.5
    sim.run(until=4)
    assert sim.now == 4 and sim.trace.events[-1].time == 3.5
    assert sim.in_flight() == [("server", "client", Reply(0, "ok"))]
    sim.run()
    assert sim.now == 13.5


def test_run_until_a_time_skips_cancelled_timers_without_running_past_it():
    """A cancelled timer due before the stop time does not let run() do a later event."""
    sim = Simulation(forwarding_system(writes=2, think=2, timeout=4.2), network=Network(Constant(1)))
    # request at 2, reply at 6 cancels the timeout due at 6.2; the next write is at 8
    sim.run(until=7)
    assert sim.now == 7 and sim.stopped == "time 7 reached"
    assert max(e.time for e in sim.trace) == 6.0
    sim.run(until=8)
    assert sim.trace.events[-1].describe().startswith("client sends Request(client='client', seq=1")


def test_run_until_a_condition():
    """run(until=f) stops before the first step at which f(sim) is true."""
    sim = fwd()
    sim.run(until=lambda s: s.node("replica").log == [("write", 1), ("write", 2)])
    assert sim.stopped == "condition met"
    assert sim.now == 7.0
    assert sim.trace.events[-1].describe() == "replica sends ForwardAck(index=2) to server"


def test_max_events_bounds_the_trace():
    """run(max_events=n) stops as soon as the trace holds n or more events."""
    sim = fwd()
    sim.run(max_events=10)
    assert sim.stopped == "max_events (10) reached"
    assert len(sim.trace) == 10       # steps 3..5 add 3, 2, 2 events to the 3 starts
    sim.run(max_events=11)
    assert len(sim.trace) == 12       # one more step, with its send


def test_simulation_does_not_touch_the_callers_nodes():
    """The nodes passed in are copied: running the simulation leaves them exactly as they were."""
    nodes = forwarding_system()
    before = [dict(vars(n)) for n in nodes]
    sim = Simulation(nodes, network=Network(Constant(1)))
    sim.run()
    assert [dict(vars(n)) for n in nodes] == before
    assert nodes[2].log == [] and sim.node("replica").log != []
    assert sim.node("replica") is not nodes[2]


def test_simulation_does_not_touch_the_callers_network():
    """The network passed in is copied too: partitions during the run do not change it."""
    net = Network(Constant(1))
    sim = Simulation(forwarding_system(), network=net, faults=[partition(["replica"], at=1)])
    sim.run()
    assert net.groups is None and sim.network.groups is not None


def test_record_states_off_stores_no_states():
    """With record_states=False events carry no state (faster, for long runs)."""
    sim = Simulation(forwarding_system(), network=Network(Constant(1)), record_states=False)
    sim.run()
    assert all(e.state is None for e in sim.trace)
    sim = fwd()
    sim.run()
    assert all((e.state is not None) == e.primary for e in sim.trace)


# ---- the seeded network ----------------------------------------------------------------------

def test_loss_one_delivers_nothing():
    """loss=1.0 loses every message as it is sent, with the reason 'random loss'."""
    sim = Simulation([Sender("a", "b", 20), Echo("b")], network=Network(loss=1.0))
    sim.run()
    assert sim.trace.count("send") == 20
    assert sim.trace.count("deliver") == 0
    drops = sim.trace.select("drop")
    assert len(drops) == 20 and {(d.detail, d.primary) for d in drops} == {("random loss", False)}


def test_partial_loss_loses_about_that_share():
    """loss=0.3 over 2000 messages loses roughly 30% (the draws come from the seed)."""
    sim = Simulation([Sender("a", "b", 2000), Node("b")], network=Network(loss=0.3), seed=3)
    sim.run(until=0)
    lost = sim.trace.count("drop")
    assert 540 < lost < 660


def test_duplicate_one_delivers_every_message_twice():
    """duplicate=1.0: each message is delivered twice, and each reply too; counts are exact."""
    sim = Simulation([Sender("a", "b", 5), Echo("b")], network=Network(duplicate=1.0))
    sim.run()
    t = sim.trace
    assert t.count("send", msg_type="Ping") == 5 and t.count("duplicate", msg_type="Ping") == 5
    assert t.count("deliver", msg_type="Ping") == 10
    assert sim.node("b").got == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert t.count("send", msg_type="Pong") == 10
    assert t.count("deliver", msg_type="Pong") == 20
    dup = t.select("duplicate")[0]
    assert (dup.node, dup.peer, dup.msg, dup.detail) == ("a", "b", Ping(1), 1)
    assert t.message_counts() == {"Ping": 5, "Pong": 10}


def test_random_latency_reorders_and_fifo_does_not():
    """With random latency two messages on one link may arrive out of order; fifo=True keeps
    the send order on every link (here with the very same seed and latencies)."""
    nodes = [Sender("a", "b", 30), Echo("b")]
    loose = Simulation(nodes, network=Network(Uniform(0.1, 5)), seed=1)
    loose.run()
    assert loose.node("b").got != list(range(1, 31))
    assert sorted(loose.node("b").got) == list(range(1, 31))
    ordered = Simulation(nodes, network=Network(Uniform(0.1, 5), fifo=True), seed=1)
    ordered.run()
    assert ordered.node("b").got == list(range(1, 31))
    times = [e.time for e in ordered.trace.select("deliver", node="b")]
    assert times == sorted(times)


def test_link_latency_is_used_for_that_link():
    """A per-link latency applies to that direction only."""
    net = Network(Constant(1), links={("a", "b"): Constant(3)})
    sim = Simulation([Sender("a", "b", 1), Echo("b")], network=net)
    sim.run()
    assert [(e.kind, e.node, e.time) for e in sim.trace.select("deliver")] == [
        ("deliver", "b", 3.0), ("deliver", "a", 4.0)]


def test_seed_drives_latencies():
    """Different seeds give different random latencies; the same seed the same ones."""
    def times(seed):
        sim = Simulation([Sender("a", "b", 3), Echo("b")], network=Network(LongTail(1, 1)), seed=seed)
        sim.run()
        return [e.time for e in sim.trace.select("deliver")]

    assert times(1) == times(1)
    assert times(1) != times(2)


def test_each_node_has_its_own_seeded_random_source():
    """node.rng depends on the run's seed and the node's id only."""
    class Dice(Node):
        def __init__(self, id):
            super().__init__(id)
            self.roll = None

        def on_start(self):
            self.roll = self.rng.random()

    def rolls(seed, ids=("a", "b")):
        sim = Simulation([Dice(i) for i in ids], seed=seed)
        return {i: sim.node(i).roll for i in ids}

    assert rolls(0) == rolls(0)
    assert rolls(0)["a"] != rolls(0)["b"]
    assert rolls(0)["a"] != rolls(1)["a"]
    assert rolls(0, ("b", "a")) == rolls(0)       # not the node's position


def test_in_flight_lists_messages_on_their_way():
    """in_flight() gives (src, dst, msg) for every message sent and not yet delivered, by arrival."""
    sim = Simulation([Sender("a", "b", 2), Echo("b")], network=Network(Constant(2)))
    assert sim.in_flight() == [("a", "b", Ping(1)), ("a", "b", Ping(2))]
    sim.step()
    assert sim.in_flight() == [("a", "b", Ping(2)), ("b", "a", Pong(1))]


# ---- time travel -----------------------------------------------------------------------------

def run_with_faults(seed=4):
    """Lossy and duplicating, with a server crash; the client may retry forever, so runs are
    bounded by time."""
    return Simulation(forwarding_system(writes=4, timeout=3),
                      network=Network(Uniform(0.5, 2), loss=0.2, duplicate=0.2),
                      faults=[crash("server", at=4), restart("server", at=6)], seed=seed)


def test_rewind_gives_back_the_trace_prefix_and_node_states():
    """rewind(k) puts the simulation back just after step k-1: the same first events, the same
    node states, the same clock as when it was there the first time."""
    sim = run_with_faults()
    seen = {}
    while sim.now < 30 and sim.step() is not None:
        seen[sim.steps] = ([e.key() for e in sim.trace],
                           {i: n.snapshot() for i, n in sim.nodes.items()}, sim.now)
    total = sim.steps
    assert total > 20
    for k in (total, total - 1, 12, 4):
        sim.rewind(k)
        assert sim.steps == k
        keys, states, now = seen[k]
        assert [e.key() for e in sim.trace] == keys
        assert {i: n.snapshot() for i, n in sim.nodes.items()} == states
        assert sim.now == now


def test_continuing_after_rewind_reproduces_the_run():
    """After rewinding, running on gives exactly the original run (same digest)."""
    sim = run_with_faults()
    digest = sim.run(until=30).digest()
    sim.rewind(10)
    assert sim.trace.digest() != digest
    assert sim.run(until=30).digest() == digest


def test_rewind_replays_applied_faults_at_their_time():
    """Faults applied by hand are part of the log that rewind replays, at the time they were
    applied (here t=2, where run(until=2) left the clock, not t=1.5 of the step before)."""
    sim = fwd()
    sim.run(until=2)
    sim.crash("replica")              # step 5
    sim.run()                         # step 6: the Forward is lost; then nothing is left
    digest = sim.trace.digest()
    assert sim.steps == 7
    sim.rewind(6)                     # just after the crash
    assert sim.crashed == {"replica"}
    assert (sim.trace.events[-1].kind, sim.trace.events[-1].time) == ("crash", 2.0)
    sim.run()
    assert sim.trace.digest() == digest
    sim.rewind(5)                     # before it: the crash is forgotten
    assert sim.crashed == set() and sim.now == 1.5
    sim.run()
    assert sim.trace.count("crash") == 0 and sim.node("replica").log == [
        ("write", 1), ("write", 2), ("write", 3)]


def test_rewind_checks_its_argument():
    """rewind takes a step count between 0 and the number of steps so far."""
    sim = fwd()
    sim.run(until=2)
    with pytest.raises(ValueError, match=r"rewind takes a step count between 0 and 5, got 6"):
        sim.rewind(6)
    with pytest.raises(ValueError, match="got -1"):
        sim.rewind(-1)


def test_repr():
    """A simulation prints its mode, size, clock, steps and network."""
    sim = fwd()
    sim.run(until=2)
    assert repr(sim) == ("<Simulation seed=0: 3 nodes, t=2, 5 steps, "
                         "Network(latency=constant 1)>")


def test_fault_times_are_floats():
    """A fault at=7 and one at=7.0 give the very same trace (times are floats throughout)."""
    def digest(at):
        sim = Simulation(forwarding_system(), network=Network(Constant(1)),
                         faults=[crash("replica", at=at), restart("replica", at=at + 1)])
        return sim.run().digest()

    assert digest(7) == digest(7.0)
    sim = Simulation(forwarding_system(), faults=[crash("replica", at=7)])
    sim.run()
    assert all(type(e.time) is float for e in sim.trace)


def test_run_leaves_the_garbage_collector_as_it_found_it():
    """run() pauses the cyclic garbage collector while it runs and puts it back as it was,
    also when a handler fails."""
    import gc

    assert gc.isenabled()
    fwd().run()
    assert gc.isenabled()
    with pytest.raises(HandlerError):
        Simulation([Sender("a", "b"), Boom("b")]).run()
    assert gc.isenabled()
    gc.disable()
    try:
        fwd().run()
        assert not gc.isenabled()
    finally:
        gc.enable()
