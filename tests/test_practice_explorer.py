"""Chapter 09's explorer (Paxos in practice), driven through the controls a reader sets:
reads after a partition, a lost disk, a membership change."""

import html

import pytest

from replib.widgets.practice import (LOST_DISK, MEMBERSHIP, READS_SCENARIO, SCENARIOS,
                                     PracticeExplorer)


def text(e) -> str:
    """The summary as a reader sees it (no tags, no escapes)."""
    return html.unescape(e.summary.value).replace("<b>", "").replace("</b>", "")


def panel(e) -> tuple:
    """What the explorer shows below its controls."""
    return e.summary.value, e.diagram.value, e.history.value


def shown(e) -> set:
    """The scenarios whose controls show."""
    return {name for name, box in e.sections.items() if box.layout.display != "none"}


# ---- reads after a partition --------------------------------------------------------------

def test_local_reads_are_stale_after_a_partition():
    """The default: r1, deposed behind the partition, answers c3 from its own register."""
    e = PracticeExplorer()
    assert e.message.value == ""
    assert text(e) == ("c3's read returned 'a' at t=36, asked of r1 at t=34; c2's write of "
                       "'b' was acknowledged at t=24; the history is not linearizable; a "
                       "stale read: 'a' after 'b' was acknowledged.")
    assert e.diagram.value.startswith("<img") and "alt='local reads. Space-time diagram" \
        in e.diagram.value
    assert "not linearizable" in e.history.value and e.history.value.startswith("<img")
    assert "Paxos in practice explorer" in e._repr_mimebundle_()["text/plain"]


@pytest.mark.parametrize("reads, got, acked", [
    ("log", "'b' at t=46", 24), ("read index", "'b' at t=46", 24), ("lease", "'b' at t=52", 30)])
def test_the_safe_ways_of_reading_return_b(reads, got, acked):
    e = PracticeExplorer()
    e.reads.value = reads
    assert e.message.value == ""
    assert f"c3's read returned {got}" in text(e)
    assert f"acknowledged at t={acked};" in text(e)
    assert "the history is linearizable; not a stale read." in text(e)


def test_a_slow_clock_breaks_the_lease_and_true_time_mends_it():
    """r1's clock at a quarter of true time: its lease seems to last, its read is stale;
    back at 1 the lease holds and c3 reads 'b'."""
    e = PracticeExplorer(reads="lease")
    e.r1_clock_rate.value = 0.25
    assert "c3's read returned 'a' at t=36" in text(e)
    assert "not linearizable; a stale read" in text(e)
    assert "r1&#x27;s clock at 0.25 from t=6" in e.diagram.value
    e.r1_clock_rate.value = 1.0
    assert "c3's read returned 'b' at t=52" in text(e)
    assert "the history is linearizable; not a stale read" in text(e)


def test_lease_length_and_read_time():
    """A short lease ends sooner, so the new leader is elected (and c2 acknowledged) earlier;
    a read before anything is written returns nothing."""
    e = PracticeExplorer(reads="lease")
    e.lease.value = 5.0
    assert "c3's read returned 'b' at t=44" in text(e) and "acknowledged at t=24" in text(e)
    assert "a lease of 5" in e.diagram.value
    e.read_at.value = 1.0
    assert "c3's read returned nothing (x not written yet) at t=5, asked of r1 at t=1" \
        in text(e)


def test_the_lease_length_is_greyed_out_unless_the_reads_use_a_lease():
    """A bad lease length does not matter to reads that use no lease."""
    e = PracticeExplorer(reads="lease")
    assert not e.lease.disabled
    e.lease.value = -1.0
    assert "lease length must be" in e.message.value
    e.reads.value = "log"
    assert e.lease.disabled and e.message.value == ""
    assert "c3's read returned 'b'" in text(e)


# ---- a lost disk -----------------------------------------------------------------------------

