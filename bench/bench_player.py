"""The trace player's step latency, redraw included, on a 300-event trace.

    python bench/bench_player.py                  # this tree
    python bench/bench_player.py --against REV    # and the same, side by side, at git REV

Builds a 300-event run (two clients, random latency), then times ``player.show(step)``
for every step (the diagram up to that step, highlighted, rendered to PNG, plus the state
table), as the step buttons and the slider do.  Target (issue 2): median < 100 ms.
With ``--against``, REV's replib is exported to a temporary directory and both trees are
timed in alternating rounds (one process each), so the ratio holds whatever else the
machine is doing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure() -> dict:
    from replib import Network, Simulation, Uniform
    from replib.protocols.forwarding import forwarding_system
    from replib.viz import space_time, to_png
    from replib.widgets import TracePlayer
    from replib.widgets.player import PLAYER_DPI, state_table

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
    return dict(events=len(trace), steps=len(steps), median=ms(times),
                p90=1000 * sorted(times)[int(0.9 * len(times))], max=1000 * max(times),
                draw=ms(draw), png=ms(png), table=ms(table))


def report(r: dict, label: str = "") -> None:
    print(f"{label}trace: {r['events']} events, {r['steps']} steps")
    print(f"{label}player step latency: median {r['median']:.0f} ms, 90th percentile "
          f"{r['p90']:.0f} ms, max {r['max']:.0f} ms (target: median < 100 ms; "
          f"{100 / r['median']:.2f}x headroom)")
    print(f"{label}  of which (median): diagram {r['draw']:.0f} ms, PNG {r['png']:.0f} ms, "
          f"state table {r['table']:.1f} ms")


def run_tree(path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(path), MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, __file__, "--json"], env=env, check=True,
                         capture_output=True, text=True, cwd=path).stdout
    return json.loads(out.strip().splitlines()[-1])


def export(rev: str, into: Path) -> Path:
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "replib"], check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="also time git REV, side by side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure()))
        return
    if not args.against:
        sys.path.insert(0, str(ROOT))
        report(measure())
        return
    with tempfile.TemporaryDirectory() as tmp:
        old = export(args.against, Path(tmp))
        now, then = [], []
        for _ in range(args.rounds):
            now.append(run_tree(ROOT))
            then.append(run_tree(old))
    med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
    for label, rs in (("this tree", now), (args.against, then)):
        print(f"{label:>12}: median step {med(rs, 'median'):.0f} ms (diagram "
              f"{med(rs, 'draw'):.0f} ms, PNG {med(rs, 'png'):.0f} ms), 90th percentile "
              f"{med(rs, 'p90'):.0f} ms; {args.rounds} rounds")
    ratios = [a["median"] / b["median"] for a, b in zip(now, then)]
    print(f"ratio this tree / {args.against} (median step): median {statistics.median(ratios):.2f}"
          f" (range {min(ratios):.2f}-{max(ratios):.2f}); target: median step < 100 ms")


if __name__ == "__main__":
    main()
