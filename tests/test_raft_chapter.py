"""Chapter 10's library support: the election-timing and log-replication experiments
(replib.experiments.raft), the Raft "you are the network" game and the RaftScope-like view
in the trace player (replib.widgets.raft), driven through the methods their buttons call."""

import html

import pytest

from replib.actions import Crash, Deliver, Fire, Restart
from replib.experiments import raft as R
from replib.protocols import raft_mutants
from replib.protocols.raft import (
    E1,
    AppendEntries,
    AppendReply,
    ElectionTimeout,
    RaftServer,
    RequestVote,
    VoteReply,
    check_raft,
    raft_table,
    state_machine_safety,
)
from replib.viz.palette import BLUISH_GREEN, VERMILLION
from replib.widgets.player import TracePlayer
from replib.widgets.raft import RaftNetwork, played, raft_rows_html, raft_state_html

# ---- elections against the timeout range ---------------------------------------------------


def test_identical_timeouts_never_elect():
    """Spread 0: every server stands at the same moment in every term and votes for itself;
    no leader by the limit, a candidacy per server per term: 9 terms by t = 45, and the run
    stops at t = 50 after the first server of term 10 stood."""
    run = R.election_run(seed=0, spread=0.0, limit=50)
    assert not run.elected and run.time == 50
    assert run.candidacies == 3 * 9 + 1


def test_a_timeout_range_elects():
    """With timeouts in [5, 10] (RaftServer's own range) seed 0 elects in term 1, in which
    two servers stood."""
    run = R.election_run(seed=0, spread=5.0)
    assert run.elected and run.candidacies == 2 and 5 < run.time < 10


def test_election_stats_pinned():
    """200 seeds per spread, messages 0.5..1.5: the figures chapter 10 prints.  Spread 0
    elects never; 0.25 leaves 42 runs undecided at t = 200; from 0.5 on every run elects,
    faster the wider the range, down to a median of one candidacy at spread 10."""
    st = R.election_stats(seeds=200, progress=False)
    assert [st.undecided(s) for s in R.SPREADS] == [200, 42, 0, 0, 0, 0, 0]
    assert [st.median(s, "candidacies") for s in R.SPREADS] == [None, 65, 23, 8, 4, 2, 1]
    assert st.median(5.0) == pytest.approx(8.147, abs=1e-3)
    assert st.worst(0.0) is None and st.median(0.0) is None


def test_range_server_and_bad_input():
    cls = R.range_server(2.0)
    assert issubclass(cls, RaftServer) and cls.spread == 2.0
    with pytest.raises(ValueError, match="spread"):
        R.range_server(-1)
    with pytest.raises(ValueError, match="seeds"):
        R.election_stats(seeds=0, progress=False)


# ---- log replication ----------------------------------------------------------------------


def test_replication_story_repairs_both_logs():
    """s1 wins term 4; s2 (conflicting entries of term 2) and s3 (missing entries) each
    refuse at prev_log_index 3 and 2, then match at 1; s2's term-2 entries are deleted; s1
    commits up to its no-op at index 4, the followers learn it only with a later message."""
    sim = R.replication_story()
    assert R.refusals(sim.trace) == [("s2", 3), ("s3", 3), ("s2", 2), ("s3", 2)]
    rows = {r["server"]: r for r in raft_table(sim)}
    want = [(1, "x=1"), (1, "x=2"), (3, "x=3"), (4, "noop")]
    assert all(rows[s]["log"] == want for s in ("s1", "s2", "s3"))
    assert (rows["s1"]["role"], rows["s1"]["commit"], rows["s2"]["commit"]) == ("leader", 4, 0)


def test_view_text():
    text = R.view_text(raft_table(R.replication_story().trace.states_at(0))).splitlines()
    assert text[0].split() == ["server", "term", "role", "voted", "for", "commit", "log"]
    assert text[2].split() == ["s2", "2", "follower", "s2", "0", "1:x=1", "2:x=20", "2:x=30"]


# ---- the trace player with the Raft view --------------------------------------------------


def test_player_shows_the_raft_table_under_the_diagram():
    trace = R.replication_story().trace
    player = TracePlayer(trace, step=0, states=raft_state_html)
    assert "<th>voted for</th>" in player.table.value and "2:x=20" in player.table.value
    assert "after step 0 (t = 0)" in player.table.value
    player.step_forward()
    assert player.table.value == raft_state_html(trace, 1)
    won = raft_state_html(trace, 7)          # s1 becomes leader and appends its no-op
    assert "<b>leader</b>" in won and "<b>4:noop</b>" in won and "<b>1:x=1</b>" not in won
    assert raft_state_html(trace, len(trace.steps) - 1) != raft_state_html(trace, len(trace.steps) - 2)
    last = len(trace.steps) - 1
    player.slider.value = last
    assert "4:noop" in player.table.value
    with pytest.raises(ValueError, match="states must be a function"):
        TracePlayer(trace, states="raft")


