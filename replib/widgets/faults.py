"""The fault panel: crash and restart nodes, partition and heal, set loss and latency,
and watch the re-run simulation in a trace player.

The panel keeps a fault schedule (what happens at which time) plus network settings; any
change re-runs the whole simulation from the same seed, so what you see is always one
complete, reproducible run.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..faults import Fault, crash, cut, heal, partition, restart
from ..network import Constant, LongTail, Network, Uniform
from ..sim import Simulation, check_nodes
from ..validate import choice, finite_time, integer, number
from .player import TracePlayer

LATENCIES = {"constant": Constant, "uniform": Uniform, "long tail": LongTail}
ACTIONS = ("crash", "restart", "isolate", "heal")


def latency_model(kind: str, median: float, tail: float = 0.8):
    """A latency model by name, centred on ``median``; ``tail`` is the long tail's spread."""
    if kind not in LATENCIES:
        raise ValueError(f"unknown latency model {kind!r}; choose one of {', '.join(LATENCIES)}")
    if kind == "constant":
        return Constant(median)
    if kind == "uniform":
        return Uniform(median / 2, median * 1.5)
    return LongTail(median, tail)


class FaultPanel:
    """Re-run ``build()``'s nodes under the faults and network settings chosen here.

    build: a function returning a fresh list of nodes (e.g. ``lambda: forwarding_system(3)``).
    until: how long to simulate.  faults: a starting fault schedule."""

    def __init__(self, build, seed: int = 0, until: float = 30.0, faults=(), loss: float = 0.0,
                 latency: str = "constant", median: float = 1.0):
        if not callable(build):
            raise ValueError("build must be a function that returns a list of nodes, "
                             "e.g. lambda: forwarding_system(3)")
        integer("seed", seed)
        self.build = build
        self.until = finite_time("until", until)
        self.faults = [faults] if isinstance(faults, Fault) else list(faults)
        number("loss", loss, 0, 0.5)                     # the slider's range
        choice("latency", latency, LATENCIES)
        number("median", median, 0.1, 5)
        self.ids = [n.id for n in check_nodes(build())]
        self.node = widgets.Dropdown(options=self.ids, description="node")
        self.action = widgets.Dropdown(options=ACTIONS, description="action")
        self.time = widgets.BoundedFloatText(value=5.0, min=0, max=10_000, step=0.5,
                                             description="at time")
        self.add = widgets.Button(description="add to schedule", button_style="warning")
        self.clear = widgets.Button(description="clear faults")
        self.loss = widgets.FloatSlider(value=loss, min=0, max=0.5, step=0.05,
                                        description="loss", continuous_update=False)
        self.latency = widgets.Dropdown(options=list(LATENCIES), value=latency,
                                        description="latency")
        self.median = widgets.FloatSlider(value=median, min=0.1, max=5, step=0.1,
                                          description="median", continuous_update=False)
        self.seed = widgets.IntText(value=seed, description="seed")
        self.schedule = widgets.HTML()
        self.message = widgets.HTML()
        self.add.on_click(lambda _: self.add_fault(self.action.value, self.node.value,
                                                   self.time.value))
        self.clear.on_click(lambda _: self.clear_faults())
        for w in (self.loss, self.latency, self.median, self.seed):
            w.observe(lambda _: self.rerun(), names="value")
        self.trace = None
        self.player = None
        self._show(self._run())         # bad arguments raise here, saying why
        self.widget = widgets.VBox([
            widgets.HBox([self.action, self.node, self.time, self.add, self.clear]),
            widgets.HBox([self.loss, self.latency, self.median, self.seed]),
            self.schedule, self.message, self.player.widget])

    # ---- what the controls call ---------------------------------------------------------
    def add_fault(self, action: str, node: str, at: float) -> None:
        """Schedule ``action`` ("crash", "restart", "isolate" or "heal") for ``node`` at ``at``."""
        try:
            if action == "crash":
                fault = crash(node, at=at)
            elif action == "restart":
                fault = restart(node, at=at)
            elif action == "isolate":
                fault = partition([node], at=at)
            elif action == "heal":
                fault = heal(at=at)
            else:
                raise ValueError(f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
        except ValueError as exc:
            self._complain(exc)
            return
        self.faults.append(fault)
        if not self.rerun():
            self.faults.pop()          # keep the last schedule that worked
            self.rerun(quiet=True)

    def cut_link(self, src: str, dst: str, at: float) -> None:
        """Schedule a one-way cut: from ``at`` on, ``dst`` hears nothing from ``src``."""
        try:
            self.faults.append(cut(src, dst, at=at))
        except ValueError as exc:
            self._complain(exc)
            return
        if not self.rerun():
            self.faults.pop()
            self.rerun(quiet=True)

    def clear_faults(self) -> None:
        self.faults.clear()
        self.rerun()

    def network(self) -> Network:
        return Network(latency_model(self.latency.value, self.median.value), loss=self.loss.value)

    def rerun(self, quiet: bool = False) -> bool:
        """Simulate again with the current settings; show the problem if they are invalid."""
        try:
            trace = self._run()
        except ValueError as exc:
            if not quiet:
                self._complain(exc)
            return False
        self._show(trace, quiet)
        return True

    def _run(self):
        """The trace of a run with the current settings; a ValueError if they are invalid."""
        sim = Simulation(self.build(), network=self.network(), faults=self.faults,
                         seed=self.seed.value)
        return sim.run(until=self.until)

    def _show(self, trace, quiet: bool = False) -> None:
        self.trace = trace
        self.schedule.value = self._schedule_text()
        if not quiet:
            self.message.value = ""
        if self.player is None:
            self.player = TracePlayer(self.trace)
        else:
            self.player.set_trace(self.trace)

    def _schedule_text(self) -> str:
        if not self.faults:
            return "<i>No faults scheduled: add one above.</i>"
        items = "".join(f"<li>{html.escape(f.describe())}</li>"
                        for f in sorted(self.faults, key=lambda f: f.at or 0))
        return f"<b>Fault schedule</b><ul style='margin:0'>{items}</ul>"

    def _complain(self, exc) -> None:
        self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"

    def _repr_mimebundle_(self, **kwargs):
        """Show the widget; where widgets cannot run, a line that says what it is."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Fault panel: run this cell in Jupyter to add faults and re-run the simulation."
        return bundle
