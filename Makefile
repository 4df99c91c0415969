# Set-up and everyday commands. Every target installs what it needs into .venv first.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt

.PHONY: install demo app test bench

TEST_STAMP := $(VENV)/.installed-test

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	$(PY) main.py models install
	touch $(STAMP)

# the tests and benchmarks also need pytest and the optional Ray engine ("cluster" extra)
$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,cluster]"
	touch $(TEST_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) main.py --demo

app: $(STAMP)
	$(PY) main.py

# lint and type checks first (config in pyproject.toml): they fail in seconds, the suite takes minutes
test: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(TEST_STAMP)
	$(PY) -m bench
