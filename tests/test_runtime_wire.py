"""The runtime's encodings, without processes: messages on the wire (JSON through a registry
of types, never pickle), stable fields on disk (fsynced JSON lines, only what changed), and
the events that become a Trace."""

import json
import math
from dataclasses import dataclass

import pytest

from helpers import Ping, Pong
from replib.protocols.multipaxos import Accept, Prepare, Promise, Replica, multipaxos_system
from replib.runtime.disk import Disk
from replib.runtime.events import build_trace, event_line, read_events
from replib.runtime.wire import (MAX_DATAGRAM, Registry, decode_message, dumps, loads,
                                 message_datagram, split_message)

pytestmark = pytest.mark.runtime


@dataclass(frozen=True)
class Blob:
    data: object


REG = Registry([Ping, Pong, Blob, Accept, Prepare, Promise])


@pytest.mark.parametrize("value", [
    None, True, 0, -7, 2 ** 70, 1.5, "x", "", (), (1, "a", None), ((1, (2, 3)), "b"),
    [1, [2]], {"a": 1, 3: (4, 5), (1, 2): None}, {1, 2}, frozenset({("a", 1)}),
    Ping(3), Blob((Ping(1), {"k": [Pong(2)]})), Promise(3, ((1, (3, ("c1", 0, ("write", "x", 1)))),)),
])
def test_values_come_back_equal_and_of_the_same_kind(value):
    """What goes on the wire comes back equal, with tuples as tuples, lists as lists, sets as
    sets and dataclasses as the same class."""
    back = loads(dumps(value, REG), REG)
    assert back == value and type(back) is type(value)


def test_frozen_node_state_encodes_as_the_containers_it_stands_for():
    """A node's frozen state (FrozenList, FrozenDict, FrozenSet) goes as list, dict and set."""
    from replib.state import freeze
    value = freeze({"log": [1, 2], "votes": {(1, 2)}, "kv": {"x": 1}})
    assert loads(dumps(value, REG), REG) == {"log": [1, 2], "votes": {(1, 2)}, "kv": {"x": 1}}


@pytest.mark.parametrize("value, words", [
    (math.nan, "NaN"), (math.inf, "infinity"), (object(), "cannot encode"),
    (Replica("r1", ["r1"], 0), "cannot encode"),
])
def test_values_without_a_wire_form_are_refused(value, words):
    with pytest.raises(ValueError, match=words):
        dumps(value, REG)


def test_an_unregistered_message_type_is_refused_when_sent():
    """The error names the type and says how to register it."""
    @dataclass(frozen=True)
    class Secret:
        x: int
    with pytest.raises(ValueError, match=r"Secret .* is not registered.*registry.register\(Secret\)"):
        message_datagram("r2", "r1.0.1", Secret(1), REG)


def test_an_unregistered_message_type_is_refused_when_received():
    body = b'{"$type": "Exec", "cmd": "rm -rf /"}'
    with pytest.raises(ValueError, match=r"refused a message of type 'Exec'.*register"):
        decode_message(body, REG)


