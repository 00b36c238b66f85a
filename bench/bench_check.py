"""Checker throughput: distinct states per second on a node-level model, and peak memory.

    python bench/bench_check.py            # the full run (a million states, about a minute)
    python bench/bench_check.py --quick    # a smaller run

Two models, the same node classes the simulator runs:
- the forwarding system of chapter 00 with two clients writing twice each, a network that
  loses, duplicates and reorders messages, and one crash of any node;
- single-decree Paxos (3 acceptors, no learners; agreement read from the acceptors' votes)
  on a network that duplicates and reorders (a set of messages: any may arrive now, again,
  or never, which covers loss): one proposer trying two ballots; two proposers of one ballot
  each, without and with symmetry reduction over the acceptors (side by side: the ratio of
  states and of time); the same with an acceptor crash and restart (notebook 05's button);
  and the chapter's target configuration, two proposers of two ballots each plus a crash (a
  prefix: it has more than 2 million states even with symmetry).
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
PAXOS = ("paxos_system(proposers={proposers}, learners=0, max_ballots={ballots}), {controls}, "
         "invariants=PAXOS_INVARIANTS, symmetric={sym}")
SYM = ("a1", "a2", "a3")
CRASH = "Controls(duplicate=True, max_crashes=1, crashable=('a1', 'a2', 'a3'))"


def measure(model, limit):
    code = CHILD.format(root=str(ROOT), model=model, limit=limit)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    quick = "--quick" in sys.argv
    big = 200_000 if quick else 1_000_000
    target = 100_000 if quick else 300_000
    runs = [("forwarding: 1 client, 2 writes (complete)",
             FORWARDING.format(clients=1, writes=2), None),
            ("forwarding: 2 clients, 1 write each (complete)",
             FORWARDING.format(clients=2, writes=1), None),
            (f"forwarding: 2 clients, 2 writes each (first {big:,})",
             FORWARDING.format(clients=2, writes=2), big),
            ("paxos: 1 proposer, 2 ballots, dup" + (" (first 200,000)" if quick else " (complete)"),
             PAXOS.format(proposers=1, ballots=2, controls="Controls(duplicate=True)", sym=None),
             200_000 if quick else None),
            ("paxos: 2x1 ballots, dup (complete)",
             PAXOS.format(proposers=2, ballots=1, controls="Controls(duplicate=True)", sym=None),
             None),
            ("paxos: 2x1 ballots, dup, symmetric (complete)",
             PAXOS.format(proposers=2, ballots=1, controls="Controls(duplicate=True)", sym=SYM),
             None),
            ("paxos: 2x1, dup, 1 crash, symmetric (ch05 button)",
             PAXOS.format(proposers=2, ballots=1, controls=CRASH, sym=SYM), None),
            (f"paxos: 2x2, dup, 1 crash, symmetric (first {target:,})",
             PAXOS.format(proposers=2, ballots=2, controls=CRASH, sym=SYM), target)]
    print(f"{'model':<56} {'states':>10} {'transitions':>12} {'s':>7} {'states/s':>9} "
          f"{'vs 20k':>7} {'peak MB':>8}  complete")
    measured = {}
    for name, model, limit in runs:
        m = measured[name] = measure(model, limit)
        rate = m["states"] / m["seconds"]
        print(f"{name:<56} {m['states']:>10,} {m['transitions']:>12,} {m['seconds']:>7.2f} "
              f"{rate:>9,.0f} {rate / 20000:>6.2f}x {m['rss_mb']:>8.0f}  {m['complete']}")
    plain, sym = (measured["paxos: 2x1 ballots, dup (complete)"],
                  measured["paxos: 2x1 ballots, dup, symmetric (complete)"])
    print(f"symmetry over the 3 acceptors (2x1 ballots, dup): {plain['states'] / sym['states']:.2f}x "
          f"fewer states, {plain['seconds'] / sym['seconds']:.2f}x less time")


if __name__ == "__main__":
    main()
