"""Simulator benchmark: replib's kernel against the same workload written with SimPy.

The workload: a ring of NODES nodes.  Each node starts TOKENS tokens; a node that receives a
token forwards it to the next node in the ring until the token has made HOPS hops.  Every
message takes a latency drawn from Uniform(0.5, 1.5) with a seeded random.Random.  Both
versions perform the same deliveries (NODES * TOKENS * HOPS of them) and end with the same
per-node delivery counts, which the script checks.  All three send the same message objects
(the frozen dataclass ``Token``, which replib requires for messages).

* replib: a Node subclass with one handler, run by Simulation with the trace recording every
  send and delivery and each step's node state (record_states=True, the default).
* simpy: written as SimPy's own examples write networks (the "Event Latency" example):
  a simpy.Store per node as its inbox, a process per node that loops on ``inbox.get()``,
  and a process per message that waits ``env.timeout(latency)`` and puts the message in
  the receiver's inbox.  It records nothing.
* simpy-callbacks: a tuned SimPy variant, shown for honesty: no process per message, but an
  ``env.timeout(latency, value=msg)`` whose callback puts the message in the inbox.

"Events" are message deliveries; each version is timed end to end (building included) with
time.perf_counter.  REPEATS rounds each run every version once, back to back; the script prints
each version's median time and rate, and the median (and range) of the per-round ratios, which
stay meaningful on a busy machine where absolute times wander, plus the ratio of the best
times (timeit's measure: the run least disturbed by other processes).

Targets: replib at least 2x idiomatic SimPy and 1.3x callback SimPy (median of the rounds).

Run: .venv/bin/python bench/bench_sim.py [--profile | --profile=FILE]
(--profile prints a cProfile of the replib run instead, kept in memory; --profile=FILE also
saves it to FILE, e.g. for snakeviz.)
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import simpy  # noqa: E402

from replib import Network, Node, Simulation, Uniform  # noqa: E402

NODES, TOKENS, HOPS = 16, 4, 400
DELIVERIES = NODES * TOKENS * HOPS
REPEATS = 9
SEED = 1
LOW, HIGH = 0.5, 1.5


# ---- replib ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    token: int
    hops: int


class RingNode(Node):
    def __init__(self, id, next_id, tokens, hops):
        super().__init__(id)
        self.next_id = next_id
        self.tokens = tokens
        self.hops = hops
        self.received = 0

    def on_start(self):
        for t in range(self.tokens):
            self.send(self.next_id, Token(t, 1))

    def on_token(self, msg, sender):
        self.received += 1
        if msg.hops < self.hops:
            self.send(self.next_id, Token(msg.token, msg.hops + 1))


def run_replib():
    ids = [f"n{i}" for i in range(NODES)]
    nodes = [RingNode(ids[i], ids[(i + 1) % NODES], TOKENS, HOPS) for i in range(NODES)]
    sim = Simulation(nodes, network=Network(Uniform(LOW, HIGH)), seed=SEED)
    sim.run(max_events=10 * DELIVERIES)
    assert sim.stopped == "nothing left to do", sim.stopped
    counts = [sim.node(i).received for i in ids]
    return sum(counts), counts, sim


# ---- simpy: the same ring, with two ways of modelling latency --------------------------------

def _run_simpy_ring(make_send):
    """The token ring in SimPy: a Store inbox and a process per node; ``make_send(env, rng,
    inboxes)`` returns how a message travels."""
    env = simpy.Environment()
    rng = random.Random(SEED)
    inboxes = [simpy.Store(env) for _ in range(NODES)]
    received = [0] * NODES
    send = make_send(env, rng, inboxes)

    def node(i):
        nxt = (i + 1) % NODES
        for t in range(TOKENS):
            send(nxt, Token(t, 1))
        inbox = inboxes[i]
        while True:
            msg = yield inbox.get()
            received[i] += 1
            if msg.hops < HOPS:
                send(nxt, Token(msg.token, msg.hops + 1))

    for i in range(NODES):
        env.process(node(i))
    env.run()
    return sum(received), received, env.now


def _process_per_message(env, rng, inboxes):
    """As SimPy's own examples write it: a process sleeps for the latency, then delivers."""
    def latency(dst, msg):
        yield env.timeout(rng.uniform(LOW, HIGH))
        inboxes[dst].put(msg)

    return lambda dst, msg: env.process(latency(dst, msg))


def _timeout_callback(env, rng, inboxes):
    """Tuned: a timeout event whose callback delivers (no process per message)."""
    def send(dst, msg):
        ev = env.timeout(rng.uniform(LOW, HIGH), value=msg)
        ev.callbacks.append(lambda e: inboxes[dst].put(e.value))

    return send


def run_simpy():
    return _run_simpy_ring(_process_per_message)


def run_simpy_callbacks():
    return _run_simpy_ring(_timeout_callback)


# ---- measuring -------------------------------------------------------------------------------

def main():
    profile = [a for a in sys.argv[1:] if a == "--profile" or a.startswith("--profile=")]
    if profile:
        import cProfile
        import pstats
        profiler = cProfile.Profile()
        profiler.runcall(run_replib)
        stats = pstats.Stats(profiler)
        if profile[0].startswith("--profile="):
            stats.dump_stats(profile[0].split("=", 1)[1])   # only where the reader asked
        stats.sort_stats("tottime").print_stats(18)
        return
    print("load:", os.getloadavg())
    print(f"workload: ring of {NODES} nodes, {TOKENS} tokens each, {HOPS} hops per token, "
          f"Uniform({LOW}, {HIGH}) latency -> {DELIVERIES} message deliveries; "
          f"{REPEATS} rounds")
    runs = [("replib (trace + states on)", run_replib),
            ("simpy (Store + process/message)", run_simpy),
            ("simpy-callbacks (tuned)", run_simpy_callbacks)]
    times = {name: [] for name, _ in runs}
    results = {}
    for r in range(REPEATS):
        # one round runs every version once, back to back and in a rotating order, so that a
        # busy machine slows the versions of a round alike; ratios are taken within a round
        for name, fn in runs[r % 3:] + runs[:r % 3]:
            t0 = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - t0)
    trace = results[runs[0][0]][2].trace      # the trace recorded every delivery and send
    assert trace.count("deliver") == trace.count("send") == DELIVERIES
    assert all(e.state is not None for e in trace if e.primary)
    for name, _ in runs:
        delivered, per_node, _ = results[name]
        assert delivered == DELIVERIES, (name, delivered)
        seconds = statistics.median(times[name])
        print(f"  {name:34s} median {seconds * 1000:7.1f} ms  "
              f"{DELIVERIES / seconds:>9,.0f} deliveries/s")
    assert len({tuple(results[name][1]) for name, _ in runs}) == 1, "the versions did different work"
    mine = times[runs[0][0]]
    for name, _ in runs[1:]:
        ratios = [theirs / ours for theirs, ours in zip(times[name], mine)]
        print(f"ratio replib / {name.split()[0]:16s} median {statistics.median(ratios):.2f}x  "
              f"(rounds: {min(ratios):.2f}x .. {max(ratios):.2f}x; best times: "
              f"{min(times[name]) / min(mine):.2f}x)"
              + ("  target >= 2x" if name == runs[1][0] else "  target >= 1.3x"))


if __name__ == "__main__":
    main()
