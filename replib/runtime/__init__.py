"""The same nodes for real: each as an OS process on 127.0.0.1, over UDP, with real faults.

    cluster.py   Cluster: start a system's nodes as processes, kill -9 and restart them,
                 partition the network, collect the Trace and the clients' history
    process.py   one node's process: the event loop that runs the node's handlers
    network.py   the router every message passes through, where faults happen (and why UDP)
    wire.py      the JSON encoding of messages, with a registry of the types allowed
    disk.py      stable storage: an append-only, fsynced file of JSON lines
    events.py    what each process records, and the Trace built from it
    harness.py   Jepsen-style tests: a workload, a fault schedule, a linearizability check

A node class needs nothing new to run here: the handlers, ``stable`` fields, timers and
client records the simulator and the checker use are all the runtime uses.
"""

import importlib

# Imported when first used, so that a node process (``python -m replib.runtime``) loads only
# what it runs: process, wire, disk, events.
_WHERE = {"Cluster": "cluster", "running_processes": "cluster", "stop_all": "cluster",
          "TestRun": "harness", "multipaxos_test": "harness", "raft_test": "harness",
          "run_test": "harness", "split": "harness", "workload": "harness",
          "Registry": "wire"}
__all__ = sorted(_WHERE)


def __dir__():
    return __all__


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module 'replib.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
