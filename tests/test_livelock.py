"""Chapter 06: dueling proposers, ballots and messages to a decision per retry policy, the
checker's shortest livelock schedules, the schedule replayer and its verdict, and the
backoff explorer.

The figures pinned here were measured with ``replib/livelock.py`` as it is (Uniform(0.5,
1.5) latency, timeout 6, base 1, cap 32).  State counts of the checker depend on how the
checker merges states (a symmetry reduction would change them); shortest path lengths do
not."""

import math

import pytest

from replib.check import Path
from replib.experiments.livelock import (
    DUEL_SEED,
    LIMIT,
    POLICIES,
    PROGRESS_ABOVE,
    DecisionStats,
    Outcome,
    _bar,
    ballots_started,
    compare_policies,
    decision_histograms,
    decision_stats,
    duel_diagram,
    dueling_run,
    livelock_search,
    livelock_verdict,
    message_text,
    replay_schedule,
    run_to_decision,
    schedule_of,
)
from replib.network import Constant, LongTail, Uniform
from replib.protocols.paxos import Prepare, Reject, chosen_in_trace, paxos_system
from replib.viz import to_png
from replib.widgets.livelock import BASELINE, BackoffExplorer

# ---- the dueling run ---------------------------------------------------------------------


def test_dueling_run_preempts_five_ballots_then_chooses_v1():
    """With no backoff, seed 9: p1 and p2 preempt each other; every Reject sends its proposer
    to a higher number at once, until p1's ballot 4 is accepted by a majority."""
    sim = dueling_run()
    assert DUEL_SEED == 9
    started = [(node, b) for _, node, b in ballots_started(sim.trace)]
    assert started == [("p1", 2), ("p2", 1), ("p2", 3), ("p1", 4), ("p2", 5)]
    assert sim.trace.message_counts() == {"Prepare": 15, "Promise": 10, "Reject": 5,
                                          "Accept": 6, "Accepted": 3}
    assert chosen_in_trace(sim.trace) == ["v1"]
    assert round(sim.now, 4) == 5.8606


def test_duel_diagram_labels_every_ballot_on_its_proposer_lane():
    """The diagram marks each ballot's start ("ballot 3") and lists them in the alt text."""
    fig = duel_diagram(dueling_run(), title="duel")
    badges = [text for _t, _node, text, _s in fig.replib_scene.milestones]
    for b in range(1, 6):
        assert f"ballot {b}" in badges and f"ballot {b}" in fig.replib_texts
    assert fig.alt_text.endswith("Ballots started: p1 ballot 2 at t=0, p2 ballot 1 at t=0, "
                                 "p2 ballot 3 at t=2.05, p1 ballot 4 at t=3.35, "
                                 "p2 ballot 5 at t=5.69.")
    assert to_png(fig).startswith(b"\x89PNG")


# ---- one run to a decision ---------------------------------------------------------------


def test_run_to_decision_counts_ballots_and_messages_until_chosen():
    """The run stops the moment a majority accepts one ballot; the same seed gives the same
    outcome (the dueling run's figures, without recorded states)."""
    assert run_to_decision(DUEL_SEED) == run_to_decision(DUEL_SEED)
    out = run_to_decision(DUEL_SEED)
    assert (out.decided, out.ballots, out.messages, out.value) == (True, 5, 39, "v1")
    assert round(out.time, 4) == 5.8606
    zero = run_to_decision(0)
    assert (zero.decided, zero.ballots, zero.messages, zero.value) == (True, 4, 29, "v2")


def test_a_leader_alone_needs_one_ballot_and_ten_messages():
    """With a distinguished proposer (and nobody crashing), one ballot suffices: 3 Prepare,
    3 Promise, 2 Accept, 2 Accepted until a majority accepted."""
    for seed in range(30):
        out = run_to_decision(seed, leader="p2")
        assert (out.decided, out.ballots, out.messages, out.value) == (True, 1, 10, "v2")


