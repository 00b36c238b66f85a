"""The two-phase commit explorer, driven through the methods its controls call, and the
timeline chart it draws."""

import html

import pytest

from replib.viz import to_png
from replib.viz.charts import timeline
from replib.widgets import CommitExplorer

# ---- the timeline chart ------------------------------------------------------------------


def _bars(fig):
    return list(fig.axes[0].patches)


def test_timeline_draws_one_bar_per_interval_and_describes_each():
    """Closed intervals are solid bars, an open one runs hatched to the end, a row without
    an interval has no bar; the alt text says all of it in words."""
    fig = timeline({"p1": (1.0, 3.0), "p2": (1.0, None), "p3": None}, 40.0,
                   title="When each participant was in doubt")
    bars = _bars(fig)
    assert len(bars) == 2
    assert [b.get_hatch() for b in bars] == [None, "//"]
    assert [(b.get_x(), b.get_width()) for b in bars] == [(1.0, 2.0), (1.0, 39.0)]
    assert bars[0].get_y() < bars[1].get_y()            # with the y axis inverted: p1 on top
    assert fig.axes[0].yaxis_inverted()
    assert fig.alt_text == (
        "Timeline of the time spent in doubt, from 0 to 40: p1 in doubt from 1 to 3 (2); "
        "p2 in doubt from 1 and still in doubt at the end, 40 (39 so far); "
        "p3 never in doubt.")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "still in doubt " in texts and "never in doubt" in texts
    assert all(t.get_fontsize() >= 11 for t in fig.axes[0].texts)
    assert to_png(fig).startswith(b"\x89PNG")


def test_timeline_label_names_the_state():
    fig = timeline({"b1": None, "b2": (2, None)}, 10, label="blocked")
    assert "b1 never blocked" in fig.alt_text and "still blocked at the end" in fig.alt_text


@pytest.mark.parametrize("intervals, end, match", [
    ({}, 10, "non-empty dict"),
    ([("p1", (0, 1))], 10, "non-empty dict"),
    ({"p1": (0, 1)}, 0, "end must be a finite time > 0"),
    ({"p1": (0, 1)}, float("inf"), "end must be a finite time > 0"),
    ({"p1": (0, 1, 2)}, 10, r"must be \(start, stop\) or None"),
    ({"p1": (-1, 1)}, 10, "start must be a time between 0 and end=10"),
    ({"p1": (5, 2)}, 10, "stop must be None"),
    ({"p1": (5, 12)}, 10, "stop must be None"),
    ({"p1": (float("nan"), None)}, 10, "start must be"),
])
def test_timeline_bad_input_is_a_value_error(intervals, end, match):
    with pytest.raises(ValueError, match=match):
        timeline(intervals, end)


# ---- the explorer --------------------------------------------------------------------------


def test_explorer_opens_on_presumed_abort():
    """Defaults: crash after all votes, recovery at 20: the coordinator logged no decision,
    so it presumes abort; everyone was in doubt from 1 until the Abort landed at 21."""
    e = CommitExplorer()
    assert e.summary.value == ("<b>Outcome: abort</b>; nobody is in doubt at the end; "
                               "longest doubt 20 (p1, p2, p3).")
    assert e.message.value == ""
    assert e.diagram.value.startswith("<img") and "Space-time diagram" in e.diagram.value
    assert "alt='2PC: the coordinator crashes after all votes and recovers at t=20. " \
        "Space-time diagram" in e.diagram.value
    assert e.chart.value.startswith("<img") and "p1 in doubt from 1 to 21 (20)" in e.chart.value
    assert "Two-phase commit explorer" in e._repr_mimebundle_()["text/plain"]


