"""Chapter 01's measurements, pinned on fixed seeds: the numbers the notebook's plots show."""

import statistics

import pytest

import math

from replib.experiments.sync_async import (lost_in_batches, messages_per_write,
                                           service_with_backup_down, slow_backup_run, story,
                                           write_latencies)
from replib.history import lost_writes
from replib.network import Constant


@pytest.mark.parametrize("mode, k, expected", [
    ("async", None, {"Update": 3.0}),
    ("semi-sync", 2, {"Ack": 3.0, "Update": 3.0}),
    ("sync", None, {"Ack": 3.0, "Update": 3.0}),
])
def test_messages_per_write(mode, k, expected):
    """With 3 backups: async ships 1 message per backup per write (3), sync and semi-sync 2
    (an Update and an Ack per backup: 6)."""
    assert messages_per_write(mode, 3, k) == expected


def test_sync_waits_for_the_slowest_replica():
    """Constant latency 1: async answers after the client's round trip (2), sync after the
    round trip to the backups as well (4), whatever the number of backups."""
    for backups in (1, 3):
        assert set(write_latencies("async", backups, latency=Constant(1), writes=5)) == {2.0}
        assert set(write_latencies("sync", backups, latency=Constant(1), writes=5)) == {4.0}


def test_sync_latency_grows_with_backups_on_a_long_tail():
    """On long-tailed links the sync median grows with the number of backups (the maximum
    of more draws); the async median does not depend on it (seed 1, 200 writes)."""
    sync = [statistics.median(write_latencies("sync", n, writes=200, seed=1)) for n in (1, 4, 8)]
    assert sync[0] < sync[1] < sync[2]
    asyn = [statistics.median(write_latencies("async", n, writes=200, seed=1)) for n in (1, 8)]
    assert abs(asyn[0] - asyn[1]) < 0.5


def test_one_backup_down():
    """Crash b1: async and semi-sync (k=1 of 2) go on answering writes; sync answers no
    write after the crash, and both writers wait for ever on their first one; every mode
    still answers every read (a read needs no backup)."""
    assert service_with_backup_down("async") == {
        "writes answered": 16, "writers blocked": 0, "reads answered": 8, "reads asked": 8}
    assert service_with_backup_down("semi-sync", k=1)["writers blocked"] == 0
    assert service_with_backup_down("sync") == {
        "writes answered": 0, "writers blocked": 2, "reads answered": 8, "reads asked": 8}


@pytest.mark.parametrize("ship_every", [0.5, 1, 2, 4, 8])
@pytest.mark.parametrize("crash_after", [0.5, 1.0])
def test_async_loses_exactly_what_it_had_not_shipped(ship_every, crash_after):
    """A plain crash (what the primary sent still arrives): async loses exactly the writes
    it acknowledged but had not shipped yet, one every 0.2 since the last shipment; sync,
    which ships before it answers, loses none."""
    run = lost_in_batches(ship_every, crash_after)
    assert run["lost"] == run["never shipped"]
    if crash_after < ship_every:     # no batch due at the moment of the crash
        assert run["lost"] == math.floor((run["crash"] - run["last shipment"]) / 0.2 + 1e-9)
    assert lost_in_batches(ship_every, crash_after, mode="sync")["lost"] == 0


def test_the_opening_story():
    """Async acknowledges write 3, then the primary crashes with it unshipped: lost, and the
    client's read after the failover returns 2, which no valid order allows.  Sync, same
    story: nothing lost, the read returns 3."""
    from replib.history import linearizable
    for mode, lost, read in (("async", [("write", 3)], 2), ("sync", [], 3)):
        sim = story(mode)
        trace = sim.run(until=20)
        survivors = {r: sim.nodes[r].log for r in ("b1", "b2")}
        assert [op.op for op in lost_writes(trace.history(), survivors)] == lost
        *writes, last = trace.history()
        assert [op.result for op in writes] == ["ok"] * 3 and last.result == read
        assert linearizable(trace.history()).ok == (mode == "sync")


def test_the_slow_backup_run():
    """b2 three times farther than b1: sync waits for b2 (2 + 6 = 8), async for nobody (2)."""
    assert slow_backup_run("sync").history()[0].latency == 8
    assert slow_backup_run("async").history()[0].latency == 2
    assert slow_backup_run("semi-sync", 1).history()[0].latency == 4
