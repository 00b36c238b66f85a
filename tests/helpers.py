"""Helpers shared by the tests: two small messages, effects as plain tuples, and nodes
attached to a fake network for handler tests."""

import random
from dataclasses import dataclass

from replib.node import CancelTimer, Record, Send, SetTimer


@dataclass(frozen=True)
class Ping:
    n: int


@dataclass(frozen=True)
class Pong:
    n: int


def plain(effects):
    """Effects as comparable tuples."""
    out = []
    for e in effects:
        if isinstance(e, Send):
            out.append(("send", e.to, e.msg))
        elif isinstance(e, SetTimer):
            out.append(("set", e.timer, e.delay))
        elif isinstance(e, CancelTimer):
            out.append(("cancel", e.timer))
        elif isinstance(e, Record):
            out.append((e.kind, e.op, e.result))
    return out


def attached(nodes, start=False) -> dict:
    """Nodes by id, each attached to a fake network (and started, if ``start``), ready for
    handler tests: call ``node.handle(msg, sender)`` and compare ``plain(effects)``."""
    ids = [n.id for n in nodes]
    for n in nodes:
        n._attach(ids, random.Random(0))
        if start:
            n.run_hook("on_start")
    return {n.id: n for n in nodes}
