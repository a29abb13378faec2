# The course's commands. Each target sets up .venv itself on a fresh machine.
#   make test         library tests, doctests, notebooks (nbval), assignments, browser tests
#                     (hypothesis's derandomized "ci" profile: every run draws the same cases)
#   make test-explore the library tests with random hypothesis draws and 10x the examples
#   make book         build the HTML book into _build/html, and its Chinese edition into
#                     _build/html/zh (warnings are errors: a stale translation fails it)
#   make translations extract the English messages into locales/zh_CN (after changing text)
#   make execute      re-run every chapter notebook in place (outputs + widget state)
#   make lab          JupyterLab on the students' environment (the lean install)
#   make student      only install the students' environment (requirements-student.txt)
#   make assignments  student notebooks and autograder zips into assignments/build
#   make assignments-check  every sample submission through the judge (and otter assign)
#   make bench        convlib's NumPy fast path against torch, in one run
#   make sweep        unit tests and notebooks under every simulated CPU (tools/cpu_sweep.py):
#                     ATen, oneDNN, MKL and OpenBLAS kernels of AVX2, AVX-512 and SSE machines

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
STUDENT_STAMP := $(VENV)/.installed-student
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: venv student test test-explore unit notebooks browser book execute lab \
	assignments assignments-check bench lint clean translations sweep

# Tests, benchmarks and notebook runs use two BLAS/torch threads, so that the committed
# outputs and timings do not depend on the machine's core count (set OMP_NUM_THREADS to
# override). Everything else, `make lab` included, keeps every core. Add new test targets here.
unit notebooks browser test execute bench: export OMP_NUM_THREADS ?= 2

# The authors' environment: the students' packages plus the book builder, test runners,
# grader, browser driver and linters (requirements.txt includes requirements-student.txt).
venv: $(STAMP)

$(STAMP): requirements.txt requirements-student.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@ $(STUDENT_STAMP)

# The students' environment: what the chapters need in JupyterLab, nothing else.
student: $(STUDENT_STAMP)

$(STUDENT_STAMP): requirements-student.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r requirements-student.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

lint: venv
	$(BIN)/ruff check convlib tests tools docs/_ext experiments
	$(BIN)/mypy

unit: venv
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest tests --doctest-modules convlib -m "not browser" \
		-p no:cacheprovider

test-explore: venv
	HYPOTHESIS_PROFILE=explore $(BIN)/pytest tests -m "not browser and not slow" \
		-p no:cacheprovider

notebooks: venv
	$(BIN)/pytest chapters --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg \
		--nbval-cell-timeout 600 -p no:cacheprovider

browser: venv
	$(BIN)/pytest tests -m browser -p no:cacheprovider

test: lint unit notebooks browser

book: venv
	$(PY) -m tools.fetch_static
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/jupyter-book build . -W -n --keep-going --path-output _build/zh \
		--config "$$($(PY) -m tools.i18n config)"
	rm -rf _build/html/zh && cp -r _build/zh/_build/html _build/html/zh
	# the Chinese pages' download button gives the chapter with its prose in Chinese
	$(PY) -m tools.zh_notebooks _build/html/zh/_sources/chapters
	@echo "The book is built: open $(CURDIR)/_build/html/index.html (中文版: zh/index.html)"

# After changing English text: new and changed messages land in locales/zh_CN, empty or
# marked fuzzy, and `make book` names them until they are translated (tools/i18n.py).
translations: venv
	$(PY) -m tools.i18n update

execute: venv
	$(PY) -m tools.execute chapters/*.ipynb

# The chapters come from this repository, so they are trusted: JupyterLab then shows the
# widgets' saved state on opening, before any cell has run.
lab: student
	$(BIN)/jupyter trust chapters/*.ipynb
	$(BIN)/jupyter lab

assignments: venv
	$(PY) -m tools.assignments build

# the judge needs bubblewrap (Debian: apt-get install bubblewrap)
assignments-check: venv
	$(PY) -m tools.assignments check --build

bench: venv
	$(PY) -m convlib.bench

# Before a release or after re-executing a chapter: the committed outputs must hold on any
# x86-64 CPU, not only this one. CI runs the plain `make test`.
sweep: venv
	$(PY) -m tools.cpu_sweep

clean:
	rm -rf _build assignments/build .pytest_cache .hypothesis
