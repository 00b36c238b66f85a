"""Helpers shared by the tests: two small messages, and effects as plain tuples."""

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
