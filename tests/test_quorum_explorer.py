"""The quorum picture (replib.viz.quorums) and the quorum explorer (replib.widgets.quorum),
driven through the methods its controls call: a strange value shows a message in the panel
and the last good picture stays."""

import pytest

from replib.viz import to_png
from replib.viz.quorums import draw_quorums
from replib.widgets.quorum import QuorumExplorer


def _gids(fig, prefix):
    ax = fig.axes[0]
    return [a for a in ax.patches + ax.collections + ax.lines
            if (a.get_gid() or "").startswith(prefix)]


# ---- the picture ---------------------------------------------------------------------------


def test_unsafe_picture_draws_every_quorum_and_the_disjoint_pair():
    """q1=2, q2=3 of 5, n4 failed: 10 + 10 small quorums plus the large pair (22 outlines),
    phase-2 outlines hatched; the alt text names the pair that shares no node."""
    fig = draw_quorums(5, 2, 3, ["n4"])
    phase1, phase2 = _gids(fig, "replib-quorum-1"), _gids(fig, "replib-quorum-2")
    assert (len(phase1), len(phase2)) == (11, 11)
    assert all(p.get_hatch() == "//" for p in phase2) and all(not p.get_hatch() for p in phase1)
    assert len(_gids(fig, "replib-failed")) == 2         # the big node and its cross
    assert fig.alt_text == (
        "Quorums of 5 nodes (n1, n2, n3, n4, n5) on a circle: phase 1 needs 2, phase 2 needs 3. "
        "Failed: n4. Large panel: the phase-1 quorum {n1, n2} and the phase-2 quorum "
        "{n3, n4, n5} share no node; 10 pairs do not intersect. Small panels: 10 phase-1 "
        "quorums (all drawn), 6 available. Small panels: 10 phase-2 quorums (all drawn), 4 "
        "available. Both phases can complete.")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("available") == 10 and texts.count("unavailable") == 10
    assert "these two share no node:\nboth can act, unaware of each other" in texts
    assert "5 nodes, q1 = 2, q2 = 3: NOT safe, live" in texts
    assert all(t.get_fontsize() >= 11 for t in fig.axes[0].texts)
    assert to_png(fig).startswith(b"\x89PNG")


