"""Linearizability checker benchmark: how long a 200-operation, 5-client history takes.

Histories come from ``replib.history.random_history`` (5 clients, half reads, writes of
distinct values, each operation taking effect at a random point inside its interval, so
about five operations are in flight at any time): linearizable by construction.  Three
kinds, SEEDS seeded histories each:

* linearizable: the history as made;
* one stale read: ``with_stale_read`` makes one read return a value overwritten before it
  began (what a lagging backup answers); the cheap pre-check catches these;
* one bad read: one read returns the value of a write concurrent with it, chosen so that
  the history is no longer linearizable; only the search can tell, and it must explore
  every order up to that read before it gives up.

Each check is the full ``linearizable()`` call, explanation included (for the broken ones:
the shortest failing prefix, the culprit read and the values it could have read), timed
with time.perf_counter as the best of REPEATS runs; the script prints the median and
worst over the seeds, against the target (well under a second).

Then the same checker with memoisation switched off (``memoise=False``), side by side on
smaller histories where the unmemoised search still finishes: the median time and search
states of each, and the per-history ratios (median and worst), measured in the same run.
Without the memo the search is exponential on histories it must reject: how badly depends
on how far into the history the bad read sits, hence the spread.

Run: .venv/bin/python bench/bench_history.py [--quick]
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from replib.history import linearizable, random_history, with_stale_read  # noqa: E402
from replib.trace import Operation  # noqa: E402

OPS, CLIENTS, TARGET_MS = 200, 5, 1000
SEEDS = 11
MEMO_SEEDS = 9
REPEATS = 3


def with_bad_read(history, seed):
    """The history with one read changed to the value of a write concurrent with it, such
    that the history is no longer linearizable (checked), or None if no read qualifies.
    The latest such read is chosen, so the search has the whole history to explore."""
    rng = random.Random(seed)
    reads = [n for n, x in enumerate(history) if x.op[0] == "read" and x.response is not None]
    reads.sort(key=lambda n: history[n].response, reverse=True)
    for n in reads:
        r = history[n]
        overlapping = [w for w in history if w.op[0] == "write" and w.invoke < r.response
                       and (w.response is None or w.response > r.invoke) and w.op[-1] != r.result]
        rng.shuffle(overlapping)
        for w in overlapping:
            bad = history[:n] + [Operation(r.client, r.op, r.invoke, r.response, w.op[-1])] \
                + history[n + 1:]
            if not linearizable(bad).ok:
                return bad
    return None


def kinds(ops, clients, seeds):
    """{kind: [history, ...]} for the three kinds, seeds 0, 1, ..."""
    out = {"linearizable": [], "one stale read": [], "one bad read": []}
    seed = 0
    while min(map(len, out.values())) < seeds:
        h = random_history(ops, clients, seed)
        seed += 1
        bad = with_bad_read(h, seed)
        try:
            stale = with_stale_read(h, seed)[0]
        except ValueError:                     # no read follows two writes in a row
            continue
        if bad is not None:
            out["linearizable"].append(h)
            out["one stale read"].append(stale)
            out["one bad read"].append(bad)
    return out


def timed(history, memoise=True, repeats=REPEATS):
    """(best time in ms, search states, verdict) of linearizable(history)."""
    best = None
    for _ in range(repeats):
        start = time.perf_counter()
        r = linearizable(history, memoise=memoise)
        ms = (time.perf_counter() - start) * 1000
        best = ms if best is None else min(best, ms)
    return best, r.states, r.ok


def main():
    quick = "--quick" in sys.argv
    seeds = 5 if quick else SEEDS
    print(f"{OPS} ops, {CLIENTS} clients, {seeds} seeded histories per kind "
          f"(best of {REPEATS} runs each):")
    print(f"  {'kind':<15} {'median ms':>10} {'worst ms':>9} {'states (median)':>16}  verdicts")
    medians = {}
    for kind, histories in kinds(OPS, CLIENTS, seeds).items():
        runs = [timed(h) for h in histories]
        ms = [t for t, _, _ in runs]
        verdicts = {ok for _, _, ok in runs}
        assert verdicts == {kind == "linearizable"}, (kind, verdicts)
        medians[kind] = statistics.median(ms)
        print(f"  {kind:<15} {medians[kind]:>10.1f} {max(ms):>9.1f} "
              f"{statistics.median(s for _, s, _ in runs):>16,.0f}  "
              f"all {'linearizable' if kind == 'linearizable' else 'rejected'}")
    for kind, m in medians.items():
        print(f"{OPS} ops, {CLIENTS} clients, {kind}: median {m:.0f} ms "
              f"(target < {TARGET_MS} ms; {TARGET_MS / m:.0f}x headroom)")

    print()
    print(f"Memoisation on vs off, same histories, same run ({MEMO_SEEDS} seeds per row; "
          "off: one run per")
    print("history, and explaining a rejection stops at 50,000 states, so its times are lower")
    print("bounds).  Ratios are per history, off / on: median and worst.")
    print(f"  {'history':<24} {'on ms':>7} {'off ms':>8} {'on states':>10} {'off states':>11} "
          f"{'time ratio':>15} {'states ratio':>17}")
    for ops in (20, 30) if quick else (20, 30, 40):
        for kind, histories in kinds(ops, CLIENTS, MEMO_SEEDS).items():
            if kind == "one stale read":
                continue
            on = [timed(h) for h in histories]
            off = [timed(h, memoise=False, repeats=1) for h in histories]
            assert [ok for *_, ok in on] == [ok for *_, ok in off]
            times = [b[0] / a[0] for a, b in zip(on, off)]
            states = [b[1] / a[1] for a, b in zip(on, off)]
            med = statistics.median
            print(f"  {f'{ops} ops, {kind}':<24} {med(x[0] for x in on):>7.2f} "
                  f"{med(x[0] for x in off):>8.2f} {med(x[1] for x in on):>10,.0f} "
                  f"{med(x[1] for x in off):>11,.0f} {med(times):>6.1f}x {max(times):>6.0f}x "
                  f"{med(states):>7.1f}x {max(states):>6.0f}x")


if __name__ == "__main__":
    main()