def test_each_control_updates_the_summary():
    """Every control re-runs the transaction; each change shows in the summary."""
    e = CommitExplorer()
    seen = [e.summary.value]

    def changed(widget, value, expect):
        widget.value = value
        assert e.message.value == ""
        assert expect in e.summary.value, e.summary.value
        assert e.summary.value != seen[-1]
        seen.append(e.summary.value)

    changed(e.recover, False, "still in doubt at t=40: p1, p2, p3; longest doubt 39")
    changed(e.participants, 4, "still in doubt at t=40: p1, p2, p3, p4")
    changed(e.point, "after some commits", "Outcome: p1 commit, p2-p4 in doubt")
    changed(e.termination, True, "Outcome: commit</b>; nobody is in doubt at the end; "
                                 "longest doubt 7 (p2, p3, p4)")
    changed(e.termination, False, "p2-p4 in doubt")
    changed(e.recover, True, "longest doubt 20 (p2, p3, p4)")
    changed(e.recover_at, 30.0, "longest doubt 30 (p2, p3, p4)")
    changed(e.latency, "long tail", "Outcome: commit")
    changed(e.seed, 3, "Outcome: commit")


def test_a_bad_combination_shows_a_message_and_keeps_the_pictures():
    """Recovering before the crash is explained in the panel; nothing raises and the last
    good pictures stay; a good value clears the message."""
    e = CommitExplorer(point="after the decision is logged")
    summary, diagram, chart = e.summary.value, e.diagram.value, e.chart.value
    e.recover_at.value = 1.0
    assert "too early" in e.message.value and "crashes at t=2" in e.message.value
    assert (e.summary.value, e.diagram.value, e.chart.value) == (summary, diagram, chart)
    assert e.update() is False
    e.recover_at.value = 25.0
    assert e.message.value == "" and "longest doubt 25" in e.summary.value
    assert e.update() is True


def test_the_explorer_refuses_bad_arguments():
    with pytest.raises(ValueError, match="unknown crash point"):
        CommitExplorer(point="never")
    with pytest.raises(ValueError, match="participants must be 2 to 5"):
        CommitExplorer(participants=9)


@pytest.mark.parametrize("kwargs, match", [
    ({"protocol": "4pc"}, "unknown protocol '4pc'; allowed: '2pc', '3pc', 'paxos commit'"),
    ({"protocol": "3pc", "termination": True}, "2PC only"),
    ({"cut_off": "p2"}, r"cut_off must be None or \(participant, from, to\)"),
    ({"cut_off": ("p2", 1.5)}, "cut_off must be None"),
    ({"cut_off": ("p4", 1.5, 20)}, "unknown cut_off participant 'p4'; allowed: 'p1'"),
    ({"cut_off": ("p2", 5, 2)}, "must end after it starts"),
    ({"cut_off": ("p2", -1, 2)}, "partition's start"),
    ({"cut_off": ("p2", 1.5, 30)}, "heals every link"),
])
def test_the_explorer_refuses_bad_protocol_and_partition_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CommitExplorer(**kwargs)


# ---- protocols and partitions --------------------------------------------------------------


def test_3pc_can_commit_at_the_coordinator_while_participants_abort():
    """3PC, crash after some commits: p1 got its PreCommit and commits on its timeout, p2
    and p3 did not and abort; the coordinator had only logged its pre-commit, and on its
    recovery it commits: the summary shows both sides."""
    e = CommitExplorer(point="after some commits", recover=False)
    e.protocol.value = "3pc"
    assert e.message.value == ""
    assert e.summary.value.startswith(
        "<b>Outcome: p1 commit, p2-p3 abort</b>; coord's decision: none yet (pre-commit "
        "logged); nobody is in doubt at the end")
    assert "alt='3PC: the coordinator crashes after some commits and stays down. " \
        in e.diagram.value
    e.recover.value = True
    assert "<b>Outcome: p1 commit, p2-p3 abort</b>; coord's decision: commit;" \
        in e.summary.value


def test_paxos_commit_survives_the_coordinators_crash():
    """After all votes, the coordinator gone for good: the standby coord2 takes over,
    learns the votes from the acceptors and commits."""
    e = CommitExplorer(point="after all votes", recover=False, protocol="paxos commit")
    assert e.summary.value == (
        "<b>Outcome: commit</b>; coord's decision: none, coord2's decision: commit; "
        "nobody is in doubt at the end; longest doubt 3 (p1, p2, p3).")
    assert "alt='Paxos Commit: the coordinator crashes after all votes" in e.diagram.value


