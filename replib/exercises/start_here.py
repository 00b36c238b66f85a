"""Chapter 00 (start here): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, _fault_list, _number


@exercise
def check_first_reply_time(answer):
    """00: when does the client get the reply to its first write?"""
    from ..protocols.forwarding import forwarding_system
    from ..sim import Simulation
    value = _number(answer, "The time")
    truth = Simulation(forwarding_system(3)).run().history()[0].response
    if abs(value - truth) < 1e-9:
        return (f"the reply arrives at t={truth:g}: the write starts at t=0.5 and needs four "
                f"messages (request, forward, ack, reply) of 1 time unit each.")
    if abs(value - (truth - 0.5)) < 1e-9:
        raise Hint("you counted the messages right, but the client only starts its first "
                   "write after its think time of 0.5.")
    if abs(value - 2.5) < 1e-9:
        raise Hint("that is when an asynchronous server would answer (request + reply). This "
                   "server waits for the replica's acknowledgement first.")
    raise Hint("count the messages between the client's request and its reply on the "
               "diagram above; each takes 1 time unit, and the client starts at t=0.5.")

@exercise
def check_replica_log_after_restart(answer):
    """00: what does the replica's log hold after it crashes and restarts?"""
    if not isinstance(answer, (list, tuple)):
        raise Hint(f"give the log as a list, like [('write', 1)]; you gave {answer!r}.")
    from ..faults import crash, restart
    from ..protocols.forwarding import forwarding_system
    from ..sim import Simulation
    sim = Simulation(forwarding_system(3), faults=[crash("replica", at=6), restart("replica", at=8)])
    sim.run()
    truth = list(sim.nodes["replica"].log)
    if list(answer) == truth:
        return (f"the log is {truth}: 'log' is on stable storage, so the crash kept it. "
                f"Write 2's Forward reached the replica while it was down and was lost; "
                f"nothing sends it again.")
    if list(answer) == []:
        raise Hint("the replica's log is listed in Replica.stable: it survives a crash.")
    raise Hint("look at the state table after the restart step, and at which Forward "
               "messages reached the replica while it was up.")

@exercise
def check_unacknowledged_write(faults):
    """00: a fault schedule after which write 1 is acknowledged and write 2 never is."""
    from ..protocols.forwarding import forwarding_system
    from ..sim import Simulation
    faults = _fault_list(faults, "crash('server', at=3)")
    try:
        trace = Simulation(forwarding_system(3), faults=faults).run(until=60)
    except ValueError as exc:
        raise Hint(f"that schedule is not valid: {exc}") from None
    history = trace.history()
    answered = [op.response is not None for op in history]
    if not answered or not answered[0]:
        raise Hint("write 1 was never acknowledged either: let it finish first "
                   "(it is acknowledged at t=4.5), then strike.")
    if len(answered) > 1 and answered[1]:
        raise Hint("write 2 was acknowledged: your fault came too late or did not stop the "
                   "request, the forward, the ack or the reply (write 2 starts at t=5).")
    return (f"write 1 was acknowledged and write 2 never was ({len(faults)} fault(s)). A "
            f"client cannot tell this from a slow server: it just waits.")
