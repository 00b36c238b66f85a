"""Every figure the test suite shows must read at a glance: with REPLIB_LINT set, ``show``
refuses a figure whose text overlaps other text or is cut off (``replib.viz.lint``).  The
notebook kernels that nbval starts inherit it, so every figure of every notebook is
checked on every run."""

import os

os.environ.setdefault("REPLIB_LINT", "1")
