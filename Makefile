# Two commands run the course on a fresh machine (Linux/macOS, Python 3.11):
#   make run    set up .venv if needed, then execute every lesson (executed copies in build/run/)
#   make test   set up .venv if needed, then run the unit tests and every notebook under nbval
#   make lint   ruff: style and common bugs in the code and the notebooks (make test runs it first)
#   make test-fast  the authors' inner loop: kernel-free unit tests + a smoke run of every lesson
#   make site   the course's web site (Jupyter Book) from the executed notebooks, in build/site/
#   make bench  how fast the course runs on this machine: a table, and build/bench.json
#   make canary the course on the newest releases and on Colab's versions (downloads; benchmarks/canary-*.md)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.test-installed
SITE_STAMP := $(VENV)/.site-installed

# Test workers: each gets cores / workers threads (course_tools/suite_plan.py). On 2 cores two 1-thread
# workers beat one 2-thread run; see docs/authors.md (the test suite's time budget).
TEST_WORKERS ?= 2

.PHONY: setup run test test-fast lint lessons exercises site bench canary clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $(STAMP)

# What only the tests need (Playwright, which drives Debian's Chromium in the browser tests, and
# the site's requirements: requirements-test.txt includes requirements-site.txt).
$(TEST_STAMP): requirements-test.txt requirements-site.txt requirements-instructors.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $(TEST_STAMP)

run: $(STAMP)
	$(BIN)/course doctor
	$(BIN)/course run

# Lint first: a style slip fails in seconds instead of after the notebooks have run.
test: lint $(TEST_STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) tests notebooks solutions --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --durations=10

# ruff (pinned in requirements.txt) checks the code and the notebooks; rules in pyproject.toml.
# `ruff format .` and `ruff check --fix .` repair most findings.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-fast: lint $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not kernel and not slow" tests
	$(BIN)/course run --quick --out build/quick --replace

# Re-execute the committed lessons in place from a fresh kernel with default parameters
# (the outputs nbval compares against). Students never need this; authors do after an edit.
lessons: $(STAMP)
	$(BIN)/course lessons

exercises: $(STAMP)
	$(BIN)/course exercises

# The site: Jupyter Book 1 and its theme (requirements-site.txt, held to requirements.txt's pins),
# then `course site`, which builds build/site/ from the committed executed notebooks (no execution).
# The first build downloads MathJax once into build/cache/ (checksum-verified), so the site works offline.
$(SITE_STAMP): requirements-site.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-site.txt
	touch $(SITE_STAMP)

site: $(SITE_STAMP)
	$(BIN)/course site

# Training, evaluation, start-up and every lesson's time on this machine (about 11 minutes on 2
# cores; `.venv/bin/course bench --quick` about half of one). docs/authors.md (Performance) explains it.
bench: $(STAMP)
	$(BIN)/course bench

# Fresh environments in build/canary/ (several GB: PyTorch's wheels), one with the newest release of
# every dependency, one with Colab's versions; each runs the kernel-free tests and every lesson and
# solution in quick mode and writes benchmarks/canary-<stack>.md. Not part of `make test`.
canary: $(STAMP)
	$(BIN)/course canary

clean:
	rm -rf build