def test_constant_latency_backoff_policies_on_seed_0():
    """On a symmetric constant network the first Reject decides the count: no backoff
    retries at once (3 ballots, 19 messages), a backoff waits and the value is chosen first
    (2 ballots, 16 messages); v1 at t=3 either way."""
    figures = {b: run_to_decision(0, backoff=b, latency=Constant(1.0))
               for b in ("none", "fixed", "random")}
    assert {b: (o.ballots, o.messages, o.time, o.value) for b, o in figures.items()} == {
        "none": (3, 19, 3.0, "v1"), "fixed": (2, 16, 3.0, "v1"), "random": (2, 16, 3.0, "v1")}


def test_a_timeout_shorter_than_both_phases_never_decides():
    """Timeout 1 while two phases take at least 2: every ballot times out; the run ends
    undecided at the time limit, having started a ballot per time unit per proposer."""
    out = run_to_decision(3, timeout=1.0)
    assert (out.decided, out.ballots, out.messages, out.time, out.value) == \
        (False, 402, 2402, LIMIT, None)


@pytest.mark.parametrize("kwargs, match", [
    (dict(limit=0), "limit must be a finite number > 0"),
    (dict(limit=math.inf), "limit must be a finite number > 0"),
    (dict(backoff="sometimes"), "unknown backoff 'sometimes'"),
    (dict(leader="p9"), "leader must be None or one of the proposers"),
    (dict(timeout=-1), "timeout must be a finite number > 0"),
    (dict(backoff_cap=0), "backoff_cap must be a finite number > 0"),
    (dict(latency="fast"), "latency must be one of Constant, Uniform, LongTail"),
    (dict(max_events=0), "max_events must be a whole number >= 1"),
])
def test_run_to_decision_bad_input_is_a_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_to_decision(0, **kwargs)


# ---- many seeds --------------------------------------------------------------------------


def test_compare_policies_over_200_seeds():
    """200 seeds on the uniform network: no backoff duels longest (p95 7 ballots, up to 10);
    randomized backoff keeps the p95 at 4; fixed backoff at 3; a leader always needs 1.  A
    growing timeout with timeout 6 is exactly no backoff here: every ballot ends with a
    Reject, retried at once, before any timeout fires."""
    stats = compare_policies(200)
    assert list(stats) == list(POLICIES)
    assert [s.describe() for s in stats.values()] == [
        "no backoff: ballots median 4, 95th percentile 7, max 10; "
        "messages median 29, 95th percentile 59",
        "fixed backoff: ballots median 3, 95th percentile 3, max 4; "
        "messages median 19, 95th percentile 26",
        "randomized backoff: ballots median 2, 95th percentile 4, max 5; "
        "messages median 19, 95th percentile 30",
        "growing timeout: ballots median 4, 95th percentile 7, max 10; "
        "messages median 29, 95th percentile 59",
        "leader p1: ballots median 1, 95th percentile 1, max 1; "
        "messages median 10, 95th percentile 10",
    ]
    assert all(s.runs == 200 and s.undecided == 0 for s in stats.values())


def test_long_tail_latency_no_backoff_over_100_seeds():
    """A long-tailed network stretches the duel: p95 of 10 ballots without backoff."""
    s = decision_stats(100, label="lt", latency=LongTail(1.0, 0.8), backoff="none")
    assert (s.median("ballots"), s.p95("ballots"), s.median("messages"), s.p95("messages")) \
        == (4, 10, 29, 86)


def test_percentiles_count_undecided_runs_as_larger_than_any():
    """Nearest-rank percentiles over all runs; a rank that falls on an undecided run is
    None (unknown, beyond the limit), and describe() says so."""
    outs = [Outcome(i, True, b, 10 * b, 1.0) for i, b in enumerate((2, 3, 4, 5, 6, 7, 8, 9))]
    outs += [Outcome(8, False, 50, 500, LIMIT), Outcome(9, False, 60, 600, LIMIT)]
    s = DecisionStats("x", {}, outs)
    assert (s.runs, s.undecided) == (10, 2)
    assert s.values("ballots") == [2, 3, 4, 5, 6, 7, 8, 9]
    assert s.median("ballots") == 6 and s.percentile("ballots", 80) == 9
    assert s.p95("ballots") is None
    assert s.describe() == ("x: ballots median 6, 95th percentile > t=200, max 9; messages "
                            "median 60, 95th percentile > t=200; 2 of 10 runs undecided at "
                            "t=200")
    with pytest.raises(ValueError, match="what must be 'ballots', 'messages' or 'time'"):
        s.values("rounds")