def test_a_replica_that_rejoins_as_if_new_breaks_agreement():
    e = PracticeExplorer(scenario=LOST_DISK)
    assert e.message.value == ""
    assert text(e) == ("r1's log: a; r2's log: b; r3's log: b; acknowledged writes: a, b; "
                       "1 slot in disagreement (slot 1: r1 a, r2 b, r3 b).")
    assert "alt='r2 loses its disk at t=6 and rejoins as if new; r1 comes back at t=30." \
        in e.diagram.value
    e.rejoin.value = "after recovering from a majority"
    assert text(e) == ("r1's log: a, b; r2's log: a, b; r3's log: a, b; acknowledged writes: "
                       "a, b; 0 slots in disagreement.")


def test_when_r1_comes_back_matters_to_the_recovering_replica():
    """Recovering needs a majority of the others: with r1 back late, c2's write waits."""
    e = PracticeExplorer(scenario=LOST_DISK, rejoin="after recovering from a majority",
                         r1_back_at=50.0)
    assert "0 slots in disagreement" in text(e)
    assert e._lost_disk_run()[0] == e.summary.value
    e.r1_back_at.value = 10.0
    assert "comes back at t=10" in e.diagram.value and "0 slots in disagreement" in text(e)


def test_a_stale_copy_fools_recovery_and_distrusting_every_disk_waits_forever():
    """A stale copy looks used, so RecoveringReplica trusts it and agreement breaks;
    recovering after every restart keeps agreement, but r1 (back at 30) and r2 both recover
    and wait for each other, which the summary says."""
    e = PracticeExplorer(scenario=LOST_DISK, disk="a stale copy",
                         rejoin="after recovering from a majority")
    assert e.message.value == ""
    assert "1 slot in disagreement (slot 1: r1 a, r2 b, r3 b)" in text(e)
    assert "alt='r2 gets a stale copy of its disk at t=6" in e.diagram.value
    e.rejoin.value = "recovering after every restart"
    assert text(e) == ("r1's log: a; r2's log: empty; r3's log: empty; acknowledged writes: a; 0 "
                       "slots in disagreement. Still recovering at t=60: r1, r2 (a "
                       "recovering replica answers nobody).")


# ---- a membership change ---------------------------------------------------------------------

def test_the_membership_change_keeps_agreement():
    """Seed 0: the change lands in slot 1 (r1 crashes at 3, r3 takes over); every write is
    answered and all five replicas applied the same five slots."""
    e = PracticeExplorer(scenario=MEMBERSHIP)
    assert e.message.value == ""
    assert text(e) == ("the configuration entry (r1..r5) was applied in slot 1, acknowledged "
                       "to admin at t=14.2; slot agreement holds (r1..r5 applied 5, 5, 5, 5, "
                       "5 slots); c1's writes answered: 4 of 4.")
    assert "alt='Membership change r1..r3 -&gt; r1..r5, alpha=1, seed 0, r1 crashes" \
        in e.diagram.value
    e.r1_crashes.value = False
    assert "acknowledged to admin at t=5.8" in text(e) and "no crash" in e.diagram.value
    e.alpha.value = 3
    assert "slot 1" in text(e) and "alpha=3" in e.diagram.value
    e.seed.value = 1
    assert "slot agreement holds" in text(e) and "seed 1" in e.diagram.value


def test_the_checker_button_shows_the_naive_counterexample():
    e = PracticeExplorer(scenario=MEMBERSHIP)
    assert e.checker.value == ""
    e.naive_button.click()
    assert "slot agreement broken</b> after 10 steps (6,831 states explored)" in e.checker.value
    assert "<img" in e.checker.value and "Naive change" in e.checker.value
    assert e.show_naive_change() == e.checker.value


# ---- the scenario switch, bad values and bad keywords ----------------------------------------

def test_each_scenario_shows_only_its_own_controls():
    e = PracticeExplorer()
    assert shown(e) == {READS_SCENARIO} and e.history.layout.display != "none"
    e.scenario.value = LOST_DISK
    assert shown(e) == {LOST_DISK} and e.history.layout.display == "none"
    assert "slot in disagreement" in text(e)
    e.scenario.value = MEMBERSHIP
    assert shown(e) == {MEMBERSHIP} and "configuration entry" in text(e)
    e.scenario.value = READS_SCENARIO
    assert shown(e) == {READS_SCENARIO} and "c3's read returned 'a'" in text(e)
    assert set(e.sections) == set(SCENARIOS)


