"""Multi-Paxos with one rule broken: each bug as a small subclass of ``Replica``.

Pass one to ``multipaxos_system(replica=...)``; the system simulates, is checked and runs
as real processes (``replib.runtime``) exactly like the correct one.

    ForgetsPromise   ``promised`` in memory only (what it accepted is on disk): after a
                     crash and restart it has promised nothing, so it accepts an Accept
                     from a leader it had promised to ignore.  Two leaders can then each
                     get a majority for different commands in one slot.  The Multi-Paxos
                     twin of ``misreadings.ForgetsPromise``.
"""

from __future__ import annotations

from .multipaxos import Replica


class ForgetsPromise(Replica):
    """The promised ballot is kept in memory only; everything else is on disk as usual."""

    stable = tuple(name for name in Replica.stable if name != "promised")


MUTANTS = (ForgetsPromise,)
