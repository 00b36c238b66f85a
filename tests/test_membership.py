"""Membership change (replib.protocols.membership): handler tests stating each rule of the
configuration as a log entry, the checker's verdicts pinned (the naive change's shortest
counterexample, the alpha window's exact state counts), the quorums of old and new, and
seeded runs of the safe change with loss, duplication, crashes and one change."""


import pytest
from helpers import attached, plain

from replib.clients import Reply, Request
from replib.protocols.membership import (
    GROW,
    W1,
    AlphaWindow,
    AtOnce,
    change_run,
    change_slot,
    config_command,
    configuration_quorums,
    deposed_scenario,
    members_of,
    membership_system,
    naive_change_check,
    random_changes,
    replica_ids,
    safe_change_check,
    solo_change_check,
)
from replib.protocols.multipaxos import (
    Accept,
    Accepted,
    Decided,
    Prepare,
    Promise,
    all_answered,
    slot_agreement,
)

OLD, FIVE = tuple(replica_ids(3)), tuple(replica_ids(5))


def leader(replica=AlphaWindow, alpha=1, holds=()):
    """r1 leading ballot 5 with the promises of r1, r2, r3, holding ``holds`` (the client
    "admin" exists)."""
    nodes = attached(membership_system(3, 5, replica, alpha, {"r1": list(holds)},
                                       leading=(("r1", OLD),),
                                       clients=[("admin", "r1", [("config", FIVE)])]))
    return nodes["r1"]


# ---- the configuration of a slot ------------------------------------------------------------

def test_config_command_names_sorted_members():
    """A configuration is a command in the log; its members are sorted and distinct."""
    assert config_command(["r3", "r1", "r3"]) == ("admin", 0, ("config", ("r1", "r3")))
    assert members_of(GROW) == FIVE and members_of(W1) is None and members_of("noop") is None


@pytest.mark.parametrize("alpha, slot, members", [
    (1, 1, OLD), (1, 2, FIVE), (2, 2, OLD), (2, 3, FIVE), (2, 4, None)])
def test_alpha_window_configuration(alpha, slot, members):
    """Alpha: the entry applied in slot 1 governs slots >= 1 + alpha; a slot past the
    applied ones + alpha has no known configuration yet (None)."""
    r2 = attached(membership_system(3, 5, AlphaWindow, alpha))["r2"]
    r2.log = [GROW]
    assert r2.configuration(slot) == members


def test_alpha_window_ignores_entries_not_applied():
    """Alpha: an entry accepted or decided but not applied counts for nothing: slot 2
    (alpha = 1) stays unknown until slot 1 is applied."""
    r2 = attached(membership_system(3, 5, AlphaWindow))["r2"]
    r2.accepted, r2.decided = {1: (5, GROW)}, {1: GROW}
    assert r2.configuration(1) == OLD and r2.configuration(2) is None


def test_at_once_uses_an_entry_as_soon_as_seen():
    """Naive: an entry merely accepted (not chosen) already governs every later slot."""
    r2 = attached(membership_system(3, 5, AtOnce))["r2"]
    r2.accepted = {1: (5, GROW)}
    assert r2.configuration(1) == OLD and r2.configuration(2) == FIVE


# ---- the leader ---------------------------------------------------------------------------

def test_alpha_leader_waits_for_the_entry_before_the_next_slot():
    """Alpha = 1: the leader proposes the change in slot 1 to the old members only, and
    proposes slot 2 only once slot 1 is applied (it must know slot 2's configuration)."""
    r1 = leader(holds=[GROW, W1])
    assert plain(r1.run_hook("on_start")) == [("send", r, Accept(5, 1, GROW)) for r in OLD]
    assert r1.next_slot == 2 and r1.queue == [W1]


def test_at_once_leader_pipelines_under_the_new_configuration():
    """Naive: right after proposing the change, the leader sends slot 2 to all five."""
    r1 = leader(AtOnce, holds=[GROW, W1])
    assert plain(r1.run_hook("on_start")) == (
        [("send", r, Accept(5, 1, GROW)) for r in OLD] + [("send", r, Accept(5, 2, W1))
                                                          for r in FIVE])


