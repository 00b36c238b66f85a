"""The runtime on loopback, next to the simulator: messages per second, write latency, fsync.

One workload, Multi-Paxos with 3 replicas and CLIENTS clients issuing writes and reads back
to back (no think time), no faults, run three ways:

* runtime, fsync: ``replib.runtime.Cluster``, every node a process on 127.0.0.1, every
  message through the router, stable fields fsynced before a handler's messages leave;
* runtime, no fsync: the same, writing the disk without fsync (what fsync costs);
* simulator: ``Simulation`` with the same nodes (latency Uniform(0.5, 1.5) time units, the
  trace recorded without node states), timed on the wall clock.

For each it prints messages delivered per second of wall-clock time, operations per second,
and the median and 90th percentile of write latency: in milliseconds for the runtime, in
time units (message delays) for the simulator, whose clock is not the wall's.  Then a
micro-benchmark of the disk alone: the median time of one ``Disk.save`` (a promise and one
accepted slot: one JSON line) with and without fsync, on the file system of the run's
directory.  Last, the ratios, all measured in this one run: simulator / runtime messages
per second, runtime without / with fsync, and a save with / without fsync, and what one
message delay of the simulator costs on loopback (the runtime's median write latency over
the simulator's, in message delays).  The machine's load average is printed first: the
runtime's figures are wall-clock figures of 3 + CLIENTS processes and the router sharing
the cores, and move with whatever else runs.

Run: .venv/bin/python bench/bench_runtime.py [--seconds 3] [--clients 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from replib import Network, Simulation, Uniform  # noqa: E402
from replib.protocols.multipaxos import Replica, multipaxos_system  # noqa: E402
from replib.runtime import Cluster, Registry  # noqa: E402
from replib.runtime.disk import Disk  # noqa: E402

UNIT = 0.02          # seconds per time unit in the runtime
SAVES = 300          # Disk.save calls per setting in the micro-benchmark


def system(clients: int) -> list:
    return multipaxos_system(3, clients=clients, ops=100_000, think=0.0, timeout=4.0,
                             heartbeat=1.0, client_timeout=8.0, client_start=2.0)


def writes(history, scale):
    return sorted(op.latency * scale for op in history
                  if op.response is not None and op.op[0] == "write")


def p90(xs):
    return xs[int(0.9 * (len(xs) - 1))] if xs else float("nan")


def runtime(clients: int, seconds: float, fsync: bool) -> dict:
    until = seconds / UNIT
    with Cluster(system(clients), time_unit=UNIT, fsync=fsync, max_seconds=seconds + 60) as c:
        c.run(until=until)
        c.stop()
        trace = c.trace()
    start = 2.0                                   # the clients start at t = 2
    delivered = sum(1 for e in trace.events if e.kind == "deliver" and e.time >= start)
    history = trace.history()
    wall = (until - start) * UNIT
    lat = writes(history, UNIT * 1000)
    return {"msgs/s": delivered / wall, "ops/s": sum(op.response is not None for op in history)
            / wall, "write p50": statistics.median(lat), "write p90": p90(lat), "ops": len(history)}


def simulator(clients: int, until: float = 2000.0) -> dict:
    sim = Simulation(system(clients), network=Network(Uniform(0.5, 1.5)), seed=1,
                     record_states=False)
    t0 = time.perf_counter()
    trace = sim.run(until=until)
    wall = time.perf_counter() - t0
    history = trace.history()
    lat = writes(history, 1.0)
    return {"msgs/s": trace.count("deliver") / wall, "ops/s": len(history) / wall,
            "write p50": statistics.median(lat), "write p90": p90(lat), "ops": len(history)}


def save_time(fsync: bool, directory: str) -> float:
    """Median seconds of one Disk.save that writes a promise and one accepted slot."""
    r = Replica("r1", ["r1", "r2", "r3"], 0)
    r._attach(["r1", "r2", "r3"], None)
    disk = Disk(os.path.join(directory, f"bench-{fsync}.jsonl"), "r1", Registry.for_nodes([r]),
                fsync=fsync)
    disk.load(r)
    times = []
    for i in range(SAVES):
        r.promised = i
        r.accepted[i] = (i, ("c1", i, ("write", "x", i)))
        t0 = time.perf_counter()
        disk.save(r)
        times.append(time.perf_counter() - t0)
    disk.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    print(f"Multi-Paxos, 3 replicas, {args.clients} clients back to back, no faults; "
          f"runtime: {args.seconds:g} s at {UNIT * 1000:g} ms per time unit; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    rows = {"runtime, fsync": runtime(args.clients, args.seconds, True),
            "runtime, no fsync": runtime(args.clients, args.seconds, False),
            "simulator": simulator(args.clients)}
    for name, r in rows.items():
        unit = "time units" if name == "simulator" else "ms"
        print(f"  {name:18} {r['msgs/s']:>9,.0f} messages/s  {r['ops/s']:>8,.0f} ops/s   "
              f"write latency p50 {r['write p50']:.3g} {unit}, p90 {r['write p90']:.3g} {unit}"
              f"  ({r['ops']:,} operations)")
    with tempfile.TemporaryDirectory(prefix="replib-bench-") as d:
        synced, unsynced = save_time(True, d), save_time(False, d)
    print(f"  one Disk.save (promise + one accepted slot), median of {SAVES}: "
          f"{synced * 1e6:,.0f} us with fsync, {unsynced * 1e6:,.0f} us without "
          f"(in {tempfile.gettempdir()})")
    fs, nofs, sim = rows["runtime, fsync"], rows["runtime, no fsync"], rows["simulator"]
    print("ratios (this run):")
    print(f"  simulator / runtime (fsync), messages/s:   {sim['msgs/s'] / fs['msgs/s']:.1f}x")
    print(f"  simulator / runtime (no fsync), messages/s: {sim['msgs/s'] / nofs['msgs/s']:.1f}x")
    print(f"  runtime no fsync / fsync, messages/s:       {nofs['msgs/s'] / fs['msgs/s']:.2f}x")
    print(f"  runtime fsync / no fsync, write latency p50: "
          f"{fs['write p50'] / nofs['write p50']:.2f}x")
    print(f"  Disk.save with / without fsync:             {synced / unsynced:.0f}x")
    print(f"  a write is {sim['write p50']:.2g} message delays in the simulator, so on loopback "
          f"one delay costs {nofs['write p50'] / sim['write p50']:.2g} ms without fsync, "
          f"{fs['write p50'] / sim['write p50']:.2g} ms with it")


if __name__ == "__main__":
    main()
