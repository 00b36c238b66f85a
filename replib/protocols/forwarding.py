"""The smallest replicated system: a server that forwards each write to one replica.

Chapter 00 uses it to show how to read a space-time diagram, step a trace and inject a
crash and a partition.  With ``wait_for_replica`` the server answers the client only after
the replica acknowledged (synchronous); without it, at once (asynchronous).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clients import Client, Reply
from ..node import Node


@dataclass(frozen=True)
class Forward:
    index: int
    op: object


@dataclass(frozen=True)
class ForwardAck:
    index: int


class Server(Node):
    stable = ("log",)

    def __init__(self, id: str, replica: str, wait_for_replica: bool = True):
        super().__init__(id)
        self.replica = replica
        self.wait_for_replica = wait_for_replica
        self.log = []          # operations applied, in order (on disk)
        self.waiting = {}      # log index -> (client, seq) still to be answered

    def on_request(self, msg, sender):
        self.log.append(msg.op)
        index = len(self.log)
        self.send(self.replica, Forward(index, msg.op))
        if self.wait_for_replica:
            self.waiting[index] = (sender, msg.seq)
        else:
            self.send(sender, Reply(msg.seq, "ok"))

    def on_forward_ack(self, msg, sender):
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
                      timeout: float | None = None) -> list:
    """A client, a server and a replica; the client writes 1, 2, ... ``writes``."""
    if isinstance(writes, bool) or not isinstance(writes, int) or writes < 0:
        raise ValueError(f"writes must be a whole number >= 0, got {writes!r}")
    return [
        Client("client", "server", [("write", i) for i in range(1, writes + 1)], think=think,
               timeout=timeout),
        Server("server", "replica", wait_for_replica=wait_for_replica),
        Replica("replica"),
    ]