def test_raft_rows_html_tints_entries_by_term():
    rows = [{"server": "s1", "term": 2, "role": "leader", "voted for": None, "commit": 1,
             "log": [(1, "x=1"), (2, "x<2")]}]
    out = raft_rows_html(rows)
    assert out.count("background:") == 2 and "x&lt;2" in out
    assert "(empty)" in raft_rows_html([dict(rows[0], log=[])])


# ---- you are the network, Raft ------------------------------------------------------------

FIGURE8 = [Fire("s1", ElectionTimeout()), Fire("s1", ElectionTimeout()),
           Deliver("s1", "s2", RequestVote(3, 1, 1)), Deliver("s1", "s3", RequestVote(3, 1, 1)),
           Deliver("s3", "s1", VoteReply(3, True)),
           Deliver("s1", "s3", AppendEntries(3, 1, 1, (), 0)),
           Deliver("s3", "s1", AppendReply(3, False, 1)),
           Deliver("s1", "s3", AppendEntries(3, 0, 0, ((1, E1),), 0)),
           Deliver("s3", "s1", AppendReply(3, True, 1))]


def test_fresh_game_offers_the_clients_request_timeouts_and_crashes():
    w = RaftNetwork()
    assert [label for label, _ in w.actions()] == [
        "deliver Request(0, (write,x,1)) c1→s1", "s1 times out: stands for term 1",
        "s2 times out: stands for term 1", "s3 times out: stands for term 1",
        "c1 times out: tries the next server", "crash s1", "crash s2", "crash s3"]
    assert w.status() == "Safety holds: no leader; applied somewhere: nothing"
    assert BLUISH_GREEN in w.status_line.value and not w.broken()
    assert "You are the network (Raft)" in w._repr_mimebundle_()["text/plain"]


def test_an_election_by_hand_then_undo_and_reset():
    w = RaftNetwork()
    for label in ("s2 times out: stands for term 1", "deliver RequestVote(1, 0, 0) s2→s1",
                  "deliver VoteReply(1, True) s1→s2"):
        assert w.do(label), html.unescape(w.message.value)
    assert w.status().startswith("Safety holds: s2 leads term 1")
    assert ("s2", "leader") == w.state_rows()[1][:2]
    assert w.undo() and w.performed() == 2 and "no leader" in w.status()
    w.reset()
    assert w.performed() == 0 and not w.undo()


def test_crash_and_restart_keep_the_disk():
    w = RaftNetwork()
    assert w.do("s1 times out: stands for term 1")
    assert w.do(Crash("s1")) and "crash" not in " ".join(lab for lab, _ in w.actions()
                                                         if "s1" in lab and "restart" in lab)
    assert w.do(Restart("s1"))
    assert w.sim.node("s1").current_term == 1 and w.sim.node("s1").voted_for == "s1"


def test_figure8_with_the_bug_turns_the_indicator_red():
    """Played into the figure-8 game with CommitsEarlierTerms, the checker's shortest run
    ends with two servers applying different entries at index 1; the real servers, on the
    same actions, apply nothing and stay safe."""
    path = check_raft("figure 8", raft_mutants.CommitsEarlierTerms, progress=False,
                      invariants={"state machine safety": state_machine_safety}).violation.path
    w = RaftNetwork("figure 8", server=raft_mutants.CommitsEarlierTerms)
    for a in FIGURE8:
        assert w.do(a), html.unescape(w.message.value)
    assert w.status() == "Safety holds: s1 leads term 3; applied somewhere: index 1 = term 1"
    w.reset()
    for a in path.actions:
        assert w.do(a)
    assert w.violated() == ["leader completeness", "state machine safety"]
    assert w.status().startswith("SAFETY BROKEN") and VERMILLION in w.status_line.value
    real = played(path.actions, "figure 8")
    assert real.status() == "Safety holds: s2 leads term 4; applied somewhere: nothing"
    with pytest.raises(ValueError, match="could not be played"):
        played([Restart("s1")])


def test_game_refuses_bad_input_in_words():
    with pytest.raises(ValueError, match="start must be one of 'fresh', 'figure 8'"):
        RaftNetwork("figure 7")
    with pytest.raises(ValueError, match="server"):
        RaftNetwork(server=int)
    w = RaftNetwork()
    assert not w.do("s9 times out") and "is not enabled now" in html.unescape(w.message.value)
