"""The chapters' experiments, one module per topic: each runs the simulator or the checker
from a seed it takes and returns plain numbers, tables or figures.

- ``sync_async``: chapter 01 (latency, messages, lost writes)
- ``primary_backup``: chapter 02 (the failure stories of primary/backup)
- ``atomic_commit``: chapter 03 (two-phase commit and 3PC under crashes)
- ``partitions``: chapter 04 (partitions, majorities, quorums)
- ``livelock``: chapter 06 (dueling proposers, backoff)
- ``proposal_numbers``: chapter 07 (Chubby's numbers, (round, id) pairs, collisions)
- ``compare``: chapter 08 (the approaches side by side)
"""


def finished(sim, what: str):
    """The trace of a measuring run, which must have run to its end: a run cut short by the
    simulator's event limit measured part of the workload only, and would say so nowhere."""
    if sim.stopped and sim.stopped.startswith("max_events"):
        raise ValueError(f"{what}: the run reached the simulator's event limit "
                         f"({sim.stopped}) before the workload was done; measure fewer "
                         f"operations or fewer nodes")
    return sim.trace
