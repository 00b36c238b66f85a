#!/usr/bin/env python3
"""Build the course notebooks: execute each source, derive its student copy, execute that too.

    python tools/build_notebooks.py               # every notebook in notebooks/solutions/
    python tools/build_notebooks.py 00 05-paxos   # only these (number, stem, file name or path)

(`make notebooks` runs this with the project's virtual environment.)

Layout
    notebooks/solutions/NN-name.ipynb   source: text, code and solutions; outputs stored.
    notebooks/NN-name.ipynb             student copy, generated: solutions removed, executed,
                                        outputs stored. This is what readers open. Never edit it
                                        by hand; edit the source and rebuild.

Solution markers (in code cells; also allowed in markdown cells)

    prediction = ...   # your answer
    ### BEGIN SOLUTION
    prediction = "replica"
    ### END SOLUTION

The student copy drops the marker lines and everything between them. When the block is the
whole body of a block opener (the previous code line ends with ':' and no code of the body
follows the block), it becomes `pass  # your code here` at the block's indentation, so the
student's code still runs. A marker without its partner, nested markers, or a malformed marker
(e.g. `## BEGIN SOLUTION`) raise ValueError naming the notebook and cell: a typo must never leak
a solution into the student copy.

What a build does, per notebook
  1. derive the student copy (fails fast on marker errors);
  2. execute the source headlessly in place (a fresh `python3` kernel from the environment
     running this script: the Restart & Run All equivalent) and check it: no error outputs
     (except in cells tagged `raises-exception`), every `check` cell prints "Correct...";
  3. execute the student copy and check it the same way, except that every `check` cell must
     print a hint ("Not yet..."): the exercise is unsolved, and the check must not crash;
  4. normalise and write both files (see `normalise`), so a rebuild without changes gives
     byte-identical files, and a rebuild after a change gives a minimal diff.
A notebook that fails is not written; the build goes on with the others and exits non-zero
naming the notebook, the cell and the error.

Working directory: every notebook is executed in the directory that holds it
(notebooks/solutions/ for sources, notebooks/ for student copies) -- exactly what JupyterLab and
nbval do, so stored outputs are what readers and the test suite see. Consequently notebooks
must not depend on the working directory: no relative file paths; reach files through replib
(e.g. importlib.resources). Because the two copies run in different directories, a notebook that
breaks this rule fails the build.
"""
from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import io
import os
import re
import sys
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
PLACEHOLDER = "pass  # your code here"
CHECK_TAG = "check"
RAISES_TAG = "raises-exception"  # nbclient's and nbval's tag for a cell that may show an error
CORRECT = "Correct"
HINT = "Not yet"

CELL_TIMEOUT = 600  # seconds per cell; chapters are meant to run in seconds
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

_ANY_MARKER = re.compile(r"^\s*#+\s*(BEGIN|END)[\s_-]*SOLUTIONS?\b", re.IGNORECASE)


# --------------------------------------------------------------------------- stripping

def _marker(line: str, where: str, lineno: int) -> str | None:
    """'begin', 'end' or None for one source line; ValueError for a near-miss marker."""
    stripped = line.strip()
    if stripped == BEGIN:
        return "begin"
    if stripped == END:
        return "end"
    if _ANY_MARKER.match(line):
        raise ValueError(
            f"{where}: line {lineno} looks like a solution marker but is not exactly "
            f"{BEGIN!r} or {END!r}: {stripped!r}"
        )
    return None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _without_comment(line: str) -> str:
    """The line without a trailing # comment (quote-aware, single line)."""
    quote = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 1
            elif line.startswith(quote, i):
                i += len(quote) - 1
                quote = None
        elif ch in "'\"":
            quote = line[i:i + 3] if line[i:i + 3] in ("'''", '"""') else ch
            i += len(quote) - 1
        elif ch == "#":
            return line[:i]
        i += 1
    return line


def strip_source(source: str, where: str = "cell", code: bool = True) -> str:
    """Remove the solution blocks from one cell's source (see the module docstring).

    `where` names the cell in error messages; `code` enables the `pass` placeholder.
    """
    lines = source.split("\n")
    blocks: list[tuple[int, int]] = []
    begin = None
    for i, line in enumerate(lines):
        kind = _marker(line, where, i + 1)
        if kind == "begin":
            if begin is not None:
                raise ValueError(
                    f"{where}: {BEGIN!r} on line {i + 1} inside the block opened on line "
                    f"{begin + 1}; solution blocks cannot nest"
                )
            begin = i
        elif kind == "end":
            if begin is None:
                raise ValueError(f"{where}: {END!r} on line {i + 1} has no {BEGIN!r} before it")
            blocks.append((begin, i))
            begin = None
    if begin is not None:
        raise ValueError(f"{where}: {BEGIN!r} on line {begin + 1} has no matching {END!r}")
    if not blocks:
        return source

    removed = {i for b, e in blocks for i in range(b, e + 1)}
    starts = {b: e for b, e in blocks}
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i not in starts:
            if i not in removed:
                out.append(lines[i])
            i += 1
            continue
        b, e = i, starts[i]
        i = e + 1
        if not code:
            continue
        opener = next((ln for ln in reversed(out) if _is_code(ln)), None)
        if opener is None or not _without_comment(opener).rstrip().endswith(":"):
            continue
        body = [ln for ln in lines[b + 1:e] if ln.strip()]
        indent = _indent(body[0]) if body else _indent(lines[b])
        if len(indent) <= len(_indent(opener)):
            indent = _indent(opener) + "    "
        following = next(
            (lines[j] for j in range(e + 1, len(lines)) if j not in removed and _is_code(lines[j])),
            None,
        )
        if following is not None and len(_indent(following)) >= len(indent):
            continue  # the body goes on after the block
        out.append(indent + PLACEHOLDER)
    return "\n".join(out)