def test_chosen_change_extends_phase1_to_the_new_members():
    """Once the change is chosen and applied, slot 2 falls under the five; only 3 of them
    promised ballot 5, which is a majority of five, so the leader proposes at once, to all
    five.  With two promises it first asks the new members (Prepare, same ballot)."""
    r1 = leader(holds=[GROW, W1])
    r1.run_hook("on_start")
    r1.handle(Accepted(5, 1, GROW), "r1")
    effects = plain(r1.handle(Accepted(5, 1, GROW), "r2"))
    assert [e for e in effects if isinstance(e[2], Accept)] == [
        ("send", r, Accept(5, 2, W1)) for r in FIVE]
    assert ("send", "r4", Decided(1, GROW)) in effects        # new members hear of it
    r1 = leader(holds=[GROW, W1])
    r1.run_hook("on_start")
    del r1.promises["r3"]
    r1.asked.discard("r3")
    r1.handle(Accepted(5, 1, GROW), "r1")
    effects = plain(r1.handle(Accepted(5, 1, GROW), "r2"))
    assert [e for e in effects if isinstance(e[2], (Accept, Prepare))] == [
        ("send", r, Prepare(5, 2)) for r in ("r3", "r4", "r5")]
    assert plain(r1.handle(Promise(5, ()), "r4")) == [("send", r, Accept(5, 2, W1))
                                                      for r in FIVE]


def test_majority_of_the_slot_configuration_chooses():
    """Under the five, two acceptances (a majority of the old three) do not choose; the
    third does, and the decision goes to the other members."""
    r1 = leader(holds=[W1])
    r1.log = [GROW]
    assert plain(r1.run_hook("on_start")) == [("send", r, Accept(5, 2, W1)) for r in FIVE]
    r1.handle(Accepted(5, 2, W1), "r1")
    assert plain(r1.handle(Accepted(5, 2, W1), "r4")) == []
    assert plain(r1.handle(Accepted(5, 2, W1), "r5")) == [
        ("send", r, Decided(2, W1)) for r in ("r2", "r3", "r4", "r5")]
    assert r1.log == [GROW, W1]


def test_candidate_needs_a_majority_of_the_first_open_slot_configuration():
    """Phase 1 goes to the configuration of the first slot not applied; with the change
    applied, two promises (a majority of the old three) are not enough, three are.  (r2's
    first ballot is 1: Chubby's numbers for 5 replicas, index 1.)"""
    r2 = attached(membership_system(3, 5, AlphaWindow, leaders=("r2",)))["r2"]
    r2.log = [GROW]
    effects = plain(r2.run_hook("on_start"))
    assert [e for e in effects if e[0] == "send"] == [("send", r, Prepare(1, 2)) for r in FIVE]
    r2.handle(Promise(1, ()), "r2")
    r2.handle(Promise(1, ()), "r4")
    assert r2.role == "candidate"
    r2.handle(Promise(1, ()), "r5")
    assert r2.role == "leader"


def test_applied_change_answers_the_admin_and_leaves_the_register():
    """A configuration command is applied like any command (its client is answered "ok",
    once) but writes nothing to the register."""
    r1 = leader(holds=[])
    r1.run_hook("on_start")
    effects = plain(r1.handle(Request("admin", 0, ("config", FIVE)), "admin"))
    assert effects == [("send", r, Accept(5, 1, GROW)) for r in OLD]
    r1.handle(Accepted(5, 1, GROW), "r1")
    effects = plain(r1.handle(Accepted(5, 1, GROW), "r3"))
    assert effects[-1] == ("send", "admin", Reply(0, "ok"))
    assert r1.log == [GROW] and r1.kv == {} and r1.sessions == {"admin": (0, "ok")}


# ---- the checker -------------------------------------------------------------------------------

def test_naive_change_chooses_two_commands_for_one_slot():
    """Deposed r1 took the change to five as in force for slot 2 (AtOnce): W1 is chosen by
    {r1, r4, r5}, a majority of the five, while r2 chooses W3 in slot 2 with {r2, r3}, a
    majority of the old three (the change was never chosen).  Shortest run: 10 steps."""
    r = naive_change_check()
    assert r.violation.name == "slot agreement"
    assert len(r.violation.path) == 10 and r.states == 6_831
    trace = r.violation.path.trace()
    assert trace.count(kind="send", msg_type="Accepted") >= 5
    final = r.violation.path.states[-1]
    assert final.node("r1").decided == {2: W1} and final.node("r2").log[1][0] == "c3"


