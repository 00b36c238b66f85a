"""Lecture mode: `make lecture NB=05` runs a chapter in Voila (code hidden, widgets live).

A headless smoke test: Voila serves the start-here notebook on a free local port, the page it
renders (Voila executes every cell before the page is complete) has the chapter's text and its
widgets, none of its code, and no error. The widgets' behaviour in a real browser is tested in
tests/browser/. Also: the make target picks the right notebook.
"""
import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00-start-here.ipynb"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port, process, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"voila exited with {process.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"voila did not listen on port {port} within {seconds} s")


def test_voila_renders_start_here_without_code_or_errors(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    log = open(tmp_path / "voila.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "voila", str(NOTEBOOK), "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", "--Voila.port_retries=0", "--show_tracebacks=True"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(port, process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=180) as response:
            status, page = response.status, response.read().decode("utf-8")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.seek(0)
        server_log = log.read()
        log.close()
    assert status == 200, server_log
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S))
    for bad in ("Traceback", "There was an error when executing cell", "Error displaying widget"):
        assert bad not in text, f"{bad!r} in the rendered page\n{server_log}"

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert "Start here" in text  # the Markdown
    assert "application/vnd.jupyter.widget-view+json" in page, "no live widget in the page"
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = [line.strip() for c in nb.cells if c.cell_type == "code" for line in c.source.splitlines()
            if len(line.strip()) > 25 and not line.strip().startswith("#") and line.strip() not in prose]
    assert code
    shown = [line for line in code if line in page or html.escape(line, quote=False) in page]
    assert not shown, f"code shown in lecture mode: {shown[:3]}"


def dry_run(*args, env=None):
    return subprocess.run(["make", "-n", "--no-print-directory", "lecture", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60).stdout


def test_make_lecture_picks_the_chapter():
    assert re.search(r"/voila notebooks/05-paxos\.ipynb\b", dry_run("NB=05"))
    assert re.search(r"/voila notebooks/05-paxos\.ipynb\b", dry_run("NB=05-paxos.ipynb"))
    assert re.search(r"/voila notebooks/\s", dry_run())  # no NB: the list of chapters
    assert "no notebook notebooks/42-*.ipynb" in dry_run("NB=42")


def test_make_lecture_opens_no_browser_without_a_display():
    headless = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    line = dry_run("NB=00", env=headless)
    expected = "" if sys.platform == "darwin" else " --no-browser"
    assert re.search(rf"/voila notebooks/00-start-here\.ipynb{expected}\s*$", line, re.M), line
    shown = dry_run("NB=00", env={**headless, "DISPLAY": ":0"})
    assert re.search(r"/voila notebooks/00-start-here\.ipynb\s*$", shown, re.M), shown


def test_make_lecture_listens_beyond_this_machine_only_with_a_token():
    """Voila without a token on 0.0.0.0 would let anyone who reaches the port run code in its
    kernels: make lecture refuses that (before starting anything) and says how to add one;
    with a token, or on this machine only, it runs."""
    for args in ("--Voila.ip=0.0.0.0", "--ip=192.168.1.5", "--Voila.ip 0.0.0.0", "--Voila.ip="):
        done = subprocess.run(["make", "-n", "--no-print-directory", "lecture", "NB=05",
                               f"LECTURE_ARGS={args}"], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode != 0 and "/voila " not in done.stdout, args
        assert "without a token" in done.stderr and f'LECTURE_ARGS="{args} --token"' in done.stderr
    for args in ("--Voila.ip=0.0.0.0 --token", "--ip=0.0.0.0 --Voila.token=s3cret",
                 "--Voila.ip=127.0.0.1", "--port 8899"):
        assert re.search(rf"/voila notebooks/05-paxos\.ipynb\b.*{re.escape(args)}",
                         dry_run("NB=05", f"LECTURE_ARGS={args}")), args
