"""Chapter 07, proposal numbers: the experiments behind the notebook.

How fast numbers grow when proposers duel (``duel_numbers``, ``growth_chart``); a duel
run in the simulator, with numbers used twice found in the trace (``simulate_duel``,
``duel_chart``); the numbers two proposers share when they disagree on n
(``usable_numbers``, ``shared_numbers``, ``same_next``); the acceptor that also promises an
*equal* number (``EagerAcceptor``), which together with colliding numbers breaks agreement;
and ``play_out``, which finishes a checker path by delivering what is left in flight.

Every function is deterministic: runs in the simulator take an explicit seed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..actions import Deliver
from ..faults import crash
from ..network import Network, Uniform
from ..protocols.ballots import Ballots, ModN, RoundId, scheme
from ..protocols.paxos import Acceptor, Promise, Reject, paxos_system
from ..sim import Simulation
from ..trace import Trace
from ..validate import finite_time, names, whole_number
from ..viz import palette as P
from ..viz.charts import _figure, _finish, lines, series_style

#: proposal numbers (or attempts) listed at most: more would not finish in seconds
MAX_NUMBERS = 100_000

# ---- the acceptor that promises an equal number ------------------------------------------


class EagerAcceptor(Acceptor):
    """A misreading of rule 1b: promises when ``n >= promised`` (not strictly above).

    With unique numbers an equal Prepare can only be a copy of one already promised, so this
    is harmless; with colliding numbers two proposers both get a majority of promises for
    the same number, and both run phase 2 under it."""

    def on_prepare(self, msg, sender):
        if self.promised is None or msg.ballot >= self.promised:
            self.promised = msg.ballot
            self.send(sender, Promise(msg.ballot, self.accepted))
        else:
            self.send(sender, Reject(msg.ballot, self.promised))


#: the small configuration the chapter checks: 3 acceptors, 2 proposers, 1 number each
CHECKED = dict(acceptors=3, proposers=2, learners=0, max_ballots=1)


def collision_system(ballots="naive", acceptor=Acceptor, acceptors: int = 3) -> list:
    """Two proposers with one number each (``CHECKED``), for the checker."""
    return paxos_system(**{**CHECKED, "acceptors": acceptors}, ballots=ballots,
                        acceptor=acceptor)


def play_out(path) -> Trace:
    """Replay a checker path in the simulator, then deliver every message still in flight
    (oldest first) until none is left: the whole run that path starts.  Timers are left
    alone, so with timers off nothing else can happen."""
    model = getattr(path, "model", None)
    if model is None or not hasattr(model, "simulation"):
        raise ValueError("play_out needs a path found by the checker on a node system "
                         "(e.g. result.violation.path or reachability.path)")
    sim = model.simulation()
    for action in path.actions:
        sim.perform(action)
    while True:
        todo = [a for a in sim.enabled() if isinstance(a, Deliver)]
        if not todo:
            return sim.trace
        sim.perform(todo[0])


# ---- how fast numbers grow ---------------------------------------------------------------


def _check_ids(ids):
    ids = tuple(ids) if isinstance(ids, (list, tuple)) else ids
    if not isinstance(ids, tuple) or len(ids) < 2 or len(set(ids)) != len(ids):
        raise ValueError(f"ids must list at least two different proposer ids, got {ids!r}")
    return ids


def duel_numbers(ballots, attempts: int = 10, ids=(0, 1)) -> list:
    """The numbers of a worst-case duel: the proposers in ``ids`` take turns, and each, when
    its turn comes, has just been beaten by the other's number, so it picks the next
    number above the largest so far.  ``ballots``: a Ballots object or "naive", "round-id",
    "mod-n" (then n = the number of ids)."""
    ids = _check_ids(ids)
    whole_number("attempts", attempts, 1, cap=MAX_NUMBERS)
    b = scheme(ballots, len(ids))
    numbers, seen = [], None
    for k in range(attempts):
        seen = b.next(seen, ids[k % len(ids)])
        numbers.append(seen)
    return numbers


def plotted(number):
    """A number as a plot shows it: the round of a (round, id) pair, else the number."""
    return number[0] if isinstance(number, tuple) else number


def as_number(number, proposers: int):
    """A number on one scale: a (round, id) pair as the integer round * proposers + id (what
    the mod-n scheme with n = ``proposers`` makes of that pair), an integer as it is."""
    return number[0] * proposers + number[1] if isinstance(number, tuple) else number


def growth_chart(schemes: dict, attempts: int = 12, ids=(0, 1)) -> Figure:
    """The numbers of ``duel_numbers`` per attempt, one line per scheme ({label: Ballots}).
    Like is plotted with like: a (round, id) pair is drawn as the integer it stands for,
    round * k + id with k = len(ids) proposers (``as_number``), not as its round alone."""
    if not isinstance(schemes, dict) or not schemes:
        raise ValueError(f"schemes must map a label to a ballot scheme, got {schemes!r}")
    k = len(ids)
    series = {label: [as_number(x, k) for x in duel_numbers(b, attempts, ids)]
              for label, b in schemes.items()}
    return lines(range(1, attempts + 1), series,
                 title=f"Numbers in a duel of proposers {', '.join(map(str, ids))}",
                 xlabel="attempt", ylabel=f"number (a pair as round * {k} + id)")


# ---- a duel in the simulator ---------------------------------------------------------------


@dataclass
class Duel:
    """A run of dueling proposers: every attempt, the numbers used by two proposers, and
    when the learner learned a value (None: not within the run)."""

    ballots: Ballots
    seed: int
    trace: Trace
    attempts: list          # (time, proposer, number), in the order they started
    collisions: dict        # number -> sorted proposers that used it (only if two or more)
    learned_at: float | None
    until: float
    down: tuple

    def per_proposer(self) -> dict:
        """proposer -> list of (time, number) of its attempts."""
        out = {}
        for t, p, n in self.attempts:
            out.setdefault(p, []).append((t, n))
        return out

    def summary(self) -> str:
        """One line: attempts, numbers used twice, when a value was learned."""
        learned = (f"a value was learned at t={self.learned_at:.2f}" if self.learned_at
                   is not None else f"no value was learned by t={self.until:g}")
        twice = ", ".join(f"{n!r} by {' and '.join(ps)}" for n, ps in self.collisions.items())
        return (f"{len(self.attempts)} attempts; numbers used by two proposers: "
                f"{twice or 'none'}; {learned}.")


def simulate_duel(ballots="naive", proposers: int = 2, seed: int = 0, until: float = 40.0,
                  down=(), timeout: float = 6.0) -> Duel:
    """Proposers that retry at once (no backoff) against 3 acceptors and a learner; links
    take 0.5 to 1.5 time units, drawn from ``seed``.  ``down``: acceptors crashed at t=0
    (e.g. ("a3",))."""
    whole_number("proposers", proposers, 2)
    whole_number("seed", seed, 0)
    down = names("down", (down,) if isinstance(down, str) else down, known=("a1", "a2", "a3"),
                 what="acceptor")
    finite_time("until", until)
    nodes = paxos_system(acceptors=3, proposers=proposers, learners=1, max_ballots=None,
                         ballots=ballots, backoff="none", timeout=timeout)
    b = scheme(ballots, proposers)
    sim = Simulation(nodes, network=Network(Uniform(0.5, 1.5)), seed=seed,
                     faults=[crash(a, at=0) for a in down])
    trace = sim.run(until=until)
    attempts, seen = [], set()
    for e in trace.select(kind="send", msg_type="Prepare"):
        if (e.node, e.msg.ballot) not in seen:
            seen.add((e.node, e.msg.ballot))
            attempts.append((e.time, e.node, e.msg.ballot))
    users = {}
    for _, p, n in attempts:
        users.setdefault(n, set()).add(p)
    collisions = {n: sorted(ps) for n, ps in sorted(users.items()) if len(ps) > 1}
    learned_at = next((e.time for e in trace.events
                       if e.node == "l1" and e.state and e.state.get("learned") is not None),
                      None)
    return Duel(b, seed, trace, attempts, collisions, learned_at, until, down)


def duel_chart(duel: Duel, title=None) -> Figure:
    """Each proposer's numbers over time (a step line per proposer, a marker per attempt);
    a number used by two proposers is circled."""
    if not isinstance(duel, Duel):
        raise ValueError(f"duel must be the Duel that simulate_duel() returns, got {duel!r}")
    fig, ax = _figure(8.0, 4.6)
    parts = []
    for i, (p, points) in enumerate(sorted(duel.per_proposer().items())):
        style = series_style(i)
        xs = [t for t, _ in points] + [duel.until]
        ys = [plotted(n) for _, n in points]
        ax.step(xs, ys + ys[-1:], where="post", linewidth=2.0, color=style["color"],
                linestyle=style["linestyle"], label=p)
        ax.plot(xs[:-1], ys, linestyle="none", marker=style["marker"], markersize=8,
                color=style["color"])
        parts.append(f"{p}: " + ", ".join(f"{n!r} at {t:.1f}" for t, n in points))
    hits = [(t, plotted(n)) for t, p, n in duel.attempts if n in duel.collisions]
    if hits:
        ax.plot([t for t, _ in hits], [y for _, y in hits], linestyle="none", marker="o",
                markersize=17, markerfacecolor="none", markeredgecolor=P.BLACK,
                markeredgewidth=1.8, label="number used twice")
    if duel.learned_at is not None:
        ax.axvline(duel.learned_at, color=P.MUTED, linestyle=":", linewidth=1.6,
                   label="value learned")
    ax.set_xlim(0, duel.until)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    is_pair = any(isinstance(n, tuple) for _, _, n in duel.attempts)
    title = title or f"{duel.ballots.name} numbers, seed {duel.seed}"
    alt = (f"Proposal numbers over time, {duel.ballots.name} scheme, seed {duel.seed}. "
           + "; ".join(parts) + ". " + duel.summary())
    return _finish(fig, ax, title, "time", "round" if is_pair else "number", alt)


# ---- when proposers disagree on n --------------------------------------------------------


def usable_numbers(n: int, i: int, upto: int) -> list:
    """The numbers proposer ``i`` may use under ModN(n), from 1 to ``upto``."""
    whole_number("n", n, 1)
    ModN(n).next(None, i)                              # checks i
    whole_number("upto", upto, 0, cap=MAX_NUMBERS)
    return [s for s in range(1, upto + 1) if s % n == i]


def _views(views) -> dict:
    if not isinstance(views, dict) or len(views) < 2:
        raise ValueError(f"views must map at least two proposer ids to the n each one uses, "
                         f"e.g. {{0: 3, 3: 4}}; got {views!r}")
    for i, n in views.items():
        ModN(n).next(None, i)                          # a clear error for a bad n or id
    return dict(sorted(views.items()))


def shared_numbers(views: dict, upto: int = 30) -> dict:
    """Numbers from 1 to ``upto`` that two or more proposers may use, when proposer i uses
    ModN(views[i]): number -> sorted ids.  Empty when everyone agrees on n."""
    views = _views(views)
    owners = {}
    for i, n in views.items():
        for s in usable_numbers(n, i, upto):
            owners.setdefault(s, []).append(i)
    return {s: ids for s, ids in sorted(owners.items()) if len(ids) > 1}


def same_next(views: dict, seen_values=(None,) + tuple(range(30))) -> list:
    """Where proposers that disagree on n pick the *same* next number: (seen, number, ids)
    for every seen value after which two or more of them pick that number."""
    views = _views(views)
    seen_values = list(itertools.islice(seen_values, MAX_NUMBERS + 1))
    if len(seen_values) > MAX_NUMBERS:
        raise ValueError(f"seen_values must list at most {MAX_NUMBERS:,} values here (more "
                         f"would not finish in seconds)")
    out = []
    for seen in seen_values:
        picks = {}
        for i, n in views.items():
            picks.setdefault(ModN(n).next(seen, i), []).append(i)
        out.extend((seen, s, ids) for s, ids in sorted(picks.items()) if len(ids) > 1)
    return out


def round_id_shared(ids, rounds: int = 10) -> list:
    """The same question for (round, id) pairs: pairs that two of ``ids`` pick after seeing
    the same pair (every pair with round 1..rounds and an id in ``ids``).  Always empty: the
    id is part of the number."""
    ids = _check_ids(ids)
    whole_number("rounds", rounds, 0, cap=MAX_NUMBERS // len(ids) ** 2)
    b, out = RoundId(), []
    for r in range(1, rounds + 1):
        for j in ids:
            seen = (r, j)
            picks = {}
            for i in ids:
                picks.setdefault(b.next(seen, i), []).append(i)
            out.extend((seen, x, who) for x, who in picks.items() if len(who) > 1)
    return out
