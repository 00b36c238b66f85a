"""Every figure the test suite shows must read at a glance: with REPLIB_LINT set, ``show``
refuses a figure whose text overlaps other text or is cut off (``replib.viz.lint``).  The
notebook kernels that nbval starts inherit it, so every figure of every notebook is
checked on every run."""

import os

os.environ.setdefault("REPLIB_LINT", "1")


# Longest first: `make test` runs files on two workers (--dist loadfile) in collection order
# (--no-loadscope-reorder), so the files that take minutes start at once and the many short
# ones fill the other worker, instead of a long file starting last while the other worker
# idles.  The order changes only when tests run, never what they check.
LONGEST_FIRST = ("tests/test_binder_parity.py", "tests/browser/test_lab_second.py",
                 "tests/browser/test_voila.py", "tests/browser/test_lab_first.py",
                 "tests/test_reductions.py")


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)          # stable: each file's tests keep their order
