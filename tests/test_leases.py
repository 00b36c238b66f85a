"""Reads without a slot each (replib.protocols.leases): each rule of the read index (R1-R3)
and of the lease (L1-L4) as a handler test with exact effects, on a fake clock; the clocks
and disk faults of the simulator; chapter 09's runs pinned: the stale read of a deposed
leader, fixed three ways and broken again by a clock beyond the drift bound; the cost of a
read; 1,000 seeded runs with drift within the bound."""

import pytest
from helpers import attached, plain

from replib import Simulation
from replib.clients import Reply, Request
from replib.experiments import reads
from replib.faults import backup, clock, restart, restore, wipe
from replib.node import Node
from replib.protocols.leases import (
    Confirm,
    Confirmed,
    LeaseReplica,
    ReadIndexReplica,
    Renew,
    RenewAck,
    RenewTimer,
    lease_margin,
)
from replib.protocols.multipaxos import Accept, Accepted, Prepare, Promise, multipaxos_system


def leader_of(cls, now=None):
    """r1 as leader with ballot 3 (promises from r1 and r2), on a fake clock at ``now``."""
    nodes = attached(multipaxos_system(heartbeat=None, replica=cls))
    t = {"now": 0.0 if now is None else now}
    for n in nodes.values():
        n._clock = lambda: t["now"]
    r1 = nodes["r1"]
    r1.run_hook("on_start")
    r1.handle(Promise(3, ()), "r1")
    effects = plain(r1.handle(Promise(3, ()), "r2"))
    return nodes, r1, t, effects


def test_read_index_confirms_with_a_majority_before_answering():
    """R1: a read makes the leader send Confirm(ballot, nonce) to the others; R2: a replica
    that promised nothing higher confirms; R3: with a majority (itself and one more) and
    the read index applied, the leader answers from its register."""
    nodes, r1, _, _ = leader_of(ReadIndexReplica)
    r1.kv["x"] = 7
    assert plain(r1.handle(Request("c1", 0, ("read", "x")), "c1")) == [
        ("send", "r2", Confirm(3, 1)), ("send", "r3", Confirm(3, 1))]
    assert plain(nodes["r2"].handle(Confirm(3, 1), "r1")) == [("send", "r1", Confirmed(3, 1))]
    assert plain(r1.handle(Confirmed(3, 1), "r2")) == [("send", "c1", Reply(0, 7))]
    assert plain(r1.handle(Confirmed(3, 1), "r3")) == []        # answered once


def test_read_index_refusals():
    """R2: a replica that promised a higher ballot does not confirm; a deposed leader
    forgets its reads (the client retries elsewhere)."""
    nodes, r1, _, _ = leader_of(ReadIndexReplica)
    r2 = nodes["r2"]
    r2.handle(Prepare(5, 1), "r3")
    assert plain(r2.handle(Confirm(3, 1), "r1")) == []
    r1.handle(Request("c1", 0, ("read", "x")), "c1")
    r1.handle(Prepare(5, 1), "r3")                               # deposed
    assert r1.role == "follower" and r1.reads == {}


def test_read_index_waits_for_the_read_index_to_be_applied():
    """R3: a read that arrives while slot 1 is proposed but not chosen waits for it."""
    nodes, r1, _, _ = leader_of(ReadIndexReplica)
    r1.handle(Request("c1", 0, ("write", "x", "a")), "c1")
    r1.handle(Request("c1", 1, ("read", "x")), "c1")
    assert plain(r1.handle(Confirmed(3, 1), "r2")) == []         # slot 1 not applied yet
    r1.handle(Accepted(3, 1, ("c1", 0, ("write", "x", "a"))), "r1")
    effects = plain(r1.handle(Accepted(3, 1, ("c1", 0, ("write", "x", "a"))), "r2"))
    assert effects[-2:] == [("send", "c1", Reply(0, "ok")), ("send", "c1", Reply(1, "a"))]


def test_lease_margin():
    """L3: (lease - margin) / (1 - b) == lease / (1 + b): the leader's lease ends, in true
    time, no later than a replica's guard, whichever way the two clocks drift."""
    for lease, b in ((20.0, 0.01), (5.0, 0.2), (10.0, 0.0)):
        m = lease_margin(lease, b)
        assert (lease - m) / (1 - b) == pytest.approx(lease / (1 + b))


