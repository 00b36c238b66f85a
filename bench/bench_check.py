"""Checker throughput: distinct states per second on a node-level model, and peak memory.

    python bench/bench_check.py                  # the full run (a few minutes)
    python bench/bench_check.py --quick          # a smaller run
    python bench/bench_check.py --against REV    # also run git revision REV's checker on the
                                                 # same models, side by side, and print ratios

Models, the same node classes the simulator runs:
- the forwarding system of chapter 00 with two clients writing twice each, a network that
  loses, duplicates and reorders messages, and one crash of any node;
- single-decree Paxos (3 acceptors, no learners; agreement read from the acceptors' votes)
  on a network that duplicates and reorders (a set of messages: any may arrive now, again,
  or never, which covers loss): one proposer trying two ballots; two proposers of one ballot
  each, without and with symmetry reduction over the acceptors; the same with an acceptor
  crash and restart (notebook 05's button); a prefix of the chapter's configuration, two
  proposers of two ballots each plus a crash;
- the chapter's configuration checked completely with the covering search
  (``check_paxos(2, 2, 1, reduce=True)``, ``replib.covering``): its "states" are the states
  it explored, each standing for all the states it covers, so its rate is not comparable
  with the plain search's.  (--quick runs 2 x 1 ballots + a crash instead.)
Each run is in a fresh process so that its peak memory (max RSS) is its own; memory per
million states counts what the search added to the peak, above the process's own once
Python and replib are loaded (about 20 MB, which would swamp the small models).  Targets:
>= 50,000 distinct states/s on the Paxos models; at most 1.5 GB per million states; the
chapter's configuration checked completely in under 60 s.  Absolute times move with the
machine's load (the load average is printed, and each run's CPU seconds, which a busy
machine disturbs less); compare the ratios of a --against run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
import replib
assert replib.__file__.startswith({root!r}), replib.__file__
from replib import Controls
from replib.check import check
from replib.protocols.forwarding import forwarding_system
from replib.protocols.paxos import PAXOS_INVARIANTS, paxos_system, check_paxos
forwarding = {{"replica not ahead of the server":
              lambda s: len(s.node("replica").log) <= len(s.node("server").log)}}
base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Python and replib
start, cpu = time.perf_counter(), time.process_time()
r = {model}
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps(dict(states=r.states, transitions=r.transitions, seconds=seconds, cpu=cpu,
                      complete=r.complete, summary=r.summary(),
                      rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      base_mb=base_mb)))
"""

FORWARDING = ("check(forwarding_system({writes}, clients={clients}, timeout=3), "
              "Controls(drop=True, duplicate=True, max_crashes=1), invariants=forwarding, "
              "max_states={limit}, progress=False)")
PAXOS = ("check(paxos_system(proposers={proposers}, learners=0, max_ballots={ballots}), "
         "{controls}, invariants=PAXOS_INVARIANTS, symmetric={sym}, max_states={limit}, "
         "progress=False)")
SYM = ("a1", "a2", "a3")
CRASH = "Controls(duplicate=True, max_crashes=1, crashable=('a1', 'a2', 'a3'))"
CHAPTER = "check_paxos({proposers}, {ballots}, {crashes}, reduce=True, progress=False)"


def measure(root, model):
    code = CHILD.format(root=str(root), model=model)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        return None          # e.g. an older checker without reduce=True
    return json.loads(out.stdout.strip().splitlines()[-1])


