"""The Node base class: handlers, sends, timers, and stable versus volatile state.

A protocol node is a plain class with one handler per message type, named after the
message class in snake case (``Prepare`` -> ``on_prepare(self, msg, sender)``), and one per
timer type (``RetryTimer`` -> ``on_retry_timer(self, timer)``).  Handlers never do I/O,
sleep, read a clock or use the global ``random`` module: they change fields and call
``send``, ``broadcast``, ``set_timer`` and ``cancel_timer``.  The kernel collects those
calls as *effects*, which is why the very same class runs in the simulator, in the
"you are the network" mode and in the exhaustive checker.

State lives in ordinary attributes set in ``__init__``.  The names listed in ``stable``
survive a crash (they are on disk); every other attribute is volatile and goes back to the
value it had when the node was built (as if the process restarted with the same
configuration), after which ``on_restart`` runs to rebuild what it can from stable storage.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from functools import lru_cache
from operator import itemgetter

from .state import _SCALARS, freeze, thaw
from .validate import finite_time

_TIMES = (int, float)
_INF = float("inf")

_IS_SCALAR = _SCALARS.__contains__
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@lru_cache(maxsize=None)
def handler_name(cls: type) -> str:
    """``Prepare`` -> ``on_prepare``; ``AcceptOK`` -> ``on_accept_ok``."""
    return handler_for(cls.__name__)


@lru_cache(maxsize=None)
def handler_for(name: str) -> str:
    """The handler of the message or timer class called ``name``."""
    return "on_" + _CAMEL.sub("_", name).lower()


@lru_cache(maxsize=None)
def _message_classes(cls: type) -> dict:
    """handler name -> names of the message classes a node class handles, found among the
    frozen dataclasses of the modules its class and base classes are defined in (a handler
    for a message takes (msg, sender); one for a timer takes (timer) only)."""
    found = {}
    for klass in cls.__mro__:
        module = sys.modules.get(klass.__module__)
        for obj in list(getattr(module, "__dict__", {}).values()):
            if not isinstance(obj, type) or getattr(obj, "__dataclass_params__", None) is None:
                continue
            handler = getattr(cls, handler_name(obj), None)
            if callable(handler) and _takes_sender(handler):
                found.setdefault(handler_name(obj), set()).add(obj.__name__)
    return found


def _takes_sender(handler) -> bool:
    try:
        return len(inspect.signature(handler).parameters) >= 3    # self, msg, sender
    except (TypeError, ValueError):
        return False


def message_types(nodes) -> list[str]:
    """The names of the message classes the nodes handle, sorted."""
    return sorted({name for n in nodes for names in _message_classes(type(n)).values()
                   for name in names})


def handles_message(nodes, name: str) -> bool:
    """Does some node handle messages of the class called ``name``?  (A class that is in no
    module, e.g. made inside a function, counts when a node has its handler and no other
    class of that handler's name is known.)"""
    handler = handler_for(name)
    for n in nodes:
        known = _message_classes(type(n)).get(handler)
        if known is not None and name in known:
            return True
        method = getattr(type(n), handler, None)
        if known is None and method is not None and _takes_sender(method):
            return True
    return False


_HANDLERS = {}     # node class -> message or timer class -> its handler function
_NONE = {}
_CHECKED_TYPES = set()     # message and timer classes already found to be frozen dataclasses


def check_message_type(cls: type) -> None:
    """Messages and timers must be frozen dataclasses: hashable, immutable, printable."""
    if cls in _CHECKED_TYPES:
        return
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen:
        raise TypeError(
            f"{cls.__name__} is not a frozen dataclass; declare messages and timers with "
            f"@dataclass(frozen=True) so they can be compared, hashed and printed"
        )
    _CHECKED_TYPES.add(cls)


class Send:
    """Effect: a message from ``node`` to ``to``."""

    __slots__ = ("to", "msg")

    def __init__(self, to, msg):
        self.to, self.msg = to, msg


class SetTimer:
    """Effect: fire ``timer`` at this node after ``delay`` (replacing an equal pending one)."""

    __slots__ = ("timer", "delay")

    def __init__(self, timer, delay):
        self.timer, self.delay = timer, delay


class CancelTimer:
    """Effect: forget pending timers equal to ``timer`` (or of that class, if a class)."""

    __slots__ = ("timer",)

    def __init__(self, timer):
        self.timer = timer


class Record:
    """Effect: a client's invoke or response, which the kernel stamps with the time."""

    __slots__ = ("kind", "op", "result")

    def __init__(self, kind, op, result=None):
        self.kind, self.op, self.result = kind, op, result


class HandlerError(RuntimeError):
    """An exception raised inside a node's handler, re-raised saying where it happened."""


class Node:
    """Base class of every protocol role.  Subclasses set their fields in ``__init__``."""

    #: names of the fields kept on stable storage (they survive a crash)
    stable: tuple[str, ...] = ()

    def __init__(self, id: str):
        if not isinstance(id, str) or not id:
            raise ValueError(f"a node id must be a non-empty string, got {id!r}")
        self.id = id

    # ---- hooks a protocol may override -------------------------------------------------
    def on_start(self) -> None:
        """Runs once at time 0: set the first timers, send the first messages."""

    def on_restart(self) -> None:
        """Runs after a crash, with stable fields kept and volatile ones reset.

        By default a restarted node starts over as it did at time 0."""
        self.on_start()

    @classmethod
    def milestones(cls, node: str, before: dict, after: dict, system: dict) -> list:
        """Badges the space-time diagram marks on this node's lane when one step takes its
        state from ``before`` to ``after`` (its fields, as dicts): a role or epoch change, a
        value chosen, a decision reached.  ``system`` maps every node to its state after the
        step, for facts no single node knows (a majority that accepted one value).  Return
        short texts such as ``["primary e2"]``; the default marks nothing."""
        return []

    def obsolete(self, msg) -> bool:
        """True if this node ignores ``msg`` now and in every state it can reach from here
        (e.g. a reply about a ballot it has left behind for good).  The checker forgets such
        messages, which merges states that differ only in them; say True only when sure."""
        return False

    # ---- effects a handler may produce -------------------------------------------------
    def send(self, to: str, msg) -> None:
        """Send ``msg`` (a frozen dataclass) to the node named ``to``."""
        if type(msg) not in _CHECKED_TYPES:
            check_message_type(type(msg))
        if to not in self._id_set:
            raise ValueError(
                f"{self.id} sends {msg!r} to unknown node {to!r}; nodes are {sorted(self._ids)}")
        self._effects.append(Send(to, msg))

    def broadcast(self, msg, to=None) -> None:
        """Send ``msg`` to every node in ``to`` (default: every other node), in order."""
        for other in (self.others if to is None else to):
            self.send(other, msg)

    def set_timer(self, timer, delay: float) -> None:
        """Fire ``timer`` after ``delay`` time units (the checker fires it whenever it likes)."""
        check_message_type(type(timer))
        if type(delay) not in _TIMES or not 0 <= delay < _INF:     # (nan fails too)
            finite_time(f"{self.id}: the delay of {timer!r}", delay, zero_ok=True)
        self._effects.append(SetTimer(timer, delay))

    def cancel_timer(self, timer) -> None:
        """Cancel pending timers equal to ``timer``, or every timer of a class."""
        self._effects.append(CancelTimer(timer))

    def invoke(self, op) -> None:
        """Clients: record that operation ``op`` starts now (for histories)."""
        self._effects.append(Record("invoke", op))

    def respond(self, op, result) -> None:
        """Clients: record that operation ``op`` returned ``result`` now."""
        self._effects.append(Record("response", op, result))

    @property
    def others(self) -> tuple[str, ...]:
        """Every other node's id, in the order the system lists them."""
        return tuple(i for i in self._ids if i != self.id)

    @property
    def rng(self):
        """This node's own seeded random source (for backoff jitter and the like)."""
        return self._rng

    def clock(self) -> float:
        """This node's local clock: true time as this node sees it, with its offset and
        drift (``Simulation(clocks=..., drift=...)``, the ``clock`` fault).  Only the
        simulator and the real runtime have time; the checker explores every order of
        events, so a model whose handlers read clocks cannot be checked."""
        if self._clock is None:
            raise ValueError(
                f"{self.id}: clock() needs time, and only a seeded Simulation (or the real "
                f"runtime) has it; the checker and controlled mode explore every order of "
                f"events without time, so what a lease needs (bounded clock drift) cannot "
                f"be expressed there")
        return self._clock()

    # ---- used by the kernel and the checker --------------------------------------------
    def _attach(self, ids, rng) -> None:
        """Join a system: learn every node's id and take a seeded random source."""
        self._ids = tuple(ids)
        self._id_set = frozenset(ids)
        self._rng = rng
        self._effects = []
        self._clock = None       # the runtime's reading of this node's local clock
        self._fields = fields = tuple(k for k in vars(self) if not k.startswith("_"))
        missing = [name for name in self.stable if name not in self._fields]
        if missing:
            raise ValueError(
                f"{type(self).__name__} lists {missing} as stable but never sets them in "
                f"__init__; stable fields must be ordinary attributes")
        # reads every field at once (a node has at least its id)
        self._read = itemgetter(*fields) if len(fields) > 1 else (lambda d, f=fields[0]: (d[f],))
        self._initial = self.snapshot()
        self._size = len(self.__dict__) + 1  # the fields, the private ones, and _size

    def snapshot(self) -> tuple:
        """Every field's value, frozen, in a fixed order."""
        try:
            values = self._read(self.__dict__)
        except KeyError as exc:  # a field was deleted
            raise ValueError(f"{self.id}: field {exc} disappeared from the node") from None
        for v in values:
            if type(v) not in _SCALARS:
                return tuple([v if type(v) in _SCALARS else freeze(v) for v in values])
        return values   # numbers and strings need no freezing

    def state(self) -> dict:
        """The node's fields as a dict of frozen values (what the trace and tables show)."""
        return dict(zip(self._fields, self.snapshot()))

    def load(self, frozen: tuple) -> None:
        """Set every field from a snapshot."""
        self.__dict__.update(zip(self._fields, map(thaw, frozen)))

    def crash_reset(self) -> None:
        """Lose volatile state: every field not in ``stable`` goes back to its initial value."""
        stable = self.stable
        d = self.__dict__
        for k, v in zip(self._fields, self._initial):
            if k not in stable:
                d[k] = thaw(v)

    def handle(self, item, sender=None) -> list:
        """Run the handler for a message (with its sender) or a timer; return its effects."""
        self._effects = effects = []
        handler = _HANDLERS.get(type(self), _NONE).get(type(item))
        if handler is None:
            handler = self._find_handler(item, sender)
        if sender is None:
            handler(self, item)
        else:
            handler(self, item, sender)
        if len(self.__dict__) != self._size:
            self._check_fields()
        return effects

    def _find_handler(self, item, sender):
        """The class's handler function for this kind of item (remembered per class)."""
        cls = type(self)
        name = handler_name(type(item))
        handler = getattr(cls, name, None)
        if handler is None:
            kind = "message" if sender is not None else "timer"
            raise HandlerError(
                f"{cls.__name__} {self.id!r} received the {kind} {item!r} but has no "
                f"handler {name}; add a method {name}(self, "
                f"{'msg, sender' if sender is not None else 'timer'})")
        _HANDLERS.setdefault(cls, {})[type(item)] = handler
        return handler

    def run_hook(self, hook: str) -> list:
        """Run on_start or on_restart and return its effects."""
        self._effects = effects = []
        getattr(self, hook)()
        self._check_fields()
        return effects

    def _check_fields(self) -> None:
        if len(self.__dict__) != self._size:
            new = [k for k in vars(self) if not k.startswith("_") and k not in self._fields]
            if new:
                raise ValueError(
                    f"{type(self).__name__} {self.id!r} created the field(s) {new} outside "
                    f"__init__; set every field in __init__ so the kernel knows the node's state")

    def __repr__(self):
        state = self.state() if "_fields" in self.__dict__ else {   # not yet in a system
            k: v for k, v in vars(self).items() if not k.startswith("_")}
        fields = ", ".join(f"{k}={v!r}" for k, v in state.items() if k != "id")
        return f"{type(self).__name__}({self.id!r}{', ' if fields else ''}{fields})"


def message_fields(msg) -> str:
    """The key fields of a message as short text, for labels: ``Prepare(n=3)`` -> ``n=3``."""
    if dataclasses.is_dataclass(msg):
        return ", ".join(f"{f.name}={getattr(msg, f.name)!r}" for f in dataclasses.fields(msg))
    return repr(msg)
