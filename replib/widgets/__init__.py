"""Widgets: a trace player and a fault panel.

Every button and slider calls a plain method (``player.step_forward()``,
``panel.add_fault("crash", "replica", 5)``), so the same behaviour is tested with pytest,
and a bad value shows a message in the widget instead of a traceback.
"""

from .commit import CommitExplorer
from .faults import FaultPanel
from .player import TracePlayer

__all__ = ["CommitExplorer", "FaultPanel", "TracePlayer"]
