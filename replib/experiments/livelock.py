"""Chapter 06's experiments: two proposers that preempt each other, how long such a duel
lasts under each retry policy, and why no bound on it exists.

    dueling_run(seed)            one run of two proposers until a value is chosen (to draw)
    run_to_decision(seed, ...)   one run, no states recorded: ballots, messages and time
                                 until a value is chosen
    decision_stats(...)          the same over many seeds (a ``DecisionStats``)
    compare_policies(...)        no backoff, fixed, randomized exponential, a growing timeout,
                                 a leader
    GrowingTimeout               a proposer whose retry timeout doubles after each failed try
    decision_histograms(...)     histograms of ballots and messages to a decision
    livelock_search(k)           the checker's shortest schedule with k ballots started and
                                 nothing chosen
    replay_schedule(steps)       replay a schedule written as "p1 -> a1" steps (the exercise)

"Ballots" (or rounds) counts every proposal number any proposer started, up to the moment a
value is chosen: a phase-2 quorum of acceptors has accepted it under one number.  Two
proposers start one ballot each at time 0, so two is the least without a leader.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ..actions import Controls, Deliver
from ..check import Result, check
from ..network import LongTail, Network, Uniform
from ..protocols.paxos import Proposer, chosen, paxos_system
from ..sim import Simulation
from ..trace import trace_of
from ..validate import finite_time, whole_number

#: the latency of the chapter's runs: every message takes between 0.5 and 1.5, uniformly
DEFAULT_LATENCY = Uniform(0.5, 1.5)
#: the chapter's second network: median 1, a long tail (log-normal; the explorer's "long tail")
LONG_TAIL = LongTail(1.0, 0.8)
#: simulated time after which a run that has chosen nothing counts as undecided
LIMIT = 200.0
#: the seed of the chapter's dueling run (five ballots and 39 messages until v1 is chosen)
DUEL_SEED = 9

#: the retry policies the chapter compares: label -> run_to_decision settings
POLICIES = {
    "no backoff": dict(backoff="none"),
    "fixed backoff": dict(backoff="fixed"),
    "randomized backoff": dict(backoff="random"),
    "growing timeout": dict(backoff="none", growing=True),
    "leader p1": dict(backoff="none", leader="p1"),
}


class GrowingTimeout(Proposer):
    """A proposer whose retry timeout doubles after each failed attempt: ``timeout`` for its
    first ballot, twice that for the second, and so on (``tries`` is on disk, so a restart
    does not shrink it again).  The standard remedy for a timeout that is too short: sooner
    or later it outlasts a ballot's round trips.  A rejected ballot is retried at once, as
    with no backoff."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.first_timeout = self.timeout

    def begin(self):
        self.timeout = self.first_timeout * 2 ** self.tries
        super().begin()


# ---- one run ---------------------------------------------------------------------------


def _network(latency) -> Network:
    return Network(DEFAULT_LATENCY if latency is None else latency)


def _stop_when_chosen(sim, limit):
    """A stop condition for ``sim.run``: a value is chosen, or the time is past ``limit``."""
    acceptors = [n for n in sim.nodes.values() if hasattr(n, "votes")]
    q2 = len(acceptors) // 2 + 1

    def stop(s):
        if s.now > limit:
            return True
        count = {}
        for a in acceptors:
            for vote in a.votes:
                k = count[vote] = count.get(vote, 0) + 1
                if k >= q2:
                    return True
        return False

    return stop


def _chosen_in(sim) -> set:
    """The values chosen so far in a simulation (from the acceptors' votes)."""
    return chosen(_Nodes(list(sim.nodes.values())))


@dataclass
class _Nodes:
    nodes: list


def dueling_run(seed: int = DUEL_SEED, latency=None, backoff: str = "none",
                timeout: float = 6.0, leader: str | None = None,
                limit: float = LIMIT) -> Simulation:
    """Two proposers (p1 wants v1, p2 wants v2), three acceptors, no learners, unbounded
    ballots; run until a value is chosen (or ``limit``), recording states for the diagram.

    With the defaults (no backoff, latency uniform in 0.5..1.5, seed 9) they preempt each
    other for five ballots."""
    finite_time("limit", limit)
    nodes = paxos_system(3, 2, learners=0, max_ballots=None, timeout=timeout, backoff=backoff,
                         leader=leader)
    sim = Simulation(nodes, network=_network(latency), seed=seed)
    sim.run(until=_stop_when_chosen(sim, limit))
    return sim


