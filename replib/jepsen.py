"""Histories in Jepsen's formats: read them into the course's history type, write the
course's own runs out for other checkers (Knossos, Porcupine, Elle).

Jepsen records each operation twice: when a process invokes it and when it completes.
Completions are ``:ok`` (it happened), ``:fail`` (it did not) or ``:info`` (nobody knows;
the process is then considered crashed and never issues another operation: Jepsen gives
the client a new process id).  Two line formats carry them:

* the log lines of ``jepsen.log``:
  ``INFO  jepsen.util - 3\\t:invoke\\t:cas\\t[1 4]`` (process, type, f, value);
* EDN maps, one per line, as in ``history.edn``:
  ``{:type :invoke, :f :cas, :value [1 4], :process 3, :time 123}``.

Operations (``f``) are ``:read``, ``:write`` and ``:cas`` with values ``nil`` / ``v`` /
``[expected new]``; on a key-value store (``kv=True``, Jepsen's ``independent`` tests) each
value is a ``[key value]`` pair.  In the course's type (see ``replib.history``) an
operation completed ``:ok`` gets the result ``"ok"`` (a read: the value read), ``:fail``
gets ``"fail"``, and ``:info`` or no completion at all leaves ``response`` None: it may
have taken effect at any time after its invocation, or never.  The client of each
operation is its process.  Nemesis operations (process ``:nemesis``) are not client
operations and are skipped.

Real time: Jepsen's tools read it from the order of the lines (an operation precedes
another when its completion line comes before the other's invoke line).  Times are the
line numbers (1, 2, ...) unless every line carries ``:time`` (then those, checked to tell
the same story as the order of the lines).  ``to_jepsen`` writes lines in an order that
tells the same story as the course's times, so its output reads back unchanged.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .history import FAIL, OK, _operations, _parse
from .trace import Operation
from .validate import boolean

__all__ = ["Keyword", "load_jepsen", "parse_jepsen", "save_jepsen", "to_jepsen"]


@dataclass(frozen=True)
class Keyword:
    """An EDN keyword such as ``:timed-out``, kept apart from the string "timed-out"."""

    name: str

    def __repr__(self):
        return f":{self.name}"


# ---- EDN values ---------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?[MN]?")
_WORD = re.compile(r"[^\s,()\[\]{}\"';]+")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


class _EdnError(ValueError):
    pass


def read_edn(text: str):
    """One EDN value, as Python: nil None, true/false, numbers, strings, keywords
    (``Keyword``), vectors and lists (tuples), sets (frozensets), maps (dicts).  Tagged
    values (``#inst "..."``) read as their value; anything else is a ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"read_edn: text must be EDN text (a str), got {text!r}")
    try:
        value, pos = _read(text, _skip(text, 0))
        if _skip(text, pos) != len(text):
            raise _EdnError(f"unexpected {text[_skip(text, pos):][:20]!r} after the value")
    except _EdnError as exc:
        raise _EdnError(f"not valid EDN: {exc}") from None
    return value


def _skip(text, pos):
    """Past whitespace, commas and ; comments."""
    while pos < len(text):
        c = text[pos]
        if c in " \t\r\n,":
            pos += 1
        elif c == ";":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
        else:
            break
    return pos


def _read(text, pos):
    if pos >= len(text):
        raise _EdnError("the text ends where a value should be")
    c = text[pos]
    if c in "[(":
        items, pos = _read_items(text, pos + 1, "]" if c == "[" else ")")
        return tuple(items), pos
    if c == "{":
        items, pos = _read_items(text, pos + 1, "}")
        if len(items) % 2:
            raise _EdnError("a map needs a value for every key")
        try:
            return dict(zip(items[::2], items[1::2])), pos
        except TypeError:
            raise _EdnError("a map key must be a number, string, keyword or vector") from None
    if c == "#":
        nxt = text[pos + 1:pos + 2]
        if nxt == "{":
            items, pos = _read_items(text, pos + 2, "}")
            return frozenset(items), pos
        if nxt == "_":                         # discard the next value
            _, pos = _read(text, _skip(text, pos + 2))
            return _read(text, _skip(text, pos))
        tag = _WORD.match(text, pos + 1)
        if not tag:
            raise _EdnError(f"a tag must follow # (as in #inst), got {text[pos:pos + 10]!r}")
        return _read(text, _skip(text, tag.end()))
    if c == '"':
        return _read_string(text, pos + 1)
    if c == ":":
        word = _WORD.match(text, pos + 1)
        if not word:
            raise _EdnError("a keyword needs a name after the colon")
        return Keyword(word.group()), word.end()
    number = _NUMBER.match(text, pos)
    if number and (number.end() == len(text) or not _WORD.match(text, number.end())):
        s = number.group().rstrip("MN")
        return (float(s) if number.group(1) or number.group(2) or number.group().endswith("M")
                else int(s)), number.end()
    word = _WORD.match(text, pos)
    if word and word.group() in ("nil", "true", "false"):
        return {"nil": None, "true": True, "false": False}[word.group()], word.end()
    raise _EdnError(f"cannot read {text[pos:pos + 20]!r} as an EDN value (nil, a number, "
                    f"\"string\", :keyword, [vector], {{map}}, #{{set}})")


def _read_items(text, pos, close):
    items = []
    while True:
        pos = _skip(text, pos)
        if pos >= len(text):
            raise _EdnError(f"missing {close!r}")
        if text[pos] == close:
            return items, pos + 1
        if text[pos] in ")]}":
            raise _EdnError(f"{text[pos]!r} where {close!r} was expected")
        value, pos = _read(text, pos)
        items.append(value)


def _read_string(text, pos):
    out = []
    while pos < len(text):
        c = text[pos]
        if c == '"':
            return "".join(out), pos + 1
        if c == "\\":
            e = text[pos + 1:pos + 2]
            if e == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[pos + 2:pos + 6]):
                out.append(chr(int(text[pos + 2:pos + 6], 16)))
                pos += 6
                continue
            if e not in _ESCAPES:
                raise _EdnError(f"unknown escape \\{e} in a string")
            out.append(_ESCAPES[e])
            pos += 2
            continue
        out.append(c)
        pos += 1
    raise _EdnError("a string is not closed")


