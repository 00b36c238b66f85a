"""The Node base class: handler dispatch, effects, stable versus volatile state.

Roles are tested against a fake network: the node is attached to a list of ids, then
``node.handle(msg, sender)`` is called directly and the exact effects it returns are checked.
"""

import random
from dataclasses import dataclass

import pytest

from replib.clients import Reply, Request
from replib.node import HandlerError, Node, handler_name
from replib.protocols.forwarding import Forward, ForwardAck, Replica, Server
from helpers import plain


@dataclass(frozen=True)
class Prepare:
    n: int


@dataclass(frozen=True)
class AcceptOK:
    n: int


@dataclass(frozen=True)
class Retry:
    """A timer."""

    n: int


@dataclass
class Mutable:
    n: int


class Acceptor(Node):
    stable = ("promised",)

    def __init__(self, id):
        super().__init__(id)
        self.promised = 0
        self.heard = []
        self.peers_seen = set()
        self.starts = 0

    def on_start(self):
        self.starts += 1
        self.set_timer(Retry(1), 5)

    def on_prepare(self, msg, sender):
        self.heard.append(("prepare", msg.n))
        self.peers_seen.add(sender)
        if msg.n > self.promised:
            self.promised = msg.n
            self.send(sender, AcceptOK(msg.n))

    def on_accept_ok(self, msg, sender):
        self.heard.append(("ok", msg.n))
        self.broadcast(Prepare(msg.n + 1))
        self.set_timer(Retry(msg.n), 2.5)
        self.cancel_timer(Retry(msg.n - 1))
        self.cancel_timer(Retry)

    def on_retry(self, timer):
        self.heard.append(("retry", timer.n))


def attach(*nodes, ids=None):
    """The fake network: tell each node every id and give it a seeded random source."""
    ids = ids or [n.id for n in nodes]
    for n in nodes:
        n._attach(ids, random.Random(0))
    return nodes if len(nodes) > 1 else nodes[0]


# ---- dispatch ----------------------------------------------------------------------------

@pytest.mark.parametrize("cls_name, expected", [
    ("Prepare", "on_prepare"),
    ("AcceptOK", "on_accept_ok"),
    ("ForwardAck", "on_forward_ack"),
    ("RequestTimeout", "on_request_timeout"),
    ("NextOp", "on_next_op"),
    ("Phase1a", "on_phase1a"),
    ("HTTPRequest", "on_http_request"),
])
def test_handler_name_is_snake_case_of_the_class(cls_name, expected):
    """A message class CamelName is handled by on_camel_name (acronyms stay one word)."""
    assert handler_name(type(cls_name, (), {})) == expected


def test_message_dispatches_to_its_handler_with_the_sender():
    """handle(Prepare, sender) runs on_prepare(msg, sender); AcceptOK runs on_accept_ok."""
    a = attach(Acceptor("a"), ids=["a", "b", "c"])
    a.handle(Prepare(3), "b")
    a.handle(AcceptOK(7), "c")
    assert a.heard == [("prepare", 3), ("ok", 7)]
    assert a.peers_seen == {"b"}


def test_timer_dispatches_without_a_sender():
    """handle(timer) with no sender runs on_<timer>(timer)."""
    a = attach(Acceptor("a"))
    assert a.handle(Retry(4)) == []
    assert a.heard == [("retry", 4)]


def test_effects_are_collected_in_the_order_the_handler_made_them():
    """send, broadcast (to every other node, in system order), set_timer and cancel_timer
    come back from handle() as effects, in the order they were called."""
    a = attach(Acceptor("b"), ids=["a", "b", "c"])
    effects = plain(a.handle(AcceptOK(4), "c"))
    assert effects == [
        ("send", "a", Prepare(5)),
        ("send", "c", Prepare(5)),
        ("set", Retry(4), 2.5),
        ("cancel", Retry(3)),
        ("cancel", Retry),
    ]


