"""Space-time diagrams that read at a glance: lost messages marked on their own path,
periodic traffic folded, milestones on the lanes, comparable time axes, captions first in
the alt text, and no text that overlaps other text or is cut off (``replib.viz.lint``)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from replib import Controls, Network, Simulation  # noqa: E402
from replib.experiments.primary_backup import partial_replication, split_brain  # noqa: E402
from replib.faults import crash  # noqa: E402
from replib.protocols.forwarding import forwarding_system  # noqa: E402
from replib.protocols.paxos import paxos_system  # noqa: E402
from replib.protocols.threepc import threepc_system  # noqa: E402
from replib.protocols.twopc import atomicity  # noqa: E402
from replib.check import check  # noqa: E402
from replib.viz import FigureLintError, lint, show, space_time, space_time_stack  # noqa: E402
from replib.viz.phases import space_time_phases  # noqa: E402
from replib.viz.sequence import LOST_SHORT, has_glyph, milestones  # noqa: E402


def lane_y(fig, node):
    return fig.replib_scene.lane(node)


# ---- lost messages -----------------------------------------------------------------------------
def test_a_message_lost_on_its_way_stops_just_before_its_receiver():
    """Story 3 loses write 1's Update from the primary to b2 (two lanes away, b1 between):
    the line stops LOST_SHORT lanes before b2's lane, past b1's, so the cross cannot be read
    as a loss on the way to b1."""
    trace = partial_replication().run(until=30)
    fig = space_time(trace)
    lost = [a for a in fig.replib_scene.arrows
            if a.fate == "dropped" and a.src == "primary" and a.dst == "b2"]
    assert len(lost) == 1
    a = lost[0]
    y0, y1 = lane_y(fig, "primary"), lane_y(fig, "b2")
    end = y0 + a.frac * (y1 - y0)
    assert abs(end - y1) == pytest.approx(LOST_SHORT)
    assert abs(end - lane_y(fig, "b1")) > 0.5


def test_lost_messages_in_a_checker_path_end_near_their_own_receivers():
    """3PC under a partition: both dropped PreCommits end beside their own receiver's lane
    (p1 and p2), not on the lane between."""
    r = check(threepc_system(2), Controls(drop=True, timers="synchronous"),
              invariants={"atomicity": atomicity}, progress=False)
    fig = space_time(r.violation.path.trace())
    lost = [a for a in fig.replib_scene.arrows if a.fate == "dropped"]
    assert sorted(a.dst for a in lost) == ["p1", "p2"]
    for a in lost:
        y0, y1 = lane_y(fig, a.src), lane_y(fig, a.dst)
        assert abs(y0 + a.frac * (y1 - y0) - y1) == pytest.approx(LOST_SHORT)


# ---- periodic messages -------------------------------------------------------------------------
def test_heartbeats_are_folded_into_ticks_by_default():
    """Story 2 sends dozens of Heartbeats: by default none is an arrow, each is a tick on its
    sender's lane, and the legend says how many; periodic="show" draws them all."""
    trace = split_brain("naive").run(until=30)
    beats = trace.count("send", msg_type="Heartbeat")
    assert beats > 30
    folded = space_time(trace)
    ticks = [c for c in folded.findobj() if c.get_gid() == "replib-periodic"]
    assert len(ticks[0].get_segments()) == beats
    assert f"Heartbeat: {beats} sent, a tick each" in folded.replib_legend
    heads = [c for c in folded.findobj() if c.get_gid() == "replib-arrowheads"]
    delivered = trace.count("deliver") - trace.count("deliver", msg_type="Heartbeat")
    assert len(heads[0].get_paths()) == delivered
    shown = space_time(trace, periodic="show")
    heads = [c for c in shown.findobj() if c.get_gid() == "replib-arrowheads"]
    assert len(heads[0].get_paths()) == trace.count("deliver")
    assert "Heartbeat" in shown.replib_legend
    assert "periodic Heartbeat messages folded into ticks" in folded.alt_text
    with pytest.raises(ValueError, match="periodic must be one of fold, faint, show"):
        space_time(trace, periodic="hide")


# ---- milestones --------------------------------------------------------------------------------
def test_role_and_epoch_changes_are_marked_on_the_lanes():
    """Story 2: the primary holds epoch 1 from the start, and b1 promotes itself when the
    partition cuts it off; both are badges, and listed in the alt text."""
    trace = split_brain("naive").run(until=30)
    marks = [(node, text) for _t, node, text, _s in milestones(trace)]
    assert marks == [("primary", "primary e1"), ("b1", "primary e1")]
    fig = space_time(trace)
    assert "primary e1" in fig.replib_texts
    assert "b1 'primary e1'" in fig.alt_text


def test_a_chosen_value_is_marked_when_the_majority_is_complete():
    """A normal Paxos run: "chosen v1" marks the acceptor whose Accepted completes the
    majority, once; the learner's badge follows."""
    sim = Simulation(paxos_system(acceptors=3, proposers=1, learners=1), seed=1)
    trace = sim.run(until=6)
    marks = [(node, text) for _t, node, text, _s in milestones(trace)]
    assert marks.count(("a2", "chosen v1")) + marks.count(("a1", "chosen v1")) == 1
    assert ("l1", "learned v1") in marks and ("p1", "ballot 1") in marks


