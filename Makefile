# Two commands run the course on a fresh machine (Linux/macOS, Python 3.11):
#   make run    set up .venv if needed, then execute every lesson (executed copies in build/run/)
#   make test   set up .venv if needed, then run the unit tests and every notebook under nbval
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lessons exercises clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/course doctor
	$(BIN)/course run

test: $(STAMP)
	$(BIN)/python -m pytest tests notebooks solutions --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -v

# Re-execute the committed lessons in place from a fresh kernel with default parameters
# (the outputs nbval compares against). Students never need this; authors do after an edit.
lessons: $(STAMP)
	$(BIN)/python scripts/execute_lessons.py

exercises: $(STAMP)
	$(BIN)/course exercises

clean:
	rm -rf build
