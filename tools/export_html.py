"""Export the course as static HTML that reads without a kernel (`make html`).

    .venv/bin/python tools/export_html.py                 # every notebook into build/html/
    .venv/bin/python tools/export_html.py 00 05           # some of them
    .venv/bin/python tools/export_html.py --out DIR       # somewhere else
    .venv/bin/python tools/export_html.py --no-execute    # stored outputs only (fast; no widgets)
    .venv/bin/python tools/export_html.py --no-input      # hide the code cells

What it writes, for the student copies in notebooks/ (exercises unsolved, as students see them):

- DIR/NN-name.html for each notebook, with a bar linking the index and the previous and next chapter;
- DIR/index.html listing the exported chapters in order, each with the title of its first heading.

Each notebook is executed top to bottom in a fresh `python3` kernel from this environment, in
notebooks/ as its working directory, with the widget state stored (nbclient's
`store_widget_state=True`). The page then carries every figure as an embedded
`data:image/png;base64` image and the state of every widget as an
`application/vnd.jupyter.widget-state+json` script: the page's widget manager
(@jupyter-widgets/html-manager) draws each widget in its initial state -- sliders, buttons and
the figures they show, as after *Run All* -- but nothing reacts to them, since no kernel runs.
Code is shown, as in the notebook: it is what the course teaches (`--no-input` hides it; for a
live presentation without code use Voila, `make lecture`).

The pages load two scripts from a CDN (jsDelivr), each pinned to an exact version with a
subresource-integrity hash (``SCRIPTS``), so a browser runs them only if they are byte for byte
the files published on npm: require.js and the widget manager. Nothing else is fetched: no
MathJax or Mermaid (no chapter needs them; templates/course/ leaves them out). To move a pin,
take the file from the npm tarball (``npm pack @jupyter-widgets/html-manager@VERSION``) and hash
it: ``openssl dgst -sha384 -binary FILE | openssl base64 -A``.

`--no-execute` exports the stored outputs instead: the stored notebooks carry no widget state
(tools/build_notebooks.py drops it), so widgets then appear only as their text fallback. An
execution error stops the export with the failing cell, as `make notebooks` does.
"""
from __future__ import annotations

import argparse
import html
import os
import re
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_notebooks import pick_notebooks  # noqa: E402  (a sibling script, not a package)

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "templates"
NOTEBOOKS = REPO / "notebooks"
DEFAULT_OUT = REPO / "build" / "html"
CELL_TIMEOUT = 600
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
#: every script a page loads: an exact version and the sha384 of the file as published on npm
#: (jsDelivr serves npm files unchanged). html-manager 1.0.x draws ipywidgets 8 widget state.
SCRIPTS = {
    "requirejs": {
        "url": "https://cdn.jsdelivr.net/npm/requirejs@2.3.8/require.js",
        "integrity": "sha384-gzoQyNpzaOK+Aes9TTuBq/ZgYdleZUDN3sFwxyLRbRytLEWofprkKj2F7z3a6nTu",
    },
    "widgets": {
        "url": "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15/dist/embed-amd.js",
        "integrity": "sha384-/x/n24gdFNkRW3aFeWPOJ5tgVI0ZmBOBu6UKswtJLAm6SIAzWBZUdrLEr5A9yXvL",
    },
}


def chosen_notebooks(names: list[str]) -> list[Path]:
    """notebooks/NN-name.ipynb in course order; names match a stem or its NN prefix."""
    available = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    return sorted(pick_notebooks(available, names, "export_html"))


def title_of(nb, fallback: str) -> str:
    """The text of the notebook's first Markdown heading."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"#+\s+(.*\S)", line)
            if match:
                return match.group(1)
    return fallback


def execute(nb, path: Path):
    """Run every cell in a fresh python3 kernel in the notebook's directory, storing widget state."""
    from nbclient import NotebookClient

    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        record_timing=False,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    ).execute()
    return nb


