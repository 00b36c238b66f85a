"""Backups (replib.protocols.backups): the primary answers everything at once and copies its
log every period while it grows; backups answer no client; a lost disk loses what came
after the last copy."""

import pytest
from helpers import attached, plain

from replib.clients import Reply, Request
from replib.network import Constant, Network
from replib.protocols.backups import Copy, CopyTimer, backups_system
from replib.protocols.replication import ReplicationClient
from replib.sim import Simulation


def keepers(backups, period=5.0):
    nodes = backups_system(backups, period=period)
    return attached(nodes + [ReplicationClient("c1", [n.id for n in nodes], [])])


def test_primary_answers_and_starts_the_copy_clock():
    """1: a write is applied and answered at once; the first write after a quiet spell sets
    the CopyTimer (2); a retry is answered again, not applied twice; reads read the log."""
    p = keepers(1)["primary"]
    assert plain(p.handle(Request("c1", 0, ("write", "a")), "c1")) == [
        ("set", CopyTimer(), 5.0), ("send", "c1", Reply(0, "ok"))]
    assert plain(p.handle(Request("c1", 0, ("write", "a")), "c1")) == [("send", "c1", Reply(0, "ok"))]
    assert plain(p.handle(Request("c1", 1, ("read",)), "c1")) == [("send", "c1", Reply(1, "a"))]


def test_copies_while_the_log_grows_and_stops_when_idle():
    """2: the timer copies the whole log to every backup and sets itself again; when nothing
    changed since the last copy it sends nothing and stops."""
    nodes = keepers(2)
    p = nodes["primary"]
    p.handle(Request("c1", 0, ("write", "a")), "c1")
    assert plain(p.handle(CopyTimer(), None)) == [
        ("send", "b1", Copy((("write", "a"),))), ("send", "b2", Copy((("write", "a"),))),
        ("set", CopyTimer(), 5.0)]
    assert plain(p.handle(CopyTimer(), None)) == []
    b1 = nodes["b1"]
    b1.handle(Copy((("write", "a"),)), "primary")
    assert b1.log == [("write", "a")]
    assert plain(b1.handle(Request("c1", 2, ("read",)), "c1")) == []      # 3: no client


def test_a_lost_disk_loses_the_writes_since_the_last_copy():
    """A write every 2 time units (each takes a round trip of 2), the copy clock started by
    the first write, at t = 1: the copy at t = 6 holds writes 1-3 and reaches b1 at t = 7.
    Write 4, acknowledged at t = 8, is on the primary's disk only: gone if that disk is."""
    nodes = backups_system(1, period=5.0)
    client = ReplicationClient("c1", ["primary", "b1"], [("write", i) for i in range(1, 6)],
                               think=0.0)
    sim = Simulation(nodes + [client], network=Network(Constant(1.0)), seed=0)
    sim.run(until=9)
    acked = [op.op for op in sim.trace.history() if op.result == "ok"]
    assert acked == [("write", i) for i in range(1, 5)]
    assert sim.node("b1").log == [("write", 1), ("write", 2), ("write", 3)]


def test_bad_configuration():
    with pytest.raises(ValueError, match="backups must be a whole number"):
        backups_system(0)
    with pytest.raises(ValueError, match="period must be"):
        backups_system(1, period=0)
