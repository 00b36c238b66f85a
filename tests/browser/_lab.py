"""Every notebook, run in JupyterLab in a real browser: no errors, widgets render and respond.

The tests live in test_lab_*.py, split so that pytest-xdist (--dist loadfile) can share them
between workers."""

from __future__ import annotations

import time


from conftest import record_time, screenshot_path
from _nbpage import UNRENDERED, code_cells, wait_for, widget_cells

RUN_TIMEOUT = 420          # s for a whole notebook
LOAD_TIMEOUT = 120         # s for JupyterLab to open it and start its kernel

# JavaScript: the open notebook's state, read from JupyterLab's own model (expose_app_in_browser).
STATE_JS = """
(path) => {
  const app = window.jupyterapp;
  if (!app) return {ready: false, why: 'JupyterLab has not started'};
  const panel = app.shell.currentWidget;
  if (!panel || !panel.context || panel.context.path !== path)
    return {ready: false, why: 'notebook not open yet (current: ' + (panel && panel.title.label) + ')'};
  const sc = panel.sessionContext;
  const kernel = sc.session && sc.session.kernel;
  const cells = [];
  panel.content.widgets.forEach((cell, i) => {
    const m = cell.model;
    if (m.type !== 'code') return;
    const outputs = m.outputs.toJSON();
    cells.push({
      index: i,
      source: m.sharedModel.getSource(),
      count: m.executionCount,
      outputs: outputs.map(o => ({
        type: o.output_type, name: o.name || null, ename: o.ename || null,
        evalue: o.evalue || null,
        mimes: Object.keys(o.data || {}),
        text: (o.output_type === 'stream') ? String(o.text).slice(0, 2000)
              : (o.data && o.data['text/plain'] !== undefined) ? String(o.data['text/plain']).slice(0, 2000)
              : (o.output_type === 'error') ? (o.traceback || []).join('\\n').slice(-3000) : null,
      })),
      widgetViews: cell.node.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length,
      domText: cell.node.querySelector('.jp-Cell-outputArea')
               ? cell.node.querySelector('.jp-Cell-outputArea').innerText.slice(0, 4000) : '',
    });
  });
  return {ready: sc.isReady && !!kernel, status: kernel ? kernel.status : 'no kernel',
          kernelName: kernel ? kernel.name : null, cells: cells,
          dialog: document.querySelector('.jp-Dialog') ? document.querySelector('.jp-Dialog').innerText : null};
}
"""


def lab_url(server, notebook: str) -> str:
    ws = "t" + notebook[:2] + str(int(time.time() * 1000))
    return server.url(f"/lab/workspaces/{ws}/tree/notebooks/{notebook}?reset")


def state(page, notebook):
    return page.evaluate(STATE_JS, f"notebooks/{notebook}")


def open_notebook(page, server, notebook, attempts=2):
    """Open the notebook in a fresh workspace and wait for an idle kernel.  A kernel connection
    that never comes up (seen once under load: status 'unknown' for 90 s) gets one more try
    with a reloaded page."""
    last = {}

    def ready():
        last["s"] = s = state(page, notebook)
        if s.get("dialog"):
            raise AssertionError(f"{notebook}: JupyterLab shows a dialog: {s['dialog']!r}")
        return s.get("ready") and s["status"] == "idle"

    timeout = LOAD_TIMEOUT / attempts
    for attempt in range(1, attempts + 1):
        page.goto(lab_url(server, notebook), wait_until="domcontentloaded")
        try:
            wait_for(ready, timeout, lambda: (
                f"{notebook}: JupyterLab did not open the notebook with an idle kernel within "
                f"{timeout:.0f} s, {attempts} tries ("
                f"{last.get('s', {}).get('why') or 'kernel ' + str(last.get('s', {}).get('status'))})"))
            return
        except AssertionError:
            if attempt == attempts:
                raise
            shut_down_kernels(page)


