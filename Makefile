# The README's two commands. Each creates the virtual environment and installs the project
# into it first (again only when pyproject.toml changed):
#   make suite   the conformance suite on the simulator (pytest-acl run; ARGS=... for more)
#   make test    the project's own tests (ARGS="-m whole_suite" for the whole-suite runs)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: suite test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

suite: $(STAMP)
	$(VENV)/bin/pytest-acl run $(ARGS)

# No byte code from the modules pytest imports before tests/conftest.py turns it off: the
# tests write nothing into the checkout.
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE=1 $(VENV)/bin/pytest tests $(ARGS)
