"""Clients: nodes that issue operations one at a time and record a history.

A client sends ``Request(client, seq, op)`` to its server and waits for ``Reply(seq,
result)``; the kernel stamps each invoke and response with the time, so
``trace.history()`` gives (invoke time, response time, operation, result) for every
operation, the raw material of latency plots and consistency checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from .node import Node
from .validate import finite_time


@dataclass(frozen=True)
class Request:
    client: str
    seq: int
    op: object


@dataclass(frozen=True)
class Reply:
    seq: int
    result: object


@dataclass(frozen=True)
class NextOp:
    """Timer: think time is over, issue the next operation."""


@dataclass(frozen=True)
class RequestTimeout:
    """Timer: no reply to request ``seq`` yet; send it again."""

    seq: int


class Client(Node):
    """Issues ``ops`` in order to ``server``, one at a time.

    think: time between a reply and the next request.  timeout: resend an unanswered
    request after this long (None: wait forever, as a blocked client does)."""

    def __init__(self, id: str, server: str, ops, think: float = 0.0, timeout: float | None = None):
        super().__init__(id)
        finite_time(f"client {id!r}: think", think, zero_ok=True)
        if timeout is not None:
            finite_time(f"client {id!r}: timeout (None: wait forever)", timeout)
        self.server = server
        self.ops = tuple(ops)
        self.think = think
        self.timeout = timeout
        self.seq = 0            # index of the operation in progress (or next)
        self.waiting = False    # is a request outstanding?
        self.results = []

    def on_start(self):
        if self.ops:
            self.set_timer(NextOp(), self.think)

    def on_next_op(self, timer):
        self.issue()

    def issue(self):
        op = self.ops[self.seq]
        self.invoke(op)
        self.waiting = True
        self.send(self.server, Request(self.id, self.seq, op))
        if self.timeout is not None:
            self.set_timer(RequestTimeout(self.seq), self.timeout)

    def on_reply(self, msg, sender):
        if not self.waiting or msg.seq != self.seq:
            return                      # a late or duplicated reply
        self.respond(self.ops[self.seq], msg.result)
        self.results.append(msg.result)
        self.waiting = False
        self.cancel_timer(RequestTimeout(self.seq))
        self.seq += 1
        if self.seq < len(self.ops):
            self.set_timer(NextOp(), self.think)

    def on_request_timeout(self, timer):
        if self.waiting and timer.seq == self.seq:
            self.send(self.server, Request(self.id, self.seq, self.ops[self.seq]))
            self.set_timer(RequestTimeout(self.seq), self.timeout)
