"""Chapter 08's comparison, pinned on a fixed seed: the numbers the notebook's table and plots
show, and the facts the chapter states about each approach."""

import pytest

from replib.experiments import compare as C
from replib.experiments.compare import compare, run
from replib.network import Constant, LongTail

# compare() with its defaults: n = 3, 10 writes, seed 0, latency uniform 0.5..1.5, the leader
# crashes at t=11 (another run: it is cut off from the other replicas at t=10).
PINNED = {
    "async": {"by_type": {"Update": 2.0}, "per_op": 2.0, "delays": 0.0, "busiest": ("primary", 4.0),
                  "lost": 1, "after_crash": "read/write", "after_partition": "read/write",
                  "linearizable_in": {"no fault": True, "crash": False, "partition": True}},
    "sync": {"by_type": {"Ack": 2.0, "Update": 2.0}, "per_op": 4.0, "delays": 2.0,
                 "busiest": ("primary", 6.0), "lost": 0, "after_crash": "read-only",
                 "after_partition": "read-only",
                 "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
    "2pc": {"by_type": {"Ack": 3.0, "Commit": 3.0, "Prepare": 3.0, "Vote": 3.0}, "per_op": 12.0,
                "delays": 2.0, "busiest": ("coord", 14.0), "lost": 0, "after_crash": "down",
                "after_partition": "read-only",
                "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
    "3pc": {"by_type": {"Ack": 3.0, "CanCommit": 3.0, "DoCommit": 3.0, "PreCommit": 3.0,
                         "PreCommitAck": 3.0, "Vote": 3.0}, "per_op": 18.0, "delays": 4.0,
                "busiest": ("coord", 20.0), "lost": 0, "after_crash": "down", "after_partition": "read-only",
                "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
    "multipaxos": {"by_type": {"Accept": 2.0, "Accepted": 2.0, "Decided": 2.0}, "per_op": 6.0,
                       "delays": 2.0, "busiest": ("r1", 8.0), "lost": 0, "after_crash": "read/write",
                       "after_partition": "read/write",
                       "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
    "paxos-per-op": {"by_type": {"Accept": 2.0, "Accepted": 2.0, "Decided": 2.0,
                                  "Prepare": 2.0, "Promise": 2.0}, "per_op": 10.0, "delays": 4.0,
                         "busiest": ("r1", 12.0), "lost": 0, "after_crash": "read/write",
                         "after_partition": "read/write",
                         "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
}


@pytest.fixture(scope="module")
def table():
    return compare()


def test_rows_in_order(table):
    assert [r.approach for r in table.rows] == list(PINNED)
    assert [r.expected for r in table.rows] == [3, 6, 12, 18, 12, 18]
    assert all(r.available for r in table.rows)


@pytest.mark.parametrize("approach", list(PINNED))
def test_pinned_table_n3(table, approach):
    """The comparison table for n = 3 on seed 0: exact message counts per write, by type;
    message delays; the busiest node; lost writes; availability; linearizability."""
    r, want = table.row(approach), PINNED[approach]
    assert r.messages_by_type == want["by_type"]
    assert r.messages_per_op == want["per_op"]
    assert r.delays == want["delays"]
    assert (r.busiest, r.busiest_per_op) == want["busiest"]
    assert r.throughput == pytest.approx(1000.0 / want["busiest"][1])
    assert r.lost == want["lost"]
    assert r.after_crash == want["after_crash"]
    assert r.after_partition == want["after_partition"]
    assert r.linearizable_in == want["linearizable_in"]
    assert r.linearizable == all(want["linearizable_in"].values())


def test_table_text(table):
    text = table.text()
    lines = text.splitlines()
    assert lines[0].startswith("n = 3 replicas; ops=10, seed=0, latency=uniform 0.5..1.5")
    assert len(lines) == 3 + 6
    assert "async primary/backup" in lines[3] and " NO" in lines[3]
    assert "2PC" in text and "down" in text and "Multi-Paxos, stable leader" in text
    assert str(table) == text
    assert [d["messages/write"] for d in table.as_dicts()] == [2.0, 4.0, 12.0, 18.0, 6.0, 10.0]


@pytest.mark.parametrize("n", [3, 5])
def test_message_counts_scale_with_n(n):
    """Per write, with n replicas: async ships an Update to each of the n - 1 backups, sync
    also gets an Ack from each (2(n - 1)); the primary sends nothing to itself, hence n - 1
    where the taxonomy says n.  2PC and 3PC send 4 and 6 messages to each of n participants
    (the coordinator is a node of its own): 4n and 6n, as the taxonomy says.  Multi-Paxos's
    leader sends Accept and Decided to the n - 1 other replicas and gets their Accepted:
    3(n - 1), where the taxonomy says 4n; with a phase 1 per command, Prepare and Promise
    too: 5(n - 1), where it says 6n.  (The leader also sends itself an Accept and answers
    itself Accepted, and Prepare/Promise: local, not counted.)"""
    t = compare(replicas=n, crash=None, partition=None)
    assert [r.messages_per_op for r in t.rows] == [n - 1, 2 * (n - 1), 4 * n, 6 * n,
                                                   3 * (n - 1), 5 * (n - 1)]
    assert t.row("multipaxos").self_messages == {"Accept": 1.0, "Accepted": 1.0}
    assert t.row("paxos-per-op").self_messages == {"Accept": 1.0, "Accepted": 1.0,
                                                   "Prepare": 1.0, "Promise": 1.0}
    assert t.row("sync").self_messages == {}


def test_message_delays_on_constant_latency():
    """Every message takes 1: a write's latency is the client's round trip (2) plus the
    protocol's message delays: async 0 (it answers before shipping), sync 2 (Update, Ack),
    2PC 2 (Prepare, Vote: the coordinator answers once it decides), 3PC 4 (and PreCommit,
    PreCommitAck), Multi-Paxos 2 (Accept, Accepted: the leader answers once a majority
    accepted), a phase 1 per command 4 (and Prepare, Promise)."""
    t = compare(latency=Constant(1.0), crash=None, partition=None)
    assert [r.delays for r in t.rows] == [0, 2, 2, 4, 2, 4]
    assert [r.latency_mean for r in t.rows] == [2, 4, 4, 6, 4, 6]
    assert [r.latency_p99 for r in t.rows] == [2, 4, 4, 6, 4, 6]


def test_async_loses_acknowledged_writes():
    """Async primary/backup answers a write before it ships it: the primary crashes at t=11
    with the Update of an acknowledged write still on its way (lost with the primary), so a
    backup takes over without it.  The client's next read sees the older value: the
    history is not linearizable.  Sync answers only once every backup holds the write."""
    a = run("async", crash=("primary", 11.0))
    assert a.lost == 1 and a.linearizable_in["crash"] is False
    s = run("sync", crash=("primary", 11.0))
    assert s.lost == 0 and s.linearizable is True


def test_async_loses_nothing_when_no_update_is_in_flight():
    """The loss needs the crash to fall between an acknowledgement and the Update's arrival:
    at t=10 no Update is in flight, and nothing is lost."""
    assert run("async", crash=("primary", 10.0)).lost == 0


def test_sync_is_read_only_after_the_primary_crashes():
    """Sync replication waits for every backup: the backup elected primary counts the
    crashed old primary among its backups and never gets its Ack, so no write completes
    (chapter 01: sync stops writes when one replica is down).  Any replica still answers
    reads from its own log."""
    assert run("sync", crash=("primary", 11.0)).after_crash == "read-only"
    assert run("sync", crash=("backup", 11.0)).after_crash == "read-only"


def test_2pc_and_3pc_are_down_without_their_coordinator():
    """Clients talk to the coordinator, the only node that decides: when it crashes, nothing
    is answered (3PC's participants finish the transaction in flight on their own, but
    nobody starts a new one).  Nothing acknowledged is lost: a write is answered only after
    every participant voted yes, so each holds it (prepared)."""
    for approach in ("2pc", "3pc"):
        m = run(approach, crash=("coordinator", 11.0))
        assert (m.after_crash, m.lost, m.linearizable) == ("down", 0, True)


def test_commit_protocols_abort_writes_without_a_participant():
    """With one participant down (or cut off), every transaction misses a vote and aborts
    at the timeout: no write succeeds; the coordinator still answers reads."""
    for approach in ("2pc", "3pc"):
        assert run(approach, crash=("participant", 11.0)).after_crash == "read-only"
        assert run(approach, partition=("participant", 10.0)).after_partition == "read-only"


def test_2pc_coordinator_cut_off_is_read_only():
    """A coordinator cut off from its participants gets no votes: its transactions abort,
    and it answers reads from its own decisions."""
    assert run("2pc", partition=("coordinator", 10.0)).after_partition == "read-only"


@pytest.mark.parametrize("approach", ["multipaxos", "paxos-per-op"])
def test_paxos_survives_leader_crash_and_partition(approach):
    """Multi-Paxos answers a write only once a majority accepted it, so the new leader's
    phase 1 recovers every acknowledged write (none lost); a majority is still up and
    connected, so it elects a leader and goes on reading and writing; every history is
    linearizable."""
    m = run(approach, crash=("leader", 11.0), partition=("leader", 10.0))
    assert (m.lost, m.after_crash, m.after_partition, m.linearizable) == (
        0, "read/write", "read/write", True)
    f = run(approach, replicas=5, crash=("follower", 11.0))
    assert (f.lost, f.after_crash) == (0, "read/write")


def test_async_keeps_writing_after_a_partition():
    """An async primary cut off from its backups needs no Ack: it goes on acknowledging
    writes the backups never see."""
    assert run("async", partition=("primary", 10.0)).after_partition == "read/write"


def test_same_seed_same_table():
    a = compare(latency=LongTail(1.0, 0.8), seed=3)
    b = compare(latency=LongTail(1.0, 0.8), seed=3)
    assert a.as_dicts() == b.as_dicts()


def test_leader_words_are_synonyms():
    for word in ("leader", "primary", "coordinator"):
        assert run("2pc", crash=(word, 11.0)).after_crash == "down"


def test_pending_rows_when_multipaxos_is_missing(monkeypatch):
    """Before multipaxos.py exists the two Paxos rows say so and carry no number."""
    monkeypatch.setattr(C, "_multipaxos_module", lambda: None)
    t = compare(crash=None, partition=None)
    for name in ("multipaxos", "paxos-per-op"):
        r = t.row(name)
        assert not r.available and r.messages_per_op is None and r.lost is None
        assert "not available yet" in r.notes[0]
    assert t.text().count("not available yet") == 2
    assert "Multi-Paxos, stable leader not available yet" in C.plot_messages(t).alt_text


def test_plots_carry_alt_text(table):
    fig = C.plot_messages(table)
    assert fig.alt_text.startswith("Bar chart of messages per write per approach, n = 3")
    assert "async primary/backup 2 (taxonomy 1n = 3)" in fig.alt_text
    assert "Paxos, election per op 10 (taxonomy 6n = 18)" in fig.alt_text
    assert "3PC 4" in C.plot_delays(table).alt_text
    assert "async primary/backup 250 writes/s" in C.plot_throughput(table).alt_text
    assert "after a crash of the leader at t=11" in C.plot_lost_writes(table).alt_text
    assert "mean write latency" in C.plot_latency(table).alt_text


@pytest.mark.parametrize("kwargs, message", [
    ({"approach": "raft"}, "unknown approach 'raft'"),
    ({"approach": "sync", "replicas": 1}, "replicas must be a whole number from 2 to 9"),
    ({"approach": "sync", "replicas": True}, "replicas must be a whole number"),
    ({"approach": "sync", "ops": 0}, "ops must be a whole number from 1 to 200"),
    ({"approach": "sync", "clients": 4}, "clients must be a whole number from 1 to 3"),
    ({"approach": "sync", "seed": 1.5}, "seed must be an integer"),
    ({"approach": "sync", "latency": 1.0}, "latency must be a Constant, Uniform or LongTail"),
    ({"approach": "sync", "crash": "leader"}, "crash must be None or (component, time)"),
    ({"approach": "sync", "crash": ("client", 3)}, "crash: the component must be one of"),
    ({"approach": "sync", "partition": ("leader", -1)}, "partition time must be a finite number"),
    ({"approach": "sync", "crash": ("leader", float("nan"))}, "crash time must be a finite"),
    ({"approach": "sync", "message_cost": 0}, "message_cost must be a finite number > 0"),
    ({"approach": "sync", "think": -1}, "think must be a finite number >= 0"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(**kwargs)


def test_bad_input_to_compare_and_plots():
    with pytest.raises(ValueError, match="unknown approach 'x'"):
        compare(approaches=["sync", "x"])
    with pytest.raises(ValueError, match="at least one approach"):
        compare(approaches=[])
    with pytest.raises(ValueError, match="expected the Table that compare"):
        C.plot_messages([1, 2])
    with pytest.raises(ValueError, match="no row for 'raft'"):
        compare(approaches=["sync"], crash=None, partition=None).row("raft")
