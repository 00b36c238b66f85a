"""Jepsen's history formats: reading them, writing the course's histories out, and the
etcd corpus that Knossos and Porcupine are tested on.

Each test's docstring states the rule it checks.
"""

import json
import random
from itertools import permutations
from pathlib import Path

import pytest
from helpers import JEPSEN_CORPUS as CORPUS
from replib.history import FAIL, OK, linearizable, linearizable_kv, random_history
from replib.jepsen import (Keyword, load_jepsen, parse_jepsen, read_edn, save_jepsen, to_jepsen,
                           write_edn)
from replib.trace import Operation

LOG = """\
INFO  jepsen.util - 0\t:invoke\t:write\t1
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 0\t:ok\t:write\t1
INFO  jepsen.util - 1\t:ok\t:read\t1
INFO  jepsen.util - 2\t:invoke\t:cas\t[1 4]
INFO  jepsen.util - 1\t:invoke\t:cas\t[0 3]
INFO  jepsen.util - :nemesis\t:info\t:start\tnil
INFO  jepsen.util - 1\t:fail\t:cas\t[0 3]
INFO  jepsen.util - 2\t:info\t:cas\t:timed-out
INFO  jepsen.util - 7\t:invoke\t:read\tnil
INFO  jepsen.util - 7\t:fail\t:read\t:timed-out
INFO  jepsen.util - 0\t:invoke\t:write\t2
"""

EXPECTED = [Operation(0, ("write", 1), 1, 3, OK), Operation(1, ("read",), 2, 4, 1),
            Operation(2, ("cas", 1, 4), 5, None, None), Operation(1, ("cas", 0, 3), 6, 8, FAIL),
            Operation(7, ("read",), 10, 11, FAIL), Operation(0, ("write", 2), 12, None, None)]


def precedence(h):
    """Which operation precedes which, by position: the real-time story of a history."""
    def before(a, b):
        return a.response is not None and a.response <= b.invoke and a.invoke < b.invoke
    return {(i, j) for i, a in enumerate(h) for j, b in enumerate(h) if before(a, b)}


# ---- the corpus ----------------------------------------------------------------------------------

def test_every_etcd_history_gets_porcupines_verdict():
    """All 102 Jepsen etcd histories of Porcupine's test suite, read as Porcupine reads them
    (line order is real time, :fail :cas found another value, :info may take effect any
    time after its invocation or never), get Porcupine's verdict: 23 linearizable, 79 not.
    Every rejection names its culprit and the values it could have read."""
    expected = json.loads((CORPUS / "expected.json").read_text())
    assert len(expected) == 102 and sum(expected.values()) == 23
    for name, verdict in sorted(expected.items()):
        h = load_jepsen(CORPUS / name)
        r = linearizable(h)
        assert r.ok == verdict, (name, r.explanation)
        if not r.ok:
            assert r.culprit is not None and r.could_see, (name, r.explanation)
            assert r.culprit.result not in r.could_see


def test_corpus_histories_survive_a_round_trip():
    """Writing a corpus history out as EDN and reading it back gives the same history."""
    for name in ("etcd_000.log", "etcd_002.log", "etcd_057.log"):
        h = load_jepsen(CORPUS / name)
        assert parse_jepsen(to_jepsen(h)) == h, name


# ---- reading -------------------------------------------------------------------------------------

def test_log_lines_read_into_operations():
    """Log lines pair invocations with completions by process: :ok gives "ok" (a read: its
    value), :fail gives "fail", :info or no completion leaves the response None; times are
    line numbers; nemesis lines are skipped; a process that got :info is replaced by a new
    one."""
    assert parse_jepsen(LOG) == EXPECTED