def run_all(page, notebook):
    """Clear the stored outputs, run every cell, wait until each has run; fail on the first error."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    wait_for(lambda: all(c["count"] is None and not c["outputs"] for c in state(page, notebook)["cells"]),
             10, f"{notebook}: clearing the stored outputs did not clear them")
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    started = time.monotonic()
    expected = [i for i, src in enumerate(code_cells(notebook)) if src.strip()]
    last = {}

    def finished():
        last["s"] = s = state(page, notebook)
        for c in s["cells"]:
            for o in c["outputs"]:
                if o["type"] == "error":
                    raise AssertionError(f"{notebook}: cell {c['index']} raised {o['ename']}: {o['evalue']}\n"
                                         f"source:\n{c['source']}\n{o['text']}")
        done = [i for i, c in enumerate(s["cells"]) if c["count"] is not None]
        return s["status"] == "idle" and set(expected) <= set(done)

    def timeout_message():
        s = last.get("s", {})
        pending = [c["index"] for c in s.get("cells", []) if c["count"] is None and c["source"].strip()]
        return (f"{notebook}: not every cell had run after {RUN_TIMEOUT} s "
                f"(kernel {s.get('status')}; cells without an execution count: {pending})")

    wait_for(finished, RUN_TIMEOUT, timeout_message, interval=0.5)
    return time.monotonic() - started, last["s"]


def run_notebook_in_lab(page, lab_server, notebook):
    open_notebook(page, lab_server, notebook)
    seconds, s = run_all(page, notebook)
    record_time("lab", notebook, seconds)
    try:
        check_outputs(page, notebook, s)
        for i in uses(notebook, "TracePlayer"):
            check_trace_player(page, notebook, i)
        for i in uses(notebook, "FaultPanel"):
            check_fault_panel(page, notebook, i)
    finally:
        try:
            save_screenshot(page, notebook)
        finally:
            shut_down_kernels(page)


def shut_down_kernels(page):
    """Closing the page would leave the kernel running in the server: shut it down."""
    page.evaluate("async () => { if (window.jupyterapp) "
                  "await window.jupyterapp.serviceManager.sessions.shutdownAll(); }")


SCROLLER = ".jp-NotebookPanel-notebook .jp-WindowedPanel-outer"


def save_screenshot(page, notebook):
    """The whole notebook in one picture: make the window as tall as the notebook first."""
    height = page.evaluate(f"() => {{ const p = document.querySelector({SCROLLER!r});"
                           " return p ? p.scrollHeight + 150 : 1000; }")
    page.set_viewport_size({"width": 1400, "height": max(1000, min(height + 200, 16000))})
    page.evaluate(f"() => {{ const p = document.querySelector({SCROLLER!r}); if (p) p.scrollTop = 0; }}")
    page.wait_for_timeout(300)   # let the layout settle after the resize
    page.screenshot(path=str(screenshot_path("lab", notebook)))


def check_outputs(page, notebook, s):
    cells = s["cells"]
    # errors: an error output anywhere, or a traceback printed to stderr
    for c in cells:
        for o in c["outputs"]:
            assert o["type"] != "error", f"{notebook}: cell {c['index']} shows {o['ename']}: {o['evalue']}"
            if o["type"] == "stream" and o["name"] == "stderr":
                assert "Traceback (most recent call last)" not in (o["text"] or ""), \
                    f"{notebook}: cell {c['index']} printed a traceback:\n{o['text']}"
    errors_in_dom = page.locator('.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]').count()
    assert errors_in_dom == 0, f"{notebook}: {errors_in_dom} error output(s) on the page"
    # widgets: the cells that build one have a widget output, and every widget output is rendered
    for i in widget_cells(notebook):
        c = cells[i]
        has_view = any("application/vnd.jupyter.widget-view+json" in o["mimes"] for o in c["outputs"])
        assert has_view, (f"{notebook}: cell {c['index']} should display a widget but its outputs are "
                          f"{[o['text'] for o in c['outputs']]}\nsource:\n{c['source']}")
    def unrendered():
        bad = []
        for c in state(page, notebook)["cells"]:
            views = sum("application/vnd.jupyter.widget-view+json" in o["mimes"] for o in c["outputs"])
            if views and c["widgetViews"] < 1:
                bad.append(f"cell {c['index']}: {views} widget output(s), none rendered")
            m = UNRENDERED.search(c["domText"])
            if m:
                bad.append(f"cell {c['index']} shows a widget as text: {c['domText'][m.start():m.start() + 120]!r}")
            if "Error displaying widget" in c["domText"]:
                bad.append(f"cell {c['index']}: {c['domText'][:200]!r}")
        return bad
    bad = []
    try:
        wait_for(lambda: not (bad.__setitem__(slice(None), unrendered()) or bad), 30, "")
    except AssertionError:
        raise AssertionError(f"{notebook}: widgets not rendered:\n" + "\n".join(bad)) from None


# ---- the trace player and the fault panel respond in the browser -------------------------------

def uses(notebook: str, name: str) -> list[int]:
    return [i for i in widget_cells(notebook) if f"{name}(" in code_cells(notebook)[i]]




def cell_locator(page, notebook, code_index):
    s = state(page, notebook)
    return page.locator(".jp-Notebook .jp-Cell").nth(s["cells"][code_index]["index"])


def figure_and_table(widget):
    img = widget.locator("img[src^='data:image/png']").first
    table = widget.locator("table").first
    return img.get_attribute("src"), table.evaluate("t => t.outerHTML")


def wait_changed(widget, before, what, notebook, timeout=30, table=True):
    last = {}

    def changed():
        last["now"] = now = figure_and_table(widget)
        return now[0] != before[0] and (now[1] != before[1] or not table)
    wait_for(changed, timeout, lambda: f"{notebook}: {what}, but within {timeout} s "
             + ("neither the figure nor the state table changed" if last["now"] == before else
                "the figure did not change" if last["now"][0] == before[0] else "the state table did not change"))
    return last["now"]


def check_trace_player(page, notebook, code_index):
    """Pressing step changes the player's figure and its state table."""
    cell = cell_locator(page, notebook, code_index)
    step = cell.get_by_role("button", name="step ▶")
    step.wait_for(timeout=30_000)
    back = cell.get_by_role("button", name="◀ step back")
    # a player may start on its last step, where 'step ▶' does nothing: step back first
    before = figure_and_table(cell)
    back.click()
    before = wait_changed(cell, before, "pressing the trace player's '◀ step back'", notebook)
    step.click()
    wait_changed(cell, before, "pressing the trace player's 'step ▶'", notebook)


def check_fault_panel(page, notebook, code_index):
    """Moving the median-latency slider re-runs the simulation: the figure changes."""
    cell = cell_locator(page, notebook, code_index)
    slider = cell.locator(".widget-slider").filter(has_text="median")
    handle = slider.locator(".noUi-handle").first
    handle.wait_for(timeout=30_000)
    readout = slider.locator(".widget-readout").first
    value = readout.inner_text()
    before = figure_and_table(cell)
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    wait_for(lambda: readout.inner_text() != value, 10,
             f"{notebook}: the fault panel's median slider did not move (still {value})")
    wait_changed(cell, before, f"moving the fault panel's median slider from {value} to "
                 f"{readout.inner_text()}", notebook, table=False)