@pytest.mark.parametrize("alpha, states", [(1, 36), (2, 948)])
def test_alpha_window_is_safe_on_the_same_scenario(alpha, states):
    """The same scenario with the alpha window: every reachable state keeps slot
    agreement (r1 may not use the five before the change is chosen, and it never is)."""
    r = safe_change_check(alpha)
    assert r.complete and r.ok and r.states == states


def test_solo_change_completes_safely():
    """One leader making the change: every order of messages keeps slot agreement, and a
    slot is decided under the five at the earliest after 10 steps."""
    r = solo_change_check()
    assert r.complete and r.ok and r.states == 28_692
    assert len(r.goals["a slot decided under the five"].path) == 10


def test_deposed_scenario_differs_only_in_the_replica_class():
    """Both checks start from the same past: r2 and r3 applied W2 in slot 1, r1 accepted
    the change there alone."""
    for cls in (AtOnce, AlphaWindow):
        nodes = {n.id: n for n in deposed_scenario(cls)}
        assert nodes["r2"].log == nodes["r3"].log and len(nodes["r2"].log) == 1
        assert nodes["r1"].accepted == {1: (5, GROW)} and nodes["r1"].log == []


# ---- quorums -------------------------------------------------------------------------------

def test_quorums_of_three_and_five_need_not_intersect():
    """3 -> 5: 3 majorities of 2 and 10 of 3; 3 pairs share no replica, {r1, r2} and
    {r3, r4, r5} first."""
    q = configuration_quorums(OLD, FIVE)
    assert (len(q.old_quorums), len(q.new_quorums), len(q.disjoint)) == (3, 10, 3)
    assert q.pair == (("r1", "r2"), ("r3", "r4", "r5")) and q.nodes == FIVE


def test_one_server_at_a_time_quorums_intersect():
    """3 -> 4 and 4 -> 5: every old majority meets every new one."""
    assert configuration_quorums(OLD, replica_ids(4)).disjoint == ()
    assert configuration_quorums(replica_ids(4), FIVE).disjoint == ()
    assert "meets every new one" in configuration_quorums(OLD, replica_ids(4)).summary()


# ---- simulated runs --------------------------------------------------------------------------

def test_change_run_with_a_leader_crash():
    """Seed 0: r1 crashes at 3 and restarts at 12; the change lands in slot 1, every write
    is answered, and all five replicas applied the same 5 slots."""
    sim = change_run(0)
    assert change_slot(sim) == 1 and all_answered(sim) and slot_agreement(sim)
    assert [len(sim.node(r).log) for r in FIVE] == [5] * 5


def test_randomized_changes_keep_slot_agreement():
    """500 seeds, 10% loss, 5% duplication, two crashes and one change 3 -> 5: no two
    replicas ever apply different commands in a slot; the change is applied in 497 runs
    and every operation answered in 356 within 60 time units."""
    assert random_changes(range(500)) == {"runs": 500, "slot disagreements": 0,
                                          "change applied": 497, "all answered": 356}


def test_a_thousand_changes_with_drifting_clocks_and_reads():
    """1,000 seeds of the change 3 -> 5 with loss, duplication, two crashes, every clock's
    rate within 1 % of true time, and c1 reading after each write: no slot disagreement, and
    every client history linearizable."""
    result = random_changes(range(1000), drift=0.01, reads=True)
    assert (result["runs"], result["slot disagreements"], result["not linearizable"]) == (
        1000, 0, 0)
    assert result["change applied"] == 994


def test_random_runs_rarely_meet_the_naive_bug():
    """The naive change survives these 200 random runs: the run that breaks it needs a
    deposed leader and a narrow order of messages, which the checker finds in 10 steps."""
    assert random_changes(range(200), AtOnce)["slot disagreements"] == 0


def test_bad_configuration():
    """The builder names what is wrong."""
    with pytest.raises(ValueError, match="alpha must be a whole number >= 1"):
        membership_system(replica=AlphaWindow, alpha=0)
    with pytest.raises(ValueError, match="do not exist"):
        membership_system(commands={"r9": [W1]})
