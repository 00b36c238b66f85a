"""Pictures: space-time diagrams, topology pictures, alt text, and showing them.

Counts are checked against the trace itself (not hard-coded), so the tests state what the
picture must show whatever the protocol does: one arrow per delivery, one cross per loss,
nothing after ``upto``, the same bytes for the same input.
"""

import os
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from replib import Controls, Deliver, Fire, Network, Node, Simulation, Trace, Uniform  # noqa: E402
from replib import faults as F  # noqa: E402
from replib.protocols.forwarding import forwarding_system  # noqa: E402
from replib.viz import (build_scene, describe, message_style, palette,  # noqa: E402
                        register_message_style, short_label, show, space_time, to_png,
                        topology, topology_of)


# ---- traces to draw ---------------------------------------------------------------------------
def normal_trace():
    return Simulation(forwarding_system(3), seed=0).run()


def fault_sim():
    """Loss, a crash with restart, and a partition that heals."""
    sim = Simulation(forwarding_system(4, timeout=3), Network(loss=0.25, latency=Uniform(0.5, 1.5)),
                     faults=[F.crash("replica", at=3), F.restart("replica", at=6),
                             F.partition(["client"], at=9), F.heal(at=12)], seed=3)
    sim.run(until=25)
    return sim


def busy_trace(events=300):
    sim = Simulation(forwarding_system(40, timeout=4, think=0.2, wait_for_replica=False),
                     Network(loss=0.1, latency=Uniform(0.5, 1.5), duplicate=0.05),
                     faults=[F.crash("replica", at=10), F.restart("replica", at=14),
                             F.partition(["client"], at=20), F.heal(at=24)], seed=7)
    return sim.run(max_events=events)


def by_gid(fig, gid):
    return [a for a in fig.findobj() if a.get_gid() == gid]


def count_paths(fig, gid):
    return sum(len(c.get_paths()) for c in by_gid(fig, gid))


def count_points(fig, gid):
    total = 0
    for a in by_gid(fig, gid):
        total += len(a.get_offsets()) if hasattr(a, "get_offsets") else len(a.get_xdata())
    return total


@pytest.fixture(autouse=True)
def no_leaks():
    """Every test must leave pyplot's figure list as it found it."""
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before


# ---- space-time diagrams ----------------------------------------------------------------------
def test_one_arrow_per_delivery():
    """Every deliver event is drawn as exactly one arrowhead, and nothing else is."""
    for trace in (normal_trace(), fault_sim().trace, busy_trace()):
        fig = space_time(trace)
        assert count_paths(fig, "replib-arrowheads") == trace.count("deliver")


def test_each_loss_gets_a_cross_and_reason():
    """A lost message ends in a cross; its reason is in the alt text."""
    trace = fault_sim().trace
    drops = trace.select("drop")
    assert drops, "the fault scenario should lose messages"
    fig = space_time(trace)
    assert count_points(fig, "replib-drops") == len(drops)
    for reason in {e.detail for e in drops}:
        assert reason in fig.alt_text


def test_lost_on_arrival_at_a_down_node_ends_on_its_lane():
    """A message reaching a crashed node is drawn all the way to that node's lane."""
    sim = Simulation(forwarding_system(2), faults=[F.crash("replica", at=0.5)], seed=0)
    trace = sim.run(until=10)
    scene = build_scene(trace)
    down = [a for a in scene.arrows if a.fate == "dropped" and a.detail == "replica is down"]
    assert down and all(a.frac == 1.0 for a in down)


def test_redelivery_draws_an_arrow_each_time():
    """In controlled mode a duplicating network may deliver one message twice: two arrows."""
    sim = Simulation(forwarding_system(1), controls=Controls(duplicate=True))
    sim.perform(next(a for a in sim.enabled() if isinstance(a, Fire)))
    request = next(a for a in sim.enabled() if isinstance(a, Deliver))
    sim.perform(request)
    sim.perform(request)
    delivers = sim.trace.select("deliver")
    assert len(delivers) == 2 and delivers[0].msg_id == delivers[1].msg_id
    fig = space_time(sim.trace)
    assert count_paths(fig, "replib-arrowheads") == 2
    copies = [a for a in fig.replib_scene.arrows if a.fate == "delivered"]
    assert [a.copy for a in copies] == [None, "again"]
    assert "duplicate delivery" in fig.replib_legend