def ballots_started(trace) -> list[tuple]:
    """(time, proposer, ballot) for every ballot started in a run, in order (read from the
    first Prepare of each number)."""
    out, seen = [], set()
    for e in trace.events:
        if e.kind == "send" and e.msg_type == "Prepare" and (e.node, e.msg.ballot) not in seen:
            seen.add((e.node, e.msg.ballot))
            out.append((e.time, e.node, e.msg.ballot))
    return out


@dataclass(frozen=True)
class Outcome:
    """One run until a decision: did a value get chosen by the time limit, after how many
    ballots (all proposers together), messages and time units."""

    seed: int
    decided: bool
    ballots: int
    messages: int
    time: float
    value: object = None


def run_to_decision(seed: int = 0, backoff: str = "none", timeout: float = 6.0,
                    backoff_base: float = 1.0, backoff_cap: float = 32.0,
                    leader: str | None = None, latency=None, limit: float = LIMIT,
                    proposers: int = 2, acceptors: int = 3,
                    max_events: int = 50_000, growing: bool = False) -> Outcome:
    """Run Paxos with unbounded ballots (no states recorded: it is fast) until a value is
    chosen or the simulated time passes ``limit``; count ballots and messages until then.
    A run that reaches ``max_events`` events first (tiny timeouts) ends undecided too.
    growing: the retry timeout doubles after each failed attempt (``GrowingTimeout``)."""
    finite_time("limit", limit)
    whole_number("max_events", max_events, 1)
    if not isinstance(growing, bool):
        raise ValueError(f"growing must be True or False, got {growing!r}")
    nodes = paxos_system(acceptors, proposers, learners=0, max_ballots=None, timeout=timeout,
                         backoff=backoff, backoff_base=backoff_base, backoff_cap=backoff_cap,
                         leader=leader, proposer=GrowingTimeout if growing else Proposer)
    sim = Simulation(nodes, network=_network(latency), seed=seed, record_states=False)
    sim.run(until=_stop_when_chosen(sim, limit), max_events=max_events)
    values = _chosen_in(sim)
    ballots = sum(n.tries for n in sim.nodes.values() if hasattr(n, "tries"))
    messages = sum(1 for e in sim.trace.events if e.kind == "send")
    return Outcome(seed, bool(values), ballots, messages, min(sim.now, limit),
                   min(values) if values else None)


# ---- many seeds ------------------------------------------------------------------------


@dataclass
class DecisionStats:
    """Runs of one configuration over many seeds.  ``ballots``, ``messages`` and ``times``
    hold the decided runs only; ``undecided`` counts the runs that chose nothing by
    ``limit`` (their figures are unknown: they count as larger than any decided run)."""

    label: str
    settings: dict
    outcomes: list = field(repr=False)
    limit: float = LIMIT

    @property
    def runs(self) -> int:
        return len(self.outcomes)

    @property
    def undecided(self) -> int:
        return sum(not o.decided for o in self.outcomes)

    def values(self, what: str) -> list:
        """The sorted figures of the decided runs; what: "ballots", "messages" or "time"."""
        if what not in ("ballots", "messages", "time"):
            raise ValueError(f"what must be 'ballots', 'messages' or 'time', got {what!r}")
        return sorted(getattr(o, what) for o in self.outcomes if o.decided)

    def percentile(self, what: str, q: float):
        """The q-th percentile (nearest rank) over all runs, undecided ones counted as
        larger than any decided one; None when that rank falls on an undecided run."""
        values = self.values(what)
        if not self.outcomes:
            raise ValueError("no runs")
        rank = max(1, math.ceil(q / 100 * self.runs))
        return values[rank - 1] if rank <= len(values) else None

    def median(self, what: str):
        return self.percentile(what, 50)

    def mean_ci(self, what: str, z: float = 1.96) -> tuple:
        """(mean, low, high): the mean over the decided runs, with a normal-approximation
        confidence interval, mean +- z * s / sqrt(n) (z = 1.96: 95 %).  None for all three
        when fewer than two runs decided."""
        values = self.values(what)
        n = len(values)
        if n < 2:
            return (None, None, None)
        mean = sum(values) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        half = z * sd / math.sqrt(n)
        return (mean, mean - half, mean + half)

    def p95(self, what: str):
        return self.percentile(what, 95)

    def describe(self) -> str:
        """One line: median and 95th percentile of ballots and of messages."""
        def num(x):
            return f"> t={self.limit:g}" if x is None else f"{x:g}"
        text = (f"{self.label}: ballots median {num(self.median('ballots'))}, "
                f"95th percentile {num(self.p95('ballots'))}, max "
                f"{num(max(self.values('ballots'), default=None))}; messages median "
                f"{num(self.median('messages'))}, 95th percentile {num(self.p95('messages'))}")
        if self.undecided:
            text += f"; {self.undecided} of {self.runs} runs undecided at t={self.limit:g}"
        return text


