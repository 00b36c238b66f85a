"""JupyterLab in a real browser, notebooks 00-04 (the checks are in _lab.py)."""

import pytest

from conftest import NOTEBOOKS
from _lab import run_notebook_in_lab


@pytest.mark.parametrize("notebook", [n for n in NOTEBOOKS if n[:2] <= '04'])
def test_notebook_runs_in_lab(page, lab_server, notebook):
    run_notebook_in_lab(page, lab_server, notebook)
