"""Chapter 07, proposal numbers (replib.experiments.proposal_numbers, the DuelExplorer widget and
the bad-input checks added to ballots.py): exact numbers,
exact checker counts and counterexample lengths, measured without symmetry reduction."""

import re

import pytest
from helpers import attached, plain

from replib.actions import Controls, Deliver
from replib.check import NodeModel, can_still_reach, check
from replib.experiments.proposal_numbers import (
    CHECKED,
    Duel,
    EagerAcceptor,
    collision_system,
    duel_chart,
    duel_numbers,
    growth_chart,
    play_out,
    round_id_shared,
    same_next,
    shared_numbers,
    simulate_duel,
    usable_numbers,
)
from replib.protocols.ballots import ModN, Naive, RoundId, scheme
from replib.protocols.paxos import (
    PAXOS_INVARIANTS,
    Accept,
    Acceptor,
    Prepare,
    Promise,
    Reject,
    agreement,
    paxos_system,
    value_chosen,
)
from replib.viz import to_png
from replib.widgets.numbers import DuelExplorer


def run(check_fn, *args):
    """What a check prints (one line)."""
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        check_fn(*args)
    return out.getvalue()


# ---- the eager acceptor ------------------------------------------------------------------

def test_eager_acceptor_promises_an_equal_number_again():
    """EagerAcceptor: rule 1b misread as n >= promised: a second Prepare(1) from another
    proposer gets Promise(1, None) where the real acceptor answers Reject(1, 1)."""
    for cls, second in ((EagerAcceptor, Promise(1, None)), (Acceptor, Reject(1, 1))):
        a = attached(collision_system("naive", acceptor=cls))["a1"]
        assert plain(a.handle(Prepare(1), "p1")) == [("send", "p1", Promise(1, None))]
        assert plain(a.handle(Prepare(1), "p2")) == [("send", "p2", second)]
        assert a.promised == 1


def test_eager_acceptor_still_rejects_a_lower_number():
    """EagerAcceptor keeps the rest of rule 1b: a Prepare below the promise is rejected."""
    a = attached(collision_system("naive", acceptor=EagerAcceptor))["a1"]
    a.handle(Prepare(2), "p1")
    assert plain(a.handle(Prepare(1), "p2")) == [("send", "p2", Reject(1, 2))]


def test_naive_numbers_with_strict_acceptors_are_safe():
    """Naive numbers collide, but with the strict rule 1b each acceptor promises a number
    to one proposer only: every one of the 2,441 states of the checked configuration (3
    acceptors, 2 proposers, 1 number each, timers off) is safe (8,598 transitions, depth
    13), as in tests/test_paxos.py."""
    r = check(collision_system("naive"), Controls(timers=False), invariants=PAXOS_INVARIANTS,
              progress=False)
    assert r.ok and r.complete and (r.states, r.transitions, r.max_depth) == (2441, 8598, 13)


def test_naive_numbers_with_eager_acceptors_break_agreement_in_12_steps():
    """Colliding numbers and an acceptor that promises an equal number: agreement fails in
    12 steps (8,276 states explored): a1, a2 promise 1 to p1 and then to p2, and accept
    (1, v1) and then (1, v2)."""
    r = check(collision_system("naive", acceptor=EagerAcceptor), Controls(timers=False),
              invariants={"agreement": agreement}, progress=False)
    assert r.violation.name == "agreement" and len(r.violation.path) == 12
    assert r.states == 8276
    assert r.violation.path.actions[-4:] == [
        Deliver("p1", "a1", Accept(1, "v1")), Deliver("p1", "a2", Accept(1, "v1")),
        Deliver("p2", "a1", Accept(1, "v2")), Deliver("p2", "a2", Accept(1, "v2"))]
    trace = r.violation.path.trace()
    assert len(trace.steps) == 17 and trace.count(kind="deliver") == 12


