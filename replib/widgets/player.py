"""The trace player: step a run forwards and backwards and watch every node's state.

The diagram shows the run up to the current step with that step highlighted; the table
shows every node's state just after it, changed fields in bold.  Play, the step buttons
and the slider all move one number, ``player.step``.
"""

from __future__ import annotations

import base64
import html

import ipywidgets as widgets
import traitlets

from ..trace import Trace
from ..validate import finite_time
from ..viz import space_time, to_png
from ..viz.lint import check_if_strict

PLAYER_DPI = 72


def state_table(trace: Trace, step: int) -> str:
    """Every node's state just after ``step`` as an HTML table; fields the step changed in bold."""
    now = trace.states_at(step)
    before = trace.states_at(step - 1) if step >= 0 else now
    rows = []
    for node in trace.nodes:
        fields = now[node]
        down = fields.get("(crashed)", False)
        cells = []
        for name, value in fields.items():
            if name in ("id", "(crashed)"):
                continue
            text = html.escape(_short(value))
            if before[node].get(name) != value:
                text = f"<b>{text}</b>"
            cells.append(f"{html.escape(name)}={text}")
        status = " <i>(crashed)</i>" if down else ""
        rows.append(f"<tr><td style='text-align:left;padding-right:1em'><b>{html.escape(node)}"
                    f"</b> {html.escape(trace.roles[node])}{status}</td>"
                    f"<td style='text-align:left'>{'; '.join(cells)}</td></tr>")
    return ("<table style='font-family:monospace;font-size:13px'>" + "".join(rows) + "</table>")


def _short(value, limit=60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def step_caption(trace: Trace, step: int) -> str:
    """What happened in a step, one line per event."""
    events = trace.step_events(step)
    lines = [f"Step {step} (t={events[0].time:g}): {events[0].describe()}"]
    lines += [f"    then {e.describe()}" for e in events[1:]]
    return "\n".join(lines)


class TracePlayer:
    """Step through a trace: play, step back, step forward, a slider over its steps.

    states: a function (trace, step) -> HTML that shows the nodes' states under the
    diagram instead of ``state_table`` (chapter 10 passes a RaftScope-like table)."""

    def __init__(self, trace: Trace, step: int | None = None, width: float | None = None,
                 states=None):
        self.width = width if width is None else finite_time("width", width)
        if states is not None and not callable(states):
            raise ValueError(f"states must be a function (trace, step) -> HTML, got {states!r}")
        self.states = state_table if states is None else states
        self.slider = widgets.IntSlider(description="step", continuous_update=False,
                                        layout=widgets.Layout(width="60%"))
        self.play = widgets.Play(interval=800, description="play", show_repeat=False)
        self.back = widgets.Button(description="◀ step back", tooltip="go back one step")
        self.forward = widgets.Button(description="step ▶", tooltip="go forward one step")
        self.back.on_click(lambda _: self.step_back())
        self.forward.on_click(lambda _: self.step_forward())
        traitlets.link((self.play, "value"), (self.slider, "value"))
        self.slider.observe(lambda change: self.show(change["new"]), names="value")
        self.caption = widgets.HTML()
        self.figure = widgets.HTML()
        self.table = widgets.HTML()
        self.message = widgets.HTML()
        self.widget = widgets.VBox([
            widgets.HBox([self.play, self.back, self.forward, self.slider]),
            self.caption, self.figure, self.table, self.message])
        self.trace = None
        self.step = None
        self.set_trace(trace, step)

    # ---- what the buttons and the slider call -------------------------------------------
    def set_trace(self, trace: Trace, step: int | None = None) -> None:
        """Show another trace (the fault panel calls this after re-running)."""
        if not isinstance(trace, Trace):
            raise ValueError(f"trace must be a Trace (from sim.run()), got {trace!r}")
        self.trace = trace
        last = len(trace.steps) - 1
        if last < 0:
            raise ValueError("this trace has no steps to show")
        for w in (self.slider, self.play):
            w.min, w.max = 0, last
        target = last if step is None else step
        if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= last:
            raise ValueError(f"step must be a whole number between 0 and {last}, got {step!r}")
        self.step = None
        if self.slider.value == target:
            self.show(target)
        else:
            self.slider.value = target    # the observer draws

    def show(self, step: int) -> None:
        """Draw the run up to ``step`` with that step highlighted, and the state table."""
        try:
            last = len(self.trace.steps) - 1
            if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= last:
                raise ValueError(f"step must be a whole number between 0 and {last}, got {step!r}")
            if step == self.step:
                return
            fig = space_time(self.trace, upto=step, highlight=step, width=self.width)
            check_if_strict(fig)
            png = base64.b64encode(to_png(fig, dpi=PLAYER_DPI)).decode("ascii")
            alt = html.escape(fig.alt_text, quote=True)
            self.figure.value = f"<img src='data:image/png;base64,{png}' alt='{alt}' />"
            self.caption.value = f"<pre style='margin:0'>{html.escape(step_caption(self.trace, step))}</pre>"
            self.table.value = self.states(self.trace, step)
            self.message.value = ""
            self.step = step
        except ValueError as exc:
            self.message.value = f"<span style='color:#b00'>⚠ {html.escape(str(exc))}</span>"

    def step_forward(self) -> None:
        if self.slider.value < self.slider.max:
            self.slider.value += 1

    def step_back(self) -> None:
        if self.slider.value > self.slider.min:
            self.slider.value -= 1

    def _repr_mimebundle_(self, **kwargs):
        """Show the widget; where widgets cannot run, a line that says what it is."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Trace player: run this cell in Jupyter to step through the run."
        return bundle
