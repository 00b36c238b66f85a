"""Helpers the browser tests share: which notebooks show widgets, what counts as a widget that
failed to render, and the JavaScript that reads a JupyterLab notebook's state."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What a widget looks like when the browser could not render it: ipywidgets' repr
# (interactive(children=...), VBox(...)) or the course widgets' own text/plain fallback.
UNRENDERED = re.compile(
    r"^\s*(interactive|VBox|HBox|Box|Tab|Accordion|GridBox|Output|Button|\w+Slider)\(children=|"
    r"^\s*(interactive|VBox|HBox|Box)\(|"
    r"run this cell in Jupyter", re.M)

# Course widgets a cell may display as its result (constructed in the cell's last line).
WIDGET_CALL = re.compile(r"\b(TracePlayer|FaultPanel|\w+Explorer|LongRun|YouAreTheNetwork|RaftNetwork|interact)\(")


def code_cells(notebook: str) -> list[str]:
    nb = json.loads((ROOT / "notebooks" / notebook).read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def widget_cells(notebook: str) -> list[int]:
    """Indexes (among code cells) of the cells that construct a course widget."""
    out = []
    for i, src in enumerate(code_cells(notebook)):
        lines = [l for l in src.splitlines() if l.strip() and not l.lstrip().startswith(("#", "from ", "import "))]
        if any(WIDGET_CALL.search(l) for l in lines):
            out.append(i)
    return out


def wait_for(predicate, timeout: float, message, interval: float = 0.25):
    """Poll ``predicate()`` until it returns something truthy; fail with ``message()`` after
    ``timeout`` seconds (message may be a callable, evaluated at failure time)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(interval)
