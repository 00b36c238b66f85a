"""Every notebook in lecture mode (Voila: code hidden, widgets live), in a real browser."""

from __future__ import annotations

import re
import time

import pytest

from conftest import NOTEBOOKS, record_time, screenshot_path
from _nbpage import UNRENDERED, wait_for, widget_cells

RENDER_TIMEOUT = 420       # s for Voila to execute a whole notebook and show it

# in an error or stderr output: a traceback or an exception line (tqdm's progress text is neither);
# in any output: a traceback, or Voila's own message for a cell that failed
STDERR_ERROR = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b", re.M)
OUTPUT_ERROR = re.compile(r"Traceback \(most recent call last\)|There was an error when executing cell")

STATE_JS = """
() => {
  const loading = document.querySelector('#loading');
  const outputs = Array.from(document.querySelectorAll('.jp-OutputArea-output'));
  return {
    ready: document.readyState === 'complete' && !!document.body && !loading,
    loading: loading ? loading.innerText.slice(0, 200) : null,
    widgets: document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets').length,
    pending: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
    errors: Array.from(document.querySelectorAll(
        '[data-mime-type="application/vnd.jupyter.stderr"], [data-mime-type="application/vnd.jupyter.error"]'))
        .map(e => e.innerText.slice(0, 3000)),
    texts: outputs.map(e => e.innerText.slice(0, 3000)),
    code: document.querySelectorAll('.jp-CodeCell:not(.jp-mod-noInput), .jp-CodeCell .jp-InputArea-editor').length,
  };
}
"""


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_renders_in_voila(page, voila_server, notebook):
    started = time.monotonic()
    page.goto(voila_server.url(f"/voila/render/notebooks/{notebook}"), wait_until="commit",
              timeout=RENDER_TIMEOUT * 1000)
    last = {}
    expected = len(widget_cells(notebook))

    def rendered():
        last["s"] = s = page.evaluate(STATE_JS)
        return s["ready"] and s["widgets"] >= expected and not s["pending"]

    try:
        try:
            wait_for(rendered, RENDER_TIMEOUT, lambda: (
                f"{notebook}: Voila had not finished within {RENDER_TIMEOUT} s "
                f"(loading: {last['s']['loading']!r}; {last['s']['widgets']} widget(s) rendered of at least "
                f"{expected}; {last['s']['pending']} still waiting for the widget manager)"), interval=0.5)
        finally:
            record_time("voila", notebook, time.monotonic() - started)
        s = last["s"]
        errors = [e for e in s["errors"] if STDERR_ERROR.search(e)]
        errors += [t for t in s["texts"] if OUTPUT_ERROR.search(t) and t not in errors]
        assert not errors, f"{notebook}: error output in Voila:\n" + "\n---\n".join(errors)
        assert s["code"] == 0, f"{notebook}: Voila shows code ({s['code']} input area(s)); lecture mode hides it"

        def unrendered():
            s = last["s"] = page.evaluate(STATE_JS)
            bad = [t[m.start():m.start() + 120] for t in s["texts"] for m in [UNRENDERED.search(t)] if m]
            bad += [t[:200] for t in s["texts"] if "Error displaying widget" in t]
            return bad
        # widgets render asynchronously; give a failing one a moment before reporting it
        try:
            wait_for(lambda: not unrendered(), 15, "")
        except AssertionError:
            raise AssertionError(f"{notebook}: widgets shown as text in Voila: {unrendered()}") from None
        assert not page.page_errors, f"{notebook}: JavaScript errors in Voila: {page.page_errors}"
    finally:
        page.screenshot(path=str(screenshot_path("voila", notebook)), full_page=True)
