# Replication: preventing divergence -- the two commands a reader needs:
#   make lab    set up .venv if needed, then open the course in JupyterLab
#   make test   set up .venv if needed, then run the whole suite (unit tests + every notebook with nbval)
# For lecturers: make lecture NB=05 (one chapter in Voila: code hidden, widgets live; without NB, all
# chapters), make html (the whole course as static HTML in build/html/, readable without a kernel).
# For contributors: make notebooks (rebuild notebook outputs and student copies), make bench
# (runs every bench/*.py except helpers named _*.py).
#
# Needs Python 3.11+; override the interpreter with  make PYTHON=python3.12 ...
# Extra arguments: make test PYTEST_ARGS="-x -k sim" PYTEST_JOBS=0, make lab LAB_ARGS="--port 8899 --no-browser",
#                  make notebooks NB="00 05", make lecture NB=05 LECTURE_ARGS="--port 8899",
#                  make html NB="00 05" HTML_ARGS="--out /tmp/course --no-input".

PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
START := notebooks/00-start-here.ipynb

# matplotlib must use the notebook's inline backend in kernels, whatever the caller's shell says
unexport MPLBACKEND

.PHONY: lab test notebooks lecture html bench venv clean-venv

venv: $(STAMP)

# The stamp is newer than both inputs once an install succeeded; editing requirements.txt or
# pyproject.toml (or deleting .venv) makes the next make reinstall.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "This course needs Python 3.11 or newer; '$(PYTHON)' is not. Try: make $(MAKECMDGOALS) PYTHON=python3.11" >&2; \
	  exit 1; }
	@test -x $(VPY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(VPY) -m pip install --disable-pip-version-check --quiet -r requirements.txt
	$(VPY) -m pip install --disable-pip-version-check --quiet --no-deps -e .
	@touch $(STAMP)

# JupyterLab opens a browser if there is one and prints the address either way; both lead straight
# to the start-here notebook (default_url). It refuses to run as root (containers) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(if $(wildcard $(START)),--LabApp.default_url=/lab/tree/$(START),) $(ALLOW_ROOT) $(LAB_ARGS)

# pytest-xdist: one worker per core; --dist loadfile keeps each notebook's cells together and in
# order on one worker (nbval runs them in one kernel). PYTEST_JOBS=0 runs serially (e.g. for --pdb).
PYTEST_JOBS ?= auto

test: $(STAMP)
	$(VPY) -m pytest -n $(PYTEST_JOBS) --dist loadfile $(PYTEST_ARGS)

notebooks: $(STAMP)
	$(VPY) tools/build_notebooks.py $(NB)

# Lecture mode: Voila runs the chapter in a fresh kernel and shows its Markdown, outputs and live
# widgets without the code. It opens a browser where there is a display and prints the address either
# way. It listens on this machine only; to reach it from another one (the room's projector), listen on
# every address WITH a token: LECTURE_ARGS="--Voila.ip=0.0.0.0 --token" (Voila makes a random token
# and prints the address to open, token included). Without a token anyone who reaches the port could
# run code in its kernels, so make lecture refuses any other address without one. Unlike JupyterLab
# it does not refuse to run as root, so it needs no --allow-root. NB=05 picks notebooks/05-*.ipynb;
# without NB it serves notebooks/ as a list of chapters.
LECTURE_NB = $(if $(strip $(NB)),$(firstword $(wildcard notebooks/$(firstword $(NB))-*.ipynb notebooks/$(firstword $(NB)))),notebooks/)
NO_BROWSER := $(if $(DISPLAY)$(WAYLAND_DISPLAY)$(filter Darwin,$(shell uname -s 2>/dev/null)),,--no-browser)
LOCAL_IPS := localhost 127.0.0.1 ::1 [::1]
# the addresses asked for beyond this machine (the "--ip ADDR" form counts as one: its address is unread)
LECTURE_EXPOSED = $(strip $(filter-out $(LOCAL_IPS),$(patsubst --Voila.ip=%,%,$(patsubst --ip=%,%,\
  $(filter --ip=% --Voila.ip=%,$(LECTURE_ARGS))))) $(filter --ip --Voila.ip --ip= --Voila.ip=,$(LECTURE_ARGS)))
LECTURE_TOKEN = $(filter --token --token=% --Voila.token=% --Voila.auto_token=True,$(LECTURE_ARGS))

lecture: $(STAMP)
	@test -n "$(LECTURE_NB)" || { echo "make lecture: no notebook notebooks/$(firstword $(NB))-*.ipynb; chapters: $(notdir $(wildcard notebooks/[0-9][0-9]-*.ipynb))" >&2; exit 1; }
	$(if $(LECTURE_EXPOSED),$(if $(LECTURE_TOKEN),,$(error make lecture: LECTURE_ARGS="$(LECTURE_ARGS)" would let anyone who reaches this machine run code in Voila's kernels, without a token. Add --token (Voila makes a random one and prints the address to open, token included): make lecture NB=$(NB) LECTURE_ARGS="$(LECTURE_ARGS) --token")))
	$(VENV)/bin/voila $(LECTURE_NB) $(NO_BROWSER) $(LECTURE_ARGS)

# Static HTML of the whole course (tools/export_html.py: executes each student copy, stores its widget
# state, writes build/html/NN-name.html and build/html/index.html).
html: $(STAMP)
	$(VPY) tools/export_html.py $(NB) $(HTML_ARGS)

bench: $(STAMP)
	@set -e; found=0; for f in bench/*.py; do \
	  case "$$(basename "$$f")" in _*) continue;; esac; \
	  [ -e "$$f" ] || continue; found=1; echo "== $$f"; $(VPY) "$$f"; done; \
	[ $$found = 1 ] || echo "no benchmarks in bench/ yet"

clean-venv:
	rm -rf $(VENV)
