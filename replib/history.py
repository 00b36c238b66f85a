"""Consistency checks on client histories: lost writes, divergence, linearizability.

Chapters 01 and 02 ask three questions of a run, and this module answers them:

* did the system lose a write it had acknowledged?  (``lost_writes``)
* do two replicas disagree about the order of updates?  (``diverged``)
* could one register, updated atomically, have produced what the clients saw?
  (``linearizable`` and, key by key, ``linearizable_kv``; ``draw`` shows the verdict)

Histories from Jepsen (and the course's own, for Knossos or Porcupine) go in and out
through ``replib.jepsen``.

**The representation.**  A history is a list of ``replib.trace.Operation(client, op,
invoke, response, result)``, as ``Trace.history()`` returns it (plain 5-tuples are accepted
too).  ``response`` is None when the answer never came.  Operations are tuples:

* one register: ``("write", value)``, ``("read",)`` and ``("cas", expected, new)``;
* a key-value store: ``("write", key, value)``, ``("read", key)`` and
  ``("cas", key, expected, new)``, one register per key.

What the answer says (Jepsen's ``:ok``, ``:fail`` and ``:info``):

* ``result`` ``"ok"`` (``OK``) for a write or a cas, or the value read for a read: the
  operation took effect once, at some instant between its invocation and its response;
  a cas did so when the register held ``expected``, and left ``new`` in it.
* ``result`` ``"fail"`` (``FAIL``): the operation did not take effect.  A failed cas is a
  definite answer, as Porcupine reads Jepsen's etcd histories: at some instant of its
  interval the register held something other than ``expected``, and nothing changed.
  (Knossos drops failed operations altogether, which asks less of a failed cas.)  A
  failed read or write constrains nothing.
* indeterminate: ``response`` None (never answered; Jepsen's ``:info``), or a write or cas
  answered with anything else (a timeout, an error): it may have taken effect at any one
  instant after its invocation, or never.  An indeterminate cas can take effect only when
  the register holds ``expected``; an indeterminate read constrains nothing.

So "fail" is not a value a register can hold.  A replica's log is the list of the
operations it applied, in order, e.g. ``[("write", 1), ("write", 2)]`` (the log of the
protocols in ``replib.protocols``).

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

from . import linearize
from .linearize import ANY, INF, SAME, Step
from .trace import Operation
from .validate import boolean, finite_time, integer, probability, whole_number

__all__ = ["FAIL", "OK", "Result", "diverged", "draw", "is_prefix", "linearizable",
           "linearizable_kv", "lost_writes", "random_history", "with_stale_read"]

OK = "ok"                # the result of a write or cas that took effect
FAIL = "fail"            # the result of an operation that did not take effect
_EXPLAIN_BUDGET = 50_000  # states spent at most on working out what a culprit could see
_WALK = 8                 # cuts checked one by one before galloping to the first that fails
MAX_HISTORY = 1_000_000   # operations (and clients) random_history makes at most


# ---- reading the input ------------------------------------------------------------------

def _operations(history) -> list[Operation]:
    """The history as Operations, or a ValueError that says what is wrong and where."""
    return _read(history)[0]


def _read(history):
    """The history as Operations, and each one's ``_parse``, or a ValueError that says
    what is wrong and where."""
    if isinstance(history, (str, bytes, Mapping)) or not hasattr(history, "__iter__"):
        raise ValueError("a history must be a list of Operation(client, op, invoke, response, "
                         f"result), as Trace.history() returns; got {history!r}")
    ops, shapes = [], []
    for n, x in enumerate(history):
        if not isinstance(x, Operation):
            if isinstance(x, (tuple, list)) and len(x) == 5:
                x = Operation(*x)
            else:
                raise ValueError(f"history[{n}] is not an Operation(client, op, invoke, response, "
                                 f"result): {x!r}; a history must be a list of Operations")
        t = x.invoke
        if not (type(t) in _PLAIN and -INF < t < INF or _is_time(t) and -INF < t < INF):
            raise ValueError(f"history[{n}]: invoke must be a finite number, got {t!r}")
        r = x.response
        if r is not None and not (type(r) in _PLAIN and r >= t or _is_time(r) and r >= t):
            raise ValueError(f"history[{n}]: response must be None (never answered) or a "
                             f"number >= invoke ({t!r}), got {r!r}")
        shape = _shape(x.op)
        if shape is None:
            _parse(x.op, f"history[{n}]")          # raises, saying what is allowed
        shapes.append(shape)
        ops.append(x)
    return ops, shapes


_PLAIN = (int, float)     # (a NaN fails every comparison, so these need no other check)


def _is_time(t) -> bool:
    return isinstance(t, (int, float)) and not isinstance(t, bool) and not math.isnan(t)


def _shape(op):
    """(form, kind, key, args) of an operation: form "register" or "kv", args the values
    after the key: (), (value,) or (expected, new); None if it is none of the forms."""
    if isinstance(op, (tuple, list)) and op:
        kind, n = op[0], len(op)
        if kind == "read":
            short = 1 if n == 1 else 0 if n == 2 else None
        elif kind == "write":
            short = 1 if n == 2 else 0 if n == 3 else None
        elif kind == "cas":
            short = 1 if n == 3 else 0 if n == 4 else None
        else:
            return None
        if short == 1:
            return "register", kind, None, tuple(op[1:])
        if short == 0:
            return "kv", kind, op[1], tuple(op[2:])
    return None


def _parse(op, where) -> tuple:
    """``_shape`` of an operation, or a ValueError naming ``where`` it is."""
    shape = _shape(op)
    if shape is None:
        raise ValueError(f"{where}: an operation must be ('write', value) / ('read',) / "
                         f"('cas', expected, new) on one register or ('write', key, value) / "
                         f"('read', key) / ('cas', key, expected, new) on a key-value store; "
                         f"got {op!r}")
    return shape


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

    ok: ``order`` is a linearization (every answered operation, plus the indeterminate
    writes and cas that took effect in it, in the order they took effect).
    Not ok: the history is cut at each answer in turn (answers at the same instant:
    successful writes first, then in history order), and the first cut that has no valid
    order is blamed.  ``prefix`` is that cut (the operations invoked up to then),
    ``culprit`` the operation whose answer ended it (a read, a cas, or a failed write; the
    mistake it exposes may lie with an earlier operation it contradicts), ``could_see`` the
    values a read or cas culprit could have seen when it took effect (a read: could have
    returned; a cas: could have found in the register), or None if working that out stopped
    at its budget of states (the explanation says so) or the culprit is a failed write, and
    ``explanation`` says it in one line.
    ``states``: search states visited, all searches together; ``key``: see linearizable_kv;
    ``history``: the history checked (for ``draw``)."""

    ok: bool
    explanation: str
    order: list | None = None
    culprit: Operation | None = None
    could_see: list | None = None
    prefix: list | None = None
    key: object = None
    states: int = 0
    history: list | None = field(default=None, repr=False)

    def __bool__(self):
        return self.ok

    def __str__(self):
        return self.explanation


