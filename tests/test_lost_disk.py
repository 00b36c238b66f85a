"""A lost disk (replib.protocols.lost_disk): each rule D1-D3 as a handler test with exact
effects, and chapter 09's run pinned: rejoining with an empty disk chooses a second command
in slot 1; recovering from a majority first keeps "a" and delays "b"."""

from helpers import attached, plain

from replib.experiments.lost_disk import lost_disk_run, lost_disk_table
from replib.protocols.lost_disk import AskAgain, AskState, RecoveringReplica, State
from replib.protocols.multipaxos import Accept, Prepare, multipaxos_system, slot_disagreements


def replicas():
    return attached(multipaxos_system(heartbeat=None, replica=RecoveringReplica))


def test_first_start_is_not_a_lost_disk():
    """fresh is on disk: cleared at the first start, so a plain crash and restart is not
    taken for a lost disk."""
    r2 = replicas()["r2"]
    r2.run_hook("on_start")
    assert r2.fresh is False
    r2.crash_reset()
    effects = plain(r2.run_hook("on_restart"))
    assert not r2.recovering and not any(isinstance(e[2], AskState) for e in effects
                                         if e[0] == "send")


def test_an_empty_disk_asks_the_others_and_votes_for_nothing():
    """D1: restarted with fresh set, it asks the others (and again every timeout), and
    ignores Prepare and Accept until it has recovered."""
    r2 = replicas()["r2"]
    assert plain(r2.run_hook("on_restart")) == [
        ("send", "r1", AskState()), ("send", "r3", AskState()), ("set", AskAgain(), 4.0)]
    assert plain(r2.handle(Prepare(5, 1), "r3")) == []
    assert plain(r2.handle(Accept(5, 1, "cmd"), "r3")) == []


def test_replicas_with_a_disk_answer_with_their_state():
    """D2: promised, accepted (slot order) and seen; a recovering replica does not answer."""
    nodes = replicas()
    r1 = nodes["r1"]
    r1.run_hook("on_start")
    r1.handle(Accept(4, 2, "y"), "r3")
    r1.handle(Accept(4, 1, "x"), "r3")
    assert plain(r1.handle(AskState(), "r2")) == [
        ("send", "r2", State(4, ((1, (4, "x")), (2, (4, "y"))), 3))]
    r2 = nodes["r2"]
    r2.run_hook("on_restart")
    assert plain(r2.handle(AskState(), "r3")) == []


def test_recovery_takes_the_highest_promise_and_accepts_from_a_majority():
    """D3: with a majority of answers (2 of 3 here) it takes the highest promise and, per
    slot, the accepted command with the highest ballot, then follows (votes again)."""
    r2 = replicas()["r2"]
    r2.run_hook("on_restart")
    assert plain(r2.handle(State(4, ((1, (4, "x")),), 4), "r1")) == []
    r2.handle(State(7, ((1, (2, "old")), (2, (7, "z"))), 7), "r3")
    assert (r2.recovering, r2.fresh, r2.promised) == (False, False, 7)
    assert r2.accepted == {1: (4, "x"), 2: (7, "z")}
    assert plain(r2.handle(Prepare(9, 1), "r3"))[-1][2].accepted == ((1, (4, "x")), (2, (7, "z")))


def test_rejoining_with_an_empty_disk_breaks_agreement_recovering_does_not():
    plain_run, recovering = lost_disk_run("plain"), lost_disk_run("recovering")
    assert [c[2][2] for c in plain_run.nodes["r1"].log] == ["a"]
    assert [c[2][2] for c in plain_run.nodes["r3"].log] == ["b"]
    assert len(slot_disagreements(plain_run)) == 1
    assert slot_disagreements(recovering) == []
    assert [c[2][2] for c in recovering.nodes["r3"].log] == ["a", "b"]
    b = [op for op in recovering.trace.history() if op.client == "c2"][0]
    assert b.response == 41.0          # after r1 is back at 30: r2 needed its answer


def test_lost_disk_table():
    """An empty disk: broken as if new, safe after recovering; a stale copy (restored from a
    backup taken before r2 accepted "a") looks like a good disk, and breaks it again;
    recovering after every restart is safe, but r1 (back at 30) and r2 then both recover,
    each waiting for the other's answer, so c2's write is never acknowledged."""
    rows = lost_disk_table()
    assert [(r["r2's disk"], r["r2 rejoins"], r["r1 slot 1"], r["r2 slot 1"], r["r3 slot 1"],
             r["acknowledged writes"], r["slots in disagreement"]) for r in rows] == [
        ("empty", "as if new", "a", "b", "b", "a, b", 1),
        ("empty", "after recovering", "a", "a", "a", "a, b", 0),
        ("a stale copy", "after recovering", "a", "b", "b", "a, b", 1),
        ("a stale copy", "recovers on every restart", "a", "-", "-", "a", 0)]


