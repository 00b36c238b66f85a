"""Multi-master replication (replib.protocols.multimaster): each rule with exact effects, and
two masters that take writes at once and diverge."""

import pytest
from helpers import attached, plain

from replib.clients import Reply, Request
from replib.network import Constant, Network
from replib.protocols.multimaster import (Behind, Heartbeat, HeartbeatTimer, Update,
                                          multimaster_system)
from replib.protocols.replication import ReplicationClient
from replib.sim import Simulation


def masters(**config):
    nodes = multimaster_system(**config)
    client = ReplicationClient("c1", [n.id for n in nodes], [])
    return attached(nodes + [client])


def test_a_write_is_applied_answered_then_shipped():
    """1: apply at once, answer "ok", then Update(origin, index, op) to every other master;
    a retried request is answered again, not applied twice."""
    m = masters(masters=3)["m1"]
    assert plain(m.handle(Request("c1", 0, ("write", "a")), "c1")) == [
        ("send", "c1", Reply(0, "ok")), ("send", "m2", Update("m1", 1, ("write", "a"))),
        ("send", "m3", Update("m1", 1, ("write", "a")))]
    assert plain(m.handle(Request("c1", 0, ("write", "a")), "c1")) == [("send", "c1", Reply(0, "ok"))]
    assert m.log == [("write", "a")]


def test_updates_apply_in_their_origins_order():
    """2: Update i of an origin goes to the end of the log if 1 .. i-1 are held; a duplicate
    is ignored; a gap is answered with Behind(have), and the origin resends the rest."""
    ms = masters()
    m1, m2 = ms["m1"], ms["m2"]
    assert plain(m2.handle(Update("m1", 2, ("write", "b")), "m1")) == [("send", "m1", Behind(0))]
    m2.handle(Update("m1", 1, ("write", "a")), "m1")
    assert plain(m2.handle(Update("m1", 1, ("write", "a")), "m1")) == []
    assert m2.log == [("write", "a")]
    m1.handle(Request("c1", 0, ("write", "a")), "c1")
    m1.handle(Request("c1", 1, ("write", "b")), "c1")
    assert plain(m1.handle(Behind(1), "m2")) == [("send", "m2", Update("m1", 2, ("write", "b")))]


def test_reads_and_heartbeats():
    """3: a read returns the last write of this master's log.  4: a heartbeat says how many
    writes a master took; a master that holds fewer answers Behind."""
    ms = masters(heartbeat=1.0)
    m1, m2 = ms["m1"], ms["m2"]
    assert plain(m1.handle(Request("c1", 0, ("read",)), "c1")) == [("send", "c1", Reply(0, None))]
    m1.handle(Request("c1", 1, ("write", "a")), "c1")
    assert plain(m1.handle(Request("c1", 2, ("read",)), "c1")) == [("send", "c1", Reply(2, "a"))]
    assert plain(m1.handle(HeartbeatTimer(), None)) == [
        ("send", "m2", Heartbeat(1)), ("set", HeartbeatTimer(), 1.0)]
    assert plain(m2.handle(Heartbeat(1), "m1")) == [("send", "m1", Behind(0))]


def test_two_masters_writing_at_once_diverge():
    """c1 writes a at m1 and c2 writes b at m2 at the same moment; each master applies its own
    write first and the other's after it: logs [a, b] and [b, a], registers b and a, for good."""
    nodes = multimaster_system(2)
    clients = [ReplicationClient("c1", ["m1", "m2"], [("write", "a")]),
               ReplicationClient("c2", ["m2", "m1"], [("write", "b")])]
    sim = Simulation(nodes + clients, network=Network(Constant(1.0)), seed=0)
    sim.run(until=10)
    assert sim.node("m1").log == [("write", "a"), ("write", "b")]
    assert sim.node("m2").log == [("write", "b"), ("write", "a")]
    assert (sim.node("m1").value, sim.node("m2").value) == ("b", "a")


def test_bad_configuration():
    with pytest.raises(ValueError, match="masters must be a whole number from 2 to 9"):
        multimaster_system(1)
    with pytest.raises(ValueError, match="heartbeat must be"):
        multimaster_system(2, heartbeat=0)
