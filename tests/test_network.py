"""The network: latency models, loss and duplication settings, partitions and cuts."""

import math
import random
import statistics

import pytest

from replib.network import Constant, LongTail, Network, Uniform


def attached(ids=("a", "b", "c", "d"), **kw):
    net = Network(**kw)
    net._attach(ids)
    return net


# ---- latency models ------------------------------------------------------------------------

def test_constant_latency_is_exact():
    """Constant(d) gives exactly d, as a float, and draws no dice."""
    rng = random.Random(1)
    state = rng.getstate()
    assert [Constant(2).sample(rng) for _ in range(5)] == [2.0] * 5
    assert isinstance(Constant(2).sample(rng), float)
    assert rng.getstate() == state
    assert Constant().sample(rng) == 1.0


def test_uniform_latency_stays_in_its_range_and_fills_it():
    """Uniform(low, high) draws in [low, high] and covers the range."""
    rng = random.Random(7)
    draws = [Uniform(0.5, 1.5).sample(rng) for _ in range(2000)]
    assert all(0.5 <= d <= 1.5 for d in draws)
    assert min(draws) < 0.55 and max(draws) > 1.45
    assert abs(statistics.mean(draws) - 1.0) < 0.03
    assert Uniform(2, 2).sample(rng) == 2


def test_long_tail_median_and_tail():
    """LongTail(median, spread) is log-normal: half the draws fall below the median, and the
    99th percentile is about median * exp(2.33 * spread)."""
    rng = random.Random(42)
    draws = sorted(LongTail(2.0, 0.8).sample(rng) for _ in range(20000))
    assert abs(statistics.median(draws) - 2.0) < 0.1
    p99 = draws[int(0.99 * len(draws))]
    assert 0.8 * 2 * math.exp(2.326 * 0.8) < p99 < 1.2 * 2 * math.exp(2.326 * 0.8)
    assert all(d > 0 for d in draws)


def test_long_tail_with_zero_spread_is_constant():
    """spread 0 means no variation at all."""
    rng = random.Random(0)
    assert {LongTail(3, 0).sample(rng) for _ in range(10)} == {3.0}


def test_same_seed_same_draws():
    """Latency draws depend only on the Random they are given."""
    a = [LongTail().sample(random.Random(5)) for _ in range(3)]
    b = [LongTail().sample(random.Random(5)) for _ in range(3)]
    assert a == b


@pytest.mark.parametrize("make, match", [
    (lambda: Constant(-1), "Constant latency delay must be a finite number >= 0, got -1"),
    (lambda: Constant(True), "got True"),
    (lambda: Constant("1"), "got '1'"),
    (lambda: Constant(float("nan")), "got nan"),
    (lambda: Uniform(-0.1, 1), "Uniform latency low"),
    (lambda: Uniform(2, 1), "Uniform latency high must be a finite number >= 2"),
    (lambda: LongTail(-1), "LongTail latency median"),
    (lambda: LongTail(1, -0.5), "LongTail latency spread"),
    (lambda: LongTail(1, 6), "LongTail latency spread must be a finite number from 0 to 5"),
])
def test_bad_latency_parameters_are_refused(make, match):
    """Latencies are numbers >= 0 (not bools, not strings, not nan); Uniform needs low <= high."""
    with pytest.raises(ValueError, match=match):
        make()


def test_latency_must_be_a_model():
    """A bare number is not a latency model: the error names the models to use."""
    with pytest.raises(ValueError, match="latency must be one of Constant, Uniform, LongTail"):
        Network(latency=1)
    with pytest.raises(ValueError, match="latency of link a->b must be one of"):
        Network(links={("a", "b"): 2.0})


def test_latency_models_print_readably():
    """Models describe themselves in words."""
    assert str(Constant(1)) == "constant 1"
    assert str(Uniform(0.5, 1.5)) == "uniform 0.5..1.5"
    assert str(LongTail(1, 0.8)) == "long tail (median 1, spread 0.8)"


# ---- probabilities --------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["loss", "duplicate"])
@pytest.mark.parametrize("bad", [-0.1, 1.5, True, "0.1", None, float("nan")])
def test_probabilities_must_be_in_0_1(field, bad):
    """loss and duplicate are probabilities: numbers in [0, 1], checked at construction and
    whenever they change (sliders set them)."""
    with pytest.raises(ValueError, match=f"{field} must be a probability, a number from 0 to 1"):
        Network(**{field: bad})
    net = Network()
    with pytest.raises(ValueError, match=f"{field} must be a probability"):
        setattr(net, field, bad)


def test_probabilities_accept_the_bounds():
    """0 and 1 (ints or floats) are valid probabilities and are stored as floats."""
    net = Network(loss=1, duplicate=0)
    assert net.loss == 1.0 and isinstance(net.loss, float)
    net.duplicate = 1
    assert net.duplicate == 1.0