def test_lease_is_renewed_and_held_with_a_majority():
    """L1: on taking the lead the leader sends Renew(ballot, its clock) and sets RenewTimer;
    L2: a follower acknowledges and guards; L3: one acknowledgement more makes a majority,
    and the lease runs until sent + lease - margin on the leader's clock."""
    nodes, r1, t, effects = leader_of(LeaseReplica, now=2.0)
    assert [e for e in effects if e[0] == "send" and isinstance(e[2], Renew)] == [
        ("send", "r2", Renew(3, 2.0)), ("send", "r3", Renew(3, 2.0))]
    assert ("set", RenewTimer(), 1.0) in effects
    r2 = nodes["r2"]
    t["now"] = 3.0
    assert plain(r2.handle(Renew(3, 2.0), "r1"))[-1] == ("send", "r1", RenewAck(3, 2.0))
    assert r2.guard == 23.0 and r2.leader == "r1"
    assert not r1.holds_lease()
    r1.handle(RenewAck(3, 2.0), "r2")
    assert r1.lease_end == pytest.approx(2.0 + 20.0 - lease_margin(20.0, 0.01))
    assert r1.holds_lease()


def test_lease_reads_are_local_and_end_with_the_lease():
    """L4: holding the lease, the leader answers a read at once; after it, the read goes
    through the log (an Accept for a new slot)."""
    nodes, r1, t, _ = leader_of(LeaseReplica, now=2.0)
    r1.handle(RenewAck(3, 2.0), "r2")
    r1.kv["x"] = 7
    assert plain(r1.handle(Request("c1", 0, ("read", "x")), "c1")) == [("send", "c1", Reply(0, 7))]
    t["now"] = 22.0
    effects = plain(r1.handle(Request("c1", 1, ("read", "x")), "c1"))
    assert ("send", "r2", Accept(3, 1, ("c1", 1, ("read", "x")))) in effects


def test_a_guarding_replica_ignores_other_candidates_until_its_guard_passes():
    """L2: after a Renew from r1, r2 ignores r3's Prepare (and its own) until its clock
    passes the guard; then it promises as usual.  A restarted replica guards a whole lease."""
    nodes, _, t, _ = leader_of(LeaseReplica, now=2.0)
    r2 = nodes["r2"]
    r2.handle(Renew(3, 2.0), "r1")
    assert plain(r2.handle(Prepare(5, 1), "r3")) == []
    assert plain(r2.handle(Prepare(5, 1), "r2")) == []
    t["now"] = 22.5
    assert plain(r2.handle(Prepare(5, 1), "r3"))[-1] == ("send", "r3", Promise(5, ()))
    r3 = nodes["r3"]
    r3.crash_reset()
    r3.run_hook("on_restart")
    assert r3.guard == 42.5 and plain(r3.handle(Prepare(8, 1), "r2")) == []


def test_the_checker_and_controlled_mode_refuse_clocks():
    """A node that reads its clock cannot be checked: the error says why."""
    n = LeaseReplica("r1", ("r1",), 0)
    n._attach(("r1",), None)
    with pytest.raises(ValueError, match="only a seeded Simulation"):
        n.clock()


# ---- clocks and disks in the simulator ----------------------------------------------------

class Ticker(Node):
    """Counts ticks of a 1-unit timer (on disk) and notes its clock at each (volatile)."""

    stable = ("count",)

    def __init__(self, id):
        super().__init__(id)
        self.count = 0
        self.seen = []

    def on_start(self):
        from replib.actions import Fire  # noqa: F401  (a timer class of our own below)
        self.set_timer(Tick(), 1.0)

    def on_restart(self):
        self.set_timer(Tick(), 1.0)

    def on_tick(self, timer):
        self.count += 1
        self.seen.append(round(self.clock(), 6))
        self.set_timer(Tick(), 1.0)


from dataclasses import dataclass  # noqa: E402


@dataclass(frozen=True)
class Tick:
    pass