class _Entry:
    """One operation as the checker reads it: ``kind`` read / write / cas, ``args`` the read
    value, (value,) or (expected, new), ``outcome`` "ok" (it took effect, or read its value),
    "fail" (it did not) or "unknown" (indeterminate: ``response`` is +inf).  ``sees``: the
    value it must find in the register (a read, a successful cas), or ANY; ``sets``: the
    value it may leave there, or SAME."""

    __slots__ = ("op", "kind", "args", "outcome", "invoke", "response", "must", "sees", "sets",
                 "_step", "_unanswered")

    def __init__(self, op, kind, args, outcome, invoke, response):
        self.op, self.kind, self.args, self.outcome = op, kind, args, outcome
        self.invoke, self.response = invoke, response
        self.must = outcome != "unknown"
        self.sees = args[0] if outcome == "ok" and kind != "write" else ANY
        self.sets = SAME if kind == "read" or outcome == "fail" else args[-1]
        self._step = self._unanswered = None      # made once, as every cut asks again

    def step(self, probe=False) -> Step:
        """The operation for the search; ``probe``: the one whose value is in question."""
        if probe:
            cas = self.kind == "cas"
            return Step(self.invoke, self.response, probe=True,
                        new=self.args[1] if cas else SAME, when=self.args[0] if cas else ANY)
        if self._step is None:
            if self.outcome == "fail":
                self._step = Step(self.invoke, self.response, avoid=self.args[0])
            else:
                need = self.args[0] if self.kind == "cas" else self.sees
                self._step = Step(self.invoke, self.response, need=need, new=self.sets,
                                  must=self.must)
        return self._step

    def unanswered(self):
        """The entry as it stood before its answer came: reads vanish, the others become
        indeterminate."""
        if self.kind == "read":
            return None
        if self._unanswered is None:
            self._unanswered = _Entry(self.op, self.kind, self.args, "unknown", self.invoke, INF)
        return self._unanswered