def test_eager_acceptors_with_unique_numbers_are_safe():
    """With unique numbers (mod n) the eager acceptor is harmless: 25,730 states safe with
    three acceptors (103,773 transitions), 649 with two (the notebook's quick version)."""
    r = check(collision_system("mod-n", acceptor=EagerAcceptor), Controls(timers=False),
              invariants=PAXOS_INVARIANTS, progress=False)
    assert r.ok and r.complete and (r.states, r.transitions) == (25730, 103773)
    r = check(collision_system("mod-n", acceptor=EagerAcceptor, acceptors=2),
              Controls(timers=False), invariants=PAXOS_INVARIANTS, progress=False)
    assert r.ok and r.complete and (r.states, r.transitions, r.max_depth) == (649, 1688, 16)


def test_collisions_cost_progress():
    """Two acceptors (a majority is both): naive numbers can leave both proposers with one
    promise each; from 32 of the 145 states no value can ever be chosen, the shortest in 2
    steps.  Mod-n numbers: from every one of the 649 states a value can still be chosen."""
    two = Controls(timers=False)
    r = can_still_reach(NodeModel(collision_system("naive", acceptors=2), two),
                        {"value chosen": value_chosen}, progress=False)
    assert (r.states, r.matching, len(r.stuck), len(r.path)) == (145, 145, 32, 2)
    assert r.path.actions == [Deliver("p1", "a1", Prepare(1)), Deliver("p2", "a2", Prepare(1))]
    r = can_still_reach(NodeModel(collision_system("mod-n", acceptors=2), two),
                        {"value chosen": value_chosen}, progress=False)
    assert r.ok and r.states == 649


def test_play_out_delivers_everything_left():
    """play_out: the path's 2 steps, then every message in flight, oldest first: each
    proposer gets one Promise and one Reject(1, 1), and nothing else can happen."""
    r = can_still_reach(NodeModel(collision_system("naive", acceptors=2), Controls(timers=False)),
                        {"value chosen": value_chosen}, progress=False)
    trace = play_out(r.path)
    assert trace.count(kind="deliver") == 8
    assert trace.message_counts() == {"Prepare": 4, "Promise": 2, "Reject": 2}
    for p in ("p1", "p2"):
        got = [e.msg for e in trace.select(kind="deliver", node=p)]
        assert got == [Promise(1, None), Reject(1, 1)]


def test_collision_system_is_the_checked_configuration():
    """collision_system: 3 acceptors, 2 proposers, no learner, one number each."""
    assert CHECKED == dict(acceptors=3, proposers=2, learners=0, max_ballots=1)
    nodes = collision_system("naive", acceptor=EagerAcceptor)
    assert [n.id for n in nodes] == ["a1", "a2", "a3", "p1", "p2"]
    assert all(type(n) is EagerAcceptor for n in nodes[:3])
    assert nodes[3].max_ballots == 1 and nodes[3].ballots == Naive()


def test_play_out_needs_a_checker_path():
    """play_out refuses what is not a path of a node model."""
    with pytest.raises(ValueError, match="play_out needs a path found by the checker"):
        play_out([Deliver("p1", "a1", Prepare(1))])


# ---- growth in a duel --------------------------------------------------------------------

def test_duel_numbers_per_scheme():
    """Worst-case duel of proposers 0 and 1 (each beaten by the other's last number):
    naive and mod 2 grow by 1 per attempt, mod 5 by 5 per two attempts, pairs by one round
    per two attempts."""
    assert duel_numbers(Naive(), 6) == [1, 2, 3, 4, 5, 6]
    assert duel_numbers(ModN(2), 6) == [2, 3, 4, 5, 6, 7]
    assert duel_numbers(ModN(5), 6) == [5, 6, 10, 11, 15, 16]
    assert duel_numbers("mod-n", 4) == [2, 3, 4, 5]
    assert duel_numbers(RoundId(), 4) == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert duel_numbers(ModN(3), 3, ids=(2, 0, 1)) == [2, 3, 4]
    assert duel_numbers(ModN(5), 1000)[-1] == 2501


