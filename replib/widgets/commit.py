"""The atomic commit explorer: pick 2PC, 3PC or Paxos Commit, crash the coordinator at a
chosen point, let it recover or not, cut one participant off for a while, turn 2PC's
cooperative termination on or off, and see who stays in doubt.

Every control calls ``update()``, which re-runs the transaction from the seed and redraws
a one-line summary, the space-time diagram and a timeline of each participant's doubt; an
impossible combination (recovering before the crash, say) is reported in the panel and the
last good pictures stay.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..experiments.atomic_commit import (CRASH_POINTS, PROTOCOLS, commit_with_crash,
                                         doubt_durations, outcome_text)
from ..protocols.twopc import doubt_intervals, final_outcomes, participant_ids
from ..viz import space_time
from ..viz.charts import timeline
from .faults import LATENCIES, latency_model
from ..validate import boolean, choice, integer, number
from .replication import _img

UNTIL = 40.0    # how long a run lasts, or 20 past the last time the reader picked
LATEST = 60.0   # the latest time a box takes (recovery, partition), to keep the update quick
LABELS = {"2pc": "2PC", "3pc": "3PC", "paxos commit": "Paxos Commit"}
NOBODY = "nobody"
TWO_PC_ONLY = ("<i>2PC only: in 3PC a participant decides on its timeout, in Paxos Commit "
               "the standby leader coord2 takes over</i>")
# what a coordinator has on disk for the transaction, in words; 3PC logs "precommit" first
DECIDED = {None: "none", "precommit": "none yet (pre-commit logged)", "commit": "commit",
           "abort": "abort"}


class CommitExplorer:
    """One atomic commit transaction; pick the protocol, where the coordinator crashes,
    what happens next and whether a participant is cut off for a while.

    Links take 1 time unit by default (the numbers of ``crash_point_table``); with another
    ``latency`` model the seed picks the delays.  cut_off: None, or (participant, from, to),
    e.g. ``("p2", 1.5, 20)``."""

    def __init__(self, participants: int = 3, point: str = "after all votes",
                 recover: bool = True, recover_at: float = 20.0, termination: bool = False,
                 seed: int = 0, latency: str = "constant", protocol: str = "2pc",
                 cut_off: tuple | None = None):
        if point not in CRASH_POINTS:
            raise ValueError(f"unknown crash point {point!r}; choose one of: "
                             f"{', '.join(CRASH_POINTS)}")
        if isinstance(participants, bool) or participants not in range(2, 6):
            raise ValueError(f"participants must be 2 to 5 here, got {participants!r}")
        boolean("recover", recover)
        number("recover_at", recover_at, 0, LATEST)      # the box would clamp it silently
        boolean("termination", termination)
        integer("seed", seed)
        choice("latency", latency, LATENCIES)
        choice("protocol", protocol, PROTOCOLS)
        if termination and protocol != "2pc":
            raise ValueError(f"termination (cooperative termination) is part of 2PC only; "
                             f"leave it False with protocol={protocol!r}")
        if cut_off is not None and not (isinstance(cut_off, (tuple, list)) and len(cut_off) == 3):
            raise ValueError(f"cut_off must be None or (participant, from, to), such as "
                             f"('p2', 1.5, 20), got {cut_off!r}")
        who, start, end = cut_off or (NOBODY, 1.5, 20.0)
        if cut_off is not None:
            choice("cut_off participant", who, participant_ids(participants))
        self._syncing = False
        self.protocol = widgets.Dropdown(options=[(v, k) for k, v in LABELS.items()],
                                         value=protocol, description="protocol")
        self.participants = widgets.IntSlider(value=participants, min=2, max=5,
                                              description="participants",
                                              continuous_update=False)
        self.point = widgets.Dropdown(options=CRASH_POINTS, value=point,
                                      description="crash point", layout={"width": "22em"})
        self.recover = widgets.Checkbox(value=recover, description="coordinator recovers")
        self.recover_at = widgets.BoundedFloatText(value=recover_at, min=0, max=LATEST, step=1,
                                                   description="at time")
        self.termination = widgets.Checkbox(value=termination,
                                            description="cooperative termination")
        self.termination_note = widgets.HTML()
        # plain boxes, not bounded ones: a bad time is explained, not clamped silently
        self.cut_off = widgets.Dropdown(options=[NOBODY, *participant_ids(participants)],
                                        value=who, description="cut off")
        self.cut_from = widgets.FloatText(value=start, step=0.5, description="from time")
        self.cut_to = widgets.FloatText(value=end, step=1, description="to time")
        self.latency = widgets.Dropdown(options=list(LATENCIES), value=latency,
                                        description="latency")
        self.seed = widgets.IntText(value=seed, description="seed")
        self.summary = widgets.HTML()
        self.diagram = widgets.HTML()
        self.chart = widgets.HTML()
        self.message = widgets.HTML()
        for w in (self.protocol, self.participants, self.point, self.recover, self.recover_at,
                  self.termination, self.cut_off, self.cut_from, self.cut_to, self.latency,
                  self.seed):
            w.observe(self._changed, names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.protocol, self.participants, self.point]),
            widgets.HBox([self.recover, self.recover_at]),
            widgets.HBox([self.termination, self.termination_note]),
            widgets.HBox([self.cut_off, self.cut_from, self.cut_to]),
            widgets.HBox([self.latency, self.seed]),
            self.message, self.summary, self.diagram, self.chart])
        self.settings()         # a bad partition in the arguments is a ValueError here
        self.update()

    def settings(self) -> dict:
        """The arguments of ``commit_with_crash`` the controls stand for; ValueError if the
        partition's times make no sense."""
        recover_at = self.recover_at.value if self.recover.value else None
        crashes = self.point.value != "no crash"
        cut_off = _partition(self.cut_off.value, self.cut_from.value, self.cut_to.value)
        if cut_off and crashes and recover_at is not None and \
                cut_off[1] <= recover_at < cut_off[2]:
            # the recovery heals every link, so the partition would silently end early
            raise ValueError(f"the coordinator recovers at t={recover_at:g}, which heals "
                             f"every link, while {cut_off[0]} is still cut off (until "
                             f"t={cut_off[2]:g}); end the partition by then or start it "
                             f"later")
        latest = max(recover_at or 0.0, cut_off[2] if cut_off else 0.0)
        return dict(protocol=self.protocol.value, point=self.point.value,
                    participants=self.participants.value, recover_at=recover_at,
                    termination=self.termination.value and self.protocol.value == "2pc",
                    cut_off=cut_off, latency=latency_model(self.latency.value, 1.0),
                    seed=self.seed.value, until=max(UNTIL, latest + 20.0))

    def _changed(self, _):
        """Any control: re-run, unless _sync_controls is only refitting the cut-off list."""
        if not self._syncing:
            self.update()

    def _sync_controls(self):
        """Fit the controls to the protocol and the participants; changing the cut-off
        options here must not re-run (update() is already running)."""
        two_pc = self.protocol.value == "2pc"
        self.termination.disabled = not two_pc
        self.termination_note.value = "" if two_pc else TWO_PC_ONLY
        ids = [NOBODY, *participant_ids(self.participants.value)]
        if list(self.cut_off.options) != ids:
            keep = self.cut_off.value if self.cut_off.value in ids else NOBODY
            self._syncing = True
            try:
                self.cut_off.options = ids          # (this resets the value to the first)
                self.cut_off.value = keep
            finally:
                self._syncing = False

    def update(self) -> bool:
        """Re-run and redraw; on a bad combination, say why and keep the last pictures."""
        self._sync_controls()
        try:
            s = self.settings()
            sim = commit_with_crash(**s)
        except ValueError as exc:
            self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"
            return False
        self.message.value = ""
        outcomes, spans = final_outcomes(sim), doubt_intervals(sim.trace)
        self.summary.value = self._summary(s, outcomes, doubt_durations(sim, s["until"]),
                                           _decisions(sim))
        diagram = space_time(sim.trace, title=self._title(s))
        diagram.alt_text = f"{self._title(s)}. {diagram.alt_text}"
        self.diagram.value = _img(diagram)
        self.chart.value = _img(timeline({p: spans.get(p) for p in outcomes}, s["until"],
                                         title="When each participant was in doubt"))
        return True

    @staticmethod
    def _title(s) -> str:
        title = f"{LABELS[s['protocol']]}: "
        if s["point"] == "no crash":
            title += "no crash"
        else:
            back = ("stays down" if s["recover_at"] is None
                    else f"recovers at t={s['recover_at']:g}")
            title += f"the coordinator crashes {s['point']} and {back}"
        if s["cut_off"]:
            who, start, end = s["cut_off"]
            title += f"; {who} cut off from t={start:g} to t={end:g}"
        return title

    @staticmethod
    def _summary(s, outcomes, doubt, decisions) -> str:
        """2PC's coordinator decides what the participants learn, so only 3PC and Paxos
        Commit show the coordinators' decisions: there they can differ."""
        stuck = [p for p, o in outcomes.items() if o == "in doubt"]
        longest = max(doubt.values())
        who = ", ".join(p for p, d in doubt.items() if d == longest)
        still = (f"still in doubt at t={s['until']:g}: {', '.join(stuck)}" if stuck
                 else "nobody is in doubt at the end")
        worst = (f"longest doubt {round(longest, 2):g} ({who})" if longest > 0
                 else "nobody was ever in doubt")
        decided = "" if s["protocol"] == "2pc" else "; " + ", ".join(
            f"{c}'s decision: {DECIDED[d]}" for c, d in decisions.items())
        return (f"<b>Outcome: {html.escape(outcome_text(outcomes))}</b>{decided}; {still}; "
                f"{worst}.")

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Two-phase commit explorer: run this cell in Jupyter to use it."
        return bundle


def _partition(who, start, end):
    """``cut_off`` for commit_with_crash: None for nobody, else (who, start, end), with times
    checked here so that a bad box shows why (and to at most LATEST, to keep runs short)."""
    if who == NOBODY:
        return None
    number("the partition's start (from time)", start, 0, LATEST)
    number("the partition's end (to time)", end, 0, LATEST)
    if end <= start:
        raise ValueError(f"the partition must end after it starts, got from t={start:g} "
                         f"to t={end:g}")
    return (who, float(start), float(end))


def _decisions(sim) -> dict:
    """Coordinator (coord, and Paxos Commit's coord2) -> what it has on disk for the
    transaction (None: nothing yet)."""
    return {n.id: n.decisions.get(1) for n in sim.nodes.values() if hasattr(n, "decisions")}
