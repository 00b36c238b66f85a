"""One node as an operating-system process (``python -m replib.runtime`` runs ``main``).

The process runs one replib ``Node``, unchanged, on an asyncio event loop: a datagram that
arrives runs the node's handler for that message, a timer the loop fires runs its timer
handler, and what the handler asked for (``send``, ``set_timer``, ``cancel_timer``,
``invoke``/``respond``) is done for real, in this order:

  1. the stable fields that changed go to disk, fsynced (``replib.runtime.disk``): a promise
     is on disk before the Promise leaves;
  2. the step's events are appended to the events file (``replib.runtime.events``);
  3. the messages leave, as UDP datagrams to the router (``replib.runtime.network``).

Timers use the loop's monotonic clock: a node's ``set_timer(t, 4.0)`` fires after
4 x ``time_unit`` seconds.  The node's ``rng`` is seeded from the run's seed, its id and its
incarnation (how many times it was restarted).

Start-up: the parent writes the configuration (a pickled ``NodeConfig``, which the parent
made itself: the only pickle the runtime ever reads) to the process's stdin, and keeps that
pipe open.  The process binds its UDP port, reads its disk if it is a restart, and says hello
to the router until the router's welcome tells it to run ``on_start`` (or, after a restart,
``on_restart``), exactly as the simulator does.  Nothing that comes over the network is ever
unpickled: datagrams are JSON, decoded through the run's ``Registry``.

The process stops by itself: when its stdin closes (the parent stopped it, exited or was
killed: a watchdog that needs no cooperation from the parent), at its hard deadline, or on an
error (a handler that raises, a message type nobody registered), which it writes to stderr
before exiting with a non-zero code that the parent reports.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import random
import socket
import struct
import sys
import traceback
from dataclasses import dataclass

from ..node import CancelTimer, Record, Send, SetTimer
from .disk import Disk
from .events import EventLog, event_line
from .wire import (Registry, decode_message, dumps, hello_datagram, message_datagram,
                   parse_welcome, split_message)

HELLO_EVERY = 0.05         # seconds between hellos until the router welcomes the node
BUFFER_BYTES = 4 << 20     # socket buffers: bursts on loopback must not overflow them

EXIT_ERROR = 3             # a handler raised, or the node broke a rule of the runtime
EXIT_SETUP = 2             # the port is taken, the disk is corrupted, the router is unreachable


@dataclass
class NodeConfig:
    """Everything one node process needs, made by the parent (``Cluster``)."""

    node: object               # the Node, as the system's builder made it (not attached)
    ids: tuple                 # every node's id, in the system's order
    registry: Registry
    router: tuple              # (host, port) of the router
    port: int                  # this node's UDP port (0: any free one)
    token: str                 # the cluster's secret, so that a stray hello is ignored
    incarnation: int           # 0 at the start, +1 at every restart
    seed: int
    time_unit: float           # seconds per unit of the node's timer delays
    deadline: float            # monotonic time at which the process exits whatever happens
    disk_path: str
    events_path: str
    fsync: bool = True


class NodeFailed(Exception):
    """Stop the process with an exit code and a message for the parent."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class NodeProcess(asyncio.DatagramProtocol):
    """The event loop's view of one node: datagrams and timers in, effects out."""

    def __init__(self, config: NodeConfig):
        self.config = config
        self.node = config.node
        self.registry = config.registry
        self.unit = config.time_unit
        self.timers: dict = {}             # timer -> its asyncio handle
        self.sent = 0                      # messages sent by this incarnation
        self.started = False
        self.transport = None
        self.failure: NodeFailed | None = None
        self.epoch = 0.0                   # the cluster's time 0 (the welcome says when)
        self.done = None                   # a future the loop waits on

    # ---- the run -----------------------------------------------------------------------------
    async def run(self) -> None:
        c = self.config
        loop = asyncio.get_running_loop()
        self.loop = loop
        self.done = loop.create_future()
        self.node._attach(c.ids, random.Random(f"{c.seed}/{self.node.id}/{c.incarnation}"))
        self.disk = Disk(c.disk_path, self.node.id, self.registry, fsync=c.fsync)
        if c.incarnation == 0 and os.path.exists(c.disk_path):
            os.remove(c.disk_path)             # a fresh start: nothing on disk yet
        try:
            self.disk.load(self.node)          # a restart: the stable fields come back
        except ValueError as exc:
            raise NodeFailed(EXIT_SETUP, str(exc)) from None
        self.events = EventLog(c.events_path)
        try:
            # connected to the router: the kernel then passes on datagrams from the router
            # only, and tells us (ECONNREFUSED) when nothing listens there
            self.transport, _ = await loop.create_datagram_endpoint(
                lambda: self, local_addr=("127.0.0.1", c.port), remote_addr=tuple(c.router))
        except OSError as exc:
            raise NodeFailed(EXIT_SETUP, port_error(self.node.id, c.port, exc)) from None
        sock = self.transport.get_extra_info("socket")
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, BUFFER_BYTES)
            except OSError:
                pass
        loop.add_reader(sys.stdin.fileno(), self.on_stdin)
        loop.call_at(c.deadline, self.stop, None)
        self.say_hello()
        await self.done
        if self.failure is not None:
            raise self.failure

    def stop(self, failure: NodeFailed | None) -> None:
        if self.failure is None:
            self.failure = failure
        if not self.done.done():
            self.done.set_result(None)

    def on_stdin(self) -> None:
        """The parent closed our stdin (it stopped us, exited or died): stop."""
        try:
            data = os.read(sys.stdin.fileno(), 4096)
        except OSError:
            data = b""
        if not data:
            self.loop.remove_reader(sys.stdin.fileno())
            self.stop(None)

    def say_hello(self) -> None:
        if self.started or self.done.done():
            return
        c = self.config
        self.transport.sendto(hello_datagram(self.node.id, c.token, c.incarnation))
        self.loop.call_later(HELLO_EVERY, self.say_hello)

    def now(self) -> float:
        return self.loop.time() - self.epoch

    # ---- the network -------------------------------------------------------------------------
    def datagram_received(self, data: bytes, addr) -> None:
        if addr[:2] != tuple(self.config.router) or self.done.done():
            return                             # only the router talks to nodes
        if data[:1] == b"W":
            epoch = parse_welcome(data)
            if epoch is not None and not self.started:
                self.started = True
                self.epoch = epoch
                hook = "on_start" if self.config.incarnation == 0 else "on_restart"
                self.step("start" if hook == "on_start" else "restart", hook)
            return
        if not self.started:
            return
        try:
            sender, msg_id, body = split_message(data)
            msg = decode_message(body, self.registry)
        except ValueError as exc:              # never crash on a bad datagram: refuse it
            self.events.write([event_line(self.now(), "refused", None, detail=dumps(
                str(exc), self.registry))])
            return
        if sender not in self.node._ids:
            self.events.write([event_line(self.now(), "refused", sender, detail=dumps(
                f"unknown sender {sender!r}", self.registry))])
            return
        self.step("deliver", msg, sender, msg_id, body.decode())

    def error_received(self, exc) -> None:
        if not self.started and isinstance(exc, ConnectionRefusedError):
            host, port = self.config.router
            self.stop(NodeFailed(EXIT_SETUP, f"node {self.node.id!r} cannot reach the router at "
                                             f"{host}:{port}: nothing listens there (is the "
                                             f"cluster still running?)"))
        # otherwise: a datagram bounced (ICMP); UDP may lose messages, and so may we

    # ---- timers ------------------------------------------------------------------------------
    def set_timer(self, timer, delay: float) -> None:
        old = self.timers.pop(timer, None)
        if old is not None:
            old.cancel()
        self.timers[timer] = self.loop.call_later(delay * self.unit, self.fire, timer)

    def cancel_timer(self, timer) -> None:
        for t in [t for t in self.timers
                  if t == timer or (isinstance(timer, type) and isinstance(t, timer))]:
            self.timers.pop(t).cancel()

    def fire(self, timer) -> None:
        self.timers.pop(timer, None)
        if not self.done.done():
            self.step("timer", timer)

    # ---- one step: a handler, then disk, events, messages --------------------------------------
    def step(self, kind: str, item, sender=None, msg_id=None, body: str | None = None) -> None:
        t = self.now()
        node = self.node
        try:
            if kind in ("start", "restart"):
                effects = node.run_hook(item)
            elif kind == "deliver":
                effects = node.handle(item, sender)
            else:
                effects = node.handle(item)
            self.disk.save(node)               # 1. on disk before anything leaves
        except Exception as exc:               # noqa: BLE001 - report whatever it was
            what = f"{kind} {item!r}" + (f" from {sender}" if sender else "")
            detail = "".join(traceback.format_exception(exc))
            self.stop(NodeFailed(EXIT_ERROR, f"node {node.id!r} failed handling {what}: "
                                             f"{type(exc).__name__}: {exc}\n{detail}"))
            return
        t_after = self.now()
        c = self.config
        reg = self.registry
        if kind == "deliver":
            lines = [event_line(t, kind, sender, body, msg_id)]
        elif kind == "timer":
            lines = [event_line(t, kind, msg=dumps(item, reg))]
        else:
            lines = [event_line(t, kind)]
        datagrams = []
        try:
            for eff in effects:
                if type(eff) is Send:
                    self.sent += 1
                    wire_id = f"{node.id}.{c.incarnation}.{self.sent}"
                    data = message_datagram(eff.to, wire_id, eff.msg, reg)
                    datagrams.append(data)
                    lines.append(event_line(t_after, "send", eff.to,
                                            data.partition(b"\n")[2].decode(), wire_id))
                elif type(eff) is SetTimer:
                    self.set_timer(eff.timer, eff.delay)
                elif type(eff) is CancelTimer:
                    self.cancel_timer(eff.timer)
                elif type(eff) is Record:
                    lines.append(event_line(t_after, eff.kind, msg=dumps(eff.op, reg),
                                            detail=dumps(eff.result, reg)))
        except ValueError as exc:              # an unregistered type, a message too large
            self.stop(NodeFailed(EXIT_ERROR, f"node {node.id!r}: {exc}"))
            return
        self.events.write(lines)               # 2. the record of the step
        for data in datagrams:                 # 3. the messages leave
            self.transport.sendto(data)


