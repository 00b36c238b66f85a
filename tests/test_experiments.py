"""Chapter 01's measurements, pinned on fixed seeds: the numbers the notebook's plots show."""

import statistics

import pytest

from replib.experiments.sync_async import (lost_after_primary_crash, messages_per_write,
                                service_after_backup_crash, write_latencies)
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
    """Crash b1: async and semi-sync (k=1 of 2) go on answering every write; sync answers no
    write after the crash and its client is left waiting."""
    assert service_after_backup_crash("async", 2) == {
        "writes answered after the crash": 9, "reads answered after the crash": 9,
        "requests never answered": 0}
    assert service_after_backup_crash("semi-sync", 2, 1)["requests never answered"] == 0
    assert service_after_backup_crash("sync", 2) == {
        "writes answered after the crash": 0, "reads answered after the crash": 1,
        "requests never answered": 1}


@pytest.mark.parametrize("delay, lost", [(0.5, 2), (1, 5), (2, 10), (4, 20), (8, 40)])
def test_async_loses_what_was_not_replicated(delay, lost):
    """Writes take 0.2 each; the primary dies at t=10 with `delay` worth of acknowledged
    writes still on their way to the backups: async loses delay / 0.2 of them, sync none."""
    assert lost_after_primary_crash("async", delay)[0] == lost
    assert lost_after_primary_crash("sync", delay)[0] == 0
