"""Linearizability checker benchmark: compare-and-set histories against issue 16's targets,
read/write histories against the checker before it, Jepsen's etcd corpus, and the memo.

Every check is the full ``linearizable()`` call, explanation included (for a rejection: the
shortest failing prefix, the culprit and the values it could have seen), timed with
time.perf_counter as the best of REPEATS runs.

1. **Compare-and-set** (the target: median < 50 ms, worst < 1 s): 100 operations from 5
   clients on one register, shaped like Jepsen's etcd tests (values 0..4, 40 % reads, 30 %
   cas, 30 % writes; each answer lost with probability 0.1, the client then replaced by a
   new one), kept to histories with at most 10 indeterminate operations.  Two kinds, SEEDS
   histories each: as made by ``random_history`` (linearizable by construction), and with
   one bad read (``with_bad_read``: a read given the value of an update concurrent with it,
   such that the history is no longer linearizable; only the search can tell).
2. **Read/write, before and after**: the 200-operation, 5-client read/write histories this
   bench measured before issue 16 (linearizable; one stale read, which the pre-check
   catches; one bad read), each timed with this checker and with the one of commit BASELINE
   (loaded from git), interleaved, in the same run.  Ratios are per history, before / now:
   the median and the lowest (the history where this checker gained least).
3. **Jepsen's etcd corpus**: the 102 histories of ``tests/fixtures/jepsen`` read and
   checked; every verdict must be Porcupine's.
4. **Memoisation on vs off**, side by side on smaller read/write histories where the
   unmemoised search still finishes.

Run: .venv/bin/python bench/bench_history.py [--quick] [--baseline REV]
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from replib.history import linearizable, random_history, with_stale_read  # noqa: E402
from replib.jepsen import load_jepsen  # noqa: E402
from replib.trace import Operation  # noqa: E402

BASELINE = "7e53433"          # the last commit before issue 16's checker
CAS_OPS, CAS_CLIENTS, CAS_MAX_INDETERMINATE = 100, 5, 10
TARGET_MEDIAN_MS, TARGET_WORST_MS = 50, 1000
RW_OPS, CLIENTS = 200, 5
SEEDS, MEMO_SEEDS, REPEATS = 21, 9, 3
CORPUS = os.path.join(ROOT, "tests", "fixtures", "jepsen")
med = statistics.median


def with_bad_read(history, seed, check=linearizable):
    """The history with one read changed to the value of a write or cas concurrent with it,
    such that the history is no longer linearizable (checked), or None if no read
    qualifies.  The latest such read is chosen, so the search has the whole history to
    explore."""
    rng = random.Random(seed)
    reads = [n for n, x in enumerate(history) if x.op[0] == "read" and x.response is not None]
    reads.sort(key=lambda n: history[n].response, reverse=True)
    for n in reads:
        r = history[n]
        overlapping = sorted({w.op[-1] for w in history if w.op[0] != "read"
                              and w.invoke < r.response
                              and (w.response is None or w.response > r.invoke)} - {r.result},
                             key=repr)
        rng.shuffle(overlapping)
        for value in overlapping:
            bad = history[:n] + [Operation(r.client, r.op, r.invoke, r.response, value)] \
                + history[n + 1:]
            if not check(bad).ok:
                return bad
    return None


def cas_histories(seeds):
    """{kind: [history, ...]} for compare-and-set histories, seeds 0, 1, ..."""
    out = {"linearizable": [], "one bad read": []}
    seed = 0
    while len(out["linearizable"]) < seeds:
        h = random_history(CAS_OPS, CAS_CLIENTS, seed, read_fraction=0.4, cas_fraction=0.3,
                           values=5, unanswered=0.1)
        seed += 1
        if sum(x.response is None for x in h) > CAS_MAX_INDETERMINATE:
            continue
        bad = with_bad_read(h, seed)
        if bad is not None:
            out["linearizable"].append(h)
            out["one bad read"].append(bad)
    return out


def rw_histories(ops, seeds):
    """{kind: [history, ...]} for read/write histories, seeds 0, 1, ..."""
    out = {"linearizable": [], "one stale read": [], "one bad read": []}
    seed = 0
    while min(map(len, out.values())) < seeds:
        h = random_history(ops, CLIENTS, seed)
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


def timed(check, history, repeats=REPEATS, **options):
    """(best time in ms, search states, verdict) of check(history)."""
    best = None
    for _ in range(repeats):
        start = time.perf_counter()
        r = check(history, **options)
        ms = (time.perf_counter() - start) * 1000
        best = ms if best is None else min(best, ms)
    return best, r.states, r.ok


def load_baseline(rev):
    """``linearizable`` of replib/history.py at commit ``rev``, or None (with the reason)."""
    try:
        source = subprocess.run(["git", "-C", ROOT, "show", f"{rev}:replib/history.py"],
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        return None, f"git show {rev}:replib/history.py failed ({e})"
    path = os.path.join(tempfile.mkdtemp(), "history_baseline.py")
    with open(path, "w") as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("replib._history_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module            # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.linearizable, None


def cas_section(seeds):
    print(f"1. Compare-and-set: {CAS_OPS} ops, {CAS_CLIENTS} clients, values 0..4, at most "
          f"{CAS_MAX_INDETERMINATE} indeterminate, {seeds} histories per kind "
          f"(best of {REPEATS} runs each)")
    print(f"  {'kind':<15} {'median ms':>10} {'worst ms':>9} {'states (median, worst)':>23}  "
          f"indeterminate ops (median, max)  verdicts")
    for kind, histories in cas_histories(seeds).items():
        runs = [timed(linearizable, h) for h in histories]
        assert {ok for *_, ok in runs} == {kind == "linearizable"}, kind
        ms = [t for t, _, _ in runs]
        states = [s for _, s, _ in runs]
        lost = [sum(x.response is None for x in h) for h in histories]
        print(f"  {kind:<15} {med(ms):>10.1f} {max(ms):>9.1f} "
              f"{f'{med(states):,.0f}, {max(states):,}':>23}  "
              f"{f'{med(lost):.0f}, {max(lost)}':>31}  "
              f"all {'linearizable' if kind == 'linearizable' else 'rejected'}")
        print(f"  {'':<15} target: median < {TARGET_MEDIAN_MS} ms "
              f"({TARGET_MEDIAN_MS / med(ms):.0f}x headroom), worst < {TARGET_WORST_MS} ms "
              f"({TARGET_WORST_MS / max(ms):.0f}x headroom)")


def rw_section(seeds, rev):
    old, why = load_baseline(rev)
    print(f"2. Read/write: {RW_OPS} ops, {CLIENTS} clients, {seeds} histories per kind, now "
          f"vs before (commit {rev}), interleaved in this run (best of {REPEATS} runs each)")
    if old is None:
        print(f"  (no side-by-side figures: {why})")
    print(f"  {'kind':<15} {'now median':>10} {'worst':>7} {'before median':>14} {'worst':>7} "
          f"{'before/now median':>18} {'lowest':>7}")
    for kind, histories in rw_histories(RW_OPS, seeds).items():
        now, before = [], []
        for h in histories:
            now.append(timed(linearizable, h))
            if old is not None:
                before.append(timed(old, h))
        assert {ok for *_, ok in now} == {kind == "linearizable"}, kind
        line = f"  {kind:<15} {med(t for t, *_ in now):>10.1f} {max(t for t, *_ in now):>7.1f}"
        if before:
            assert [ok for *_, ok in before] == [ok for *_, ok in now]
            ratios = [b[0] / a[0] for a, b in zip(now, before)]
            line += (f" {med(t for t, *_ in before):>14.1f} {max(t for t, *_ in before):>7.1f} "
                     f"{med(ratios):>17.2f}x {min(ratios):>6.2f}x")
        print(line)


def corpus_section():
    expected = json.load(open(os.path.join(CORPUS, "expected.json")))
    times = []
    start = time.perf_counter()
    for name, verdict in sorted(expected.items()):
        t = time.perf_counter()
        r = linearizable(load_jepsen(os.path.join(CORPUS, name)))
        times.append(((time.perf_counter() - t) * 1000, name))
        assert r.ok == verdict, name
    total = time.perf_counter() - start
    worst = max(times)
    print(f"3. Jepsen's etcd corpus: {len(times)} histories read and checked in {total:.2f} s, "
          f"every verdict Porcupine's; per history median {med(t for t, _ in times):.1f} ms, "
          f"worst {worst[0]:.0f} ms ({worst[1]})")


def memo_section(quick):
    print(f"4. Memoisation on vs off, same read/write histories, same run ({MEMO_SEEDS} seeds "
          f"per row; off: one run per")
    print("   history, and explaining a rejection stops at 50,000 states, so its times are lower")
    print("   bounds).  Ratios are per history, off / on: median and worst.")
    print(f"  {'history':<24} {'on ms':>7} {'off ms':>8} {'on states':>10} {'off states':>11} "
          f"{'time ratio':>15} {'states ratio':>17}")
    for ops in (20, 30) if quick else (20, 30, 40):
        for kind, histories in rw_histories(ops, MEMO_SEEDS).items():
            if kind == "one stale read":
                continue
            on = [timed(linearizable, h) for h in histories]
            off = [timed(linearizable, h, repeats=1, memoise=False) for h in histories]
            assert [ok for *_, ok in on] == [ok for *_, ok in off]
            times = [b[0] / a[0] for a, b in zip(on, off)]
            states = [b[1] / a[1] for a, b in zip(on, off)]
            print(f"  {f'{ops} ops, {kind}':<24} {med(x[0] for x in on):>7.2f} "
                  f"{med(x[0] for x in off):>8.2f} {med(x[1] for x in on):>10,.0f} "
                  f"{med(x[1] for x in off):>11,.0f} {med(times):>6.1f}x {max(times):>6.0f}x "
                  f"{med(states):>7.1f}x {max(states):>6.0f}x")


def main():
    quick = "--quick" in sys.argv
    rev = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else BASELINE
    cas_section(7 if quick else SEEDS)
    print()
    rw_section(5 if quick else 11, rev)
    print()
    corpus_section()
    print()
    memo_section(quick)


if __name__ == "__main__":
    main()