def _entries(ops, shapes, form) -> list[_Entry]:
    out = []
    for x, (f, kind, _, args) in zip(ops, shapes):
        if f != form:
            raise ValueError(
                "linearizable() checks one register: ('write', v) / ('read',) / ('cas', a, b); "
                "use linearizable_kv() for ('write', key, value) / ('read', key) / "
                "('cas', key, a, b)" if form == "register"
                else "linearizable_kv() checks ('write', key, value) / ('read', key) / "
                     "('cas', key, a, b); use linearizable() for one register: "
                     "('write', v) / ('read',) / ('cas', a, b)")
        answered = x.response is not None
        if kind == "read":
            if not answered or x.result == FAIL:
                continue                       # constrains nothing
            args, outcome = (x.result,), "ok"
        elif answered and x.result == FAIL:
            outcome = "fail"                   # kept: until its answer it might take effect
        else:
            outcome = "ok" if answered and x.result == OK else "unknown"
        for value in args:
            _hashable(value, x)
        out.append(_Entry(x, kind, args, outcome, x.invoke,
                          x.response if outcome != "unknown" else INF))
    return out


def _hashable(value, x):
    try:
        hash(value)
    except TypeError:
        raise ValueError(f"values must be hashable (numbers, strings, tuples) for the "
                         f"search to remember states; {x!r} has {value!r}") from None


def _register(entries, initial, probe=None):
    """The search's view of the entries, and the entries it holds (a failed write is not
    one of them: it did not take effect)."""
    kept = [e for e in entries if (e.kind, e.outcome) != ("write", "fail")]
    return linearize.Register([e.step(e is probe) for e in kept], initial), kept


def _check_register(entries, initial, memo=True) -> Result:
    """Linearizability of one register's entries, with an explanation when it fails."""
    _hashable(initial, "the initial value")
    reg, kept = _register(entries, initial)
    order, states, reach = linearize.search(reg, memo)
    if order is not None:
        placed = [kept[reg.index[i]] for i in order]
        extra = "".join(
            f"; {sum(1 for e in placed if e.kind == kind and not e.must)} of {pending} "
            f"unacknowledged {plural} took effect"
            for kind, plural in (("write", "writes"), ("cas", "cas operations"))
            if (pending := sum(1 for e in kept if e.kind == kind and not e.must)))
        return Result(True, f"linearizable: {len(kept)} operations ordered{extra}",
                      order=[e.op for e in placed], states=states)
    # The answers in the order they came; at the same instant successful writes first (their
    # answer never breaks a history), then in history order.
    answers = sorted((j for j, e in enumerate(entries) if e.must),
                     key=lambda j: (entries[j].response,
                                    (entries[j].kind, entries[j].outcome) != ("write", "ok"), j))
    # The history cut before the answer the search never got past is linearizable.  The
    # cut at the answer of a read whose value is not even a candidate is not, unless a
    # write or cas of that value had not yet failed then (in flight, it might have taken
    # effect).
    lo = sum(1 for j in answers if entries[j].response < reach)
    hi = len(answers) - 1
    impossible = _impossible_observation(entries, initial)
    if impossible is not None:
        hi = max(k for k, j in enumerate(answers)
                 if entries[j].response <= impossible.response
                 or entries[j].outcome == "fail" and entries[j].args[-1] == impossible.sees)
    # Not linearizable.  Cutting a history after its k-th answer (operations still in
    # flight then become unanswered ones) keeps it linearizable if it was, so look for the
    # earliest cut that fails, knowing that cut hi does: walk up from lo one answer at a
    # time (it is usually close, and a cut that passes is much quicker to check than one
    # that fails), then gallop, then bisect.

    def cut(k):
        return _cut(entries, set(answers[:k + 1]), entries[answers[k]].response)

    def fails(k):
        nonlocal states
        c = cut(k)
        if _impossible_observation(c, initial) is not None:
            return True
        order, n, _ = linearize.search(_register(c, initial)[0], memo)
        states += n
        return order is None

    if impossible is not None and lo < hi:    # usually the impossible read's answer is it
        if fails(hi - 1):
            hi -= 1
        else:
            lo = hi
    prev, k, jump = lo - 1, lo, 1
    while k < hi and not fails(k):
        prev, k = k, min(hi, k + jump)
        if k - lo >= _WALK:
            jump *= 2
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
    if last.kind == "write":       # a failed write whose effect the reads before needed
        return Result(False, f"not linearizable: {_show(last.op)} failed, but every order of "
                             f"what came before needs it to have taken effect {where}",
                      culprit=last.op, prefix=prefix, states=states)
    budget = _EXPLAIN_BUDGET
    values, n = linearize.possible_values(_register(cut(lo), initial, probe=last)[0], memo,
                                          budget)
    states += n
    if values is not None:
        values = _in_order_written(values, entries, initial)
    why = _why(last, values, budget, entries, initial)
    return Result(False, f"not linearizable: {_show(last.op)} {why} {where}",
                  culprit=last.op, could_see=values, prefix=prefix, states=states)