def test_network_duplicates_are_drawn_as_copies():
    """A duplicate event makes a second copy, drawn from the same send point."""
    trace = Simulation(forwarding_system(2), Network(duplicate=1.0), seed=1).run(until=20)
    dups = trace.select("duplicate")
    assert dups
    scene = build_scene(trace)
    copies = [a for a in scene.arrows if a.copy == "duplicate"]
    assert len(copies) == len(dups)
    sends = {e.msg_id: e for e in trace.select("send")}
    for d, a in zip(dups, copies):
        assert a.t0 == sends[d.detail].time


def test_upto_hides_later_steps():
    """With upto=k only events of steps 0..k are drawn; later deliveries appear in flight."""
    trace = normal_trace()
    k = len(trace.steps) // 2
    last = trace.steps[k + 1]
    fig = space_time(trace, upto=k)
    shown = trace.events[:last]
    assert count_paths(fig, "replib-arrowheads") == sum(e.kind == "deliver" for e in shown)
    delivered_later = {e.msg_id for e in trace.events[last:] if e.kind == "deliver"}
    sent_before = {e.msg_id for e in shown if e.kind == "send"}
    flying = {a.msg_id for a in fig.replib_scene.arrows if a.fate == "in flight"}
    assert flying == sent_before & delivered_later
    now = trace.events[last - 1].time
    assert all(a.t1 <= now + trace.duration for a in fig.replib_scene.arrows)
    assert f"steps 0 to {k}" in fig.alt_text
    # frames of a player line up: the same axes and legend at every step
    other = space_time(trace, upto=k + 2)
    whole = space_time(trace)
    assert fig.axes[0].get_xlim() == other.axes[0].get_xlim() == whole.axes[0].get_xlim()
    assert fig.replib_legend == other.replib_legend


def test_upto_and_highlight_are_checked():
    trace = normal_trace()
    n = len(trace.steps)
    for bad in (n, -1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="upto"):
            space_time(trace, upto=bad)
    with pytest.raises(ValueError, match="highlight"):
        space_time(trace, highlight=n)
    with pytest.raises(ValueError, match="later than upto"):
        space_time(trace, upto=2, highlight=3)
    with pytest.raises(ValueError, match="Trace"):
        space_time([1, 2, 3])
    with pytest.raises(ValueError, match="width"):
        space_time(trace, width=0)


def test_highlight_emphasises_the_step():
    """The highlighted step's messages are drawn thicker, and a marker line shows its time."""
    trace = normal_trace()
    step = [e.step for e in trace.events if e.kind == "deliver"][3]
    fig = space_time(trace, upto=step + 1, highlight=step)
    widths = by_gid(fig, "replib-messages")[0].get_linewidths()
    assert max(widths) > min(widths)
    assert by_gid(fig, "replib-highlight")
    assert any(t.startswith(f"step {step}: server receives") or t.startswith(f"step {step}:")
               for t in fig.replib_texts)


def test_crash_restart_partition_are_marked_and_described():
    sim = fault_sim()
    fig = space_time(sim.trace)
    assert count_points(fig, "replib-crash") == 1
    assert count_points(fig, "replib-restart") == 1
    assert by_gid(fig, "replib-lanes-down")
    # each node of the partition gets a tinted lane for the partition's span
    assert len(by_gid(fig, "replib-partition")) == len(sim.trace.nodes)
    assert by_gid(fig, "replib-partition-wall")
    alt = fig.alt_text
    assert "replica crashed at t=3" in alt and "replica restarted at t=6" in alt
    assert "partitioned at t=9 into {client} and {server, replica} until t=12" in alt
    assert alt.startswith("Space-time diagram of 3 nodes (client, server and replica)")
    assert describe(sim.trace) == alt


def test_cut_and_drop_rule_are_noted():
    sim = Simulation(forwarding_system(2), faults=[F.cut("server", "replica", at=1.2),
                                                   F.drop("Reply", at=0), F.heal(at=5)], seed=0)
    fig = space_time(sim.run(until=10))
    assert count_points(fig, "replib-cuts") == 1
    assert "replica stopped hearing from server" in fig.alt_text
    assert "drop 1 Reply(s)" in fig.alt_text


