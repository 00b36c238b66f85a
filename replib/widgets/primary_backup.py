"""Chapter 02's explorer: primary/backup under a partition, with the three kinds of failover
side by side in one control; the split-brain and lost-write checks run on every change.

Every control calls ``update()``, which re-runs the simulation from the seed and redraws;
an impossible choice (a heal before the partition) is reported in the panel and the last
good picture stays.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..faults import heal, partition
from ..history import diverged, linearizable, lost_writes
from ..protocols.replication import primaries_by_epoch, replication_system
from ..sim import Simulation
from ..viz import space_time
from .replication import _img

SIDES = {"b1 and c2 cut off": (["primary", "b2", "c1"], ["b1", "c2"]),
         "primary and c1 cut off": (["primary", "c1"], ["b1", "b2", "c2"]),
         "b2 cut off": (["primary", "b1", "c1", "c2"], ["b2"])}
FAILOVERS = {"naive": "naive", "epochs": "epochs", "epochs + pre-vote": "prevote"}
REPLICAS = ("primary", "b1", "b2")


class PrimaryBackupExplorer:
    """Pick the mode, the failover, which side a partition cuts off and when; see who acts as
    primary, whether the logs diverge, and whether acknowledged writes are lost."""

    def __init__(self, mode: str = "async", failover: str = "naive",
                 side: str = "b1 and c2 cut off", start: float = 3.0, end: float = 9.0,
                 seed: int = 2):
        self.mode = widgets.Dropdown(options=["async", "sync"], value=mode, description="mode")
        self.failover = widgets.Dropdown(options=list(FAILOVERS), value=failover,
                                         description="failover")
        self.side = widgets.Dropdown(options=list(SIDES), value=side, description="partition",
                                     layout=widgets.Layout(width="300px"))
        self.start = widgets.BoundedFloatText(value=start, min=0, max=100, step=0.5,
                                              description="from t")
        self.end = widgets.BoundedFloatText(value=end, min=0, max=100, step=0.5,
                                            description="heal at t")
        self.seed = widgets.IntText(value=seed, description="seed")
        self.message = widgets.HTML()
        self.outcome = widgets.HTML()
        self.diagram = widgets.HTML()
        for w in (self.mode, self.failover, self.side, self.start, self.end, self.seed):
            w.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.mode, self.failover, self.side]),
            widgets.HBox([self.start, self.end, self.seed]),
            self.message, self.outcome, self.diagram])
        self.update()

    def run(self):
        """The run the panel shows: two clients writing six values each."""
        if self.end.value <= self.start.value:
            raise ValueError(f"the heal (t={self.end.value:g}) must come after the partition "
                             f"starts (t={self.start.value:g})")
        nodes = replication_system(2, self.mode.value, failover=FAILOVERS[self.failover.value],
                                   clients=2, writes=6, client_timeout=3)
        faults = [partition(*SIDES[self.side.value], at=self.start.value),
                  heal(at=self.end.value)]
        sim = Simulation(nodes, faults=faults, seed=self.seed.value)
        return sim, sim.run(until=self.end.value + 20)

    def update(self) -> bool:
        try:
            sim, trace = self.run()
        except ValueError as exc:
            self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"
            return False
        self.message.value = ""
        self.outcome.value = outcome_text(sim, trace)
        self.diagram.value = _img(space_time(
            trace, title=f"{self.mode.value}, {self.failover.value}, {self.side.value} from "
                         f"t={self.start.value:g} to {self.end.value:g}"))
        return True

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Primary/backup explorer: run this cell in Jupyter to use it."
        return bundle


def outcome_text(sim, trace) -> str:
    """The checks of chapter 02 on one run: two primaries in one epoch (split brain), who
    acts as primary at the end, diverged logs, acknowledged writes lost, linearizability."""
    by_epoch = {e: sorted(p) for e, p in sorted(primaries_by_epoch(trace).items())}
    doubled = {e: p for e, p in by_epoch.items() if len(p) > 1}
    acting = [r for r in REPLICAS if sim.nodes[r].role == "primary"]
    logs = {r: sim.nodes[r].log for r in REPLICAS}
    lost = lost_writes(trace.history(), logs)
    verdict = linearizable(trace.history())
    return (f"Primaries by epoch: {by_epoch}"
            f"{' (<b>split brain</b>: ' + str(doubled) + ')' if doubled else ''}; acting as "
            f"primary at the end: {', '.join(acting) or 'nobody'}.<br>"
            f"Diverged logs: {diverged(logs) or 'none'}; acknowledged writes on no replica: "
            f"{[op.op for op in lost] or 'none'}; client history "
            f"{'linearizable' if verdict.ok else '<b>not linearizable</b>'}.")
