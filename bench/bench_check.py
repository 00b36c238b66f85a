"""Checker throughput: distinct states per second on a node-level model, and peak memory.

    python bench/bench_check.py            # the full run (a million states, about a minute)
    python bench/bench_check.py --quick    # a smaller run

The model is the forwarding system of chapter 00 with two clients writing twice each, a
network that loses, duplicates and reorders messages, and one crash of any node: the same
node classes the simulator runs.  Each size runs in a fresh process so that its peak
memory (max RSS) is its own.  Targets (issue 2): >= 20,000 states/s; a million states in
under 1.5 GB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from replib import Controls
from replib.check import check
from replib.protocols.forwarding import forwarding_system
clients, writes, limit = {clients}, {writes}, {limit}
start = time.perf_counter()
r = check(forwarding_system(writes, clients=clients, timeout=3),
          Controls(drop=True, duplicate=True, max_crashes=1),
          invariants={{"replica not ahead of the server":
                      lambda s: len(s.node("replica").log) <= len(s.node("server").log)}},
          max_states=limit, progress=False)
seconds = time.perf_counter() - start
print(json.dumps(dict(states=r.states, transitions=r.transitions, seconds=seconds,
                      complete=r.complete, rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def measure(clients, writes, limit):
    code = CHILD.format(root=str(ROOT), clients=clients, writes=writes, limit=limit)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    quick = "--quick" in sys.argv
    runs = [("1 client, 2 writes (complete)", 1, 2, None),
            ("2 clients, 1 write each (complete)", 2, 1, None)]
    runs.append(("2 clients, 2 writes each (first 200,000 states)", 2, 2, 200_000) if quick else
                ("2 clients, 2 writes each (first 1,000,000 states)", 2, 2, 1_000_000))
    print(f"{'model':<52} {'states':>10} {'transitions':>12} {'s':>7} {'states/s':>9} "
          f"{'vs 20k':>7} {'peak MB':>8}")
    for name, clients, writes, limit in runs:
        m = measure(clients, writes, limit)
        rate = m["states"] / m["seconds"]
        print(f"{name:<52} {m['states']:>10,} {m['transitions']:>12,} {m['seconds']:>7.2f} "
              f"{rate:>9,.0f} {rate / 20000:>6.2f}x {m['rss_mb']:>8.0f}")


if __name__ == "__main__":
    main()
