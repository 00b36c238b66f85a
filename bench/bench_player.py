"""The trace player's step latency, redraw included, on a 300-event trace.

    python bench/bench_player.py

Builds a 300-event run (two clients, random latency), then times ``player.show(step)``
for every step (the diagram up to that step, highlighted, rendered to PNG, plus the state
table), as the step buttons and the slider do.  Target (issue 2): median < 100 ms.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replib import Network, Simulation, Uniform  # noqa: E402
from replib.protocols.forwarding import forwarding_system  # noqa: E402
from replib.viz import space_time, to_png  # noqa: E402
from replib.widgets import TracePlayer  # noqa: E402
from replib.widgets.player import PLAYER_DPI, state_table  # noqa: E402


def main():
    trace = Simulation(forwarding_system(60, clients=2), network=Network(Uniform(0.5, 1.5)),
                       seed=3).run(max_events=300)
    player = TracePlayer(trace, step=0)
    steps = list(range(len(trace.steps)))
    times, draw, png, table = [], [], [], []
    for step in steps:
        t0 = time.perf_counter()
        player.show(step)
        times.append(time.perf_counter() - t0)
    for step in steps[::10]:        # where the time goes, on a sample
        t0 = time.perf_counter()
        fig = space_time(trace, upto=step, highlight=step)
        t1 = time.perf_counter()
        to_png(fig, dpi=PLAYER_DPI)
        t2 = time.perf_counter()
        state_table(trace, step)
        t3 = time.perf_counter()
        draw.append(t1 - t0), png.append(t2 - t1), table.append(t3 - t2)
    ms = lambda xs: 1000 * statistics.median(xs)  # noqa: E731
    print(f"trace: {len(trace)} events, {len(trace.steps)} steps")
    print(f"player step latency: median {ms(times):.0f} ms, 90th percentile "
          f"{1000 * sorted(times)[int(0.9 * len(times))]:.0f} ms, max {1000 * max(times):.0f} ms "
          f"(target: median < 100 ms; {100 / ms(times):.2f}x headroom)")
    print(f"  of which (median): diagram {ms(draw):.0f} ms, PNG {ms(png):.0f} ms, "
          f"state table {ms(table):.1f} ms")


if __name__ == "__main__":
    main()
