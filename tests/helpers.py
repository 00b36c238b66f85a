"""Helpers shared by the tests: two small messages, effects as plain tuples, nodes
attached to a fake network for handler tests, and client operations for history tests."""

import random
from dataclasses import dataclass
from pathlib import Path

from replib.node import CancelTimer, Record, Send, SetTimer
from replib.trace import Operation

JEPSEN_CORPUS = Path(__file__).parent / "fixtures" / "jepsen"


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


def W(client, value, invoke, response, result="ok"):
    """A write; never answered when ``response`` is None."""
    return Operation(client, ("write", value), invoke, response,
                     None if response is None else result)


def R(client, value, invoke, response):
    """A read that returned ``value``; never answered when ``response`` is None."""
    return Operation(client, ("read",), invoke, response, None if response is None else value)


def CAS(client, expected, new, invoke, response, result="ok"):
    """A compare-and-set; never answered when ``response`` is None."""
    return Operation(client, ("cas", expected, new), invoke, response,
                     None if response is None else result)