@pytest.mark.parametrize("body, words", [
    (b"\x80\x04\x95", "not valid JSON"),                       # a pickle's first bytes
    (b'{"$type": "Ping", "n": 1, "evil": 2}', "does not fit"),
    (b'{"$type": "Ping"}', "does not fit"),
    (b'{"n": 1}', "tagged"),
    (b'{"$set": [[1, {"$list": []}]]}', r"\$set"),             # an unhashable set element
    (b"[1, 2]", "registered dataclass"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|not valid JSON"),
])
def test_bad_bodies_are_value_errors(body, words):
    """Whatever arrives, decoding either builds a registered message or raises ValueError."""
    with pytest.raises(ValueError, match=words):
        decode_message(body, REG)


def test_registry_for_nodes_finds_a_protocols_messages_timers_and_client_types():
    names = Registry.for_nodes(multipaxos_system(3, clients=1)).names()
    assert {"Prepare", "Promise", "Accept", "Accepted", "Decided", "Heartbeat", "Request",
            "Reply", "LeaderTimeout", "RequestTimeout"} <= set(names)


def test_two_types_with_one_name_are_refused():
    from replib.protocols import paxos
    with pytest.raises(ValueError, match="two message types are called Prepare"):
        Registry([Prepare, paxos.Prepare])
    with pytest.raises(ValueError, match="frozen dataclass"):
        Registry([dict])


def test_datagrams_say_who_and_which_message_and_fit_in_udp():
    data = message_datagram("r2", "r1.0.7", Ping(1), REG)
    assert split_message(data) == ("r2", "r1.0.7", b'{"$type":"Ping","n":1}')
    with pytest.raises(ValueError, match="more than one UDP datagram"):
        message_datagram("r2", "r1.0.8", Blob("x" * MAX_DATAGRAM), REG)
    with pytest.raises(ValueError, match="not a message datagram"):
        split_message(b"H r1 token 0")


# ---- the disk ------------------------------------------------------------------------------

def _replica():
    r = Replica("r1", ["r1", "r2", "r3"], 0)
    r._attach(["r1", "r2", "r3"], None)
    return r


def _registry():
    return Registry.for_nodes([_replica()])


CMD = ("c1", 0, ("write", "x", 1))


def test_stable_fields_survive_a_restart_and_volatile_ones_do_not(tmp_path):
    """What the node had on disk comes back in a fresh node; its volatile fields do not."""
    path = tmp_path / "r1.disk.jsonl"
    r = _replica()
    disk = Disk(path, "r1", _registry())
    disk.load(r)
    r.promised, r.role = 3, "leader"
    r.accepted[1] = (3, CMD)
    r.votes.add((1, 3, CMD))
    assert disk.save(r) and not disk.save(r)          # nothing changed: nothing written
    r.log.append(CMD)
    r.kv["x"] = 1
    del r.accepted[1]
    assert disk.save(r)
    again = _replica()
    Disk(path, "r1", _registry()).load(again)
    assert (again.promised, again.accepted, again.votes, again.log, again.kv) == \
        (3, {}, {(1, 3, CMD)}, [CMD], {"x": 1})
    assert again.role == "follower"
    assert len(path.read_text().splitlines()) == 1    # compacted when it was opened


def test_a_save_writes_only_what_changed(tmp_path):
    """A log that grows by one entry costs one entry on disk, not the whole log."""
    r = _replica()
    disk = Disk(tmp_path / "d", "r1", _registry())
    disk.load(r)
    for i in range(50):
        r.log.append(("c1", i, ("write", "x", i)))
        disk.save(r)
    last = json.loads((tmp_path / "d").read_text().splitlines()[-1])
    assert last["ops"] == [["log", "append", [["c1", 49, ["write", "x", 49]]]]]


def test_fields_with_mutable_elements_are_written_whole(tmp_path):
    """A list of lists changed in place is still seen as changed (compared whole)."""
    from replib.node import Node

    class Holder(Node):
        stable = ("rows",)

        def __init__(self, id):
            super().__init__(id)
            self.rows = [[1]]
    h = Holder("h")
    h._attach(["h"], None)
    disk = Disk(tmp_path / "h", "h", REG)
    disk.load(h)
    h.rows[0].append(2)
    assert disk.save(h)
    back = Holder("h")
    back._attach(["h"], None)
    Disk(tmp_path / "h", "h", REG).read(back)
    assert back.rows == [[1, 2]]


def test_a_torn_last_line_is_ignored(tmp_path):
    """A kill -9 in the middle of a write leaves a line without its end: its handler's
    messages never left, so forgetting it is safe."""
    path = tmp_path / "r1"
    r = _replica()
    disk = Disk(path, "r1", _registry())
    disk.load(r)
    r.promised = 3
    disk.save(r)
    with open(path, "a") as f:
        f.write('{"crc": 12, "ops": [["promised", "se')
    again = _replica()
    Disk(path, "r1", _registry()).load(again)
    assert again.promised == 3


@pytest.mark.parametrize("line, words", [
    ("garbage\n", "line 2: not valid JSON"),
    ('{"crc": 1, "ops": [["promised", "set", 9]]}\n', "line 2: its checksum does not match"),
    ('{"ops": []}\n', "line 2: a line must hold exactly the keys crc and ops"),
])
def test_a_corrupted_disk_names_the_file_and_the_line(tmp_path, line, words):
    path = tmp_path / "r1.disk.jsonl"
    r = _replica()
    Disk(path, "r1", _registry()).load(r)
    with open(path, "a") as f:
        f.write(line)
    with pytest.raises(ValueError, match=f"r1.disk.jsonl, {words}.*corrupted"):
        Disk(path, "r1", _registry()).load(_replica())


def test_a_disk_naming_a_field_that_is_not_stable_is_corrupted(tmp_path):
    import zlib
    ops = [["role", "set", "leader"]]
    text = json.dumps(ops, separators=(",", ":"))
    (tmp_path / "d").write_text(json.dumps({"crc": zlib.crc32(text.encode()), "ops": ops}) + "\n")
    with pytest.raises(ValueError, match="line 1: 'role' is not a stable field of Replica"):
        Disk(tmp_path / "d", "r1", _registry()).load(_replica())


# ---- events ----------------------------------------------------------------------------------

def test_events_from_two_processes_make_one_trace(tmp_path):
    """A send in one file and its delivery in another become one message of the Trace, with
    times in the nodes' unit; a drop recorded by the router finds its message."""
    nodes = [Replica("r1", ["r1", "r2"], 0), Replica("r2", ["r1", "r2"], 1)]
    for n in nodes:
        n._attach(["r1", "r2"], None)
    prep = dumps(Prepare(3, 1), REG)
    (tmp_path / "r1").write_text(event_line(0.0, "start") + event_line(
        0.01, "send", "r2", prep, "r1.0.1") + event_line(0.01, "send", "r2", prep, "r1.0.2"))
    (tmp_path / "r2").write_text(event_line(0.0, "start") + event_line(
        0.03, "deliver", "r1", prep, "r1.0.1") + '[0.05,"deli')          # a torn line
    events = {n: read_events(tmp_path / n, REG) for n in ("r1", "r2")}
    trace = build_trace(nodes, events, [(0.04, "drop", "r1", "r2", "r1.0.2", "partition", None)],
                        time_unit=0.01)
    msgs = trace.messages()
    assert [(m["src"], m["dst"], m["msg"], m["fate"], m["sent"], m["at"]) for m in msgs] == [
        ("r1", "r2", Prepare(3, 1), "delivered", 1.0, 3.0),
        ("r1", "r2", Prepare(3, 1), "dropped (partition)", 1.0, 4.0)]
    (tmp_path / "bad").write_text("not json\n" + event_line(0.0, "start"))
    with pytest.raises(ValueError, match="bad, line 1: not an event line"):
        read_events(tmp_path / "bad", REG)
