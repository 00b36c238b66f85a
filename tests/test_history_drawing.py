"""Drawing a history and the verdict on it: the blamed operation marked, readable labels.

Each test's docstring states what the figure must show.
"""

import pytest
from helpers import CAS, JEPSEN_CORPUS, R, W
from matplotlib.backends.backend_agg import FigureCanvasAgg

from replib import history
from replib.history import FAIL, OK, linearizable, linearizable_kv, random_history
from replib.jepsen import load_jepsen
from replib.trace import Operation
from replib.viz import draw_history, to_png
from replib.viz.histories import _label


def texts(fig):
    """Every piece of text drawn, with its box in pixels."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    drawn = list(fig.texts)
    for ax in fig.axes:
        low, high = ax.get_xlim()
        drawn += ax.texts + [ax.title, ax.xaxis.label, ax.yaxis.label] + ax.get_yticklabels()
        drawn += [t for t in ax.get_xticklabels() if low <= t.get_position()[0] <= high]
    return [(t.get_text(), t.get_window_extent(renderer)) for t in drawn
            if t.get_visible() and t.get_text().strip()], fig.bbox


def assert_readable(fig):
    """No text overlaps other text, and none leaves the figure."""
    found, frame = texts(fig)
    for n, (text, box) in enumerate(found):
        assert (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                and box.y1 <= frame.y1), f"{text!r} is cut off: {box} outside {frame}"
        for other, box2 in found[n + 1:]:
            assert not box.overlaps(box2), f"{text!r} overlaps {other!r}"
    return [text for text, _ in found]


def test_a_rejection_marks_the_blamed_operation_and_the_cut():
    """The blamed read is labelled "blamed", the cut is marked at its answer, and the
    explanation is printed under the timeline; the alt text says all of it."""
    h = [W("a", 1, 0, 1), W("a", 2, 2, 3), R("b", 1, 5, 6)]
    fig = draw_history(linearizable(h), title="A stale read")
    shown = assert_readable(fig)
    assert "read 1 · blamed" in shown and "cut: t=6" in shown and "A stale read" in shown
    assert {"write 1", "write 2"} <= set(shown)
    assert any(t.startswith("not linearizable: b read() [5..6] returned 1") for t in shown)
    assert fig.alt_text == (
        "Timeline of a history of 3 operations by 2 clients (a, b), one row per client, each "
        "operation a bar from its invocation to its response. The check says: not "
        "linearizable: b read() [5..6] returned 1 but could only have read 2 (no valid order "
        "for the 3 operations invoked up to t=6). The blamed operation, b read() [5..6], is "
        "drawn in vermillion with a heavy outline; a dashed line at t=6 ends the shortest "
        "prefix that cannot be linearized.")
    assert to_png(fig).startswith(b"\x89PNG")


def test_a_history_is_checked_before_it_is_drawn():
    """Given a history, draw checks it (key by key when its operations name keys), so
    drawing the history and drawing its Result give the same picture."""
    h = [W("a", 1, 0, 1), CAS("b", 1, 2, 2, None), R("c", 2, 3, 4)]
    a, b = history.draw(h), draw_history(linearizable(h))
    assert a.alt_text == b.alt_text and "linearizable: 3 operations ordered" in a.alt_text
    assert "1 operations were never answered" in a.alt_text
    assert "cas 1→2 ?" in assert_readable(a)
    kv = [Operation("a", ("write", "x", 1), 0, 1, OK), Operation("b", ("read", "x"), 2, 3, 2)]
    fig = draw_history(kv)
    assert "key 'x': not linearizable" in fig.alt_text
    assert "'x': read 2 · blamed" in assert_readable(fig)
    assert draw_history(linearizable_kv(kv)).alt_text == fig.alt_text


def test_labels_say_what_each_operation_did():
    """write v, read v, cas a→b, with "failed", "?" (never answered) or the odd answer."""
    assert [_label(x) for x in (W("a", 1, 0, 1), R("a", 2, 0, 1), CAS("a", 1, 4, 0, 1),
                                CAS("a", 1, 4, 0, 1, FAIL), W("a", 3, 0, None),
                                W("a", 3, 0, 1, "timeout"), R("a", FAIL, 0, 1),
                                Operation("a", ("cas", "k", 1, 2), 0, 1, OK))] == [
        "write 1", "read 2", "cas 1→4", "cas 1→4 failed", "write 3 ?", "write 3 ('timeout')",
        "read failed", "'k': cas 1→2"]


def test_crowded_histories_stay_readable():
    """A Jepsen etcd history of 10 processes and random histories with many short
    operations: labels are stacked so that none overlaps another or leaves the figure, and
    at most ``limit`` operations are drawn, the blamed one among them."""
    r = linearizable(load_jepsen(JEPSEN_CORPUS / "etcd_001.log"))
    fig = draw_history(r)
    shown = assert_readable(fig)
    assert "read 4 · blamed" in shown and "(48 later operations not drawn)" in shown
    assert "38 operations by 10 clients (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)" in fig.alt_text
    for seed in range(4):
        h = random_history(30, 4, seed, cas_fraction=0.3, values=3, unanswered=0.1,
                           think=0.01)
        assert_readable(draw_history(h, limit=25))
    fig = draw_history(r, limit=5)
    assert "read 4 · blamed" in assert_readable(fig) and "5 operations" in fig.alt_text


def test_bad_input_is_a_value_error():
    """An empty history, a Result without its history and a bad limit are refused."""
    with pytest.raises(ValueError, match="the history is empty"):
        draw_history([])
    with pytest.raises(ValueError, match="does not carry its history"):
        draw_history(history.Result(False, "made up"))
    with pytest.raises(ValueError, match="limit must be an integer >= 1"):
        draw_history([W("a", 1, 0, 1)], limit=0)
    with pytest.raises(ValueError, match=r"history\[0\]: an operation must be"):
        draw_history([Operation("a", ("append", 1), 0, 1, OK)])