def write_edn(value) -> str:
    """The EDN text of a value that ``read_edn`` would read back equal."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"EDN has no {value!r}")
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join("\\" + {"\n": "n", "\t": "t", "\r": "r"}.get(c, c)
                             if c in '"\\\n\t\r' else c for c in value) + '"'
    if isinstance(value, Keyword):
        return f":{value.name}"
    if isinstance(value, (tuple, list)):
        return "[" + " ".join(map(write_edn, value)) + "]"
    if isinstance(value, (set, frozenset)):
        return "#{" + " ".join(map(write_edn, value)) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{write_edn(k)} {write_edn(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"cannot write {value!r} in EDN: values must be None, booleans, numbers, "
                     f"strings, Keywords, tuples, sets or dicts of these")


# ---- reading histories ----------------------------------------------------------------------

_LOG_LINE = re.compile(r"jepsen\.util\s+-\s+(?P<process>\S+)\s+(?P<type>:\S+)\s+(?P<f>:\S+)"
                       r"(?:\s+(?P<value>.*?))?\s*$")
_TYPES = ("invoke", "ok", "fail", "info")
_FS = ("read", "write", "cas")


@dataclass
class _Line:
    number: int
    text: str
    process: object
    type: str
    f: str
    value: object
    time: object


def parse_jepsen(text: str, *, kv: bool = False, times: str | None = None) -> list[Operation]:
    """The history in ``text`` (Jepsen log lines or EDN maps, one operation per line) as
    a list of Operations.

    kv: values are ``[key value]`` pairs (Jepsen's independent keys); check the result
    with ``linearizable_kv``.  times: "line" (times are line numbers: the order Jepsen's
    tools go by) or "field" (the ``:time`` of each line); by default "field" when every
    line has a ``:time``.  Anything that cannot be read raises a ValueError naming the
    line (number and text)."""
    if not isinstance(text, str):
        raise ValueError(f"parse_jepsen reads the text of a history (a str); got {text!r}; "
                         f"for a file use load_jepsen(path)")
    boolean("kv", kv)
    if times not in (None, "line", "field"):
        raise ValueError(f"times must be 'line', 'field' or None (field if every line has a "
                         f":time), got {times!r}")
    lines = [line for line in (_read_line(n, t) for n, t in enumerate(text.splitlines(), 1))
             if line is not None]
    if times is None:
        times = "field" if lines and all(x.time is not None for x in lines) else "line"
    if times == "field":
        _check_times(lines)
    ops: list = []            # [client, op, invoke, response, result]
    open_ops: dict = {}       # process -> (index into ops, its invoke line)
    for x in lines:
        t = x.time if times == "field" else x.number
        if x.type == "invoke":
            if x.process in open_ops:
                _, first = open_ops[x.process]
                raise _bad(x, f"process {x.process!r} invokes :{x.f} while its :{first.f} "
                              f"of line {first.number} is still open (one operation at a "
                              f"time per process)")
            open_ops[x.process] = (len(ops), x)
            ops.append([x.process, _op(x, kv), t, None, None])
            continue
        if x.process not in open_ops:
            raise _bad(x, f"process {x.process!r} completes :{x.f} but has no open invocation")
        i, first = open_ops.pop(x.process)
        if x.f != first.f:
            raise _bad(x, f"process {x.process!r} completes :{x.f} but invoked :{first.f} "
                          f"on line {first.number}")
        if x.type == "info":
            continue                           # indeterminate: no response
        op = ops[i][1]
        if x.type == "fail":
            ops[i][3:] = [t, FAIL]
        elif x.f == "read":
            key = op[1:] if kv else ()
            value = _split(x, kv, key)
            ops[i][3:] = [t, value]
        else:
            if _op(x, kv) != op:
                raise _bad(x, f"the :ok of process {x.process!r} carries a different value "
                              f"from its invocation on line {first.number}")
            ops[i][3:] = [t, OK]
    return [Operation(*rec) for rec in ops]


def load_jepsen(path, *, kv: bool = False, times: str | None = None) -> list[Operation]:
    """``parse_jepsen`` of a file; errors name the file too."""
    path = _path(path)
    try:
        return parse_jepsen(path.read_text(encoding="utf-8"), kv=kv, times=times)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def _read_line(number, text):
    """One line as a _Line, None for a blank line or a nemesis operation."""
    if not text.strip():
        return None
    log = _LOG_LINE.search(text)
    try:
        if log:
            process = read_edn(log["process"])
            kind, f = read_edn(log["type"]), read_edn(log["f"])
            value = read_edn(log["value"]) if log["value"] else None
            time = None
        elif text.lstrip().startswith("{"):
            m = read_edn(text)
            if not isinstance(m, dict):
                raise _EdnError("the line is not one map")
            missing = [k for k in ("type", "f", "process") if Keyword(k) not in m]
            if missing:
                raise _EdnError("an operation map needs " + ", ".join(":" + k for k in missing))
            process, kind, f = m[Keyword("process")], m[Keyword("type")], m[Keyword("f")]
            value, time = m.get(Keyword("value")), m.get(Keyword("time"))
        else:
            raise _EdnError("it is neither a Jepsen log line (INFO  jepsen.util - 3\t:invoke\t"
                            ":cas\t[1 4]) nor an EDN operation map ({:type :invoke, :f :cas, "
                            ":value [1 4], :process 3, :time 0})")
    except _EdnError as e:
        raise ValueError(f"line {number}: {text!r}: {e}") from None
    line = _Line(number, text, process, kind, f, value, time)
    if process == Keyword("nemesis"):
        return None
    if not isinstance(kind, Keyword) or kind.name not in _TYPES:
        raise _bad(line, f"the type must be :invoke, :ok, :fail or :info, got {kind!r}")
    if not isinstance(f, Keyword) or f.name not in _FS:
        raise _bad(line, f"the operation must be :read, :write or :cas, got {f!r}")
    if isinstance(process, (dict, frozenset, Keyword)) or isinstance(process, bool):
        raise _bad(line, f"the process must be a number (or :nemesis), got {process!r}")
    if time is not None and (not isinstance(time, (int, float)) or isinstance(time, bool)
                             or not math.isfinite(time)):
        raise _bad(line, f":time must be a number, got {time!r}")
    line.type, line.f = kind.name, f.name
    return line


def _bad(line, why):
    return ValueError(f"line {line.number}: {line.text!r}: {why}")


def _op(x, kv):
    """The course's operation for an invoke (or ok) line."""
    key = ()
    value = x.value
    if kv:
        if not (isinstance(value, tuple) and len(value) == 2):
            raise _bad(x, f"with kv=True a value must be [key value], got {value!r}")
        key, value = (value[0],), value[1]
    if x.f == "read":
        return ("read",) + key
    if x.f == "write":
        return ("write",) + key + (value,)
    if not (isinstance(value, tuple) and len(value) == 2):
        raise _bad(x, f"a :cas value must be [expected new], got {value!r}")
    return ("cas",) + key + value


def _split(x, kv, key):
    """The value a read returned, checking its key on a key-value store."""
    if not kv:
        return x.value
    if not (isinstance(x.value, tuple) and len(x.value) == 2) or (x.value[0],) != key:
        raise _bad(x, f"a read of key {key[0]!r} must return [{key[0]!r} value], "
                      f"got {x.value!r}")
    return x.value[1]


def _check_times(lines):
    """With times from :time, the lines must tell the same story as their order: times
    never go back, and at one instant no operation that began earlier returns after an
    invocation (the lines would say concurrent, the times ordered), nor does one that
    began at that instant return before one (the other way round)."""
    prev = None
    invoked_at: dict = {}
    for x in lines:
        if prev is not None and x.time < prev.time:
            raise _bad(x, f":time {x.time!r} goes back from {prev.time!r} on line "
                          f"{prev.number}; read it with times='line'")
        if prev is None or x.time != prev.time:
            group_invoked, group_returned_now = False, False
        if x.type == "invoke":
            invoked_at[x.process] = x.time
            if group_returned_now:
                raise _bad(x, f"at :time {x.time!r} an operation invoked and answered at "
                              f"that instant comes before this invocation; the times and the "
                              f"order of the lines disagree: read it with times='line'")
            group_invoked = True
        elif x.type != "info":
            began = invoked_at.get(x.process)
            if began is not None and began < x.time and group_invoked:
                raise _bad(x, f"at :time {x.time!r} this answer comes after an invocation at "
                              f"the same instant; the times and the order of the lines "
                              f"disagree: read it with times='line'")
            if began == x.time:
                group_returned_now = True
        prev = x


# ---- writing histories ----------------------------------------------------------------------

def to_jepsen(history) -> str:
    """The history as EDN lines, one map per invocation and completion, for Knossos,
    Porcupine or Jepsen's own checkers (register: ``("cas", a, b)`` becomes ``:value [a b]``;
    key-value: ``("write", k, v)`` becomes ``:value [k v]`` and a cas ``[k [a b]]``).

    Processes: a client that is a number keeps it; other clients get unused numbers.  Each
    process does one thing at a time and stops after an indeterminate operation, as in
    Jepsen: a client that goes on after one (or overlaps itself) continues under a new
    process number.  Indeterminate operations complete ``:info``: at their response when
    they had one (a write or cas answered neither "ok" nor "fail"), else after everything
    else.  ``:time`` is the course's time."""
    ops = _operations(history)
    events = []                                # (time, rank, index, type)
    last_time = max((t for x in ops for t in (x.invoke, x.response) if t is not None),
                    default=0)
    late = []
    for n, x in enumerate(ops):
        events.append((x.invoke, 1, n, "invoke"))
        kind = _parse(x.op, f"history[{n}]")[1]
        if x.response is None:
            late.append((last_time, 3, n, "info"))
            continue
        if x.result == FAIL:
            outcome = "fail"
        elif kind == "read" or x.result == OK:
            outcome = "ok"
        else:
            outcome = "info"
        # at one instant: answers of operations begun earlier, invocations, then answers
        # of operations begun at that instant: what the course's real-time rule says
        events.append((x.response, 2 if x.response == x.invoke else 0, n, outcome))
    events.sort()
    used = {x.client for x in ops if isinstance(x.client, int) and not isinstance(x.client, bool)}
    process_of: dict = {}                      # op index -> process
    current: dict = {}                         # client -> its process, if free for another op
    assigned: set = set()
    fresh = 0
    lines = []
    for time, _, n, kind in events + late:
        x = ops[n]
        if kind == "invoke":
            p = current.pop(x.client, None)
            if p is None:
                if x.client in used and x.client not in assigned:
                    p = x.client
                else:
                    while fresh in used:
                        fresh += 1
                    p = fresh
                    used.add(p)
                assigned.add(p)
            process_of[n] = p
        elif kind != "info":
            current[x.client] = process_of[n]
        lines.append(write_edn({Keyword("type"): Keyword(kind),
                                Keyword("f"): Keyword(x.op[0]),
                                Keyword("value"): _value(x, kind, n),
                                Keyword("process"): process_of[n],
                                Keyword("time"): time}))
    return "".join(line + "\n" for line in lines)


def save_jepsen(history, path) -> None:
    """Write ``to_jepsen(history)`` to a file (history.edn, say)."""
    _path(path).write_text(to_jepsen(history), encoding="utf-8")


def _path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"path must be a file name (a str or a pathlib.Path), got {path!r}")
    return Path(path)


def _value(x, kind, n):
    """The :value of one line for operation x."""
    form, f, key, args = _parse(x.op, f"history[{n}]")
    if f == "read":
        value = x.result if kind == "ok" else None
    elif f == "write":
        value = args[0]
    else:
        value = tuple(args)
    return (key, value) if form == "kv" else value
