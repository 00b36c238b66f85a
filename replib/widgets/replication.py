"""Chapter 01's explorer: backups, latency, mode, failover and a fault (a crash or a
partition); latency plots, a diagram, and what the fault cost (lost and diverged writes).

Every control calls ``update()``, which re-runs the simulations from the seed and redraws;
an impossible combination (k larger than the number of backups, say) is reported in the
panel and the last good picture stays.
"""

from __future__ import annotations

import base64
import html
import statistics

import ipywidgets as widgets
import matplotlib.pyplot as plt

from ..experiments.sync_async import mode_label, write_latencies
from ..faults import crash, heal, partition
from ..history import diverged, lost_writes
from ..network import Network
from ..protocols.replication import replication_system
from ..sim import Simulation
from ..viz import space_time, to_png
from ..viz.lint import check_if_strict
from ..viz.charts import latency_distributions, percentile
from ..validate import MAX_MEASURED, choice, integer, whole_number
from .faults import LATENCIES, latency_model

MODES = ("async", "semi-sync", "sync")


def _img(fig) -> str:
    """The figure as an HTML image with its alt text; the figure is closed (a widget redraws
    often, and every open figure keeps its memory)."""
    try:
        check_if_strict(fig)
        png = base64.b64encode(to_png(fig)).decode("ascii")
    finally:
        plt.close(fig)
    alt = html.escape(fig.alt_text, quote=True)
    return f"<img src='data:image/png;base64,{png}' alt='{alt}' />"


FAULTS = ("nobody", "crash primary", "crash b1", "partition primary", "partition b1")
FAILOVER_CHOICES = {"none": None, "naive": "naive", "epochs": "epochs"}


