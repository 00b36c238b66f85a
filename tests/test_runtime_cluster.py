"""Nodes as real processes (``replib.runtime.Cluster``): they run, are killed -9 and restart
from their disks, meet partitions, loss, duplication and delay from the router, stop by
themselves, and say clearly what went wrong.  Every test leaves no process behind."""

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from replib.faults import crash, heal, restart
from replib.history import linearizable_kv
from replib.network import Constant, Network
from replib.protocols.multipaxos import multipaxos_system, slot_agreement
from replib.runtime import Cluster, Registry, running_processes, split
from replib.runtime.process import NodeConfig, config_bytes
from runtime_support import no_process_left_behind  # noqa: F401 - an autouse fixture

pytestmark = pytest.mark.runtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT = 0.02


def system(clients=2, ops=6, **options):
    return multipaxos_system(3, clients=clients, ops=ops, client_timeout=8.0, **options)


def all_answered(total):
    return lambda cluster: sum(cluster.responses().values()) >= total


def alive(pid) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except FileNotFoundError:
        return False


def test_multipaxos_runs_as_processes_and_answers_every_client():
    """The builder's nodes, unchanged, each in its own process: every operation is answered,
    the replicas' disks hold one log, the history is linearizable, and the recorded events
    make a Trace the course's diagram draws."""
    from replib.viz import space_time
    with Cluster(system(), time_unit=UNIT) as cluster:
        pids = cluster.alive()
        assert len(pids) == 5 and os.getpid() not in pids
        cluster.run(until=400, stop_when=all_answered(12))
        trace = cluster.trace()
        disks = cluster.disks()
    history = trace.history()
    assert len(history) == 12 and all(op.response is not None for op in history)
    assert linearizable_kv(history)
    assert slot_agreement(disks) and all(len(r.log) >= 12 for r in disks[:3])
    fates = [m["fate"] for m in trace.messages()]
    assert fates.count("delivered") >= 60 and "in flight" not in fates[:-20]
    assert trace.count("start") == 5 and trace.roles["r1"] == "Replica"
    fig = space_time(trace)
    assert "r1" in fig.alt_text


def test_a_killed_node_restarts_from_its_disk():
    """kill -9 r1 (the leader): messages for it are dropped while it is down; a new process
    reads r1's disk (its promise and log are back) and runs on_restart; the clients carry on
    with another leader and the history stays linearizable."""
    with Cluster(system(clients=2, ops=40, think=1.0), time_unit=UNIT) as cluster:
        cluster.run(until=15)
        before = cluster.disk("r1")
        old_pid = cluster.processes["r1"].pid
        cluster.kill("r1")
        assert not alive(old_pid)
        cluster.run(until=30)
        cluster.restart("r1")
        assert cluster.processes["r1"].pid != old_pid
        after = cluster.disk("r1")
        assert after.promised >= before.promised and after.log[:len(before.log)] == before.log
        cluster.run(until=80)
        trace = cluster.trace()
    kinds = [(e.kind, e.node) for e in trace.events if e.kind in ("crash", "restart")]
    assert kinds == [("crash", "r1"), ("restart", "r1")]
    assert any(e.detail == "r1 is down" for e in trace.select("drop"))
    assert linearizable_kv(trace.history())
    assert len(trace.history()) > 20


def test_partitions_cuts_and_heals_happen_on_schedule():
    """The same fault objects as the simulator's, at= in time units: the router drops what
    crosses a cut or a partition and records why."""
    faults = split(["r1"], ["r2", "r3"], at=5) + [heal(at=15)]
    with Cluster(system(clients=1, ops=100, think=1.0), time_unit=UNIT) as cluster:
        cluster.run(until=20, faults=faults)
        cluster.partition(["r1", "c1"], ["r2", "r3"])
        cluster.run(until=25)
        cluster.heal()
        cluster.run(until=30)
        trace = cluster.trace()
    reasons = {e.detail for e in trace.select("drop")}
    assert {"link cut", "partition"} <= reasons
    cuts = trace.select("cut")
    assert len(cuts) == 4 and all(4.9 < e.time < 8 for e in cuts)
    assert [e.kind for e in trace.events if e.kind in ("partition", "heal")] == \
        ["heal", "partition", "heal"]
    assert linearizable_kv(trace.history())


