"""The simulation: an event queue, the network, faults, and a trace of everything.

Deterministic and single-threaded: one ``random.Random(seed)`` makes every choice, so the
same nodes, network, faults and seed give the same trace (``trace.digest()``) anywhere.

Two ways to drive it:
  * seeded (default): ``step()`` takes the next event from the queue; ``run()`` loops.
  * controlled (``controls=Controls(...)``): no dice and no latencies.  ``enabled()`` lists
    what may happen next (deliver or drop each in-flight message, fire a timer, crash or
    restart a node) and ``perform(action)`` does it.  The checker explores exactly these
    actions, so its counterexamples replay here.
"""

from __future__ import annotations

import copy
import functools
import gc
import heapq
import math
import random

from .actions import Controls, Crash, Deliver, Drop, Fire
from .faults import Fault
from .network import Network
from .node import (CancelTimer, HandlerError, Node, Record, Send, SetTimer, handles_message,
                   message_types)
from .state import _SCALARS, thaw
from .trace import Event, Trace
from .validate import boolean, integer, whole_number


_STEP = ("step",)      # the log's entry for one seeded step (see rewind)


def check_nodes(nodes) -> list:
    """Validate a system's nodes: at least one, all Nodes, ids unique."""
    if isinstance(nodes, (str, bytes, dict)) or not hasattr(nodes, "__iter__"):
        hint = " (call it: paxos_system())" if callable(nodes) else ""
        raise ValueError(f"nodes must be a list of Node objects{hint}, got {nodes!r}")
    nodes = list(nodes)
    if not nodes:
        raise ValueError("a system needs at least one node; got an empty list")
    seen = set()
    for n in nodes:
        if not isinstance(n, Node):
            raise ValueError(f"every node must be a replib Node (a subclass of replib.Node), "
                             f"got {n!r}")
        if not isinstance(getattr(n, "id", None), str):
            raise ValueError(f"{type(n).__name__} has no id: its __init__ must call "
                             f"super().__init__(id) (Node.__init__ sets the id) before setting "
                             f"its own fields")
        if n.id in seen:
            raise ValueError(f"duplicate node id {n.id!r}: every node needs its own id")
        seen.add(n.id)
    return nodes


def node_rng(seed, node_id) -> random.Random:
    """A node's own random source, derived from the run's seed and the node's id."""
    return random.Random(f"{seed}/{node_id}")