def test_edn_maps_read_like_log_lines():
    """The same history as EDN maps reads the same (times from line numbers when a line
    has no :time), and with :time on every line the times come from there."""
    edn = "\n".join(
        "{" + f":type {t}, :f {f}, :value {v}, :process {p}" + "}"
        for p, t, f, v in (line.split(" - ")[1].split("\t") for line in LOG.splitlines()))
    assert parse_jepsen(edn) == EXPECTED
    timed = "\n".join(line[:-1] + f", :time {10 * n}}}" for n, line in
                      enumerate(edn.splitlines(), 1))
    h = parse_jepsen(timed)
    assert [(x.invoke, x.response) for x in h] == [
        (10 * x.invoke, None if x.response is None else 10 * x.response) for x in EXPECTED]
    assert parse_jepsen(timed, times="line") == EXPECTED


def test_key_value_histories_read_key_by_key():
    """With kv=True each value is [key value] (Jepsen's independent keys): a cas is
    [key [expected new]], and the result is checked with linearizable_kv."""
    text = "\n".join([
        "{:type :invoke, :f :write, :value [x 1], :process 0}".replace("[x", '["x"'),
        '{:type :ok, :f :write, :value ["x" 1], :process 0}',
        '{:type :invoke, :f :cas, :value ["x" [1 2]], :process 1}',
        '{:type :ok, :f :cas, :value ["x" [1 2]], :process 1}',
        '{:type :invoke, :f :read, :value ["x" nil], :process 2}',
        '{:type :ok, :f :read, :value ["x" 2], :process 2}'])
    h = parse_jepsen(text, kv=True)
    assert h == [Operation(0, ("write", "x", 1), 1, 2, OK),
                 Operation(1, ("cas", "x", 1, 2), 3, 4, OK), Operation(2, ("read", "x"), 5, 6, 2)]
    assert linearizable_kv(h).ok
    assert parse_jepsen(to_jepsen(h), kv=True) == h


def test_a_process_may_invoke_again_after_info():
    """Jepsen never reuses a process after :info, but if a log does, the :info operation
    stays indeterminate and the next invocation is a new operation."""
    h = parse_jepsen("{:type :invoke, :f :write, :value 1, :process 0}\n"
                     "{:type :info, :f :write, :value 1, :process 0}\n"
                     "{:type :invoke, :f :read, :value nil, :process 0}\n"
                     "{:type :ok, :f :read, :value 1, :process 0}\n")
    assert h == [Operation(0, ("write", 1), 1, None, None), Operation(0, ("read",), 3, 4, 1)]
    assert linearizable(h).ok


def test_edn_values():
    """EDN values read as Python ones (vectors and lists as tuples, sets as frozensets,
    keywords as Keyword) and write back to text that reads equal; comments, commas,
    discards and tags are skipped."""
    text = ('{:a [1 -2 3.5 1e3 7N], "s\\"q\\n" (nil true false), :k #{:x}, [1 2] {:n 1}} '
            '; comment')
    value = read_edn(text)
    assert value == {Keyword("a"): (1, -2, 3.5, 1000.0, 7), 's"q\n': (None, True, False),
                     Keyword("k"): frozenset({Keyword("x")}), (1, 2): {Keyword("n"): 1}}
    assert read_edn(write_edn(value)) == value
    assert read_edn('#_ 1 #inst "2024-01-01" ') == "2024-01-01"
    assert repr(Keyword("timed-out")) == ":timed-out" and Keyword("ok") != "ok"


# ---- writing -------------------------------------------------------------------------------------