def port_error(node: str, port: int, exc: OSError) -> str:
    """A clear message for a port that cannot be bound."""
    import errno
    if exc.errno == errno.EADDRINUSE:
        return (f"node {node!r} cannot use UDP port 127.0.0.1:{port}: another program holds it; "
                f"choose other ports (or port 0, which lets the system pick a free one)")
    return f"node {node!r} cannot bind UDP port 127.0.0.1:{port}: {exc}"


# ---- the parent's side of the pipe, and main -------------------------------------------------

def config_bytes(config: NodeConfig) -> bytes:
    """What the parent writes to the child's stdin: a length, then the pickled config."""
    data = pickle.dumps(config)
    return struct.pack(">Q", len(data)) + data


def read_config(stream) -> NodeConfig:
    head = stream.read(8)
    if len(head) != 8:
        raise NodeFailed(EXIT_SETUP, "no configuration on stdin: this module is started by "
                                     "replib.runtime.Cluster, not by hand")
    (size,) = struct.unpack(">Q", head)
    data = stream.read(size)
    if len(data) != size:
        raise NodeFailed(EXIT_SETUP, "the configuration on stdin was cut short")
    config = pickle.loads(data)                # written by our parent: trusted
    if not isinstance(config, NodeConfig):
        raise NodeFailed(EXIT_SETUP, "stdin did not hold a NodeConfig")
    return config


def main() -> int:
    try:
        config = read_config(sys.stdin.buffer)
        asyncio.run(NodeProcess(config).run())
    except NodeFailed as exc:
        print(str(exc), file=sys.stderr, flush=True)
        return exc.code
    except KeyboardInterrupt:
        return 0
    return 0
