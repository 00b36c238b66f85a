"""The trace: events, steps, and the questions one asks of a run."""


from helpers import Ping, Pong

from replib import Constant, Network, Node, Simulation, Uniform
from replib.clients import Request
from replib.faults import crash, cut, drop, heal, partition, restart
from replib.protocols.forwarding import Forward, forwarding_system
from replib.state import thaw
from replib.trace import Trace


class Pinger(Node):
    """Sends Ping(1..count) to b at start; takes Pongs."""

    def __init__(self, id, count=1):
        super().__init__(id)
        self.count = count
        self.pongs = []

    def on_start(self):
        for i in range(1, self.count + 1):
            self.send("b", Ping(i))

    def on_pong(self, msg, sender):
        self.pongs.append(msg.n)


class Ponger(Node):
    """Answers each Ping with a Pong."""

    def on_ping(self, msg, sender):
        self.send(sender, Pong(msg.n))


def ping_pong(count=1, **net):
    return Simulation([Pinger("a", count), Ponger("b")], network=Network(**net))


def story():
    """Two sync writes; the replica crashes and restarts between them; a short partition cuts
    the client off while write 2's Forward is on its way (it arrives after the heal)."""
    sim = Simulation(forwarding_system(writes=2), network=Network(Constant(1)), seed=0,
                     faults=[crash("replica", at=3), restart("replica", at=3.2),
                             partition(["client"], at=6.5), heal(at=7)])
    sim.run()
    return sim


def test_events_and_steps_are_numbered_in_order():
    """Events are indexed 0, 1, 2...; each step opens with its primary event and the events it
    caused follow with the same step number."""
    t = story().trace
    assert [e.index for e in t] == list(range(len(t)))
    assert len(t.steps) == 17 and len(t) == 29
    assert all(t[i].primary and t[i].step == s for s, i in enumerate(t.steps))
    assert sum(e.primary for e in t) == len(t.steps)
    assert t.duration == 9.0
    assert repr(t) == "<Trace: 17 steps, 29 events, 3 nodes, t=0..9>"
    assert t.nodes == ("client", "server", "replica")
    assert t.roles == {"client": "Client", "server": "Server", "replica": "Replica"}


def test_step_events_gives_a_step_and_what_it_caused():
    """step_events(k) is the primary event of step k and the sends and records it caused."""
    t = story().trace
    assert [e.describe() for e in t.step_events(3)] == [
        "client: timer NextOp() fires",
        "client invokes ('write', 1)",
        "client sends Request(client='client', seq=0, op=('write', 1)) to server"]
    assert [e.describe() for e in t.step_events(6)] == ["replica crashes"]
    assert [e.describe() for e in t.step_events(16)] == [
        "client receives Reply(seq=1, result='ok') from server",
        "client gets 'ok' for ('write', 2)"]


def test_select_and_count_filter_on_every_field():
    """select(kind, node, peer, msg_type) keeps the events matching all given fields; kind and
    msg_type may be tuples; count is the number selected."""
    t = story().trace
    assert [e.msg for e in t.select("send", node="server", peer="replica")] == [
        Forward(1, ("write", 1)), Forward(2, ("write", 2))]
    assert [e.index for e in t.select(msg_type="ForwardAck", kind="deliver")] == [
        t.select("deliver", node="server")[1].index, t.select("deliver", node="server")[3].index]
    assert t.count("send") == 8
    assert t.count(("crash", "restart")) == 2
    assert t.count("send", msg_type=("Request", "Reply")) == 4
    assert t.count(node="replica") == 7       # start, 2 delivers, 2 sends, crash, restart
    assert t.count("drop") == 0


def test_message_counts_per_type():
    """message_counts() counts sends by message type."""
    assert story().trace.message_counts() == {"Request": 2, "Forward": 2, "ForwardAck": 2,
                                              "Reply": 2}


def test_message_counts_do_not_count_duplicates():
    """A network duplicate is not a second send (but each copy is delivered and answered)."""
    t = ping_pong(3, duplicate=1.0).run()
    assert t.message_counts() == {"Ping": 3, "Pong": 6}
    assert t.count("duplicate") == 9 and t.count("deliver") == 18


def test_messages_report_each_copy_and_its_fate():
    """messages() lists every copy sent with its sender, receiver, send time and fate:
    delivered (and when), dropped (and why), or still in flight."""
    sim = Simulation(forwarding_system(writes=2), network=Network(Constant(1)), seed=0,
                     faults=[partition(["replica"], at=6.5)])
    sim.run(until=7.5)
    out = [(m["msg_id"], m["src"], m["dst"], m["sent"], m["fate"], m["at"])
           for m in sim.trace.messages()]
    assert out == [
        (1, "client", "server", 0.5, "delivered", 1.5),
        (2, "server", "replica", 1.5, "delivered", 2.5),
        (3, "replica", "server", 2.5, "delivered", 3.5),
        (4, "server", "client", 3.5, "delivered", 4.5),
        (5, "client", "server", 5.0, "delivered", 6.0),
        (6, "server", "replica", 6.0, "dropped (partition)", 7.0),
    ]
    sim = Simulation(forwarding_system(writes=1), network=Network(Constant(1)))
    sim.run(until=1)
    (m,) = sim.trace.messages()
    assert (m["msg"], m["fate"], m["at"], m["duplicate"]) == (
        Request("client", 0, ("write", 1)), "in flight", None, False)


def test_messages_mark_network_duplicates():
    """A network duplicate is a copy of its own, marked duplicate=True."""
    ms = ping_pong(1, duplicate=1.0).run().messages()
    assert [(m["msg_id"], m["msg"], m["duplicate"], m["fate"]) for m in ms] == [
        (1, Ping(1), False, "delivered"), (2, Ping(1), True, "delivered"),
        (3, Pong(1), False, "delivered"), (4, Pong(1), True, "delivered"),
        (5, Pong(1), False, "delivered"), (6, Pong(1), True, "delivered")]


