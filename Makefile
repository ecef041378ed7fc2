# The two commands a newcomer needs:   make book   and   make test   (make check: optlib's fast tests)
# Both create .venv (if missing) and install requirements.txt into it first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Installed once per change of the requirements; delete .venv to start over.
STAMP  := $(VENV)/.installed

# The website shows each explorer's kernel-free form (Bokeh, redrawn in the reader's browser from data
# computed at build time) instead of live ipywidgets, which would be dead on a static page and can stall
# execution (nbclient #312).
export OPTLIB_EXPLORERS = static

.PHONY: book pdf test check profiles lab clean venv assignments autograde grades feedback

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

book: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is at: $(CURDIR)/_build/html/index.html"

# The whole book as one PDF, _build/pdf/book.pdf (also copied into the website): the single-page
# build printed by the system's Chromium (see tools/book_pdf.py).
pdf: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/book_pdf.py

# Everything CI runs: optlib's tests, every chapter executed by nbval, the site build, browser and grading tests.
test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

# optlib's unit and reference tests only (under a minute): no notebook, no site build, no browser, no nbgrader.
check: $(STAMP)
	$(BIN)/python -m pytest -m "not book" tests

# Every chapter under nbval as three CPUs would compute it: this machine, an old x86 (SSE3 kernels) and a
# Haswell (AVX2), emulated by OPENBLAS_CORETYPE and NPY_DISABLE_CPU_FEATURES (tests/test_cpu_profiles.py;
# `make test` runs the chapters with stochastic studies under the old x86 only). About three times the
# chapters' own nbval time.
profiles: $(STAMP)
	OPTLIB_ALL_PROFILES=1 $(BIN)/python -m pytest tests/test_cpu_profiles.py

# JupyterLab for readers: open on the first chapter, live explorers, the chapters rendered by jupyterlab-myst.
# lab/ is on JUPYTER_CONFIG_PATH (hides nbgrader's extensions: instructors' tools, see the README) and on
# JUPYTER_PATH (lab/labextensions/optlib-citations: citations as author-year from references.bib).
lab: $(STAMP)
	OPTLIB_EXPLORERS=live JUPYTER_CONFIG_PATH="$(CURDIR)/lab$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" JUPYTER_PATH="$(CURDIR)/lab$${JUPYTER_PATH:+:$$JUPYTER_PATH}" PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --LabApp.default_url=/lab/tree/chapters/01_loss_functions.ipynb

clean:
	rm -rf _build

# --- Course assignments (nbgrader; course root assignments/; see teaching.md) ---------------------
# nbgrader runs `alembic` as a subprocess, hence the venv's bin on PATH.
NBGRADER   := cd assignments && PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/nbgrader
# Which assignment(s): `make assignments ASSIGNMENT=adam`; default every folder of assignments/source/.
ASSIGNMENT ?= *

# The student versions, without solutions or hidden tests, into assignments/release/.
assignments: $(STAMP)
	$(NBGRADER) generate_assignment "$(ASSIGNMENT)" --force
	@echo "Hand out: $(CURDIR)/assignments/release/"

# Grade every submission in assignments/submitted/<student>/<assignment>/ into assignments/gradebook.db.
autograde: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python assignments/autograde.py $(filter-out *,$(ASSIGNMENT))

# The gradebook as a spreadsheet: assignments/grades.csv.
grades: $(STAMP)
	$(NBGRADER) export
	@echo "Grades: $(CURDIR)/assignments/grades.csv"

# HTML feedback for each graded submission, into assignments/feedback/.
feedback: $(STAMP)
	$(NBGRADER) generate_feedback "$(ASSIGNMENT)"
