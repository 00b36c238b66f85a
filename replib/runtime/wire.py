"""The wire format: how messages and stored values become bytes, and come back, safely.

Messages are the protocols' own frozen dataclasses.  They travel as JSON, never as pickle:
decoding bytes from the network may only ever build the message types a run has
*registered*, from plain JSON values, so a stray or hostile datagram can at worst be
refused, never run code.

Values (``encode_value`` / ``decode_value``):

    None, True/False, int, str   as themselves (JSON)
    float                        as itself; NaN and infinities are refused
    tuple                        a JSON array (every array decodes as a tuple: messages are
                                 immutable, so they hold tuples, not lists)
    list, set, frozenset, dict   {"$list": [...]}, {"$set": [...]}, {"$frozenset": [...]},
                                 {"$dict": [[key, value], ...]} (keys need not be strings)
    a registered dataclass       {"$type": "Prepare", "ballot": 3, "first": 1}

A ``Registry`` names the dataclasses a run may send, by class name.  ``Registry.for_nodes``
registers every frozen dataclass found in the modules that define the nodes' classes (and
their base classes), which covers a protocol's messages, its timers and the clients'
``Request``/``Reply``; ``register`` adds more.  Encoding an unregistered type, or decoding a
``$type`` nobody registered, is a ValueError that names the type and says how to register it.

Datagrams (UDP; ``replib.runtime.network`` says why), every one on 127.0.0.1:

    node -> router   b"M <to> <id>\\n" + message JSON     a message for node <to>
    router -> node   b"M <from> <id>\\n" + message JSON   the same message, now saying who sent it
    node -> router   b"H <node> <token> <incarnation>"   hello: I am up (again), on this port
    router -> node   b"W <epoch>"                        welcome: start (or restart) now;
                                                         time 0 is <epoch> on the monotonic clock

``<id>`` is ``node.incarnation.counter``, unique over a whole run, restarts included; it ties a
send to its delivery in the recorded events.  Node ids are plain words (no spaces).
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys

from ..state import FrozenDict, FrozenList, FrozenSet, FrozenTuple

MAX_DATAGRAM = 65_507          # the most one UDP datagram can carry over IPv4
_TAGS = ("$list", "$set", "$frozenset", "$dict")


class Registry:
    """The message (and timer) types a run may put on the wire or on disk, by class name."""

    def __init__(self, types=()):
        self._by_name: dict[str, type] = {}
        for cls in types:
            self.register(cls)

    @classmethod
    def for_nodes(cls, nodes) -> "Registry":
        """Every frozen dataclass defined or imported in the modules of the nodes' classes
        and of their base classes (the protocol's messages and timers, the clients')."""
        registry = cls()
        seen_modules = set()
        for node in nodes:
            for klass in type(node).__mro__:
                module = sys.modules.get(klass.__module__)
                if module is None or module.__name__ in seen_modules:
                    continue
                seen_modules.add(module.__name__)
                for value in list(vars(module).values()):
                    if _is_frozen_dataclass(value) and value.__name__ not in registry._by_name:
                        registry.register(value)
        return registry

    def register(self, cls: type) -> type:
        """Allow ``cls`` (a frozen dataclass) on the wire; returns it (usable as a decorator)."""
        if not _is_frozen_dataclass(cls):
            raise ValueError(f"only frozen dataclasses can be registered as messages, got {cls!r}; "
                             f"declare it with @dataclass(frozen=True)")
        known = self._by_name.get(cls.__name__)
        if known is not None and known is not cls:
            raise ValueError(
                f"two message types are called {cls.__name__}: {_where(known)} and {_where(cls)}; "
                f"the wire names types by class name, so rename one of them")
        self._by_name[cls.__name__] = cls
        return cls

    def get(self, name: str) -> type:
        try:
            return self._by_name[name]
        except KeyError:
            raise ValueError(
                f"refused a message of type {name!r}: no such type is registered for this run "
                f"(registered: {', '.join(sorted(self._by_name)) or 'none'}); the sender and the "
                f"receiver must register the same types (Registry.register)") from None

    def __contains__(self, cls) -> bool:
        return self._by_name.get(getattr(cls, "__name__", None)) is cls

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def __repr__(self):
        return f"Registry({len(self._by_name)} types)"


def _is_frozen_dataclass(value) -> bool:
    params = getattr(value, "__dataclass_params__", None)
    return isinstance(value, type) and params is not None and params.frozen


def _where(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# ---- values --------------------------------------------------------------------------------

def encode_value(value, registry: Registry):
    """``value`` as plain JSON data (see the module's table); ValueError if it has no form."""
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        if not math.isfinite(value):
            raise ValueError(f"cannot encode the float {value!r}: JSON has no NaN or infinity")
        return value
    if kind is tuple or kind is FrozenTuple:
        return [encode_value(v, registry) for v in value]
    if kind is list or kind is FrozenList:
        return {"$list": [encode_value(v, registry) for v in value]}
    if kind is dict or kind is FrozenDict:
        items = value.items() if kind is dict else value.pairs()
        return {"$dict": [[encode_value(k, registry), encode_value(v, registry)]
                          for k, v in items]}
    if kind is set:
        return {"$set": [encode_value(v, registry) for v in value]}
    if kind is frozenset or kind is FrozenSet:
        return {"$frozenset": [encode_value(v, registry) for v in value]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if kind not in registry:
            raise ValueError(
                f"message type {kind.__name__} ({_where(kind)}) is not registered for the wire; "
                f"register it with registry.register({kind.__name__}) (Registry.for_nodes finds "
                f"the dataclasses of the nodes' own modules only)")
        out = {"$type": kind.__name__}
        for f in dataclasses.fields(value):
            out[f.name] = encode_value(getattr(value, f.name), registry)
        return out
    raise ValueError(f"cannot encode a {kind.__name__} ({value!r}) for the wire: messages and "
                     f"stable fields hold None, bools, numbers, strings, tuples, lists, sets, "
                     f"dicts and registered frozen dataclasses")


def decode_value(data, registry: Registry):
    """The inverse of ``encode_value``; ValueError on anything it did not produce."""
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return tuple(decode_value(v, registry) for v in data)
    if type(data) is not dict:
        raise ValueError(f"unexpected JSON value {data!r}")
    name = data.get("$type")
    if name is not None:
        cls = registry.get(name)
        fields = {k: decode_value(v, registry) for k, v in data.items() if k != "$type"}
        try:
            return cls(**fields)
        except TypeError as exc:
            raise ValueError(f"a {name} with fields {sorted(fields)} does not fit the class: "
                             f"{exc}") from None
    if len(data) != 1 or next(iter(data)) not in _TAGS:
        raise ValueError(f"unexpected JSON object with keys {sorted(data)[:5]}: values are "
                         f"tagged with one of $type, {', '.join(_TAGS)}")
    tag, items = next(iter(data.items()))
    if type(items) is not list:
        raise ValueError(f"{tag} must hold a JSON array, got {items!r}")
    values = [decode_value(v, registry) for v in items]
    try:
        if tag == "$list":
            return values
        if tag == "$set":
            return set(values)
        if tag == "$frozenset":
            return frozenset(values)
        if any(type(pair) is not tuple or len(pair) != 2 for pair in values):
            raise ValueError("$dict must hold [key, value] pairs")
        return dict(values)
    except TypeError as exc:       # an unhashable element of a set, or key of a dict
        raise ValueError(f"{tag}: {exc}") from None


def dumps(value, registry: Registry) -> str:
    """``value`` as one line of JSON text."""
    return json.dumps(encode_value(value, registry), separators=(",", ":"), allow_nan=False)


def loads(text, registry: Registry):
    """One line of JSON text back to a value; ValueError if it is not one ``dumps`` makes."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    try:
        return decode_value(data, registry)
    except RecursionError:
        raise ValueError("value nested too deeply") from None


# ---- datagrams -----------------------------------------------------------------------------

def message_datagram(peer: str, msg_id: str, msg, registry: Registry) -> bytes:
    """``b"M <peer> <id>\\n<json>"``: a message, addressed to (or coming from) ``peer``."""
    body = dumps(msg, registry).encode()
    data = b"M " + peer.encode() + b" " + msg_id.encode() + b"\n" + body
    if len(data) > MAX_DATAGRAM:
        raise ValueError(
            f"{type(msg).__name__} to {peer} takes {len(data):,} bytes, more than one UDP "
            f"datagram carries ({MAX_DATAGRAM:,}); runs of the runtime are meant to be short "
            f"(a few seconds): shorten the run or send less per message")
    return data


def split_message(data: bytes) -> tuple[str, str, bytes]:
    """``(peer, id, body)`` of a message datagram (the body still JSON); ValueError if bad."""
    head, sep, body = data.partition(b"\n")
    parts = head.split(b" ")
    if not sep or len(parts) != 3 or parts[0] != b"M":
        raise ValueError(f"not a message datagram: {data[:40]!r}")
    try:
        return parts[1].decode(), parts[2].decode(), body
    except UnicodeDecodeError:
        raise ValueError(f"not a message datagram: {data[:40]!r}") from None


def decode_message(body: bytes, registry: Registry):
    """A message body back to the message object: it must be a registered dataclass."""
    msg = loads(body, registry)
    if not dataclasses.is_dataclass(msg):
        raise ValueError(f"a message must be a registered dataclass, got {msg!r}")
    return msg


def hello_datagram(node: str, token: str, incarnation: int) -> bytes:
    return f"H {node} {token} {incarnation}".encode()


def parse_hello(data: bytes) -> tuple[str, str, int] | None:
    """``(node, token, incarnation)`` of a hello datagram, or None if it is not one."""
    parts = data.split(b" ")
    if len(parts) != 4 or parts[0] != b"H":
        return None
    try:
        return parts[1].decode(), parts[2].decode(), int(parts[3])
    except (UnicodeDecodeError, ValueError):
        return None


def welcome_datagram(epoch: float) -> bytes:
    return b"W " + repr(float(epoch)).encode()


def parse_welcome(data: bytes) -> float | None:
    """The epoch a welcome datagram carries, or None if it is not one."""
    parts = data.split(b" ")
    if len(parts) != 2 or parts[0] != b"W":
        return None
    try:
        return float(parts[1])
    except ValueError:
        return None
