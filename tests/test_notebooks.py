"""The course notebooks and the tool that builds them (tools/build_notebooks.py).

Sources with solutions live in notebooks/solutions/, student copies in notebooks/; both store their
outputs, which nbval re-checks cell by cell when `pytest` runs (see [tool.pytest.ini_options] in
pyproject.toml). These tests check what nbval cannot: that each student copy is the current derivation
of its source, that every copy was executed top to bottom without errors, and that the exercise checks
answer "Correct" in the sources and give a hint in the student copies. None of them starts a kernel.
With no notebooks yet they pass trivially.
"""
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REBUILD = "rebuild with `make notebooks` (tools/build_notebooks.py)"


def _load_tool():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_tool()
SOURCES = sorted(build.SOLUTIONS.glob("*.ipynb"))
STUDENTS = sorted(build.NOTEBOOKS.glob("*.ipynb"))


def read(path):
    return nbformat.read(path, as_version=4)


def rel(path):
    return str(path.relative_to(ROOT))


# ------------------------------------------------------------------ (i) student copies are current

def test_every_source_has_a_current_student_copy():
    """A student copy is exactly its source with the solutions stripped: same cells, ids, tags, text."""
    stale = []
    for source in SOURCES:
        target = build.student_path(source)
        if not target.exists():
            stale.append(f"{rel(source)}: no student copy {rel(target)}")
            continue
        expected = build.strip_notebook(read(source), rel(source)).cells
        actual = read(target).cells
        if len(expected) != len(actual):
            stale.append(f"{rel(target)}: {len(actual)} cells, its source gives {len(expected)}")
            continue
        for index, (want, got) in enumerate(zip(expected, actual)):
            for key in ("cell_type", "source"):
                if want.get(key) != got.get(key):
                    stale.append(f"{rel(target)}: cell {index} {key} differs from the stripped source")
            if want.metadata.get("tags", []) != got.metadata.get("tags", []):
                stale.append(f"{rel(target)}: cell {index} tags differ from the source")
    assert not stale, f"student copies out of date; {REBUILD}:\n" + "\n".join(stale)


def test_every_student_copy_has_a_source():
    """notebooks/NN-name.ipynb are generated; one without a source would never be rebuilt."""
    orphans = [rel(p) for p in STUDENTS if not (build.SOLUTIONS / p.name).exists()]
    assert not orphans, (
        "student copies without a source in notebooks/solutions/ (move the notebook there and "
        f"{REBUILD}): {orphans}"
    )


# ------------------------------------------------------------------ (ii) executed, no errors, hints

@pytest.mark.parametrize("kind", ["source", "student"])
def test_notebooks_are_executed_cleanly(kind):
    """Every code cell ran in order in a fresh kernel, none shows an error (unless tagged
    raises-exception), and check cells print "Correct" in sources and a "Not yet" hint in student
    copies -- a check must never crash on a missing answer."""
    paths = SOURCES if kind == "source" else STUDENTS
    found = []
    for path in paths:
        found += build.problems(read(path), rel(path), kind)
    assert not found, f"{REBUILD}, then fix what remains:\n" + "\n".join(found)


def test_every_figure_has_a_caption():
    """Every show(...) in a source notebook passes caption=: one sentence of what the figure
    shows, which opens its alt text (the generated description only lists what is in it)."""
    import ast
    missing = []
    for path in SOURCES:
        for i, cell in enumerate(read(path).cells):
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:   # IPython syntax (Replica??): no show() there
                continue
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show"
                        and not any(k.arg == "caption" for k in node.keywords)):
                    missing.append(f"{rel(path)} cell {i}, line {node.lineno}")
    assert not missing, "show(...) without caption=: " + "; ".join(missing)


def _executed(cells):
    nb = new_notebook()
    nb.cells = cells
    return nb


