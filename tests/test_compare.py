"""Chapter 08's comparison, pinned on a fixed seed: the numbers the notebook's table and plots
show, and the facts the chapter states about each approach."""

import pytest

from replib.experiments import compare as C
from replib.experiments.compare import compare, run
from replib.network import Constant, LongTail

# compare() with its defaults: n = 3, 10 writes, seed 0, latency uniform 0.5..1.5, the leader
# crashes at t=11 (another run: it is cut off from the other replicas at t=10); each fault heals
# (a restart from disk, the partition's end) once the probes are done.  "lost" is the writes
# gone if the crashed node's disk is gone too; crash/partition: (lost, diverged pairs, stale
# reads) after the heal.
PINNED = {
    "backups": {"by_type": {"Copy": 1.0}, "per_op": 1.0, "delays": 0.0, "busiest": ("primary", 3.0),
                "lost": 1, "after_crash": "down", "after_partition": "read/write",
                "crash": (0, 0, 0), "partition": (0, 0, 0),
                "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
    "async": {"by_type": {"Update": 2.0}, "per_op": 2.0, "delays": 0.0, "busiest": ("primary", 4.0),
              "lost": 1, "after_crash": "read/write", "after_partition": "read/write",
              "crash": (1, 0, 1), "partition": (9, 0, 3),
              "linearizable_in": {"no fault": True, "crash": False, "partition": False}},
    "sync": {"by_type": {"Ack": 2.0, "Update": 2.0}, "per_op": 4.0, "delays": 2.0,
             "busiest": ("primary", 6.0), "lost": 0, "after_crash": "read-only",
             "after_partition": "read-only", "crash": (0, 0, 0), "partition": (0, 0, 0),
             "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
    "multi-master": {"by_type": {"Update": 2.0}, "per_op": 2.0, "delays": 0.0,
                     "busiest": ("m1", 4.0), "lost": 0, "after_crash": "read/write",
                     "after_partition": "read/write", "crash": (0, 2, 0), "partition": (0, 2, 1),
                     "linearizable_in": {"no fault": True, "crash": True, "partition": False}},
    "2pc": {"by_type": {"Ack": 3.0, "Commit": 3.0, "Prepare": 3.0, "Vote": 3.0}, "per_op": 12.0,
            "delays": 2.0, "busiest": ("coord", 14.0), "lost": 0, "after_crash": "down",
            "after_partition": "read-only", "crash": (0, 0, 0), "partition": (0, 0, 0),
            "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
    "3pc": {"by_type": {"Ack": 3.0, "CanCommit": 3.0, "DoCommit": 3.0, "PreCommit": 3.0,
                        "PreCommitAck": 3.0, "Vote": 3.0}, "per_op": 18.0, "delays": 4.0,
            "busiest": ("coord", 20.0), "lost": 0, "after_crash": "down",
            "after_partition": "read-only", "crash": (0, 0, 0), "partition": (0, 0, 0),
            "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
    "multipaxos": {"by_type": {"Accept": 2.0, "Accepted": 2.0, "Decided": 2.0}, "per_op": 6.0,
                   "delays": 2.0, "busiest": ("r1", 8.0), "lost": 0, "after_crash": "read/write",
                   "after_partition": "read/write", "crash": (0, 0, 0), "partition": (0, 0, 0),
                   "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
    "paxos-per-op": {"by_type": {"Accept": 2.0, "Accepted": 2.0, "Decided": 2.0,
                                 "Prepare": 2.0, "Promise": 2.0}, "per_op": 10.0, "delays": 4.0,
                     "busiest": ("r1", 12.0), "lost": 0, "after_crash": "read/write",
                     "after_partition": "read/write", "crash": (0, 0, 0), "partition": (0, 0, 0),
                     "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
    # chapter 10: AppendEntries is Accept with the decision folded into leader_commit, so
    # one round trip of 2(n - 1) messages; the leader handles 6 (request, 2 AppendEntries,
    # 2 AppendReply, reply); a new leader is elected after the crash and on the majority side
    "raft": {"by_type": {"AppendEntries": 2.0, "AppendReply": 2.0}, "per_op": 4.0,
             "delays": 2.0, "busiest": ("s1", 6.0), "lost": 0, "after_crash": "read/write",
             "after_partition": "read/write", "crash": (0, 0, 0), "partition": (0, 0, 0),
             "linearizable_in": {"no fault": True, "crash": True, "partition": True}},
}


@pytest.fixture(scope="module")
def table():
    return compare()


def test_rows_in_order(table):
    assert [r.approach for r in table.rows] == list(PINNED)
    assert [r.expected for r in table.rows] == [None, 3, 6, None, 12, 18, 12, 18, None]
    assert all(r.available for r in table.rows)


@pytest.mark.parametrize("approach", list(PINNED))
def test_pinned_table_n3(table, approach):
    """The comparison table for n = 3 on seed 0: exact message counts per write, by type;
    message delays; the busiest node; lost writes; availability; what each healed fault left
    (lost, diverged, stale); linearizability.  The partition run now heals and reads every
    server afterwards: async primary/backup loses the 9 writes its cut-off primary
    acknowledged (chapter 04's "elections only" loses 9 the same way), and the reads show it."""
    r, want = table.row(approach), PINNED[approach]
    assert r.messages_by_type == want["by_type"]
    assert r.messages_per_op == want["per_op"]
    assert r.delays == want["delays"]
    assert (r.busiest, r.busiest_per_op) == want["busiest"]
    assert r.throughput == pytest.approx(1000.0 / want["busiest"][1])
    assert r.lost == want["lost"]
    assert r.after_crash == want["after_crash"]
    assert r.after_partition == want["after_partition"]
    for kind in ("crash", "partition"):
        f = getattr(r, f"{kind}_run")
        assert (f.lost, len(f.diverged), f.stale) == want[kind], kind
    assert r.linearizable_in == want["linearizable_in"]
    assert r.linearizable == all(want["linearizable_in"].values())


def test_table_text(table):
    """Two tables, columns named in words with their units on a line of their own: costs
    (messages, delays, latency in time units, writes per second) and faults."""
    costs = table.text("costs").splitlines()
    assert costs[0].startswith("n = 3 replicas; ops=10, seed=0, latency=uniform 0.5..1.5")
    assert len(costs) == 1 + 3 + 9 + 1
    assert costs[1].split()[:4] == ["approach", "taxonomy", "messages", "message"]
    assert "per write" in costs[2] and "per second" in costs[2]
    assert costs[-1].startswith("latency in time units")
    faults = table.text("faults").splitlines()
    assert len(faults) == 1 + 3 + 9 + 1
    async_row = next(x for x in faults if x.startswith("async primary/backup"))
    assert "9 / 0 / 3" in async_row and async_row.endswith("NO")
    assert "0 / 2 / 1" in next(x for x in faults if x.startswith("multi-master"))
    assert str(table) == table.text("both")
    assert [d["messages per write"] for d in table.as_dicts()] == [1.0, 2.0, 4.0, 2.0, 12.0,
                                                                   18.0, 6.0, 10.0, 4.0]
    with pytest.raises(ValueError, match="part must be"):
        table.text("all")


@pytest.mark.parametrize("n", [3, 5])
def test_message_counts_scale_with_n(n):
    """Per write, with n replicas: backups copy the log to each of the n - 1 backups once per
    period, and the 10 writes span 5 periods: (n - 1) / 2; multi-master ships an Update to
    each of the n - 1 other masters.  Async ships an Update to each of the n - 1 backups, sync
    also gets an Ack from each (2(n - 1)); the primary sends nothing to itself, hence n - 1
    where the taxonomy says n.  2PC and 3PC send 4 and 6 messages to each of n participants
    (the coordinator is a node of its own): 4n and 6n, as the taxonomy says.  Multi-Paxos's
    leader sends Accept and Decided to the n - 1 other replicas and gets their Accepted:
    3(n - 1), where the taxonomy says 4n; with a phase 1 per command, Prepare and Promise
    too: 5(n - 1), where it says 6n.  (The leader also sends itself an Accept and answers
    itself Accepted, and Prepare/Promise: local, not counted.)  Raft's leader sends
    AppendEntries to the n - 1 others and gets their AppendReply: 2(n - 1), the commit
    riding on the next AppendEntries."""
    t = compare(replicas=n, crash=None, partition=None)
    assert [r.messages_per_op for r in t.rows] == [(n - 1) / 2, n - 1, 2 * (n - 1), n - 1,
                                                   4 * n, 6 * n, 3 * (n - 1), 5 * (n - 1),
                                                   2 * (n - 1)]
    assert t.row("multipaxos").self_messages == {"Accept": 1.0, "Accepted": 1.0}
    assert t.row("paxos-per-op").self_messages == {"Accept": 1.0, "Accepted": 1.0,
                                                   "Prepare": 1.0, "Promise": 1.0}
    assert t.row("sync").self_messages == {}


def test_message_delays_on_constant_latency():
    """Every message takes 1: a write's latency is the client's round trip (2) plus the
    protocol's message delays: async 0 (it answers before shipping), sync 2 (Update, Ack),
    2PC 2 (Prepare, Vote: the coordinator answers once it decides), 3PC 4 (and PreCommit,
    PreCommitAck), Multi-Paxos 2 (Accept, Accepted: the leader answers once a majority
    accepted), a phase 1 per command 4 (and Prepare, Promise), Raft 2 (AppendEntries,
    AppendReply)."""
    t = compare(latency=Constant(1.0), crash=None, partition=None)
    assert [r.delays for r in t.rows] == [0, 0, 2, 0, 2, 4, 2, 4, 2]
    assert [r.latency_mean for r in t.rows] == [2, 2, 4, 2, 4, 6, 4, 6, 4]
    assert [r.latency_max for r in t.rows] == [2, 2, 4, 2, 4, 6, 4, 6, 4]


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
    assert t.text("costs").count("not available yet") == 2
    assert "Multi-Paxos, stable leader not available yet" in C.plot_messages(t).alt_text


def test_plots_carry_alt_text(table):
    fig = C.plot_messages(table)
    assert fig.alt_text.startswith("Bar chart of messages per write per approach, n = 3")
    assert "async primary/backup 2 (taxonomy 1n = 3)" in fig.alt_text
    assert "backups 1 (not in the taxonomy)" in fig.alt_text
    assert "Paxos, election per op 10 (taxonomy 6n = 18)" in fig.alt_text
    assert "3PC 4" in C.plot_delays(table).alt_text
    assert "async primary/backup 250 writes/s" in C.plot_throughput(table).alt_text
    assert "after a crash of the leader at t=11" in C.plot_lost_writes(table).alt_text
    assert "mean write latency" in C.plot_latency(table).alt_text


@pytest.mark.parametrize("kwargs, message", [
    ({"approach": "zab"}, "unknown approach 'zab'"),
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


# ---- healed faults, the sweep, 3PC's in-flight transaction -----------------------------------

@pytest.fixture(scope="module")
def sweep():
    return C.crash_sweep(progress=False)


def test_crash_sweep_pinned(sweep):
    """The leader crashes at t = 1, 2, ..., 30 (each run healed).  Counting the crashed disk as
    gone: backups lose the writes since the last copy at 28 crash times (up to 2 at once);
    async primary/backup loses the write whose Update was in flight at 5 (t = 2, 6, 11, 17,
    22, the chapter's earlier sweep); multi-master loses a write not yet shipped at 6;
    the others never.  After the restart multi-master's logs disagree at 27 crash times, and
    3PC's at 2 (t = 5 and 16: the crash cut the PreCommit broadcast short, one participant
    committed on its timeout, the others aborted)."""
    def times(a, what):
        return [t for t, f in zip(sweep.times, sweep.runs[a]) if what(f)]
    down = lambda f: f.lost_while_down
    assert len(times("backups", down)) == 28 and sweep.worst("backups", down) == 2
    assert times("async", down) == [2, 6, 11, 17, 22] and sweep.worst("async", down) == 1
    assert times("multi-master", down) == [2, 7, 12, 17, 23, 27]
    for a in ("sync", "2pc", "3pc", "multipaxos", "paxos-per-op"):
        assert times(a, down) == [], a
    assert sweep.count("multi-master", lambda f: f.diverged) == 27
    assert times("3pc", lambda f: f.diverged) == [5, 16]
    assert sweep.count("async", lambda f: f.stale) == 5
    assert sweep.count("multi-master", lambda f: not f.linearizable) == 8
    assert "lost if the disk is gone at 5 of 30 crash times" in sweep.summary("async")


def test_3pc_crash_mid_broadcast_breaks_atomicity():
    """3PC assumes a PreCommit reaches every live participant; a coordinator crash that
    loses the broadcast half-way (crash at t = 5) leaves p2 precommitted (it commits on its
    timeout) and p1, p3 only voted (they abort): transaction 1 commits at one participant
    and aborts at the others."""
    f, sim = C.fault_run("3pc", "crash", at=5.0)
    assert {p: sim.node(p).log[1] for p in ("p1", "p2", "p3")} == {
        "p1": "aborted", "p2": "committed", "p3": "aborted"}
    assert len(f.diverged) == 2


def test_in_flight_transaction_2pc_blocks_3pc_commits():
    """Every participant voted yes; the coordinator crashes just before anyone learns the
    outcome.  2PC: all prepared, all in doubt at the end (blocked).  3PC: all precommitted,
    each times out and commits on its own."""
    from replib.protocols.twopc import final_outcomes
    assert set(final_outcomes(C.in_flight_crash("2pc")).values()) == {"in doubt"}
    assert set(final_outcomes(C.in_flight_crash("3pc")).values()) == {"committed"}
    with pytest.raises(ValueError, match="protocol must be '2pc' or '3pc'"):
        C.in_flight_crash("paxos")


def test_stale_reads_by_hand():
    """A read is stale when a write acknowledged before it began came after the write of the
    value it returned (or after the start, for None); concurrent writes are not stale."""
    from replib.trace import Operation as Op
    h = [Op("c1", ("write", "a"), 0, 1, "ok"), Op("c2", ("write", "b"), 2, 3, "ok"),
         Op("c3", ("read",), 4, 5, "a"),                   # b was acked before: stale
         Op("c3", ("read",), 6, 7, "b"),                   # fresh
         Op("c1", ("write", "c"), 8, 12, "ok"),
         Op("c2", ("read",), 9, 10, "b"),                  # c not yet acked: fine
         Op("c4", ("read",), 0.5, 0.8, None)]              # nothing acked yet: fine
    assert [op.invoke for op in C.stale_reads(h)] == [4]
    kv = [Op("c1", ("write", "x", 1), 0, 1, "ok"), Op("c1", ("write", "y", 2), 1, 2, "ok"),
          Op("c2", ("read", "x"), 3, 4, None), Op("c2", ("read", "y"), 3, 4, 2)]
    assert [op.op for op in C.stale_reads(kv)] == [("read", "x")]


def test_fault_run_refuses_nonsense():
    with pytest.raises(ValueError, match="kind must be 'crash' or 'partition'"):
        C.fault_run("sync", "flood")
    with pytest.raises(ValueError, match="unknown approach"):
        C.crash_sweep(approaches=["zab"], progress=False)
    with pytest.raises(ValueError, match="at least one crash time"):
        C.crash_sweep(times=[], progress=False)


def test_lost_writes_plot_from_a_sweep(sweep):
    fig = C.plot_lost_writes(sweep)
    assert "crash times, of 30 (t = 1 to 30)" in fig.alt_text
    assert "backups 28; async primary/backup 5" in fig.alt_text
    assert all(float(t).is_integer() for t in fig.axes[0].get_yticks())