class Simulation:
    """Run a set of nodes over a network with a fault schedule, recording a trace.

    nodes: Node objects (copied: the ones you pass stay untouched).
    network: a Network (default: every message takes 1 time unit, nothing lost).
    faults: a fault from replib.faults (crash, restart, partition, heal, cut, drop), or a
    list of them.
    seed: an integer; it drives every random choice.
    controls: None for the seeded scheduler, or Controls(...) for controlled mode.
    record_states: store each acting node's state in the trace (the player's table uses it).
    """

    def __init__(self, nodes, network: Network | None = None, faults=(), seed: int = 0,
                 controls: Controls | None = None, record_states: bool = True,
                 clocks=None, drift: float = 0.0):
        nodes = check_nodes(nodes)
        integer("seed", seed)
        boolean("record_states", record_states)
        if network is None:
            network = Network()
        if not isinstance(network, Network):
            raise ValueError(f"network must be a replib Network, got {network!r}")
        if controls is not None and not isinstance(controls, Controls):
            raise ValueError(f"controls must be None or a Controls(...), got {controls!r}")
        faults = [faults] if isinstance(faults, Fault) else faults
        if isinstance(faults, (str, bytes, dict)) or not hasattr(faults, "__iter__"):
            raise ValueError(f"faults must be a fault (crash, restart, partition, ...) or a "
                             f"list of them, got {faults!r}")
        faults = list(faults)
        for f in faults:
            if not isinstance(f, Fault):
                raise ValueError(f"faults must be made with replib.faults functions "
                                 f"(crash, restart, partition, ...), got {f!r}")
        ids = [n.id for n in nodes]
        for f in faults:
            self._check_fault(f, nodes)
            if f.at is None and f.when is None:
                raise ValueError(f"fault '{f.describe()}' has neither at= nor when=, so it would "
                                 f"never happen; give at=0 for the start of the run, or call "
                                 f"sim.apply(fault) to make it happen now")
        if controls is not None:
            controls.validate(ids)
            controls.validate_nodes(nodes)
            if any(f.at is not None or f.kind == "drop" for f in faults):
                raise ValueError("in controlled mode there is no clock: give faults with "
                                 "when= conditions, or perform Crash/Restart actions yourself")

        rates = _clock_rates(clocks, drift, [n.id for n in nodes], controls)
        self._config = copy.deepcopy((nodes, network, faults, rates, drift))
        self.seed = seed
        self.controls = controls
        self.record_states = record_states
        self._log = []
        self._reset()

    # ---- building and rebuilding --------------------------------------------------------
    def _reset(self):
        nodes, network, faults, rates, drift = copy.deepcopy(self._config)
        self.nodes: dict[str, Node] = {n.id: n for n in nodes}
        ids = tuple(self.nodes)
        self.network = network
        network._attach(ids)
        self.rng = random.Random(self.seed)
        clock_rng = random.Random(f"clocks {self.seed}")   # its own source: runs without
        # drift draw the same network delays as before clocks existed
        self._clocks = {}       # node -> [true time, local time, rate] at the last change
        self._backups = {}      # node -> its stable fields at its last backup
        for n in nodes:
            n._attach(ids, node_rng(self.seed, n.id))
            if self.controls is None:
                rate = rates.get(n.id) or (1.0 + clock_rng.uniform(-drift, drift) if drift
                                           else 1.0)
                self._clocks[n.id] = [0.0, 0.0, rate]
                n._clock = functools.partial(self.clock_of, n.id)
        self.now = 0.0
        self.crashed: set[str] = set()
        self.crashes = 0
        self.stopped = None
        self._queue = []        # (time, priority, seq, kind, payload)
        self._seq = 0
        self._msg_ids = 0
        self._timers: dict[str, dict] = {i: {} for i in ids}   # node -> {timer: token}
        self._in_flight = []    # controlled mode: [msg_id, src, dst, msg] in send order
        self._last_arrival = {}  # fifo links: (src, dst) -> latest arrival time
        self._drop_rules = []   # [fault, remaining]
        self._conditions = [f for f in faults if f.when is not None]
        self.trace = Trace(ids, {i: type(n).__name__ for i, n in self.nodes.items()},
                           {i: n.state() for i, n in self.nodes.items()},
                           {i: type(n) for i, n in self.nodes.items()})
        for f in faults:
            if f.at is not None:
                self._push(float(f.at), 1, "fault", f)   # times are floats (at=7 == at=7.0)
        for n in nodes:
            self._run(n, "start", n.run_hook, "on_start")
        self._check_conditions()   # a condition the start steps made true fires next

    @staticmethod
    def _check_fault(f: Fault, nodes) -> None:
        ids = [n.id for n in nodes]
        names = [n for g in f.nodes for n in g] if f.kind == "partition" else \
            [n for n in f.nodes if n is not None]
        unknown = [n for n in names if n not in ids]
        if unknown:
            raise ValueError(f"fault '{f.describe()}' names unknown node(s) {unknown}; "
                             f"nodes are {list(ids)}")
        if f.kind == "partition":
            probe = Network()
            probe._attach(ids)
            probe.partition(f.nodes)   # raises ValueError on overlapping groups
        if f.kind == "drop" and f.msg_type is not None and not handles_message(nodes, f.msg_type):
            raise ValueError(f"fault '{f.describe()}': no node here handles a message called "
                             f"{f.msg_type!r}, so it would drop nothing; the message types "
                             f"here are: {', '.join(message_types(nodes))}")

    def _push(self, time, priority, kind, payload):
        self._seq += 1
        heapq.heappush(self._queue, (time, priority, self._seq, kind, payload))

    # ---- running handlers and applying their effects -----------------------------------
    def _run(self, node: Node, kind, fn, item, sender=None, msg_id=None):
        """One step at ``node``: record the primary event, run the handler, apply effects."""
        trace = self.trace          # the hot path: the step's event is made here, not by
        events = trace.events       # trace.add, to save a call per step
        trace.steps.append(len(events))
        event = Event(len(events), len(trace.steps) - 1, self.now, kind, node.id, sender,
                      None if kind in ("start", "restart") else item, msg_id, None, None, True)
        events.append(event)
        try:
            effects = fn(item) if sender is None else fn(item, sender)
        except Exception as exc:
            where = (f"{type(node).__name__} {node.id!r} failed in step {event.step} "
                     f"(event {event.index}, t={self.now:g}) handling "
                     f"{event.describe()}: {type(exc).__name__}: {exc}")
            if isinstance(exc, ValueError):
                raise ValueError(where) from exc
            raise HandlerError(where) from exc
        if self.record_states:      # the fields' values, made a dict when first read
            try:
                values = node._read(node.__dict__)       # node.snapshot(), inlined
            except KeyError:
                values = node.snapshot()                  # says which field disappeared
            for v in values:
                if type(v) not in _SCALARS:               # a list, a dict...: frozen copies
                    values = node.snapshot()
                    break
            event._state = (node._fields, values)
        for eff in effects:
            if eff.__class__ is Send:       # the common effect, without a call
                self._send(node.id, eff.to, eff.msg)
            else:
                self._apply_effects(node.id, (eff,))
        return event

    def _apply_effects(self, src, effects):
        for eff in effects:
            if isinstance(eff, Send):
                self._send(src, eff.to, eff.msg)
            elif isinstance(eff, SetTimer):
                self._set_timer(src, eff.timer, eff.delay)
            elif isinstance(eff, CancelTimer):
                self._cancel_timer(src, eff.timer)
            elif isinstance(eff, Record):
                self.trace.add(self.now, eff.kind, node=src, msg=eff.op, detail=eff.result)

    def _send(self, src, dst, msg):
        self._msg_ids += 1
        msg_id = self._msg_ids
        events = self.trace.events   # trace.add, inlined (the hot path)
        events.append(Event(len(events), len(self.trace.steps) - 1, self.now, "send", src, dst,
                            msg, msg_id, None, None, False))
        net = self.network
        if self.controls is not None:
            if not net.connected(src, dst):
                self._lose(msg_id, src, dst, msg, self._cut_reason(src, dst))
            elif self.controls.duplicate and any(e[1:] == [src, dst, msg] for e in self._in_flight):
                # a duplicating network holds a set of messages: the copy adds nothing
                self._lose(msg_id, src, dst, msg, "same as a message already in flight")
            else:
                self._in_flight.append([msg_id, src, dst, msg])
            return
        # always draw in the same order, so a run's dice do not depend on the settings
        lost = self.rng.random() < net._loss          # (the fields behind the validating
        doubled = self.rng.random() < net._duplicate  # properties: this is the hot path)
        if (net.groups is not None or net.cuts) and not net.connected(src, dst):
            self._lose(msg_id, src, dst, msg, self._cut_reason(src, dst))
        elif self._drop_rules and self._matches_drop_rule(src, dst, msg):
            self._lose(msg_id, src, dst, msg, "dropped by the fault schedule")
        elif lost:
            self._lose(msg_id, src, dst, msg, "random loss")
        elif not (net.links or net.fifo):     # _schedule_delivery, inlined (the hot path)
            self._seq += 1
            heapq.heappush(self._queue, (self.now + net.latency.sample(self.rng), 1, self._seq,
                                         "deliver", (msg_id, src, dst, msg)))
            if doubled:
                self._msg_ids += 1
                self.trace.add(self.now, "duplicate", node=src, peer=dst, msg=msg,
                               msg_id=self._msg_ids, detail=msg_id)
                self._schedule_delivery(self._msg_ids, src, dst, msg)
        else:
            self._schedule_delivery(msg_id, src, dst, msg)
            if doubled:
                self._msg_ids += 1
                self.trace.add(self.now, "duplicate", node=src, peer=dst, msg=msg,
                               msg_id=self._msg_ids, detail=msg_id)
                self._schedule_delivery(self._msg_ids, src, dst, msg)

    def _schedule_delivery(self, msg_id, src, dst, msg):
        net = self.network
        model = net.links.get((src, dst), net.latency) if net.links else net.latency
        arrival = self.now + model.sample(self.rng)
        if net.fifo:
            arrival = max(arrival, self._last_arrival.get((src, dst), 0.0))
            self._last_arrival[(src, dst)] = arrival
        self._seq += 1     # self._push, inlined
        heapq.heappush(self._queue, (arrival, 1, self._seq, "deliver", (msg_id, src, dst, msg)))

    def _lose(self, msg_id, src, dst, msg, reason, primary=False):
        return self.trace.add(self.now, "drop", primary=primary, node=src, peer=dst, msg=msg,
                       msg_id=msg_id, detail=reason)

    def _cut_reason(self, src, dst):
        return "link cut" if (src, dst) in self.network.cuts else "partition"

    def _matches_drop_rule(self, src, dst, msg):
        for rule in self._drop_rules:
            fault, remaining = rule
            want_src, want_dst = fault.nodes
            if (remaining > 0 and (fault.msg_type is None or fault.msg_type == type(msg).__name__)
                    and want_src in (None, src) and want_dst in (None, dst)):
                rule[1] -= 1
                return True
        return False

    def _set_timer(self, node, timer, delay):
        self._seq += 1
        token = self._seq
        pending = self._timers[node]
        pending.pop(timer, None)       # re-setting a timer moves it (keeps insertion order fresh)
        pending[timer] = token
        if self.controls is None:   # a duration on the node's clock: a fast clock fires early
            self._push(self.now + delay / self._clocks[node][2], 1, "timer",
                       (node, timer, token))

    def _cancel_timer(self, node, timer):
        pending = self._timers[node]
        for t in [t for t in pending if t == timer or (isinstance(timer, type) and isinstance(t, timer))]:
            del pending[t]

    # ---- the seeded scheduler -----------------------------------------------------------
    def step(self):
        """Do the next event; return its primary event, or None when nothing is left."""
        if self.controls is not None:
            raise ValueError("this simulation is in controlled mode: use enabled() and "
                             "perform(action) instead of step()")
        self._log.append(_STEP)
        return self._step()

    def _step(self):
        while self._queue:
            time, _, _, kind, payload = heapq.heappop(self._queue)
            if kind == "timer":
                node, timer, token = payload
                if self._timers[node].get(timer) != token:
                    continue          # cancelled or re-set: a stale timer
            if time > self.now:
                self.now = time
            if kind == "deliver":
                msg_id, src, dst, msg = payload
                net = self.network
                if dst in self.crashed or ((net.groups is not None or net.cuts)
                                           and not net.connected(src, dst)):
                    event = self._deliver(msg_id, src, dst, msg)    # lost on arrival
                else:
                    node = self.nodes[dst]
                    event = self._run(node, "deliver", node.handle, msg, src, msg_id)
            elif kind == "timer":
                del self._timers[node][timer]
                n = self.nodes[node]
                event = self._run(n, "timer", n.handle, timer)
            else:
                event = self._fault(payload)
            if self._conditions:
                self._check_conditions()
            return event
        self.stopped = "nothing left to do"
        return None

    def _deliver(self, msg_id, src, dst, msg):
        if dst in self.crashed:
            return self._lose(msg_id, src, dst, msg, f"{dst} is down", primary=True)
        net = self.network
        if (net.groups is not None or net.cuts) and not net.connected(src, dst):
            return self._lose(msg_id, src, dst, msg, self._cut_reason(src, dst), primary=True)
        node = self.nodes[dst]
        return self._run(node, "deliver", node.handle, msg, src, msg_id)

    def _check_conditions(self):
        if not self._conditions:
            return
        for fault in list(self._conditions):
            if fault.when(self):
                # by identity: faults that differ only in their condition compare equal
                self._conditions = [f for f in self._conditions if f is not fault]
                if self.controls is None:
                    self._push(self.now, 0, "fault", fault)   # next, before anything else
                else:
                    self._fault(fault)

    def _drop_stale_timers(self):
        """Pop cancelled or re-set timers off the head of the queue (step() skips them)."""
        queue = self._queue
        while queue and queue[0][3] == "timer":
            node, timer, token = queue[0][4]
            if self._timers[node].get(timer) == token:
                return
            heapq.heappop(queue)

    def run(self, until=None, max_events: int = 100_000) -> Trace:
        """Step until the time ``until`` (a number), until ``until(sim)`` is true, until
        nothing is left, or until the trace holds ``max_events`` events.  Returns the trace."""
        if self.controls is not None:
            raise ValueError("this simulation is in controlled mode: use perform(action)")
        if until is not None and not callable(until):
            if isinstance(until, bool) or not isinstance(until, (int, float)) \
                    or not 0 <= until < math.inf:
                raise ValueError(f"until must be a finite time >= 0 or a function of the "
                                 f"simulation (None: until nothing is left), got {until!r}")
        whole_number("max_events", max_events, 1)
        self.stopped = None
        condition = until if callable(until) else None
        deadline = until if condition is None else None
        # The trace only grows and holds no reference cycles, so the cyclic garbage collector
        # would traverse it again and again for nothing (a fifth of the run time); pause it,
        # as timeit does.  Cycles a handler may create are collected when it is back on.
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            if condition is None and deadline is None:      # the common loop, kept tight
                events, log, step = self.trace.events, self._log, self._step
                while True:
                    if len(events) >= max_events:
                        self.stopped = f"max_events ({max_events}) reached"
                        break
                    log.append(_STEP)
                    if step() is None:
                        break
            while self.stopped is None:
                if len(self.trace.events) >= max_events:
                    self.stopped = f"max_events ({max_events}) reached"
                    break
                if condition is not None and condition(self):
                    self.stopped = "condition met"
                    break
                if deadline is not None:
                    self._drop_stale_timers()   # else step() would skip them, run a later event
                    if not self._queue or self._queue[0][0] > deadline:
                        self.now = max(self.now, float(deadline))
                        self.stopped = f"time {deadline:g} reached"
                        break
                self._log.append(_STEP)         # what step() does, without its mode check
                if self._step() is None:
                    break
        finally:
            if gc_was_on:
                gc.enable()
        self.trace.end = self.now
        return self.trace

    # ---- faults -------------------------------------------------------------------------
    def apply(self, fault: Fault):
        """Make a fault happen now (what the fault panel's buttons do)."""
        if not isinstance(fault, Fault):
            raise ValueError(f"apply() takes a fault from replib.faults, got {fault!r}")
        self._check_fault(fault, list(self.nodes.values()))
        self._log.append(("apply", fault, self.now))   # run(until=t) may have moved the clock
        if self.controls is not None:
            self.now += 1
        event = self._fault(fault)
        self._check_conditions()
        return event

    def crash(self, node: str):
        """Crash ``node`` now."""
        from .faults import crash
        return self.apply(crash(node))

    def restart(self, node: str):
        """Restart ``node`` now."""
        from .faults import restart
        return self.apply(restart(node))

    def partition(self, *groups):
        """Partition the network now."""
        from .faults import partition
        return self.apply(partition(*groups))

    def heal(self):
        """Heal the network now."""
        from .faults import heal
        return self.apply(heal())

    def clock_of(self, node: str) -> float:
        """What ``node``'s local clock reads now."""
        real, local, rate = self._clocks[node]
        return local + rate * (self.now - real)

    def _disk_fault(self, f: Fault):
        """clock, wipe, backup, restore: a note in the trace, and the change they make."""
        node = self.nodes[f.nodes[0]]
        if f.kind == "clock":
            self._clocks[node.id] = [self.now, self.clock_of(node.id) + f.jump,
                                     f.rate if f.rate is not None else self._clocks[node.id][2]]
        elif f.kind == "backup":
            self._backups[node.id] = [(k, v) for k, v in zip(node._fields, node.snapshot())
                                      if k in node.stable]
        else:
            if f.kind == "restore" and node.id not in self._backups:
                raise ValueError(f"restore {node.id}: there is no backup of its disk; put "
                                 f"backup({node.id!r}, at=...) earlier in the schedule")
            if node.id not in self.crashed:
                self._fault(Fault("crash", (node.id,)))
            node.load(node._initial)
            if f.kind == "restore":
                node.__dict__.update((k, thaw(v)) for k, v in self._backups[node.id])
        text = f.describe().replace(" at t=", " (at t=").split(" (at t=")[0]
        return self.trace.add(self.now, f.kind, primary=True, node=node.id, detail=text,
                              state=node.state() if self.record_states else None)

    def _fault(self, f: Fault):
        kind, now = f.kind, self.now
        if kind in ("clock", "wipe", "backup", "restore"):
            return self._disk_fault(f)
        if kind == "crash":
            node = self.nodes[f.nodes[0]]
            if node.id in self.crashed:
                return self.trace.add(now, "crash", primary=True, node=node.id,
                                      detail="already down; nothing happens")
            self.crashed.add(node.id)
            self.crashes += 1
            node.crash_reset()
            self._timers[node.id].clear()
            return self.trace.add(now, "crash", primary=True, node=node.id,
                                  state=node.state() if self.record_states else None)
        if kind == "restart":
            node = self.nodes[f.nodes[0]]
            if node.id not in self.crashed:
                return self.trace.add(now, "restart", primary=True, node=node.id,
                                      detail="was not down; nothing happens")
            self.crashed.discard(node.id)
            return self._run(node, "restart", node.run_hook, "on_restart")
        if kind == "partition":
            groups = self.network.partition(f.nodes)
            event = self.trace.add(now, "partition", primary=True, msg=groups)
            self._drop_disconnected()
            return event
        if kind == "heal":
            self.network.heal()
            return self.trace.add(now, "heal", primary=True)
        if kind == "cut":
            self.network.cut(*f.nodes)
            event = self.trace.add(now, "cut", primary=True, node=f.nodes[0], peer=f.nodes[1])
            self._drop_disconnected()
            return event
        self._drop_rules.append([f, f.count])
        return self.trace.add(now, "drop-rule", primary=True, detail=f.describe())

    def _drop_disconnected(self):
        """Controlled mode: messages in flight across a new partition are lost."""
        keep = []
        for entry in self._in_flight:
            msg_id, src, dst, msg = entry
            if self.network.connected(src, dst):
                keep.append(entry)
            else:
                self._lose(msg_id, src, dst, msg, self._cut_reason(src, dst))
        self._in_flight = keep

    # ---- controlled mode ----------------------------------------------------------------
    def in_flight(self) -> list[tuple]:
        """Messages sent and not yet delivered or lost: (src, dst, msg), oldest first."""
        if self.controls is not None:
            return [(src, dst, msg) for _, src, dst, msg in self._in_flight]
        pending = sorted(item for item in self._queue if item[3] == "deliver")
        return [(src, dst, msg) for *_, (_, src, dst, msg) in pending]

    def pending_timers(self) -> list[tuple]:
        """(node, timer) for every timer that is set and has not fired."""
        return [(n, t) for n, timers in self._timers.items() for t in timers]

    def enabled(self) -> list:
        """Controlled mode: every action that may happen next."""
        if self.controls is None:
            raise ValueError("enabled() is for controlled mode: build the Simulation with "
                             "controls=Controls(...)")
        distinct = list(dict.fromkeys(self.in_flight()))
        return self.controls.enabled(tuple(self.nodes), distinct, self.pending_timers(),
                                     self.crashed, self.crashes)

    def perform(self, action):
        """Controlled mode: do one of the enabled actions; return its primary event."""
        allowed = self.enabled()
        if action not in allowed:
            listing = "\n  ".join(map(str, allowed)) or "(nothing)"
            raise ValueError(f"{action} is not enabled now. Enabled actions:\n  {listing}")
        self._log.append(("perform", action))
        self.now += 1
        if isinstance(action, Deliver):
            entry = next(e for e in self._in_flight if e[1:] == [action.src, action.dst, action.msg])
            if not self.controls.duplicate:
                self._in_flight.remove(entry)
            node = self.nodes[action.dst]
            event = self._run(node, "deliver", node.handle, action.msg, sender=action.src,
                              msg_id=entry[0])
        elif isinstance(action, Drop):
            entry = next(e for e in self._in_flight if e[1:] == [action.src, action.dst, action.msg])
            self._in_flight.remove(entry)
            event = self._lose(entry[0], action.src, action.dst, action.msg, "dropped",
                               primary=True)
        elif isinstance(action, Fire):
            del self._timers[action.node][action.timer]
            node = self.nodes[action.node]
            event = self._run(node, "timer", node.handle, action.timer)
        elif isinstance(action, Crash):
            from .faults import crash
            event = self._fault(crash(action.node))
        else:
            from .faults import restart
            if action.wiped or action.stale:      # the disk is lost before it comes back
                node = self.nodes[action.node]
                node.load(node._initial)
                if action.stale:
                    node.__dict__.update(self.controls.stale_disk(node.id))
                self.trace.add(self.now, "restore" if action.stale else "wipe", node=node.id,
                               detail=f"restore {node.id}'s disk from a stale copy"
                               if action.stale else f"wipe {node.id}'s disk")
            event = self._fault(restart(action.node))
        self._check_conditions()
        return event

    # ---- time travel --------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return len(self.trace.steps)

    def rewind(self, steps: int) -> None:
        """Go back to just after step number ``steps - 1``, by replaying from the start.

        Replaying is exact because every choice came from the seed or from the log of what
        you did (steps, performed actions, applied faults)."""
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= self.steps:
            raise ValueError(f"rewind takes a step count between 0 and {self.steps}, got {steps!r}")
        log = self._log
        self._log = []
        self._reset()
        for entry in log:
            if self.steps >= steps:
                break
            if entry[0] == "step":
                self.step()
            elif entry[0] == "perform":
                self.perform(entry[1])
            else:
                self.now = max(self.now, entry[2])
                self.apply(entry[1])

    def node(self, node_id: str) -> Node:
        """The live node object called ``node_id``."""
        try:
            return self.nodes[node_id]
        except KeyError:
            raise ValueError(f"no node {node_id!r}; nodes are {list(self.nodes)}") from None

    def __repr__(self):
        mode = "controlled" if self.controls is not None else f"seed={self.seed}"
        return (f"<Simulation {mode}: {len(self.nodes)} nodes, t={self.now:g}, "
                f"{self.steps} steps, {self.network}>")


def _clock_rates(clocks, drift, ids, controls) -> dict:
    """Check ``clocks`` (node -> rate) and ``drift`` (rates drawn in 1 +- drift)."""
    if isinstance(drift, bool) or not isinstance(drift, (int, float)) or \
            not 0 <= drift < 1:
        raise ValueError(f"drift must be a number from 0 (perfect clocks) up to, not "
                         f"including, 1 (e.g. 0.01: each clock runs up to 1% fast or slow), "
                         f"got {drift!r}")
    if clocks is None:
        clocks = {}
    if not isinstance(clocks, dict):
        raise ValueError(f"clocks must be a dict node -> rate (1.0: true time, 1.2: 20% "
                         f"fast), got {clocks!r}")
    for node, rate in clocks.items():
        if node not in ids:
            raise ValueError(f"clocks names unknown node {node!r}; nodes are {list(ids)}")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or \
                not 0 < rate < float("inf"):
            raise ValueError(f"clocks[{node!r}] must be a rate > 0 (1.0: true time), "
                             f"got {rate!r}")
    if controls is not None and (clocks or drift):
        raise ValueError("controlled mode has no time, so it has no clocks: leave out "
                         "clocks= and drift=")
    return {node: float(rate) for node, rate in clocks.items()}
