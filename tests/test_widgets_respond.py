"""Every widget answers every control within seconds, at every setting: each control is
driven to the ends of its range (and past them, where a box lets the reader type), through
the same attributes and methods a click sets.  A bad value shows a message; nothing raises
and nothing blocks.

The bound is generous (RESPONDS seconds per change, on a shared machine); the backoff
explorer, whose work can take minutes at some settings, is also held to the work it does at
once, counted in its own units, and shown to finish, stop and give way to a newer change.
"""

import math
import time

import pytest

from replib.experiments.livelock import LIMIT
from replib.faults import crash
from replib.protocols.forwarding import forwarding_system
from replib.sim import Simulation
from replib.widgets import (BackoffExplorer, CommitExplorer, ComparisonExplorer, DuelExplorer,
                            FaultPanel, LongRun, QuorumExplorer, TracePlayer, YouAreTheNetwork)
from replib.widgets import livelock as backoff
from replib.widgets.commit import CRASH_POINTS, PROTOCOLS
from replib.widgets.comparison import CRASHES, MAX_CRASH_AT, PLOTS, TAILS
from replib.widgets.faults import LATENCIES
from replib.widgets.practice import LOST_DISK, MEMBERSHIP, SCENARIOS, PracticeExplorer
from replib.widgets.quorum import MAX_N
from replib.widgets.replication import MODES, ReplicationExplorer

RESPONDS = 10.0        # seconds: "within seconds", with room for a loaded machine


def changes(widget, settings):
    """Set each (control, value) in turn; return the slowest change in seconds.  Every
    change must return, never raise."""
    slowest = 0.0
    for control, value in settings:
        start = time.perf_counter()
        control.value = value
        slowest = max(slowest, time.perf_counter() - start)
    return slowest


def calls(actions):
    """Run each action; return the slowest in seconds."""
    slowest = 0.0
    for action in actions:
        start = time.perf_counter()
        action()
        slowest = max(slowest, time.perf_counter() - start)
    return slowest


def ends(control):
    """The two ends of a slider's range."""
    return [(control, control.max), (control, control.min)]


# ---- the backoff explorer: work counted, not only timed ------------------------------------

def heavy_explorer():
    """The most work per seed (every ballot times out) and the most seeds."""
    return BackoffExplorer(timeout=backoff.MIN_TIMEOUT, backoff="none", seeds=backoff.MAX_SEEDS)


def most_one_seed_costs():
    """The most one seed can cost: both configurations run to the event limit."""
    return 2 * (1 + 50_000 / backoff.MESSAGES_PER_UNIT)


def test_backoff_explorer_does_a_bounded_share_at_once_then_shows_progress():
    """At the heaviest setting the constructor and every change return after at most NOW
    units of work (plus the seed in hand), with a progress bar and a stop button showing;
    the rest is pending, not done."""
    start = time.perf_counter()
    w = heavy_explorer()
    assert time.perf_counter() - start < RESPONDS
    assert w.pending and 0 < w.job.work_done <= backoff.NOW + most_one_seed_costs()
    assert w.job.seeds_done < backoff.MAX_SEEDS
    assert w.working.layout.display == "flex"
    assert w.progress.max == backoff.MAX_SEEDS and 0 < w.progress.value < w.progress.max
    assert f"of {backoff.MAX_SEEDS:,} runs" in w.progress_text.value


@pytest.mark.parametrize("control, values", [
    ("timeout", [1e6, 0.0, -1.0, math.nan, math.inf, 0.1, 1.0, backoff.MIN_TIMEOUT]),
    ("backoff", ["fixed", "random", "none"]),
    ("base", [1e-6, 1e6, 0.0, math.nan]),
    ("cap", [1e-6, 1e6, -3.0, math.inf]),
    ("leader", ["p1", "p2", "none"]),
    ("seeds", [1, backoff.MAX_SEEDS, 0, backoff.MAX_SEEDS + 1, -5]),
    ("latency", list(LATENCIES)),
])
def test_every_backoff_control_at_every_setting_answers_at_once(control, values):
    """From the heaviest state, each value of each control returns within seconds, doing
    at most NOW units of work at once; a bad value leaves a message, and no new work."""
    w = heavy_explorer()
    for value in values:
        assert getattr(w, control).value != value        # a change (nan != nan)
        before = w.job
        start = time.perf_counter()
        getattr(w, control).value = value
        assert time.perf_counter() - start < RESPONDS, (control, value)
        if w.job is before:                       # refused: the panel says why
            assert "⚠" in w.message.value, (control, value)
        else:
            assert before.cancelled or before.finished
            assert w.job.work_done <= backoff.NOW + most_one_seed_costs(), (control, value)