class ReplicationExplorer:
    """Pick the number of backups, the latency, the mode, how a backup takes over, and a
    crash or a partition; see what it costs in latency and in lost or diverged writes."""

    def __init__(self, backups: int = 2, mode: str = "sync", k: int = 1,
                 latency: str = "long tail", writes: int = 100, seed: int = 0):
        whole_number("backups", backups, 1, 6)        # the sliders' ranges: they would clamp
        choice("mode", mode, MODES)
        whole_number("k", k, 1, 6)
        choice("latency", latency, LATENCIES)
        integer("seed", seed)
        self.writes = whole_number("writes", writes, 1, cap=MAX_MEASURED)
        self.backups = widgets.IntSlider(value=backups, min=1, max=6, description="backups",
                                         continuous_update=False)
        self.mode = widgets.Dropdown(options=MODES, value=mode, description="mode")
        self.k = widgets.IntSlider(value=k, min=1, max=6, description="k (semi-sync)",
                                   continuous_update=False)
        self.latency = widgets.Dropdown(options=list(LATENCIES), value=latency,
                                        description="latency")
        self.tail = widgets.FloatSlider(value=0.8, min=0.0, max=1.5, step=0.1,
                                        description="tail", continuous_update=False)
        self.fault = widgets.Dropdown(options=FAULTS, value="nobody", description="fault")
        self.fault_at = widgets.BoundedFloatText(value=6.0, min=0, max=1000, step=0.5,
                                                 description="at time")
        self.heal_at = widgets.BoundedFloatText(value=20.0, min=0, max=1000, step=0.5,
                                                description="heal at")
        self.failover = widgets.Dropdown(options=list(FAILOVER_CHOICES), value="epochs",
                                         description="failover")
        self.seed = widgets.IntText(value=seed, description="seed")
        self.summary = widgets.HTML()
        self.outcome = widgets.HTML()
        self.plot = widgets.HTML()
        self.diagram = widgets.HTML()
        self.message = widgets.HTML()
        for w in (self.backups, self.mode, self.k, self.latency, self.tail, self.fault,
                  self.fault_at, self.heal_at, self.failover, self.seed):
            w.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.backups, self.mode, self.k]),
            widgets.HBox([self.latency, self.tail, self.seed]),
            widgets.HBox([self.fault, self.fault_at, self.heal_at]),
            widgets.HBox([self.failover]),
            self.message, self.summary, self.plot, self.outcome, self.diagram])
        self.update()

    def settings(self) -> dict:
        mode = self.mode.value
        return dict(backups=self.backups.value, mode=mode,
                    k=self.k.value if mode == "semi-sync" else None,
                    latency=latency_model(self.latency.value, 1.0, self.tail.value),
                    seed=self.seed.value)

    def update(self) -> bool:
        """Re-run and redraw; on a bad combination, say why and keep the last pictures."""
        try:
            s = self.settings()
            samples = {}
            for mode in MODES:
                k = min(s["k"] or 1, s["backups"]) if mode == "semi-sync" else None
                if mode == s["mode"]:
                    k = s["k"]
                samples[mode_label(mode, k)] = write_latencies(
                    mode, s["backups"], k, s["latency"], self.writes, s["seed"])
            sim, trace = self.run_small(s)
        except ValueError as exc:
            self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"
            return False
        self.message.value = ""
        mine = samples[mode_label(s["mode"], s["k"])]
        self.summary.value = (
            f"<b>{html.escape(mode_label(s['mode'], s['k']))}</b> with {s['backups']} backup(s): "
            f"median write latency {statistics.median(mine):.2f}, 99th percentile "
            f"{percentile(mine, 99):.2f} ({len(mine)} writes, seed {s['seed']}). "
            f"Messages between replicas per write: "
            f"{'1' if s['mode'] == 'async' else '2'} per backup.")
        self.outcome.value = self._outcome(sim, trace)
        self.plot.value = _img(latency_distributions(
            samples, title=f"Write latency with {s['backups']} backup(s)"))
        self.diagram.value = _img(space_time(trace, title=self._diagram_title(s),
                                             hide_fields=() if self.failover.value == "epochs"
                                             else ("epoch",)))
        return True

    def run_small(self, s):
        """Six writes with the chosen fault and failover, to draw and to count losses."""
        if self.heal_at.value <= self.fault_at.value and self.fault.value.startswith("partition"):
            raise ValueError(f"heal at ({self.heal_at.value:g}) must come after the partition "
                             f"({self.fault_at.value:g})")
        failover = FAILOVER_CHOICES[self.failover.value]
        nodes = replication_system(s["backups"], s["mode"], s["k"], writes=6, think=0.5,
                                   failover=failover, client_timeout=8.0)
        if failover is not None:
            from ..experiments.partitions import staggered
            staggered(nodes)              # so that two backups do not split the votes forever
        kind, _, node = self.fault.value.partition(" ")
        at = self.fault_at.value
        if kind == "crash":
            faults = [crash(node, at=at)]
        elif kind == "partition":
            faults = [partition([node], at=at), heal(at=self.heal_at.value)]
        else:
            faults = []
        sim = Simulation(nodes, network=Network(s["latency"]), faults=faults, seed=s["seed"])
        return sim, sim.run(until=max(60.0, self.heal_at.value + 20))

    def _outcome(self, sim, trace) -> str:
        """What the small run lost or split: acknowledged writes that no surviving replica
        holds, replicas whose logs diverged, and who acted as primary."""
        replicas = [r for r in sim.nodes if r == "primary" or r.startswith("b")]
        survivors = {r: sim.nodes[r].log for r in replicas if r not in sim.crashed}
        lost = lost_writes(trace.history(), survivors)
        split = diverged({r: sim.nodes[r].log for r in replicas})
        primaries = [r for r in replicas if sim.nodes[r].role == "primary" and r not in sim.crashed]
        return (f"Six writes, {self.fault.value if self.fault.value != 'nobody' else 'no fault'}: "
                f"<b>{len(lost)}</b> acknowledged write(s) lost"
                f"{' (' + ', '.join(str(op.op[1]) for op in lost) + ')' if lost else ''}; "
                f"<b>{len(split)}</b> pair(s) of replicas with diverged logs; acting as "
                f"primary at the end: {', '.join(primaries) or 'nobody'}.")

    def _diagram_title(self, s):
        what = ("" if self.fault.value == "nobody"
                else f", {self.fault.value} at t={self.fault_at.value:g}")
        return f"{mode_label(s['mode'], s['k'])}: six writes{what}"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Replication explorer: run this cell in Jupyter to use it."
        return bundle