def test_growth_chart_lines_and_alt_text():
    """growth_chart: one line per scheme, a pair drawn as the number it stands for (round * 2
    + id, two proposers: like with like, the same line as mod n with n = 2), alt text with
    the numbers."""
    fig = growth_chart({"naive": Naive(), "pairs": RoundId(), "mod 2": ModN(2)}, attempts=4)
    assert len(fig.axes[0].get_lines()) == 3
    assert "naive (1: 1, 2: 2, 3: 3, 4: 4)" in fig.alt_text
    assert "pairs (1: 2, 2: 3, 3: 4, 4: 5)" in fig.alt_text
    assert "mod 2 (1: 2, 2: 3, 3: 4, 4: 5)" in fig.alt_text
    assert to_png(fig).startswith(b"\x89PNG")


@pytest.mark.parametrize("kwargs, match", [
    (dict(ballots=Naive(), attempts=0), "attempts must be a whole number >= 1, got 0"),
    (dict(ballots=Naive(), ids=(0,)), "ids must list at least two different proposer ids"),
    (dict(ballots=Naive(), ids=(1, 1)), "ids must list at least two different proposer ids"),
    (dict(ballots=ModN(2), ids=(0, 2)), "proposer id 2 is out of range"),
    (dict(ballots="paxos"), "unknown ballot scheme 'paxos'"),
])
def test_duel_numbers_bad_input(kwargs, match):
    """duel_numbers refuses bad arguments with a clear message."""
    with pytest.raises(ValueError, match=re.escape(match)):
        duel_numbers(**kwargs)


# ---- a duel in the simulator -------------------------------------------------------------

def test_simulated_naive_duel_seed_0():
    """Seed 0, naive: p1 and p2 both start with 1; p2, whose Rejects carry its own number,
    waits for its timeout (6) and tries 2; l1 learns at t=4.06."""
    d = simulate_duel("naive", seed=0)
    assert isinstance(d, Duel)
    assert [(round(t, 2), p, n) for t, p, n in d.attempts] == [
        (0.0, "p1", 1), (0.0, "p2", 1), (6.0, "p2", 2)]
    assert d.collisions == {1: ["p1", "p2"]}
    assert round(d.learned_at, 2) == 4.06
    assert d.summary() == ("3 attempts; numbers used by two proposers: 1 by p1 and p2; a value "
                           "was learned at t=4.06.")


def test_simulated_duel_with_a3_down_seed_2():
    """Seed 2 with a3 down: naive numbers split a1/a2 under 1 and again under 2 (learned at
    10.21); mod-n numbers never collide (learned at 6.12)."""
    naive = simulate_duel("naive", seed=2, down="a3")
    assert naive.collisions == {1: ["p1", "p2"], 2: ["p1", "p2"]}
    assert len(naive.attempts) == 5 and round(naive.learned_at, 2) == 10.21
    modn = simulate_duel("mod-n", seed=2, down=("a3",))
    assert modn.collisions == {} and round(modn.learned_at, 2) == 6.12
    assert [n for _, _, n in modn.attempts] == [2, 1, 3, 4]


def test_unique_schemes_never_collide_in_the_simulator():
    """Mod n and pairs: over seeds 0..9, 2 and 3 proposers, no number is used twice."""
    for b in ("mod-n", "round-id"):
        for proposers in (2, 3):
            for seed in range(10):
                assert simulate_duel(b, proposers=proposers, seed=seed, until=30).collisions == {}


def test_simulated_duel_is_deterministic():
    """The same seed gives the same trace."""
    assert simulate_duel("round-id", seed=5).trace.digest() == \
        simulate_duel("round-id", seed=5).trace.digest()