def test_a_newer_change_cancels_the_older_work():
    """The pending runs of older settings are dropped: what is drawn is the newest
    setting, and finishing runs nothing more for the older ones."""
    w = heavy_explorer()
    first = w.job
    w.timeout.value = 6.0                         # 5,000 quick seeds: still pending
    second = w.job
    assert first.cancelled and w.pending
    w.seeds.value = 50                            # done at once
    assert second.cancelled and not w.pending
    assert list(w.stats) == ["no backoff"] and w.stats["no backoff"].runs == 50
    done = first.seeds_done, second.seeds_done
    w.finish()
    assert (first.seeds_done, second.seeds_done) == done


def test_pending_work_finishes_in_chunks_and_draws_once_done():
    """Chunks of CHUNK units finish the work; the picture appears when the last is done."""
    w = BackoffExplorer(timeout=1.0, backoff="none", seeds=40)
    assert w.pending and w.stats is None
    chunks = 0
    while w.pending:
        before = w.job.work_done
        w._advance(w.job, backoff.CHUNK, schedule=False)
        assert w.job.work_done - before <= backoff.CHUNK + most_one_seed_costs()
        chunks += 1
    assert chunks >= 1 and w.working.layout.display == "none"
    assert w.stats["no backoff"].runs == 40
    assert w.plot.value.startswith("<img")


def test_stop_keeps_the_runs_done_so_far():
    """Stop ends the work; the picture shows the seeds done, and says so."""
    w = heavy_explorer()
    done = w.job.seeds_done
    w.stop()
    assert not w.pending and w.working.layout.display == "none"
    assert w.stats["no backoff"].runs == done
    assert f"Stopped after {done} of {backoff.MAX_SEEDS} seeds" in w.message.value
    w.finish()                                    # nothing left to do
    assert w.stats["no backoff"].runs == done


def test_the_notebooks_setting_is_done_at_once():
    """The chapter's explorer (200 seeds, randomized backoff) needs no background work."""
    w = BackoffExplorer()
    assert not w.pending and w.stats is not None
    assert w.job.work_done <= backoff.NOW and w.job.settings["seeds"] == 200
    assert w.limit == LIMIT


# ---- the other widgets -------------------------------------------------------------------

def test_commit_explorer_responds_at_every_setting():
    w = CommitExplorer()
    settings = ends(w.participants) + [(w.point, p) for p in CRASH_POINTS] + [
        (w.recover, False), (w.recover, True), (w.recover_at, 0.0), (w.recover_at, 60.0),
        (w.termination, True), (w.termination, False), (w.seed, 2**31), (w.seed, -1)] + [
        (w.latency, name) for name in LATENCIES] + [
        (w.cut_off, "p2"), (w.cut_from, -1.0), (w.cut_from, 0.0), (w.cut_to, 0.0),
        (w.cut_to, 1e9), (w.cut_to, 60.0), (w.recover_at, 0.0), (w.participants, 2),
        (w.participants, 5), (w.cut_off, "p5"), (w.participants, 2)] + [
        (w.protocol, p) for p in PROTOCOLS] + [(w.point, p) for p in CRASH_POINTS] + [
        (w.termination, True), (w.protocol, "2pc")]
    assert changes(w, settings) < RESPONDS


def test_comparison_explorer_responds_at_every_setting():
    w = ComparisonExplorer()
    settings = ends(w.replicas) + [(w.tail, t) for t in TAILS] + [
        (w.crash, c) for c in CRASHES] + [(w.crash_at, 0.0), (w.crash_at, MAX_CRASH_AT)] + [
        (w.plot, p) for p in PLOTS] + [(w.seed, 2**31)]
    assert changes(w, settings) < RESPONDS


