"""Widgets: a trace player, a fault panel, and each chapter's explorer.

Every button and slider calls a plain method (``player.step_forward()``,
``panel.add_fault("crash", "replica", 5)``), so the same behaviour is tested with pytest,
and a bad value shows a message in the widget instead of a traceback.
"""

from .commit import CommitExplorer
from .comparison import ComparisonExplorer
from .faults import FaultPanel
from .livelock import BackoffExplorer
from .longrun import LongRun
from .network import YouAreTheNetwork
from .numbers import DuelExplorer
from .player import TracePlayer
from .primary_backup import PrimaryBackupExplorer
from .practice import PracticeExplorer
from .quorum import QuorumExplorer

__all__ = ["BackoffExplorer", "CommitExplorer", "ComparisonExplorer", "DuelExplorer", "FaultPanel",
           "LongRun", "PracticeExplorer", "PrimaryBackupExplorer", "QuorumExplorer", "TracePlayer", "YouAreTheNetwork"]