@pytest.mark.parametrize("seeds, match", [
    (0, "seeds must be a whole number >= 1"),
    (True, "seeds must be a number of seeds"),
    ([], "non-empty list of integer seeds"),
    ([1, 2.5], "non-empty list of integer seeds"),
    ("many", "non-empty list of integer seeds"),
    (None, "seeds must be a number of seeds"),
])
def test_decision_stats_bad_seeds_are_a_value_error(seeds, match):
    with pytest.raises(ValueError, match=match):
        decision_stats(seeds)


def test_decision_stats_takes_a_list_of_seeds_and_labels_by_settings():
    """An explicit seed list runs exactly those seeds; without a label the settings name it."""
    s = decision_stats([9, 0], backoff="none")
    assert [o.seed for o in s.outcomes] == [9, 0] and s.label == "backoff=none"
    assert s.values("ballots") == [4, 5]


def test_progress_bar_only_for_big_sweeps():
    """No bar for a small sweep (the notebook's default); a tqdm bar above PROGRESS_ABOVE
    runs, or whenever asked for."""
    assert _bar(10, None) is None and _bar(PROGRESS_ABOVE, None) is None
    assert _bar(PROGRESS_ABOVE, False) is None
    for bar in (_bar(PROGRESS_ABOVE + 1, None), _bar(5, True)):
        assert bar is not None and hasattr(bar, "update")
        bar.close()


def test_compare_policies_bad_policies_is_a_value_error():
    with pytest.raises(ValueError, match="policies must be a non-empty dict"):
        compare_policies(5, policies={})


# ---- histograms --------------------------------------------------------------------------


def test_histograms_draw_each_series_on_both_panels_with_three_cues():
    """Two panels (ballots, messages), log y; one line per configuration on each, with its
    own colour, line style and marker; fonts >= 11 pt; alt text with the numbers."""
    stats = compare_policies(40, policies={k: POLICIES[k] for k in
                                           ("no backoff", "randomized backoff")})
    fig = decision_histograms(stats, title="t")
    assert len(fig.axes) == 2 and all(ax.get_yscale() == "log" for ax in fig.axes)
    for ax in fig.axes:
        lines = ax.get_lines()
        assert len(lines) == 2
        assert lines[0].get_color() != lines[1].get_color()
        assert lines[0].get_linestyle() != lines[1].get_linestyle()
        assert lines[0].get_marker() != lines[1].get_marker()
        assert ax.xaxis.label.get_fontsize() >= 11
    assert fig.alt_text.startswith("Histograms of the ballots and messages until a value is "
                                   "chosen, 40 runs per configuration")
    assert stats["no backoff"].describe() in fig.alt_text
    assert to_png(fig).startswith(b"\x89PNG")


@pytest.mark.parametrize("bad", [{}, [], {"x": 3}, None])
def test_histograms_bad_input_is_a_value_error(bad):
    with pytest.raises(ValueError, match="stats must be a non-empty dict label -> DecisionStats"):
        decision_histograms(bad)


# ---- the checker: a livelock of any length -----------------------------------------------


@pytest.mark.parametrize("k, steps, states", [(2, 0, 1), (3, 3, 46), (4, 6, 857)])
def test_shortest_livelock_schedules(k, steps, states):
    """Breadth-first, the checker finds a shortest schedule with k ballots started and
    nothing chosen: both proposers start one ballot at time 0, and each further ballot costs
    three deliveries (a rival's higher Prepare, the lower one, its Reject).  State counts as
    measured without symmetry reduction."""
    search = livelock_search(k)
    assert len(search.path) == steps == 3 * (k - 2)
    assert search.result.states == states
    assert search.summary() == (f"{k} ballots started, nothing chosen: a shortest schedule has "
                                f"{steps} steps ({states:,} states explored)")