def _compiles(source: str) -> bool:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        pass
    try:
        compile(source, "<cell>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError:
        return False
    return True


def describe(name: str, index: int, cell) -> str:
    cell_id = cell.get("id")
    return f"{name}: cell {index}" + (f" (id {cell_id})" if cell_id else "")


def strip_notebook(nb, name: str = "notebook"):
    """The student copy of a source notebook: a new notebook, solutions removed, outputs cleared.

    Raises ValueError naming the notebook and cell for a marker error, or when stripping turns
    code that compiled into code that does not.
    """
    student = copy.deepcopy(nb)
    for index, cell in enumerate(student.cells):
        if cell.cell_type not in ("code", "markdown"):
            continue
        where = describe(name, index, cell)
        original = cell.source
        cell.source = strip_source(original, where, code=cell.cell_type == "code")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            if cell.source != original and _compiles(original) and not _compiles(cell.source):
                raise ValueError(
                    f"{where}: the student version of this cell is not valid Python; put the "
                    f"markers around whole statements.\n--- student version ---\n{cell.source}"
                )
    return student


# --------------------------------------------------------------------------- checking

def output_text(cell) -> str:
    """All text a cell printed or displayed, in order."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("display_data", "execute_result"):
            data = out.get("data", {})
            parts.append(data.get("text/markdown") or data.get("text/plain") or "")
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "".join(parts)


def problems(nb, name: str, kind: str) -> list[str]:
    """What is wrong with an executed notebook; kind is 'source' or 'student'."""
    expected = CORRECT if kind == "source" else HINT
    found = []
    count = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        where = describe(name, index, cell)
        tags = cell.metadata.get("tags", [])
        count += 1
        if cell.execution_count != count:
            found.append(
                f"{where}: execution count {cell.execution_count}, expected {count} "
                "(not executed top to bottom in a fresh kernel)"
            )
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors and RAISES_TAG not in tags:
            found.append(f"{where}: error output {errors[0].ename}: {errors[0].evalue}")
        if CHECK_TAG in tags:   # the line the check printed (it may also draw a diagram)
            text = "".join(o.text for o in cell.outputs if o.output_type == "stream").lstrip()
            if not text.startswith(expected):
                shown = text.splitlines()[0] if text else "nothing"
                found.append(
                    f"{where}: check cell of the {kind} should print a line starting with "
                    f"{expected!r}, printed {shown!r}"
                )
    return found


# --------------------------------------------------------------------------- normalising

_CR = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")  # nbval-sanitize.cfg maps live addresses to the same text
ADDRESS = "0x…"


def _deterministic_id(name: str, index: int, taken: set[str]) -> str:
    salt = 0
    while True:
        cell_id = hashlib.sha1(f"{name}:{index}:{salt}".encode()).hexdigest()[:8]
        if cell_id not in taken:
            return cell_id
        salt += 1


def normalise(nb, name: str):
    """Make an executed notebook reproducible byte for byte.

    - notebook metadata: kernelspec python3; language_info without the Python patch version;
      no widget state (it is large, full of random model ids, and useless without a kernel);
    - cell metadata: no execution timing;
    - outputs: widget views dropped (their text/plain fallback stays: without widget state a
      view would only say "Error displaying widget"); consecutive stream outputs merged and
      carriage-return overwrites resolved, as JupyterLab shows them; memory addresses
      (`<... at 0x7f3a...>`) in text shown as `0x…` (better: end such a line with `;`);
    - nbformat 4.5 with a deterministic id for any cell that has none.
    """
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 5))
    meta = nb.metadata
    meta.pop("widgets", None)
    meta["kernelspec"] = dict(KERNELSPEC)
    if "language_info" in meta:
        meta["language_info"].pop("version", None)
    taken = {c.get("id") for c in nb.cells if c.get("id")}
    for index, cell in enumerate(nb.cells):
        if not cell.get("id"):
            cell["id"] = _deterministic_id(name, index, taken)
            taken.add(cell["id"])
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.outputs:
            if out.output_type in ("display_data", "execute_result"):
                out.get("data", {}).pop(WIDGET_VIEW, None)
                if not out.get("data"):
                    continue
            if (out.output_type == "stream" and outputs
                    and outputs[-1].output_type == "stream" and outputs[-1].name == out.name):
                outputs[-1].text += out.text
                continue
            outputs.append(out)
        for out in outputs:
            if out.output_type == "stream":
                out.text = _ADDRESS.sub(ADDRESS, _CR.sub("", out.text))
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/") and isinstance(value, str):
                    out.data[mime] = _ADDRESS.sub(ADDRESS, value)
        cell.outputs = outputs
    return nb


# --------------------------------------------------------------------------- executing

class BuildError(Exception):
    pass


def execute(nb, cwd: Path, label: str):
    """Run every cell in a fresh python3 kernel with `cwd` as working directory, in place."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from tqdm import tqdm

    total = sum(1 for c in nb.cells if c.cell_type == "code" and c.source.strip())
    current = {"index": None}
    with tqdm(total=total, desc=label, unit="cell", leave=False, file=sys.stderr,
              dynamic_ncols=True) as bar:
        def on_cell_start(cell, cell_index):
            current["index"] = cell_index

        def on_cell_executed(cell, cell_index, execute_reply):
            bar.update(1)

        for c in nb.cells:  # Restart & Run All starts from no outputs
            if c.cell_type == "code":
                c.outputs, c.execution_count = [], None
        client = NotebookClient(
            nb,
            kernel_name="python3",
            timeout=CELL_TIMEOUT,
            resources={"metadata": {"path": str(cwd)}},
            record_timing=False,
            store_widget_state=False,
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            on_cell_start=on_cell_start,
            on_cell_executed=on_cell_executed,
        )
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            index = current["index"]
            where = describe(label, index, nb.cells[index]) if index is not None else label
            raise BuildError(f"{where} failed:\n{exc}") from None
    return nb


def write(nb, path: Path) -> None:
    nbformat.validate(nb)
    buffer = io.StringIO()
    nbformat.write(nb, buffer)
    text = buffer.getvalue()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def student_path(source: Path) -> Path:
    return NOTEBOOKS / source.name


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def pick_notebooks(available: list[Path], names: list[str], tool: str) -> list[Path]:
    """The notebooks among ``available`` that ``names`` pick (a stem, its NN prefix, or a
    file name), in order of the names; all of them when no name is given."""
    if not names:
        return available
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb")
        hits = [p for p in available if p.stem == stem or p.stem.startswith(stem + "-")]
        if not hits:
            known = ", ".join(p.stem for p in available) or "none"
            raise SystemExit(f"{tool}: no notebook matches {name!r} (available: {known})")
        chosen.extend(h for h in hits if h not in chosen)
    return chosen


def source_notebooks(names: list[str]) -> list[Path]:
    return pick_notebooks(sorted(SOLUTIONS.glob("*.ipynb")), names, "build_notebooks")


def build_one(source: Path) -> tuple[float, float]:
    """Build one notebook; returns (source seconds, student seconds)."""
    name = relative(source)
    nb = nbformat.read(source, as_version=4)
    student = strip_notebook(nb, name)

    started = time.perf_counter()
    execute(nb, SOLUTIONS, name)
    source_time = time.perf_counter() - started
    normalise(nb, source.stem)
    found = problems(nb, name, "source")

    target = student_path(source)
    started = time.perf_counter()
    execute(student, NOTEBOOKS, relative(target))
    student_time = time.perf_counter() - started
    normalise(student, source.stem)
    found += problems(student, relative(target), "student")
    if found:
        raise BuildError("\n".join(found))
    write(nb, source)
    write(student, target)
    return source_time, student_time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("names", nargs="*", help="notebooks to build (default: all)")
    args = parser.parse_args(argv)

    sources = source_notebooks(args.names)
    if not sources:
        print(f"build_notebooks: no source notebooks in {relative(SOLUTIONS)}/ -- nothing to build.")
        return 0
    try:
        import nbclient  # noqa: F401
        import replib  # noqa: F401
    except ImportError as exc:
        print(f"build_notebooks: {exc}. Run `make notebooks` (it sets up .venv with replib installed).",
              file=sys.stderr)
        return 2
    os.environ.pop("MPLBACKEND", None)  # let the kernel use the inline backend, as in JupyterLab
    os.environ["REPLIB_LINT"] = "1"     # show() refuses a figure whose text overlaps or is cut

    from tqdm import tqdm

    times: dict[str, tuple[float, float]] = {}
    failures: dict[str, str] = {}
    started = time.perf_counter()
    for source in tqdm(sources, desc="notebooks", unit="nb", file=sys.stderr, disable=len(sources) < 2):
        try:
            times[source.stem] = build_one(source)
        except (BuildError, ValueError) as exc:
            failures[source.stem] = str(exc)
    total = time.perf_counter() - started

    if times:
        width = max(len(n) for n in times)
        print(f"\n{'notebook':<{width}}  source  student")
        for n, (a, b) in times.items():
            print(f"{n:<{width}}  {a:5.1f} s  {b:5.1f} s")
    print(f"built {len(times)} of {len(sources)} notebook(s) in {total:.1f} s")
    for n, message in failures.items():
        print(f"\nFAILED {n} (not written):\n{message}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
