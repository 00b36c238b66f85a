"""Helpers shared by the role tests: effects as plain tuples, for exact comparisons."""

from replib.node import CancelTimer, Record, Send, SetTimer


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
