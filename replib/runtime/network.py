"""The router: every message between node processes passes through it, and faults happen here.

Each node process sends its datagrams to the router, never to another node; the router looks
at who sent it and to whom, and forwards it (or not) according to a ``replib.network.Network``,
the very object the simulator uses: its partitions, one-way cuts, loss and duplication
probabilities and latency models (in the nodes' time units, turned into real delays with
``time_unit``), with its own seeded ``random.Random``.  Kills come from the cluster: a
message for a node that is down is dropped, as the simulator drops it.  Every drop and
duplicate is recorded (``replib.runtime.events``), so the diagram of a real run shows them.

Why UDP rather than TCP: a datagram is one message, with no framing to write; there are no
connections to set up, break when a process is killed -9, and set up again when it
restarts; and the network UDP offers is the one the course's fault model describes: messages
may be lost, duplicated or reordered, and the protocols must cope.  On loopback nothing is
in fact lost unless a socket buffer overflows (the runtime enlarges them), so the faults
that happen are the ones the test asks for.  The price: one message must fit in a datagram
(64 KB), which short runs never come near.

The router runs on its own asyncio loop in a thread of the parent process (the cluster, the
test, or the notebook's kernel), so the test changes the network with plain method calls.
It forwards at most ``max_messages`` messages, then drops everything: a run that goes wild
stops by itself.  It listens on 127.0.0.1 only, and answers only the nodes of its cluster
(a node proves it belongs with the cluster's token when it says hello).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import random
import socket
import threading
import time

from ..network import Network
from .wire import parse_hello, welcome_datagram

HOST = "127.0.0.1"


class Router(asyncio.DatagramProtocol):
    """Forwards messages between the nodes of one cluster, applying ``network``'s faults."""

    def __init__(self, ids, token: str, network: Network, time_unit: float, seed: int,
                 max_messages: int, port: int = 0):
        self.ids = tuple(ids)
        self.token = token
        self.network = network
        network._attach(self.ids)
        self.time_unit = time_unit
        self.rng = random.Random(f"router/{seed}")
        self.max_messages = max_messages
        self.port = port
        self.epoch = time.monotonic()      # set again when the cluster starts its clock
        self.epoch_set = False
        self.events: list[tuple] = []      # (seconds, kind, node, peer, id, detail, groups)
        self.address: dict = {}            # node -> (host, port) it said hello from
        self.node_at: dict = {}            # (host, port) -> node
        self.down = set(self.ids)          # nodes not (yet, or no longer) welcomed
        self.expected: dict = {}           # node -> incarnation it may be welcomed as now
        self.hello: dict = {}              # node -> the last incarnation that said hello
        self.welcomed: dict = {}           # node -> threading.Event, set when welcomed
        self.forwarded = 0
        self.dropped = 0
        self.strays = 0                    # datagrams from nobody we know
        self.loop = None
        self.transport = None

    # ---- the thread ----------------------------------------------------------------------------
    def start(self) -> tuple:
        """Start the router's thread; returns the (host, port) it listens on."""
        ready = concurrent.futures.Future()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="replib-router",
                                       daemon=True)
        self.thread.start()
        exc = ready.exception(timeout=10)
        if exc is not None:
            raise exc
        return HOST, self.port

    def _run(self, ready) -> None:
        loop = self.loop = asyncio.new_event_loop()
        try:
            self.transport, _ = loop.run_until_complete(
                loop.create_datagram_endpoint(lambda: self, local_addr=(HOST, self.port)))
        except OSError as exc:
            loop.close()
            if exc.errno == errno.EADDRINUSE:
                ready.set_exception(RuntimeError(
                    f"the router cannot use UDP port {HOST}:{self.port}: another program holds "
                    f"it; choose another router_port (or 0, which lets the system pick one)"))
            else:
                ready.set_exception(RuntimeError(
                    f"the router cannot bind UDP port {HOST}:{self.port}: {exc}"))
            return
        sock = self.transport.get_extra_info("socket")
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, 4 << 20)
            except OSError:
                pass
        self.port = sock.getsockname()[1]
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            self.transport.close()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    def call(self, fn, *args):
        """Run ``fn(*args)`` on the router's thread and return its result."""
        if self.loop is None or self.loop.is_closed():
            raise RuntimeError("the router is not running (the cluster was stopped)")
        done = concurrent.futures.Future()

        def run():
            try:
                done.set_result(fn(*args))
            except Exception as exc:          # noqa: BLE001 - handed to the caller
                done.set_exception(exc)
        self.loop.call_soon_threadsafe(run)
        return done.result(timeout=10)

    def close(self) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)

    # ---- what the cluster asks (each runs on the router's thread, through ``call``) -------------
    def now(self) -> float:
        return time.monotonic() - self.epoch

    def expect(self, node: str, incarnation: int) -> threading.Event:
        """``node`` is starting as ``incarnation``: welcome it when it says hello (after
        ``open`` for the first start).  Returns an event set when it is welcomed."""
        self.expected[node] = incarnation
        event = self.welcomed[node] = threading.Event()
        if self.epoch_set and self.hello.get(node) == incarnation:
            self._welcome(node)
        return event

    def open(self, epoch: float) -> None:
        """Start the clock at ``epoch`` and welcome every node that said hello."""
        self.epoch = epoch
        self.epoch_set = True
        for node, incarnation in self.expected.items():
            if self.hello.get(node) == incarnation:
                self._welcome(node)

    def said_hello(self) -> set:
        return {n for n, inc in self.hello.items() if self.expected.get(n) == inc}

    def _welcome(self, node: str) -> None:
        self.down.discard(node)
        self.transport.sendto(welcome_datagram(self.epoch), self.address[node])
        self.welcomed[node].set()

    def kill(self, node: str) -> None:
        """``node`` was killed: messages for it are dropped until it is welcomed again."""
        self.down.add(node)
        self.expected.pop(node, None)
        self.events.append((self.now(), "crash", node, None, None, None, None))

    def partition(self, groups) -> tuple:
        groups = self.network.partition(groups)
        self.events.append((self.now(), "partition", None, None, None, None, groups))
        return groups

    def cut(self, src: str, dst: str) -> None:
        self.network.cut(src, dst)
        self.events.append((self.now(), "cut", src, dst, None, None, None))

    def heal(self) -> None:
        self.network.heal()
        self.events.append((self.now(), "heal", None, None, None, None, None))

    def change(self, faults) -> list:
        """Partitions, cuts and heals (``replib.faults``) at one instant: no message passes
        between them, as in the simulator when several faults share a time."""
        done = []
        for f in faults:
            if f.kind == "partition":
                done.append(self.partition(f.nodes))
            elif f.kind == "cut":
                self.cut(*f.nodes)
            elif f.kind == "heal":
                self.heal()
            else:
                raise ValueError(f"{f.describe()!r} is not a change of the network")
        return done

    def set(self, **settings) -> None:
        """Change ``loss``, ``duplicate`` or ``latency`` of the network now."""
        for name, value in settings.items():
            if name not in ("loss", "duplicate", "latency"):
                raise ValueError(f"the network has no setting {name!r}; use loss, duplicate "
                                 f"or latency")
            if name == "latency":
                Network(latency=value)        # validates the model
            setattr(self.network, name, value)

    def snapshot(self) -> dict:
        return {"events": list(self.events), "forwarded": self.forwarded,
                "dropped": self.dropped, "strays": self.strays}

    # ---- datagrams -----------------------------------------------------------------------------
    def datagram_received(self, data: bytes, addr) -> None:
        src = self.node_at.get(addr)
        if src is None or data[:1] == b"H":
            hello = parse_hello(data)
            if hello is None or hello[1] != self.token or hello[0] not in self.ids:
                self.strays += 1
                return
            node, _, incarnation = hello
            old = self.address.get(node)
            if old is not None and old != addr:
                self.node_at.pop(old, None)
            self.address[node], self.node_at[addr] = addr, node
            self.hello[node] = incarnation
            if self.epoch_set and self.expected.get(node) == incarnation \
                    and not self.welcomed[node].is_set():
                self._welcome(node)
            return
        head, sep, body = data.partition(b"\n")
        parts = head.split(b" ")
        if not sep or len(parts) != 3 or parts[0] != b"M":
            self.strays += 1
            return
        dst, wire_id = parts[1].decode(errors="replace"), parts[2].decode(errors="replace")
        if dst not in self.address and dst not in self.ids:
            self._drop(src, dst, wire_id, f"no node {dst!r}")
            return
        if self.forwarded >= self.max_messages:
            self.dropped += 1                  # the budget is spent: drop, record nothing
            return
        reason = self._blocked(src, dst)
        if reason is None and self.network.loss and self.rng.random() < self.network.loss:
            reason = "random loss"
        if reason is not None:
            self._drop(src, dst, wire_id, reason)
            return
        out = b"M " + src.encode() + b" " + parts[2] + b"\n" + body
        self._send_later(src, dst, wire_id, out)
        if self.network.duplicate and self.rng.random() < self.network.duplicate:
            copy_id = wire_id + "+"
            self.events.append((self.now(), "duplicate", src, dst, copy_id, wire_id, None))
            self._send_later(src, dst, copy_id,
                             b"M " + src.encode() + b" " + copy_id.encode() + b"\n" + body)

    def _blocked(self, src: str, dst: str) -> str | None:
        if dst in self.down:
            return f"{dst} is down"
        if not self.network.connected(src, dst):
            return "link cut" if (src, dst) in self.network.cuts else "partition"
        return None

    def _send_later(self, src, dst, wire_id, out) -> None:
        model = self.network.latency_of(src, dst)
        delay = model.sample(self.rng) * self.time_unit
        if delay <= 0:
            self._forward(src, dst, wire_id, out, check=False)
        else:
            self.loop.call_later(delay, self._forward, src, dst, wire_id, out, True)

    def _forward(self, src, dst, wire_id, out, check) -> None:
        if check:
            reason = self._blocked(src, dst)  # the network changed while it was delayed
            if reason is not None:
                self._drop(src, dst, wire_id, reason)
                return
        self.forwarded += 1
        self.transport.sendto(out, self.address[dst])

    def _drop(self, src, dst, wire_id, reason) -> None:
        self.dropped += 1
        self.events.append((self.now(), "drop", src, dst, wire_id, reason, None))

    def error_received(self, exc) -> None:
        pass          # a datagram to a killed node's old port bounced: it is lost, as UDP may