#: runs one call makes at most (a run takes up to 50,000 events: about 30 ms)
MAX_SEEDS = 10_000


def _seed_list(seeds) -> list:
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        whole_number("seeds", seeds, 1, cap=MAX_SEEDS)
        return list(range(seeds))
    try:
        out = list(seeds)
    except TypeError:
        raise ValueError(f"seeds must be a number of seeds (a whole number >= 1) or a list of "
                         f"integer seeds, got {seeds!r}") from None
    if not out or not all(isinstance(s, int) and not isinstance(s, bool) for s in out):
        raise ValueError(f"seeds must be a number of seeds (a whole number >= 1) or a "
                         f"non-empty list of integer seeds, got {seeds!r}")
    if len(out) > MAX_SEEDS:
        raise ValueError(f"seeds must list at most {MAX_SEEDS:,} seeds here (more would not "
                         f"finish in seconds), got {len(out):,}")
    return out


#: runs above this many show a progress bar when progress is None
PROGRESS_ABOVE = 2000


def _bar(total, progress):
    show = total > PROGRESS_ABOVE if progress is None else bool(progress)
    if not show:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc="runs", leave=True)


def decision_stats(seeds=200, label: str | None = None, latency=None, limit: float = LIMIT,
                   progress=None, **settings) -> DecisionStats:
    """``run_to_decision`` for each seed (a number n: seeds 0..n-1, or a list of seeds).

    settings: backoff, timeout, backoff_base, backoff_cap, leader, proposers, acceptors,
    growing.
    progress: True/False, or None for a progress bar only above PROGRESS_ABOVE runs."""
    seeds = _seed_list(seeds)
    bar = _bar(len(seeds), progress)
    try:
        return _stats(seeds, label, latency, limit, bar, settings)
    finally:
        if bar is not None:
            bar.close()


def _stats(seeds, label, latency, limit, bar, settings):
    outcomes = []
    for s in seeds:
        outcomes.append(run_to_decision(s, latency=latency, limit=limit, **settings))
        if bar is not None:
            bar.update()
    name = label or ", ".join(f"{k}={v}" for k, v in settings.items()) or "defaults"
    return DecisionStats(name, dict(settings), outcomes, limit)


def ranking(stats: dict, what: str = "ballots") -> list:
    """The configurations of ``stats`` (label -> DecisionStats) from the fewest ``what`` on
    average to the most, as (label, mean, low, high) with the 95 % normal-approximation
    intervals of ``mean_ci``; a configuration with undecided runs comes last."""
    rows = [(label,) + s.mean_ci(what) for label, s in stats.items()]
    return sorted(rows, key=lambda r: (stats[r[0]].undecided > 0,
                                       math.inf if r[1] is None else r[1]))


def separated(ranked: list) -> bool:
    """True when the intervals of a ``ranking`` do not overlap, neighbour by neighbour: the
    order is not an accident of the seeds."""
    return all(a[3] is not None and b[2] is not None and a[3] < b[2]
               for a, b in zip(ranked, ranked[1:]))


