"""Does a figure read at a glance?  ``lint(fig)`` lists text that overlaps other text and
text cut off at the figure's edge.

The space-time diagrams draw their text themselves and keep every string's box
(``fig.replib_text_boxes``); every other figure's text is matplotlib Text, measured with a
renderer.  The course builds and tests its notebooks with ``REPLIB_LINT=1`` in the
environment, which makes ``show`` refuse a figure with a finding (``FigureLintError``), so a
figure that would make a reader hunt for its text cannot reach a notebook.
"""

from __future__ import annotations

import os

from matplotlib.text import Text

from .sequence import _Box

#: pixels two boxes may share, or a box may stick out, before it counts (anti-aliasing)
TOLERANCE = 1.0


class FigureLintError(AssertionError):
    """A figure shown with ``REPLIB_LINT`` set has text that overlaps or is cut off.  An
    AssertionError, not a ValueError: it reports a fault of the course's own figures, and
    widgets that answer bad input (ValueError) with a message must not swallow it."""


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    return fig.canvas.get_renderer()


def text_boxes(fig) -> list:
    """Every visible piece of text in the figure, with its box in pixels: (text, _Box)."""
    boxes = list(getattr(fig, "replib_text_boxes", ()))
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
             and t.get_gid() != "replib-text-fallback"]   # already in replib_text_boxes
    if texts:
        renderer = _renderer(fig)
        for t in texts:
            bb = t.get_window_extent(renderer)
            if bb.width > 0 and bb.height > 0:
                boxes.append((t.get_text(), _Box((bb.x0 + bb.x1) / 2, (bb.y0 + bb.y1) / 2,
                                                 bb.width, bb.height, 0.0)))
    return boxes


def lint(fig) -> list[str]:
    """Findings, one line each: text overlapping other text, text cut off at an edge."""
    w, h = (float(x) * fig.dpi for x in fig.get_size_inches())
    boxes = [(text, box) for text, box in text_boxes(fig) if box.hw > 0 and box.hh > 0]
    findings = []
    for text, b in boxes:
        sides = [side for side, out in (("left", b.x0 < -TOLERANCE), ("right", b.x1 > w + TOLERANCE),
                                        ("bottom", b.y0 < -TOLERANCE), ("top", b.y1 > h + TOLERANCE))
                 if out]
        if sides:
            findings.append(f"text {text!r} is cut off at the {' and '.join(sides)} edge")
    shrunk = [(text, b.shrunk(TOLERANCE)) for text, b in boxes]
    for i, (a_text, a) in enumerate(shrunk):
        for b_text, b in shrunk[i + 1:]:
            if a.overlaps(b):
                findings.append(f"text {a_text!r} overlaps text {b_text!r}")
    return findings


def strict() -> bool:
    """Is linting on (``REPLIB_LINT`` set to anything but 0 or empty)?"""
    return os.environ.get("REPLIB_LINT", "") not in ("", "0")


def check_if_strict(fig) -> None:
    """``check`` when ``REPLIB_LINT`` is set (widgets call it before they encode a figure)."""
    if strict():
        check(fig)


def check(fig) -> None:
    """Raise FigureLintError if the figure has findings (used by ``show`` when strict)."""
    findings = lint(fig)
    if findings:
        more = f" (and {len(findings) - 5} more)" if len(findings) > 5 else ""
        raise FigureLintError("this figure does not read at a glance: " +
                              "; ".join(findings[:5]) + more)
