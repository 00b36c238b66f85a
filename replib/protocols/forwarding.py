"""The smallest replicated system: a server that forwards each write to one replica.

Chapter 00 uses it to show how to read a space-time diagram, step a trace and inject a
crash and a partition.  With ``wait_for_replica`` the server answers the client only after
the replica acknowledged (synchronous); without it, at once (asynchronous).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clients import Client, Reply
from ..node import Node
from ..validate import MAX_NODES, MAX_OPS, boolean, finite_time, whole_number


@dataclass(frozen=True)
class Forward:
    index: int
    op: object


@dataclass(frozen=True)
class ForwardAck:
    index: int


class Server(Node):
    stable = ("log", "seen")

    def __init__(self, id: str, replica: str, wait_for_replica: bool = True):
        super().__init__(id)
        self.replica = replica
        self.wait_for_replica = wait_for_replica
        self.log = []          # operations applied, in order (on disk)
        self.seen = {}         # (client, seq) -> log index: each request is applied once
        self.acked = 0         # the replica holds log[:acked] (forgotten on a crash)
        self.waiting = {}      # log index -> (client, seq) still to be answered

    def on_request(self, msg, sender):
        request = (msg.client, msg.seq)
        index = self.seen.get(request)
        if index is None:                      # new: apply it once, at the end of the log
            self.log.append(msg.op)
            index = self.seen[request] = len(self.log)
        elif index <= self.acked or not self.wait_for_replica:
            self.send(sender, Reply(msg.seq, "ok"))   # a retry of a finished write
            return
        self.send(self.replica, Forward(index, msg.op))
        if self.wait_for_replica:
            self.waiting[index] = request
        else:
            self.send(sender, Reply(msg.seq, "ok"))

    def on_forward_ack(self, msg, sender):
        self.acked = max(self.acked, msg.index)
        if msg.index in self.waiting:
            client, seq = self.waiting.pop(msg.index)
            self.send(client, Reply(seq, "ok"))


class Replica(Node):
    stable = ("log",)

    def __init__(self, id: str):
        super().__init__(id)
        self.log = []

    def on_forward(self, msg, sender):
        if msg.index == len(self.log) + 1:     # apply in order, once
            self.log.append(msg.op)
        if msg.index <= len(self.log):
            self.send(sender, ForwardAck(msg.index))


def forwarding_system(writes: int = 3, wait_for_replica: bool = True, think: float = 0.5,
                      timeout: float | None = None, clients: int = 1) -> list:
    """Clients, a server and a replica; each client writes 1, 2, ... ``writes``.

    One client is called "client"; several are "c1", "c2", ... and write "c1:1", ..."""
    whole_number("writes", writes, 0, cap=MAX_OPS)
    whole_number("clients", clients, 1, cap=MAX_NODES)
    boolean("wait_for_replica", wait_for_replica)
    finite_time("think", think, zero_ok=True)
    if timeout is not None:
        finite_time("timeout", timeout)
    if clients == 1:
        users = [Client("client", "server", [("write", i) for i in range(1, writes + 1)],
                        think=think, timeout=timeout)]
    else:
        users = [Client(f"c{c}", "server", [("write", f"c{c}:{i}") for i in range(1, writes + 1)],
                        think=think, timeout=timeout) for c in range(1, clients + 1)]
    return users + [Server("server", "replica", wait_for_replica=wait_for_replica),
                    Replica("replica")]
