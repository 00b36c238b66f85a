"""Each case issue 18 lists, with the message a reader now gets: the parameter, what it got,
and what is allowed.  (tests/test_bad_input.py tries many more inputs of the same kinds;
the widgets' case is in tests/test_widgets_respond.py, the checker's in
tests/test_check_limits.py.)"""

import math
import re

import pytest

from replib.actions import Controls
from replib.faults import Fault, crash, drop
from replib.network import Constant, LongTail, Network, Uniform
from replib.node import Node
from replib.protocols.forwarding import forwarding_system
from replib.protocols.paxos import Prepare, paxos_system
from replib.protocols.replication import replication_system
from replib.protocols.twopc import twopc_system
from replib.quorums import quorums
from replib.sim import Simulation

from replib.exercises.core import time_limit

PAXOS_MESSAGES = "Accept, Accepted, Prepare, Promise, Reject"


def refused(call, message):
    """``call()`` raises a ValueError with exactly ``message`` in it, at once."""
    with time_limit(10), pytest.raises(ValueError, match=re.escape(message)):
        call()


# ---- hangs: sizes are capped -----------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: paxos_system(acceptors=10**9),
     "acceptors must be at most 100 here (more would not finish in seconds), got 1000000000"),
    (lambda: twopc_system(participants=10**8),
     "participants must be at most 100 here (more would not finish in seconds), got 100000000"),
    (lambda: replication_system(writes=10**9),
     "writes must be at most 10,000 here (more would not finish in seconds), got 1000000000"),
])
def test_builder_sizes_are_capped(call, message):
    refused(call, message)


def test_the_caps_leave_room_for_every_size_the_course_uses():
    assert len(paxos_system(acceptors=100, proposers=100, learners=100)) == 300
    assert len(replication_system(writes=10_000)) == 4


# ---- infinite and NaN times ------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: crash("a1", at=math.inf), "crash: at= must be a finite number >= 0, got inf"),
    (lambda: Constant(math.inf), "Constant latency delay must be a finite number >= 0, got inf"),
    (lambda: Uniform(0, math.inf), "Uniform latency high must be a finite number >= 0, got inf"),
    (lambda: LongTail(math.inf, 1),
     "LongTail latency median must be a finite number >= 0, got inf"),
    (lambda: Simulation(forwarding_system()).run(until=math.nan),
     "until must be a finite time >= 0 or a function of the simulation (None: until nothing "
     "is left), got nan"),
    (lambda: Simulation(forwarding_system()).run(until=math.inf), "until must be a finite time"),
    (lambda: replication_system(think=math.nan), "think must be a finite number >= 0, got nan"),
    (lambda: replication_system(heartbeat=math.inf),
     "heartbeat must be a finite number > 0, got inf"),
    (lambda: replication_system(timeout=math.inf), "timeout must be a finite number > 0, got inf"),
])
def test_times_are_finite_everywhere(call, message):
    refused(call, message)


def test_a_timer_set_to_inf_is_refused_naming_the_node_and_the_timer():
    """The handler's error says which node, which step and which timer."""
    from helpers import Ping

    class Sleeper(Node):
        def on_start(self):
            self.set_timer(Ping(1), math.inf)

        def on_ping(self, timer):
            pass

    refused(lambda: Simulation([Sleeper("s")]),
            "s: the delay of Ping(n=1) must be a finite number >= 0, got inf")


# ---- raw tracebacks --------------------------------------------------------------------------

def test_a_single_fault_is_taken_as_a_list_of_one():
    """Simulation(nodes, faults=crash(...)) runs as faults=[crash(...)] does."""
    one = Simulation(forwarding_system(3), faults=crash("replica", at=4), seed=1).run()
    listed = Simulation(forwarding_system(3), faults=[crash("replica", at=4)], seed=1).run()
    assert one.digest() == listed.digest() and one.count("crash") == 1


def test_a_node_that_never_called_super_init_is_told_what_is_missing():
    class Forgetful(Node):
        def __init__(self, name):
            self.name = name

    refused(lambda: Simulation([Forgetful("x")]),
            "Forgetful has no id: its __init__ must call super().__init__(id) (Node.__init__ "
            "sets the id) before setting its own fields")


def test_states_at_a_step_past_the_end_names_the_valid_range():
    trace = Simulation(forwarding_system(1), seed=1).run()
    last = len(trace.steps) - 1
    refused(lambda: trace.states_at(10**6),
            f"step must be a whole number from -1 to {last} (this trace has {last + 1} steps), "
            f"got 1000000")
    assert trace.states_at(last) and trace.states_at(-1)


# ---- silent nonsense -------------------------------------------------------------------------

def test_a_drop_of_a_message_type_no_node_handles_is_refused_listing_the_known_ones():
    """drop('Prepar') would drop nothing: refused when the Simulation starts (a fault is made
    before the system), and when applied later."""
    refused(lambda: Simulation(paxos_system(), faults=[drop("Prepar", at=0)]),
            "fault 'drop 1 Prepar(s) at t=0': no node here handles a message called 'Prepar', "
            f"so it would drop nothing; the message types here are: {PAXOS_MESSAGES}")
    refused(lambda: Simulation(paxos_system()).apply(drop("prepare")),
            f"called 'prepare', so it would drop nothing; the message types here are: "
            f"{PAXOS_MESSAGES}")
    refused(lambda: Simulation(paxos_system()).apply(drop("RetryTimeout")),   # a timer
            "no node here handles a message called 'RetryTimeout'")
    sim = Simulation(paxos_system(), faults=[drop(Prepare, count=3, at=0)], seed=1)
    assert sum(e.detail == "dropped by the fault schedule" for e in sim.run().events) == 3


@pytest.mark.parametrize("call, message", [
    (lambda: quorums(["n1", "n2"], 1, failed="n1"),
     "failed must be a list of node names, e.g. ['n1'], not the single string 'n1' (which "
     "would be read as its characters)"),
    (lambda: Controls(crashable="a1"),
     "crashable must be a list of node names, e.g. ['a1'], not the single string 'a1'"),
    (lambda: quorums(["a", "a", "b"], 2),
     "nodes must name each node once, got ['a'] more than once"),
    (lambda: Controls(drop="yes"), "drop must be True or False, got 'yes'"),
    (lambda: Network(fifo="no"), "fifo must be True or False, got 'no'"),
    (lambda: drop(count=True), "drop: count must be a whole number >= 1, got True"),
])
def test_lists_booleans_and_counts_are_checked(call, message):
    refused(call, message)


def test_a_fault_made_by_hand_is_checked_like_one_from_the_functions():
    refused(lambda: Fault("cut", ("a", "a")), "cut: src and dst must be two different nodes")
    refused(lambda: Fault("partition", (("a", "a"),)),
            "partition group 1 must name each node once")