def _why(culprit, values, budget, entries, initial) -> str:
    """What the culprit did, and what it could have done instead."""
    seen = culprit.sees
    did = {"read": f"returned {culprit.args[0]!r}", "cas": "succeeded" if culprit.outcome == "ok"
           else "failed"}[culprit.kind]
    held = "read" if culprit.kind == "read" else "found"
    if seen is not ANY and seen != initial and not any(
            e.sets is not SAME and e.sets == seen and e is not culprit
            and not _precedes(culprit, e) for e in entries):
        if culprit.kind == "read":
            return f"{did}, a value nobody had written by then"
        return f"{did}, so it found {seen!r}, a value nobody had written by then"
    if values is None:
        return (f"{did}; what it could have {held} is unknown: the search stopped at "
                f"{budget:,} states")
    if not values:
        return f"{did}, which no valid order " + ("lets it read" if held == "read" else "allows")
    could = repr(values[0]) if len(values) == 1 else "one of " + ", ".join(map(repr, values))
    if culprit.kind == "read":
        return f"{did} but could only have read {could}"
    return f"{did} but could only have found {could}"


def _in_order_written(values, entries, initial):
    """The values, listed in the order they were first written (the initial one first; at
    the same instant, in history order)."""
    first: dict = {initial: (-INF, -1)}
    for n, e in enumerate(entries):
        if e.sets is not SAME and (e.invoke, n) < first.get(e.sets, (INF, 0)):
            first[e.sets] = (e.invoke, n)
    return sorted(values, key=lambda v: first.get(v, (INF, 0)))


def _precedes(a, b) -> bool:
    """Real-time order: a returned no later than b was invoked (and began first)."""
    return a.response <= b.invoke and a.invoke < b.invoke


class _Overwritten:
    """For each operation, the invocation of the last write or successful cas that certainly
    precedes it: whatever was written by an operation that returned before then (and began
    earlier) was overwritten before it began."""

    def __init__(self, entries):
        ws = sorted((w for w in entries if w.must and w.sets is not SAME),
                    key=lambda w: w.response)
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


def _impossible_observation(entries, initial):
    """The earliest-answered read or successful cas whose value is not even a candidate
    (never written, only written after it, or overwritten before it began), or None.  This
    cheap check finds most stale reads without a search."""
    over = _Overwritten(entries)
    writers: dict = {}
    for w in entries:
        if w.sets is not SAME:
            writers.setdefault(w.sets, []).append(w)
    bad = None
    for r in entries:
        seen = r.sees
        if seen is ANY or (bad is not None and r.response >= bad.response):
            continue
        last = over.last(r)
        if seen == initial and last is None:
            continue
        if not any(not (last is not None and w.response <= last and w.invoke < last)
                   and not _precedes(r, w) for w in writers.get(seen, ()) if w is not r):
            bad = r
    return bad