def test_course_history_written_as_edn():
    """The course's operations become Jepsen's: ("cas", a, b) is :cas [a b], answers are
    :ok / :fail, an indeterminate operation completes :info after everything else, clients
    get process numbers in order of appearance, and a client that goes on after an :info
    does so under a new process."""
    h = [Operation("c1", ("write", 1), 0, 1, OK), Operation("c2", ("cas", 1, 2), 0.5, 2, FAIL),
         Operation("c1", ("read",), 1, 3, 1), Operation("c2", ("write", 3), 2, None, None),
         Operation("c2", ("read",), 4, 5, 1)]
    assert to_jepsen(h) == (
        "{:type :invoke, :f :write, :value 1, :process 0, :time 0}\n"
        "{:type :invoke, :f :cas, :value [1 2], :process 1, :time 0.5}\n"
        "{:type :ok, :f :write, :value 1, :process 0, :time 1}\n"
        "{:type :invoke, :f :read, :value nil, :process 0, :time 1}\n"
        "{:type :fail, :f :cas, :value [1 2], :process 1, :time 2}\n"
        "{:type :invoke, :f :write, :value 3, :process 1, :time 2}\n"
        "{:type :ok, :f :read, :value 1, :process 0, :time 3}\n"
        "{:type :invoke, :f :read, :value nil, :process 2, :time 4}\n"
        "{:type :ok, :f :read, :value 1, :process 2, :time 5}\n"
        "{:type :info, :f :write, :value 3, :process 1, :time 5}\n")
    assert parse_jepsen(to_jepsen(h)) == [
        Operation(0, ("write", 1), 0, 1, OK), Operation(1, ("cas", 1, 2), 0.5, 2, FAIL),
        Operation(0, ("read",), 1, 3, 1), Operation(1, ("write", 3), 2, None, None),
        Operation(2, ("read",), 4, 5, 1)]


def test_lines_at_one_instant_keep_the_real_time_story():
    """At one instant the lines go: answers of operations begun earlier, invocations, then
    answers of operations begun at that instant, so the order of the lines says what the
    times say (A precedes B when A returned no later than B began, and began first); read
    back by line numbers alone, every pair is ordered as before."""
    h = [Operation("a", ("write", "p", 1), 0, 5, OK), Operation("b", ("read", "q"), 5, 5, 1),
         Operation("c", ("read", "r"), 5, 5, 1), Operation("d", ("write", "s", 2), 5, 6, OK),
         Operation("a", ("read", "t"), 5, 7, 2)]          # keys name the operations
    for order in permutations(h):
        back = parse_jepsen(to_jepsen(list(order)), times="line", kv=True)
        by_op = {x.op: x for x in back}
        assert precedence([by_op[x.op] for x in h]) == precedence(h)
        assert parse_jepsen(to_jepsen(list(order)), kv=True) == [
            Operation(by_op[x.op].client, x.op, x.invoke, x.response, x.result)
            for x in sorted(order, key=lambda x: x.invoke)]


def test_random_histories_survive_the_trip_out_and_back():
    """Random cas histories (lost answers, replaced clients) written out and read back by
    line numbers keep every operation, outcome and real-time order, and the verdict; read
    by :time they come back exactly, up to the clients' names."""
    for seed in range(30):
        h = random_history(60, 4, seed, cas_fraction=0.3, values=4, unanswered=0.05)
        text = to_jepsen(h)
        by_line = parse_jepsen(text, times="line")
        assert [(x.op, x.result) for x in by_line] == [(x.op, x.result) for x in h]
        assert precedence(by_line) == precedence(h)
        assert linearizable(by_line).ok and linearizable(h).ok
        by_time = parse_jepsen(text)
        assert [(x.op, x.invoke, x.response, x.result) for x in by_time] == \
            [(x.op, x.invoke, x.response, x.result) for x in h]
        assert parse_jepsen(to_jepsen(by_time)) == by_time


def test_one_process_does_one_thing_at_a_time():
    """A client whose operations overlap is written as two processes."""
    h = [Operation(4, ("write", 1), 0, 3, OK), Operation(4, ("write", 2), 1, 2, OK)]
    assert [x.client for x in parse_jepsen(to_jepsen(h))] == [4, 0]


def test_save_and_load(tmp_path):
    """save_jepsen writes what load_jepsen reads; load_jepsen names the file in errors."""
    h = random_history(20, 3, 1, cas_fraction=0.3)
    save_jepsen(h, tmp_path / "history.edn")
    assert [x.op for x in load_jepsen(tmp_path / "history.edn")] == [x.op for x in h]
    (tmp_path / "bad.edn").write_text("{:type :invoke}\n")
    with pytest.raises(ValueError, match=r"bad\.edn: line 1: .*needs :f, :process"):
        load_jepsen(tmp_path / "bad.edn")


