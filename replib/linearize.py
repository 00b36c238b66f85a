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
have the same future, so each state is expanded once (Lowe's memo).  More: indeterminate
operations are optional and precede nothing, so of two states with the same answered
operations done and the same value, the one that has used up fewer of them can do all the
other can; a state covered by one already visited is skipped (``Covered``).  This is what
keeps histories with many ``:info`` operations (Jepsen's) fast.

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

from typing import NamedTuple

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


class Step(NamedTuple):
    """One operation as the search sees it (see the module docstring)."""

    invoke: float
    response: float
    need: object = ANY
    avoid: object = NOTHING
    new: object = SAME
    must: bool = True
    probe: bool = False
    when: object = ANY


# What the search does with an enabled operation whose condition holds:
STILL = 0       # answered, never changes the value: take it at once
CHANGE = 1      # answered, may change the value: a choice
MAYBE = 2       # indeterminate: a choice, if it would change the value
PROBE = 3       # the operation in question: always a choice


class Register:
    """One register's operations, ready for the search: sorted by invocation, operation i is
    bit i of a set of operations."""

    def __init__(self, steps, initial):
        order = sorted(range(len(steps)), key=lambda k: steps[k][:2])   # invoke, response
        self.index = order                      # position -> index into ``steps``
        s = [steps[k] for k in order]
        self.steps = s
        self.initial = initial
        n = len(s)
        columns = [list(c) for c in zip(*s)] if s else [[] for _ in Step._fields]
        self.inv, self.resp, self.need, self.avoid, self.new, must, self.probe, self.when = \
            columns
        self.kind, self.test = [], []
        self.goal = self.probes = 0
        self.needs: dict = {}      # value -> answered operations that must see it
        self.waits: dict = {}      # value -> those of them that never change the value
        self.makes: dict = {}      # value -> operations that may set it
        effects: dict = {}         # (need, new) -> how many operations may have that effect
        for i, (need, avoid, new, answered, probe) in enumerate(
                zip(self.need, self.avoid, self.new, must, self.probe)):
            bit = 1 << i
            k = (PROBE if probe else MAYBE if not answered
                 else STILL if new is SAME or new == need else CHANGE)
            self.kind.append(k)
            # its condition: None (none), True (the value must be need), False (must not
            # be avoid); no operation has both
            self.test.append(None if need is ANY and avoid is NOTHING else need is not ANY)
            if answered:
                self.goal |= bit
            if probe:
                self.probes |= bit
            elif answered and need is not ANY:
                self.needs[need] = self.needs.get(need, 0) | bit
                if k == STILL:
                    self.waits[need] = self.waits.get(need, 0) | bit
            if k == CHANGE or k == MAYBE:
                effects[(need, new)] = effects.get((need, new), 0) + 1
            if new is not SAME and k != STILL:
                self.makes[new] = self.makes.get(new, 0) | bit
        # operations that share their effect with another: only those need sorting out
        self.twin = [(k == CHANGE or k == MAYBE) and effects[(need, new)] > 1
                     for k, need, new in zip(self.kind, self.need, self.new)]
        self.all = (1 << n) - 1

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
        (done, taken, choices).

        Enabled: not done, and every operation that precedes it is done.  Scanning the
        operations not done in invocation order while keeping the earliest response seen
        (``limit``), an operation invoked after it, and every later one, must wait; one
        invoked exactly then waits if the response came from an earlier invocation."""
        inv, resp, need, avoid = self.inv, self.resp, self.need, self.avoid
        kind, test, twin, new = self.kind, self.test, self.twin, self.new
        taken, choices, maybes = [], [], []
        shared = None              # (need, new) -> the one operation tried for that effect
        limit = earlier = INF      # earliest response: of all scanned, of those invoked before
        at = None
        rest = self.all & ~done
        while rest:
            low = rest & -rest
            rest ^= low
            i = low.bit_length() - 1
            t = inv[i]
            if t > limit:
                break
            if t != at:
                at, earlier = t, limit
            c = test[i]
            if earlier > t and (c is None or (need[i] == value if c else avoid[i] != value)):
                k = kind[i]
                if k == STILL:
                    done |= low
                    taken.append(i)
                    continue
                if k == MAYBE and new[i] == value:
                    pass                   # it would change nothing: never worth taking
                elif not twin[i]:
                    (maybes if k == MAYBE else choices).append(i)
                else:
                    if shared is None:
                        shared = {}
                    key = (need[i], new[i])
                    j = shared.get(key)
                    # answered before indeterminate; of two answered, the earlier response
                    if j is None or k == CHANGE and (kind[j] == MAYBE or resp[i] < resp[j]):
                        shared[key] = i
            if resp[i] < limit:
                limit = resp[i]
        if shared:
            choices += [i for i in shared.values() if kind[i] != MAYBE]
            maybes += [i for i in shared.values() if kind[i] == MAYBE]
        return done, taken, choices + maybes

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
    everything the other can (those are optional, and precede nothing): it covers it.
    Without indeterminate operations this is a plain set of states."""

    def __init__(self, reg):
        self.optional = reg.all & ~reg.goal
        self.exact: set = set()
        self.used: dict = {}       # (answered done, value) -> minimal sets of optional ops used

    def covers(self, done, value) -> bool:
        if not self.optional:
            return (done, value) in self.exact
        used = done & self.optional
        for m in self.used.get((done ^ used, value), ()):
            if not m & ~used:
                return True
        return False

    def add(self, done, value) -> None:
        if not self.optional:
            self.exact.add((done, value))
            return
        used = done & self.optional
        key = (done ^ used, value)
        known = self.used.get(key)
        if known is None:
            self.used[key] = [used]
        else:
            known[:] = [m for m in known if used & ~m]
            known.append(used)

    def visit(self, done, value) -> bool:
        """Remember the state; False if it was covered already."""
        optional = self.optional
        if not optional:
            if (done, value) in self.exact:
                return False
            self.exact.add((done, value))
            return True
        used = done & optional
        key = (done ^ used, value)
        known = self.used.get(key)
        if known is None:
            self.used[key] = [used]
            return True
        for m in known:
            if not m & ~used:
                return False
        known[:] = [m for m in known if used & ~m]
        known.append(used)
        return True


def search(reg: Register, memo=True):
    """Depth-first search for an order.  Returns (order or None, states visited, reach):
    ``order`` lists positions in ``reg.steps``; every answered operation that returned
    before ``reach`` is done in some state visited, so the history cut just before
    ``reach`` has an order.

    A state covered by one visited before is skipped, even by one still being expanded:
    any order that completes from it completes from that one too, and the search will
    find it there."""
    goal, new, when = reg.goal, reg.new, reg.when
    done, taken, choices = reg.step(0, reg.initial)
    if done & goal == goal:
        return taken, 1, INF
    if reg.impossible() or reg.hopeless(done, reg.initial, reg.initial):
        return None, 1, reg.reach(done)
    visited = Covered(reg)
    visited.add(done, reg.initial)
    # frame: [done, value, choices, next choice, has it led anywhere?]
    stack = [[done, reg.initial, choices, 0, False]]
    parts = [taken]
    states = 1
    reach = -INF
    while stack:
        top = stack[-1]
        if top[3] == len(top[2]):
            stack.pop()
            parts.pop()
            if not top[4]:             # the deepest states reach furthest
                reach = max(reach, reg.reach(top[0]))
            continue
        i = top[2][top[3]]
        top[3] += 1
        before = top[1]
        value = new[i]
        if value is SAME or when[i] is not ANY and when[i] != before:
            value = before
        done, taken, choices = reg.step(top[0] | 1 << i, value)
        states += 1
        if done & goal == goal:
            return [j for part in parts for j in part] + [i] + taken, states, INF
        if memo and not visited.visit(done, value):
            continue
        if reg.hopeless(done, value, before):
            reach = max(reach, reg.reach(done))     # it cannot complete, but it got there
            continue
        top[4] = True
        stack.append([done, value, choices, 0, False])
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
            if memo and not seen.visit(nxt, after):
                continue
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
