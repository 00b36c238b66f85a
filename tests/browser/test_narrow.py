"""Every notebook's stored figures in a narrow window (700 px wide), in a real browser: each
page is the notebook as nbconvert's JupyterLab template renders it (stored outputs, nothing
executed), and each figure must fit the output area without being shrunk so much that its
text becomes unreadable.  A full-page screenshot per notebook goes to $SCREENSHOT_DIR
(narrow-NN-name.png) for a person to look at."""

from __future__ import annotations

import pytest

from conftest import NOTEBOOKS, ROOT, screenshot_path

WIDTH = 700
#: the smallest on-screen scale of a figure: its 11 pt text (15 px at 100 dpi) stays >= 9 px
MIN_SCALE = 0.6

IMAGES_JS = """
() => ({
  scroll: document.documentElement.scrollWidth,
  images: Array.from(document.querySelectorAll('.jp-OutputArea-output img')).map(
      img => ({natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
               alt: (img.getAttribute('alt') || '').slice(0, 80)})),
})
"""


@pytest.fixture(scope="module")
def narrow_page(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_figures_read_in_a_narrow_window(narrow_page, tmp_path, notebook):
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(ROOT / "notebooks" / notebook, as_version=4)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    page_file = tmp_path / "page.html"
    page_file.write_text(body, encoding="utf-8")
    narrow_page.goto(page_file.as_uri(), wait_until="load")
    found = narrow_page.evaluate(IMAGES_JS)
    narrow_page.screenshot(path=str(screenshot_path("narrow", notebook)), full_page=True)
    assert found["scroll"] <= WIDTH + 1, f"{notebook}: the page scrolls sideways at {WIDTH} px"
    small = [f"{i['alt']!r}: {i['shown']:.0f} of {i['natural']} px"
             for i in found["images"] if i["natural"] and i["shown"] / i["natural"] < MIN_SCALE]
    assert not small, (f"{notebook}: figures shrunk below {MIN_SCALE:.0%} at {WIDTH} px, their "
                       f"text too small to read: {small}")
