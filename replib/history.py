"""Consistency checks on client histories: lost writes, divergence, linearizability.

Chapters 01 and 02 ask three questions of a run, and this module answers them:

* did the system lose a write it had acknowledged?  (``lost_writes``)
* do two replicas disagree about the order of updates?  (``diverged``)
* could one register, updated atomically, have produced what the clients saw?
  (``linearizable`` and, key by key, ``linearizable_kv``)

**The representation.**  A history is a list of ``replib.trace.Operation(client, op,
invoke, response, result)``, as ``Trace.history()`` returns it (plain 5-tuples are accepted
too).  ``response`` is None when the answer never came.  Operations are tuples:

* one register: ``("write", value)`` and ``("read",)``;
* a key-value store: ``("write", key, value)`` and ``("read", key)``.

A write that was acknowledged returns ``"ok"``; a read returns the value it read.
A replica's log is the list of the operations it applied, in order, e.g.
``[("write", 1), ("write", 2)]`` (the log of the protocols in ``replib.protocols``).

**Real time.**  Operation A precedes B when A returned no later than B was invoked
(``A.response <= B.invoke``, and A began first): a client's next operation, invoked the
instant its previous one returned, comes after it.  With message latencies above zero
every operation takes effect strictly inside its interval, so no correct system is
rejected by this rule.  Operations that do not precede one another are concurrent and may
take effect in either order.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from .trace import Operation

__all__ = ["OK", "Result", "diverged", "is_prefix", "linearizable", "linearizable_kv",
           "lost_writes", "random_history", "with_stale_read"]

OK = "ok"                # the result of an acknowledged write
_INF = float("inf")
_ANY = object()          # the value of a read under suspicion: it may read anything
_EXPLAIN_BUDGET = 50_000  # states spent at most on working out what a culprit could read


# ---- reading the input ------------------------------------------------------------------

def _operations(history) -> list[Operation]:
    """The history as Operations, or a ValueError that says what is wrong and where."""
    if isinstance(history, (str, bytes, Mapping)) or not hasattr(history, "__iter__"):
        raise ValueError("a history must be a list of Operation(client, op, invoke, response, "
                         f"result), as Trace.history() returns; got {history!r}")
    ops = []
    for n, x in enumerate(history):
        if not isinstance(x, Operation):
            if isinstance(x, (tuple, list)) and len(x) == 5:
                x = Operation(*x)
            else:
                raise ValueError(f"history[{n}] is not an Operation(client, op, invoke, response, "
                                 f"result): {x!r}")
        if not _is_time(x.invoke) or x.invoke in (_INF, -_INF):
            raise ValueError(f"history[{n}]: invoke must be a finite number, got {x.invoke!r}")
        if x.response is not None and (not _is_time(x.response) or x.response < x.invoke):
            raise ValueError(f"history[{n}]: response must be None (never answered) or a "
                             f"number >= invoke ({x.invoke!r}), got {x.response!r}")
        _parse(x.op, f"history[{n}]")
        ops.append(x)
    return ops


def _is_time(t) -> bool:
    return isinstance(t, (int, float)) and not isinstance(t, bool) and not math.isnan(t)


def _parse(op, where) -> tuple:
    """(form, kind, key, value) of an operation; form is "register" or "kv"."""
    if isinstance(op, (tuple, list)) and op and op[0] in ("read", "write"):
        kind, n = op[0], len(op)
        if kind == "read" and n in (1, 2):
            return ("register", "read", None, None) if n == 1 else ("kv", "read", op[1], None)
        if kind == "write" and n in (2, 3):
            return ("register", "write", None, op[1]) if n == 2 else ("kv", "write", op[1], op[2])
    raise ValueError(f"{where}: an operation must be ('write', value) / ('read',) on one register "
                     f"or ('write', key, value) / ('read', key) on a key-value store; got {op!r}")


def _logs(logs, what) -> dict:
    if not isinstance(logs, Mapping):
        raise ValueError(f"{what} must map replica ids to logs (lists of applied operations), "
                         f"e.g. {{'backup': [('write', 1)]}}; got {logs!r}")
    for rid, log in logs.items():
        if isinstance(log, (str, bytes, Mapping)) or not isinstance(log, (list, tuple)):
            raise ValueError(f"the log of {rid!r} must be a list of operations, got {log!r}")
    return {rid: [tuple(e) if type(e) is list else e for e in log] for rid, log in logs.items()}


# ---- lost writes and divergence -----------------------------------------------------------

def lost_writes(history, surviving_logs) -> list[Operation]:
    """The writes a client saw acknowledged that no surviving replica holds.

    Acknowledged: the response came and its result is ``"ok"``.  A replica *holds* a write
    when its log contains that exact operation (``("write", 1)`` or ``("write", "x", 1)``);
    where the log sits (committed or not) is not asked.  Writes are recognised by their
    operation, so give each write its own value (the course's clients do).  If the same
    operation was acknowledged k times, it counts as held k times only when one replica's
    log holds it k times; the surplus is reported, the last acknowledged first.  An empty
    ``surviving_logs`` (every replica lost) loses every acknowledged write.

    Returns the lost writes in history order."""
    ops = _operations(history)
    logs = _logs(surviving_logs, "surviving_logs")
    acked = [(i, x) for i, x in enumerate(ops)
             if x.op[0] == "write" and x.response is not None and x.result == OK]
    for _, x in acked:
        _hashable(x.op[-1], x)
    by_op: dict = {}
    for i, x in acked:
        by_op.setdefault(_key(x.op), []).append((i, x))
    counts = []
    for log in logs.values():
        try:
            counts.append(Counter(_key(e) for e in log))
        except TypeError:                      # unhashable entries: count by equality
            counts.append(None)
    lost = []
    for k, group in by_op.items():
        op = group[0][1].op
        held = max((c[k] if c is not None else sum(1 for e in log if e == op)
                    for c, log in zip(counts, logs.values())), default=0)
        if held < len(group):
            group.sort(key=lambda ix: (ix[1].response, ix[0]))
            lost.extend(group[held:])
    return [x for _, x in sorted(lost, key=lambda ix: ix[0])]


def _key(op):
    return tuple(op) if type(op) is list else op


def is_prefix(a, b) -> bool:
    """Is log ``a`` a prefix of log ``b``?  (Equal logs are prefixes of each other.)"""
    for name, log in (("a", a), ("b", b)):
        if isinstance(log, (str, bytes, Mapping)) or not isinstance(log, (list, tuple)):
            raise ValueError(f"is_prefix: {name} must be a list of operations, got {log!r}")
    return len(a) <= len(b) and all(x == y for x, y in zip(a, b))


def diverged(logs) -> list[tuple]:
    """Pairs of replicas whose logs are not prefixes of one another: ``(r1, r2, index)``.

    A replica that is merely behind holds a prefix of the other's log and can catch up;
    two logs that differ at some index have applied different updates there, and no
    amount of shipping reconciles them.  ``index`` is the first position where they
    differ.  Pairs come in the order of ``logs``."""
    logs = _logs(logs, "logs")
    ids = list(logs)
    out = []
    for n, r1 in enumerate(ids):
        for r2 in ids[n + 1:]:
            a, b = logs[r1], logs[r2]
            if not (is_prefix(a, b) or is_prefix(b, a)):
                out.append((r1, r2, next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)))
    return out


# ---- linearizability ----------------------------------------------------------------------

@dataclass
class Result:
    """The verdict of a linearizability check; ``bool(result)`` is ``result.ok``.

    ok: ``order`` is a linearization (every answered operation, plus the unacknowledged
    writes that took effect in it, in the order they took effect).
    Not ok: the history is cut at each answer in turn (answers at the same instant: writes
    first, then in history order), and the first cut that has no valid order is blamed.
    ``prefix`` is that cut (the operations invoked up to then), ``culprit`` the read whose
    answer ended it (the mistake it exposes may lie with an earlier operation it
    contradicts), ``could_see`` the values that read could have returned (None if working
    that out took too long), and ``explanation`` says it in one line.
    ``states``: search states visited, all searches together; ``key``: see linearizable_kv."""

    ok: bool
    explanation: str
    order: list | None = None
    culprit: Operation | None = None
    could_see: list | None = None
    prefix: list | None = None
    key: object = None
    states: int = 0

    def __bool__(self):
        return self.ok

    def __str__(self):
        return self.explanation


@dataclass
class _Entry:
    """One operation ready for the search.  ``must``: it has to be in the order (answered
    reads, acknowledged writes); otherwise (an unanswered or failed write) it may take effect
    at any time after its invocation, or never."""

    op: Operation
    write: bool
    value: object
    invoke: float
    response: float             # +inf when the operation may still take effect
    must: bool = field(default=True)


def _entries(ops, form) -> list[_Entry]:
    out = []
    for x in ops:
        f, kind, _, value = _parse(x.op, "history")
        if f != form:
            raise ValueError(
                "linearizable() checks one register: ('write', v) / ('read',); use "
                "linearizable_kv() for ('write', key, value) / ('read', key)" if form == "register"
                else "linearizable_kv() checks ('write', key, value) / ('read', key); use "
                     "linearizable() for one register: ('write', v) / ('read',)")
        if kind == "read":
            if x.response is None:
                continue                       # an unanswered read constrains nothing
            value = x.result
        _hashable(value, x)
        must = x.response is not None and (kind == "read" or x.result == OK)
        out.append(_Entry(x, kind == "write", value, x.invoke, x.response if must else _INF, must))
    return out


def _hashable(value, x):
    try:
        hash(value)
    except TypeError:
        raise ValueError(f"values must be hashable (numbers, strings, tuples) for the "
                         f"search to remember states; {x!r} has {value!r}") from None


class _Register:
    """A single-register history as the search sees it: operations sorted by invocation,
    operation i is bit i of a set, and ``pred[i]`` is the set of operations that precede i."""

    def __init__(self, entries, initial):
        es = sorted(entries, key=lambda e: (e.invoke, e.response))
        self.entries = es
        self.initial = initial
        n = len(es)
        self.inv = [e.invoke for e in es]
        self.resp = [e.response for e in es]
        self.write = [e.write for e in es]
        self.val = [e.value for e in es]
        self.goal = sum(1 << i for i, e in enumerate(es) if e.must)
        self.all = (1 << n) - 1
        self.writers: dict = {}            # value -> the writes of that value
        self.readers: dict = {}            # value -> the reads that returned it
        self.any = 0                       # the read that may read anything, if there is one
        for i, e in enumerate(es):
            if e.value is _ANY:
                self.any |= 1 << i
            else:
                into = self.writers if e.write else self.readers
                into[e.value] = into.get(e.value, 0) | 1 << i
        # pred[i]: every j with resp[j] <= inv[i] and inv[j] < inv[i]
        by_resp = sorted(range(n), key=lambda j: self.resp[j])
        resp_sorted = [self.resp[j] for j in by_resp]
        upto = [0]
        for j in by_resp:
            upto.append(upto[-1] | 1 << j)
        same_inv: dict = {}
        for i in range(n):
            same_inv[self.inv[i]] = same_inv.get(self.inv[i], 0) | 1 << i
        self.pred = [upto[bisect.bisect_right(resp_sorted, self.inv[i])] & ~same_inv[self.inv[i]]
                     for i in range(n)]

    def step(self, done, value):
        """From state (done, value): take every enabled read that sees ``value`` (a read
        changes nothing, so taking it now never rules out an order), and list the enabled
        writes, the choices the search branches on (none when the state is a dead end).

        Enabled: not done, and everything that precedes it is done.  Scanning in invocation
        order, once an op is invoked after the earliest response of an undone op scanned
        so far, it and all later ones are preceded by that op: stop there."""
        inv, resp, pred, write, val = self.inv, self.resp, self.pred, self.write, self.val
        taken, choices, later = [], [], []
        limit = _INF
        rest = self.all & ~done
        while rest:
            low = rest & -rest
            rest ^= low
            i = low.bit_length() - 1
            if inv[i] > limit:
                break
            if not pred[i] & ~done:
                if not write[i]:
                    if val[i] == value:
                        done |= low
                        taken.append(i)
                        continue
                    if val[i] is _ANY:
                        choices.append(i)
                elif self.goal & low:
                    choices.append(i)
                else:
                    later.append(i)            # optional writes: try them last
            if resp[i] < limit:
                limit = resp[i]
        # Dead end: reads of the current value are still waiting, but none can go now (a
        # write must come first) and no write of this value is left to bring it back.
        # (A read that may read anything could also unblock them, without a write.)
        if (self.readers.get(value, 0) & ~done and not self.writers.get(value, 0) & ~done
                and not self.any & ~done):
            return done, taken, []
        return done, taken, choices + later


def _search(reg: _Register, memo=True):
    """Depth-first search for an order (Wing & Gong, with Lowe's memo of visited states).

    A state is (set of operations done, register value); two paths that reach the same
    state have the same future, so each state is expanded once.  Returns (order or None,
    states visited, reach): every answered operation that returned before ``reach`` is
    done in some state visited, so the history cut just before ``reach`` is linearizable."""
    goal, val, inv, resp = reg.goal, reg.val, reg.inv, reg.resp
    done, taken, choices = reg.step(0, reg.initial)
    if done & goal == goal:
        return taken, 1, _INF
    seen = set()
    stack = [[done, choices, 0]]
    parts = [taken]
    states = 1
    reach = _reach(done, goal, inv, resp)
    while stack:
        top = stack[-1]
        if top[2] == len(top[1]):
            stack.pop()
            parts.pop()
            continue
        i = top[1][top[2]]
        top[2] += 1
        done, taken, choices = reg.step(top[0] | 1 << i, val[i])
        states += 1
        if done & goal == goal:
            return [j for part in parts for j in part] + [i] + taken, states, _INF
        if memo:
            key = (done, val[i])
            if key in seen:
                continue
            seen.add(key)
        r = _reach(done, goal, inv, resp)
        if r > reach:
            reach = r
        stack.append([done, choices, 0])
        parts.append([i] + taken)
    return None, states, reach


def _reach(done, goal, inv, resp):
    """The earliest response among the answered operations not yet done (scanning in
    invocation order, none invoked after the best so far can answer earlier)."""
    undone = goal & ~done
    best = _INF
    while undone:
        low = undone & -undone
        undone ^= low
        i = low.bit_length() - 1
        if inv[i] > best:
            break
        if resp[i] < best:
            best = resp[i]
    return best


def _check_register(entries, initial, memo=True) -> Result:
    """Linearizability of one register's entries, with an explanation when it fails."""
    _hashable(initial, "the initial value")
    # The answers in the order they came; at the same instant writes first, then in
    # history order (so the answer that breaks a history is a read's).
    answers = sorted((j for j, e in enumerate(entries) if e.must),
                     key=lambda j: (entries[j].response, not entries[j].write, j))
    impossible = _impossible_read(entries, initial)
    states = 0
    if impossible is None:
        reg = _Register(entries, initial)
        order, states, reach = _search(reg, memo)
        if order is not None:
            pending = sum(1 for e in entries if not e.must)
            placed = sum(1 for i in order if not reg.entries[i].must)
            extra = (f"; {placed} of {pending} unacknowledged writes took effect"
                     if pending else "")
            return Result(True, f"linearizable: {len(entries)} operations ordered{extra}",
                          order=[reg.entries[i].op for i in order], states=states)
        lo = sum(1 for j in answers if entries[j].response < reach)
        hi = len(answers) - 1
    else:
        lo = 0
        hi = max(k for k, j in enumerate(answers) if entries[j].response <= impossible.response)
    # Not linearizable.  Cutting a history after its k-th answer (operations still in
    # flight then become unanswered ones) keeps it linearizable if it was, so look for the
    # earliest cut that fails, knowing that cut hi does: gallop up from lo, then bisect.

    def cut(k):
        return _cut(entries, set(answers[:k + 1]), entries[answers[k]].response)

    def fails(k):
        nonlocal states
        c = cut(k)
        if _impossible_read(c, initial) is not None:
            return True
        order, n, _ = _search(_Register(c, initial), memo)
        states += n
        return order is None

    prev, k, jump = lo - 1, lo, 1
    while k < hi and not fails(k):
        prev, k, jump = k, min(hi, k + jump), jump * 2
    lo, hi = prev + 1, k
    while lo < hi:
        mid = (lo + hi) // 2
        if fails(mid):
            hi = mid
        else:
            lo = mid + 1
    last = entries[answers[lo]]
    t = last.response
    prefix = [e.op for e in sorted(entries, key=lambda e: e.invoke) if e.invoke <= t]
    where = f"(no valid order for the {len(prefix)} operations invoked up to t={t:g})"
    if last.write:                 # cannot happen with operations that take time; be honest
        return Result(False, f"not linearizable: no order of the {len(prefix)} operations "
                             f"invoked up to t={t:g} respects real time and explains every read",
                      culprit=last.op, prefix=prefix, states=states)
    values, n = _possible_reads(cut(lo), last, initial, memo)
    states += n
    if last.value != initial and not any(w.write and w.value == last.value
                                         and not _precedes(last, w) for w in entries):
        why = f"returned {last.value!r}, a value nobody had written by then"
    elif not values:
        why = f"returned {last.value!r}, which no valid order lets it read"
    else:
        why = (f"returned {last.value!r} but could only have read "
               + (repr(values[0]) if len(values) == 1 else
                  "one of " + ", ".join(map(repr, values))))
    return Result(False, f"not linearizable: {_show(last.op)} {why} {where}",
                  culprit=last.op, could_see=values, prefix=prefix, states=states)


def _possible_reads(entries, r, initial, memo=True, budget=_EXPLAIN_BUDGET):
    """The values read r could have returned: those it sees in some complete order.

    The search again, with r reading anything, run to the end and remembering for each
    state whether an order can still be completed from it; r's value at each placement
    that leads to a completion is one it could have read.  Returns (values, states);
    values is None if that takes more than ``budget`` states (many concurrent clients)."""
    reg = _Register([_Entry(e.op, False, _ANY, e.invoke, e.response) if e is r else e
                     for e in entries], initial)
    goal, val = reg.goal, reg.val
    good: dict = {}
    values: list = []
    done, _, choices = reg.step(0, initial)
    # frame: [done, value, choices, next choice, can complete, entered by placing r?]
    stack = [[done, initial, choices, 0, False, False]]
    states = 1
    while stack:
        top = stack[-1]
        if top[3] < len(top[2]):
            i = top[2][top[3]]
            top[3] += 1
            value = top[1] if val[i] is _ANY else val[i]
            done, _, choices = reg.step(top[0] | 1 << i, value)
            states += 1
            if states > budget:
                return None, states
            if done & goal == goal:
                ok = True
            elif memo and (done, value) in good:
                ok = good[(done, value)]
            else:
                stack.append([done, value, choices, 0, False, val[i] is _ANY])
                continue
            entered_by_r = val[i] is _ANY
        else:
            finished = stack.pop()
            if memo:
                good[(finished[0], finished[1])] = finished[4]
            if not stack:
                break
            ok, entered_by_r, top = finished[4], finished[5], stack[-1]
        if ok:
            top[4] = True
            if entered_by_r and not any(v == top[1] for v in values):
                values.append(top[1])
    first: dict = {initial: -_INF}             # list values in the order first written
    for e in entries:
        if e.write and e.invoke < first.get(e.value, _INF):
            first[e.value] = e.invoke
    return sorted(values, key=first.__getitem__), states


def _precedes(a, b) -> bool:
    """Real-time order: a returned no later than b was invoked (and began first)."""
    return a.response <= b.invoke and a.invoke < b.invoke


class _Overwritten:
    """For each read, the invocation of the last acknowledged write that certainly precedes
    it: a write that returned before then (and began earlier) was overwritten before the
    read began."""

    def __init__(self, entries):
        ws = sorted((w for w in entries if w.write and w.must), key=lambda w: w.response)
        self.writes = ws
        self.resp = [w.response for w in ws]
        self.top = []                          # max invoke over ws[:k+1]
        for w in ws:
            self.top.append(max(w.invoke, self.top[-1]) if self.top else w.invoke)

    def last(self, r):
        k = bisect.bisect_right(self.resp, r.invoke)
        if not k:
            return None
        if self.top[k - 1] < r.invoke:
            return self.top[k - 1]
        # a zero-length write at r's invocation does not precede r: look closer
        return max((w.invoke for w in self.writes[:k] if _precedes(w, r)), default=None)


def _impossible_read(entries, initial):
    """The earliest-answered read whose value is not even a candidate (never written, only
    written after the read, or overwritten before it began), or None.  This cheap check
    finds most stale reads without a search."""
    over = _Overwritten(entries)
    writers: dict = {}
    for w in entries:
        if w.write:
            writers.setdefault(w.value, []).append(w)
    bad = None
    for r in entries:
        if r.write or not r.must or (bad is not None and r.response >= bad.response):
            continue
        last = over.last(r)
        if r.value == initial and last is None:
            continue
        if not any(not (last is not None and w.response <= last and w.invoke < last)
                   and not _precedes(r, w) for w in writers.get(r.value, ())):
            bad = r
    return bad


def _cut(entries, answered, t):
    """The history as it stood at time t, when the answers ``answered`` (indices into
    entries) had come: operations invoked by then, the others turned into unanswered ones
    (reads dropped, writes optional)."""
    out = []
    for j, e in enumerate(entries):
        if e.invoke > t:
            continue
        if j in answered:
            out.append(e)
        elif e.write:
            out.append(_Entry(e.op, True, e.value, e.invoke, _INF, False))
    return out


def _show(x: Operation) -> str:
    """An operation as people write it: ``c1 write('x', 1) [0..2]``."""
    form, kind, key, value = _parse(x.op, "history")
    args = ([key] if form == "kv" else []) + ([value] if kind == "write" else [])
    end = "..." if x.response is None else f"{x.response:g}"
    return f"{x.client} {kind}({', '.join(map(repr, args))}) [{x.invoke:g}..{end}]"


def linearizable(history, initial=None, *, memoise=True) -> Result:
    """Could one register, updated atomically, have produced this history?

    Yes if the operations can be put in one order that respects real time (an operation
    that returned before another was invoked comes first) in which every read returns the
    latest write before it (or ``initial``).  An operation whose answer never came (or a
    write answered with something other than "ok") may have taken effect at any time after
    its invocation, or never; an unanswered read constrains nothing.

    The search (Wing & Gong; Lowe's memo) tries orders depth first and remembers the states
    (operations done, register value) it has left behind, so its work grows with the
    history's length times 2 ** (operations in flight at once), not with the number of
    orders.  A cheap pre-check rejects a read of a value overwritten before it began without
    any search.  ``memoise=False`` switches the memo off, to measure what it buys (the
    search is then exponential on histories it must reject).  Returns a ``Result``."""
    return _check_register(_entries(_operations(history), "register"), initial, memoise)


def linearizable_kv(history, initial=None, *, memoise=True) -> Result:
    """``linearizable`` for a key-value store, one key at a time.

    Linearizability is compositional (Herlihy & Wing): a history is linearizable exactly
    when its restriction to each key is, so each key is checked on its own (a much smaller
    search) and the per-key orders are merged into one.  ``initial``: a dict of initial
    values (keys not in it start as None).  When some keys fail, the result is the one whose
    culprit was answered first, with ``key`` set."""
    if initial is not None and not isinstance(initial, Mapping):
        raise ValueError(f"initial must be a dict of key -> initial value, got {initial!r}")
    initial = initial or {}
    per_key: dict = {}
    for e in _entries(_operations(history), "kv"):
        key = e.op.op[1]
        try:
            hash(key)
        except TypeError:
            raise ValueError(f"keys must be hashable, {e.op!r} has {key!r}") from None
        per_key.setdefault(key, []).append(e)
    results = {k: _check_register(es, initial.get(k), memoise) for k, es in per_key.items()}
    states = sum(r.states for r in results.values())
    failed = [(k, r) for k, r in results.items() if not r.ok]
    if failed:
        k, r = min(failed, key=lambda kr: kr[1].culprit.response if kr[1].culprit else _INF)
        more = f" ({len(failed)} keys fail)" if len(failed) > 1 else ""
        r.key, r.states = k, states
        r.explanation = f"key {k!r}: {r.explanation}{more}"
        return r
    return Result(True, f"linearizable: {sum(map(len, per_key.values()))} operations on "
                        f"{len(per_key)} keys ordered", order=_merge(results), states=states)


def _merge(results) -> list[Operation]:
    """One order from per-key orders: repeatedly take the head invoked earliest.  Anything
    that precedes that head was invoked earlier still, so it is already placed (in another
    key's order it would precede that key's head, which its order forbids)."""
    queues = [r.order for r in results.values()]
    heap = [(q[0].invoke, n, 0) for n, q in enumerate(queues) if q]
    heapq.heapify(heap)
    out = []
    while heap:
        _, n, pos = heapq.heappop(heap)
        out.append(queues[n][pos])
        if pos + 1 < len(queues[n]):
            heapq.heappush(heap, (queues[n][pos + 1].invoke, n, pos + 1))
    return out


# ---- histories for examples, tests and benchmarks -------------------------------------------

def random_history(ops=200, clients=5, seed=0, *, read_fraction=0.5, values=None, keys=None,
                   unanswered=0.0, duration=1.0, think=0.2) -> list[Operation]:
    """A random history that is linearizable by construction.

    Each client runs its operations one after another; each operation takes effect at a
    random point inside its interval [invoke, response], and the register (or each key of
    ``keys`` keys) is simulated in that order to give every read its result.  Writes write
    1, 2, 3, ... (or a random value below ``values``).  With probability ``unanswered`` an
    answer is lost: the client waits forever (issues nothing more), and a lost write took
    effect or not, at random.  Invoke to effect and effect to response each take
    Uniform(0, duration]; a client thinks Uniform(0, think) between operations."""
    for name, v, low in (("ops", ops, 0), ("clients", clients, 1)):
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
    if not 0 <= read_fraction <= 1 or not 0 <= unanswered <= 1:
        raise ValueError("read_fraction and unanswered must lie in [0, 1]")
    if values is not None and (not isinstance(values, int) or values < 1):
        raise ValueError(f"values must be None or an integer >= 1, got {values!r}")
    if keys is not None and (not isinstance(keys, int) or keys < 1):
        raise ValueError(f"keys must be None or an integer >= 1, got {keys!r}")
    if duration <= 0 or think < 0:
        raise ValueError("duration must be > 0 and think >= 0")
    rng = random.Random(seed)
    ready = [(rng.uniform(0, think), c) for c in range(clients)]   # (free at, client)
    made = []                                  # [effect time or None, index, record]
    written = 0
    while ready and len(made) < ops:
        t, c = heapq.heappop(ready)
        key = None if keys is None else f"k{rng.randrange(keys)}"
        if rng.random() < read_fraction:
            op = ("read",) if key is None else ("read", key)
        else:
            written += 1
            v = written if values is None else rng.randrange(values)
            op = ("write", v) if key is None else ("write", key, v)
        effect = t + duration * (1 - rng.random())
        response = effect + duration * (1 - rng.random())
        lost = rng.random() < unanswered
        if lost and op[0] == "write" and rng.random() < 0.5:
            effect = None                      # the lost write never took effect
        made.append([effect, len(made), [f"c{c + 1}", op, t, None if lost else response, None]])
        if not lost:
            heapq.heappush(ready, (response + rng.uniform(0, think), c))
    state: dict = {}
    for _, _, rec in sorted((m for m in made if m[0] is not None), key=lambda m: m[:2]):
        op = rec[1]
        key = None if keys is None else op[1]
        if op[0] == "write":
            state[key] = op[-1]
            rec[4] = OK if rec[3] is not None else None
        elif rec[3] is not None:
            rec[4] = state.get(key)
    return [Operation(*rec) for _, _, rec in sorted(made, key=lambda m: m[1])]


def with_stale_read(history, seed=0):
    """The history with one read made stale, and that read: it now returns a value that
    was overwritten before it began (two writes precede it, one after the other), as a
    lagging backup would answer.  Needs writes of distinct values; ValueError if no read
    qualifies."""
    ops = _operations(history)
    writes = [x for x in ops if x.op[0] == "write" and x.response is not None and x.result == OK]
    rng = random.Random(seed)
    reads = [n for n, x in enumerate(ops) if x.op[0] == "read" and x.response is not None]
    rng.shuffle(reads)
    for n in reads:
        r = ops[n]
        before = [w for w in writes if w.response < r.invoke and w.op[1:-1] == r.op[1:]]
        overwritten = [w for w in before
                       if any(w.response < w2.invoke and w2.op[-1] != w.op[-1] for w2 in before)
                       and w.op[-1] != r.result]
        if overwritten:
            w = rng.choice(overwritten)
            stale = Operation(r.client, r.op, r.invoke, r.response, w.op[-1])
            return ops[:n] + [stale] + ops[n + 1:], stale
    raise ValueError("no read in this history comes after two writes that follow one another")
