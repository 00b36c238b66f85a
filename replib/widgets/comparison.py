"""The comparison explorer (chapter 08): every approach on one workload, side by side.

Pick the number of replicas, the latency tail, which component crashes and when, and the
plot to draw; every control calls ``update()``, which re-runs ``compare.compare`` (same
clients, same seed, same latency model for every approach) and redraws the table (HTML)
and one figure.  A bad value is reported in the panel and the last good table and figure
stay.  The partition is fixed: the leader (primary, coordinator) is cut off at t=10.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..experiments.compare import (Table, compare, plot_delays, plot_latency, plot_lost_writes,
                       plot_messages, plot_throughput)
from ..network import LongTail, Uniform
from ..viz import _close
from ..validate import integer, number, whole_number
from .replication import _img

TAILS = {
    "uniform": Uniform(0.5, 1.5),
    "long tail, light": LongTail(1.0, 0.5),
    "long tail, heavy": LongTail(1.0, 1.2),
}
CRASHES = {
    "none": None,
    "leader / primary / coordinator": "leader",
    "a follower / backup / participant": "follower",
}
PLOTS = {
    "messages per write": plot_messages,
    "message delays": plot_delays,
    "latency": plot_latency,
    "throughput": plot_throughput,
    "lost writes": plot_lost_writes,
}
PARTITION = ("leader", 10.0)
MIN_REPLICAS, MAX_REPLICAS = 3, 7
MAX_CRASH_AT = 40.0

COLUMNS = ("approach", "taxonomy (k x n)", "messages per write", "message delays",
           "mean latency (time units)", "max latency (time units)",
           "busiest node (messages per write)", "most writes per second",
           "lost if the crashed disk is gone", "after the crash", "after the partition",
           "linearizable")


def _num(x, fmt="{:.3g}") -> str:
    return "-" if x is None else fmt.format(x)


def table_html(table: Table) -> str:
    """The comparison as an HTML table, one row per approach."""
    rows = []
    for r in table.rows:
        tax = "-" if r.taxonomy is None else f"{r.taxonomy}n = {r.expected}"
        if not r.available:
            cells = [r.label, tax, "not available yet"] + [""] * (len(COLUMNS) - 3)
        else:
            cells = [r.label, tax, _num(r.messages_per_op, "{:g}"),
                     _num(r.delays, "{:g}"), _num(r.latency_mean), _num(r.latency_max),
                     f"{r.busiest} ({r.busiest_per_op:g})", _num(r.throughput, "{:.0f}"),
                     _num(r.lost, "{:d}"), r.after_crash or "-", r.after_partition or "-",
                     "-" if r.linearizable is None else ("yes" if r.linearizable else "NO")]
        rows.append("<tr>" + "".join(f"<td style='padding:2px 8px'>{html.escape(str(c))}</td>"
                                     for c in cells) + "</tr>")
    head = "".join(f"<th style='padding:2px 8px;text-align:left'>{html.escape(c)}</th>"
                   for c in COLUMNS)
    settings = ", ".join(f"{k} = {v}" for k, v in table.settings.items())
    caption = html.escape(f"n = {table.replicas} replicas; {settings}")
    return (f"<table><caption style='text-align:left'>{caption}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


class ComparisonExplorer:
    """Every approach on the same workload; change n, the latency tail or the crash."""

    def __init__(self, replicas: int = 3, tail: str = "uniform",
                 crash: str = "leader / primary / coordinator", crash_at: float = 11.0,
                 plot: str = "messages per write", seed: int = 0, ops: int = 10):
        if isinstance(replicas, bool) or replicas not in range(MIN_REPLICAS, MAX_REPLICAS + 1):
            raise ValueError(f"replicas must be {MIN_REPLICAS} to {MAX_REPLICAS} here, "
                             f"got {replicas!r}")
        for name, value, options in (("tail", tail, TAILS), ("crash", crash, CRASHES),
                                     ("plot", plot, PLOTS)):
            if value not in options:
                raise ValueError(f"unknown {name} {value!r}; choose one of: "
                                 f"{', '.join(options)}")
        number("crash_at", crash_at, 0, MAX_CRASH_AT)   # the box would clamp it silently
        integer("seed", seed)
        whole_number("ops", ops, 1, 200)                 # what compare() measures
        self.ops = ops
        self.replicas = widgets.IntSlider(value=replicas, min=MIN_REPLICAS, max=MAX_REPLICAS,
                                          description="replicas n", continuous_update=False)
        self.tail = widgets.Dropdown(options=list(TAILS), value=tail, description="latency")
        self.crash = widgets.Dropdown(options=list(CRASHES), value=crash, description="crash",
                                      layout={"width": "26em"})
        self.crash_at = widgets.BoundedFloatText(value=crash_at, min=0, max=MAX_CRASH_AT,
                                                 step=1, description="at time")
        self.plot = widgets.Dropdown(options=list(PLOTS), value=plot, description="plot")
        self.seed = widgets.IntText(value=seed, description="seed")
        self.message = widgets.HTML()
        self.table = widgets.HTML()
        self.figure = widgets.HTML()
        self.result = None                 # the last Table drawn
        for w in (self.replicas, self.tail, self.crash, self.crash_at, self.plot, self.seed):
            w.observe(lambda _: self.update(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.replicas, self.tail]),
            widgets.HBox([self.crash, self.crash_at]),
            widgets.HBox([self.plot, self.seed]),
            self.message, self.table, self.figure])
        self.update()

    def settings(self) -> dict:
        """compare()'s arguments from the controls; ValueError on a bad value."""
        n = self.replicas.value
        if isinstance(n, bool) or not isinstance(n, int) or \
                not MIN_REPLICAS <= n <= MAX_REPLICAS:
            raise ValueError(f"replicas must be {MIN_REPLICAS} to {MAX_REPLICAS}, got {n!r}")
        if self.tail.value not in TAILS:
            raise ValueError(f"unknown latency {self.tail.value!r}")
        if self.crash.value not in CRASHES:
            raise ValueError(f"unknown crash {self.crash.value!r}")
        at = self.crash_at.value
        if not isinstance(at, (int, float)) or not 0 <= at <= MAX_CRASH_AT:
            raise ValueError(f"the crash time must be between 0 and {MAX_CRASH_AT:g}, got {at!r}")
        who = CRASHES[self.crash.value]
        return dict(replicas=n, ops=self.ops, seed=self.seed.value,
                    latency=TAILS[self.tail.value],
                    crash=None if who is None else (who, float(at)), partition=PARTITION)

    def update(self) -> bool:
        """Re-run the comparison and redraw; on a bad value, say why and keep the last."""
        try:
            s = self.settings()
            if self.plot.value not in PLOTS:
                raise ValueError(f"unknown plot {self.plot.value!r}")
            table = compare(**s)
        except (ValueError, RuntimeError) as exc:
            self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"
            return False
        self.message.value = ""
        self.result = table
        self.table.value = table_html(table)
        fig = PLOTS[self.plot.value](table)
        fig.alt_text = f"{self._title(s)}. {fig.alt_text}"
        self.figure.value = _img(fig)
        _close(fig)                        # drawn once, in the panel
        return True

    def _title(self, s) -> str:
        crash = ("no crash" if s["crash"] is None
                 else f"the {s['crash'][0]} crashes at t={s['crash'][1]:g}")
        return f"n = {s['replicas']}, latency {self.tail.value}, {crash}"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Comparison explorer: run this cell in Jupyter to use it."
        return bundle