@pytest.mark.parametrize("keep_gaps", [False, True])
def test_keep_gaps_moves_the_schedule_back_by_what_a_slow_restart_took(keep_gaps):
    """A restart waits for its process (hundreds of ms: many time units of 5 ms).  By the
    clock, the heal due one unit after the restart then happens at once; with keep_gaps it
    still comes one unit after the restart, and so does the end."""
    faults = [crash("r3", at=2), restart("r3", at=3), heal(at=4)]
    with Cluster(system(clients=1, ops=4), time_unit=0.005) as cluster:
        cluster.run(until=6, faults=faults, keep_gaps=keep_gaps)
        ended = cluster.now
        log = list(cluster.log)
    times = {line.split(": ", 1)[1]: float(line[2:].split(":", 1)[0]) for line in log}
    took = times["restarted r3"] - 3
    assert took > 5                     # the point of the test: the restart ran late
    moved = [line for line in log if "the rest of the schedule moves" in line]
    if keep_gaps:
        assert times["heal the network"] >= times["restarted r3"] + 0.9
        assert ended >= 6 + took - 0.5
        assert len(moved) == 1
    else:
        assert times["heal the network"] < times["restarted r3"] + 0.9
        assert not moved


def test_a_run_whose_schedule_missed_its_target_runs_again_at_twice_the_time_unit():
    """run_test's scenario check: what it reports makes the harness run again, slower, at
    most ``attempts`` runs in all; the reasons stay with the result."""
    from replib.runtime.harness import run_test
    runs = []

    def never_as_planned(trace):
        runs.append(trace)
        return [f"run {len(runs)} missed"]
    run = run_test(system(clients=1, ops=2), until=3, scenario=never_as_planned, attempts=2,
                   time_unit=0.005)
    assert len(runs) == 2 and run.stats["time_unit"] == 0.01
    assert run.reruns == ["at time unit 0.005 s, run 1 missed"]
    assert "(ran again: at time unit 0.005 s, run 1 missed)" in run.summary()
    assert run.trace is None
    with pytest.raises(ValueError, match="attempts"):
        run_test(system(), attempts=0)


def test_loss_duplication_and_delay_come_from_the_network_object():
    """A replib Network's loss, duplicate and latency (in time units) are applied by the
    router; duplicates and losses are recorded; delivery takes at least the latency."""
    network = Network(latency=Constant(1.0), loss=0.1, duplicate=0.2)
    with Cluster(system(clients=2, ops=10), time_unit=UNIT, network=network, seed=3) as cluster:
        cluster.run(until=300, stop_when=all_answered(20))
        trace = cluster.trace()
    assert trace.count("duplicate") > 0
    assert any(e.detail == "random loss" for e in trace.select("drop"))
    latencies = [m["at"] - m["sent"] for m in trace.messages() if m["fate"] == "delivered"]
    assert min(latencies) >= 0.95
    assert linearizable_kv(trace.history())


def test_the_router_forwards_at_most_max_messages():
    with Cluster(system(clients=1, ops=100), time_unit=UNIT, max_messages=30) as cluster:
        cluster.run(until=20)
        stats = cluster.stats()
    assert stats["forwarded"] == 30 and stats["dropped"] > 0


def test_processes_stop_by_themselves_at_the_hard_deadline():
    cluster = Cluster(system(clients=1, ops=1000, think=1.0), time_unit=UNIT, max_seconds=4)
    try:
        cluster.start()
        pids = cluster.alive()
        limit = time.monotonic() + 15
        while any(alive(p) for p in pids) and time.monotonic() < limit:
            time.sleep(0.1)
        assert not any(alive(p) for p in pids)
        with pytest.raises(RuntimeError, match="deadline"):
            cluster.run(until=1)
    finally:
        cluster.close()


PARENT = textwrap.dedent("""
    import json, sys, time
    from replib.protocols.multipaxos import multipaxos_system
    from replib.runtime import Cluster
    cluster = Cluster(multipaxos_system(3, clients=1, ops=1000, think=1.0), time_unit=0.02)
    cluster.start()
    print(json.dumps([cluster.alive(), cluster.directory]), flush=True)
    if sys.argv[1] == "hang":
        time.sleep(60)
    # "exit": leave without stopping the cluster; atexit must do it
""")


