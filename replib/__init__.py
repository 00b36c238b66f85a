"""replib: deterministic simulation, drawing and exhaustive checking of replication protocols."""

from .actions import Controls, Crash, Deliver, Drop, Fire, Restart
from .clients import Client, Reply, Request
from .network import Constant, LongTail, Network, Uniform
from .node import HandlerError, Node
from .sim import Simulation
from .trace import Event, Operation, Trace

__all__ = [
    "Client", "Constant", "Controls", "Crash", "Deliver", "Drop", "Event", "Fire",
    "HandlerError", "LongTail", "Network", "Node", "Operation", "Reply", "Request", "Restart",
    "Simulation", "Trace", "Uniform",
]
__version__ = "0.1.0"