def test_timers_and_client_operations():
    trace = normal_trace()
    fig = space_time(trace)
    assert count_points(fig, "replib-timers") == trace.count("timer")
    ops = trace.history()
    assert len(by_gid(fig, "replib-ops")[0].get_segments()) == len(ops)
    assert f"client completed {len(ops)} of {len(ops)} operations" in fig.alt_text


def test_labels_are_short_and_fonts_are_large():
    trace = normal_trace()
    fig = space_time(trace, title="t")
    texts = fig.replib_texts
    assert any(t.startswith("Request") for t in texts)
    assert all(len(line) <= 40 for t in texts for line in t.split("\n"))
    assert "t" in texts and "time" in texts                 # title and axis label
    assert min(fig.replib_text_sizes) >= 11
    for t in fig.findobj(matplotlib.text.Text):
        if t.get_text():
            assert t.get_fontsize() >= 11, t.get_text()


def test_short_label():
    from replib.clients import Request
    msg = Request("client", 0, ("write", 1))
    assert short_label(msg, "client", "server") == "Request(0, (write,1))"
    assert short_label(msg) == "Request(client, 0, (write,1))"
    assert len(short_label(Request("c", 1, "x" * 100), limit=20)) == 20


def test_empty_and_start_only_traces_draw():
    for trace in (Trace(["a", "b"], {"a": "A", "b": "B"}, {}),
                  Simulation(forwarding_system(0), seed=0).run()):
        fig = space_time(trace)
        assert "no messages" in fig.alt_text
        assert to_png(fig).startswith(b"\x89PNG")


def test_messages_to_oneself():
    @dataclass(frozen=True)
    class Note:
        n: int

    class Selfish(Node):
        def on_start(self):
            self.send(self.id, Note(1))

        def on_note(self, msg, sender):
            pass

    trace = Simulation([Selfish("solo")], seed=0).run()
    fig = space_time(trace)
    assert count_paths(fig, "replib-arrowheads") == 1


def test_given_axes_are_used():
    fig, ax = plt.subplots()
    try:
        assert space_time(normal_trace(), ax=ax, legend=False) is fig
        assert by_gid(fig, "replib-messages")
    finally:
        plt.close(fig)


def test_same_input_same_png():
    """Determinism: the same trace gives byte-identical pictures."""
    sim = fault_sim()
    a = to_png(space_time(sim.trace, upto=10, highlight=10))
    b = to_png(space_time(fault_sim().trace, upto=10, highlight=10))
    assert a == b
    assert to_png(topology_of(sim)) == to_png(topology_of(fault_sim()))


def test_draw_time_of_a_300_event_trace(capsys):
    """Printed, not asserted: how long the trace player waits for one frame (best of 5,
    next to a blank matplotlib figure of the same size, since machines differ)."""
    from matplotlib.figure import Figure

    trace = busy_trace(300)
    assert 295 <= len(trace) <= 310      # a step's events are never split
    middle = len(trace.steps) // 2

    def blank():
        fig = Figure(figsize=(10.5, 6.2), dpi=100)
        fig.add_subplot().plot([0, 1])
        to_png(fig)

    def best(draw):
        draw()                             # warm caches (fonts, glyph outlines)
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            draw()
            runs.append(time.perf_counter() - start)
        return min(runs) * 1000

    whole = best(lambda: to_png(space_time(trace)))
    frame = best(lambda: to_png(space_time(trace, upto=middle, highlight=middle)))
    base = best(blank)
    with capsys.disabled():
        print(f"\n[viz] {len(trace)}-event space-time diagram incl. PNG: whole trace "
              f"{whole:.0f} ms, player frame {frame:.0f} ms; blank figure {base:.0f} ms "
              f"(ratios {whole / base:.2f}, {frame / base:.2f})")


# ---- topology ---------------------------------------------------------------------------------
def test_topology_one_node_each_and_crashed_hollow():
    fig = topology(["a", "b", "c"], roles={"a": "Client", "b": "Server", "c": "Replica"},
                   crashed=["c"], states={"b": {"log": [1, 2]}})
    nodes = by_gid(fig, "replib-nodes")[0]
    assert len(nodes.get_offsets()) == 3
    faces = nodes.get_facecolors()
    assert tuple(faces[2][:3]) == (1.0, 1.0, 1.0)          # crashed: hollow
    assert tuple(faces[0][:3]) != (1.0, 1.0, 1.0)
    assert count_points(fig, "replib-crashed") == 1
    assert "Crashed: c" in fig.alt_text and "b: log=[1,2]" in fig.alt_text


