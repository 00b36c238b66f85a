"""Chapter 01 (sync vs async): exercise checks."""

from __future__ import annotations

from .core import Hint, exercise, _fault_list, _whole_number, _number


def _two_backup_latencies(mode, k=None):
    """One write; client<->primary 1 each way, primary<->b1 1 each way, primary<->b2 3."""
    from ..network import Constant, Network
    from ..protocols.replication import replication_system
    from ..sim import Simulation
    slow = Constant(3.0)
    network = Network(Constant(1.0), links={("primary", "b2"): slow, ("b2", "primary"): slow})
    trace = Simulation(replication_system(2, mode, k, writes=1), network=network).run()
    return trace.history()[0].latency

@exercise
def check_sync_latency(answer):
    """01: predict a sync write's latency when one backup is slow."""
    value = _number(answer, "The latency")
    truth = _two_backup_latencies("sync")
    if abs(value - truth) < 1e-9:
        return (f"a sync write takes {truth:g}: the client's round trip (2) plus the round trip "
                f"to the slowest backup (6). The fast backup's answer does not help.")
    if abs(value - _two_backup_latencies("semi-sync", 1)) < 1e-9:
        raise Hint("that is what semi-sync with k=1 would take: it waits for the fastest "
                   "backup only. Sync waits for every backup.")
    if abs(value - _two_backup_latencies("async")) < 1e-9:
        raise Hint("that is the asynchronous answer (the client's round trip only). Sync also "
                   "waits for an acknowledgement from every backup.")
    if abs(value - 2 - 2 - 6) < 1e-9:
        raise Hint("the primary ships to both backups at the same time, so their round trips "
                   "overlap: only the slowest one counts.")
    raise Hint("add the client's round trip to the primary and the longest round trip from the "
               "primary to a backup.")

@exercise
def check_async_loss(faults):
    """01: a fault schedule that makes asynchronous replication lose an acknowledged write."""
    from ..history import lost_writes
    from ..protocols.replication import replication_system
    from ..sim import Simulation
    faults = _fault_list(faults, "crash('primary', at=5)")
    nodes = replication_system(2, "async", failover="epochs", writes=6, client_timeout=6.0)
    try:
        sim = Simulation(nodes, faults=faults)
        trace = sim.run(until=120)
    except ValueError as exc:
        raise Hint(f"that schedule is not valid: {exc}") from None
    replicas = ("primary", "b1", "b2")
    survivors = {r: sim.nodes[r].log for r in replicas if r not in sim.crashed}
    lost = lost_writes(trace.history(), survivors)
    if lost:
        return (f"{len(lost)} acknowledged write(s) lost: {[op.op for op in lost]}. The client "
                f"was told 'ok', and no surviving replica has the write.")
    if "primary" not in sim.crashed:
        raise Hint("as long as the primary survives, its log holds every write it "
                   "acknowledged. It has to go down for good.")
    raise Hint("the primary went down, but every write it acknowledged had already reached a "
               "backup. Keep the Updates from arriving first: cut(...) the links from the "
               "primary to the backups, or drop('Update', ...), then crash the primary.")

@exercise
def check_sync_writes_with_backup_down(answer):
    """01: how many writes does a sync primary answer after one of its backups crashed?"""
    _whole_number(answer)
    from ..experiments.sync_async import service_after_backup_crash
    truth = service_after_backup_crash("sync", 2)["writes answered after the crash"]
    if answer == truth:
        return ("none: every sync write waits for an Ack from every backup, and b1 will never "
                "send one. The client is stuck on its first write after the crash.")
    raise Hint("what does a sync primary wait for before it answers a write, and can a "
               "crashed backup send it?")

@exercise
def check_async_loss_prediction(answer):
    """01: how many acknowledged writes does async lose with a replication delay of 4?"""
    _whole_number(answer)
    from ..experiments.sync_async import lost_after_primary_crash
    truth = lost_after_primary_crash("async", 4)[0]
    if answer == truth:
        return (f"{truth}: a write takes 0.2, so in the last 4 time units before the crash the "
                f"client was told 'ok' {truth} times for writes still on their way to a backup.")
    if answer == 0:
        raise Hint("async answers before the backups have the write: what about the writes "
                   "acknowledged just before the crash?")
    raise Hint("a write takes 0.2 (0.1 each way); count the writes acknowledged in the last "
               "4 time units before the crash.")

@exercise
def check_sync_messages(answer):
    """01: messages between replicas for one sync write with 3 backups."""
    from ..experiments.sync_async import messages_per_write
    truth = round(sum(messages_per_write("sync", 3).values()))
    if _whole_number(answer) == truth:
        return f"{truth}: an Update to each of the 3 backups and an Ack back from each (2n)."
    if answer == 3:
        raise Hint("3 is the asynchronous count (the Updates). Sync also waits for something "
                   "from every backup.")
    raise Hint("count the messages between the primary and the backups for one write in the "
               "sync diagram above, then think of 3 backups instead of 2.")
