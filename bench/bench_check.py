"""Checker throughput: distinct states per second on a node-level model, and peak memory.

    python bench/bench_check.py            # the full run (a million states, about a minute)
    python bench/bench_check.py --quick    # a smaller run

Two models, the same node classes the simulator runs:
- the forwarding system of chapter 00 with two clients writing twice each, a network that
  loses, duplicates and reorders messages, and one crash of any node;
- single-decree Paxos (3 acceptors, no learners; agreement read from the acceptors' votes)
  on a network that duplicates and reorders (so a message may also never arrive), with one
  proposer trying two ballots (complete), and with the chapter's target configuration, two
  proposers of two ballots each plus loss and an acceptor crash and restart (a prefix).
Each size runs in a fresh process so that its peak memory (max RSS) is its own.  Targets:
>= 20,000 states/s; a million states in under 1.5 GB; the Paxos target configuration
checked completely in under 60 s.
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
from replib.protocols.paxos import PAXOS_INVARIANTS, paxos_system
forwarding = {{"replica not ahead of the server":
              lambda s: len(s.node("replica").log) <= len(s.node("server").log)}}
start = time.perf_counter()
r = check({model}, max_states={limit}, progress=False)
seconds = time.perf_counter() - start
print(json.dumps(dict(states=r.states, transitions=r.transitions, seconds=seconds,
                      complete=r.complete, rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""

FORWARDING = ("forwarding_system({writes}, clients={clients}, timeout=3), "
              "Controls(drop=True, duplicate=True, max_crashes=1), invariants=forwarding")
PAXOS = ("paxos_system(proposers={proposers}, learners=0, max_ballots=2), {controls}, "
         "invariants=PAXOS_INVARIANTS")


def measure(model, limit):
    code = CHILD.format(root=str(ROOT), model=model, limit=limit)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    quick = "--quick" in sys.argv
    big = 200_000 if quick else 1_000_000
    runs = [("forwarding: 1 client, 2 writes (complete)",
             FORWARDING.format(clients=1, writes=2), None),
            ("forwarding: 2 clients, 1 write each (complete)",
             FORWARDING.format(clients=2, writes=1), None),
            (f"forwarding: 2 clients, 2 writes each (first {big:,})",
             FORWARDING.format(clients=2, writes=2), big),
            ("paxos: 1 proposer, 2 ballots, dup" + (" (first 200,000)" if quick else " (complete)"),
             PAXOS.format(proposers=1, controls="Controls(duplicate=True)"),
             200_000 if quick else None),
            ("paxos: 2x2 ballots, loss, dup, 1 crash (first 300,000)",
             PAXOS.format(proposers=2, controls="Controls(drop=True, duplicate=True, "
                          "max_crashes=1, crashable=('a1', 'a2', 'a3'))"), 300_000)]
    print(f"{'model':<56} {'states':>10} {'transitions':>12} {'s':>7} {'states/s':>9} "
          f"{'vs 20k':>7} {'peak MB':>8}  complete")
    for name, model, limit in runs:
        m = measure(model, limit)
        rate = m["states"] / m["seconds"]
        print(f"{name:<56} {m['states']:>10,} {m['transitions']:>12,} {m['seconds']:>7.2f} "
              f"{rate:>9,.0f} {rate / 20000:>6.2f}x {m['rss_mb']:>8.0f}  {m['complete']}")


if __name__ == "__main__":
    main()
