# The README's two commands: `make run` (set-up, data, the whole chain) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HM := $(VENV)/bin/hm
REQ_HASH := $(shell cat requirements.txt constraints.txt pyproject.toml | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(REQ_HASH)
SCALE ?=
SEED ?= 42
# `hm run --scale` only when SCALE is given (otherwise the chain picks it from the data's size).
SCALE_ARG := $(if $(SCALE),--scale $(SCALE))
DATA ?= data/raw

.PHONY: venv run validate test data browser lab clean-outputs

# Create the venv and install on first use; skipped while the requirements are unchanged.
$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --user --name hm-fashion-recsys --display-name "Python (hm-fashion-recsys)" >/dev/null
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# Synthetic data when data/raw is empty (put the Kaggle files there to use the real data).
data: venv
	@if [ -z "$$(ls -A $(DATA) 2>/dev/null)" ]; then $(HM) generate --scale $(or $(SCALE),default) --seed $(SEED) --out $(DATA); \
	else echo "using the data in $(DATA)"; fi

run: data
	$(HM) run --data $(DATA) $(SCALE_ARG) --seed $(SEED)

validate: data
	$(HM) run --data $(DATA) $(SCALE_ARG) --seed $(SEED) --validate

test: venv browser
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup

# JupyterLab from the project's venv on the notebooks (their kernel, "Python (hm-fashion-recsys)", is this venv).
lab: venv
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

# Debian's chromium for the demo's browser test (installed when missing and root; otherwise that test is skipped).
browser:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser test (apt-get)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser test will be skipped"; \
	else echo "chromium is not installed (needs root: apt-get install chromium): the browser test will be skipped"; fi

# The Streamlit demo on http://127.0.0.1:8501 (first brings its feature store and artefacts up to date).
.PHONY: demo
demo: data
	$(HM) demo --data $(DATA) $(SCALE_ARG)

clean-outputs:
	rm -rf outputs/notebooks outputs/*.csv outputs/*.csv.gz outputs/*.json