def test_duel_chart_marks_collisions():
    """duel_chart: a step line and markers per proposer, a circle per reused number, a
    dotted line when a value is learned; the alt text lists every attempt."""
    fig = duel_chart(simulate_duel("naive", seed=0))
    labels = [l.get_label() for l in fig.axes[0].get_lines()]
    assert "number used twice" in labels and "value learned" in labels
    assert fig.alt_text.startswith("Proposal numbers over time, naive scheme, seed 0. "
                                   "p1: 1 at 0.0; p2: 1 at 0.0, 2 at 6.0.")
    fig = duel_chart(simulate_duel("round-id", seed=0))
    assert fig.axes[0].get_ylabel() == "round"
    assert "number used twice" not in [l.get_label() for l in fig.axes[0].get_lines()]


@pytest.mark.parametrize("kwargs, match", [
    (dict(proposers=1), "proposers must be a whole number >= 2, got 1"),
    (dict(seed=-1), "seed must be a whole number >= 0, got -1"),
    (dict(down=("a4",)), "down names unknown acceptor(s) ['a4']; acceptors are ['a1', 'a2', 'a3']"),
    (dict(ballots=ModN(2), proposers=3), "ModN(2) has proposer ids 0 to 1 only, but there "
                                         "are 3 proposers: use ModN(3) or more"),
])
def test_simulate_duel_bad_input(kwargs, match):
    """simulate_duel refuses bad arguments with a clear message."""
    with pytest.raises(ValueError, match=re.escape(match)):
        simulate_duel(**kwargs)


# ---- when proposers disagree on n --------------------------------------------------------

def test_usable_numbers():
    """usable_numbers(n, i, upto): the numbers s <= upto with s mod n == i (from 1)."""
    assert usable_numbers(3, 0, 15) == [3, 6, 9, 12, 15]
    assert usable_numbers(3, 2, 15) == [2, 5, 8, 11, 14]
    assert usable_numbers(1, 0, 3) == [1, 2, 3]


def test_a_fourth_proposer_with_another_n_collides():
    """Proposers 0..2 on n = 3, proposer 3 on n = 4: they share every number 3 mod 4 that
    is i mod 3 for an old proposer i; proposers 0 and 3 both start with 3."""
    views = {0: 3, 1: 3, 2: 3, 3: 4}
    assert shared_numbers(views, 30) == {3: [0, 3], 7: [1, 3], 11: [2, 3], 15: [0, 3],
                                         19: [1, 3], 23: [2, 3], 27: [0, 3]}
    assert same_next(views)[:5] == [(None, 3, [0, 3]), (0, 3, [0, 3]), (1, 3, [0, 3]),
                                    (2, 3, [0, 3]), (4, 7, [1, 3])]
    assert same_next({0: 3, 1: 3, 2: 3}) == [] and shared_numbers({0: 3, 1: 3, 2: 3}) == {}


def test_partial_switch_also_collides():
    """Proposers 0, 1, 3 switched to n = 4, proposer 2 still on 3: 1 and 2 both pick 5
    after seeing 2."""
    assert same_next({0: 4, 1: 4, 2: 3, 3: 4}, [2]) == [(2, 5, [1, 2])]


def test_round_id_pairs_never_collide():
    """Pairs carry the id: two proposers never pick the same pair, however many there are."""
    assert round_id_shared((0, 1, 2, 3)) == []
    assert round_id_shared(tuple(range(8)), rounds=20) == []


@pytest.mark.parametrize("views, match", [
    ({0: 3}, "views must map at least two proposer ids"),
    ([3, 4], "views must map at least two proposer ids"),
    ({0: 3, 1: 0}, "ModN needs the number of proposers, a whole number >= 1; got 0"),
    ({0: 3, 3: 3}, "proposer id 3 is out of range: with n = 3 the ids are 0 to 2"),
    ({0: 3, -1: 4}, "a proposer id is a whole number >= 0, got -1"),
])
def test_views_bad_input(views, match):
    """A bad n or proposer id in views is refused with the scheme's own message."""
    with pytest.raises(ValueError, match=re.escape(match)):
        shared_numbers(views)
    with pytest.raises(ValueError, match=re.escape(match)):
        same_next(views)