def _cut(entries, answered, t):
    """The history as it stood at time t, when the answers ``answered`` (indices into
    entries) had come: operations invoked by then, the others as if never answered (reads
    dropped, writes and cas indeterminate)."""
    out = []
    for j, e in enumerate(entries):
        if e.invoke > t:
            continue
        if j in answered:
            out.append(e)
        else:
            u = e.unanswered()
            if u is not None:
                out.append(u)
    return out


def _show(x: Operation) -> str:
    """An operation as people write it: ``c1 write('x', 1) [0..2]``."""
    form, kind, key, args = _parse(x.op, "history")
    args = ([key] if form == "kv" else []) + list(args)
    end = "..." if x.response is None else f"{x.response:g}"
    return f"{x.client} {kind}({', '.join(map(repr, args))}) [{x.invoke:g}..{end}]"


def linearizable(history, initial=None, *, memoise=True) -> Result:
    """Could one register, updated atomically, have produced this history?

    Yes if the operations can be put in one order that respects real time (an operation
    that returned before another was invoked comes first) in which every read returns the
    latest value written before it (or ``initial``), every successful cas finds its
    expected value and leaves its new one, and every failed cas finds something else.
    Indeterminate writes and cas (never answered, or answered with neither "ok" nor
    "fail") may take effect at any one time after their invocation, or never; reads that
    were never answered, or failed, constrain nothing.

    The search (Wing & Gong; Lowe's memo; ``replib.linearize``) tries orders depth first,
    linearizing an operation only once everything before it in real time is placed, and
    remembers the states (operations done, register value) it has left behind, so its work
    grows with the history's length times 2 ** (operations in flight at once), not with the
    number of orders.  A cheap pre-check rejects a read of a value overwritten before it
    began without any search.  ``memoise=False`` switches the memo off, to measure what it
    buys.  Returns a ``Result``; ``draw(result)`` shows it on a timeline."""
    boolean("memoise", memoise)
    ops, shapes = _read(history)
    result = _check_register(_entries(ops, shapes, "register"), initial, memoise)
    result.history = ops
    return result


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
    boolean("memoise", memoise)
    ops, shapes = _read(history)
    per_key: dict = {}
    for e in _entries(ops, shapes, "kv"):
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
        k, r = min(failed, key=lambda kr: kr[1].culprit.response if kr[1].culprit else INF)
        more = f" ({len(failed)} keys fail)" if len(failed) > 1 else ""
        r.key, r.states, r.history = k, states, ops
        r.explanation = f"key {k!r}: {r.explanation}{more}"
        return r
    return Result(True, f"linearizable: {sum(map(len, per_key.values()))} operations on "
                        f"{len(per_key)} keys ordered", order=_merge(results), states=states,
                  history=ops)


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


def draw(result_or_history, **options):
    """The history on a timeline, one row per client, with the blamed operation marked:
    ``show(history.draw(linearizable(h)))``.  A history is checked first (one register, or
    key by key when its operations name keys).  Options: see
    ``replib.viz.histories.draw_history``."""
    from .viz.histories import draw_history
    return draw_history(result_or_history, **options)


# ---- histories for examples, tests and benchmarks -------------------------------------------

