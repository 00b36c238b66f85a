"""Chapter 01 (sync vs async): exercise checks."""

from __future__ import annotations

from .core import Hint, close, exercise, fault_list, number, whole_number


def _two_backup_latencies(mode, k=None):
    """The write's latency in the chapter's slow-backup run (b2 three times farther)."""
    from ..experiments.sync_async import slow_backup_run
    return slow_backup_run(mode, k).history()[0].latency


@exercise
def check_sync_messages(answer):
    """01: messages between replicas for one sync write with 3 backups."""
    from ..experiments.sync_async import messages_per_write
    value = whole_number(answer, "the number of messages")
    truth = round(sum(messages_per_write("sync", 3).values()))
    if value == truth:
        return f"{truth}: an Update to each of the 3 backups and an Ack back from each (2n)."
    if value == round(sum(messages_per_write("async", 3).values())):
        raise Hint(f"{value} is the asynchronous count (the Updates). Sync also waits for "
                   f"something from every backup.")
    if value == round(sum(messages_per_write("sync", 2).values())):
        raise Hint(f"{value} is the count in the diagram, with 2 backups. The question asks for "
                   f"3 backups.")
    if value == truth + 2:
        raise Hint("you counted the client's Request and Reply too: count only the messages "
                   "between the primary and the backups.")
    raise Hint("count the messages between the primary and the backups for one write in the "
               "sync diagram above (2 backups), then think of 3 backups instead of 2.")


@exercise
def check_sync_latency(answer):
    """01: predict a sync write's latency when one backup is slow."""
    value = number(answer, "the latency")
    truth = _two_backup_latencies("sync")
    if close(value, truth):
        return (f"a sync write takes {truth:g}: the client's round trip (2) plus the round trip "
                f"to the slowest backup (6). The fast backup's answer does not help.")
    if close(value, _two_backup_latencies("semi-sync", 1)):
        raise Hint("that is what semi-sync with k=1 would take: it waits for the fastest "
                   "backup only. Sync waits for every backup.")
    if close(value, _two_backup_latencies("async")):
        raise Hint("that is the asynchronous answer (the client's round trip only). Sync also "
                   "waits for an acknowledgement from every backup.")
    if close(value, 2 + 2 + 6):
        raise Hint("the primary ships to both backups at the same time, so their round trips "
                   "overlap: only the slowest one counts.")
    if close(value, 6):
        raise Hint("6 is the round trip to the slow backup alone; the client's request and "
                   "the reply take time too.")
    raise Hint("add the client's round trip to the primary and the longest round trip from the "
               "primary to a backup.")


@exercise
def check_sync_writes_with_backup_down(answer):
    """01: how many writes does a sync primary answer after one of its backups crashed?"""
    from ..experiments.sync_async import service_with_backup_down
    value = whole_number(answer, "the number of writes")
    key = "writes answered"
    truth = service_with_backup_down("sync")[key]
    if value == truth:
        return ("none: every sync write waits for an Ack from every backup, and b1 will never "
                "send one. Each writer is stuck on its first write after the crash; reads, "
                "which need no backup, are still answered.")
    if value == service_with_backup_down("async")[key]:
        raise Hint(f"{value} is what an asynchronous primary answers: it does not wait for the "
                   f"backups. What does a sync primary wait for?")
    if value in (1, 2):
        raise Hint("even the first write after the crash needs b1's Ack, and a crashed backup "
                   "sends none.")
    raise Hint("what does a sync primary wait for before it answers a write, and can a "
               "crashed backup send it?")


@exercise
def check_async_loss_prediction(answer):
    """01: batches every 4, the primary crashes 1.0 after the last one left, a write is
    acknowledged every 0.2: how many acknowledged writes are lost?"""
    from ..experiments.sync_async import lost_in_batches
    value = whole_number(answer, "the number of writes")
    run = lost_in_batches(4.0, 1.0)
    truth = run["lost"]
    if value == truth:
        return (f"{truth}: a write is acknowledged every 0.2, so in the 1.0 since the last "
                f"batch left the client was told 'ok' {truth} times for writes still in the "
                f"primary's queue. They died with it.")
    if value == 0:
        raise Hint("async answers before the backups have the write: what about the writes "
                   "acknowledged since the last batch left?")
    if value == 4 * 5:
        raise Hint("that is a whole batch interval (4) of writes; the crash came only 1.0 "
                   "after the last batch left.")
    if value in (truth - 1, truth + 1):
        raise Hint("close: count the writes acknowledged in the 1.0 after the batch left, one "
                   "every 0.2.")
    raise Hint("a write takes 0.2 (0.1 each way); count the writes acknowledged between the "
               "last batch and the crash.")


LOSS_EXAMPLE = "crash('primary', at=5)"


def _lost_under(mode, faults):
    """Acknowledged writes lost under ``faults`` with the exercise's system in ``mode``, and
    whether any replica survived."""
    from ..history import lost_writes
    from ..protocols.replication import replication_system
    from ..sim import Simulation
    nodes = replication_system(2, mode, failover="epochs", writes=6, client_timeout=6.0)
    sim = Simulation(nodes, faults=faults)
    trace = sim.run(until=120)
    survivors = {r: sim.nodes[r].log for r in ("primary", "b1", "b2") if r not in sim.crashed}
    return lost_writes(trace.history(), survivors), survivors, sim


@exercise
def check_async_loss(faults):
    """01: a fault schedule under which asynchronous replication loses an acknowledged write
    that synchronous replication, under the same schedule, keeps."""
    faults = fault_list(faults, LOSS_EXAMPLE)
    try:
        lost, survivors, sim = _lost_under("async", faults)
    except ValueError as exc:
        raise Hint(f"that schedule is not valid: {exc}") from None
    if not survivors:
        raise Hint("every replica is down at the end: that loses writes whatever the "
                   "replication, sync included. Keep a backup alive, so that the loss comes "
                   "from what async did not wait for.")
    if not lost:
        if "primary" not in sim.crashed:
            raise Hint("as long as the primary survives, its log holds every write it "
                       "acknowledged. It has to go down for good.")
        raise Hint("the primary went down, but every write it acknowledged had already reached "
                   "a backup. Keep the Updates from arriving first: cut(...) the links from the "
                   "primary to the backups, or drop('Update', ...), then crash the primary.")
    sync_lost, _, _ = _lost_under("sync", faults)
    if sync_lost:
        raise Hint(f"sync replication loses {len(sync_lost)} acknowledged write(s) under this "
                   f"schedule too, so it does not show what async gives up. Lose a write that "
                   f"sync would have kept: one the primary acknowledged before a backup had it.")
    return (f"{len(lost)} acknowledged write(s) lost: {[op.op for op in lost]}. The client was "
            f"told 'ok', no surviving replica has the write, and the same schedule loses "
            f"nothing under sync replication.")
