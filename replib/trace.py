"""A trace: every event of a run, in order, and questions one can ask of it.

A *step* is one thing the simulator (or the reader, or the checker) did: start a node,
deliver or lose a message, fire a timer, crash, restart, partition, heal.  A step's first
event is its *primary* event, which carries the acting node's state after the step; the
sends, drops and client records the step caused follow it with the same ``step`` number.

Event kinds: start, deliver, timer, crash, restart, partition, heal, cut, drop-rule, and
send, drop, duplicate, invoke, response.  A drop is primary when a message is lost on
arrival (receiver down, link cut meanwhile) and caused when it is lost as it is sent.
"""

from __future__ import annotations

import hashlib
import numbers
from dataclasses import dataclass

from .state import canonical
from .validate import whole_number

class Event:
    """One thing that happened.  ``msg_id`` ties a send to its deliver, drop or duplicate."""

    __slots__ = ("index", "step", "time", "kind", "node", "peer", "msg", "msg_id", "detail",
                 "_state", "primary")

    def __init__(self, index, step, time, kind, node=None, peer=None, msg=None, msg_id=None,
                 detail=None, state=None, primary=False):
        self.primary = primary
        self.index = index
        self.step = step
        self.time = time
        self.kind = kind
        self.node = node
        self.peer = peer
        self.msg = msg
        self.msg_id = msg_id
        self.detail = detail
        self._state = state

    @property
    def state(self):
        """The acting node's fields after the step (a dict), or None."""
        state = self._state
        if state.__class__ is tuple:    # (fields, values), as the simulator records them:
            state = self._state = dict(zip(*state))    # made into a dict when first read
        return state

    @state.setter
    def state(self, value):
        self._state = value

    @property
    def msg_type(self) -> str | None:
        return None if self.msg is None else type(self.msg).__name__

    def describe(self) -> str:
        """One line a person can read."""
        k, m = self.kind, self.msg
        if k == "send":
            return f"{self.node} sends {m!r} to {self.peer}"
        if k == "deliver":
            return f"{self.node} receives {m!r} from {self.peer}"
        if k == "drop":
            return f"{m!r} from {self.node} to {self.peer} is lost ({self.detail})"
        if k == "duplicate":
            return f"{m!r} from {self.node} to {self.peer} is duplicated"
        if k == "timer":
            return f"{self.node}: timer {m!r} fires"
        if k == "invoke":
            return f"{self.node} invokes {m!r}"
        if k == "response":
            return f"{self.node} gets {self.detail!r} for {m!r}"
        if k == "start":
            return f"{self.node} starts"
        if k == "crash":
            return f"{self.node} crashes" + (f" ({self.detail})" if self.detail else "")
        if k == "restart":
            return f"{self.node} restarts" + (f" ({self.detail})" if self.detail else "")
        if k == "partition":
            return "partition: " + " | ".join(",".join(g) for g in m)
        if k == "heal":
            return "the network heals"
        if k == "cut":
            return f"{self.peer} hears nothing more from {self.node}"
        if k in ("clock", "wipe", "backup", "restore"):
            return self.detail or k
        if k == "drop-rule":
            return f"from now on: {self.detail}"
        return k

    def key(self) -> str:
        """The canonical text that the digest hashes (no set-order or float noise)."""
        return "|".join((str(self.step), canonical(self.time), self.kind, str(self.node),
                         str(self.peer), canonical(self.msg), str(self.msg_id),
                         canonical(self.detail), canonical(self.state)))

    def __repr__(self):
        return f"<{self.index} t={self.time:g} {self.describe()}>"


@dataclass(frozen=True)
class Operation:
    """A client operation: when it was invoked, when (if ever) it returned, and what."""

    client: str
    op: object
    invoke: float
    response: float | None
    result: object = None

    @property
    def latency(self) -> float | None:
        return None if self.response is None else self.response - self.invoke


