"""Chapter 09's explorer, Paxos in practice: a leader's reads after a partition (how it reads,
the lease's length, r1's clock drifting), a replica that lost its disk, and a membership
change.

A ``scenario`` dropdown picks one of the three; only that scenario's controls show.  Every
control calls ``update()``, which re-runs the scenario (a short run, well under a second)
and redraws a summary and the pictures; a value that makes no sense (a negative lease, a
clock that stands still) is reported in the panel and the last good pictures stay.
"""

from __future__ import annotations

import html
from functools import lru_cache

import ipywidgets as widgets

from .. import history
from ..experiments.lost_disk import lost_disk_run
from ..experiments.reads import READS, read_after_partition
from ..faults import clock
from ..protocols.membership import (ADMIN, change_run, change_slot, members_of,
                                    naive_change_check, slot_agreement)
from ..protocols.multipaxos import NOOP, slot_disagreements
from ..validate import boolean, choice, integer, number, whole_number
from ..viz import space_time
from .replication import _img

READS_SCENARIO = "reads after a partition"
LOST_DISK = "a lost disk"
MEMBERSHIP = "a membership change"
SCENARIOS = (READS_SCENARIO, LOST_DISK, MEMBERSHIP)
REJOINS = {"as if new": "plain", "after recovering from a majority": "recovering",
           "recovering after every restart": "always"}
DISKS = {"an empty disk": "wiped", "a stale copy": "stale"}

# keyword -> (the box's name in the panel, lowest, highest): one table for the constructor's
# keywords and the boxes, so both refuse the same values; the highs keep every run short
LIMITS = {"lease": ("the lease length", 1.0, 60.0),
          "r1_clock_rate": ("r1's clock rate", 0.1, 4.0),
          "drift": ("every clock's drift", 0.0, 0.5),
          "read_at": ("c3's read time", 1.0, 50.0),
          "r1_back_at": ("the time r1 comes back", 5.0, 50.0)}   # r1 crashes at t=4
CLOCK_FROM = 6.0        # r1's clock changes rate as the partition starts
HEAL_AT = 40.0          # read_after_partition's partition heals here
PAST = 20.0             # a run lasts this long past the last time the reader picked
ALPHAS = (1, 3)
CHANGE_UNTIL = 80.0     # the membership change's run (an update takes about 0.3 s)
FIVE = ("r1", "r2", "r3", "r4", "r5")    # the membership change's replicas, old and new
WIDE = {"description_width": "initial"}