def test_recovering_after_every_restart_can_wait_forever():
    """AlwaysRecovering: r1 and r2 both recover and a recovering replica does not answer
    AskState (D2), so neither ever hears from a majority of the others."""
    sim = lost_disk_run("always", disk="stale", until=300)
    assert sim.nodes["r1"].recovering and sim.nodes["r2"].recovering
    assert [op.response for op in sim.trace.history() if op.client == "c2"] == [None]


def test_an_always_recovering_replica_recovers_after_a_plain_restart_too():
    from replib.protocols.lost_disk import AlwaysRecovering
    r2 = attached(multipaxos_system(heartbeat=None, replica=AlwaysRecovering))["r2"]
    r2.run_hook("on_start")
    r2.crash_reset()
    assert plain(r2.run_hook("on_restart")) == [
        ("send", "r1", AskState()), ("send", "r3", AskState()), ("set", AskAgain(), 4.0)]
    assert r2.recovering


def test_the_checker_restarts_a_node_with_an_empty_disk():
    """Controls(wipe=True): a crashed node may come back with every field at its initial
    value; the path replays in the simulator, the wipe marked in the trace."""
    from replib.experiments.lost_disk import lost_disk_check
    plain_check = lost_disk_check("plain")
    assert (plain_check.states, len(plain_check.violation.path)) == (357, 12)
    steps = [str(a) for a in plain_check.violation.path.actions]
    assert steps[4:6] == ["crash r2", "restart r2 with an empty disk"]
    trace = plain_check.violation.path.trace()
    assert [e.detail for e in trace.events if e.kind == "wipe"] == ["wipe r2's disk"]
    safe = lost_disk_check("recovering")
    assert safe.complete and safe.violation is None and safe.states == 1_848


def test_the_checker_restarts_a_node_from_a_stale_copy_of_its_disk():
    """Controls(stale_disks={"r2": {...}}): the old copy looks used (fresh cleared), so
    RecoveringReplica trusts it and agreement breaks, by the same 12 steps as an empty disk
    breaks the plain replica; AlwaysRecovering is safe in every reachable state."""
    from replib.experiments.lost_disk import lost_disk_check
    trusting = lost_disk_check("recovering", disk="stale")
    assert (trusting.states, len(trusting.violation.path)) == (357, 12)
    steps = [str(a) for a in trusting.violation.path.actions]
    assert steps[4:6] == ["crash r2", "restart r2 from a stale copy of its disk"]
    trace = trusting.violation.path.trace()
    assert [e.detail for e in trace.events if e.kind == "restore"] == [
        "restore r2's disk from a stale copy"]
    assert len(trace.steps) == 4 + 12            # each node's start, then the 12 actions
    doubting = lost_disk_check("always", disk="stale")
    assert doubting.complete and doubting.violation is None and doubting.states == 1_848


def test_a_stale_disk_names_only_stable_fields():
    import pytest
    from replib.actions import Controls
    from replib.check import check
    from replib.experiments.lost_disk import lost_disk_scenario
    with pytest.raises(ValueError, match=r"stale_disks\['r2'\] names \['recovering'\], which is not "
                                         r"on RecoveringReplica's disk"):
        check(lost_disk_scenario("recovering"),
              Controls(duplicate=True, max_crashes=1, stale_disks={"r2": {"recovering": True}}))
    with pytest.raises(ValueError, match="stale_disks must map node ids"):
        Controls(stale_disks=["r2"])
    with pytest.raises(ValueError, match="stale_disks"):
        Controls(stale_disks={"r9": {}}).validate(("r1", "r2"))


def test_wipe_is_an_action_only_when_allowed():
    from replib.actions import Controls, Restart
    ids, crashed = ("r1", "r2"), {"r2"}
    assert Restart("r2", wiped=True) not in Controls(max_crashes=1).enabled(ids, [], [], crashed, 1)
    assert Controls(wipe=True, restart=False).enabled(ids, [], [], crashed, 1) == [
        Restart("r2", wiped=True)]
    assert Controls(restart=False, stale_disks={"r2": {}}).enabled(ids, [], [], crashed, 1) == [
        Restart("r2", stale=True)]
    assert Controls(restart=False, stale_disks={"r1": {}}).enabled(ids, [], [], crashed, 1) == []