def random_history(ops=200, clients=5, seed=0, *, read_fraction=0.5, cas_fraction=0.0,
                   values=None, keys=None, unanswered=0.0, duration=1.0,
                   think=0.2) -> list[Operation]:
    """A random history that is linearizable by construction.

    Each client runs its operations one after another; each operation takes effect at a
    random point inside its interval [invoke, response], and the register (or each key of
    ``keys`` keys) is simulated in that order to give every read its result and every cas
    its outcome ("ok" if the register held the expected value then, else "fail").  A
    ``read_fraction`` of the operations are reads, a ``cas_fraction`` cas, the rest writes.
    Writes and cas write 1, 2, 3, ... (a cas expects one of the three latest values
    written), or random values below ``values``.  With probability ``unanswered`` an answer
    is lost: the operation took effect or not, at random, and its client is replaced by a
    new one (as Jepsen gives a process that timed out a new id), so ``clients`` stay busy.
    Invoke to effect and effect to response each take Uniform(0, duration]; a client
    thinks Uniform(0, think) between operations.  The operations come in invocation
    order."""
    whole_number("ops", ops, 0, cap=MAX_HISTORY)
    whole_number("clients", clients, 1, cap=MAX_HISTORY)
    integer("seed", seed)
    probability("read_fraction", read_fraction)
    probability("cas_fraction", cas_fraction)
    if read_fraction + cas_fraction > 1:
        raise ValueError(f"read_fraction + cas_fraction must be at most 1 (the rest are "
                         f"writes), got {read_fraction} + {cas_fraction}")
    probability("unanswered", unanswered)
    if values is not None:
        whole_number("values", values, 1)
    if keys is not None:
        whole_number("keys", keys, 1)
    finite_time("duration", duration)
    finite_time("think", think, zero_ok=True)
    rng = random.Random(seed)
    ready = [(rng.uniform(0, think), f"c{c + 1}") for c in range(clients)]   # (free at, client)
    heapq.heapify(ready)                       # operations are made in invocation order
    named = clients
    made = []                                  # [effect time or None, index, record]
    written = 0
    while ready and len(made) < ops:
        t, c = heapq.heappop(ready)
        key = () if keys is None else (f"k{rng.randrange(keys)}",)
        kind = rng.random()
        if kind < read_fraction:
            op = ("read",) + key
        else:
            written += 1
            new = written if values is None else rng.randrange(values)
            if kind < read_fraction + cas_fraction:
                expected = (rng.randrange(max(1, written - 3), written) if written > 1 else None
                            ) if values is None else rng.randrange(values)
                op = ("cas",) + key + (expected, new)
            else:
                op = ("write",) + key + (new,)
        effect = t + duration * (1 - rng.random())
        response = effect + duration * (1 - rng.random())
        lost = rng.random() < unanswered
        if lost and op[0] != "read" and rng.random() < 0.5:
            effect = None                      # the lost update never took effect
        made.append([effect, len(made), [c, op, t, None if lost else response, None]])
        if lost:
            named += 1
            c = f"c{named}"
        heapq.heappush(ready, ((t if lost else response) + rng.uniform(0, think), c))
    state: dict = {}
    for _, _, rec in sorted((m for m in made if m[0] is not None), key=lambda m: m[:2]):
        op = rec[1]
        key = None if keys is None else op[1]
        if op[0] == "write":
            state[key] = op[-1]
            rec[4] = OK
        elif op[0] == "cas":
            rec[4] = OK if state.get(key) == op[-2] else FAIL
            if rec[4] == OK:
                state[key] = op[-1]
        else:
            rec[4] = state.get(key)
    for m in made:
        if m[2][3] is None:
            m[2][4] = None                     # no answer, no result
        elif m[0] is None:
            m[2][4] = FAIL
    return [Operation(*rec) for _, _, rec in sorted(made, key=lambda m: m[1])]


def with_stale_read(history, seed=0):
    """The history with one read made stale, and that read: it now returns a value that
    was overwritten before it began (two writes or successful cas precede it, one after the
    other), as a lagging backup would answer.  Needs writes of distinct values; ValueError
    if no read qualifies."""
    ops = _operations(history)
    shape = [_parse(x.op, "history") for x in ops]
    writes = [(x, s[2]) for x, s in zip(ops, shape) if s[1] in ("write", "cas")
              and x.response is not None and x.result == OK]
    rng = random.Random(seed)
    reads = [n for n, (x, s) in enumerate(zip(ops, shape))
             if s[1] == "read" and x.response is not None and x.result != FAIL]
    rng.shuffle(reads)
    for n in reads:
        r, key = ops[n], shape[n][2]
        before = [w for w, k in writes if w.response < r.invoke and k == key]
        overwritten = [w for w in before
                       if any(w.response < w2.invoke and w2.op[-1] != w.op[-1] for w2 in before)
                       and w.op[-1] != r.result]
        if overwritten:
            w = rng.choice(overwritten)
            stale = Operation(r.client, r.op, r.invoke, r.response, w.op[-1])
            return ops[:n] + [stale] + ops[n + 1:], stale
    raise ValueError("no read in this history comes after two writes that follow one another")
