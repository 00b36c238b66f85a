"""Chapter 00 (start here): exercise checks."""

from __future__ import annotations

from .core import Hint, close, exercise, fault_list, log_of_operations, number


def _forwarding_run(faults=(), until=None):
    """Chapter 00's system (three writes, every message takes 1) under ``faults``."""
    from ..protocols.forwarding import forwarding_system
    from ..sim import Simulation
    sim = Simulation(forwarding_system(3), faults=list(faults), seed=1)
    return sim, sim.run(until=until)


@exercise
def check_first_reply_time(answer):
    """00: when does the client get the reply to its first write?"""
    value = number(answer, "the time")
    _, trace = _forwarding_run()
    first = trace.history()[0]
    truth, start = first.response, first.invoke
    if close(value, truth):
        return (f"the reply arrives at t={truth:g}: the write starts at t={start:g} and needs "
                f"four messages (request, forward, ack, reply) of 1 time unit each.")
    if close(value, truth - start):
        raise Hint(f"{value:g} is the write's latency (four messages of 1). The question asks "
                   f"for the time on the clock: the client only starts at t={start:g}, after "
                   f"its think time.")
    if close(value, truth - 1):
        raise Hint(f"at t={value:g} the server *sends* the reply; it still has to travel to the "
                   f"client, 1 more time unit.")
    if close(value, start + 2):
        raise Hint("that is when an asynchronous server would answer (request + reply). This "
                   "server waits for the replica's acknowledgement first.")
    raise Hint(f"count the messages between the client's request and its reply: each takes "
               f"1 time unit, and the client starts at t={start:g}.")


@exercise
def check_replica_log_after_restart(answer):
    """00: what does the replica's log hold after it crashes at t=6 and restarts at t=8?"""
    from ..faults import crash, restart
    given = log_of_operations(answer, "the replica's log")
    sim, _ = _forwarding_run([crash("replica", at=6), restart("replica", at=8)], until=30)
    truth = list(sim.nodes["replica"].log)
    if given == truth:
        return (f"the log is {truth}: 'log' is on stable storage, so the crash kept it. "
                f"Write 2's Forward reached the replica while it was down and was lost; "
                f"nothing sends it again.")
    if given == []:
        raise Hint("the replica's log is listed in Replica.stable: it survives a crash. What "
                   "was in it before t=6?")
    if len(given) > len(truth) and given[:len(truth)] == truth:
        raise Hint(f"{given[len(truth)]} never reaches the replica: its Forward arrives while "
                   f"the replica is down, and nobody sends it again (the client waits for an "
                   f"answer that never comes).")
    raise Hint("which Forward messages reached the replica while it was up? Those are the "
               "writes its log holds, in order.")


ACK_EXAMPLE = "crash('server', at=...)"


@exercise
def check_unacknowledged_write(faults):
    """00: a fault schedule after which write 1 is acknowledged, write 2 is on the replica,
    and the client never gets write 2's acknowledgement."""
    faults = fault_list(faults, ACK_EXAMPLE)
    try:
        sim, trace = _forwarding_run(faults, until=60)
    except ValueError as exc:
        raise Hint(f"that schedule is not valid: {exc}") from None
    history = trace.history()
    answered = [op.response is not None for op in history]
    on_replica = ("write", 2) in sim.nodes["replica"].log
    if not answered or not answered[0]:
        raise Hint("write 1 was never acknowledged: let it finish first (it is acknowledged at "
                   "t=4.5), then strike.")
    if len(answered) > 1 and answered[1]:
        raise Hint("write 2 was acknowledged: your fault came too late or missed the write's "
                   "path (write 2 starts at t=5; its Forward reaches the replica at t=7, the "
                   "ack the server at t=8, the reply the client at t=9).")
    if len(history) < 2:
        raise Hint("the client never even started write 2: your fault stopped it before t=5. "
                   "Let write 2 be sent.")
    if not on_replica:
        raise Hint("write 2 never reached the replica's log, as in the crash run above. Here "
                   "the replica must get write 2, and the client must still never hear that it "
                   "succeeded: strike after the Forward arrived (t=7).")
    return (f"write 2 is on the replica, yet the client never got its acknowledgement "
            f"({len(faults)} fault(s)). For the client this looks exactly like a lost write: "
            f"it cannot tell a write that failed from one whose answer was lost.")