def test_clocks_rates_and_jumps():
    """A clock at rate 2 fires a 1-unit timer every 0.5 and reads twice true time; a jump
    moves what clock() reads, not when timers fire."""
    sim = Simulation([Ticker("a"), Ticker("b")], clocks={"b": 2.0},
                     faults=[clock("a", jump=5, at=2.5)])
    sim.run(until=3.0)
    assert sim.nodes["a"].seen == [1.0, 2.0, 8.0]
    assert sim.nodes["b"].seen == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert sim.clock_of("a") == 8.0


def test_drift_draws_rates_from_the_seed():
    rates = lambda seed: [Simulation([Ticker("a")], drift=0.1, seed=seed)._clocks["a"][2]
                          for _ in range(2)]
    assert rates(1)[0] == rates(1)[1] and 0.9 <= rates(1)[0] <= 1.1
    assert rates(1) != rates(2)


def test_wipe_and_restore():
    """wipe: the node crashes and forgets everything, its disk too; restore: it crashes and
    its disk goes back to its last backup (a stale copy)."""
    sim = Simulation([Ticker("a"), Ticker("b")],
                     faults=[backup("a", at=3.2), wipe("b", at=3.5), restart("b", at=4),
                             restore("a", at=5.5), restart("a", at=6)])
    sim.run(until=7.0)
    assert (sim.nodes["a"].count, sim.nodes["b"].count) == (4, 3)
    kinds = [(e.kind, e.node) for e in sim.trace.events if e.kind in ("crash", "wipe", "restore")]
    assert kinds == [("crash", "b"), ("wipe", "b"), ("crash", "a"), ("restore", "a")]


@pytest.mark.parametrize("bad, message", [
    (dict(clocks={"zz": 1.0}), "unknown node"),
    (dict(clocks={"a": 0}), "rate > 0"),
    (dict(drift=1.5), "drift must be"),
    (dict(faults=[restore("a", at=1)]), "no backup"),
])
def test_bad_clock_and_disk_settings_are_explained(bad, message):
    with pytest.raises(ValueError, match=message):
        Simulation([Ticker("a")], **bad).run(until=2)


def test_a_clock_fault_needs_a_rate_or_a_jump():
    with pytest.raises(ValueError, match="give rate="):
        clock("a", at=1)


# ---- chapter 09's runs ----------------------------------------------------------------------

def test_a_deposed_leader_reads_stale_only_without_a_safe_method():
    """The same partition run: local reads answer "a" after "b" was acknowledged (not
    linearizable); the log, the read index and the lease answer "b" after the heal."""
    outcome = {r: reads.read_after_partition(r) for r in reads.READS}
    assert {r: (run.read.result, run.stale, bool(run.verdict)) for r, run in outcome.items()} \
        == {"log": ("b", False, True), "local": ("a", True, False),
            "read index": ("b", False, True), "lease": ("b", False, True)}
    assert outcome["local"].read.response == 36.0 and outcome["lease"].read.response == 52.0


def test_a_slow_clock_beyond_the_bound_breaks_the_lease():
    """r1's clock at 0.995 (within the 1 % bound): still fresh; at 0.25 r1 believes in its
    lease long after the others elected r2, and reads "a": not linearizable."""
    within = reads.read_after_partition("lease", [clock("r1", rate=0.995, at=6)])
    beyond = reads.read_after_partition("lease", [clock("r1", rate=0.25, at=6)])
    assert (within.read.result, within.stale) == ("b", False)
    assert (beyond.read.result, beyond.stale, bool(beyond.verdict)) == ("a", True, False)


def test_read_costs():
    rows = {r["reads"]: (r["messages per read"], r["latency"]) for r in reads.read_costs()}
    assert rows == {"log": (6, 4), "local": (0, 2), "read index": (4, 4), "lease": (0, 2)}


def test_failover_waits_out_the_lease_and_renewals_cost_messages():
    assert [reads.failover_gap(lease) for lease in (None, 5, 20)] == [14.0, 14.0, 26.0]
    assert reads.renewal_cost(replicas=3) == pytest.approx(3.94)
    assert reads.renewal_cost(replicas=5) == pytest.approx(7.88)


