"""The comparison explorer of chapter 08, driven through the methods its controls call."""

import types

import pytest

from replib.experiments import compare as compare_module
from replib.experiments.compare import compare
from replib.network import LongTail, Uniform
from replib.widgets import comparison
from replib.widgets.comparison import (COLUMNS, CRASHES, PLOTS, TAILS, ComparisonExplorer,
                                       table_html)


@pytest.fixture(scope="module")
def explorer():
    return ComparisonExplorer()


def _rows(e):
    return e.table.value.count("<tr>") - 1          # the header row is one


def test_opens_with_every_approach_and_a_described_figure(explorer):
    e = explorer
    assert e.message.value == ""
    assert _rows(e) == len(compare_module.APPROACHES) == 9
    assert "n = 3 replicas" in e.table.value
    assert e.result.row("2pc").messages_per_op == 12        # 4n with n = 3 participants
    assert e.figure.value.startswith("<img")
    assert ("alt='n = 3, latency uniform, the leader crashes at t=11. Bar chart of messages "
            "per write") in e.figure.value
    assert "Comparison explorer" in e._repr_mimebundle_()["text/plain"]


def test_settings_map_the_controls_to_compare_arguments(explorer):
    s = explorer.settings()
    assert s == dict(replicas=3, ops=10, seed=0, latency=Uniform(0.5, 1.5),
                     crash=("leader", 11.0), partition=("leader", 10.0))


def test_the_table_is_the_compare_table():
    """What the widget shows is compare()'s numbers for the same settings."""
    e = ComparisonExplorer(replicas=4, tail="long tail, heavy", crash="a follower / backup / "
                           "participant", crash_at=7.0)
    t = compare(replicas=4, latency=LongTail(1.0, 1.2), crash=("follower", 7.0),
                partition=("leader", 10.0))
    assert e.table.value == table_html(t)
    assert [r.messages_per_op for r in e.result.rows] == [r.messages_per_op for r in t.rows]


def test_each_control_updates_the_panel():
    e = ComparisonExplorer()
    seen = [(e.table.value, e.figure.value)]
    for widget, value in ((e.replicas, 5), (e.tail, "long tail, light"),
                          (e.crash, "a follower / backup / participant"), (e.crash_at, 20.0),
                          (e.crash, "none"), (e.plot, "message delays"), (e.seed, 3)):
        widget.value = value
        assert e.message.value == ""
        now = (e.table.value, e.figure.value)
        assert now not in seen, f"changing {widget.description} changed nothing"
        seen.append(now)
    assert "n = 5 replicas" in e.table.value and "long tail (median 1, spread 0.5)" in \
        e.table.value
    assert "crash = None" in e.table.value
    assert all(r.lost is None for r in e.result.rows)
    assert "Bar chart of message delays per write" in e.figure.value


@pytest.mark.parametrize("plot", list(PLOTS))
def test_every_plot_is_drawn_with_alt_text(explorer, plot):
    explorer.plot.value = plot
    assert explorer.message.value == ""
    assert "alt='n = 3, latency uniform" in explorer.figure.value
    explorer.plot.value = "messages per write"


def test_one_figure_per_update_and_none_left_open(explorer):
    import matplotlib.pyplot as plt
    before = len(plt.get_fignums())
    explorer.update()
    assert len(plt.get_fignums()) == before


def test_the_crash_choices_name_the_component():
    assert CRASHES == {"none": None, "leader / primary / coordinator": "leader",
                       "a follower / backup / participant": "follower"}
    assert list(TAILS) == ["uniform", "long tail, light", "long tail, heavy"]


def test_a_bad_value_is_reported_and_the_last_table_stays():
    e = ComparisonExplorer()
    table, figure = e.table.value, e.figure.value
    e.replicas = types.SimpleNamespace(value=9, description="replicas n")
    assert e.update() is False
    assert "replicas must be 3 to 7" in e.message.value
    assert (e.table.value, e.figure.value) == (table, figure)
    e.replicas = types.SimpleNamespace(value=3)
    e.crash_at = types.SimpleNamespace(value=-1.0)
    assert e.update() is False and "crash time must be between 0 and 40" in e.message.value
    e.crash_at = types.SimpleNamespace(value=11.0)
    assert e.update() is True and e.message.value == ""


def test_a_failed_run_is_reported_not_raised(monkeypatch):
    e = ComparisonExplorer()

    def broken(**kwargs):
        raise RuntimeError("2PC: no write was acknowledged in the failure-free run")
    monkeypatch.setattr(comparison, "compare", broken)
    assert e.update() is False
    assert "no write was acknowledged" in e.message.value


@pytest.mark.parametrize("kwargs, match", [
    (dict(replicas=2), "replicas must be 3 to 7"),
    (dict(replicas=True), "replicas must be 3 to 7"),
    (dict(tail="gaussian"), "unknown tail 'gaussian'"),
    (dict(crash="everyone"), "unknown crash 'everyone'"),
    (dict(plot="pie"), "unknown plot 'pie'"),
])
def test_bad_arguments_are_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ComparisonExplorer(**kwargs)


def test_table_html_escapes_and_has_every_column():
    t = compare(replicas=3, approaches=["async", "2pc"], crash=None, partition=None)
    t.rows[0].label = "<async>"
    out = table_html(t)
    assert "&lt;async&gt;" in out and "<async>" not in out
    assert out.count("<th ") == len(COLUMNS)
    assert out.count("<tr>") == 3


# ---- the chapter's exercise checks (replib/exercises.py, chapter 08 block) ----------------




