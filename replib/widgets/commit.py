"""The two-phase commit explorer: crash the coordinator at a chosen point, let it recover
or not, turn the cooperative termination protocol on or off, and see who stays in doubt.

Every control calls ``update()``, which re-runs the transaction from the seed and redraws
a one-line summary, the space-time diagram and a timeline of each participant's doubt; an
impossible combination (recovering before the crash, say) is reported in the panel and the
last good pictures stay.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..experiments.atomic_commit import CRASH_POINTS, commit_with_crash, doubt_durations, outcome_text
from ..protocols.twopc import doubt_intervals, final_outcomes
from ..viz import space_time
from ..viz.charts import timeline
from .faults import LATENCIES, latency_model
from ..validate import boolean, choice, integer, number
from .replication import _img

UNTIL = 40.0    # how long a run lasts; recovering at t (at most 60, to keep the update quick)
                # runs it until t + 20


class CommitExplorer:
    """One 2PC transaction; pick where the coordinator crashes and what happens next.

    Links take 1 time unit by default (the numbers of ``crash_point_table``); with another
    ``latency`` model the seed picks the delays."""

    def __init__(self, participants: int = 3, point: str = "after all votes",
                 recover: bool = True, recover_at: float = 20.0, termination: bool = False,
                 seed: int = 0, latency: str = "constant"):
        if point not in CRASH_POINTS:
            raise ValueError(f"unknown crash point {point!r}; choose one of: "
                             f"{', '.join(CRASH_POINTS)}")
        if isinstance(participants, bool) or participants not in range(2, 6):
            raise ValueError(f"participants must be 2 to 5 here, got {participants!r}")
        boolean("recover", recover)
        number("recover_at", recover_at, 0, 60)      # the box would clamp it silently
        boolean("termination", termination)
        integer("seed", seed)
        choice("latency", latency, LATENCIES)
        self.participants = widgets.IntSlider(value=participants, min=2, max=5,
                                              description="participants",
                                              continuous_update=False)
        self.point = widgets.Dropdown(options=CRASH_POINTS, value=point,
                                      description="crash point", layout={"width": "22em"})
        self.recover = widgets.Checkbox(value=recover, description="coordinator recovers")
        self.recover_at = widgets.BoundedFloatText(value=recover_at, min=0, max=60, step=1,
                                                   description="at time")
        self.termination = widgets.Checkbox(value=termination,
                                            description="cooperative termination")
        self.latency = widgets.Dropdown(options=list(LATENCIES), value=latency,
                                        description="latency")
        self.seed = widgets.IntText(value=seed, description="seed")
        self.summary = widgets.HTML()
        self.diagram = widgets.HTML()
        self.chart = widgets.HTML()
        self.message = widgets.HTML()
        for w in (self.participants, self.point, self.recover, self.recover_at,
                  self.termination, self.latency, self.seed):
            w.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.participants, self.point]),
            widgets.HBox([self.recover, self.recover_at, self.termination]),
            widgets.HBox([self.latency, self.seed]),
            self.message, self.summary, self.diagram, self.chart])
        self.update()

    def settings(self) -> dict:
        recover_at = self.recover_at.value if self.recover.value else None
        until = UNTIL if recover_at is None else max(UNTIL, recover_at + 20.0)
        return dict(point=self.point.value, participants=self.participants.value,
                    recover_at=recover_at, termination=self.termination.value,
                    latency=latency_model(self.latency.value, 1.0), seed=self.seed.value,
                    until=until)

    def update(self) -> bool:
        """Re-run and redraw; on a bad combination, say why and keep the last pictures."""
        try:
            s = self.settings()
            sim = commit_with_crash(**s)
        except ValueError as exc:
            self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"
            return False
        self.message.value = ""
        outcomes, spans = final_outcomes(sim), doubt_intervals(sim.trace)
        self.summary.value = self._summary(s, outcomes, doubt_durations(sim, s["until"]))
        diagram = space_time(sim.trace, title=self._title(s))
        diagram.alt_text = f"{self._title(s)}. {diagram.alt_text}"
        self.diagram.value = _img(diagram)
        self.chart.value = _img(timeline({p: spans.get(p) for p in outcomes}, s["until"],
                                         title="When each participant was in doubt"))
        return True

    @staticmethod
    def _title(s) -> str:
        if s["point"] == "no crash":
            return "2PC: no crash"
        back = ("stays down" if s["recover_at"] is None
                else f"recovers at t={s['recover_at']:g}")
        return f"2PC: the coordinator crashes {s['point']} and {back}"

    @staticmethod
    def _summary(s, outcomes, doubt) -> str:
        stuck = [p for p, o in outcomes.items() if o == "in doubt"]
        longest = max(doubt.values())
        who = ", ".join(p for p, d in doubt.items() if d == longest)
        still = (f"still in doubt at t={s['until']:g}: {', '.join(stuck)}" if stuck
                 else "nobody is in doubt at the end")
        worst = (f"longest doubt {round(longest, 2):g} ({who})" if longest > 0
                 else "nobody was ever in doubt")
        return f"<b>Outcome: {html.escape(outcome_text(outcomes))}</b>; {still}; {worst}."

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Two-phase commit explorer: run this cell in Jupyter to use it."
        return bundle
