# `make run` sets everything up and runs the assistant; `make test` sets up and tests.
# Every target installs what it needs first, so both work on a fresh clone.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
# Rasa 3.6 needs Python 3.10: use python3.10 when it runs, else pyenv's build.
PYTHON310 ?= $(shell python3.10 -c 'import sys; print(sys.executable)' 2>/dev/null || ls -d $$HOME/.pyenv/versions/3.10*/bin/python3.10 2>/dev/null | tail -n 1)
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml')
MODEL_STAMP := models/.trained
NODE_STAMP := node_modules/.installed

.PHONY: setup train run prod soak test unit e2e browser stories check evaluate bench lint clean

setup: $(VENV)/.installed $(NODE_STAMP)

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found: install python3.10 (Rasa 3.6 needs it)"; exit 1; }
	$(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel==0.45.1
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# The widget's socket.io client and the browser tests' axe-core, exactly as package-lock.json pins them.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 18+ (the chat widget's socket.io client comes from npm)"; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

# Retrain only when the training data, the pipeline or the domain changed.
train: $(MODEL_STAMP)

$(MODEL_STAMP): $(VENV)/.installed $(TRAINING_INPUTS)
	$(RASA) train --fixed-model-name faq --out models
	touch $@

run: setup train check
	$(PY) -m bot serve

# Production mode on this machine: PostgreSQL, Redis, two Rasa servers and the action server behind nginx
# (README, "Production"). Installs the Debian packages it needs when run as root.
prod: setup train check
	$(PY) -m bot prod

# 32 visitors for 5 minutes through nginx against production mode (SOAK_ARGS="--users 8 --minutes 1").
soak: setup train
	$(PY) scripts/soak.py $(SOAK_ARGS)

check: setup
	$(PY) -m bot check

lint: setup
	$(VENV)/bin/ruff check bot actions tests scripts

stories: setup train
	$(RASA) data validate
	$(RASA) test core --stories tests/test_stories.yml --model models --out results/stories --e2e --fail-on-prediction-errors

test: setup train check lint stories
	$(PY) -m pytest

# The chat widget in headless Chromium against the real servers (the `test` target runs these too).
browser: setup train
	$(PY) -m pytest tests/test_widget.py

evaluate: setup train
	$(PY) scripts/evaluate.py

# This assistant beside Rasa's stock starter bot, side by side; the table goes into README.md.
# `make bench BENCH=--quick` for a short run.
bench: setup train
	$(PY) scripts/bench.py $(BENCH)

clean:
	rm -rf models results tracker.db