def test_the_shortest_livelock_for_four_ballots_is_prepare_and_reject_only():
    """The duel never reaches phase 2: each Prepare arrives just after the rival's higher
    one and is rejected; the schedule replays in the simulator with four ballots started
    and nothing chosen."""
    path = livelock_search(4).path
    assert isinstance(path, Path)
    assert [type(a.msg) for a in path.actions] == [Prepare, Prepare, Reject] * 2
    assert schedule_of(path) == ["p1 -> a1 Prepare(2)", "p2 -> a1 Prepare(1)",
                                 "a1 -> p2 Reject(1, 2)", "p2 -> a2 Prepare(3)",
                                 "p1 -> a2 Prepare(2)", "a2 -> p1 Reject(2, 3)"]
    replay = replay_schedule(schedule_of(path))
    assert replay.ballots() == {"p1": [2, 4], "p2": [1, 3]}
    assert replay.chosen_at is None and replay.error is None
    assert chosen_in_trace(path.trace()) == []


def test_livelock_search_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="ballots must be a whole number >= 1"):
        livelock_search(0)
    with pytest.raises(ValueError, match="ballots must be a whole number >= 1"):
        livelock_search(2.5)


def test_schedule_of_refuses_paths_with_other_actions():
    from replib.actions import Fire
    from replib.protocols.paxos import RetryTimeout
    with pytest.raises(ValueError, match="schedules only deliver messages"):
        schedule_of([Fire("p1", RetryTimeout(2))])


# ---- replaying a schedule ----------------------------------------------------------------

FIVE = ["p1 -> a1", "p2 -> a1", "a1 -> p2", "p2 -> a2 Prepare(3)", "p1 -> a2", "a2 -> p1",
        "p1 -> a1", "p2 -> a1", "a1 -> p2"]


def test_replay_delivers_the_oldest_message_on_each_link():
    """'p1 -> a1' delivers the oldest message in flight on that link; the checker's
    schedule for five ballots, written with a message only where the oldest is not the one
    (step 4: Prepare(1) is older than Prepare(3) on p2 -> a2), replays the same."""
    replay = replay_schedule(FIVE)
    assert replay.steps_done == 9 and replay.error is None and replay.chosen_at is None
    assert replay.ballots() == {"p1": [2, 4], "p2": [1, 3, 5]}
    assert [e.describe() for e in replay.trace.events if e.kind == "deliver"] == [
        "a1 receives Prepare(ballot=2) from p1", "a1 receives Prepare(ballot=1) from p2",
        "p2 receives Reject(ballot=1, promised=2) from a1",
        "a2 receives Prepare(ballot=3) from p2", "a2 receives Prepare(ballot=2) from p1",
        "p1 receives Reject(ballot=2, promised=3) from a2",
        "a1 receives Prepare(ballot=4) from p1", "a1 receives Prepare(ballot=3) from p2",
        "p2 receives Reject(ballot=3, promised=4) from a1"]
    assert replay_schedule("\n".join(FIVE)).ballots() == replay.ballots()
    assert replay_schedule(" ; ".join(FIVE)).ballots() == replay.ballots()


def test_replay_selects_a_message_by_type_or_by_text():
    """'p1 -> a3 Prepare(4)' skips the older Prepare(2) on that link; 'p1 -> a1 accept'
    picks the Accept (type names are case-insensitive, spaces and quotes are free)."""
    replay = replay_schedule(FIVE + ['p1 -> a3 Prepare( 4 )'])
    assert [e.describe() for e in replay.trace.events if e.kind == "deliver"][-1] == \
        "a3 receives Prepare(ballot=4) from p1"
    two = ["p1 -> a1", "p1 -> a2", "a1 -> p1", "a2 -> p1", 'P1 → A2 accept(2, "v1")']
    replay = replay_schedule(two)
    assert replay.error is None
    assert [e.describe() for e in replay.trace.events if e.kind == "deliver"][-1] == \
        "a2 receives Accept(ballot=2, value='v1') from p1"


def test_replay_report_lists_ballots_chosen_and_next_steps():
    report = replay_schedule(FIVE[:3]).report()
    assert report.splitlines()[:2] == [
        "3 of 3 step(s) done; 3 ballots started (p1: 2; p2: 1, 3).", "Nothing is chosen."]
    assert report.splitlines()[2].startswith('Possible next steps: "p1 -> a2 Prepare(2)"; ')