def test_milestones_follow_the_player():
    """A frame of the trace player shows only the milestones of the steps it draws."""
    trace = split_brain("naive").run(until=30)
    late = next(s for _t, node, _x, s in milestones(trace) if node == "b1")
    before = space_time(trace, upto=late - 1)
    after = space_time(trace, upto=late)
    assert [m[1] for m in before.replib_scene.milestones] == ["primary"]
    assert [m[1] for m in after.replib_scene.milestones] == ["primary", "b1"]


# ---- comparable figures ------------------------------------------------------------------------
def test_the_time_axis_ends_after_the_last_event_not_at_until():
    """A run stopped at t=30 whose last event is at t=8 gets an axis that ends near 8."""
    trace = Simulation(forwarding_system(3), faults=[crash("replica", at=6)], seed=1).run(until=30)
    last = trace.events[-1].time
    fig = space_time(trace)
    assert last < 10 and fig.axes[0].get_xlim()[1] < last + 2


def test_a_shared_time_range_lines_runs_up():
    runs = [Simulation(forwarding_system(1, wait_for_replica=w), seed=0).run() for w in (False, True)]
    a, b = (space_time(r, time_range=(0, 6)) for r in runs)
    assert a.axes[0].get_xlim() == b.axes[0].get_xlim()
    stacked = space_time_stack(runs, titles=["async", "sync"])
    xlims = {ax.get_xlim() for ax in stacked.axes}
    assert len(xlims) == 1
    assert stacked.alt_text.startswith("Panel 1: Space-time diagram")
    assert "Panel 2:" in stacked.alt_text
    assert lint(stacked) == []
    with pytest.raises(ValueError, match="time_range must be"):
        space_time(runs[0], time_range=(5, 1))
    with pytest.raises(ValueError, match="at least two traces"):
        space_time_stack(runs[:1])


# ---- text that collides or is cut --------------------------------------------------------------
def test_lint_finds_overlapping_and_clipped_text():
    fig = Figure(figsize=(3, 2), dpi=100)
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    ax.text(0.5, 0.5, "first label")
    ax.text(0.52, 0.5, "second label")
    fig.text(0.95, 0.5, "far too long to fit at the edge")
    found = lint(fig)
    assert any("overlaps" in f and "first label" in f for f in found)
    assert any("cut off at the right edge" in f for f in found)


def test_long_titles_wrap_and_nothing_is_cut_or_overprinted():
    """A title longer than the figure wraps onto a second line; the busiest diagrams of the
    course (phase bands, heartbeats, crashes, drops) have no lint finding."""
    title = "A very long title about what happens to a replicated log " * 3
    fig = space_time(partial_replication().run(until=30), title=title)
    assert lint(fig) == []
    assert sum(1 for t in fig.replib_texts if t and t in title) >= 2
    mp = Simulation(paxos_system(proposers=2), network=Network(), seed=9).run(until=40)
    assert lint(space_time_phases(mp, title="two proposers")) == []
    assert lint(space_time(split_brain("epochs").run(until=30), periodic="show")) == []


def test_show_refuses_an_unreadable_figure_when_linting(monkeypatch):
    fig = Figure(figsize=(3, 2), dpi=100)
    fig.text(0.1, 0.5, "overlapping")
    fig.text(0.12, 0.5, "overlapping too")
    monkeypatch.setenv("REPLIB_LINT", "1")
    with pytest.raises(FigureLintError, match="overlaps"):
        show(fig, caption="Two labels on top of each other.")
    monkeypatch.setenv("REPLIB_LINT", "0")
    show(fig, caption="Two labels on top of each other.")   # only checked when linting


def test_the_caption_opens_the_alt_text(capsys):
    trace = Simulation(forwarding_system(1), seed=0).run()
    fig = space_time(trace)
    inventory = fig.alt_text
    show(fig, caption="One write goes through")        # outside IPython: printed
    out = capsys.readouterr().out
    assert out.startswith("One write goes through. " + inventory[:30])
    with pytest.raises(ValueError, match="caption must be a sentence"):
        show(space_time(trace), caption="  ")


# ---- any character -----------------------------------------------------------------------------
def test_labels_in_other_scripts_fall_back_to_real_text():
    """A message whose label holds characters the outline font lacks (Chinese) is drawn as
    matplotlib text, not dropped; its box is still known to the lint."""
    from dataclasses import dataclass

    from replib import Node

    @dataclass(frozen=True)
    class 写入:
        值: int

    class A(Node):
        def on_start(self):
            self.send("b", 写入(1))

    class B(Node):
        def on_写入(self, msg, sender):
            pass

    assert has_glyph("A") and not has_glyph("写")
    fig = space_time(Simulation([A("a"), B("b")], seed=0).run())
    fallback = [t for t in fig.findobj(matplotlib.text.Text)
                if t.get_gid() == "replib-text-fallback"]
    assert any("写入" in t.get_text() for t in fallback)
    assert any("写入" in text for text, _ in fig.replib_text_boxes)
