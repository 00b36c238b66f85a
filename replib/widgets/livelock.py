"""Chapter 06's explorer: retry timeout, backoff policy, base and cap, a leader, the number
of seeds and the latency model; histograms of ballots and messages until a value is chosen.

Every control calls ``update()``, which runs every seed for the chosen settings and, for
comparison, for the plain duel (no backoff, no leader, same timeout and latency), then
redraws.  A value the simulator refuses (a timeout of 0, a cap of -1, ...) is reported in
the panel and the last good picture stays.

Some settings take minutes (a timeout of 0.5 makes every ballot time out, and 5,000 seeds
of that is half a million short runs), so the work is measured and split: a change does
at most ``NOW`` units of it at once (a unit is about one quick run, a few milliseconds),
and the rest goes on in chunks of ``CHUNK`` units, scheduled on the notebook's event loop,
with a progress bar and a stop button.  Between two chunks the kernel handles the next
click: a newer change cancels the older work, and stop keeps what is done so far.
"""

from __future__ import annotations

import asyncio
import html

import ipywidgets as widgets

from ..experiments.livelock import LIMIT, DecisionStats, decision_histograms, run_to_decision
from ..validate import choice, finite_time, whole_number
from .faults import LATENCIES, latency_model
from .replication import _img

BACKOFFS = {"none": "no backoff", "fixed": "fixed backoff",
            "random": "randomized exponential backoff"}
LEADERS = ("none", "p1", "p2")
MAX_SEEDS = 5000
MIN_TIMEOUT = 0.5      # shorter: every ballot times out, and each run burns many events
BASELINE = "plain duel (no backoff, no leader)"
#: the work a change does at once, and then per chunk between two clicks, in units: a run
#: costs one unit plus one per MESSAGES_PER_UNIT messages it sent (a quick run: ~1.7 ms)
NOW, CHUNK, MESSAGES_PER_UNIT = 1000, 100, 40


def run_cost(outcome) -> float:
    """The work one run took, in units (about 1.7 ms each on a laptop)."""
    return 1 + outcome.messages / MESSAGES_PER_UNIT