def test_a_flapping_leader_costs_writes_and_elections():
    """The leader cut off for 6 every 40, 20 or 10 time units: fewer writes in 150, more
    phase-1 messages; a lease of 5 costs more still (each change waits out the guard)."""
    heartbeats = [reads.flapping_cost(every) for every in (None, 40, 20, 10)]
    assert [(r["writes"], r["leaders cut off"], r["phase-1 messages"]) for r in heartbeats] == [
        (37, 0, 6), (31, 3, 35), (25, 7, 74), (15, 14, 148)]
    leased = [reads.flapping_cost(every, lease=5.0)["writes"] for every in (None, 40, 20, 10)]
    assert leased == [37, 30, 20, 9]
    with pytest.raises(ValueError, match="every must be longer than cut_for"):
        reads.flapping_cost(5)


def test_a_thousand_seeded_runs_with_drift_within_the_bound():
    """Loss, duplication, a crash and a partition in each; clocks within the bound: no slot
    disagreement, every history linearizable."""
    result = reads.lease_runs(range(1000), drift=0.01)
    assert (result.runs, result.disagreements, result.not_linearizable) == (1000, [], [])


def test_a_thousand_seeded_runs_of_the_read_index_and_local_reads():
    """The same runs: the read index never breaks linearizability; local reads do."""
    assert reads.lease_runs(range(1000), reads="read index").not_linearizable == []
    assert reads.lease_runs(range(200), reads="local").not_linearizable == [33, 45, 77, 118,
                                                                             143, 170]


def test_the_checker_catches_local_reads():
    local = reads.check_reads("local")
    assert local.violation.name == "reads are fresh" and len(local.violation.path) == 19


# ---- leases across a membership change (leases.LeasedAlphaWindow) --------------------------

def test_a_lease_counts_only_the_configuration_of_the_slots_ahead():
    """A rival must win a majority of the configuration of the slots it would write in, so
    the lease counts only those members: r4's acknowledgement does not count under
    r1..r3; while the change to r1..r5 is on its way there is no lease (reads go through
    the log); once it governs the next slots the old lease is void and the lease needs a
    majority of r1..r5."""
    from replib.protocols.leases import LeasedAlphaWindow
    from replib.protocols.membership import ADMIN, GROW, membership_system, replica_ids
    from replib.protocols.multipaxos import Decided, Request
    five = tuple(replica_ids(5))
    nodes = attached(membership_system(3, 5, LeasedAlphaWindow, 1,
                                       leading=[("r1", ("r1", "r2"))],
                                       clients=[(ADMIN, "r1", [("config", five)])]))
    t = {"now": 2.0}
    for n in nodes.values():
        n._clock = lambda: t["now"]
    r1 = nodes["r1"]
    r1.run_hook("on_start")
    assert [e[1] for e in plain(r1.handle(RenewTimer())) if e[0] == "send"] == list(five[1:])
    r1.handle(RenewAck(r1.ballot, 2.0), "r4")
    assert r1.lease_members() == five[:3] and not r1.holds_lease()
    r1.handle(RenewAck(r1.ballot, 2.0), "r2")
    assert r1.holds_lease() and r1.lease_config == five[:3]
    r1.handle(Request(ADMIN, 0, ("config", five)), ADMIN)      # proposed in slot 1
    assert r1.lease_members() is None and not r1.holds_lease()
    r1.handle(Decided(1, GROW), "r2")                          # governs slots 2 on
    assert r1.lease_members() == five and not r1.holds_lease()
    t["now"] = 3.0
    r1.handle(RenewTimer())
    r1.handle(RenewAck(r1.ballot, 3.0), "r2")
    assert not r1.holds_lease()                                # 2 of 5
    r1.handle(RenewAck(r1.ballot, 3.0), "r4")
    assert r1.holds_lease() and r1.lease_config == five


def test_a_thousand_changes_with_leases_drifting_clocks_and_reads():
    """1,000 seeds of chapter 09's random change 3 -> 5 (10 % loss, 5 % duplication, two
    crashes) on LeasedAlphaWindow, every clock within the 1 % drift the lease assumes, c1
    reading after each write: no slot disagreement, every history linearizable, and the
    leases were used: 1,405 reads answered from a lease, with no slot."""
    from replib.protocols.leases import LeasedAlphaWindow
    from replib.protocols.membership import random_changes
    assert random_changes(range(1000), LeasedAlphaWindow, drift=0.01, reads=True) == {
        "runs": 1000, "slot disagreements": 0, "change applied": 989, "all answered": 130,
        "not linearizable": 0, "reads answered locally": 1405}
