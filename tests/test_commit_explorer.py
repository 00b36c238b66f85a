"""The two-phase commit explorer, driven through the methods its controls call, and the
timeline chart it draws."""

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
