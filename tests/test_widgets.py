"""The trace player and the fault panel, driven through the same methods their buttons call."""

import pytest

from replib import Simulation
from replib.faults import crash
from replib.protocols.forwarding import forwarding_system
from replib.widgets import FaultPanel, TracePlayer
from replib.widgets.player import state_table, step_caption


@pytest.fixture
def trace():
    return Simulation(forwarding_system(2), seed=1).run()


def test_player_starts_at_the_end_and_steps(trace):
    """The player opens on the last step; step back and forward move one step and redraw."""
    player = TracePlayer(trace)
    last = len(trace.steps) - 1
    assert player.step == last and player.slider.value == last
    figure, table = player.figure.value, player.table.value
    player.step_back()
    assert player.step == last - 1
    assert player.figure.value != figure and player.table.value != table
    player.step_forward()
    assert player.step == last and player.figure.value == figure
    player.step_forward()                       # already at the end: nothing moves
    assert player.step == last


def test_player_stops_at_the_first_step(trace):
    """Step 0 is the first node starting; stepping back stops there."""
    player = TracePlayer(trace, step=1)
    player.step_back()
    assert player.step == 0 and "Step 0 (t=0): client starts" in player.caption.value
    player.step_back()
    assert player.step == 0


def test_player_figure_has_alt_text(trace):
    """The figure is an <img> with the diagram's description as alt text."""
    player = TracePlayer(trace, step=4)
    assert player.figure.value.startswith("<img src='data:image/png;base64,")
    assert "alt='Space-time diagram" in player.figure.value


def test_play_drives_the_slider(trace):
    """The Play widget is linked to the slider, so playing steps the player."""
    player = TracePlayer(trace, step=2)
    player.play.value = 3
    assert player.slider.value == 3 and player.step == 3


def test_bad_step_shows_a_message_and_keeps_working(trace):
    """A strange step value is reported in the widget, never raised."""
    player = TracePlayer(trace, step=3)
    player.show(999)
    assert "step must be a whole number between 0 and" in player.message.value
    assert player.step == 3
    player.show(4)
    assert player.step == 4 and player.message.value == ""


def test_state_table_bolds_what_the_step_changed(trace):
    """Step 5 is the replica receiving Forward(1): its log changes, shown in bold."""
    events = trace.step_events(5)
    assert events[0].describe().startswith("replica receives Forward(index=1")
    table = state_table(trace, 5)
    assert "<b>[(&#x27;write&#x27;, 1)]</b>" in table
    assert step_caption(trace, 5).startswith("Step 5 (t=2.5): replica receives Forward")


def test_state_table_marks_crashed_nodes():
    """A crashed node is labelled in the table."""
    t = Simulation(forwarding_system(2), faults=[crash("replica", at=3)], seed=1).run()
    crash_step = next(e.step for e in t if e.kind == "crash")
    assert "replica</b> Replica <i>(crashed)</i>" in state_table(t, crash_step)


def test_fault_panel_reruns_with_a_crash():
    """Adding a crash re-runs the simulation; the player shows the new trace."""
    panel = FaultPanel(lambda: forwarding_system(3), seed=1, until=30)
    assert [op.response for op in panel.trace.history()] == [4.5, 9.0, 13.5]
    panel.add_fault("crash", "replica", 6)
    assert [op.response for op in panel.trace.history()] == [4.5, None]
    assert "crash replica at t=6" in panel.schedule.value
    assert panel.player.trace is panel.trace


def test_fault_panel_isolate_and_heal():
    """Isolating the replica stalls write 2 until the heal; the schedule lists both."""
    panel = FaultPanel(lambda: forwarding_system(3, timeout=5), seed=1, until=40)
    panel.add_fault("isolate", "replica", 5)
    panel.add_fault("heal", "replica", 12)
    history = panel.trace.history()
    assert history[1].response > 12
    assert "partition replica" in panel.schedule.value and "heal the network at t=12" in panel.schedule.value


def test_fault_panel_survives_bad_values():
    """Unknown nodes, unknown actions and negative times show a message; the panel goes on."""
    panel = FaultPanel(lambda: forwarding_system(2), seed=1)
    before = panel.trace.digest()
    panel.add_fault("crash", "nobody", 3)
    assert "unknown node" in panel.message.value
    panel.add_fault("explode", "server", 3)
    assert "unknown action" in panel.message.value
    panel.add_fault("crash", "server", -1)
    assert "at= must be a finite number &gt;= 0" in panel.message.value
    assert panel.faults == [] and panel.trace.digest() == before
    panel.add_fault("crash", "server", 2)
    assert panel.message.value == "" and len(panel.faults) == 1


def test_fault_panel_sliders_rerun():
    """Moving the loss slider or changing the latency model re-runs from the same seed."""
    panel = FaultPanel(lambda: forwarding_system(3), seed=2, until=40)
    calm = panel.trace.digest()
    panel.loss.value = 0.3
    assert panel.trace.digest() != calm
    assert any(e.kind == "drop" for e in panel.trace)
    panel.loss.value = 0.0
    assert panel.trace.digest() == calm          # same seed, same settings, same run
    panel.latency.value = "long tail"
    assert panel.trace.digest() != calm
    panel.clear_faults()
    assert "No faults scheduled" in panel.schedule.value


def test_fault_panel_needs_a_builder():
    with pytest.raises(ValueError, match="build must be a function"):
        FaultPanel(forwarding_system(2))
