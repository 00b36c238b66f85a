"""Charts of measured figures: latency distributions, a quantity against a parameter, bars.

Chapters show their claims with numbers measured in the simulator; these draw them the
same way everywhere: the Okabe-Ito colours with a distinct line style and marker per
series (so the plot survives grey-scale printing and colour blindness), fonts of at least
11 pt for the projector, and alt text in ``fig.alt_text``.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from . import palette as P

DPI = 100
STYLES = ("solid", (0, (5.0, 2.2)), (0, (1.2, 1.8)), (0, (5.0, 1.8, 1.2, 1.8)))
MARKS = ("o", "s", "^", "D", "v", "P", "X")


def series_style(i: int) -> dict:
    """Colour, line style and marker of the i-th series: three cues, not one."""
    return {"color": P.LINE_COLOURS[i % len(P.LINE_COLOURS)],
            "linestyle": STYLES[i % len(STYLES)], "marker": MARKS[i % len(MARKS)]}


def _figure(width=8.0, height=5.0):
    fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
    ax = fig.add_axes((0.1, 0.33, 0.86, 0.58))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=P.FONT["tick"])
    ax.grid(True, color="#DDDDDD", linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def _title(fig, ax, title):
    """The title above the axes, left-aligned, wrapped to the figure's width; the axes give
    up the room a second line needs."""
    from .sequence import wrap_text
    if not title:
        return
    fig_w, fig_h = fig.get_size_inches()
    pos = ax.get_position()
    lines = wrap_text(title, (1 - pos.x0 - 0.02) * fig_w * 72, P.FONT["title"], True)
    if len(lines) > 1:
        extra = (len(lines) - 1) * 0.3 / fig_h
        ax.set_position((pos.x0, pos.y0, pos.width, pos.height - extra))
    ax.set_title("\n".join(lines), fontsize=P.FONT["title"], fontweight="bold", loc="left")


def _finish(fig, ax, title, xlabel, ylabel, alt):
    ax.set_xlabel(xlabel, fontsize=P.FONT["legend"] + 1)
    ax.set_ylabel(ylabel, fontsize=P.FONT["legend"] + 1)
    _title(fig, ax, title)
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.17), frameon=False,
              fontsize=P.FONT["legend"], ncol=2 if len(ax.get_lines()) > 6 else 1)
    fig.alt_text = alt
    return fig


def _check_series(series, what):
    if not isinstance(series, dict) or not series:
        raise ValueError(f"{what} must be a non-empty dict mapping a label to numbers, "
                         f"got {series!r}")
    for label, values in series.items():
        values = list(values)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in values):
            raise ValueError(f"{what}[{label!r}] must hold finite numbers only")
    return {str(k): list(v) for k, v in series.items()}


def percentile(values, q: float) -> float:
    """The q-th percentile (0..100) by the nearest-rank rule: a value that was measured."""
    values = sorted(values)
    if not values:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(q / 100 * len(values)))
    return values[rank - 1]


def latency_distributions(samples: dict, title=None, xlabel="latency (time units)") -> Figure:
    """One cumulative distribution (ECDF) per label: how often latency is at most x.

    A vertical tick marks each series' median and a marker its 99th percentile, the two
    numbers the chapters compare."""
    samples = _check_series(samples, "samples")
    fig, ax = _figure()
    parts = []
    for i, (label, values) in enumerate(samples.items()):
        style = series_style(i)
        if not values:
            parts.append(f"{label}: no samples")
            continue
        xs = sorted(values)
        ys = [(k + 1) / len(xs) for k in range(len(xs))]
        med, p99 = percentile(xs, 50), percentile(xs, 99)
        ax.step(xs, ys, where="post", color=style["color"], linestyle=style["linestyle"],
                linewidth=2.2, label=f"{label}: median {med:.3g}, p99 {p99:.3g}")
        ax.plot([p99], [0.99], marker=style["marker"], color=style["color"], markersize=8,
                linestyle="none")
        ax.plot([med, med], [0.44, 0.56], color=style["color"], linewidth=2.2)
        parts.append(f"{label}: median {med:.3g}, 99th percentile {p99:.3g} ({len(xs)} samples)")
    ax.set_ylim(0, 1.03)
    ax.set_xlim(left=0)
    return _finish(fig, ax, title, xlabel, "fraction of operations",
                   "Cumulative latency distributions. " + "; ".join(parts) + ".")


def lines(x, series: dict, title=None, xlabel="", ylabel="") -> Figure:
    """One line per label over the same x values, each point marked."""
    x = list(x)
    series = _check_series(series, "series")
    for label, ys in series.items():
        if len(ys) != len(x):
            raise ValueError(f"series {label!r} has {len(ys)} values for {len(x)} x values")
    fig, ax = _figure()
    parts = []
    for i, (label, ys) in enumerate(series.items()):
        ax.plot(x, ys, linewidth=2.2, markersize=7, label=label, **series_style(i))
        pairs = ", ".join(f"{a:g}: {b:.3g}" for a, b in zip(x, ys))
        parts.append(f"{label} ({pairs})")
    return _finish(fig, ax, title, xlabel, ylabel,
                   f"Line chart of {ylabel or 'values'} against {xlabel or 'x'}: "
                   + "; ".join(parts) + ".")


def bars(values: dict, title=None, ylabel="", xlabel="") -> Figure:
    """One bar per label, its value written on it, hatched so bars differ without colour."""
    values = _check_series({k: [v] for k, v in values.items()} if isinstance(values, dict)
                           else values, "values")
    fig, ax = _figure()
    hatches = ("", "//", "..", "xx", "\\\\", "oo", "++")
    labels = list(values)
    for i, label in enumerate(labels):
        v = values[label][0]
        ax.bar(i, v, color=P.LINE_COLOURS[i % len(P.LINE_COLOURS)], edgecolor="black",
               hatch=hatches[i % len(hatches)], label=label)
        ax.annotate(f"{v:g}", (i, v), ha="center", va="bottom", fontsize=P.FONT["legend"],
                    xytext=(0, 3), textcoords="offset points")
    ax.set_xticks(range(len(labels)), labels, fontsize=P.FONT["tick"])
    ax.grid(False, axis="x")
    fig.alt_text = (f"Bar chart of {ylabel or 'values'}: "
                    + ", ".join(f"{k} {values[k][0]:g}" for k in labels) + ".")
    ax.set_ylabel(ylabel, fontsize=P.FONT["legend"] + 1)
    ax.set_xlabel(xlabel, fontsize=P.FONT["legend"] + 1)
    _title(fig, ax, title)
    return fig


def _time_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def timeline(intervals: dict, end: float, title=None, xlabel="time", label="in doubt") -> Figure:
    """One horizontal bar per row (say, per participant: when it was in doubt).

    intervals: row label -> (start, stop), or None for a row with no interval ("never in
    doubt"); a stop of None means the interval was still open at ``end``: its bar runs to
    ``end``, hatched, and says "still in doubt".  Rows are drawn in the dict's order, the
    first at the top.  ``label`` names the state: "in doubt", "blocked", ..."""
    if not isinstance(intervals, dict) or not intervals:
        raise ValueError(f"intervals must be a non-empty dict mapping a row label to "
                         f"(start, stop) or None, got {intervals!r}")
    if not _time_number(end) or end <= 0:
        raise ValueError(f"end must be a finite time > 0, got {end!r}")
    if not isinstance(label, str) or not label:
        raise ValueError(f"label must be a non-empty string such as 'in doubt', got {label!r}")
    rows = {}
    for row, span in intervals.items():
        if span is not None:
            if not isinstance(span, (tuple, list)) or len(span) != 2:
                raise ValueError(f"intervals[{row!r}] must be (start, stop) or None, got {span!r}")
            start, stop = span
            if not _time_number(start) or not 0 <= start <= end:
                raise ValueError(f"intervals[{row!r}]: start must be a time between 0 and "
                                 f"end={end:g}, got {start!r}")
            if stop is not None and (not _time_number(stop) or not start <= stop <= end):
                raise ValueError(f"intervals[{row!r}]: stop must be None (still {label}) or a "
                                 f"time between start={start:g} and end={end:g}, got {stop!r}")
        rows[str(row)] = span

    fig = Figure(figsize=(8.0, 1.5 + 0.55 * len(rows)), dpi=DPI, facecolor="white")
    ax = fig.add_axes((0.12, 0.8 / fig.get_figheight(), 0.84,
                       1 - 1.35 / fig.get_figheight()))
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.grid(True, axis="x", color="#DDDDDD", linewidth=0.8)
    ax.set_axisbelow(True)
    colour, num = P.VERMILLION, lambda t: f"{round(t, 2):g}"
    parts = []
    for y, (row, span) in enumerate(rows.items()):
        if span is None:
            ax.text(0.01 * end, y, f"never {label}", va="center", ha="left", color=P.MUTED,
                    fontsize=P.FONT["note"], style="italic")
            parts.append(f"{row} never {label}")
            continue
        start, stop = span
        still = stop is None
        stop = end if still else stop
        ax.barh(y, stop - start, left=start, height=0.55, color=colour, alpha=0.45 if still else 1,
                edgecolor="black", linewidth=1.0, hatch="//" if still else None)
        if still:
            ax.text(stop, y, f"still {label} ", va="center", ha="right",
                    fontsize=P.FONT["note"], fontweight="bold",
                    bbox=dict(facecolor="white", edgecolor="none", pad=1.5))
            parts.append(f"{row} {label} from {num(start)} and still {label} at the end, "
                         f"{num(end)} ({num(end - start)} so far)")
        else:
            ax.annotate(f"{num(stop - start)}", (stop, y), xytext=(4, 0),
                        textcoords="offset points", va="center", ha="left",
                        fontsize=P.FONT["note"])
            parts.append(f"{row} {label} from {num(start)} to {num(stop)} "
                         f"({num(stop - start)})")
    ax.set_yticks(range(len(rows)), list(rows), fontsize=P.FONT["lane"])
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=P.FONT["tick"])
    ax.set_ylim(len(rows) - 0.4, -0.6)          # the first row at the top
    ax.set_xlim(0, end * 1.06)
    ax.set_xlabel(xlabel, fontsize=P.FONT["legend"] + 1)
    if title:
        ax.set_title(title, fontsize=P.FONT["title"], fontweight="bold", loc="left")
    fig.alt_text = (f"Timeline of the time spent {label}, from 0 to {num(end)}: "
                    + "; ".join(parts) + ".")
    return fig