def test_problems_flags_what_the_suite_relies_on():
    """The checks behind the test above: unexecuted cells, errors, out-of-order counts, check lines."""
    check = new_code_cell("check(answer)", execution_count=2, metadata={"tags": ["check"]},
                          outputs=[new_output("stream", name="stdout", text="Correct: well done\n")])
    nb = _executed([new_code_cell("x = 1", execution_count=1), check])
    assert build.problems(nb, "nb", "source") == []
    student = build.problems(nb, "nb", "student")
    assert len(student) == 1 and "'Not yet'" in student[0] and "cell 1" in student[0]

    error = new_output("error", ename="ValueError", evalue="bad", traceback=[])
    nb = _executed([new_code_cell("x = 1"), new_code_cell("boom()", execution_count=2, outputs=[error]),
                    new_code_cell("   ")])
    found = build.problems(nb, "nb", "source")
    assert any("cell 0" in p and "execution count None" in p for p in found)
    assert any("cell 1" in p and "ValueError: bad" in p for p in found)
    assert len(found) == 2  # the blank cell is fine unexecuted

    nb.cells[0].execution_count = 1
    nb.cells[1].metadata["tags"] = ["raises-exception"]
    assert build.problems(nb, "nb", "source") == []

    hint_then_crash = new_code_cell("check(answer)", execution_count=1, metadata={"tags": ["check"]},
                                    outputs=[error])
    found = build.problems(_executed([hint_then_crash]), "nb", "student")
    assert any("ValueError" in p for p in found) and any("'Not yet'" in p for p in found)


# ------------------------------------------------------------------ (iii) the stripping function

@pytest.fixture(scope="module")
def markers():
    nb = read(FIXTURES / "markers.ipynb")
    return nb, build.strip_notebook(nb, "tests/fixtures/markers.ipynb")


def test_markers_and_solutions_removed(markers):
    """Marker lines and everything between them go; the rest of each cell stays as written."""
    _, student = markers
    for cell in student.cells:
        assert "SOLUTION" not in cell.source
    text = "\n".join(c.source for c in student.cells)
    for answer in ('"replica"', "2 * x", "self.promised = msg.n", "half + 1", '"down"', "sum(xs)",
                   "applies the write last"):
        assert answer not in text
    assert student.cells[1].source == "prediction = ...   # your answer"
    assert student.cells[8].source == "**Answer.**\nCompare with your prediction."  # markdown: no pass


def test_whole_body_becomes_pass(markers):
    """A block that is a block opener's whole body is replaced by `pass  # your code here` at its indent."""
    _, student = markers
    assert student.cells[3].source == "def double(x):\n    pass  # your code here\n\n\nprint(double(2))"
    assert student.cells[4].source == (
        "class Acceptor:\n"
        "    def on_prepare(self, msg, sender):  # one handler per message\n"
        "        pass  # your code here\n"
        "\n"
        "    def on_accept(self, msg, sender):\n"
        "        pass  # your code here"
    )
    assert student.cells[6].source == (
        "if crashed:\n    pass  # your code here\nelse:\n    pass  # your code here\nprint(state)"
    )


def test_partial_body_gets_no_pass(markers):
    """Code before (cell 5) or after (cell 7) the block keeps the body non-empty: no placeholder."""
    _, student = markers
    assert student.cells[5].source == 'def majority(n):\n    """Smallest majority of n nodes."""\n    half = n // 2'
    assert student.cells[7].source == "def total(xs):\n    return s"


def test_student_code_compiles(markers):
    source, student = markers
    for cell in student.cells:
        if cell.cell_type == "code":
            compile(cell.source, "<cell>", "exec")
    assert source.cells[1].source.count("SOLUTION") == 2  # the source notebook itself is untouched


def test_student_copy_keeps_ids_tags_and_clears_outputs(markers):
    source, student = markers
    assert [c.id for c in student.cells] == [c.id for c in source.cells]
    assert student.cells[2].metadata["tags"] == ["check"]
    assert all(c.outputs == [] and c.execution_count is None
               for c in student.cells if c.cell_type == "code")


def test_notebook_without_markers_unchanged():
    nb = read(FIXTURES / "no_markers.ipynb")
    assert build.strip_notebook(nb, "no_markers") == nb


def test_unterminated_marker_names_the_cell():
    nb = read(FIXTURES / "unterminated.ipynb")
    with pytest.raises(ValueError, match=r"unterminated\.ipynb: cell 2 \(id unte-2\).*line 2 has no matching"):
        build.strip_notebook(nb, "tests/fixtures/unterminated.ipynb")


@pytest.mark.parametrize("source, message", [
    ("x = 1\n### END SOLUTION", "has no '### BEGIN SOLUTION' before it"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "cannot nest"),
    ("x = ...\n## BEGIN SOLUTION\nx = 1\n## END SOLUTION", "looks like a solution marker"),
    ("x = ...\n# begin solution\nx = 1", "looks like a solution marker"),
])
def test_marker_mistakes_raise(source, message):
    """A typo in a marker must stop the build rather than leak a solution to students."""
    with pytest.raises(ValueError, match=re.escape(message)):
        build.strip_source(source, "nb: cell 0")


