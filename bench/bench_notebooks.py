"""How long every notebook takes to run top to bottom (a fresh kernel each, as a reader's
"Restart Kernel and Run All" does).

    python bench/bench_notebooks.py

Times both the source notebooks (notebooks/solutions/) and the student copies
(notebooks/), executed in memory: nothing is written.  The course's rule is that a chapter
runs in a few seconds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def main():
    paths = sorted((ROOT / "notebooks" / "solutions").glob("[0-9][0-9]-*.ipynb"))
    paths += sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    if not paths:
        print("no notebooks yet")
        return
    total = 0.0
    for path in paths:
        seconds = run(path)
        total += seconds
        print(f"{str(path.relative_to(ROOT)):<48} {seconds:6.1f} s (kernel start included)")
    print(f"{'all notebooks':<48} {total:6.1f} s")


if __name__ == "__main__":
    sys.exit(main())