class Job:
    """The runs one choice of settings needs, seed by seed (each seed for every
    configuration, so that work stopped half-way compares the same seeds)."""

    def __init__(self, settings: dict, configs: dict, limit: float):
        self.settings, self.configs, self.limit = settings, configs, limit
        self.outcomes = {label: [] for label in configs}
        self.seeds_done = 0
        self.work_done = 0.0
        self.cancelled = False

    @property
    def runs(self) -> int:
        return self.seeds_done * len(self.configs)

    @property
    def total_runs(self) -> int:
        return self.settings["seeds"] * len(self.configs)

    @property
    def finished(self) -> bool:
        return self.seeds_done == self.settings["seeds"]

    def work(self, budget: float) -> float:
        """Run seeds until ``budget`` units are spent (a seed is never split) or all are
        done; return the units spent."""
        s, spent = self.settings, 0.0
        while not self.finished and spent < budget:
            for label, policy in self.configs.items():
                outcome = run_to_decision(
                    self.seeds_done, latency=s["latency"], limit=self.limit,
                    timeout=s["timeout"], backoff_base=s["backoff_base"],
                    backoff_cap=s["backoff_cap"], **policy)
                self.outcomes[label].append(outcome)
                spent += run_cost(outcome)
            self.seeds_done += 1
        self.work_done += spent
        return spent

    def stats(self) -> dict:
        """label -> DecisionStats of the seeds done so far."""
        s = self.settings
        return {label: DecisionStats(label, dict(timeout=s["timeout"],
                                                 backoff_base=s["backoff_base"],
                                                 backoff_cap=s["backoff_cap"], **policy),
                                     list(self.outcomes[label]), self.limit)
                for label, policy in self.configs.items()}


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
        for name, value in (("timeout", timeout), ("base", base), ("cap", cap)):
            finite_time(name, value)               # the boxes take numbers only
        whole_number("seeds", seeds, 1, MAX_SEEDS)
        self.limit = finite_time("limit", limit)
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
        self.progress = widgets.IntProgress(min=0, max=1, description="runs")
        self.progress_text = widgets.HTML()
        self.stop_button = widgets.Button(description="stop", button_style="warning",
                                          tooltip="stop and show the runs done so far")
        self.stop_button.on_click(lambda _: self.stop())
        self.working = widgets.HBox([self.progress, self.progress_text, self.stop_button],
                                    layout={"display": "none"})
        for w in (self.timeout, self.backoff, self.base, self.cap, self.leader, self.seeds,
                  self.latency):
            w.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.backoff, self.base, self.cap]),
            widgets.HBox([self.timeout, self.leader, self.latency, self.seeds]),
            self.message, self.working, self.summary, self.plot])
        self.stats = None
        self.job = None
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
        finite_time("timeout", timeout)
        finite_time("backoff_base", self.base.value)
        finite_time("backoff_cap", self.cap.value)
        choice("backoff", self.backoff.value, BACKOFFS)
        choice("leader", self.leader.value, LEADERS)
        return dict(timeout=timeout, backoff=self.backoff.value,
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

    def configs(self, s) -> dict:
        """label -> policy: the chosen settings, and the plain duel to compare with."""
        configs = {self.label(s): dict(backoff=s["backoff"], leader=s["leader"])}
        if s["backoff"] != "none" or s["leader"]:
            configs = {BASELINE: dict(backoff="none", leader=None), **configs}
        return configs

    # ---- what the controls call ---------------------------------------------------------
    def update(self) -> bool:
        """Start the runs for the current settings (cancelling older ones), do up to NOW
        units of them, and redraw when done; on a bad value, say why and keep the last
        picture.  True if the settings were good."""
        try:
            s = self.settings()
        except ValueError as exc:
            self._say(exc)
            return False
        if self.job is not None:
            self.job.cancelled = True          # a newer change: the older work stops
        self.job = job = Job(s, self.configs(s), self.limit)
        self.message.value = ""
        self._advance(job, NOW)
        return True

    def stop(self) -> None:
        """The stop button: keep the runs done so far and show them."""
        job = self.job
        if job is None or job.finished or job.cancelled:
            return
        job.cancelled = True
        self.working.layout.display = "none"
        if job.seeds_done:
            self._draw(job)
        self.message.value = (f"<i>Stopped after {job.seeds_done} of {job.settings['seeds']} "
                              f"seeds; the picture shows those.</i>")

    def finish(self) -> None:
        """Do the rest of the pending work now (where no event loop runs it: a script, a
        test); nothing to do if it is finished or was cancelled."""
        job = self.job
        while job is not None and not job.finished and not job.cancelled:
            self._advance(job, CHUNK, schedule=False)

    @property
    def pending(self) -> bool:
        """Is work for the current settings still going on?"""
        return self.job is not None and not self.job.finished and not self.job.cancelled

    # ---- the work, a chunk at a time ----------------------------------------------------
    def _advance(self, job, budget, schedule=True) -> None:
        if job.cancelled or job is not self.job:
            return
        try:
            job.work(budget)
        except ValueError as exc:              # a run refused the settings
            job.cancelled = True
            self.working.layout.display = "none"
            self._say(exc)
            return
        if job.finished:
            self.working.layout.display = "none"
            self._draw(job)
            return
        self.progress.max, self.progress.value = job.total_runs, job.runs
        self.progress_text.value = (f"{job.runs:,} of {job.total_runs:,} runs (seed "
                                    f"{job.seeds_done} of {job.settings['seeds']})")
        self.working.layout.display = "flex"
        if schedule:
            self._later(job)

    def _later(self, job) -> None:
        """The next chunk, after the kernel has handled what came in meanwhile."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return                            # no event loop: finish() does the rest
        loop.call_soon(self._advance, job, CHUNK)

    def _draw(self, job) -> None:
        s = job.settings
        self.stats = stats = job.stats()
        self.summary.value = "<br>".join(html.escape(st.describe()) for st in stats.values()) + (
            f"<br><i>{job.seeds_done} seeds each, latency {html.escape(str(s['latency']))}, "
            f"timeout {s['timeout']:g}; a run that chose nothing by t={self.limit:g} counts "
            f"as undecided.</i>")
        self.plot.value = _img(decision_histograms(
            stats, title="Ballots and messages until a value is chosen"))

    def _say(self, exc) -> None:
        self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Backoff explorer: run this cell in Jupyter to use it."
        return bundle
