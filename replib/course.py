"""Everything a chapter needs, in one import: ``from replib.course import *``.

Read any of it with ``??``, e.g. ``Simulation??`` or ``space_time??``.
"""

from .actions import Controls, Crash, Deliver, Drop, Fire, Restart
from .check import NodeModel, can_still_reach, check, explore
from .clients import Client, Reply, Request
from .faults import backup, clock, crash, cut, drop, heal, partition, restart, restore, wipe
from .network import Constant, LongTail, Network, Uniform
from .node import Node
from .protocols.forwarding import Forward, ForwardAck, Replica, Server, forwarding_system
from .sim import Simulation
from .trace import Trace
from .viz import describe, lint, show, space_time, space_time_stack, topology, topology_of
from .viz.charts import bars, latency_distributions, lines, percentile, timeline
from .widgets import (BackoffExplorer, CommitExplorer, ComparisonExplorer, DuelExplorer,
                      FaultPanel, LongRun, PracticeExplorer, QuorumExplorer, TracePlayer,
                      YouAreTheNetwork)
from .widgets.replication import ReplicationExplorer
from .widgets.primary_backup import PrimaryBackupExplorer
from .widgets.raft import RaftNetwork, raft_state_html
from .viz.phases import space_time_phases
from .viz.quorums import draw_quorums
from . import exercises, history, jepsen
from .experiments import (atomic_commit, compare, livelock, partitions, primary_backup,
                          proposal_numbers, sync_async)

__all__ = [
    "Client", "Constant", "Controls", "Crash", "Deliver", "Drop", "FaultPanel", "Fire",
    "Forward", "ForwardAck", "LongTail", "Network", "Node", "NodeModel", "Replica", "Reply",
    "Request", "Restart", "Server", "Simulation", "Trace", "TracePlayer", "Uniform", "check",
    "crash", "cut", "describe", "drop", "exercises", "explore", "forwarding_system", "heal",
    "partition", "restart", "show", "space_time", "space_time_stack", "lint", "topology",
    "clock", "wipe", "backup", "restore",
    "topology_of",
    "ReplicationExplorer", "PrimaryBackupExplorer", "CommitExplorer", "can_still_reach", "timeline", "bars",
    "sync_async", "primary_backup", "atomic_commit",
    "history", "jepsen", "latency_distributions", "lines", "percentile", "BackoffExplorer", "DuelExplorer",
    "LongRun", "PracticeExplorer", "QuorumExplorer", "YouAreTheNetwork", "space_time_phases", "draw_quorums",
    "livelock", "partitions", "proposal_numbers", "compare", "ComparisonExplorer",
    "RaftNetwork", "raft_state_html",
]