@pytest.mark.parametrize("steps, error", [
    (["p1 -> a4"], "step 1 ('p1 -> a4'): there is no node 'a4'; the nodes are a1, a2, a3, p1, p2"),
    (["p1 a1"], "step 1 ('p1 a1'): write a step as 'p1 -> a1' (deliver the oldest message in "
                "flight from p1 to a1) or 'p1 -> a1 Accept' / 'p1 -> a1 Prepare(4)' (the "
                "oldest such message)"),
    (["p1 -> a1", 7], "step 2: each step is a string such as 'p1 -> a1', got 7"),
    (["a1 -> p1"], "step 1 ('a1 -> p1'): no message in flight from a1 to p1. In flight now: "
                   '"p1 -> a1 Prepare(2)"; "p1 -> a2 Prepare(2)"; "p1 -> a3 Prepare(2)"; '
                   '"p2 -> a1 Prepare(1)"; "p2 -> a2 Prepare(1)"; "p2 -> a3 Prepare(1)"'),
    (["p1 -> a1 Accept"], "step 1 ('p1 -> a1 Accept'): no Accept in flight from p1 to a1 (on "
                          "that link: Prepare(2)). In flight now: "),
])
def test_replay_stops_at_a_bad_step_and_says_why(steps, error):
    """The replay never raises on a bad step: it stops there and says what is wrong."""
    replay = replay_schedule(steps)
    assert replay.error.startswith(error)
    assert replay.steps_done == len(steps) - 1


@pytest.mark.parametrize("bad", [5, None, {"p1": "a1"}])
def test_replay_of_something_that_is_not_a_schedule_is_a_value_error(bad):
    with pytest.raises(ValueError, match="a schedule is a list of steps"):
        replay_schedule(bad)


def test_message_text_is_how_schedules_write_messages():
    assert message_text(Prepare(4)) == "Prepare(4)"
    assert message_text(Reject(1, None)) == "Reject(1, None)"


# ---- the verdict ---------------------------------------------------------------------------

ACCEPTED = ["p1 -> a1", "p1 -> a2", "a1 -> p1", "a2 -> p1", "p1 -> a1", "p1 -> a2"]


def test_verdict_names_the_step_after_which_a_value_is_chosen():
    """A schedule that lets a majority accept one ballot fails at that very step."""
    ok, why = livelock_verdict(ACCEPTED + FIVE)
    assert not ok
    assert why == ("after your step 6 ('p1 -> a2'), a2 accepted p1's Accept(2, 'v1'); with a1 "
                   "that is a majority (a1, a2) accepting ballot 2: v1 is chosen. A livelock "
                   "must never let a majority accept one ballot.")


def test_verdict_counts_ballots():
    assert livelock_verdict(FIVE) == (True, (
        "5 ballots started (p1: 2, 4; p2: 1, 3, 5) in 9 steps and nothing chosen: each ballot "
        "was rejected because the rival's higher Prepare got there first."))
    assert livelock_verdict(FIVE[:6]) == (False, (
        "your 6 step(s) leave nothing chosen, but only 4 ballots were started (p1: 2, 4; p2: 1, "
        "3); you need 5. A proposer starts a new ballot when a Reject reaches it: deliver a "
        "rival's higher Prepare first."))
    assert livelock_verdict(FIVE, ballots=0)[0] is False


def test_a_phase_two_duel_also_livelocks():
    """Preempting Accepts works too: p1's Accept(2) is rejected after p2 prepared 3, p2's
    Accept(3) after p1 prepared 4 -- five ballots, nothing chosen."""
    duel = ["p1 -> a1", "p1 -> a2", "a1 -> p1", "a2 -> p1",    # a1, a2 promise 2: Accept(2)
            "p2 -> a1", "p2 -> a2", "a1 -> p2", "a2 -> p2",    # Prepare(1) rejected: ballot 3
            "p2 -> a1 Prepare(3)", "p2 -> a2 Prepare(3)", "a1 -> p2", "a2 -> p2",  # Accept(3)
            "p1 -> a1 Accept", "a1 -> p1",                     # Accept(2) rejected: ballot 4
            "p1 -> a1 Prepare(4)", "p1 -> a2 Prepare(4)", "a1 -> p1 Promise",
            "a2 -> p1 Promise",                                # Accept(4) sent
            "p2 -> a1 Accept", "a1 -> p2"]                     # Accept(3) rejected: ballot 5
    ok, why = livelock_verdict(duel)
    assert ok, why
    assert why.startswith("5 ballots started (p1: 2, 4; p2: 1, 3, 5) in 20 steps")