class Trace:
    """The events of one run, plus what is needed to draw them: node ids and roles."""

    def __init__(self, nodes, roles, initial, classes=None):
        self.nodes = tuple(nodes)          # node ids, in lane order
        self.roles = dict(roles)           # id -> class name
        self.classes = dict(classes or {})  # id -> node class (its milestones, for diagrams)
        self.initial = dict(initial)       # id -> state dict before anything happened
        self.events: list[Event] = []
        self.end = 0.0                     # when the run stopped (run(until=...) sets it)
        self.steps: list[int] = []         # index of each step's primary event

    # ---- building (the simulator calls these) -------------------------------------------
    def add(self, time, kind, primary=False, node=None, peer=None, msg=None, msg_id=None,
            detail=None, state=None) -> Event:
        """Append an event; a primary one opens a new step."""
        events = self.events          # the hot path: explicit fields, positional Event(...)
        if primary:
            self.steps.append(len(events))
        event = Event(len(events), len(self.steps) - 1, time, kind, node, peer, msg, msg_id,
                      detail, state, primary)
        events.append(event)
        return event

    def truncate(self, steps: int) -> None:
        """Forget every step from number ``steps`` on (time travel backwards)."""
        if steps < len(self.steps):
            del self.events[self.steps[steps]:]
            del self.steps[steps:]

    # ---- reading ------------------------------------------------------------------------
    def __len__(self):
        return len(self.events)

    def __iter__(self):
        return iter(self.events)

    def __getitem__(self, i):
        return self.events[i]

    @property
    def duration(self) -> float:
        """The simulated time the run covers: until it stopped, or its last event."""
        return max(self.end, self.events[-1].time if self.events else 0.0)

    def _step(self, step, first: int = 0) -> int:
        """``step`` checked: a whole number from ``first`` to the last step."""
        last = len(self.steps) - 1
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) \
                or not first <= step <= last:
            raise ValueError(f"step must be a whole number from {first} to {last} (this trace "
                             f"has {len(self.steps)} steps), got {step!r}")
        return int(step)

    def step_events(self, step: int) -> list[Event]:
        """The primary event of a step and everything it caused."""
        step = self._step(step)
        start = self.steps[step]
        end = self.steps[step + 1] if step + 1 < len(self.steps) else len(self.events)
        return self.events[start:end]

    def select(self, kind=None, node=None, peer=None, msg_type=None) -> list[Event]:
        """Events matching every given field (kind and msg_type may be a name or a tuple)."""
        kinds = (kind,) if isinstance(kind, str) else kind
        types = (msg_type,) if isinstance(msg_type, str) else msg_type
        return [e for e in self.events
                if (kinds is None or e.kind in kinds)
                and (node is None or e.node == node)
                and (peer is None or e.peer == peer)
                and (types is None or e.msg_type in types)]

    def count(self, kind=None, node=None, peer=None, msg_type=None) -> int:
        return len(self.select(kind, node, peer, msg_type))

    def message_counts(self) -> dict[str, int]:
        """How many messages of each type were sent (duplicates not counted)."""
        counts: dict[str, int] = {}
        for e in self.events:
            if e.kind == "send":
                counts[e.msg_type] = counts.get(e.msg_type, 0) + 1
        return counts

    def messages(self) -> list[dict]:
        """Every message copy: who sent what when, and its fate (delivered, dropped, in flight)."""
        copies: dict[int, dict] = {}   # msg_id -> its latest copy
        out: list[dict] = []
        for e in self.events:
            if e.kind in ("send", "duplicate"):
                c = copies[e.msg_id] = dict(msg_id=e.msg_id, src=e.node, dst=e.peer, msg=e.msg,
                                            sent=e.time, fate="in flight", at=None,
                                            duplicate=e.kind == "duplicate")
                out.append(c)
            elif e.kind in ("deliver", "drop") and e.msg_id in copies:
                c = copies[e.msg_id]
                if c["fate"] != "in flight":   # another copy (controlled duplicating network)
                    c = copies[e.msg_id] = dict(c, duplicate=True)
                    out.append(c)
                if e.kind == "deliver":
                    c.update(fate="delivered", at=e.time)
                else:
                    c.update(fate=f"dropped ({e.detail})", at=e.time)
        return out

    def history(self) -> list[Operation]:
        """Client operations with invoke and response times (response None: never answered)."""
        open_ops: dict[tuple, int] = {}
        ops: list[Operation] = []
        for e in self.events:
            if e.kind == "invoke":
                open_ops[(e.node, e.msg)] = len(ops)
                ops.append(Operation(e.node, e.msg, e.time, None))
            elif e.kind == "response":
                i = open_ops.pop((e.node, e.msg), None)
                if i is not None:
                    ops[i] = Operation(e.node, e.msg, ops[i].invoke, e.time, e.detail)
        return ops

    def states_at(self, step: int) -> dict[str, dict]:
        """Every node's state just after step ``step`` (-1: before anything happened)."""
        step = self._step(step, first=-1)
        states = {n: dict(s) for n, s in self.initial.items()}
        crashed = set()
        for e in self.events[: self.steps[step] + 1 if step >= 0 else 0]:
            if e.state is not None:
                states[e.node] = e.state
            if e.kind == "crash":
                crashed.add(e.node)
            elif e.kind == "restart":
                crashed.discard(e.node)
        return {n: dict(s, **({"(crashed)": True} if n in crashed else {}))
                for n, s in states.items()}

    def digest(self) -> str:
        """A hash of the whole trace: same config and seed, same digest, on any machine."""
        h = hashlib.sha256()
        h.update(repr((self.nodes, sorted(self.roles.items()))).encode())
        for e in self.events:
            h.update(e.key().encode())
            h.update(b"\n")
        return h.hexdigest()[:16]

    def to_text(self, limit: int | None = None) -> str:
        """The trace as lines of text: step, time, what happened (the first ``limit``
        events; None: all)."""
        if limit is not None:
            whole_number("limit", limit, 0)
        lines = []
        for e in self.events[:limit]:
            lead = f"{e.step:>4}" if e.primary else "    "
            lines.append(f"{lead} t={e.time:7.2f}  {e.describe()}")
        if limit is not None and len(self.events) > limit:
            lines.append(f"... {len(self.events) - limit} more events")
        return "\n".join(lines)

    def __repr__(self):
        return (f"<Trace: {len(self.steps)} steps, {len(self.events)} events, "
                f"{len(self.nodes)} nodes, t=0..{self.duration:g}>")


def trace_of(sim_or_trace, name: str = "trace") -> Trace:
    """The Trace of a Simulation, or the Trace itself; anything else is a ValueError."""
    trace = getattr(sim_or_trace, "trace", sim_or_trace)
    if not isinstance(trace, Trace):
        raise ValueError(f"{name} must be a Simulation or its Trace (from sim.run()), "
                         f"got {sim_or_trace!r}")
    return trace