def test_history_gives_invoke_and_response_times():
    """history() pairs each client invoke with its response."""
    ops = story().trace.history()
    assert [(o.client, o.op, o.invoke, o.response, o.result) for o in ops] == [
        ("client", ("write", 1), 0.5, 4.5, "ok"),
        ("client", ("write", 2), 5.0, 9.0, "ok")]


def test_states_at_reconstructs_every_node_after_a_step():
    """states_at(k) is every node's state just after step k (-1: the initial states); a crashed
    node is marked '(crashed)' until it restarts."""
    sim = story()
    t = sim.trace
    assert t.states_at(-1) == t.initial
    assert thaw(t.states_at(-1)["replica"]["log"]) == []
    s5 = t.states_at(5)
    assert thaw(s5["replica"]["log"]) == [("write", 1)]
    assert thaw(s5["server"]["waiting"]) == {1: ("client", 0)}
    s6 = t.states_at(6)
    assert s6["replica"]["(crashed)"] is True
    assert thaw(s6["replica"]["log"]) == [("write", 1)]      # stable: survives the crash
    assert "(crashed)" not in t.states_at(7)["replica"]
    final = t.states_at(len(t.steps) - 1)
    for node_id, node in sim.nodes.items():
        assert final[node_id] == node.state()


def test_to_text_lines_and_limit():
    """to_text() writes one line per event: the step number on primary events, the time, and a
    sentence; with a limit it says how many events it left out."""
    t = story().trace
    lines = t.to_text().splitlines()
    assert len(lines) == 29
    assert lines[10] == "   6 t=   3.00  replica crashes"
    assert lines[11] == "   7 t=   3.20  replica restarts"
    assert lines[21] == "  12 t=   6.50  partition: client | server,replica"
    assert lines[22] == "  13 t=   7.00  the network heals"
    assert t.to_text(limit=2).splitlines() == [
        "   0 t=   0.00  client starts", "   1 t=   0.00  server starts", "... 27 more events"]


def test_event_descriptions_for_every_kind():
    """Each event kind reads as a sentence."""
    sim = ping_pong(1, latency=Constant(1), duplicate=1.0)
    sim.run(until=1)
    sim.crash("b")
    sim.crash("b")
    sim.restart("a")
    sim.restart("b")
    sim.partition(["a"])
    sim.heal()
    sim.apply(cut("a", "b"))
    sim.apply(drop("Pong", count=2))
    sim.run()
    text = [e.describe() for e in sim.trace]
    assert text == [
        "a starts",
        "a sends Ping(n=1) to b",
        "Ping(n=1) from a to b is duplicated",
        "b starts",
        "b receives Ping(n=1) from a",
        "b sends Pong(n=1) to a",
        "Pong(n=1) from b to a is duplicated",
        "b receives Ping(n=1) from a",
        "b sends Pong(n=1) to a",
        "Pong(n=1) from b to a is duplicated",
        "b crashes",
        "b crashes (already down; nothing happens)",
        "a restarts (was not down; nothing happens)",
        "b restarts",
        "partition: a | b",
        "the network heals",
        "b hears nothing more from a",
        "from now on: drop 2 Pong(s)",           # (for Pongs sent from now on)
        "a receives Pong(n=1) from b",
        "a receives Pong(n=1) from b",
        "a receives Pong(n=1) from b",
        "a receives Pong(n=1) from b",
    ]
    assert repr(sim.trace[0]) == "<0 t=0 a starts>"
    client = Simulation(forwarding_system(writes=1), network=Network(Constant(1))).run()
    assert [e.describe() for e in client.select(("timer", "invoke", "response"))] == [
        "client: timer NextOp() fires", "client invokes ('write', 1)",
        "client gets 'ok' for ('write', 1)"]


def test_digest_is_stable():
    """The digest depends only on the configuration and the seed: the same run gives the same
    digest, every time.  One small run's digest is pinned (if the trace's canonical form is
    changed on purpose, update it here)."""
    d = story().trace.digest()
    assert d == story().trace.digest()
    assert len(d) == 16 and int(d, 16) >= 0
    trace = ping_pong(10, latency=Uniform(0.5, 1.5), loss=0.2, duplicate=0.3).run()
    assert (trace.count("drop"), trace.count("duplicate")) == (3, 5)
    assert trace.digest() == "feec11e7fcb0249d"


def test_digest_changes_with_what_happened():
    """Different latencies or a different seed (with random latency) give a different digest."""
    def digest(seed, latency):
        return Simulation(forwarding_system(), network=Network(latency), seed=seed).run().digest()

    assert digest(0, Constant(1)) != digest(0, Constant(2))
    assert digest(0, Uniform(0.5, 1.5)) != digest(1, Uniform(0.5, 1.5))
    # with a constant latency the seed changes nothing that happens
    assert digest(0, Constant(1)) == digest(1, Constant(1))


def test_truncate_forgets_later_steps():
    """truncate(k) keeps exactly the events of steps 0..k-1."""
    t = story().trace
    keep = t.steps[5]
    events = list(t.events[:keep])
    t.truncate(5)
    assert t.events == events and len(t.steps) == 5
    t.truncate(10)
    assert len(t.steps) == 5


def test_an_empty_trace():
    """A trace with no events has duration 0 and prints its size."""
    t = Trace(["a"], {"a": "Node"}, {"a": {"id": "a"}})
    assert len(t) == 0 and t.duration == 0.0 and t.history() == [] and t.messages() == []
    assert t.states_at(-1) == {"a": {"id": "a"}}
    assert t.to_text() == ""