def test_stripping_that_breaks_code_is_refused():
    """Markers must wrap whole statements; cutting a block's header off is caught, naming the cell."""
    nb = new_notebook()
    nb.cells = [new_code_cell("x = 1"),
                new_code_cell("y = 2\n### BEGIN SOLUTION\ndef f():\n### END SOLUTION\n    return y")]
    with pytest.raises(ValueError, match=r"nb: cell 1 .*not valid Python"):
        build.strip_notebook(nb, "nb")


def test_normalise_makes_outputs_reproducible():
    """Timing metadata, widget state and views, split streams and memory addresses would churn diffs."""
    nb = new_notebook(metadata={"widgets": {"state": {}}, "language_info": {"name": "python", "version": "3.11.7"}})
    widget = new_output("display_data", data={"text/plain": "  0%|   | 0/9 [00:00<?, ?it/s]",
                                              build.WIDGET_VIEW: {"model_id": "abc"}})
    only_widget = new_output("display_data", data={build.WIDGET_VIEW: {"model_id": "def"}})
    cell = new_code_cell("run()", execution_count=1, metadata={"execution": {"iopub.status.busy": "now"}},
                         outputs=[widget, only_widget,
                                  new_output("stream", name="stdout", text="step 1\rstep 2\n"),
                                  new_output("stream", name="stdout", text="<Node at 0x7f3a9c1d2e50>\n")])
    del cell["id"]
    nb.cells = [cell]
    build.normalise(nb, "demo")
    assert "widgets" not in nb.metadata and "version" not in nb.metadata.language_info
    assert nb.metadata.kernelspec["name"] == "python3"
    assert cell.metadata == {} and cell.id == build.normalise(nb, "demo").cells[0].id
    assert [o.output_type for o in cell.outputs] == ["display_data", "stream"]
    assert cell.outputs[0].data == {"text/plain": "  0%|   | 0/9 [00:00<?, ?it/s]"}
    assert cell.outputs[1].text == "step 2\n<Node at 0x\u2026>\n"
    nbformat.validate(nb)


# ------------------------------------------------------------------ nbval configuration

def test_pytest_runs_every_notebook_with_nbval():
    import tomllib

    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    addopts = options["addopts"].split()
    for flag in ("--nbval", "--nbval-current-env", "--nbval-sanitize-with=nbval-sanitize.cfg"):
        assert flag in addopts
    assert "notebooks" in options["testpaths"] and "tests" in options["testpaths"]
    assert "tests/fixtures" in options["norecursedirs"] and ".*" in options["norecursedirs"]


def test_sanitize_file_masks_unstable_text_only():
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns((ROOT / "nbval-sanitize.cfg").read_text(encoding="utf-8"))
    assert len(patterns) >= 5

    def sanitize(text):
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    unstable = [
        ("[<matplotlib.lines.Line2D at 0x7f3a9c1d2e50>]", "[<matplotlib.lines.Line2D at 0x7f00aa11bb22>]"),
        ("100%|##########| 500/500 [00:01<00:00, 431.20it/s]", "100%|##########| 500/500 [00:02<00:00, 212.73it/s]"),
        ("explored: 1234 states [00:02, 617.01 states/s]", "explored: 1234 states [00:03, 411.3 states/s]"),
        ("explored 12,345 states in 0.61 s (20,237 states/s)", "explored 12,345 states in 1.02 s (12,103 states/s)"),
        ("Wall time: 1.3 s", "Wall time: 812 ms"),
        ("peak memory 123.4 MB", "peak memory 99.0 MB"),
    ]
    for old, new in unstable:
        assert sanitize(old) == sanitize(new), old
    # the build stores addresses already masked; the mask must survive sanitizing unchanged
    assert sanitize(build.ADDRESS) == sanitize("0x7f3a9c1d2e50")
    stable = ["messages per operation: 4n", "Phase 1B: Promise(n=3, accepted=None)", "t=2.5: crash(B)",
              "explored 12,345 states", "[1, 2, 3]", "chosen value: 'x' at 12.0"]
    for text in stable:
        assert sanitize(text) == text