# ---- the backoff explorer ----------------------------------------------------------------


def test_explorer_compares_the_chosen_policy_with_the_plain_duel():
    """By default: randomized backoff next to the plain duel, 200 seeds each."""
    w = BackoffExplorer()
    assert list(w.stats) == [BASELINE, "randomized exponential backoff (base 1, cap 32)"]
    assert w.message.value == ""
    assert "randomized exponential backoff (base 1, cap 32): ballots median 2, 95th " \
           "percentile 4, max 5" in w.summary.value
    assert w.plot.value.startswith("<img src='data:image/png;base64,")


def test_explorer_leader_and_plain_settings():
    """A leader needs one ballot; choosing no backoff and no leader shows one series."""
    w = BackoffExplorer(seeds=20)
    w.leader.value = "p1"
    assert w.stats["randomized exponential backoff (base 1, cap 32), leader p1"].values(
        "ballots") == [1] * 20
    w.leader.value = "none"
    w.backoff.value = "none"
    assert list(w.stats) == ["no backoff"]
    w.backoff.value = "fixed"
    w.base.value = 2.0
    assert list(w.stats) == [BASELINE, "fixed backoff 2"]


@pytest.mark.parametrize("widget, value, message", [
    ("timeout", 0.0, "timeout must be a finite number &gt; 0, got 0.0"),
    ("timeout", float("nan"), "timeout must be a finite number &gt; 0, got nan"),
    ("timeout", 0.2, "a timeout below 0.5 is shorter than any round trip here"),
    ("base", -1.0, "backoff_base must be a finite number &gt; 0, got -1.0"),
    ("cap", 0.0, "backoff_cap must be a finite number &gt; 0, got 0.0"),
    ("seeds", 0, "seeds must be a whole number from 1 to 5000, got 0"),
    ("seeds", 10_000, "seeds must be a whole number from 1 to 5000, got 10000"),
])
def test_explorer_shows_a_message_on_a_strange_value_and_keeps_the_picture(widget, value,
                                                                           message):
    w = BackoffExplorer(seeds=10)
    plot, stats = w.plot.value, w.stats
    getattr(w, widget).value = value
    assert message in w.message.value
    assert w.plot.value == plot and w.stats is stats
    assert w.update() is False


def test_explorer_recovers_after_a_bad_value():
    w = BackoffExplorer(seeds=10)
    w.cap.value = -5.0
    assert w.message.value
    w.cap.value = 16.0
    assert w.message.value == ""
    assert "randomized exponential backoff (base 1, cap 16)" in w.stats


@pytest.mark.parametrize("kwargs, match", [
    (dict(backoff="often"), "unknown backoff 'often'"),
    (dict(leader="p3"), "leader must be one of none, p1, p2"),
    (dict(latency="slow"), "unknown latency model 'slow'"),
])
def test_explorer_bad_arguments_are_a_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BackoffExplorer(**kwargs)


def test_explorer_text_repr():
    assert "Backoff explorer" in BackoffExplorer(seeds=5)._repr_mimebundle_()["text/plain"]


# ---- the growing timeout, confidence intervals, both networks ---------------------------------

def test_growing_timeout_doubles_after_each_failed_attempt():
    """GrowingTimeout sets its RetryTimeout to timeout * 2 ** tries: 1, 2, 4, ... for a first
    timeout of 1 (tries counts the ballots before this one)."""
    from replib.experiments.livelock import GrowingTimeout
    from replib.network import Network
    from replib.protocols.paxos import RetryTimeout
    from replib.sim import Simulation
    nodes = paxos_system(3, 1, learners=0, max_ballots=None, timeout=1.0, proposer=GrowingTimeout)
    sim = Simulation(nodes, network=Network(Uniform(0.5, 1.5)), seed=0)
    sim.run(until=lambda s: bool(chosen_in_trace(s.trace)) or s.now > 60)
    fired = [e.time for e in sim.trace.events
             if e.kind == "timer" and isinstance(e.msg, RetryTimeout)]
    set_at = [e.time for e in sim.trace.events if e.kind == "send" and e.msg_type == "Prepare"
              and e.peer == "a1"]
    assert [round(f - s, 6) for s, f in zip(set_at, fired)] == [1.0, 2.0]
    assert sim.node("p1").tries == 3