def test_termination_is_a_2pc_control():
    """Other protocols grey the checkbox out and say why; it is not passed on to them."""
    e = CommitExplorer(termination=True)
    assert not e.termination.disabled and e.termination_note.value == ""
    e.protocol.value = "3pc"
    assert e.termination.disabled and "2PC only" in e.termination_note.value
    assert e.message.value == "" and e.settings()["termination"] is False
    e.protocol.value = "2pc"
    assert not e.termination.disabled and e.termination_note.value == ""
    assert e.settings()["termination"] is True


def test_a_participant_cut_off_after_voting_makes_everyone_abort():
    """No crash; p2 is cut off from 1.5 to 20, so its yes vote never arrives: the
    coordinator aborts on its timeout, and p2 hears of it only when the partition heals."""
    e = CommitExplorer(point="no crash")
    assert e.cut_off.value == "nobody" and e.settings()["cut_off"] is None
    e.cut_off.value = "p2"
    assert (e.cut_from.value, e.cut_to.value) == (1.5, 20.0)
    assert e.message.value == ""
    assert e.summary.value == ("<b>Outcome: abort</b>; nobody is in doubt at the end; "
                               "longest doubt 20 (p2).")
    assert "alt='2PC: no crash; p2 cut off from t=1.5 to t=20. " in e.diagram.value
    assert CommitExplorer(point="no crash", cut_off=("p2", 1.5, 20)).summary.value \
        == e.summary.value
    e.cut_to.value = 50.0                     # the run lasts 20 past the heal
    assert "longest doubt 50 (p2)" in e.summary.value and e.settings()["until"] == 70.0


@pytest.mark.parametrize("control, value, problem", [
    ("cut_to", 1.5, "must end after it starts, got from t=1.5 to t=1.5"),
    ("cut_to", 1.0, "must end after it starts"),
    ("cut_from", -1.0, "partition's start (from time) must be"),
    ("cut_to", 61.0, "partition's end (to time) must be"),
    ("cut_to", float("nan"), "partition's end"),
    ("cut_to", 30.0, "recovers at t=20, which heals every link, while p2 is still cut off"),
    ("recover_at", 10.0, "recovers at t=10, which heals every link"),
])
def test_a_bad_partition_shows_a_message_and_the_next_good_value_works(control, value,
                                                                        problem):
    e = CommitExplorer(cut_off=("p2", 1.5, 20))
    good = getattr(e, control).value
    pictures = (e.summary.value, e.diagram.value, e.chart.value)
    getattr(e, control).value = value
    assert problem in html.unescape(e.message.value), e.message.value
    assert (e.summary.value, e.diagram.value, e.chart.value) == pictures
    assert e.update() is False
    getattr(e, control).value = good
    assert e.message.value == "" and e.update() is True


def test_the_cut_off_choices_follow_the_participants(monkeypatch):
    """Fewer participants drop the missing ones from the list (back to nobody), with one
    run per change, not one per control the change touches."""
    from replib.widgets import commit
    runs = []
    real = commit.commit_with_crash
    monkeypatch.setattr(commit, "commit_with_crash",
                        lambda **s: runs.append(s) or real(**s))
    e = CommitExplorer(participants=4, cut_off=("p4", 1.5, 20))
    assert e.cut_off.options == ("nobody", "p1", "p2", "p3", "p4")
    e.participants.value = 3
    assert e.cut_off.options == ("nobody", "p1", "p2", "p3") and e.cut_off.value == "nobody"
    e.cut_off.value = "p2"
    e.participants.value = 5
    assert e.cut_off.value == "p2" and len(e.cut_off.options) == 6
    assert [s["cut_off"] for s in runs] == [("p4", 1.5, 20.0), None, ("p2", 1.5, 20.0),
                                           ("p2", 1.5, 20.0)]