# ---- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("hello", r"line 1: 'hello': it is neither a Jepsen log line .* nor an EDN operation map"),
    ("{:type :invoke, :f :read, :process 0}\n{:type :ok :f", r"line 2: .*missing '}'"),
    ("{:type :begin, :f :read, :process 0}", r"line 1: .*the type must be :invoke, :ok, :fail"),
    ("INFO  jepsen.util - 0\t:invoke\t:add\t1",
     r"line 1: .*must be :read, :write or :cas, got :add"),
    ("INFO  jepsen.util - 0\t:ok\t:read\t1",
     r"line 1: .*process 0 completes :read but has no open"),
    ("INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:invoke\t:read\tnil",
     r"line 2: .*process 0 invokes :read while its :read of line 1 is still open"),
    ("INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:write\t1",
     r"line 2: .*completes :write but invoked :read on line 1"),
    ("INFO  jepsen.util - 0\t:invoke\t:cas\t4", r"line 1: .*a :cas value must be \[expected new\]"),
    ("INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:ok\t:write\t2",
     r"line 2: .*carries a different value"),
    ("INFO  jepsen.util - :a\t:invoke\t:write\t1", r"line 1: .*the process must be a number"),
    ("INFO  jepsen.util - 0\t:invoke\t:write\t[1", r"line 1: .*missing ']'"),
    ("{:type :invoke, :f :write, :value 1, :process 0, :time 5}\n"
     "{:type :ok, :f :write, :value 1, :process 0, :time 4}", r"line 2: .*goes back from 5"),
    ("{:type :invoke, :f :write, :value 1, :process 0, :time 1}\n"
     "{:type :invoke, :f :read, :process 1, :time 2}\n"
     "{:type :ok, :f :write, :value 1, :process 0, :time 2}",
     r"line 3: .*times and the order of the lines disagree: read it with times='line'"),
    ("{:type :invoke, :f :read, :process 0, :time :soon}", r"line 1: .*:time must be a number"),
    ("{:type :invoke, :f :write, :value 1, :process 0} {:a 1}", r"line 1: .*unexpected"),
])
def test_bad_lines_raise_errors_naming_the_line(text, message):
    """Whatever cannot be read raises a ValueError with the line's number and text and
    what was wrong with it."""
    with pytest.raises(ValueError, match=message):
        parse_jepsen(text)


def test_other_bad_input():
    """kv values that are not [key value] pairs, bad arguments and unwritable values raise
    ValueErrors that say what is allowed."""
    with pytest.raises(ValueError, match=r"line 1: .*with kv=True a value must be \[key value\]"):
        parse_jepsen("INFO  jepsen.util - 0\t:invoke\t:write\t1", kv=True)
    with pytest.raises(ValueError, match=r"line 2: .*a read of key 'x' must return \['x' value\]"):
        parse_jepsen('{:type :invoke, :f :read, :value ["x" nil], :process 0}\n'
                     '{:type :ok, :f :read, :value ["y" 1], :process 0}', kv=True)
    with pytest.raises(ValueError, match="times must be 'line', 'field' or None"):
        parse_jepsen("", times="clock")
    with pytest.raises(ValueError, match="parse_jepsen reads the text of a history"):
        parse_jepsen(Path("history.edn"))
    with pytest.raises(ValueError, match="cannot write <object .* in EDN"):
        to_jepsen([Operation("a", ("write", object()), 0, 1, OK)])
    with pytest.raises(ValueError, match=r"history\[0\]: an operation must be"):
        to_jepsen([Operation("a", ("append", 1), 0, 1, OK)])
    assert parse_jepsen("") == [] and to_jepsen([]) == ""
    rng = random.Random(0)
    assert all(read_edn(write_edn(v)) == v for v in
               (rng.random(), -rng.randrange(10**20), "tab\there", ("a", (1, None))))
