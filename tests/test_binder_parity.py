"""Binder parity: the course runs in an environment built from binder/ alone, as Binder builds it.

One test, in steps, each timed (the times are printed: see them with `make test PYTEST_ARGS=-rP`
or `pytest tests/test_binder_parity.py -s`):

1. a fresh virtual environment in a temporary folder, with the Python that binder/runtime.txt names
   (`python-3.11` -> `python3.11` on PATH, or this or `python3` if it is that version);
2. `pip install -r binder/requirements.txt` into it, with the options the Makefile uses;
3. binder/postBuild run as Binder runs it: with bash, from the repository root, with the new
   environment's bin/ first on PATH (so its `pip` installs replib into the new environment);
4. every notebook in notebooks/ (the student copies, what Binder opens) executed top to bottom by
   nbclient from the new environment in a `python3` kernel from the new environment (ipykernel's
   kernelspec installed with --sys-prefix; Jupyter's user folders point at empty temporary ones),
   in notebooks/ as working directory. The executed notebooks must show no error, run in order,
   and their check cells must print a "Not yet" hint (tools/build_notebooks.py `problems`, the
   rules the stored notebooks are held to); a cell appended to each notebook confirms the kernel
   ran from the new environment.

It needs the network (PyPI, or whatever pip is configured to use) and takes a few minutes, most of
it in step 2 and step 4. It is one test, so pytest-xdist runs it on one worker.
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
NOTEBOOKS = ROOT / "notebooks"
PIP_OPTIONS = ["--disable-pip-version-check", "--quiet"]  # as the Makefile's venv target
PROBE = "import sys; print('BINDER-PARITY-PREFIX', sys.prefix)"

RUNNER = textwrap.dedent('''
    """Execute notebooks with nbclient in a python3 kernel; write each executed copy to OUT."""
    import json, sys, time
    from pathlib import Path

    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    out, probe, paths = Path(sys.argv[1]), sys.argv[2], [Path(p) for p in sys.argv[3:]]
    spec = KernelSpecManager().get_kernel_spec("python3")
    print(json.dumps({"kernel_argv": spec.argv, "resource_dir": spec.resource_dir}), flush=True)
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nb.cells.append(nbformat.v4.new_code_cell(probe))
        started = time.perf_counter()
        NotebookClient(nb, kernel_name="python3", timeout=600, allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}},
                       record_timing=False, store_widget_state=False).execute()
        nbformat.write(nb, out / path.name)
        print(json.dumps({"notebook": path.name, "seconds": time.perf_counter() - started}), flush=True)
''')


def _load_build_tool():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def runtime_version():
    text = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)(?:\.\d+)?", text)
    assert match, f"binder/runtime.txt should read like 'python-3.11', not {text!r}"
    return int(match.group(1)), int(match.group(2))


def find_python(version):
    """An interpreter of exactly `version` (major, minor): pythonX.Y on PATH, else one that is."""
    wanted = "{}.{}".format(*version)
    candidates = [shutil.which(f"python{wanted}"), getattr(sys, "_base_executable", None),
                  sys.executable, shutil.which("python3")]
    tried = []
    for candidate in filter(None, candidates):
        try:
            found = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                   capture_output=True, text=True, timeout=60).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        tried.append(f"{candidate} is {found or 'not runnable'}")
        if found == wanted:
            return candidate
    raise AssertionError(
        f"binder/runtime.txt asks for Python {wanted}, as Binder will use; no python{wanted} on PATH "
        f"({'; '.join(tried) or 'nothing found'}). Install Python {wanted} (e.g. apt-get install "
        f"python{wanted} python{wanted}-venv, or pyenv install {wanted}) to run this test.")


def run(step, command, times, **kwargs):
    """Run a command, time it, and fail with its output if it fails."""
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    times[step] = time.perf_counter() - started
    print(f"[binder parity] {step}: {times[step]:.1f} s", flush=True)
    assert result.returncode == 0, (
        f"{step} failed (exit {result.returncode}): {' '.join(map(str, command))}\n"
        f"--- stdout\n{result.stdout[-8000:]}\n--- stderr\n{result.stderr[-8000:]}")
    return result


def test_notebooks_run_in_a_fresh_binder_environment(tmp_path):
    try:
        check_binder_environment(tmp_path)
    finally:  # the environment is about 600 MB; pytest keeps the last few tmp_paths
        shutil.rmtree(tmp_path / "venv", ignore_errors=True)


def check_binder_environment(tmp_path):
    total = time.perf_counter()
    times = {}
    version = runtime_version()
    python = find_python(version)
    venv = tmp_path / "venv"
    vbin = venv / "bin"
    vpy = vbin / "python"

    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "MPLBACKEND", "CONDA_PREFIX")
           and not k.startswith(("JUPYTER", "IPYTHON"))}
    env.update(PATH=f"{vbin}{os.pathsep}{os.environ.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               PYTHONNOUSERSITE="1")

    run("1. create venv", [python, "-m", "venv", str(venv)], times, timeout=600, env=env)
    found = subprocess.run([str(vpy), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True, env=env).stdout.strip()
    assert found == "{}.{}".format(*version), f"the new venv runs Python {found}, runtime.txt says {version}"

    run("2. pip install -r binder/requirements.txt",
        [str(vpy), "-m", "pip", "install", *PIP_OPTIONS, "-r", str(BINDER / "requirements.txt")],
        times, timeout=3600, env=env, cwd=ROOT)

    run("3. binder/postBuild", ["bash", str(BINDER / "postBuild")], times, timeout=1200, env=env, cwd=ROOT)
    where = run("   (replib importable)", [str(vpy), "-c", "import replib; print(replib.__file__)"],
                times, timeout=120, env=env, cwd=tmp_path).stdout.strip()
    assert Path(where).resolve().is_relative_to(ROOT), f"replib imported from {where}, not from {ROOT}"

    # Jupyter's and IPython's per-user folders: empty, as on Binder, so nothing of this machine's leaks in
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        folder = tmp_path / "home" / name.lower()
        folder.mkdir(parents=True)
        env[name] = str(folder)
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    run("4a. kernelspec (--sys-prefix)",
        [str(vpy), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
        times, timeout=300, env=env)

    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert notebooks, "no notebooks in notebooks/"
    runner, out = tmp_path / "run_notebooks.py", tmp_path / "executed"
    runner.write_text(RUNNER, encoding="utf-8")
    out.mkdir()
    result = run(f"4b. execute {len(notebooks)} notebooks",
                 [str(vpy), str(runner), str(out), PROBE, *map(str, notebooks)],
                 times, timeout=600 * len(notebooks), env=env, cwd=tmp_path)
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    kernel = reports[0]
    assert Path(kernel["kernel_argv"][0]).parent == vbin or str(venv) in kernel["kernel_argv"][0], (
        f"the python3 kernel does not start the new environment's Python: {kernel}")
    for report in reports[1:]:
        print(f"[binder parity]     {report['notebook']}: {report['seconds']:.1f} s")

    build = _load_build_tool()
    found = []
    for path in notebooks:
        nb = nbformat.read(out / path.name, as_version=4)
        probe = nb.cells.pop()
        prefix = "".join(o.get("text", "") for o in probe.outputs if o.output_type == "stream")
        if f"BINDER-PARITY-PREFIX {venv}" not in prefix:
            found.append(f"notebooks/{path.name}: kernel did not run in the new environment: {prefix!r} "
                         f"{[o for o in probe.outputs if o.output_type == 'error']}")
        found += build.problems(nb, f"notebooks/{path.name}", "student")
    total = time.perf_counter() - total
    print(f"[binder parity] total: {total:.1f} s", flush=True)
    assert not found, "in the environment built from binder/:\n" + "\n".join(found)