def nav(pages: list[tuple[str, str]], index: int) -> str:
    """The bar at the top and bottom of a chapter: previous, index, next."""
    parts = []
    if index > 0:
        parts.append(f'<a href="{pages[index - 1][0]}">&larr; {html.escape(pages[index - 1][1])}</a>')
    parts.append('<a href="index.html">Contents</a>')
    if index + 1 < len(pages):
        parts.append(f'<a href="{pages[index + 1][0]}">{html.escape(pages[index + 1][1])} &rarr;</a>')
    return ('<nav class="course-nav" style="font-family: sans-serif; margin: 1em auto; '
            'max-width: 1200px; padding: 0 1em; display: flex; gap: 2em;">'
            + "".join(parts) + "</nav>")


def link_chapters(body: str, stems: set[str]) -> str:
    """Links between exported chapters (`05-paxos.ipynb#x`) point at their HTML pages."""
    def replace(match):
        stem = match.group(2)
        return f'{match.group(1)}{stem}.html' if stem in stems else match.group(0)
    return re.sub(r'(href=")(?:\./)?(?:solutions/)?(\d\d-[\w-]+)\.ipynb', replace, body)


def index_page(pages: list[tuple[str, str]], course: str) -> str:
    items = "\n".join(f'    <li><a href="{href}">{html.escape(title)}</a></li>' for href, title in pages)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{html.escape(course)}</title>
  <style>
    body {{ font-family: sans-serif; max-width: 50em; margin: 2em auto; padding: 0 1em; line-height: 1.5; }}
    li {{ margin: 0.4em 0; }}
  </style>
</head>
<body>
  <h1>{html.escape(course)}</h1>
  <p>A static copy of the course notebooks, executed top to bottom: figures included, widgets shown
  in their initial state (they do not respond without a kernel). To run the course, open it in
  JupyterLab (<code>make lab</code>) or on Binder.</p>
  <ol start="0">
{items}
  </ol>
</body>
</html>
"""


def course_title() -> str:
    readme = REPO / "README.md"
    if readme.exists():
        for line in readme.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return "Course"


def export(paths: list[Path], out: Path, run: bool = True, no_input: bool = False,
           log=print) -> list[Path]:
    """Write out/NN-name.html for each notebook and out/index.html; returns the written files."""
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="course", extra_template_basedirs=[str(TEMPLATES)],
                            embed_images=True, exclude_input=no_input,
                            exclude_input_prompt=no_input, exclude_output_prompt=no_input)
    notebooks, pages = [], []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        title = title_of(nb, path.stem)
        notebooks.append((path, nb, title))
        pages.append((f"{path.stem}.html", title))
    stems = {path.stem for path in paths}

    written = []
    for number, (path, nb, title) in enumerate(notebooks):
        started = time.perf_counter()
        if run:
            execute(nb, path)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title},
                                                             "course_scripts": SCRIPTS})
        body = link_chapters(body, stems)
        bar = nav(pages, number)
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + bar, body, count=1)
        body = body.replace("</body>", bar + "</body>", 1)
        target = out / pages[number][0]
        target.write_text(body, encoding="utf-8")
        written.append(target)
        state = "widget state" if WIDGET_STATE in nb.metadata.get("widgets", {}) else "no widgets"
        log(f"{path.relative_to(REPO)} -> {target}  ({time.perf_counter() - started:.1f} s, {state})")
    index = out / "index.html"
    index.write_text(index_page(pages, course_title()), encoding="utf-8")
    written.append(index)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("names", nargs="*", help="notebooks to export, e.g. 00 05 (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: build/html)")
    parser.add_argument("--no-execute", action="store_true",
                        help="export the stored outputs instead of executing (widgets as text only)")
    parser.add_argument("--no-input", action="store_true", help="hide code cells")
    args = parser.parse_args(argv)

    paths = chosen_notebooks(args.names)
    if not paths:
        print("export_html: no notebooks in notebooks/ -- nothing to export.")
        return 0
    os.environ.pop("MPLBACKEND", None)  # the kernel draws with the inline backend, as in JupyterLab
    started = time.perf_counter()
    try:
        export(paths, args.out, run=not args.no_execute, no_input=args.no_input)
    except Exception as exc:  # nbclient's CellExecutionError names the cell and shows the traceback
        print(f"export_html: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"{len(paths)} notebook(s) exported in {time.perf_counter() - started:.1f} s; "
          f"open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