def test_each_handle_returns_only_its_own_effects():
    """Effects do not leak from one step into the next."""
    a = attach(Acceptor("a"), ids=["a", "b"])
    assert plain(a.handle(Prepare(1), "b")) == [("send", "b", AcceptOK(1))]
    assert plain(a.handle(Prepare(1), "b")) == []     # not higher than promised: silence


def test_broadcast_to_an_explicit_list():
    """broadcast(msg, to=[...]) sends to exactly those nodes, in that order (self included if listed)."""
    class B(Node):
        def on_prepare(self, msg, sender):
            self.broadcast(AcceptOK(msg.n), to=["c", "a", "b"])

    b = attach(B("b"), ids=["a", "b", "c"])
    assert plain(b.handle(Prepare(1), "a")) == [
        ("send", "c", AcceptOK(1)), ("send", "a", AcceptOK(1)), ("send", "b", AcceptOK(1))]


def test_others_lists_every_other_id_in_system_order():
    """others is every id but the node's own, in the order the system lists them."""
    b = attach(Acceptor("b"), ids=["c", "b", "a"])
    assert b.others == ("c", "a")


def test_run_hook_returns_on_start_effects():
    """run_hook('on_start') runs the start hook and returns what it did."""
    a = attach(Acceptor("a"))
    assert plain(a.run_hook("on_start")) == [("set", Retry(1), 5)]
    assert a.starts == 1


def test_invoke_and_respond_are_recorded_as_effects():
    """Clients record invoke and response as effects the kernel stamps with the time."""
    class C(Node):
        def on_accept_ok(self, msg, sender):
            self.invoke(("read",))
            self.respond(("read",), 42)

    c = attach(C("c"), ids=["c", "s"])
    assert plain(c.handle(AcceptOK(1), "s")) == [("invoke", ("read",), None),
                                                 ("response", ("read",), 42)]


# ---- mistakes a reader can make -----------------------------------------------------------

def test_missing_handler_names_the_method_to_add():
    """A message with no handler raises HandlerError saying which method to write."""
    class Empty(Node):
        pass

    e = attach(Empty("e"), ids=["e", "x"])
    with pytest.raises(HandlerError, match=r"no handler on_accept_ok; add a method "
                                           r"on_accept_ok\(self, msg, sender\)"):
        e.handle(AcceptOK(1), "x")
    with pytest.raises(HandlerError, match=r"the timer Retry\(n=2\).*on_retry\(self, timer\)"):
        e.handle(Retry(2))


def test_sending_a_mutable_message_is_refused():
    """Messages must be frozen dataclasses: a plain dataclass or a tuple raises TypeError."""
    class S(Node):
        def on_prepare(self, msg, sender):
            self.send(sender, msg.n)

    s = attach(S("s"), ids=["s", "x"])
    with pytest.raises(TypeError, match="Mutable is not a frozen dataclass"):
        s.handle(Prepare(Mutable(1)), "x")
    with pytest.raises(TypeError, match="tuple is not a frozen dataclass"):
        s.handle(Prepare((1, 2)), "x")


def test_a_mutable_timer_is_refused():
    """Timers must be frozen dataclasses too."""
    class T(Node):
        def on_start(self):
            self.set_timer(Mutable(1), 1)

    with pytest.raises(TypeError, match="Mutable is not a frozen dataclass"):
        attach(T("t")).run_hook("on_start")


def test_negative_timer_delay_is_refused():
    """A timer delay below zero (or nan, or inf: a timer that never fires) raises ValueError."""
    class T(Node):
        def on_retry(self, timer):
            self.set_timer(timer, timer.n)

    t = attach(T("t"))
    with pytest.raises(ValueError, match=r"delay of Retry\(n=-1\) must be a finite number >= 0, "
                                         r"got -1"):
        t.handle(Retry(-1))
    with pytest.raises(ValueError, match="delay of .* must be a finite number >= 0"):
        t.handle(Retry(float("nan")))
    with pytest.raises(ValueError, match="delay of .* must be a finite number >= 0, got inf"):
        t.handle(Retry(float("inf")))