def test_duel_explorer_responds_at_every_setting():
    w = DuelExplorer()
    settings = [(w.scheme, "mod-n")] + ends(w.n) + ends(w.proposers) + ends(w.seed) + [
        (w.a3_down, True), (w.scheme, "round-id"), (w.a3_down, False), (w.scheme, "naive")]
    assert changes(w, settings) < RESPONDS


def test_quorum_explorer_responds_at_every_setting():
    w = QuorumExplorer()
    settings = [(w.n, MAX_N), (w.q1, 1), (w.q2, MAX_N), (w.q1, MAX_N // 2), (w.q2, MAX_N // 2),
                (w.failed, ", ".join(f"n{i}" for i in range(1, MAX_N + 1))),
                (w.failed, "n1, nobody"), (w.failed, ""), (w.n, 1), (w.q1, 1), (w.q2, 1)]
    assert changes(w, settings) < RESPONDS


def test_replication_explorer_responds_at_every_setting():
    w = ReplicationExplorer()
    settings = ends(w.backups) + [(w.mode, m) for m in MODES] + ends(w.k) + [
        (w.latency, name) for name in LATENCIES] + ends(w.tail) + [
        (w.fault, f) for f in w.fault.options] + [(w.failover, f) for f in w.failover.options] + [
        (w.fault_at, 0.0), (w.fault_at, 1000.0), (w.heal_at, 0.0), (w.heal_at, 1000.0),
        (w.seed, 2**31)]
    w.backups.value = w.backups.max                  # the most work: six backups
    assert changes(w, settings) < RESPONDS


def test_practice_explorer_responds_at_every_setting():
    """Each scenario's controls at their ends and past them (a box lets the reader type),
    then every scenario once more; and the checker's button."""
    w = PracticeExplorer()
    settings = [(w.reads, r) for r in w.reads.options] + [
        (w.lease, -1.0), (w.lease, 1.0), (w.lease, 60.0), (w.r1_clock_rate, 0.1),
        (w.r1_clock_rate, 4.0), (w.r1_clock_rate, 0.0), (w.r1_clock_rate, math.inf),
        (w.read_at, 1.0), (w.read_at, 50.0), (w.read_at, 1e9), (w.read_at, math.nan),
        (w.scenario, LOST_DISK)] + [(w.rejoin, r) for r in w.rejoin.options] + [
        (w.r1_back_at, 5.0), (w.r1_back_at, 50.0), (w.r1_back_at, 0.0),
        (w.scenario, MEMBERSHIP)] + ends(w.alpha) + [
        (w.seed, 2**31), (w.seed, -1), (w.r1_crashes, False), (w.r1_crashes, True)] + [
        (w.scenario, s) for s in SCENARIOS]
    assert changes(w, settings) < RESPONDS
    assert calls([w.show_naive_change]) < RESPONDS


def test_fault_panel_responds_at_every_setting():
    panel = FaultPanel(lambda: forwarding_system(3), until=30)
    settings = ends(panel.loss) + ends(panel.median) + [
        (panel.latency, name) for name in LATENCIES] + [(panel.seed, 2**31)]
    assert changes(panel, settings) < RESPONDS
    schedule = [lambda a=a, n=n, t=t: panel.add_fault(a, n, t)
                for a in ("crash", "restart", "isolate", "heal")
                for n in panel.ids for t in (0.0, 10_000.0)]
    assert calls(schedule + [panel.clear_faults]) < RESPONDS


def test_trace_player_responds_at_every_step():
    trace = Simulation(forwarding_system(20), faults=[crash("replica", at=30)], seed=1).run()
    player = TracePlayer(trace, step=0)
    last = len(trace.steps) - 1
    assert changes(player, [(player.slider, last), (player.slider, 0),
                            (player.slider, last // 2)]) < RESPONDS
    assert calls([player.step_forward, player.step_back] * 3) < RESPONDS


def test_you_are_the_network_responds_at_its_largest_and_after_many_actions():
    """The largest system it allows, sixty actions, then undo and reset."""
    w = YouAreTheNetwork(acceptors=9, proposers=5)
    assert calls([lambda: w.do(0)] * 60) < RESPONDS
    assert w.performed() == 60
    assert calls([w.undo, w.reset]) < RESPONDS


def test_long_run_button_responds():
    run = LongRun("Run it", lambda: sum(range(10)))
    start = time.perf_counter()
    assert run.run() == 45 and time.perf_counter() - start < RESPONDS
