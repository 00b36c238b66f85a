"""``python -m replib.runtime``: one node process (``replib.runtime.process``), started by a
``Cluster``, which writes the node's configuration to its stdin."""

import sys

from .process import main

sys.exit(main())
