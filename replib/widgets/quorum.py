"""Chapter 04's quorum explorer: pick the number of nodes, the two quorum sizes and which
nodes have failed; see every quorum, whether two of them can miss each other (safety) and
whether both phases can still gather one (liveness).

Every control calls ``update()``, which recomputes ``quorum_report`` and redraws; a strange
value (a quorum larger than the number of nodes, an unknown failed node) is reported in the
panel and the last good picture stays.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..experiments.partitions import quorum_report
from ..validate import whole_number
from ..viz.quorums import draw_quorums
from .replication import _img

MAX_N = 9     # sliders go up to this; C(9, 4) = 126 quorums of a size, drawn 10 at a time


class QuorumExplorer:
    """N nodes n1...nN, phase-1 quorums of q1 nodes, phase-2 quorums of q2, some failed.

    failed: names such as ["n4"], or one string "n2, n4"."""

    def __init__(self, n: int = 5, q1: int = 3, q2: int = 3, failed=(), limit: int = 10):
        for name, value in (("n", n), ("q1", q1), ("q2", q2)):
            whole_number(name, value, 1, MAX_N)       # a slider would clamp it silently
        self.limit = whole_number("limit", limit, 1)
        text = failed if isinstance(failed, str) else ", ".join(map(str, failed or ()))
        self.n = widgets.IntSlider(value=n, min=1, max=MAX_N, description="N nodes",
                                   continuous_update=False)
        self.q1 = widgets.IntSlider(value=q1, min=1, max=MAX_N, description="q1 (phase 1)",
                                    continuous_update=False)
        self.q2 = widgets.IntSlider(value=q2, min=1, max=MAX_N, description="q2 (phase 2)",
                                    continuous_update=False)
        self.failed = widgets.Text(value=text, description="failed", placeholder="e.g. n2, n4",
                                   continuous_update=False)
        self.message = widgets.HTML()
        self.summary = widgets.HTML()
        self.picture = widgets.HTML()
        for w in (self.n, self.q1, self.q2, self.failed):
            w.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.n, self.q1, self.q2]), self.failed,
                                    self.message, self.summary, self.picture])
        self.report = quorum_report(**self.settings())   # bad arguments raise here
        self.update()

    def settings(self) -> dict:
        return dict(nodes=self.n.value, q1=self.q1.value, q2=self.q2.value,
                    failed=self.failed.value)

    def update(self) -> bool:
        """Recompute and redraw; on a strange value, say why and keep the last picture."""
        try:
            s = self.settings()
            report = quorum_report(**s)
            fig = draw_quorums(limit=self.limit, **s)
        except ValueError as exc:
            self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"
            return False
        self.message.value = ""
        self.report = report
        self.summary.value = "<br>".join(html.escape(line)
                                         for line in report.summary().splitlines())
        self.picture.value = _img(fig)
        return True

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Quorum explorer: run this cell in Jupyter to use it."
        return bundle
