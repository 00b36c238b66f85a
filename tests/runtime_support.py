"""What every test of ``replib.runtime`` shares: no node process may outlive its test.

Import the fixture into a test module (``from runtime_support import no_process_left_behind``)
and it runs around every test there: after the test, passed or failed, every cluster still
running is stopped (its process groups killed), then the test fails if any node process
started by this interpreter is still alive.
"""

import pytest

from replib.runtime import running_processes, stop_all


@pytest.fixture(autouse=True)
def no_process_left_behind():
    yield
    stop_all()
    left = running_processes()
    assert not left, f"node processes still running after the test: {left}"
