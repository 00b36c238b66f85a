"""What a real run records, and the ``Trace`` built from it.

Every node process appends one line per event to ``<node>.events.jsonl`` in the run's
directory, a JSON array ``[time, kind, peer, msg, id, detail]``:

    time     seconds since the cluster started, from the machine's monotonic clock (the
             clock every process on one machine shares, so times from different processes
             can be compared)
    kind     start, restart, deliver, timer (a handler ran: the step's first event), then
             send, invoke, response (what that handler did), or refused (a datagram the
             node could not decode)
    peer     the other end of a message (its sender for deliver, its receiver for send)
    msg      the message, timer or client operation, in the wire's encoding
    id       a message's id (``node.incarnation.counter``), which ties a send to its delivery
    detail   a client operation's result; why a datagram was refused

The router (``replib.runtime.network``) records what happens between the nodes: drops (and
why), duplicates, partitions, cuts, heals, and the cluster records kills (``crash``).
``build_trace`` merges all of it into the simulator's ``Trace`` (times in the nodes' time
unit, as the simulator counts them), so the
course's diagrams, histories and checks read a real run exactly as they read a simulated one.
"""

from __future__ import annotations

import json

from ..trace import Trace
from .wire import Registry, decode_value

PRIMARY = ("start", "restart", "deliver", "timer", "refused")


def event_line(time: float, kind: str, peer=None, msg: str = "null", msg_id=None,
               detail: str = "null") -> str:
    """One line of an events file; ``msg`` and ``detail`` are JSON text already."""
    return (f"[{time:.6f},\"{kind}\",{json.dumps(peer)},{msg},{json.dumps(msg_id)},"
            f"{detail}]\n")


class EventLog:
    """A node's events file, written a handler's worth of lines at a time (no fsync: the
    events are a record for people, not the node's memory)."""

    def __init__(self, path):
        self.path = path
        self._file = open(path, "a", encoding="utf-8")

    def write(self, lines: list[str]) -> None:
        self._file.write("".join(lines))
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_events(path, registry: Registry) -> list[tuple]:
    """The events of one file as ``(time, kind, peer, msg, id, detail)`` tuples.  A torn last
    line (the process was killed while writing it) is skipped; any other bad line is a
    ValueError naming the file and the line."""
    try:
        with open(path, "rb") as f:
            chunks = f.read().split(b"\n")
    except FileNotFoundError:
        return []
    torn = chunks.pop()
    out = []
    for number, chunk in enumerate(chunks + ([torn] if torn else []), 1):
        try:
            t, kind, peer, msg, msg_id, detail = json.loads(chunk)
            out.append((float(t), kind, peer, decode_value(msg, registry), msg_id,
                        decode_value(detail, registry)))
        except (ValueError, TypeError) as exc:
            if chunk is torn:
                break
            raise ValueError(f"{path}, line {number}: not an event line ({exc}); the events "
                             f"file was changed by something other than the runtime") from None
    return out


def build_trace(nodes, node_events: dict, router_events: list, time_unit: float = 1.0) -> Trace:
    """One ``Trace`` from each node's events and the router's, in time order, with times in
    units of ``time_unit`` seconds (the nodes' own time unit).

    nodes: the system's nodes (attached: their initial state is the trace's ``initial``).
    node_events: node id -> its ``read_events`` tuples.  router_events: tuples
    ``(time, kind, node, peer, id, detail, groups)`` (kind drop, duplicate, crash,
    partition, cut or heal)."""
    blocks = []                               # (time, order, [events of one step])
    order = 0
    for node_id, events in node_events.items():
        block = None
        for t, kind, peer, msg, msg_id, detail in events:
            if kind in PRIMARY or block is None:
                block = []
                blocks.append((t, order, block))
                order += 1
            block.append((t, kind, node_id, peer, msg, msg_id, detail))
    for t, kind, node, peer, msg_id, detail, groups in router_events:
        blocks.append((t, order, [(t, kind, node, peer, groups, msg_id, detail)]))
        order += 1
    blocks.sort(key=lambda b: (b[0], b[1]))

    sent = {}                                 # wire id -> message, for drops and duplicates
    for _, _, block in blocks:
        for t, kind, node, peer, msg, msg_id, detail in block:
            if kind == "send":
                sent[msg_id] = msg
    trace = Trace([n.id for n in nodes], {n.id: type(n).__name__ for n in nodes},
                  {n.id: n.state() for n in nodes})
    numbers: dict = {}                        # wire id -> the trace's msg_id (an int)

    def number(wire_id):
        if wire_id is None:
            return None
        if wire_id not in numbers:
            numbers[wire_id] = len(numbers) + 1
        return numbers[wire_id]

    end = 0.0
    for _, _, block in blocks:
        for t, kind, node, peer, msg, msg_id, detail in block:
            t = round(t / time_unit, 6)
            end = max(end, t)
            if kind == "refused":
                trace.add(t, "drop", primary=True, node=peer or "?", peer=node,
                          detail=f"refused: {detail}")
            elif kind in ("drop", "duplicate"):
                original = msg_id if kind == "drop" else detail
                trace.add(t, kind, primary=kind == "drop", node=node, peer=peer,
                          msg=sent.get(original), msg_id=number(msg_id),
                          detail=number(detail) if kind == "duplicate" else detail)
            elif kind == "deliver":
                trace.add(t, kind, primary=True, node=node, peer=peer, msg=msg,
                          msg_id=number(msg_id))
            elif kind in ("partition", "heal", "crash", "cut"):
                trace.add(t, kind, primary=True, node=node, peer=peer, msg=msg, detail=detail)
            elif kind in ("start", "restart", "timer"):
                trace.add(t, kind, primary=True, node=node,
                          msg=msg if kind == "timer" else None)
            else:                             # send, invoke, response: caused by the step
                trace.add(t, kind, node=node, peer=peer, msg=msg, msg_id=number(msg_id),
                          detail=detail)
    trace.end = end
    return trace