class PracticeExplorer:
    """Paxos in practice, one scenario at a time: reads after a partition, a lost disk or a
    membership change.

    reads: "log", "local", "read index" or "lease"; lease: the lease's length; r1_clock_rate:
    how fast r1's clock runs from t=6 (1: true time); drift: every clock's rate drawn within
    1 +- drift (the lease assumes 1 %); read_at: when c3 reads from r1.
    disk: what r2 comes back with at t=6 ("an empty disk" or "a stale copy" restored from a
    backup taken at t=0.5); rejoin: how r2 rejoins ("as if new", "after recovering from a
    majority" when its disk is empty, or "recovering after every restart"); r1_back_at:
    when r1 comes back.  seed, alpha (1 to 3) and r1_crashes (at 3,
    back at 12) for the membership change."""

    def __init__(self, scenario: str = READS_SCENARIO, reads: str = "local",
                 lease: float = 20.0, r1_clock_rate: float = 1.0, read_at: float = 34.0,
                 rejoin: str = "as if new", r1_back_at: float = 30.0, seed: int = 0,
                 alpha: int = 1, r1_crashes: bool = True, drift: float = 0.0,
                 disk: str = "an empty disk"):
        choice("scenario", scenario, SCENARIOS)
        choice("reads", reads, tuple(READS))
        choice("rejoin", rejoin, tuple(REJOINS))
        choice("disk", disk, tuple(DISKS))
        for keyword, value in (("lease", lease), ("r1_clock_rate", r1_clock_rate),
                               ("drift", drift),
                               ("read_at", read_at), ("r1_back_at", r1_back_at)):
            number(keyword, value, *LIMITS[keyword][1:])
        integer("seed", seed)
        whole_number("alpha", alpha, *ALPHAS)
        boolean("r1_crashes", r1_crashes)
        self.scenario = widgets.Dropdown(options=SCENARIOS, value=scenario,
                                         description="scenario", layout={"width": "24em"})
        # plain boxes, not bounded ones: a bad value is explained, not clamped silently
        self.reads = widgets.Dropdown(options=list(READS), value=reads, description="reads")
        self.lease = widgets.FloatText(value=lease, step=1, description="lease length",
                                       style=WIDE)
        self.r1_clock_rate = widgets.FloatText(value=r1_clock_rate, step=0.05, style=WIDE,
                                               description=f"r1's clock rate from "
                                                           f"t={CLOCK_FROM:g}")
        self.read_at = widgets.FloatText(value=read_at, step=1, description="c3 reads at t=",
                                         style=WIDE)
        self.drift = widgets.FloatText(value=drift, step=0.01, style=WIDE,
                                       description="every clock's drift (the lease assumes 0.01)")
        self.rejoin = widgets.Dropdown(options=list(REJOINS), value=rejoin, style=WIDE,
                                       description="r2 rejoins", layout={"width": "26em"})
        self.disk = widgets.Dropdown(options=list(DISKS), value=disk, style=WIDE,
                                     description="r2 comes back with", layout={"width": "22em"})
        self.r1_back_at = widgets.FloatText(value=r1_back_at, step=1, style=WIDE,
                                            description="r1 comes back at t=")
        self.seed = widgets.IntText(value=seed, description="seed")
        self.alpha = widgets.IntSlider(value=alpha, min=ALPHAS[0], max=ALPHAS[1],
                                       description="alpha", continuous_update=False)
        self.r1_crashes = widgets.Checkbox(value=r1_crashes,
                                           description="r1 crashes at t=3, back at t=12")
        self.naive_button = widgets.Button(description="checker: naive change",
                                           layout={"width": "14em"})
        self.naive_button.on_click(lambda _: self.show_naive_change())
        self.checker = widgets.HTML()
        self.message = widgets.HTML()
        self.summary = widgets.HTML()
        self.diagram = widgets.HTML()
        self.history = widgets.HTML()
        for w in (self.scenario, self.reads, self.lease, self.r1_clock_rate, self.drift,
                  self.read_at,
                  self.disk, self.rejoin, self.r1_back_at, self.seed, self.alpha, self.r1_crashes):
            w.observe(lambda _: self.update(), names="value")
        self.sections = {
            READS_SCENARIO: widgets.VBox([widgets.HBox([self.reads, self.lease]),
                                          widgets.HBox([self.r1_clock_rate, self.read_at]),
                                          self.drift]),
            LOST_DISK: widgets.VBox([widgets.HBox([self.disk, self.rejoin]), self.r1_back_at]),
            MEMBERSHIP: widgets.VBox([widgets.HBox([self.seed, self.alpha, self.r1_crashes]),
                                      self.naive_button, self.checker])}
        self._runs = {READS_SCENARIO: self._reads_run, LOST_DISK: self._lost_disk_run,
                      MEMBERSHIP: self._membership_run}
        self.widget = widgets.VBox([self.scenario, *self.sections.values(), self.message,
                                    self.summary, self.diagram, self.history])
        self.update()

    def _box(self, keyword) -> float:
        """A box's value, refused with its name in the panel if out of range."""
        words, low, high = LIMITS[keyword]
        return float(number(words, getattr(self, keyword).value, low, high))

    def _show_controls(self):
        """Only the chosen scenario's controls (and the history only for reads); the lease
        length is greyed out unless the reads use a lease."""
        for name, box in self.sections.items():
            box.layout.display = "flex" if name == self.scenario.value else "none"
        self.history.layout.display = ("flex" if self.scenario.value == READS_SCENARIO
                                       else "none")
        self.lease.disabled = self.reads.value != "lease"

    def update(self) -> bool:
        """Re-run the chosen scenario and redraw; on a bad value, say why and keep the last
        pictures."""
        self._show_controls()
        try:
            summary, pictures = self._runs[self.scenario.value]()
        except ValueError as exc:
            self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"
            return False
        self.message.value = ""
        self.summary.value = summary
        for shown, fig in zip((self.diagram, self.history), pictures):
            shown.value = _img(fig)
        return True

    # ---- the three scenarios: each returns (summary, [figure, ...]) ------------------------

    def _reads_run(self):
        """A deposed leader r1 answers c3's read; stale unless its way of reading stops it."""
        reads = self.reads.value
        lease = self._box("lease") if reads == "lease" else None     # (greyed out otherwise)
        rate, read_at = self._box("r1_clock_rate"), self._box("read_at")
        drift = self._box("drift")
        faults = [clock("r1", rate=rate, at=CLOCK_FROM)] if rate != 1 else []
        until = max(60.0, read_at + PAST)
        run = read_after_partition(reads, faults, drift=drift, lease=lease, read_at=read_at,
                                   until=until)
        read, write = run.read, run.write
        if read.response is None:
            got = f"<b>c3's read got no answer</b> by t={until:g}"
        elif read.result is None:
            got = f"<b>c3's read returned nothing</b> (x not written yet) at t={read.response:g}"
        else:
            got = (f"<b>c3's read returned {html.escape(repr(read.result), quote=False)}</b> "
                   f"at t={read.response:g}")
        acked = (f"c2's write of 'b' was acknowledged at t={write.response:g}"
                 if write.response is not None
                 else f"c2's write of 'b' was not acknowledged by t={until:g}")
        verdict = "linearizable" if run.verdict else "not linearizable"
        stale = ("a <b>stale read</b>: 'a' after 'b' was acknowledged" if run.stale
                 else "not a stale read")
        summary = (f"{got}, asked of r1 at t={read_at:g}; {acked}; the history is "
                   f"<b>{verdict}</b>; {stale}.")
        title = f"{reads} reads" + (f", a lease of {lease:g}" if reads == "lease" else "")
        if rate != 1:
            title += f", r1's clock at {rate:g} from t={CLOCK_FROM:g}"
        end = max(HEAL_AT, read.response or until, write.response or 0.0) + 2.0
        return summary, [_diagram(run.sim, title, time_range=(0, end)),
                         history.draw(run.verdict, title=f"The clients' history: {verdict}")]

    def _lost_disk_run(self):
        """r2 loses its disk at t=6 (or gets a stale copy); rejoining as if new lets "b"
        overwrite a chosen "a"."""
        rejoin, back, disk = self.rejoin.value, self._box("r1_back_at"), self.disk.value
        sim = lost_disk_run(REJOINS[rejoin], r1_back_at=back, until=back + PAST + 10.0,
                            disk=DISKS[disk])
        logs = "; ".join(f"{r}'s log: {_values(sim.nodes[r].log)}" for r in ("r1", "r2", "r3"))
        acked = [op.op[2] for op in sim.trace.history() if op.response is not None]
        split = slot_disagreements(sim)
        where = "".join(f" (slot {slot}: " + ", ".join(f"{r} {_values([c])}"
                                                        for r, c in who.items()) + ")"
                        for slot, who in split)
        summary = (f"{logs}; acknowledged writes: {', '.join(acked) or 'none'}; "
                   f"<b>{_count(len(split), 'slot')} in disagreement</b>{where}.")
        stuck = [r for r in ("r1", "r2", "r3") if getattr(sim.nodes[r], "recovering", False)]
        if stuck:
            summary += (f" Still recovering at t={sim.now:g}: {', '.join(stuck)} (a recovering "
                        f"replica answers nobody).")
        lost = "loses its disk" if DISKS[disk] == "wiped" else "gets a stale copy of its disk"
        title = f"r2 {lost} at t=6 and rejoins {rejoin}; r1 comes back at t={back:g}"
        return summary, [_diagram(sim, title)]

    def _membership_run(self):
        """The change from r1..r3 to r1..r5 with Lamport's alpha window, r1 crashing or not."""
        seed, alpha = integer("seed", self.seed.value), self.alpha.value
        faults = None if self.r1_crashes.value else []
        sim = change_run(seed, alpha, faults=faults, record_states=True, until=CHANGE_UNTIL)
        slot, ops = change_slot(sim), sim.trace.history()
        change = next(op for op in ops if op.client == ADMIN)
        writes = [op for op in ops if op.client != ADMIN]
        answered = sum(op.response is not None for op in writes)
        entry = ("<b>no configuration entry was applied</b>" if slot is None else
                 f"<b>the configuration entry (r1..r5) was applied in slot {slot}</b>")
        if change.response is not None:
            entry += f", acknowledged to {ADMIN} at t={round(change.response, 1):g}"
        lengths = ", ".join(str(len(sim.nodes[r].log)) for r in FIVE)
        agreement = ("slot agreement holds" if slot_agreement(sim)
                     else "<b>slot agreement is broken</b>")
        summary = (f"{entry}; {agreement} (r1..r5 applied {lengths} slots); c1's writes "
                   f"answered: {answered} of {len(writes)}.")
        crash = "r1 crashes at t=3, back at t=12" if faults is None else "no crash"
        title = f"Membership change r1..r3 -> r1..r5, alpha={alpha}, seed {seed}, {crash}"
        # up to the last answer (the rest is heartbeats), or all of it if one never came
        end = (CHANGE_UNTIL if any(op.response is None for op in ops)
               else max(20.0, max(op.response for op in ops) + 3.0))
        return summary, [_diagram(sim, title, time_range=(0, end))]

    def show_naive_change(self) -> str:
        """The checker's counterexample to the naive change (``AtOnce``): how long it is, and
        its diagram, under the button (computed once, then kept)."""
        self.checker.value = _naive_change()
        return self.checker.value

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Paxos in practice explorer: run this cell in Jupyter to use it."
        return bundle


@lru_cache(maxsize=1)
def _naive_change() -> str:
    """The same every time (the checker is deterministic), so it is searched for once."""
    result = naive_change_check()
    path = result.violation.path
    text = (f"<b>The checker, naive change (a replica uses a new configuration as soon as it "
            f"sees it): {result.violation.name} broken</b> after {len(path)} steps "
            f"({result.states:,} states explored): two commands decided in one slot.")
    title = "Naive change: a deposed leader and the new one decide one slot differently"
    return f"{text}<br>{_img(_diagram(path.trace(), title))}"


def _diagram(run, title, **options):
    """The space-time diagram of a run, its title leading its alt text."""
    fig = space_time(run, title=title, **options)
    fig.alt_text = f"{title}. {fig.alt_text}"
    return fig


def _values(log) -> str:
    """A log as the values its commands write (noop, config r1..r5), or "empty"."""
    def value(c):
        if c == NOOP:
            return "noop"
        members = members_of(c)
        return f"config {members[0]}..{members[-1]}" if members else str(c[2][2])
    return ", ".join(value(c) for c in log) or "empty"


def _count(n, word) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