@pytest.mark.parametrize("scenario, control, value, problem", [
    (READS_SCENARIO, "lease", -1.0, "the lease length must be a finite number from 1 to 60"),
    (READS_SCENARIO, "lease", float("nan"), "the lease length must be"),
    (READS_SCENARIO, "r1_clock_rate", 0.0, "r1's clock rate must be a finite number from 0.1"),
    (READS_SCENARIO, "r1_clock_rate", 1e9, "r1's clock rate must be"),
    (READS_SCENARIO, "read_at", -5.0, "c3's read time must be"),
    (READS_SCENARIO, "read_at", float("inf"), "c3's read time must be"),
    (LOST_DISK, "r1_back_at", 3.0, "the time r1 comes back must be a finite number from 5"),
    (LOST_DISK, "r1_back_at", 1e6, "the time r1 comes back must be"),
])
def test_a_bad_value_shows_a_message_and_the_next_good_value_works(scenario, control, value,
                                                                   problem):
    e = PracticeExplorer(scenario=scenario, reads="lease")
    box = getattr(e, control)
    good, before = box.value, panel(e)
    box.value = value
    assert problem in html.unescape(e.message.value), e.message.value
    assert panel(e) == before and e.update() is False        # the last good pictures stay
    box.value = good
    assert e.message.value == "" and e.update() is True and panel(e) == before


@pytest.mark.parametrize("kwargs, match", [
    ({"scenario": "paxos"}, "unknown scenario 'paxos'; allowed: 'reads after a partition'"),
    ({"reads": "quorum"}, "unknown reads 'quorum'; allowed: 'log', 'local'"),
    ({"rejoin": "new"}, "unknown rejoin 'new'; allowed: 'as if new'"),
    ({"disk": "old"}, "unknown disk 'old'; allowed: 'an empty disk', 'a stale copy'"),
    ({"lease": 0}, "lease must be a finite number from 1 to 60, got 0"),
    ({"lease": "20"}, "lease must be a finite number"),
    ({"r1_clock_rate": -1}, "r1_clock_rate must be a finite number from 0.1 to 4"),
    ({"read_at": float("nan")}, "read_at must be"),
    ({"r1_back_at": 100}, "r1_back_at must be a finite number from 5 to 50"),
    ({"seed": 1.5}, "seed must be an integer"),
    ({"alpha": 4}, "alpha must be a whole number from 1 to 3"),
    ({"alpha": True}, "alpha must be a whole number"),
    ({"r1_crashes": "no"}, "r1_crashes must be True or False"),
])
def test_the_explorer_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PracticeExplorer(**kwargs)


def test_the_figures_read_at_a_glance(monkeypatch):
    """With REPLIB_LINT set (as when the course builds), no figure has overlapping or cut-off
    text: the widget would show the lint error instead."""
    monkeypatch.setenv("REPLIB_LINT", "1")
    e = PracticeExplorer(reads="lease", r1_clock_rate=0.25)
    for scenario in SCENARIOS:
        e.scenario.value = scenario
        assert e.message.value == "" and e.update() is True


def test_every_clock_drifts_when_asked():
    """drift draws every clock's rate from the run's seed: the times move off the whole
    numbers, a value beyond 0.5 is refused in the panel, and the next good one works."""
    e = PracticeExplorer(reads="lease", drift=0.01)
    assert "c2's write of 'b' was acknowledged at t=30.0866" in e.summary.value
    e.drift.value = 0.9
    assert "every clock&#x27;s drift must be a finite number from 0 to 0.5" in e.message.value
    e.drift.value = 0.0
    assert e.message.value == ""
    assert "acknowledged at t=30;" in e.summary.value
    with pytest.raises(ValueError, match="drift"):
        PracticeExplorer(drift=-0.1)