def compare_policies(seeds=200, timeout: float = 6.0, backoff_base: float = 1.0,
                     backoff_cap: float = 32.0, latency=None, limit: float = LIMIT,
                     policies=None, progress=None) -> dict:
    """``decision_stats`` for each policy (default: ``POLICIES``, label -> settings), all
    with the same seeds, timeout, backoff base and cap, latency and limit."""
    policies = POLICIES if policies is None else policies
    if not isinstance(policies, dict) or not policies:
        raise ValueError(f"policies must be a non-empty dict label -> settings, got {policies!r}")
    seeds = _seed_list(seeds)
    bar = _bar(len(seeds) * len(policies), progress)
    out = {}
    try:
        for label, settings in policies.items():
            merged = dict(timeout=timeout, backoff_base=backoff_base, backoff_cap=backoff_cap)
            merged.update(settings)
            out[label] = _stats(seeds, label, latency, limit, bar, merged)
    finally:
        if bar is not None:
            bar.close()
    return out


# ---- histograms --------------------------------------------------------------------------


def _counts(values, width):
    """Histogram counts in bins of ``width`` starting at a multiple of it: (centres, counts)."""
    if not values:
        return [], []
    lo = (values[0] // width) * width
    n = int((values[-1] - lo) // width) + 1
    counts = [0] * n
    for v in values:
        counts[int((v - lo) // width)] += 1
    return [lo + width * i + (width - 1) / 2 for i in range(n)], counts


def decision_histograms(stats: dict, title: str | None = None):
    """Two histograms side by side: ballots and messages until a value is chosen, one
    series per configuration (``stats``: label -> DecisionStats), as the fraction of runs
    on a log scale so that rare long duels show.  Each series has its own colour, line
    style and marker; undecided runs are counted in the legend."""
    from matplotlib.figure import Figure

    from ..viz import palette as P
    from ..viz.charts import series_style

    if not isinstance(stats, dict) or not stats or not all(
            isinstance(s, DecisionStats) for s in stats.values()):
        raise ValueError("stats must be a non-empty dict label -> DecisionStats "
                         "(from decision_stats or compare_policies)")
    # the layout in inches: room for the y labels on the left, and a legend below whose
    # columns fit the longest label (one column when two would not fit)
    from ..viz.sequence import text_width_pt
    fig_w, left, gap, right, axes_h, head = 10.4, 0.95, 1.15, 0.25, 3.0, 0.6
    labels = [_legend(label, s) for label, s in stats.items()]
    col = max(text_width_pt(x, P.FONT["legend"]) for x in labels) + 60
    ncol = 2 if 2 * col <= (fig_w - left - right) * 72 else 1
    bottom = 0.9 + 0.27 * math.ceil(len(labels) / ncol)
    fig_h = head + axes_h + bottom
    fig = Figure(figsize=(fig_w, fig_h), dpi=100, facecolor="white")
    axes_w = (fig_w - left - gap - right) / 2
    axes = [fig.add_axes((x / fig_w, bottom / fig_h, axes_w / fig_w, axes_h / fig_h))
            for x in (left, left + axes_w + gap)]
    top = max(max(s.values("messages"), default=0) for s in stats.values())
    width = next(w for w in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if w * 15 >= top)
    parts = []
    for i, (label, s) in enumerate(stats.items()):
        style = series_style(i)
        for ax, what, w in ((axes[0], "ballots", 1), (axes[1], "messages", width)):
            xs, counts = _counts(s.values(what), w)
            ys = [c / s.runs if c else float("nan") for c in counts]
            ax.plot(xs, ys, linewidth=2, markersize=7, **style,
                    label=_legend(label, s) if what == "ballots" else None)
        parts.append(s.describe())
    for ax, what in ((axes[0], "ballots until a value is chosen"),
                     (axes[1], f"messages until a value is chosen (bins of {width})")):
        ax.set_yscale("log")
        ax.set_xlabel(what, fontsize=P.FONT["legend"] + 1)
        ax.set_ylabel("fraction of runs (log scale)", fontsize=P.FONT["legend"] + 1)
        ax.tick_params(labelsize=P.FONT["tick"])
        ax.grid(True, color="#DDDDDD", linewidth=0.8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[0].xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title, fontsize=P.FONT["title"], fontweight="bold", x=left / fig_w,
                     y=1 - 0.15 / fig_h, ha="left", va="top")
    fig.legend(loc="lower left", bbox_to_anchor=(left / fig_w - 0.01, 0.02), frameon=False,
               fontsize=P.FONT["legend"], ncol=ncol)
    runs = {s.runs for s in stats.values()}
    fig.alt_text = (f"Histograms of the ballots and messages until a value is chosen, "
                    f"{'/'.join(map(str, sorted(runs)))} runs per configuration, fraction of "
                    f"runs on a log scale. " + ". ".join(parts) + ".")
    return fig


def _legend(label, s):
    med, p95 = s.median("ballots"), s.p95("ballots")
    text = (f"{label} (ballots: median {'undecided' if med is None else med}, "
            f"p95 {'undecided' if p95 is None else p95})")
    if s.undecided:
        text += f" ({s.undecided} undecided)"
    return text


# ---- the checker: a duel of any length ---------------------------------------------------

#: the exercise's and the search's world: messages are delayed and reordered at will, never
#: lost, and no timeout fires, so a ballot ends only when an acceptor rejects it
DUEL_CONTROLS = Controls(timers=False)


def _ballots_in(s) -> int:
    return sum(n.tries for n in s.nodes if hasattr(n, "tries"))


@dataclass
class LivelockSearch:
    """The checker's answer for k ballots: ``path`` is a shortest schedule after which k
    ballots have been started and no value is chosen (None if none was found)."""

    ballots: int
    result: Result

    @property
    def path(self):
        return self.result.violation.path if self.result.violation else None

    def summary(self) -> str:
        if self.path is None:
            return (f"{self.ballots} ballots: no schedule found ({self.result.states:,} "
                    f"states, {self.result.note})")
        return (f"{self.ballots} ballots started, nothing chosen: a shortest schedule has "
                f"{len(self.path)} steps ({self.result.states:,} states explored)")


def livelock_search(ballots: int, acceptors: int = 3, max_states: int = 200_000) -> LivelockSearch:
    """Ask the checker for a shortest schedule in which two proposers start ``ballots``
    ballots between them and no value is chosen.

    The system: ``paxos_system(acceptors, 2, learners=0, max_ballots=ceil(ballots / 2))``
    under ``DUEL_CONTROLS`` (no timeouts: only rejections end a ballot).  The checker is
    given the claim "once that many ballots are started, a value is chosen" as an invariant
    and refutes it; it searches breadth-first and stops at the first counterexample, so the
    schedule is a shortest one.  (As a goal it would be found just as well, but a goal
    does not stop the search, and the full state space grows fast with the bound.)"""
    whole_number("ballots", ballots, 1)
    whole_number("acceptors", acceptors, 1)
    nodes = paxos_system(acceptors, 2, learners=0, max_ballots=max(1, math.ceil(ballots / 2)))

    def some_value_chosen_by_then(s):
        return _ballots_in(s) < ballots or bool(chosen(s))

    result = check(nodes, DUEL_CONTROLS,
                   invariants={f"a value is chosen once {ballots} ballots are started":
                               some_value_chosen_by_then},
                   max_states=max_states, progress=False)
    return LivelockSearch(ballots, result)


# ---- schedules written by hand (the exercise) ---------------------------------------------

_STEP = re.compile(r"^\s*([A-Za-z]\w*)\s*(?:->|→)\s*([A-Za-z]\w*)\s*(.*?)\s*$")


def message_text(msg) -> str:
    """A message the way schedules write it: ``Prepare(4)``, ``Accept(4, 'v1')``."""
    fields = [repr(getattr(msg, f)) for f in msg.__dataclass_fields__]
    return f"{type(msg).__name__}({', '.join(fields)})"


def step_text(src, dst, msg) -> str:
    """A delivery as a schedule step: ``p1 -> a2 Prepare(4)``."""
    return f"{src} -> {dst} {message_text(msg)}"


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).replace('"', "'").lower()


def schedule_of(path) -> list[str]:
    """A checker path of deliveries (a Path or a list of actions) as schedule steps."""
    if not (hasattr(path, "actions") or isinstance(path, (list, tuple))):
        raise ValueError(f"path must be a checker Path or a list of Deliver actions, "
                         f"got {path!r}")
    actions = path.actions if hasattr(path, "actions") else list(path)
    out = []
    for a in actions:
        if not isinstance(a, Deliver):
            raise ValueError(f"schedules only deliver messages; this path has '{a}'")
        out.append(step_text(a.src, a.dst, a.msg))
    return out


@dataclass
class ScheduleReplay:
    """What happened when a schedule was replayed (``replay_schedule``).

    sim: the controlled Simulation after the last step done; steps_done: how many steps
    ran; error: why the replay stopped early (a step that could not be done), or None;
    chosen_at: the number (1, 2, ...) of the step after which a value was first chosen, or
    None; chosen_how: what that step did, in words."""

    steps: list
    sim: Simulation
    steps_done: int = 0
    error: str | None = None
    chosen_at: int | None = None
    chosen_how: str | None = None

    @property
    def trace(self):
        return self.sim.trace

    def ballots(self) -> dict:
        """proposer -> the ballots it started, in order."""
        out = {p: [] for p in self.sim.nodes if p.startswith("p")}
        for _, node, b in ballots_started(self.sim.trace):
            out[node].append(b)
        return out

    @property
    def ballot_count(self) -> int:
        return sum(len(b) for b in self.ballots().values())

    def next_steps(self) -> list[str]:
        """Every delivery possible now, written as schedule steps."""
        return [step_text(a.src, a.dst, a.msg) for a in self.sim.enabled()
                if isinstance(a, Deliver)]

    def report(self) -> str:
        """Several lines a student can read: what ran, ballots, what is chosen, what next."""
        started = "; ".join(f"{p}: {', '.join(map(str, b)) or 'none'}"
                            for p, b in self.ballots().items())
        lines = [f"{self.steps_done} of {len(self.steps)} step(s) done; "
                 f"{self.ballot_count} ballots started ({started})."]
        if self.error:
            lines.append(f"Stopped: {self.error}")
        if self.chosen_at is not None:
            lines.append(f"After step {self.chosen_at}: {self.chosen_how}")
        else:
            lines.append("Nothing is chosen.")
        nxt = self.next_steps()
        lines.append("Possible next steps: " + ("; ".join(f'"{s}"' for s in nxt) or "none"))
        return "\n".join(lines)


def duel_system() -> list:
    """The exercise's system: three acceptors, p1 (value v1) and p2 (value v2), no
    learners, ballots without bound, no backoff."""
    return paxos_system(3, 2, learners=0, max_ballots=None)


def _find(sim, step: str, number: int):
    """The Deliver action a step names, or a ValueError saying what is wrong with it."""
    where = f"step {number} ({step!r})" if isinstance(step, str) else f"step {number}"
    if not isinstance(step, str):
        raise ValueError(f"{where}: each step is a string such as 'p1 -> a1', got {step!r}")
    m = _STEP.match(step)
    if not m:
        raise ValueError(f"{where}: write a step as 'p1 -> a1' (deliver the oldest message in "
                         f"flight from p1 to a1) or 'p1 -> a1 Accept' / 'p1 -> a1 Prepare(4)' "
                         f"(the oldest such message)")
    src, dst, which = m.group(1).lower(), m.group(2).lower(), m.group(3)
    for node in (src, dst):
        if node not in sim.nodes:
            raise ValueError(f"{where}: there is no node {node!r}; the nodes are "
                             f"{', '.join(sim.nodes)}")
    on_link = [a for a in sim.enabled() if isinstance(a, Deliver) and a.src == src and a.dst == dst]
    if which:
        want = _norm(which)
        match = [a for a in on_link if _norm(type(a.msg).__name__) == want
                 or _norm(message_text(a.msg)) == want]
    else:
        match = on_link
    if not match:
        here = "; ".join(message_text(a.msg) for a in on_link)
        what = f"no {which} in flight" if which else "no message in flight"
        flying = "; ".join(f'"{s}"' for s in (step_text(a.src, a.dst, a.msg)
                                               for a in sim.enabled() if isinstance(a, Deliver)))
        raise ValueError(f"{where}: {what} from {src} to {dst}"
                         + (f" (on that link: {here})" if here else "")
                         + f". In flight now: {flying or 'nothing'}")
    return match[0]


def _chosen_story(sim, action) -> str:
    """In words: which ballot a majority accepted, so that a value is chosen."""
    acceptors = [n for n in sim.nodes.values() if hasattr(n, "votes")]
    q2 = len(acceptors) // 2 + 1
    for vote in sorted({v for a in acceptors for v in a.votes}, key=repr):
        who = sorted(a.id for a in acceptors if vote in a.votes)
        if len(who) >= q2:
            ballot, value = vote
            owner = next((e.node for e in sim.trace.events if e.kind == "send"
                          and e.msg_type == "Accept" and e.msg.ballot == ballot), "a proposer")
            return (f"{action.dst} accepted {owner}'s Accept({ballot!r}, {value!r}); with "
                    f"{', '.join(w for w in who if w != action.dst)} that is a majority "
                    f"({', '.join(who)}) accepting ballot {ballot}: {value} is chosen.")
    return "a value is chosen."


def replay_schedule(steps, stop_when_chosen: bool = False) -> ScheduleReplay:
    """Replay a schedule on ``duel_system()`` in controlled mode (``DUEL_CONTROLS``).

    steps: a list of strings, one delivery each: ``"p1 -> a1"`` delivers the oldest message
    in flight from p1 to a1; ``"p1 -> a1 Accept"`` the oldest Accept on that link;
    ``"p1 -> a1 Prepare(4)"`` that very message.  (A single string with one step per line
    works too.)  The replay stops at the first step that cannot be done and says why in
    ``error``; with ``stop_when_chosen`` it also stops once a value is chosen.
    Raises ValueError only when ``steps`` is not a list of steps at all."""
    if isinstance(steps, str):
        steps = [s for s in re.split(r"[\n;]", steps) if s.strip()]
    if not isinstance(steps, (list, tuple)):
        raise ValueError(f"steps: a schedule is a list of steps such as ['p1 -> a1', "
                         f"'p2 -> a1'] (or one string, a step per line), got {steps!r}")
    out = ScheduleReplay(list(steps), Simulation(duel_system(), controls=DUEL_CONTROLS))
    for i, step in enumerate(out.steps, start=1):
        try:
            action = _find(out.sim, step, i)
        except ValueError as exc:
            out.error = str(exc)
            break
        out.sim.perform(action)
        out.steps_done = i
        if out.chosen_at is None and _chosen_in(out.sim):
            out.chosen_at, out.chosen_how = i, _chosen_story(out.sim, action)
            if stop_when_chosen:
                break
    return out


def livelock_verdict(steps, ballots: int = 5) -> tuple[bool, str]:
    """Does the schedule keep two proposers from choosing a value for at least ``ballots``
    ballots?  (True, why) or (False, what went wrong, precisely).  Never raises."""
    try:
        whole_number("ballots", ballots, 1)
        replay = replay_schedule(steps, stop_when_chosen=True)
    except ValueError as exc:
        return False, str(exc)
    if replay.chosen_at is not None:
        step = replay.steps[replay.chosen_at - 1]
        return False, (f"after your step {replay.chosen_at} ({step!r}), {replay.chosen_how} "
                       f"A livelock must never let a majority accept one ballot.")
    if replay.error:
        return False, replay.error
    got = replay.ballot_count
    started = "; ".join(f"{p}: {', '.join(map(str, b))}" for p, b in replay.ballots().items())
    if got < ballots:
        return False, (f"your {replay.steps_done} step(s) leave nothing chosen, but only {got} "
                       f"ballots were started ({started}); you need {ballots}. A proposer "
                       f"starts a new ballot when a Reject reaches it: deliver a rival's "
                       f"higher Prepare first.")
    return True, (f"{got} ballots started ({started}) in {replay.steps_done} steps and nothing "
                  f"chosen: each ballot was rejected because the rival's higher Prepare got "
                  f"there first.")


def duel_diagram(sim_or_trace, title: str | None = None):
    """The space-time diagram of a run, with every ballot's start marked on its proposer's
    lane (the proposers' "ballot 3" badges), and the ballots listed in the alt text."""
    from ..viz import space_time

    trace = trace_of(sim_or_trace)
    fig = space_time(trace, title=title)
    started = ballots_started(trace)
    fig.alt_text += " Ballots started: " + ", ".join(
        f"{node} ballot {b} at t={round(t, 2):g}" for t, node, b in started) + "."
    return fig