# ---- links -----------------------------------------------------------------------------------

def test_link_latency_overrides_the_default():
    """links={(src, dst): model} sets the latency of that directed link only."""
    slow = LongTail(5, 1)
    net = attached(latency=Constant(1), links={("a", "b"): slow})
    assert net.latency_of("a", "b") is slow
    assert net.latency_of("b", "a") == Constant(1)
    net.set_latency("c", "d", Constant(3))
    assert net.latency_of("c", "d") == Constant(3)


def test_unknown_node_in_links_is_refused():
    """A link naming a node that is not in the system is an error once the nodes are known."""
    net = Network(links={("a", "zed"): Constant(2)})
    with pytest.raises(ValueError, match=r"links names unknown node\(s\) \['zed'\]"):
        net._attach(["a", "b"])
    net = attached()
    with pytest.raises(ValueError, match=r"set_latency names unknown node\(s\) \['x'\]"):
        net.set_latency("x", "a", Constant(1))


# ---- partitions and cuts ----------------------------------------------------------------

def test_a_whole_network_connects_everyone():
    """Without partitions or cuts, every node reaches every node."""
    net = attached()
    assert all(net.connected(s, d) for s in "abcd" for d in "abcd")
    assert net.partition_groups() == ()


def test_partition_leftover_nodes_form_one_group():
    """Nodes named in no group end up together in one more group, listed last."""
    net = attached()
    assert net.partition([["a"], ["b"]]) == (("a",), ("b",), ("c", "d"))
    assert net.partition_groups() == (("a",), ("b",), ("c", "d"))
    assert net.connected("c", "d") and net.connected("d", "c")
    assert not net.connected("a", "b")
    assert not net.connected("a", "c") and not net.connected("c", "a")
    assert net.connected("a", "a")


def test_partition_connects_within_groups_only():
    """Two nodes can talk iff they are in the same group, both ways."""
    net = attached()
    net.partition([["a", "b"], ["c", "d"]])
    for s in "abcd":
        for d in "abcd":
            assert net.connected(s, d) == ((s in "ab") == (d in "ab"))


def test_a_new_partition_replaces_the_old_one():
    """Partitioning again sets new groups (it does not intersect with the old ones)."""
    net = attached()
    net.partition([["a", "b"]])
    net.partition([["a", "c"]])
    assert net.connected("a", "c") and net.connected("b", "d") and not net.connected("a", "b")


@pytest.mark.parametrize("groups, match", [
    ([["a", "b"], ["b", "c"]], r"partition groups overlap: 'b' is in group 1 and group 2"),
    ([["a", "b", "c", "d"]], r"at least two groups; \('a', 'b', 'c', 'd'\) is every node"),
    ([["a", "b"], ["c", "d"], []], "non-empty group"),
    ([], "non-empty group"),
    ([["a", "x"]], r"partition names unknown node\(s\) \['x'\]"),
])
def test_bad_partitions_are_refused(groups, match):
    """Groups must be non-empty, must not overlap, must name real nodes, and must split the
    system into at least two groups."""
    net = attached()
    with pytest.raises(ValueError, match=match):
        net.partition(groups)
    assert net.groups is None


def test_cut_is_one_way():
    """cut(src, dst): dst hears nothing from src, but src still hears dst."""
    net = attached()
    net.cut("a", "b")
    assert not net.connected("a", "b")
    assert net.connected("b", "a")
    assert net.connected("a", "c")


def test_bad_cuts_are_refused():
    """A cut must name two different, known nodes."""
    net = attached()
    with pytest.raises(ValueError, match=r"cut names unknown node\(s\) \['q'\]"):
        net.cut("a", "q")
    with pytest.raises(ValueError, match="cannot cut a node from itself"):
        net.cut("a", "a")


def test_heal_removes_partitions_and_cuts():
    """After heal(), everyone is connected again."""
    net = attached()
    net.partition([["a"]])
    net.cut("c", "d")
    net.heal()
    assert all(net.connected(s, d) for s in "abcd" for d in "abcd")
    assert net.partition_groups() == () and net.cuts == set()


def test_partition_before_joining_a_simulation_says_what_to_do():
    """A network that does not know its nodes yet cannot be partitioned; the error says how."""
    with pytest.raises(ValueError, match="not part of a Simulation yet"):
        Network().partition([["a"]])


def test_network_repr_lists_its_settings():
    """repr shows the latency and any loss, duplication and fifo."""
    assert repr(Network()) == "Network(latency=constant 1)"
    assert repr(Network(Uniform(1, 2), loss=0.1, duplicate=0.2, fifo=True)) == \
        "Network(latency=uniform 1..2, loss=0.1, duplicate=0.2, fifo)"
