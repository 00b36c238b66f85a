"""Real-browser tests: JupyterLab and Voila servers started here, driven by headless Chromium.

Each pytest(-xdist) worker starts its own servers on free localhost ports, each with a random
token and XSRF checks on (as a reader's server runs), and a throw-away Jupyter
config/data/runtime directory: the news pop-up is off, autosave is off (the
notebooks in the repository are never written), and every cell is kept in the page (no
windowing) so the tests can look at all outputs.  Chromium is Debian's /usr/bin/chromium
(Playwright cannot download browsers here); set CHROMIUM=/path to use another one.

Screenshots go to $SCREENSHOT_DIR (default /tmp/replication-screenshots) and each notebook's
run time in the browser is printed at the end of the run and written to
$SCREENSHOT_DIR/timings-<worker>.txt.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
INSTALL_HINT = "sudo apt-get install chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT = 120  # s
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/replication-screenshots"))

# (kind, notebook) -> seconds; filled by the tests, printed in the terminal summary
TIMINGS: dict[tuple[str, str], float] = {}


def _timings_file(pid: int) -> Path:
    return SCREENSHOT_DIR / f"timings-{pid}.txt"


def record_time(kind: str, notebook: str, seconds: float) -> None:
    """Remember how long a notebook took in the browser.  pytest-xdist workers append to a file
    named after the process that started them, which the terminal summary (and .ci/run) reads."""
    TIMINGS[(kind, notebook)] = seconds
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    run = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
    with open(_timings_file(run), "a") as f:
        f.write(f"{kind}\t{notebook}\t{seconds:.1f}\n")


def screenshot_path(kind: str, notebook: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR / f"{kind}-{Path(notebook).stem}.png"


# ---- Chromium and Playwright ------------------------------------------------------------------

def _need_chromium() -> None:
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return
    msg = (f"Chromium not found at {CHROMIUM}: the browser tests drive Debian's Chromium "
           f"(Playwright cannot download browsers here). Install it with:  {INSTALL_HINT}")
    if os.environ.get("CI"):
        pytest.fail(msg + "  (CI is set, so the browser tests must run; .ci/run installs it)",
                    pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def browser():
    _need_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements.txt should bring it
        pytest.fail("the Python package playwright is missing: pip install playwright", pytrace=False)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def browser_context(browser):
    """One context per worker, so JupyterLab's scripts come from the browser cache after the
    first notebook."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser_context):
    pg = browser_context.new_page()
    pg.page_errors = []
    pg.on("pageerror", lambda exc: pg.page_errors.append(str(exc)))
    try:
        yield pg
    finally:
        pg.close()


# ---- servers ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jupyter_dirs(tmp: Path) -> dict[str, str]:
    config, data, runtime = tmp / "config", tmp / "data", tmp / "runtime"
    for d in (config, data, runtime):
        d.mkdir(parents=True, exist_ok=True)
    # no "would you like to receive Jupyter news?" pop-up
    (config / "labconfig").mkdir(exist_ok=True)
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    settings = config / "lab" / "user-settings" / "@jupyterlab"
    for ext, plugin, values in [
        ("docmanager-extension", "plugin", {"autosave": False}),          # never write the notebook
        ("notebook-extension", "tracker", {"windowingMode": "none"}),     # every cell in the DOM
        ("apputils-extension", "notification", {"fetchNews": "false", "checkForUpdates": False}),
    ]:
        (settings / ext).mkdir(parents=True, exist_ok=True)
        (settings / ext / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))
    env = dict(os.environ)
    env.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(data),
               JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_PLATFORM_DIRS="1")
    env.pop("MPLBACKEND", None)      # kernels must use the inline backend
    env.pop("JUPYTER_PATH", None)
    return env


def _wait_until_up(proc: subprocess.Popen, url: str, log: Path, what: str) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before answering; "
                               f"its log:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer {url} within {SERVER_START_TIMEOUT} s; "
                       f"its log:\n{log.read_text()[-4000:]}")


def _start(cmd: list[str], env: dict, log: Path, url: str, what: str):
    logf = open(log, "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_until_up(proc, url, log, what)
    except Exception:
        _stop(proc)
        logf.close()
        raise
    return proc, logf


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()             # jupyter servers shut their kernels down on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


ROOT_FLAGS = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


@dataclass(frozen=True)
class Server:
    """A server started here: its base URL and the random token it asks for."""

    base: str
    token: str

    def url(self, path: str) -> str:
        """The address of ``path`` with the token (the first visit logs the browser in)."""
        return f"{self.base}{path}{'&' if '?' in path else '?'}token={self.token}"


@pytest.fixture(scope="session")
def lab_server():
    """A JupyterLab serving the repository (a Server: base URL and token)."""
    _need_chromium()       # no point starting servers without a browser
    tmp = Path(tempfile.mkdtemp(prefix="replication-lab-"))
    env = _jupyter_dirs(tmp)
    port = free_port()
    server = Server(f"http://127.0.0.1:{port}", secrets.token_urlsafe(24))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
           "--ip=127.0.0.1", f"--IdentityProvider.token={server.token}", "--ServerApp.password=",
           f"--ServerApp.root_dir={ROOT}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--ServerApp.open_browser=False", *ROOT_FLAGS]
    proc, logf = _start(cmd, env, tmp / "lab.log", server.url("/api/status"), "jupyter lab")
    try:
        yield server
    finally:
        _stop(proc)
        logf.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def voila_server():
    """A Voila serving the repository (notebooks at /voila/render/notebooks/...); a Server."""
    _need_chromium()
    tmp = Path(tempfile.mkdtemp(prefix="replication-voila-"))
    env = _jupyter_dirs(tmp)
    port = free_port()
    server = Server(f"http://127.0.0.1:{port}", secrets.token_urlsafe(24))
    cmd = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
           f"--token={server.token}", "--show_tracebacks=True", f"--Voila.root_dir={ROOT}"]
    proc, logf = _start(cmd, env, tmp / "voila.log", server.url("/voila/tree"), "voila")
    try:
        yield server
    finally:
        _stop(proc)
        logf.close()
        shutil.rmtree(tmp, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    timings = dict(TIMINGS)
    path = _timings_file(os.getpid())
    if path.exists():                         # written by this run's xdist workers
        for line in path.read_text().splitlines():
            kind, nb, secs = line.split("\t")
            timings[(kind, nb)] = float(secs)
    if not timings:
        return
    terminalreporter.section("notebook run times in the browser")
    for (kind, nb), secs in sorted(timings.items()):
        terminalreporter.write_line(f"{kind:6s} {nb:40s} {secs:6.1f} s")
    terminalreporter.write_line(f"screenshots and timings-*.txt: {SCREENSHOT_DIR}")
