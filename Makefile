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

# DDPG with the 2017 experiment's settings learns ARM reaching in 10,000 steps
# (~3 min of one core): the trained policy against random excitations, same targets.
DEMO_RUN ?= runs/demo-arm-ddpg
demo: setup
	$(PY) -m osim train --env Arm --algo DDPG --steps 10000 --seed 0 --out $(DEMO_RUN)
	$(PY) -m osim evaluate $(DEMO_RUN)/params.pkl --episodes 5 --seed 10000
	$(PY) -m osim evaluate $(DEMO_RUN)/params.pkl --episodes 5 --seed 10000 --random
	@echo "learning curve: $(DEMO_RUN)/learning_curve.png   snapshot: $(DEMO_RUN)/params.pkl"

test: setup
	$(PY) -m pytest

test-all: setup
	$(PY) -m pytest -m ""

clean:
	rm -rf $(VENV) build *.egg-info
