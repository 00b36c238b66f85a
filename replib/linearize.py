"""The search for a linearization of one register: Wing & Gong's depth-first search, with
Lowe's memo of the states already left behind.

``replib.history`` turns a client history into ``Step``s and asks two questions here:
is there an order (``search``), and what could one operation have seen (``possible_values``).

**What the search sees.**  A register holds one value.  Each operation is a ``Step``:

* ``need``: the value it must see when it takes effect (a read's result, a cas's expected
  value), or ANY;
* ``avoid``: the value it must not see (a failed cas's expected value), or NOTHING;
* ``new``: the value it leaves behind (a write's value, a cas's new value), or SAME;
* ``must``: it was answered, so it takes effect exactly once, between its invocation and its
  response.  Otherwise (an indeterminate write or cas) it may take effect at any time after
  its invocation, or never: its response is +inf;
* ``probe``: the operation under question in ``possible_values``: it sees any value; a cas
  probe sets ``new`` only when the value equals ``when`` (as a cas does), a read probe
  changes nothing.

**The state** is (the set of operations done, the register's value), the set as the bits of
an integer, operation i being bit i in invocation order.  Two paths that reach the same state
have the same future, so each state is expanded once (Lowe's memo).

**Just in time.**  Operation i may go next when everything that precedes it in real time is
done; scanning the operations not yet done in invocation order, once one is invoked after the
earliest response seen so far, it and all later ones must wait (Wing & Gong).  Within that
window the search does not branch where it need not:

* an operation that cannot change the value (a read, a failed cas) and is satisfied now is
  taken at once: taking it later never helps;
* of several mutations that would leave the same value under the same condition, only one is
  tried: the answered one with the earliest response (any order that uses another one first
  can swap the two), else the first indeterminate one (they are interchangeable, and one that
  is answered must be placed anyway);
* an indeterminate operation that would not change the value is never taken (taking it
  would only use it up).

And it abandons a state as soon as it is hopeless: when the value moves away from u while an
operation still needs to see u and nothing left can write u again.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

INF = float("inf")


class _Marker:
    """A value no history can hold: ANY, NOTHING, SAME."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


ANY = _Marker("ANY")            # need: sees whatever the register holds
NOTHING = _Marker("NOTHING")    # avoid: no value is forbidden
SAME = _Marker("SAME")          # new: leaves the value as it was


@dataclass(frozen=True)
class Step:
    """One operation as the search sees it (see the module docstring)."""

    invoke: float
    response: float
    need: object = ANY
    avoid: object = NOTHING
    new: object = SAME
    must: bool = True
    probe: bool = False
    when: object = ANY


