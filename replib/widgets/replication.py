"""Chapter 01's explorer: backups, latency, mode and a crash; latency plots and a diagram.

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
from ..faults import crash
from ..network import Network
from ..protocols.replication import replication_system
from ..sim import Simulation
from ..viz import space_time, to_png
from ..viz.charts import latency_distributions, percentile
from ..validate import MAX_MEASURED, choice, integer, whole_number
from .faults import LATENCIES, latency_model

MODES = ("async", "semi-sync", "sync")


def _img(fig) -> str:
    """The figure as an HTML image with its alt text; the figure is closed (a widget redraws
    often, and every open figure keeps its memory)."""
    png = base64.b64encode(to_png(fig)).decode("ascii")
    alt = html.escape(fig.alt_text, quote=True)
    plt.close(fig)
    return f"<img src='data:image/png;base64,{png}' alt='{alt}' />"


class ReplicationExplorer:
    """Pick the number of backups, the latency, the mode and a crash; see what it costs."""

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
        self.crash_node = widgets.Dropdown(options=["nobody", "primary", "b1"], value="nobody",
                                           description="crash")
        self.crash_at = widgets.BoundedFloatText(value=6.0, min=0, max=1000, step=0.5,
                                                 description="at time")
        self.seed = widgets.IntText(value=seed, description="seed")
        self.summary = widgets.HTML()
        self.plot = widgets.HTML()
        self.diagram = widgets.HTML()
        self.message = widgets.HTML()
        for w in (self.backups, self.mode, self.k, self.latency, self.tail, self.crash_node,
                  self.crash_at, self.seed):
            w.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.backups, self.mode, self.k]),
            widgets.HBox([self.latency, self.tail, self.seed]),
            widgets.HBox([self.crash_node, self.crash_at]),
            self.message, self.summary, self.plot, self.diagram])
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
            trace = self.run_small(s)
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
        self.plot.value = _img(latency_distributions(
            samples, title=f"Write latency with {s['backups']} backup(s)"))
        self.diagram.value = _img(space_time(trace, title=self._diagram_title(s)))
        return True

    def run_small(self, s):
        """Four writes, with the chosen crash, to draw."""
        nodes = replication_system(s["backups"], s["mode"], s["k"], writes=4, think=0.5,
                                   failover="epochs" if self.crash_node.value == "primary" else None,
                                   client_timeout=8.0)
        faults = [] if self.crash_node.value == "nobody" else [
            crash(self.crash_node.value, at=self.crash_at.value)]
        return Simulation(nodes, network=Network(s["latency"]), faults=faults,
                          seed=s["seed"]).run(until=60)

    def _diagram_title(self, s):
        what = "" if self.crash_node.value == "nobody" else \
            f", {self.crash_node.value} crashes at t={self.crash_at.value:g}"
        return f"{mode_label(s['mode'], s['k'])}: four writes{what}"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Replication explorer: run this cell in Jupyter to use it."
        return bundle
