"""Chapter 08's classic tables (replib.experiments.classic), pinned: Takada's message counts
and Barrett's 2009 table beside the measurements, with a verdict per cell, and a reason for
every difference."""

import pytest

from replib.experiments import classic
from replib.experiments.compare import compare, crash_sweep
from replib.protocols.multipaxos import PiggybackReplica, message_cost


@pytest.fixture(scope="module")
def barrett():
    return classic.barrett_table(compare(), crash_sweep(progress=False))


def test_takada_cells():
    """2PC and 3PC agree (4 and 6 rounds to all n participants); async and sync have the
    taxonomy's rounds to the n - 1 other replicas; Multi-Paxos has 3 rounds where the taxonomy
    counts 4 (2 with Decided piggybacked), an election per operation 5 where it counts 6."""
    by_n = {n: compare(replicas=n, crash=None, partition=None,
                       approaches=list(classic.TAKADA)) for n in (3, 5, 7)}
    pig = {n: message_cost(n, 10, replica=PiggybackReplica)["between_replicas_per_op"]
           for n in by_n}
    cells = {c.row: c for c in classic.takada_table(by_n, pig)}
    assert {r: c.verdict for r, c in cells.items()} == {
        "async primary/backup": "differs", "sync primary/backup": "differs", "2PC": "agrees",
        "3PC": "agrees", "Multi-Paxos, stable leader": "differs",
        "Paxos, election per op": "differs"}
    assert cells["2PC"].measured == cells["2PC"].classic == "12, 20, 28"
    mp = cells["Multi-Paxos, stable leader"]
    assert (mp.classic, mp.measured) == ("12, 20, 28", "6, 12, 18")
    assert mp.why.startswith("3 rounds (Accept, Accepted, Decided), each to the n - 1 other")
    assert "the taxonomy counts 4 rounds" in mp.why and "4, 8, 12 (2 rounds)" in mp.why
    assert cells["async primary/backup"].why.startswith("1 round (Update)")
    assert "counts" not in cells["sync primary/backup"].why      # same rounds, fewer recipients


def test_barrett_cells(barrett):
    """25 of 30 cells agree.  The differences: master/slave consistency (weak, not eventual:
    automatic failover loses an acknowledged write) and failover (read/write, not read only:
    automatic); multi-master consistency (diverged, not eventual: no merge rule); backups'
    transactions (the copy is the primary's log in its order); 2PC failover (down: clients
    may only reach the coordinator)."""
    differs = {(c.row, c.column): c.measured for c in barrett if c.verdict == "differs"}
    assert differs == {("consistency", "M/S"): "weak", ("consistency", "MM"): "diverged",
                       ("transactions", "Backups"): "full", ("failover", "M/S"): "read/write",
                       ("failover", "2PC"): "down"}
    assert len(barrett) == 30
    assert all(c.why and not c.why.startswith("no reason") for c in barrett
               if c.verdict == "differs")
    by = {(c.row, c.column): c for c in barrett}
    assert by[("data loss", "Backups")].measured == "lots"
    assert by[("throughput", "Paxos")].measured == "medium"
    assert "at 5 of 30 crash times" in by[("consistency", "M/S")].why


def test_text_numbers_every_difference(barrett):
    text = classic.text(barrett, "Barrett")
    assert text.count("differs (") == 5 and "(5) failover, 2PC:" in text
    assert text.splitlines()[0].startswith("consistency   Backups")