class Register:
    """One register's operations, ready for the search: sorted by invocation, operation i is
    bit i, and ``pred[i]`` is the set of operations that precede operation i in real time
    (returned no later than it was invoked, and invoked earlier)."""

    def __init__(self, steps, initial):
        order = sorted(range(len(steps)), key=lambda k: (steps[k].invoke, steps[k].response))
        self.index = order                      # position -> index into ``steps``
        s = [steps[k] for k in order]
        self.steps = s
        self.initial = initial
        n = len(s)
        self.inv = [x.invoke for x in s]
        self.resp = [x.response for x in s]
        self.need = [x.need for x in s]
        self.avoid = [x.avoid for x in s]
        self.new = [x.new for x in s]
        self.when = [x.when for x in s]
        self.must = [x.must for x in s]
        self.probe = [x.probe for x in s]
        # taken at once when satisfied: answered, and never changes the value
        self.still = [x.must and not x.probe and (x.new is SAME or x.new == x.need) for x in s]
        self.all = (1 << n) - 1
        self.goal = sum(1 << i for i, x in enumerate(s) if x.must)
        self.probes = sum(1 << i for i, x in enumerate(s) if x.probe)
        self.needs: dict = {}      # value -> answered operations that must see it
        self.waits: dict = {}      # value -> those of them that never change the value
        self.makes: dict = {}      # value -> operations that may set it
        for i, x in enumerate(s):
            if x.must and not x.probe and x.need is not ANY:
                self.needs[x.need] = self.needs.get(x.need, 0) | 1 << i
                if self.still[i]:
                    self.waits[x.need] = self.waits.get(x.need, 0) | 1 << i
            if x.new is not SAME and not self.still[i]:
                self.makes[x.new] = self.makes.get(x.new, 0) | 1 << i
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

    def after(self, i, value):
        """The register's value once operation i has taken effect on ``value``."""
        new = self.new[i]
        if new is SAME:
            return value
        when = self.when[i]
        return new if when is ANY or when == value else value

    def step(self, done, value):
        """From state (done, value): take every enabled operation that is satisfied and
        cannot change the value, then list the choices the search branches on.  Returns
        (done, taken, choices)."""
        inv, resp, pred, need, avoid = self.inv, self.resp, self.pred, self.need, self.avoid
        still, must, new = self.still, self.must, self.new
        taken, probes = [], []
        answered: dict = {}        # (need, new) -> the enabled answered op, earliest response
        optional: dict = {}        # (need, new) -> the first enabled indeterminate op
        limit = INF
        rest = self.all & ~done
        while rest:
            low = rest & -rest
            rest ^= low
            i = low.bit_length() - 1
            if inv[i] > limit:
                break
            if not pred[i] & ~done:
                n = need[i]
                if (n is ANY or n == value) and avoid[i] != value:
                    if still[i]:
                        done |= low
                        taken.append(i)
                        continue
                    if self.probe[i]:
                        probes.append(i)
                    elif must[i]:
                        key = (n, new[i])
                        j = answered.get(key)
                        if j is None or resp[i] < resp[j]:
                            answered[key] = i
                    elif new[i] != value:
                        optional.setdefault((n, new[i]), i)
            if resp[i] < limit:
                limit = resp[i]
        choices = list(answered.values()) + probes
        choices += [i for key, i in optional.items() if key not in answered]
        return done, taken, choices

    def hopeless(self, done, value, left):
        """Can no order be completed from (done, value), reached by leaving value ``left``?

        Left stranded: an operation still needs to see ``left`` and nothing left can set it
        again.  Waiting in vain: an operation that needs the current value was not taken, so
        something must happen first, and whatever it is moves the value away for good."""
        undone = ~done
        if left != value and self.needs.get(left, 0) & undone \
                and not self.makes.get(left, 0) & undone:
            return True
        return bool(self.waits.get(value, 0) & undone and not self.makes.get(value, 0) & undone
                    and not self.probes & undone)

    def impossible(self):
        """Does some answered operation need a value that is neither the initial one nor
        set by any operation?"""
        return any(v != self.initial and v not in self.makes for v in self.needs)

    def reach(self, done):
        """The earliest response among the answered operations not yet done (scanning in
        invocation order, none invoked after the best so far can answer earlier)."""
        inv, resp = self.inv, self.resp
        undone = self.goal & ~done
        best = INF
        while undone:
            low = undone & -undone
            undone ^= low
            i = low.bit_length() - 1
            if inv[i] > best:
                break
            if resp[i] < best:
                best = resp[i]
        return best


class Covered:
    """States up to dominance.  Of two states with the same answered operations done and
    the same value, the one that has used up fewer indeterminate operations can do
    everything the other can (those are optional, and precede nothing): it covers it."""

    def __init__(self, reg):
        self.optional = reg.all & ~reg.goal
        self.used: dict = {}       # (answered done, value) -> minimal sets of optional ops used

    def covers(self, done, value) -> bool:
        used = done & self.optional
        return any(not m & ~used for m in self.used.get((done & ~self.optional, value), ()))

    def add(self, done, value) -> None:
        used = done & self.optional
        key = (done & ~self.optional, value)
        self.used[key] = [m for m in self.used.get(key, ()) if used & ~m] + [used]