def test_send_to_an_unknown_node_lists_the_nodes():
    """Sending to a name that is not in the system raises ValueError listing the real ids."""
    class S(Node):
        def on_prepare(self, msg, sender):
            self.send("ghost", AcceptOK(msg.n))

    s = attach(S("s"), ids=["s", "x"])
    with pytest.raises(ValueError, match=r"unknown node 'ghost'; nodes are \['s', 'x'\]"):
        s.handle(Prepare(1), "x")


def test_creating_a_field_outside_init_is_refused():
    """A handler that sets a new attribute raises ValueError: all state is declared in __init__."""
    class Sloppy(Node):
        def on_prepare(self, msg, sender):
            self.highest = msg.n

    s = attach(Sloppy("s"), ids=["s", "x"])
    with pytest.raises(ValueError, match=r"created the field\(s\) \['highest'\] outside __init__"):
        s.handle(Prepare(1), "x")


def test_stable_fields_must_exist():
    """Listing a stable field that __init__ never sets is refused when the node joins a system."""
    class Bad(Node):
        stable = ("ballot",)

    with pytest.raises(ValueError, match=r"lists \['ballot'\] as stable but never sets them"):
        attach(Bad("b"))


@pytest.mark.parametrize("bad", ["", None, 3])
def test_node_id_must_be_a_non_empty_string(bad):
    """A node's id is a non-empty string."""
    with pytest.raises(ValueError, match="non-empty string"):
        Node(bad)


# ---- state ---------------------------------------------------------------------------------

def test_state_is_every_field_frozen():
    """state() maps each field set in __init__ (id included) to its frozen value."""
    a = attach(Acceptor("a"), ids=["a", "b"])
    a.handle(Prepare(2), "b")
    st = a.state()
    assert list(st) == ["id", "promised", "heard", "peers_seen", "starts"]
    assert st["promised"] == 2
    assert list(st["heard"]) == [("prepare", 2)]
    assert st["peers_seen"] == {"b"}
    hash(a.snapshot())


def test_load_restores_a_snapshot():
    """load(snapshot()) puts every field back as it was, as fresh mutable containers."""
    a = attach(Acceptor("a"), ids=["a", "b"])
    a.handle(Prepare(2), "b")
    snap = a.snapshot()
    a.handle(Prepare(9), "b")
    a.load(snap)
    assert a.promised == 2 and a.heard == [("prepare", 2)] and a.peers_seen == {"b"}
    a.heard.append("mutable again")
    assert a.snapshot() != snap


def test_crash_reset_keeps_stable_and_resets_volatile_fields():
    """After a crash, fields listed in stable keep their value; every other field goes back to
    the value it had when the node was built."""
    a = attach(Acceptor("a"), ids=["a", "b"])
    a.run_hook("on_start")
    a.handle(Prepare(5), "b")
    assert (a.promised, a.heard, a.peers_seen, a.starts) == (5, [("prepare", 5)], {"b"}, 1)
    a.crash_reset()
    assert a.promised == 5                 # stable: on disk
    assert a.heard == [] and a.peers_seen == set()
    assert a.starts == 0                   # volatile: the value at construction, not at start
    assert a.id == "a"


def test_crash_reset_gives_fresh_containers():
    """Volatile containers after a crash are new objects, not the initial ones shared."""
    a = attach(Acceptor("a"), ids=["a", "b"])
    a.crash_reset()
    a.heard.append(1)
    a.crash_reset()
    assert a.heard == []


def test_on_restart_by_default_runs_on_start():
    """A restarted node starts over as at time 0 unless it overrides on_restart."""
    a = attach(Acceptor("a"))
    a.crash_reset()
    assert plain(a.run_hook("on_restart")) == [("set", Retry(1), 5)]
    assert a.starts == 1


def test_repr_shows_fields_before_and_after_joining_a_system():
    """A node prints its class, id and fields, even before it is part of a Simulation."""
    a = Acceptor("a")
    assert repr(a) == "Acceptor('a', promised=0, heard=[], peers_seen=set(), starts=0)"
    attach(a)
    assert repr(a) == "Acceptor('a', promised=0, heard=[], peers_seen=set(), starts=0)"


