"""Chapter 06's explorer: retry timeout, backoff policy, base and cap, a leader, the number
of seeds and the latency model; histograms of ballots and messages until a value is chosen.

Every control calls ``update()``, which re-runs every seed for the chosen settings and, for
comparison, for the plain duel (no backoff, no leader, same timeout and latency), then
redraws.  A value the simulator refuses (a timeout of 0, a cap of -1, ...) is reported in
the panel and the last good picture stays.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..experiments.livelock import LIMIT, PROGRESS_ABOVE, decision_histograms, decision_stats
from .faults import LATENCIES, latency_model
from .replication import _img

BACKOFFS = {"none": "no backoff", "fixed": "fixed backoff",
            "random": "randomized exponential backoff"}
LEADERS = ("none", "p1", "p2")
MAX_SEEDS = 5000
MIN_TIMEOUT = 0.5      # shorter: every ballot times out, and each run burns many events
BASELINE = "plain duel (no backoff, no leader)"


class BackoffExplorer:
    """Two proposers, three acceptors, unbounded ballots: how many ballots and messages
    until a value is chosen, over many seeds, for the settings chosen here."""

    def __init__(self, timeout: float = 6.0, backoff: str = "random", base: float = 1.0,
                 cap: float = 32.0, leader: str = "none", seeds: int = 200,
                 latency: str = "uniform", limit: float = LIMIT):
        if backoff not in BACKOFFS:
            raise ValueError(f"unknown backoff {backoff!r}; choose one of {', '.join(BACKOFFS)}")
        if leader not in LEADERS:
            raise ValueError(f"leader must be one of {', '.join(LEADERS)}, got {leader!r}")
        if latency not in LATENCIES:
            raise ValueError(f"unknown latency model {latency!r}; choose one of "
                             f"{', '.join(LATENCIES)}")
        self.limit = limit
        self.timeout = widgets.FloatText(value=timeout, description="timeout", step=0.5)
        self.backoff = widgets.Dropdown(options=[(v, k) for k, v in BACKOFFS.items()],
                                        value=backoff, description="backoff",
                                        layout={"width": "24em"})
        self.base = widgets.FloatText(value=base, description="base", step=0.5)
        self.cap = widgets.FloatText(value=cap, description="cap", step=1.0)
        self.leader = widgets.Dropdown(options=LEADERS, value=leader, description="leader")
        self.seeds = widgets.IntText(value=seeds, description="seeds")
        self.latency = widgets.Dropdown(options=list(LATENCIES), value=latency,
                                        description="latency")
        self.message = widgets.HTML()
        self.summary = widgets.HTML()
        self.plot = widgets.HTML()
        self.progress = widgets.Output()
        for w in (self.timeout, self.backoff, self.base, self.cap, self.leader, self.seeds,
                  self.latency):
            w.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.backoff, self.base, self.cap]),
            widgets.HBox([self.timeout, self.leader, self.latency, self.seeds]),
            self.message, self.progress, self.summary, self.plot])
        self.stats = None
        self.update()

    def settings(self) -> dict:
        """The chosen settings, checked: a ValueError says what is wrong."""
        seeds = self.seeds.value
        if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
            raise ValueError(f"seeds must be a whole number from 1 to {MAX_SEEDS}, got {seeds!r}")
        timeout = self.timeout.value
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and \
                0 < timeout < MIN_TIMEOUT:
            raise ValueError(f"a timeout below {MIN_TIMEOUT:g} is shorter than any round trip "
                             f"here: every ballot would time out, for ever. Try {MIN_TIMEOUT:g} "
                             f"or more (below 2, many ballots already time out)")
        return dict(timeout=self.timeout.value, backoff=self.backoff.value,
                    backoff_base=self.base.value, backoff_cap=self.cap.value,
                    leader=None if self.leader.value == "none" else self.leader.value,
                    seeds=seeds, latency=latency_model(self.latency.value, 1.0))

    def label(self, s) -> str:
        text = BACKOFFS[s["backoff"]]
        if s["backoff"] == "fixed":
            text += f" {s['backoff_base']:g}"
        elif s["backoff"] == "random":
            text += f" (base {s['backoff_base']:g}, cap {s['backoff_cap']:g})"
        if s["leader"]:
            text += f", leader {s['leader']}"
        return text

    def run(self, s) -> dict:
        """label -> DecisionStats: the chosen settings, and the plain duel to compare."""
        configs = {self.label(s): dict(backoff=s["backoff"], leader=s["leader"])}
        if s["backoff"] != "none" or s["leader"]:
            configs = {BASELINE: dict(backoff="none", leader=None), **configs}
        bar = s["seeds"] * len(configs) > PROGRESS_ABOVE // 2
        out = {}
        try:
            for label, policy in configs.items():
                if bar:
                    with self.progress:      # tqdm.auto draws its bar in this output area
                        out[label] = self._stats(s, label, policy, True)
                else:
                    out[label] = self._stats(s, label, policy, False)
        finally:
            if bar:
                self.progress.clear_output()
        return out

    def _stats(self, s, label, policy, progress):
        return decision_stats(s["seeds"], label=label, latency=s["latency"], limit=self.limit,
                              progress=progress, timeout=s["timeout"],
                              backoff_base=s["backoff_base"], backoff_cap=s["backoff_cap"],
                              **policy)

    def update(self) -> bool:
        """Re-run and redraw; on a bad value, say why and keep the last picture."""
        try:
            s = self.settings()
            stats = self.run(s)
        except ValueError as exc:
            self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"
            return False
        self.message.value = ""
        self.stats = stats
        self.summary.value = "<br>".join(html.escape(st.describe()) for st in stats.values()) + (
            f"<br><i>{s['seeds']} seeds each, latency {html.escape(str(s['latency']))}, "
            f"timeout {s['timeout']:g}; a run that chose nothing by t={self.limit:g} counts "
            f"as undecided.</i>")
        self.plot.value = _img(decision_histograms(
            stats, title="Ballots and messages until a value is chosen"))
        return True

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Backoff explorer: run this cell in Jupyter to use it."
        return bundle