def test_topology_partition_crosses_out_links_between_groups():
    fig = topology(["a", "b", "c", "d"], groups=[["a", "b"]])
    assert len(by_gid(fig, "replib-side")) == 2            # {a, b} and the rest {c, d}
    assert count_points(fig, "replib-cut-links") == 4        # a-c, a-d, b-c, b-d
    assert "partitioned into {a, b} and {c, d}" in fig.alt_text


def test_topology_checks_its_input():
    with pytest.raises(ValueError, match="unknown"):
        topology(["a", "b"], groups=[["a", "x"]])
    with pytest.raises(ValueError, match="overlap"):
        topology(["a", "b", "c"], groups=[["a", "b"], ["b", "c"]])
    with pytest.raises(ValueError, match="unknown"):
        topology(["a", "b"], crashed=["z"])
    with pytest.raises(ValueError, match="duplicate"):
        topology(["a", "a"])
    with pytest.raises(ValueError, match="at least one"):
        topology([])
    with pytest.raises(ValueError, match="Simulation"):
        topology_of(["a"])


def test_topology_of_reads_the_simulation():
    sim = Simulation(forwarding_system(1), seed=0)
    sim.crash("replica")
    sim.partition(["client"])
    fig = topology_of(sim)
    assert "Crashed: replica" in fig.alt_text
    assert "{client} and {server, replica}" in fig.alt_text
    assert "client (Client)" not in fig.alt_text       # role equal to the id is not repeated
    fig = topology(sim.trace)
    assert len(by_gid(fig, "replib-nodes")[0].get_offsets()) == 3


def test_topology_layout_is_deterministic():
    a = to_png(topology([f"n{i}" for i in range(15)], seed=3))
    b = to_png(topology([f"n{i}" for i in range(15)], seed=3))
    assert a == b


# ---- palette and showing ------------------------------------------------------------------------
def test_message_styles_are_stable_and_distinct():
    names = ["Request", "Forward", "ForwardAck", "Reply"]
    styles = [message_style(n) for n in names]
    assert len({s["color"] for s in styles}) == len(names)
    assert all(s["color"] in palette.OKABE_ITO for s in styles)
    assert message_style("Zorp") == message_style("Zorp")
    # every protocol's messages differ in colour and line style taken together
    for protocol in (["BeginCommit", "Phase2a", "Phase2b", "Prepare1a", "Promise1b", "Commit",
                      "Abort"],
                     ["CanCommit", "Vote", "PreCommit", "PreCommitAck", "DoCommit", "Ack",
                      "Abort"],
                     ["Prepare", "Vote", "Commit", "Abort", "Ack", "Ask", "Answer"]):
        looks = {(message_style(n)["color"], message_style(n)["style_name"]) for n in protocol}
        assert len(looks) == len(protocol), protocol
    assert message_style("ZorpAck")["style_name"] == "dashed"
    register_message_style("Zorp", palette.BLUE, "dotted")
    assert message_style("Zorp")["color"] == palette.BLUE
    with pytest.raises(ValueError):
        register_message_style("Zorp", palette.BLUE, "wiggly")


def test_show_outside_a_notebook_prints_the_description(capsys):
    fig = plt.figure()
    fig.alt_text = "A test figure."
    show(fig)                                   # closes the pyplot figure
    assert "A test figure." in capsys.readouterr().out
    show(space_time(normal_trace()))
    assert "Space-time diagram" in capsys.readouterr().out
    with pytest.raises(ValueError):
        show("not a figure")


def test_show_in_ipython_sends_png_with_alt_text():
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    sent = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: sent.append((data, metadata))
    try:
        fig = space_time(normal_trace())
        show(fig)
    finally:
        InteractiveShell.clear_instance()
    (image, meta), (details, _) = sent
    assert image["text/plain"] == fig.alt_text
    assert meta["image/png"]["alt"] == fig.alt_text
    import base64
    assert base64.b64decode(image["image/png"]).startswith(b"\x89PNG")
    assert "<details>" in details["text/html"]