def runs(quick):
    big = 200_000 if quick else 1_000_000
    target = 100_000 if quick else 300_000
    dup = "Controls(duplicate=True)"
    return [
        ("forwarding: 1 client, 2 writes (complete)",
         FORWARDING.format(clients=1, writes=2, limit=None)),
        ("forwarding: 2 clients, 1 write each (complete)",
         FORWARDING.format(clients=2, writes=1, limit=None)),
        (f"forwarding: 2 clients, 2 writes each (first {big:,})",
         FORWARDING.format(clients=2, writes=2, limit=big)),
        ("paxos: 1 proposer, 2 ballots, dup (complete)",
         PAXOS.format(proposers=1, ballots=2, controls=dup, sym=None, limit=None)),
        ("paxos: 2x1 ballots, dup (complete)",
         PAXOS.format(proposers=2, ballots=1, controls=dup, sym=None, limit=None)),
        ("paxos: 2x1 ballots, dup, symmetric (complete)",
         PAXOS.format(proposers=2, ballots=1, controls=dup, sym=SYM, limit=None)),
        ("paxos: 2x1, dup, 1 crash, symmetric (ch05 button)",
         PAXOS.format(proposers=2, ballots=1, controls=CRASH, sym=SYM, limit=None)),
        (f"paxos: 2x2, dup, 1 crash, symmetric (first {target:,})",
         PAXOS.format(proposers=2, ballots=2, controls=CRASH, sym=SYM, limit=target)),
        ("covering: 2x1 + crash, reduce=True (complete)" if quick else
         "covering: 2x2 + crash, reduce=True (ch05, complete)",
         CHAPTER.format(proposers=2, ballots=1 if quick else 2, crashes=1)),
    ] + ([] if quick else [
        ("covering: 2x2 + 2 crashes, reduce=True (ch05 button)",
         CHAPTER.format(proposers=2, ballots=2, crashes=2)),
        ("covering: 3x1 + crash, reduce=True (ch05 button)",
         CHAPTER.format(proposers=3, ballots=1, crashes=1)),
    ])


def checkout(rev) -> Path:
    """Revision ``rev``'s replib/ in a temporary directory."""
    where = Path(tempfile.mkdtemp(prefix="bench-check-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "replib"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where


def main():
    quick = "--quick" in sys.argv
    against = sys.argv[sys.argv.index("--against") + 1] if "--against" in sys.argv else None
    old_root = checkout(against) if against else None
    print("load:", os.getloadavg())
    header = (f"{'model':<54} {'states':>10} {'transitions':>12} {'s':>7} {'cpu s':>7} "
              f"{'states/s':>9} {'vs 50k':>7} {'peak MB':>8} {'MB/M st':>8}  complete")
    if against:
        header += f"   {against}: s, cpu s, states/s, peak MB; speed-up (wall, cpu)"
    print(header)
    measured = {}
    for name, model in runs(quick):
        m = measured[name] = measure(ROOT, model)
        rate = m["states"] / m["seconds"]
        line = (f"{name:<54} {m['states']:>10,} {m['transitions']:>12,} {m['seconds']:>7.2f} "
                f"{m['cpu']:>7.2f} {rate:>9,.0f} {rate / 50000:>6.2f}x {m['rss_mb']:>8.0f} "
                f"{(m['rss_mb'] - m['base_mb']) / max(m['states'], 1) * 1e6:>8,.0f}  "
                f"{m['complete']}")
        if against:
            o = measure(old_root, model)
            if o is None:
                line += "   (not in that revision)"
            else:
                same = "" if o["summary"] == m["summary"] else "  DIFFERENT RESULT"
                line += (f"   {o['seconds']:7.2f} {o['cpu']:7.2f} {o['states'] / o['seconds']:>9,.0f} "
                         f"{o['rss_mb']:>6.0f}; x{o['seconds'] / m['seconds']:.2f}, "
                         f"x{o['cpu'] / m['cpu']:.2f}{same}")
        print(line, flush=True)
    plain, sym = (measured["paxos: 2x1 ballots, dup (complete)"],
                  measured["paxos: 2x1 ballots, dup, symmetric (complete)"])
    print(f"symmetry over the 3 acceptors (2x1 ballots, dup): {plain['states'] / sym['states']:.2f}x "
          f"fewer states, {plain['seconds'] / sym['seconds']:.2f}x less time")
    print("load:", os.getloadavg())


if __name__ == "__main__":
    main()
