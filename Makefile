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

# the tests and benchmarks also need pytest, the optional Ray engine ("cluster") and training/evaluation ("train")
$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,cluster,train]"
	touch $(TEST_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) main.py --demo

app: $(STAMP)
	$(PY) main.py

# the checks first (config in pyproject.toml; they fail in seconds, the suite takes minutes):
# lint and format, types, the layer rules
test: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	mkdir -p build/typecheck && ln -sfn ../.. build/typecheck/groundlens
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(TEST_STAMP)
	$(PY) -m bench