# ---- the forwarding roles against a fake network -----------------------------------------

def test_sync_server_forwards_and_holds_the_reply():
    """A synchronous server appends the write to its log, forwards it to the replica with its
    log index, and does not answer the client yet."""
    s = attach(Server("server", "replica"), ids=["client", "server", "replica"])
    eff = plain(s.handle(Request("client", 0, ("write", 1)), "client"))
    assert eff == [("send", "replica", Forward(1, ("write", 1)))]
    assert s.log == [("write", 1)] and s.waiting == {1: ("client", 0)}


def test_sync_server_answers_when_the_replica_acks():
    """On ForwardAck(i) the server replies to the client that wrote entry i, once."""
    s = attach(Server("server", "replica"), ids=["client", "server", "replica"])
    s.handle(Request("client", 0, ("write", 1)), "client")
    assert plain(s.handle(ForwardAck(1), "replica")) == [("send", "client", Reply(0, "ok"))]
    assert s.waiting == {}
    assert plain(s.handle(ForwardAck(1), "replica")) == []   # duplicate ack: nothing


def test_async_server_answers_at_once():
    """An asynchronous server forwards and replies in the same step, forward first."""
    s = attach(Server("server", "replica", wait_for_replica=False),
               ids=["client", "server", "replica"])
    eff = plain(s.handle(Request("client", 3, ("write", 9)), "client"))
    assert eff == [("send", "replica", Forward(1, ("write", 9))),
                   ("send", "client", Reply(3, "ok"))]
    assert s.waiting == {}


def test_replica_applies_in_order_once_and_acks():
    """A replica appends entry i only if it is the next one, acks every entry it holds
    (again for duplicates), and ignores entries from the future."""
    r = attach(Replica("replica"), ids=["server", "replica"])
    assert plain(r.handle(Forward(1, "a"), "server")) == [("send", "server", ForwardAck(1))]
    assert plain(r.handle(Forward(3, "c"), "server")) == []          # gap: not applied
    assert plain(r.handle(Forward(1, "a"), "server")) == [("send", "server", ForwardAck(1))]
    assert plain(r.handle(Forward(2, "b"), "server")) == [("send", "server", ForwardAck(2))]
    assert r.log == ["a", "b"]


def test_server_retried_request_before_the_ack_is_forwarded_again():
    """A retry of a write the replica has not acknowledged is not applied twice: the server
    forwards the same log entry again and still holds the reply."""
    s = attach(Server("server", "replica"), ids=["client", "server", "replica"])
    s.handle(Request("client", 0, ("write", 1)), "client")
    eff = plain(s.handle(Request("client", 0, ("write", 1)), "client"))
    assert eff == [("send", "replica", Forward(1, ("write", 1)))]
    assert s.log == [("write", 1)] and s.waiting == {1: ("client", 0)}


def test_server_retried_request_after_the_ack_is_answered_at_once():
    """A retry of a write the replica acknowledged gets its reply again, nothing else."""
    s = attach(Server("server", "replica"), ids=["client", "server", "replica"])
    s.handle(Request("client", 0, ("write", 1)), "client")
    s.handle(ForwardAck(1), "replica")
    assert plain(s.handle(Request("client", 0, ("write", 1)), "client")) == [
        ("send", "client", Reply(0, "ok"))]


def test_server_after_a_crash_confirms_with_the_replica_before_answering():
    """The checker found this rule: after a crash the server remembers (on disk) that it
    applied a write, but not whether the replica acknowledged it, so a retry is forwarded
    again rather than answered."""
    s = attach(Server("server", "replica"), ids=["client", "server", "replica"])
    s.handle(Request("client", 0, ("write", 1)), "client")
    s.crash_reset()
    assert s.log == [("write", 1)] and s.waiting == {} and s.acked == 0
    assert plain(s.handle(Request("client", 0, ("write", 1)), "client")) == [
        ("send", "replica", Forward(1, ("write", 1)))]