def test_a_growing_timeout_rescues_a_too_short_one():
    """Timeout 1, shorter than a ballot's two round trips (at least 2 here): with randomized
    backoff or a leader and a fixed timeout, none of 20 runs chooses a value by t = 200; with
    the timeout doubling after each failed attempt, all 20 do (median 7 ballots, at most 13;
    with a leader as well, 3 ballots every time)."""
    for label, settings, decided in (("randomized backoff", POLICIES["randomized backoff"], 0),
                                     ("leader p1", POLICIES["leader p1"], 0),
                                     ("growing timeout", POLICIES["growing timeout"], 20)):
        s = decision_stats(20, label=label, timeout=1.0, **settings)
        assert s.runs - s.undecided == decided, label
    g = decision_stats(20, timeout=1.0, **POLICIES["growing timeout"])
    assert (g.median("ballots"), max(g.values("ballots"))) == (7, 13)
    both = decision_stats(20, timeout=1.0, leader="p1", growing=True)
    assert set(both.values("ballots")) == {3}


def test_mean_intervals_and_ranking():
    """mean_ci: mean +- 1.96 s / sqrt(n) over the decided runs (normal approximation);
    ranking sorts by mean; separated says whether neighbours' intervals are apart."""
    from replib.experiments.livelock import DecisionStats, Outcome, ranking, separated
    def stats(label, ballots):
        return DecisionStats(label, {}, [Outcome(i, True, b, 10 * b, 1.0)
                                         for i, b in enumerate(ballots)])
    a, b = stats("a", [1, 1, 1, 1]), stats("b", [2, 4, 2, 4])
    mean, low, high = b.mean_ci("ballots")
    assert mean == 3 and high - mean == pytest.approx(1.96 * (4 / 3) ** 0.5 / 2)
    assert a.mean_ci("ballots") == (1, 1, 1)
    assert [r[0] for r in ranking({"b": b, "a": a})] == ["a", "b"]
    assert separated(ranking({"b": b, "a": a}))
    assert not separated(ranking({"b": b, "c": stats("c", [3, 3, 3, 3])}))
    assert stats("one", [2]).mean_ci("ballots") == (None, None, None)


def test_both_networks_over_1000_seeds():
    """The chapter's measurement: 1,000 seeds per policy on each network, mean ballots with
    95 % normal-approximation intervals.  Uniform: a leader (1.00) < fixed (2.55) and
    randomized (2.55) backoff, which tie, < no backoff and a growing timeout (4.04, the same
    runs).  Long tail: leader (1.17) < randomized (3.00) and fixed (3.10), which tie (their
    intervals overlap) < growing timeout (3.88) < no backoff (4.11), these two apart."""
    from replib.experiments.livelock import LONG_TAIL, ranking
    uniform = compare_policies(1000, progress=False)
    tail = compare_policies(1000, latency=LONG_TAIL, progress=False)
    order = lambda st: [(label, round(m, 2)) for label, m, _, _ in ranking(st)]
    assert order(uniform) == [("leader p1", 1.0), ("randomized backoff", 2.55),
                              ("fixed backoff", 2.55), ("no backoff", 4.04),
                              ("growing timeout", 4.04)]
    assert order(tail) == [("leader p1", 1.17), ("randomized backoff", 3.0),
                           ("fixed backoff", 3.1), ("growing timeout", 3.88),
                           ("no backoff", 4.11)]
    r, f = tail["randomized backoff"].mean_ci("ballots"), tail["fixed backoff"].mean_ci("ballots")
    assert r[2] > f[1]                                  # overlap: a tie
    g, n = tail["growing timeout"].mean_ci("ballots"), tail["no backoff"].mean_ci("ballots")
    assert g[2] < n[1]                                  # apart