# ---- ballots.py: bad input added for this chapter -------------------------------------------

def test_negative_numbers_are_refused():
    """A negative seen number is refused by mod n and naive."""
    for b in (ModN(3), Naive()):
        with pytest.raises(ValueError, match=re.escape(
                "proposal numbers are never negative; got -1")):
            b.next(-1, 0)


@pytest.mark.parametrize("seen", [("1", 0), (1, -1), (1.5, 0), (True, 0), (-1, 0)])
def test_round_id_pairs_of_the_wrong_kind_are_refused(seen):
    """RoundId refuses a pair whose round or id is not a whole number >= 0."""
    with pytest.raises(ValueError, match=re.escape(
            f"RoundId numbers are (round, id) pairs of whole numbers >= 0; got {seen!r}")):
        RoundId().next(seen, 0)


def test_scheme_refuses_a_class_and_a_too_small_mod_n():
    """scheme(): a Ballots class (not an object) and ModN(n) with fewer ids than proposers
    are refused with what to write instead; paxos_system passes these on."""
    with pytest.raises(ValueError, match=re.escape(
            "ballots=ModN is a class; pass an object such as ModN(3)")):
        scheme(ModN, 2)
    with pytest.raises(ValueError, match=re.escape(
            "ballots=RoundId is a class; pass an object such as RoundId()")):
        paxos_system(ballots=RoundId)
    with pytest.raises(ValueError, match=re.escape(
            "ModN(2) has proposer ids 0 to 1 only, but there are 3 proposers: use ModN(3) "
            "or more")):
        paxos_system(proposers=3, ballots=ModN(2))
    assert scheme(ModN(3), 3) == ModN(3)


# ---- the explorer ------------------------------------------------------------------------

def test_explorer_opens_on_a_naive_collision():
    """Defaults: naive, two proposers, seed 0: both use 1; summary and chart drawn."""
    e = DuelExplorer()
    assert e.summary.value == ("<b>3 attempts; numbers used by two proposers: 1 by p1 and p2; "
                               "a value was learned at t=4.06.</b>")
    assert e.message.value == "" and e.chart.value.startswith("<img")
    assert e.n.disabled
    assert "duel explorer" in e._repr_mimebundle_()["text/plain"]


def test_explorer_controls_update_the_run():
    """Each control re-runs the duel: a3 down with seed 2 splits twice; mod n with n = 2
    has no collisions; pairs neither."""
    e = DuelExplorer()
    e.seed.value = 2
    e.a3_down.value = True
    assert "1 by p1 and p2, 2 by p1 and p2" in e.summary.value and "10.21" in e.summary.value
    e.scheme.value = "mod-n"
    assert not e.n.disabled
    assert "numbers used by two proposers: none" in e.summary.value and "6.12" in e.summary.value
    e.scheme.value = "round-id"
    assert "none" in e.summary.value and e.n.disabled
    assert e.settings()["down"] == ("a3",) and e.settings()["ballots"] == "round-id"


def test_explorer_reports_a_too_small_n_and_keeps_the_picture():
    """Mod n with n = 2 and three proposers: the panel says why, the last chart stays; a
    good n clears the message."""
    e = DuelExplorer(scheme="mod-n", n=2)
    chart, summary = e.chart.value, e.summary.value
    e.proposers.value = 3
    assert "ModN(2) has proposer ids 0 to 1 only" in e.message.value
    assert (e.chart.value, e.summary.value) == (chart, summary)
    assert e.update() is False
    e.n.value = 3
    assert e.message.value == "" and e.update() is True


def test_explorer_refuses_bad_arguments():
    """The constructor refuses an unknown scheme and a number of proposers out of range."""
    with pytest.raises(ValueError, match="unknown scheme 'paxos'"):
        DuelExplorer(scheme="paxos")
    with pytest.raises(ValueError, match="proposers must be 2 to 4"):
        DuelExplorer(proposers=7)


# ---- the chapter's exercise checks -----------------------------------------------------------