def test_majorities_are_drawn_once_and_many_quorums_are_cut_short():
    """Equal sizes share one row of panels; 35 quorums of 4 of 7 show 9 and '+26 more',
    available ones first."""
    fig = draw_quorums(7, 4, 4, ["n2", "n5"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "All 35 quorums of 4 (both phases): 5 available" in texts
    assert "+26\nmore" in texts
    assert texts.count("available") == 5 and texts.count("unavailable") == 4
    assert "share {n6}; every such pair shares at least 1 node" in fig.alt_text
    assert "35 quorums (both phases) (9 drawn, available ones first), 5 available" in fig.alt_text


def test_a_picture_of_a_stuck_configuration_says_so():
    fig = draw_quorums(5, 2, 4, "n1, n2")
    assert fig.alt_text.endswith("Some phase has no available quorum, so nothing can be "
                                 "decided now.")
    assert "5 nodes, q1 = 2, q2 = 4: safe, not live" in [t.get_text() for t in fig.axes[0].texts]


@pytest.mark.parametrize("args, kwargs, match", [
    ((13, 7), {}, "draws at most 12 nodes"),
    ((5, 6), {}, r"q1 \(the phase-1 quorum\) must be a whole number from 1 to 5"),
    ((5, 3), {"failed": ["n6"]}, r"unknown node\(s\) \['n6'\]"),
    ((5, 3), {"limit": 0}, "limit must be a whole number from 1 to 40"),
])
def test_draw_quorums_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        draw_quorums(*args, **kwargs)


# ---- the explorer --------------------------------------------------------------------------


def test_explorer_opens_on_majorities():
    """Defaults: 5 nodes, majorities, nothing failed: safe and live, a picture, no message."""
    e = QuorumExplorer()
    assert e.message.value == ""
    assert e.summary.value.startswith("5 nodes, quorums of 3 (both phases): 10 phase-1 and 10 "
                                      "phase-2 quorums.<br>Safe: 3 + 3 = 6 &gt; 5")
    assert "Live with no node failed" in e.summary.value
    assert e.picture.value.startswith("<img") and "alt='Quorums of 5 nodes" in e.picture.value
    assert e.report.safe and e.report.live
    assert "Quorum explorer" in e._repr_mimebundle_()["text/plain"]


def test_each_control_updates_the_summary():
    """Every control recomputes: q1 down to 2 is unsafe, q2 up to 4 safe again, failing n1
    and n2 leaves no phase-2 quorum, N=7 changes the counts."""
    e = QuorumExplorer()

    def changed(widget, value, expect):
        before = e.summary.value
        widget.value = value
        assert e.message.value == ""
        assert expect in e.summary.value, e.summary.value
        assert e.summary.value != before

    changed(e.q1, 2, "UNSAFE: 2 + 3 = 5 &lt;= 5, so 10 of the 100 pairs share no node")
    changed(e.q2, 4, "Safe: 2 + 4 = 6 &gt; 5")
    changed(e.failed, "n1, n2", "Not live with n1, n2 failed: 3 of 10 phase-1 and 0 of 5 "
                                "phase-2 quorums are available")
    changed(e.n, 7, "7 nodes, phase-1 quorums of 2, phase-2 quorums of 4: 21 phase-1 and 35 "
                    "phase-2 quorums.")
    assert e.update() is True


@pytest.mark.parametrize("control, value, message", [
    ("q1", 7, "q1 (the phase-1 quorum) must be a whole number from 1 to 5, got 7"),
    ("q2", 9, "q2 (the phase-2 quorum) must be a whole number from 1 to 5, got 9"),
    ("failed", "n9", "failed names unknown node(s) [&#x27;n9&#x27;]"),
    ("failed", "n1,,zz", "failed names unknown node(s) [&#x27;zz&#x27;]"),
])
def test_a_strange_value_shows_a_message_and_keeps_the_picture(control, value, message):
    """Nothing raises: the panel explains, the last summary and picture stay, and a good
    value clears the message."""
    e = QuorumExplorer()
    summary, picture = e.summary.value, e.picture.value
    getattr(e, control).value = value
    assert message in e.message.value and "⚠" in e.message.value
    assert (e.summary.value, e.picture.value) == (summary, picture)
    assert e.update() is False
    getattr(e, control).value = {"q1": 3, "q2": 3, "failed": ""}[control]
    assert e.message.value == "" and e.update() is True


def test_shrinking_n_below_a_failed_node_is_reported():
    """Failing n5, then lowering N to 4: n5 no longer exists; the panel says so."""
    e = QuorumExplorer(n=5, q1=2, q2=2, failed=["n5"])
    assert "Live with n5 failed" in e.summary.value
    e.n.value = 4
    assert "unknown node(s) [&#x27;n5&#x27;]; nodes are [&#x27;n1&#x27;, &#x27;n2&#x27;, " \
        "&#x27;n3&#x27;, &#x27;n4&#x27;]" in e.message.value
    e.failed.value = "n4"
    assert e.message.value == "" and "4 nodes" in e.summary.value


def test_the_explorer_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"q1 \(the phase-1 quorum\) must be a whole number "
                                         r"from 1 to 3, got 5"):
        QuorumExplorer(n=3, q1=5)
    with pytest.raises(ValueError, match=r"unknown node\(s\) \['x'\]"):
        QuorumExplorer(failed="x")
    with pytest.raises(ValueError, match="n must be a whole number from 1 to 9, got 12"):
        QuorumExplorer(n=12)
    with pytest.raises(ValueError, match="q2 must be a whole number from 1 to 9, got 0"):
        QuorumExplorer(q2=0)


def test_redrawing_does_not_pile_up_open_figures():
    """A widget redraws on every change; each picture is closed once it is encoded, so a
    lecture's worth of changes does not keep hundreds of figures in memory."""
    import matplotlib.pyplot as plt
    from replib.widgets.quorum import QuorumExplorer
    w = QuorumExplorer(n=5, q1=3, q2=3)
    before = len(plt.get_fignums())
    for q1 in (2, 3, 4, 2):
        w.q1.value = q1
    assert len(plt.get_fignums()) == before
