"""Exercise checks print one line, "Correct..." or "Not yet...", and never raise."""

import pytest

from replib import exercises
from replib.faults import crash, cut, drop, partition


def run(capsys, check, *answers):
    result = check(*answers)
    out = capsys.readouterr().out
    assert result is None
    assert out.count("\n") == 1, out
    return out


@pytest.mark.parametrize("answer, start", [
    (4.5, "Correct! the reply arrives at t=4.5"),
    (4, "Not yet: you counted the messages right"),
    (2.5, "Not yet: that is when an asynchronous server would answer"),
    (7, "Not yet: count the messages"),
    (..., "Not yet: replace the ..."),
    (None, "Not yet: replace the ..."),
    ("4.5", "Not yet: The time should be a number"),
    (True, "Not yet: The time should be a number"),
])
def test_first_reply_time(capsys, answer, start):
    assert run(capsys, exercises.check_first_reply_time, answer).startswith(start)


@pytest.mark.parametrize("answer, start", [
    ([("write", 1)], "Correct! the log is [('write', 1)]"),
    ((("write", 1),), "Correct!"),
    ([], "Not yet: the replica's log is listed in Replica.stable"),
    ([("write", 1), ("write", 2)], "Not yet: look at the state table"),
    ("write 1", "Not yet: give the log as a list"),
])
def test_replica_log_after_restart(capsys, answer, start):
    assert run(capsys, exercises.check_replica_log_after_restart, answer).startswith(start)


@pytest.mark.parametrize("answer, start", [
    ([crash("server", at=5.5)], "Correct! write 1 was acknowledged and write 2 never was"),
    (crash("replica", at=6), "Correct!"),
    ([partition(["replica"], at=5)], "Correct!"),
    ([crash("server", at=1)], "Not yet: write 1 was never acknowledged"),
    ([crash("server", at=50)], "Not yet: write 2 was acknowledged"),
    ([crash("nobody", at=5)], "Not yet: that schedule is not valid: fault 'crash nobody at t=5'"),
    (["crash the server"], "Not yet: give a list of faults"),
    (42, "Not yet: give a list of faults"),
])
def test_unacknowledged_write(capsys, answer, start):
    assert run(capsys, exercises.check_unacknowledged_write, answer).startswith(start)


def test_a_crashing_answer_becomes_a_hint(capsys):
    """Code that raises inside a check is reported, not propagated."""

    @exercises.exercise
    def check_boom(answer):
        return 1 / answer

    assert run(capsys, check_boom, 0).startswith(
        "Not yet: running your answer raised ZeroDivisionError")


@pytest.mark.parametrize("answer, start", [
    (8, "Correct! a sync write takes 8"),
    (4, "Not yet: that is what semi-sync with k=1 would take"),
    (2, "Not yet: that is the asynchronous answer"),
    (10, "Not yet: the primary ships to both backups at the same time"),
    (5, "Not yet: add the client's round trip"),
    ("8", "Not yet: The latency should be a number"),
])
def test_sync_latency(capsys, answer, start):
    assert run(capsys, exercises.check_sync_latency, answer).startswith(start)


@pytest.mark.parametrize("answer, start", [
    ([drop("Update", count=2, at=0), crash("primary", at=3)],
     "Correct! 1 acknowledged write(s) lost: [('write', 1)]"),
    ([cut("primary", "b1", at=1), cut("primary", "b2", at=1), crash("primary", at=6)],
     "Correct! 2 acknowledged write(s) lost"),
    ([crash("primary", at=5)], "Not yet: the primary went down, but every write it acknowledged"),
    ([], "Not yet: as long as the primary survives"),
    ([drop("Update", count=2)], "Not yet: that schedule is not valid"),
    ("crash", "Not yet: give a list of faults"),
])
def test_async_loss(capsys, answer, start):
    assert run(capsys, exercises.check_async_loss, answer).startswith(start)


@pytest.mark.parametrize("answer, start", [
    (2, "Correct! 2 primaries"),
    (1, "Not yet: healing the network does not undo b1's promotion"),
    (3, "Not yet: count the replicas that ever promote themselves"),
    ("two", "Not yet: give a whole number"),
])
def test_split_brain_prediction(capsys, answer, start):
    assert run(capsys, exercises.check_split_brain_prediction, answer).startswith(start)


@pytest.mark.parametrize("answer, start", [
    (0, "Correct! none"), (9, "Not yet: what does a sync primary wait for"),
    (0.0, "Not yet: give a whole number")])
def test_sync_writes_with_backup_down(capsys, answer, start):
    assert run(capsys, exercises.check_sync_writes_with_backup_down, answer).startswith(start)


@pytest.mark.parametrize("answer, start", [
    (20, "Correct! 20: a write takes 0.2"), (0, "Not yet: async answers before"),
    (4, "Not yet: a write takes 0.2"), ("20", "Not yet: give a whole number")])
def test_async_loss_prediction(capsys, answer, start):
    assert run(capsys, exercises.check_async_loss_prediction, answer).startswith(start)


def fencing_variants():
    from replib.protocols.replication import Replica

    class Right(Replica):
        def stale(self, msg):
            return msg.epoch < self.epoch

    class Missing(Replica):
        def stale(self, msg):
            pass

    class TooStrict(Replica):
        def stale(self, msg):
            return msg.epoch != self.epoch

    return Right, Missing, TooStrict


def test_fencing_exercise(capsys):
    """The right rule passes both the scenario and the checker; the student stub (no rule)
    is caught by the checker; a rule that drops too much is safe but flagged."""
    right, missing, too_strict = fencing_variants()
    assert run(capsys, exercises.check_fencing, right).startswith(
        "Correct! at most one primary per epoch in all 15,244 reachable states")
    assert run(capsys, exercises.check_fencing, missing).startswith(
        "Not yet: the checker found two primaries in one epoch after 8 steps")
    assert run(capsys, exercises.check_fencing, too_strict).startswith(
        "Not yet: safe, but your rule also drops messages it should take")
    assert run(capsys, exercises.check_fencing, "MyReplica").startswith(
        "Not yet: pass your class itself")


@pytest.mark.parametrize("check, answer, start", [
    ("check_sync_messages", 6, "Correct! 6: an Update to each of the 3 backups"),
    ("check_sync_messages", 3, "Not yet: 3 is the asynchronous count"),
    ("check_sync_messages", 4, "Not yet: count the messages"),
    ("check_missing_write", 1, "Correct! write 1"),
    ("check_missing_write", ("write", 1), "Correct! write 1"),
    ("check_missing_write", 2, "Not yet: which write's Update to b2 was dropped"),
    ("check_missing_write", "one", "Not yet: give a whole number"),
    ("check_linearizable_prediction", False, "Correct! not linearizable"),
    ("check_linearizable_prediction", True, "Not yet: the write was acknowledged"),
    ("check_linearizable_prediction", "no", "Not yet: answer True or False"),
])
def test_predictions(capsys, check, answer, start):
    assert run(capsys, getattr(exercises, check), answer).startswith(start)