def search(reg: Register, memo=True):
    """Depth-first search for an order.  Returns (order or None, states visited, reach):
    ``order`` lists positions in ``reg.steps``; every answered operation that returned
    before ``reach`` is done in some state visited, so the history cut just before
    ``reach`` has an order."""
    goal = reg.goal
    done, taken, choices = reg.step(0, reg.initial)
    if done & goal == goal:
        return taken, 1, INF
    if reg.impossible() or reg.hopeless(done, reg.initial, reg.initial):
        return None, 1, reg.reach(done)
    seen = set()
    failed = Covered(reg)         # states left behind with no way to complete
    stack = [[done, reg.initial, choices, 0]]
    parts = [taken]
    states = 1
    reach = reg.reach(done)
    while stack:
        top = stack[-1]
        if top[3] == len(top[2]):
            stack.pop()
            parts.pop()
            if memo:
                failed.add(top[0], top[1])
            continue
        i = top[2][top[3]]
        top[3] += 1
        value = reg.after(i, top[1])
        done, taken, choices = reg.step(top[0] | 1 << i, value)
        states += 1
        if done & goal == goal:
            return [j for part in parts for j in part] + [i] + taken, states, INF
        if memo:
            key = (done, value)
            if key in seen or failed.covers(done, value):
                continue
            seen.add(key)
        if reg.hopeless(done, value, top[1]):
            continue
        r = reg.reach(done)
        if r > reach:
            reach = r
        stack.append([done, value, choices, 0])
        parts.append([i] + taken)
    return None, states, reach


def possible_values(reg: Register, memo=True, budget=50_000):
    """The values the probe could have seen: those it sees in some complete order.

    Every state reachable before the probe is placed is visited (each once, with the memo);
    wherever the probe can go next, with the register holding v, v is a possible value if
    an order can be completed after it, which a search that stops at its first success
    tells.  Those searches share what they learn: the states from which an order can or
    cannot be completed.  Returns (the values, in the order found, and the states
    visited), or (None, states) once more than ``budget`` states were visited."""
    goal, initial = reg.goal, reg.initial
    done, _, choices = reg.step(0, initial)
    if reg.impossible():
        return [], 1
    finishes = _Finisher(reg, memo)
    values: list = []
    seen = Covered(reg)
    seen.add(done, initial)
    stack = [(done, initial, choices)]
    states = 1
    while stack:
        done, value, choices = stack.pop()
        for i in choices:
            after = reg.after(i, value)
            nxt, _, more = reg.step(done | 1 << i, after)
            states += 1
            if reg.probe[i]:
                if not any(v == value for v in values):
                    ok = finishes(nxt, after, more, budget - states)
                    states += finishes.states
                    if ok is None or states > budget:
                        return None, states
                    if ok:
                        values.append(value)
                continue
            if states > budget:
                return None, states
            if memo:
                if seen.covers(nxt, after):
                    continue
                seen.add(nxt, after)
            if nxt & goal != goal and not reg.hopeless(nxt, after, value):
                stack.append((nxt, after, more))
    return values, states


class _Finisher:
    """Can an order be completed from a state?  A depth-first search that stops at its
    first success, remembering across calls the states known to lead to a completion and
    those known not to (and every state those cover)."""

    def __init__(self, reg, memo):
        self.reg, self.memo = reg, memo
        self.good: set = set()
        self.bad = Covered(reg)
        self.states = 0

    def __call__(self, done, value, choices, budget):
        """True, False, or None if it took more than ``budget`` states."""
        reg, goal, good, bad, memo = self.reg, self.reg.goal, self.good, self.bad, self.memo
        self.states = 0
        if done & goal == goal or (done, value) in good:
            return True
        if bad.covers(done, value) or reg.hopeless(done, value, value):
            return False
        entered = {(done, value)}
        stack = [[done, value, choices, 0]]
        while stack:
            top = stack[-1]
            if top[3] == len(top[2]):
                stack.pop()
                if memo:
                    bad.add(top[0], top[1])
                continue
            i = top[2][top[3]]
            top[3] += 1
            after = reg.after(i, top[1])
            nxt, _, more = reg.step(top[0] | 1 << i, after)
            self.states += 1
            if self.states > budget:
                return None
            if nxt & goal == goal or (nxt, after) in good:
                if memo:
                    good.update((frame[0], frame[1]) for frame in stack)
                return True
            if memo:
                if (nxt, after) in entered or bad.covers(nxt, after):
                    continue
                entered.add((nxt, after))
            if reg.hopeless(nxt, after, top[1]):
                if memo:
                    bad.add(nxt, after)
                continue
            stack.append([nxt, after, more, 0])
        return False
