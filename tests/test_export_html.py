"""The static HTML export of the course (`make html`, tools/export_html.py).

Two chapters are exported into a temporary folder (executed, as `make html` does; about 15 s),
and the pages are checked for what a reader without a kernel needs: an index linking every chapter
in order, figures embedded in the page, the widget state embedded so the widgets draw in their
initial state, the code shown, and links between the pages. `--no-input` is checked on stored
outputs (no kernel).
"""
import html
import importlib.util
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["00", "01"]
INPUT_AREA = re.compile(r'<div class="[^"]*\bjp-InputArea-editor\b')  # a code cell's input, not the CSS rule


def _load_tool():
    spec = importlib.util.spec_from_file_location("export_html", ROOT / "tools" / "export_html.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def scripts(page, mime):
    return [json.loads(body) for body in re.findall(rf'<script type="{re.escape(mime)}">(.*?)</script>', page, re.S)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    paths = tool.chosen_notebooks(CHAPTERS)
    saved = os.environ.pop("MPLBACKEND", None)
    try:
        written = tool.export(paths, out, log=lambda *a: None)
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved
    return paths, out, written


def test_chosen_notebooks_match_prefixes_in_course_order():
    paths = tool.chosen_notebooks(["01", "00-start-here"])
    assert [p.name for p in paths] == ["00-start-here.ipynb", "01-sync-vs-async.ipynb"]
    assert tool.chosen_notebooks([]) == sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    with pytest.raises(SystemExit, match="no notebook matches"):
        tool.chosen_notebooks(["99"])


def test_index_links_every_chapter_in_order(exported):
    paths, out, written = exported
    assert sorted(p.name for p in written) == sorted([f"{p.stem}.html" for p in paths] + ["index.html"])
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', index)
    assert [href for href, _ in links] == [f"{p.stem}.html" for p in paths]
    for (href, title), path in zip(links, paths):
        assert (out / href).is_file()
        assert html.unescape(title) == tool.title_of(nbformat.read(path, as_version=4), path.stem)
    assert html.unescape(links[0][1]).startswith("00 · Start here")


def test_pages_link_the_index_and_each_other(exported):
    paths, out, _ = exported
    first = (out / f"{paths[0].stem}.html").read_text(encoding="utf-8")
    second = (out / f"{paths[1].stem}.html").read_text(encoding="utf-8")
    assert 'href="index.html"' in first and 'href="index.html"' in second
    assert f'href="{paths[1].stem}.html"' in first
    assert f'href="{paths[0].stem}.html"' in second


def test_figures_are_embedded(exported):
    paths, out, _ = exported
    for path in paths:
        page = (out / f"{path.stem}.html").read_text(encoding="utf-8")
        assert "data:image/png;base64," in page, f"{path.name}: no embedded figure"
        sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page)
        assert sources and all(s.startswith("data:") for s in sources), (
            f"{path.name}: images that are not embedded: {[s for s in sources if not s.startswith('data:')]}")


def test_widget_state_is_embedded_for_every_widget_shown(exported):
    paths, out, _ = exported
    for path in paths:
        page = (out / f"{path.stem}.html").read_text(encoding="utf-8")
        states = scripts(page, "application/vnd.jupyter.widget-state+json")
        assert len(states) == 1, f"{path.name}: {len(states)} widget-state scripts"
        state = states[0]["state"]
        views = scripts(page, "application/vnd.jupyter.widget-view+json")
        assert views, f"{path.name}: no widget shown"
        missing = [v["model_id"] for v in views if v["model_id"] not in state]
        assert not missing, f"{path.name}: widgets without stored state: {missing}"
        assert "@jupyter-widgets/html-manager" in page  # the manager that draws them from the state
        assert "Error displaying widget" not in page


def test_code_is_shown_and_no_cell_failed(exported):
    paths, out, _ = exported
    for path in paths:
        page = (out / f"{path.stem}.html").read_text(encoding="utf-8")
        nb = nbformat.read(path, as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        first_line = code[0].splitlines()[0].strip()
        assert first_line in text, f"{path.name}: code not shown ({first_line!r})"
        assert "Traceback (most recent call last)" not in text
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page, f"{path.name}: stderr output"
        assert INPUT_AREA.search(page)


def test_no_input_hides_code_from_stored_outputs(tmp_path):
    path = tool.chosen_notebooks(["00"])
    tool.export(path, tmp_path, run=False, no_input=True, log=lambda *a: None)
    page = (tmp_path / f"{path[0].stem}.html").read_text(encoding="utf-8")
    nb = nbformat.read(path[0], as_version=4)
    code = next(c.source for c in nb.cells if c.cell_type == "code" and len(c.source.strip()) > 20)
    assert not INPUT_AREA.search(page)
    assert "data:image/png;base64," in page  # outputs stay
    assert html.unescape(re.sub(r"<[^>]+>", "", page)).find(code.splitlines()[0].strip()) == -1


def test_every_script_from_a_cdn_is_pinned_and_checked(exported, tmp_path):
    """A page loads require.js and the widget manager from jsDelivr, each at an exact version
    with the sha384 a browser checks before running it; no other script, and no dynamic
    import from anywhere (MathJax and Mermaid are left out).  A page without widgets loads
    require.js only."""
    paths, out, _ = exported
    pinned = {s["url"]: s["integrity"] for s in tool.SCRIPTS.values()}
    for url, integrity in pinned.items():
        assert re.match(r"https://cdn\.jsdelivr\.net/npm/(@[\w-]+/)?[\w-]+@\d+\.\d+\.\d+/", url)
        assert re.fullmatch(r"sha384-[A-Za-z0-9+/]{64}", integrity)
    plain = tool.export(tool.chosen_notebooks(["00"]), tmp_path, run=False, log=lambda *a: None)
    for page_path, expected in [(out / f"{p.stem}.html", set(pinned)) for p in paths] + [
            (plain[0], {tool.SCRIPTS["requirejs"]["url"]})]:
        page = page_path.read_text(encoding="utf-8")
        tags = re.findall(r"<script\b[^>]*\bsrc=[^>]*>", page)
        sources = {re.search(r'src="([^"]+)"', t).group(1): t for t in tags}
        assert set(sources) == expected, page_path.name
        for url, tag in sources.items():
            assert f'integrity="{pinned[url]}"' in tag and 'crossorigin="anonymous"' in tag
        assert not re.search(r"""import\(\s*["']https?:|\.src\s*=\s*["'`]https?:|@\*/""", page)


def test_the_widget_manager_pin_draws_this_ipywidgets():
    """html-manager 1.x draws the widget state of ipywidgets 8 (the version pinned in
    requirements.txt): moving one pin means moving the other."""
    ipywidgets = re.search(r"^ipywidgets==(\d+)\.", (ROOT / "requirements.txt").read_text(), re.M)
    manager = re.search(r"html-manager@(\d+)\.", tool.SCRIPTS["widgets"]["url"])
    assert (ipywidgets.group(1), manager.group(1)) == ("8", "1")