@pytest.mark.parametrize("how", ["kill -9 the parent", "the parent exits"])
def test_no_node_outlives_its_parent(how):
    """A parent killed -9 cannot clean up: its nodes see their stdin close and stop.  A
    parent that forgets to stop its cluster has atexit do it."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    parent = subprocess.Popen([sys.executable, "-c", PARENT, "hang" if "kill" in how else "exit"],
                              stdout=subprocess.PIPE, env=env, start_new_session=True)
    directory = None
    try:
        pids, directory = json.loads(parent.stdout.readline())
        assert len(pids) == 4
        if "kill" in how:
            os.killpg(parent.pid, 9)
        parent.wait(timeout=30)
        limit = time.monotonic() + 15
        while any(alive(p) for p in pids) and time.monotonic() < limit:
            time.sleep(0.1)
        assert not any(alive(p) for p in pids)
        assert os.path.exists(directory) == ("kill" in how)   # atexit removed it
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, 9)
            parent.wait()
        parent.stdout.close()
        if directory:
            shutil.rmtree(directory, ignore_errors=True)


def test_a_failing_test_leaves_no_process_behind():
    """An exception inside the with block still kills every process group."""
    with pytest.raises(ZeroDivisionError):
        with Cluster(system(), time_unit=UNIT) as cluster:
            pids = cluster.alive()
            1 / 0
    assert not any(alive(p) for p in pids) and not running_processes()


# ---- bad input: clear errors ---------------------------------------------------------------

def test_an_unregistered_message_type_stops_the_run_and_says_which():
    registry = Registry.for_nodes(system())
    registry._by_name.pop("Promise")
    with Cluster(system(), time_unit=UNIT, registry=registry) as cluster:
        with pytest.raises(RuntimeError, match=r"stopped unexpectedly.*Promise .* is not "
                                                r"registered.*registry.register\(Promise\)"):
            cluster.run(until=100)


def test_an_occupied_port_is_a_clear_error():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"router cannot use UDP port 127.0.0.1:{port}: "
                                               f"another program holds it"):
            Cluster(system(), router_port=port).start()
        with pytest.raises(RuntimeError, match=f"'r2' cannot use UDP port 127.0.0.1:{port}: "
                                               f"another program holds it"):
            Cluster(system(), ports={"r2": port}).start()


def test_a_node_that_cannot_reach_its_router_says_so(tmp_path):
    """A node process whose router is gone (nothing listens on the port) exits with a
    message naming the address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    node = system()[0]
    config = NodeConfig(node=node, ids=tuple(n.id for n in system()),
                        registry=Registry.for_nodes([node]), router=("127.0.0.1", closed),
                        port=0, token="t", incarnation=0, seed=0, time_unit=UNIT,
                        deadline=time.monotonic() + 20, disk_path=str(tmp_path / "d"),
                        events_path=str(tmp_path / "e"))
    proc = subprocess.Popen([sys.executable, "-m", "replib.runtime"], stdin=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        proc.stdin.write(config_bytes(config))
        proc.stdin.flush()                       # and keep it open, as a Cluster does
        assert proc.wait(timeout=30) == 2
        assert f"cannot reach the router at 127.0.0.1:{closed}: nothing listens there" in \
            proc.stderr.read().decode()
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()
        proc.stderr.close()


def test_a_corrupted_disk_stops_the_restart_naming_file_and_line():
    with Cluster(system(clients=1, ops=100, think=1.0), time_unit=UNIT) as cluster:
        cluster.run(until=10)
        cluster.kill("r2")
        with open(cluster.path("r2", "disk"), "a") as f:
            f.write("this is not json\n{}\n")
        with pytest.raises(RuntimeError, match=r"r2 could not restart \(exit code 2\): "
                                                r"\S*r2.disk.jsonl, line \d+: not valid JSON.*"
                                                r"corrupted"):
            cluster.restart("r2")


def test_arguments_are_checked():
    from replib.node import Node

    class Local(Node):
        pass
    Local.__module__ = "__main__"
    with pytest.raises(ValueError, match="time_unit"):
        Cluster(system(), time_unit=0)
    with pytest.raises(ValueError, match="unknown node 'r9'"):
        Cluster(system(), ports={"r9": 1})
    with pytest.raises(ValueError, match="port of r1"):
        Cluster(system(), ports={"r1": 70000})
    with pytest.raises(ValueError, match="defined in __main__"):
        Cluster([Local("a")])
    with pytest.raises(ValueError, match="cannot go on the wire"):
        Cluster([Local.__mro__[1]("a b")])
    with pytest.raises(RuntimeError, match="start the cluster first"):
        Cluster(system()).kill("r1")
    with Cluster(system(clients=1, ops=2), time_unit=UNIT) as cluster:
        with pytest.raises(ValueError, match="no at= time"):
            cluster.run(until=5, faults=[crash("r1", when=lambda s: True)])
        with pytest.raises(ValueError, match="no node 'r7'"):
            cluster.kill("r7")
        with pytest.raises(ValueError, match="r1 is running"):
            cluster.restart("r1")
        with pytest.raises(ValueError, match="past the cluster's hard deadline"):
            cluster.run(until=10 ** 6)
