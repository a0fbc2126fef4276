# The two commands a newcomer runs on a fresh machine (see README):
#   make demo   set up .venv and run the main job: a short ARM training run, with its curve
#   make test   set up .venv and run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
# torch first, pinned: the CPU build this machine keeps locally. Left to a range,
# pip would fetch the newest CUDA build (gigabytes) for stable-baselines3.
TORCH ?= torch==2.13.0

.PHONY: demo test test-all setup clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.torch: $(PY)
	$(PY) -m pip install --quiet "$(TORCH)"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.torch pyproject.toml setup.py
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed-dev

demo: setup
	$(PY) -m osim demo

test: setup
	$(PY) -m pytest

test-all: setup
	$(PY) -m pytest -m ""

clean:
	rm -rf $(VENV) build *.egg-info
