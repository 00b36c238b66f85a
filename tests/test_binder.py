"""Binder and the README's entry points stay in step with the local set-up.

Binder builds from binder/ alone once that folder exists, so it must pin literally what
requirements.txt pins, run a Python the library supports, and install replib in postBuild; and the
README's Binder link must open the start-here notebook in JupyterLab.
"""
import re
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;#]+)(\s*;[^#]*)?$")


def pins(path):
    """{normalised name: version} of a requirements file; anything but `name==version` fails."""
    found = {}
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"{where}:{number}: {line!r} is not a `name==version` pin"
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        assert name not in found, f"{where}:{number}: {name} pinned twice"
        found[name] = match.group(3)
    return found


def test_binder_requirements_match_root_pins():
    root, binder = pins(ROOT / "requirements.txt"), pins(BINDER / "requirements.txt")
    only_root = {k: v for k, v in root.items() if k not in binder}
    only_binder = {k: v for k, v in binder.items() if k not in root}
    differ = {k: (root[k], binder[k]) for k in root.keys() & binder.keys() if root[k] != binder[k]}
    assert not (only_root or only_binder or differ), (
        "binder/requirements.txt must pin exactly what requirements.txt pins: "
        f"missing from binder {only_root}, extra in binder {only_binder}, "
        f"different versions (root, binder) {differ}"
    )


def test_pins_parser_rejects_includes_and_ranges(tmp_path):
    bad = tmp_path / "requirements.txt"
    for line in ("-r ../requirements.txt", "numpy>=2", "-e ."):
        bad.write_text(f"# comment\n\n{line}\n")
        try:
            pins(bad)
        except AssertionError:
            continue
        raise AssertionError(f"{line!r} accepted")
    bad.write_text("# comment\nNumPy==2.4.6  # why\n\nnetworkx==3.6.1\n")
    assert pins(bad) == {"numpy": "2.4.6", "networkx": "3.6.1"}


def test_runtime_pins_a_supported_python():
    text = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)(?:\.\d+)?", text)
    assert match, f"binder/runtime.txt should read like 'python-3.11', not {text!r}"
    version = (int(match.group(1)), int(match.group(2)))
    assert version >= (3, 11), f"binder/runtime.txt pins Python {version}; the course needs 3.11+"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    floor = re.search(r">=\s*(\d+)\.(\d+)", requires)
    assert floor and version >= (int(floor.group(1)), int(floor.group(2))), (
        f"runtime.txt Python {version} does not satisfy requires-python {requires!r}")


def test_postbuild_sets_e_and_installs_replib():
    lines = [ln.strip() for ln in (BINDER / "postBuild").read_text(encoding="utf-8").splitlines()]
    commands = [ln for ln in lines if ln and not ln.startswith("#")]
    assert commands and re.fullmatch(r"set -[a-z]*e[a-z]*(\s+-o\s+\w+)*", commands[0]), (
        f"binder/postBuild must start with `set -e`, starts with {commands[:1]}")
    assert any(re.search(r"\bpip install\b.*\s(-e\s+)?\.(\s|$)", ln) for ln in commands), (
        "binder/postBuild must install replib from the repository root (pip install --no-deps -e .)")


def test_readme_binder_link_opens_start_here_in_lab():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"https://mybinder\.org/v2/[^\s)\"'>]+", readme)
    assert links, "README.md has no mybinder.org link"
    for link in links:
        query = parse_qs(urlparse(link).query)
        assert [unquote(v) for v in query.get("urlpath", [])] == ["lab/tree/notebooks/00-start-here.ipynb"], link


def test_readme_commands_are_what_ci_runs():
    """The README gives two commands; CI runs the test one verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make lab" in readme and "make test" in readme
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    runs_tests = [ln for ln in ci if ln == "make test" or ln.startswith("make test ||")]
    assert runs_tests and "set -euo pipefail" in ci
